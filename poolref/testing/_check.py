"""The checks for one case: output shape, dtype and values, indices, the value at each index,
the gradient, and that the candidate neither modified its inputs nor returned a view of them.

:func:`check_case` raises :class:`~poolref.testing._report._Failure` on the first problem; its
``check`` names the check (``"values"``, ``"indices"``, ``"gradient"`` ...), which is how the run
tells distinct kinds of difference apart.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .._params import PoolParams
from . import _index
from ._boundary import TargetCrashed, TargetMisbehaved, guarded_call, same_layout_copy
from ._declare import Behaviour, Candidate
from ._expect import _Expected, _expected
from ._report import (
    _array_text,
    _Failure,
    _fmt_index,
    _fmt_scalar,
    _window_description,
)

#: Relative tolerance of a gradient element: a few units in the last place of the dtype.
_GRAD_RTOL = {"float16": 2.0**-9, "float32": 2.0**-21, "float64": 2.0**-49}


@dataclass
class _Case:
    """One case, batched, with what is expected of it."""

    x: np.ndarray  # as passed to the candidate: a copy of the case's input with the same strides
    xb: np.ndarray  # batched view of x
    batched: bool
    n_chan: int
    spatial: tuple
    plane: int
    params: PoolParams
    exp: _Expected

    @classmethod
    def build(cls, case, behaviour: Behaviour) -> _Case:
        params = case.params
        batched = case.x.ndim == params.nd + 2
        xb = case.x if batched else case.x[np.newaxis]
        spatial = tuple(xb.shape[2:])
        return cls(
            same_layout_copy(case.x),
            xb,
            batched,
            xb.shape[1],
            spatial,
            math.prod(spatial),
            params,
            _expected(xb, params, behaviour),
        )

    @property
    def kargs(self) -> tuple:
        """The parameters as the candidate receives them, after ``x``."""
        p = self.params
        return (p.kernel_size, p.stride, p.padding, p.dilation, p.ceil_mode)

    def shown(self, where: tuple) -> tuple:
        """A batched position as the candidate sees it."""
        return where if self.batched else where[1:]

    def unbatch(self, a: np.ndarray) -> np.ndarray:
        return a if self.batched else a[0]

    def window(self, where: tuple) -> str:
        return _window_description(self.exp, where, self.n_chan, self.batched, self.spatial)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    view = np.dtype(f"u{a.dtype.itemsize}")
    return bool(np.array_equal(a.view(view), b.view(view)))


def _as_array(value, what: str) -> np.ndarray:
    try:
        return np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - any conversion problem is the candidate's
        detail = f"cannot convert the {what} ({type(value).__name__}) to a NumPy array: {exc}"
        raise _Failure(f"{what} type", detail) from None


def _grad_output(shape, dtype, x: np.ndarray) -> np.ndarray:
    """Quarter-integer gradients in +-[0.25, 8]: float16 sums of up to 64 of them are exact.

    (No generated input puts more than 27 windows on one element.)
    """
    seed = zlib.crc32(np.ascontiguousarray(x).tobytes()) ^ zlib.crc32(repr(shape).encode())
    rng = np.random.default_rng(seed)
    magnitude = rng.integers(1, 33, size=shape) / 4
    sign = np.where(rng.random(shape) < 0.5, -1.0, 1.0)
    return (magnitude * sign).astype(dtype)


def _first_changed(now: np.ndarray, before: np.ndarray) -> tuple:
    view = np.dtype(f"u{now.dtype.itemsize}")
    return _find_first(now.view(view) != before.view(view))


def _find_first(bad: np.ndarray):
    return tuple(int(i) for i in np.argwhere(bad)[0])


# ----------------------------------------------------------------------------
# Features a case exercises (for the coverage summary)
# ----------------------------------------------------------------------------


def case_features(c: _Case, params) -> set:
    """The named features one case exercises."""
    x, nd = c.x, params.nd
    features = set(c.exp.features) | {f"{nd}-D", x.dtype.name}
    n_batch = c.xb.shape[0]
    flags = {
        "N > 1 and C > 1": c.batched and n_batch > 1 and c.n_chan > 1,
        "unbatched": not c.batched,
        "non-contiguous": not x.flags.c_contiguous,
        "padding": any(params.padding),
        "ceil_mode with padding": any(params.padding) and params.ceil_mode,
        "dilation": any(d > 1 for d in params.dilation),
        "ceil_mode": params.ceil_mode,
        "overlapping windows": any(
            s < d * (k - 1) + 1
            for k, s, d in zip(params.kernel_size, params.stride, params.dilation)
        ),
        "non-square window": nd > 1 and len(set(params.kernel_size)) > 1,
        "odd sizes": any(n % 2 for n in c.spatial),
        "float16 plane > 2048": x.dtype == np.float16 and c.plane > 2048,
        "8-bit plane > 256": x.dtype.kind in "iu" and x.dtype.itemsize == 1 and c.plane > 256,
    }
    return features | {name for name, on in flags.items() if on}


# ----------------------------------------------------------------------------
# One case
# ----------------------------------------------------------------------------


def _check_case(cand: Candidate, case, stats: Counter | None = None) -> set:
    """Run every check on one case; raise :class:`_Failure` on the first problem.

    Returns the set of features the case exercised.
    """
    c = _Case.build(case, cand.behaviour)
    features = case_features(c, case.params)
    y, idx = _run_forward(cand, c)
    _check_output(y, c, cand.behaviour)
    if cand.support.indices:
        features.add("indices")
        local = _check_indices(_as_array(idx, "indices"), c, cand.behaviour)
        _check_value_at_index(y, local, c, cand.behaviour.signed_zero)
    from ._check_backward import _backward_applies, _check_backward

    if _backward_applies(cand, c, case.params, stats):
        _check_backward(cand, c)
        features.add("backward")
    return features


class _Snapshot:
    """An input's values, shape and strides before a call."""

    def __init__(self, a: np.ndarray):
        self.copy = a.copy(order="K")
        self.shape, self.strides = a.shape, a.strides


def _check_unchanged(x: np.ndarray, before: _Snapshot, what: str, name: str = "x") -> None:
    if x.shape != before.shape or x.strides != before.strides:
        raise _Failure(
            "input modified",
            f"the {what} changed its input {name} in place: shape {before.shape} with strides "
            f"{before.strides} became {x.shape} with strides {x.strides}",
        )
    old = before.copy
    if not _same_bits(x, old):
        bad = _first_changed(x, old)
        raise _Failure(
            "input modified",
            f"the {what} changed its input {name}: {_fmt_index(name, bad)} was "
            f"{_fmt_scalar(old[bad])}, is now {_fmt_scalar(x[bad])}",
        )


def _check_not_a_view(result: np.ndarray, inputs: dict, what: str) -> None:
    for name, array in inputs.items():
        if isinstance(result, np.ndarray) and np.shares_memory(result, array):
            raise _Failure(
                "output aliases input",
                f"the {what} returned an array that shares memory with its input {name}; "
                "writing to the result would change the caller's input",
            )


def _call(fn, role: str, args: tuple, **report):
    """``fn(*args)``; an exception, crash, timeout, view or reshape of an input becomes a :class:`_Failure`
    (for a crash with ``crash`` set to its kind: the search does not shrink those)."""
    try:
        return guarded_call(fn, role, args)
    except _Failure:
        raise
    except TargetCrashed as exc:
        failure = _Failure(exc.check, str(exc), **report)
        failure.crash = exc.kind  # type: ignore[attr-defined]
    except TargetMisbehaved as exc:
        failure = _Failure(exc.check, exc.detail, **report)
    except Exception as exc:  # noqa: BLE001 - report whatever the candidate raised
        failure = _Failure(f"{role} raised", f"{type(exc).__name__}: {exc}", **report)
    raise failure


def _run_forward(cand: Candidate, c: _Case):
    """Call the forward; return ``(output, indices or None)`` after the call-level checks."""
    x = c.x
    x_before = _Snapshot(x)
    out = _call(cand.forward, "forward", (x, *c.kargs))
    _check_unchanged(x, x_before, "forward")
    idx = None
    if isinstance(out, (tuple, list)):
        if len(out) != 2:
            raise _Failure(
                "output type",
                f"the forward returned a {type(out).__name__} of length {len(out)}; "
                "expected the output or (output, indices)",
            )
        y, idx = out
    else:
        y = out
    if cand.support.indices and idx is None:
        raise _Failure(
            "indices missing", "Support(indices=True) but the forward returned only the output"
        )
    _check_not_a_view(y, {"x": x}, "forward")
    return _as_array(y, "output"), idx


def _check_output(y: np.ndarray, c: _Case, beh: Behaviour) -> None:
    shape = c.unbatch(c.exp.y)
    if y.shape != shape.shape:
        raise _Failure("output shape", f"output.shape={y.shape}, expected {shape.shape}")
    if y.dtype != c.x.dtype:
        raise _Failure(
            "output dtype", f"output.dtype={y.dtype}, expected {c.x.dtype} (the input's dtype)"
        )
    _check_values(y if c.batched else y[np.newaxis], c, beh)


def _check_values(yb: np.ndarray, c: _Case, beh: Behaviour) -> None:
    e, exp = c.exp.y, c.exp
    if e.dtype.kind == "f":
        same = (yb == e) | (np.isnan(yb) & np.isnan(e))
        if beh.signed_zero == "index":
            same &= ~((e == 0) & exp.index_exact & (np.signbit(yb) != np.signbit(e)))
    else:
        same = yb == e
    bad = ~same & exp.value_checked
    if not bad.any():
        return
    where = _find_first(bad)
    note = ""
    if e.dtype.kind == "f" and e[where] == 0 and yb[where] == 0:
        note = " (signed zero: the output must be the input at the selected index)"
    raise _Failure(
        "values",
        f"{_fmt_index('output', c.shown(where))} = {_fmt_scalar(yb[where])}, "
        f"expected {_fmt_scalar(e[where])}{note}",
        extra=c.window(where)
        + f"\nexpected output = {_array_text(c.unbatch(e))}"
        + f"\nactual output   = {_array_text(c.unbatch(yb))}",
        where=where,
    )


def _check_indices(idx: np.ndarray, c: _Case, beh: Behaviour) -> np.ndarray:
    """Check the indices; return them decoded as batched plane indices (-2 where invalid)."""
    exp = c.exp
    shape = c.unbatch(exp.index).shape
    if idx.shape != shape:
        raise _Failure("indices shape", f"indices.shape={idx.shape}, expected {shape}")
    if beh.index_dtype is not None and idx.dtype != np.dtype(beh.index_dtype):
        raise _Failure("indices dtype", f"indices.dtype={idx.dtype}, expected {beh.index_dtype}")
    if idx.dtype.kind not in "iu":
        raise _Failure("indices dtype", f"indices.dtype={idx.dtype}, expected an integer dtype")
    raw = (idx if c.batched else idx[np.newaxis]).astype(np.int64)
    local = _index.decode(raw, beh.index_format, c.plane, exp.taps)
    bad = exp.index_exact & (local != exp.index)
    kind = "indices"
    if not bad.any() and exp.index_member.any():
        bad = exp.index_member & ~_points_at_a_maximum(local, c)
        kind = "indices (not a maximum of the window)"
    if bad.any():
        where = _find_first(bad)
        expected = _index.encode(exp.index, beh.index_format, c.plane, exp.taps)
        expect = (
            f"expected {int(expected[where])}"
            if exp.index_exact[where]
            else "expected the index of a maximum of the window"
        )
        raise _Failure(
            kind,
            f"{_fmt_index('indices', c.shown(where))} = {int(raw[where])}, {expect} "
            f"({_index.FORMAT_TEXT[beh.index_format]} index format)",
            extra=c.window(where)
            + f"\nexpected indices = {_array_text(c.unbatch(expected))}"
            + f"\nactual indices   = {_array_text(idx)}",
            where=where,
        )
    return local


def _points_at_a_maximum(local: np.ndarray, c: _Case) -> np.ndarray:
    """Where the decoded index is one of the window's valid taps holding the output value."""
    exp = c.exp
    o_flat = local.reshape(local.shape[0] * c.n_chan, -1)
    hit = (exp.taps[None] == o_flat[..., None]) & (exp.taps[None] >= 0)
    ev = exp.y.reshape(o_flat.shape)[..., None]
    holds = exp.window_values == ev
    if exp.window_values.dtype.kind == "f":
        holds |= np.isnan(exp.window_values) & np.isnan(ev)
    return (hit & holds).any(axis=2).reshape(local.shape)


def _check_value_at_index(y: np.ndarray, local: np.ndarray, c: _Case, signed_zero: str) -> None:
    """The output is the input at the returned index (where the index is meaningful).

    Checked wherever an index is checked at all, so ties declared ``"any"`` (where the index
    may be any maximum) still need the value there. The sign of a zero is compared under
    ``signed_zero="index"`` (the output *is* the input at the index); ``"any"`` accepts
    ``np.max`` with ``np.argmax``, which may pick different zeros of a ``-0.0``/``+0.0`` tie.
    The sign bit and payload of a NaN are never compared (no rule makes them part of the contract).
    """
    exp = c.exp
    yb = y if c.batched else y[np.newaxis]
    meaningful = (exp.index_exact | exp.index_member) & (local >= 0)
    if not meaningful.any():
        return
    flat = np.ascontiguousarray(c.xb).reshape(c.xb.shape[0], c.n_chan, -1)
    picked = np.take_along_axis(
        flat, np.where(meaningful, local, 0).reshape(*local.shape[:2], -1), axis=2
    )
    picked = picked.reshape(local.shape)
    if yb.dtype.kind == "f":
        same = (picked == yb) | (np.isnan(picked) & np.isnan(yb))
        if signed_zero == "index":  # the sign of a zero; a NaN's sign and payload are not compared
            same &= (np.signbit(picked) == np.signbit(yb)) | np.isnan(yb)
    else:
        same = picked == yb
    bad = meaningful & ~same
    if bad.any():
        where = _find_first(bad)
        raise _Failure(
            "value at index",
            f"{_fmt_index('output', c.shown(where))} = {_fmt_scalar(yb[where])} but the input at "
            f"its index ({int(local[where])}, plane format) is {_fmt_scalar(picked[where])}",
            extra=c.window(where),
            where=where,
        )


# ----------------------------------------------------------------------------

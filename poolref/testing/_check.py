"""The checks for one case: output shape, dtype and values, indices, gradient, and that the
candidate neither modified its inputs nor returned a view of them."""

from __future__ import annotations

import math
import zlib
from collections import Counter

import numpy as np

from ..arrays import with_layout
from ._declare import Behaviour, Candidate
from ._expect import _Expected, _expected, _scatter
from ._report import (
    _array_line,
    _array_text,
    _Failure,
    _fmt_index,
    _fmt_scalar,
    _window_description,
)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    view = np.dtype(f"u{a.dtype.itemsize}")
    return bool(np.array_equal(a.view(view), b.view(view)))


def _as_array(value, what: str) -> np.ndarray:
    try:
        return np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - any conversion problem is the candidate's
        raise _Failure(f"{what} type", f"cannot convert the {what} ({type(value).__name__}) to a NumPy array: {exc}") from None


def _grad_output(shape, dtype, x: np.ndarray) -> np.ndarray:
    """Quarter-integer gradients in +-[0.25, 8]: float16 sums of up to 64 of them are exact.

    (No generated input puts more than 27 windows on one element.)
    """
    seed = zlib.crc32(np.ascontiguousarray(x).tobytes()) ^ zlib.crc32(repr(shape).encode())
    rng = np.random.default_rng(seed)
    magnitude = rng.integers(1, 33, size=shape) / 4
    sign = np.where(rng.random(shape) < 0.5, -1.0, 1.0)
    return (magnitude * sign).astype(dtype)


_GRAD_RTOL = {"float16": 2.0**-9, "float32": 2.0**-21, "float64": 2.0**-49}


def _first_changed(now: np.ndarray, before: np.ndarray) -> tuple:
    view = np.dtype(f"u{now.dtype.itemsize}")
    return _find_first(now.view(view) != before.view(view))


def _find_first(bad: np.ndarray):
    return tuple(int(i) for i in np.argwhere(bad)[0])


def _check_case(cand: Candidate, case, stats: Counter | None = None) -> set:
    """Run every check on one case; raise :class:`_Failure` on the first problem.

    Returns the set of features the case exercised.
    """
    x = case.x
    params = case.params
    nd = params.nd
    batched = x.ndim == nd + 2
    xb = x if batched else x[np.newaxis]
    n_batch, n_chan, *spatial = xb.shape
    spatial = tuple(spatial)
    sup, beh = cand.support, cand.behaviour
    exp = _expected(xb, params, beh)
    features = set(exp.features)
    features.add(f"{nd}-D")
    features.add(x.dtype.name)
    if batched and n_batch > 1 and n_chan > 1:
        features.add("N > 1 and C > 1")
    if not batched:
        features.add("unbatched")
    if not x.flags.c_contiguous:
        features.add("non-contiguous")
    if any(params.padding):
        features.add("padding")
        if params.ceil_mode:
            features.add("ceil_mode with padding")
    if any(d > 1 for d in params.dilation):
        features.add("dilation")
    if params.ceil_mode:
        features.add("ceil_mode")
    if any(s < d * (k - 1) + 1 for k, s, d in zip(params.kernel_size, params.stride, params.dilation)):
        features.add("overlapping windows")
    if nd > 1 and len(set(params.kernel_size)) > 1:
        features.add("non-square window")
    if any(n % 2 for n in spatial):
        features.add("odd sizes")
    plane = math.prod(spatial)
    if x.dtype == np.float16 and plane > 2048:
        features.add("float16 plane > 2048")
    if x.dtype.kind in "iu" and x.dtype.itemsize == 1 and plane > 256:
        features.add("8-bit plane > 256")

    kargs = (params.kernel_size, params.stride, params.padding, params.dilation, params.ceil_mode)
    x_before = x.copy(order="K")

    # ---- forward ----------------------------------------------------------
    try:
        out = cand.forward(x, *kargs)
    except Exception as exc:  # noqa: BLE001 - report whatever the candidate raised
        raise _Failure("forward raised", f"{type(exc).__name__}: {exc}") from None
    if not _same_bits(x, x_before):
        bad = _first_changed(x, x_before)
        raise _Failure(
            "input modified",
            f"the forward changed its input x: {_fmt_index('x', bad)} was {_fmt_scalar(x_before[bad])}, "
            f"is now {_fmt_scalar(x[bad])}",
        )
    idx = None
    if isinstance(out, (tuple, list)):
        if len(out) != 2:
            raise _Failure("output type", f"the forward returned a {type(out).__name__} of length {len(out)}; expected the output or (output, indices)")
        y, idx = out
    else:
        y = out
    if sup.indices and idx is None:
        raise _Failure("indices missing", "Support(indices=True) but the forward returned only the output")
    y = _as_array(y, "output")
    shape = exp.y.shape if batched else exp.y.shape[1:]
    if y.shape != shape:
        raise _Failure("output shape", f"output.shape={y.shape}, expected {shape}")
    if y.dtype != x.dtype:
        raise _Failure("output dtype", f"output.dtype={y.dtype}, expected {x.dtype} (the input's dtype)")
    yb = y if batched else y[np.newaxis]
    _check_values(yb, exp, beh, batched, n_chan, spatial)
    if sup.indices:
        features.add("indices")
        _check_indices(_as_array(idx, "indices"), exp, beh, batched, n_chan, spatial, plane)

    # ---- backward ---------------------------------------------------------
    if cand.backward is None:
        return features
    if x.dtype.name not in sup.backward_dtypes:
        return features
    if not sup.backward_dilation and any(d > 1 for d in params.dilation):
        return features
    if exp.empty.any() and beh.empty_window_index != "-1":
        if stats is not None:
            stats["backward not called: empty window (implementation-defined index)"] += 1
        return features
    grad_routed = exp.index_exact & ~exp.empty
    g = _grad_output(exp.y.shape, x.dtype, xb)
    g = np.where(grad_routed, g, np.zeros((), dtype=x.dtype)).astype(x.dtype)
    g_call = g if batched else g[0]
    if not x.flags.c_contiguous:

        g_call = with_layout(g_call, "F" if x.flags.f_contiguous else "transposed", channel_axis=1 if batched else 0)
    g_before = g_call.copy(order="K")
    expected_grad = _scatter(g, exp.index, grad_routed, xb.shape).astype(x.dtype)
    try:
        grad = cand.backward(g_call, x, *kargs)
    except Exception as exc:  # noqa: BLE001
        raise _Failure("backward raised", f"{type(exc).__name__}: {exc}", extra=_array_line("grad_output", g_call), grad_output=g_before) from None
    if not _same_bits(x, x_before):
        raise _Failure("input modified", "the backward changed its input x")
    if not _same_bits(g_call, g_before):
        raise _Failure("grad_output modified", "the backward changed grad_output", extra=_array_line("grad_output", g_before), grad_output=g_before)
    if isinstance(grad, (tuple, list)):
        raise _Failure("gradient type", f"the backward returned a {type(grad).__name__}; expected one array (the gradient with respect to x)")
    grad = _as_array(grad, "gradient")
    if grad.shape != x.shape:
        raise _Failure("gradient shape", f"grad_input.shape={grad.shape}, expected {x.shape} (x.shape)", extra=_array_line("grad_output", g_call), grad_output=g_before)
    if grad.dtype != x.dtype:
        raise _Failure("gradient dtype", f"grad_input.dtype={grad.dtype}, expected {x.dtype}", extra=_array_line("grad_output", g_call), grad_output=g_before)
    gb = grad if batched else grad[np.newaxis]
    rtol = _GRAD_RTOL[x.dtype.name]
    scale = float(np.abs(g).max()) if g.size else 0.0
    a64, e64 = gb.astype(np.float64), expected_grad.astype(np.float64)
    bad = ~(np.abs(a64 - e64) <= rtol * (np.abs(e64) + scale))
    if bad.any():
        where = _find_first(bad)
        shown = where if batched else where[1:]
        raise _Failure(
            "gradient",
            f"{_fmt_index('grad_input', shown)} = {_fmt_scalar(gb[where])}, expected {_fmt_scalar(expected_grad[where])}",
            extra=_array_line("grad_output", g_call)
            + f"\nexpected grad_input = {_array_text(expected_grad if batched else expected_grad[0])}"
            + f"\nactual grad_input   = {_array_text(grad)}",
            grad_output=g_before,
        )
    features.add("backward")
    return features


def _check_values(yb, exp: _Expected, beh: Behaviour, batched, n_chan, spatial):
    e = exp.y
    if e.dtype.kind == "f":
        same = (yb == e) | (np.isnan(yb) & np.isnan(e))
        if beh.signed_zero == "index":
            same &= ~((e == 0) & exp.index_exact & (np.signbit(yb) != np.signbit(e)))
    else:
        same = yb == e
    bad = ~same & exp.value_checked
    if bad.any():
        where = _find_first(bad)
        shown = where if batched else where[1:]
        note = ""
        if e.dtype.kind == "f" and e[where] == 0 and yb[where] == 0:
            note = " (signed zero: the output must be the input at the selected index)"
        raise _Failure(
            "values",
            f"{_fmt_index('output', shown)} = {_fmt_scalar(yb[where])}, expected {_fmt_scalar(e[where])}{note}",
            extra=_window_description(exp, where, n_chan, batched, spatial)
            + f"\nexpected output = {_array_text(e if batched else e[0])}"
            + f"\nactual output   = {_array_text(yb if batched else yb[0])}",
        )


def _check_indices(idx, exp: _Expected, beh: Behaviour, batched, n_chan, spatial, plane):
    shape = exp.index.shape if batched else exp.index.shape[1:]
    if idx.shape != shape:
        raise _Failure("indices shape", f"indices.shape={idx.shape}, expected {shape}")
    if beh.index_dtype is not None and idx.dtype != np.dtype(beh.index_dtype):
        raise _Failure("indices dtype", f"indices.dtype={idx.dtype}, expected {beh.index_dtype}")
    if idx.dtype.kind not in "iu":
        raise _Failure("indices dtype", f"indices.dtype={idx.dtype}, expected an integer dtype")
    ib = (idx if batched else idx[np.newaxis]).astype(np.int64)
    expected = exp.index
    if beh.index_format == "global":
        n_batch = ib.shape[0]
        offset = (np.arange(n_batch * n_chan, dtype=np.int64) * plane).reshape(n_batch, n_chan, *([1] * (ib.ndim - 2)))
        expected = np.where(expected >= 0, expected + offset, expected)
        local = np.where(ib >= 0, ib - offset, ib)
    else:
        local = ib
    bad = exp.index_exact & (ib != expected)
    kind = "indices"
    if not bad.any() and exp.index_member.any():
        # any maximum of the window is acceptable there: the index must be one of
        # the window's valid taps and the element there must hold the output value
        o_flat = local.reshape(local.shape[0] * n_chan, -1)
        hit = (exp.taps[None] == o_flat[..., None]) & (exp.taps[None] >= 0)
        ev = exp.y.reshape(o_flat.shape)[..., None]
        wv = exp.window_values
        holds = wv == ev
        if wv.dtype.kind == "f":
            holds |= np.isnan(wv) & np.isnan(ev)
        ok = (hit & holds).any(axis=2)
        bad = exp.index_member & ~ok.reshape(exp.index_member.shape)
        kind = "indices (not a maximum of the window)"
    if bad.any():
        where = _find_first(bad)
        shown = where if batched else where[1:]
        fmt = "global: (n*C + c)*plane_size + plane" if beh.index_format == "global" else "plane"
        expect = f"expected {int(expected[where])}" if exp.index_exact[where] else "expected the index of a maximum of the window"
        raise _Failure(
            kind,
            f"{_fmt_index('indices', shown)} = {int(ib[where])}, {expect} ({fmt} index format)",
            extra=_window_description(exp, where, n_chan, batched, spatial)
            + f"\nexpected indices = {_array_text(expected if batched else expected[0])}"
            + f"\nactual indices   = {_array_text(idx)}",
        )


# ============================================================================
# Corner cases
# ============================================================================

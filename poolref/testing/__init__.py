"""Check anyone's max pooling against poolref, and find the smallest input where it is wrong.

The one public entry point is :func:`check_max_pool`::

    from poolref.testing import check_max_pool

    def test_my_pool():
        check_max_pool(my_pool)                 # raises AssertionError on a counterexample

A *candidate* is a forward callable ``f(x, kernel_size, stride, padding,
dilation, ceil_mode)`` (parameters as tuples of ints, ``ceil_mode`` a bool)
that returns the pooled output or ``(output, indices)``, and optionally a
backward ``b(grad_output, x, kernel_size, stride, padding, dilation,
ceil_mode)`` that returns the gradient with respect to ``x``.
:mod:`poolref.adapters` wraps other calling conventions (PyTorch, JAX,
onnxruntime, layer classes) into a :class:`Candidate`.

What the candidate supports (:class:`Support`) decides which cases are
generated; which implementation-defined rules it follows (:class:`Behaviour`)
decides what "correct" means where frameworks legitimately differ (ties,
NaN, index format, empty windows). PyTorch's rules are the default.

Each case is checked for: the output's shape and dtype, every value, the
indices, the gradient (with a dtype-aware tolerance), that neither ``x`` nor
``grad_output`` was modified, and (through the memory layouts of the
generated inputs) that non-contiguous input gives the same result.

A run is a fixed list of hand-made corner cases (ties, NaN, +-inf, negative
values next to padding, ceil_mode with padding, dilation, empty windows,
odd sizes, non-square and overlapping windows, N > 1 with C > 1, every
memory layout, float16/int8 planes larger than the dtype's exact integers),
run smallest first, followed by a Hypothesis search (random cases, shrunk
to a minimal one on failure). When the environment variable ``CI`` is set
the search is derandomized, so a run is reproducible.

Hypothesis is needed (``pip install poolref[strategies]``); this module
imports it only when a check runs.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _params
from .._params import PoolParams, lowest, output_shape

__all__ = [
    "ALL_DTYPES",
    "BUDGETS",
    "FLOAT_DTYPES",
    "Behaviour",
    "Candidate",
    "Summary",
    "Support",
    "check_max_pool",
    "corner_cases",
]

#: Every dtype poolref's forward accepts (names).
ALL_DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8")
#: Every dtype poolref's backward accepts.
FLOAT_DTYPES = ("float16", "float32", "float64")

#: Hypothesis examples per spatial rank for each named budget (the corner cases always run).
BUDGETS = {"quick": 200, "thorough": 2000}

_NAN_RULES = ("last", "first", "strict", "propagate", "ignore", "untested")


# ============================================================================
# Declarations
# ============================================================================


def _dtype_names(values, name: str) -> tuple[str, ...]:
    if isinstance(values, (str, np.dtype, type)):
        values = (values,)
    out = []
    for value in values:
        try:
            dtype = np.dtype(value)
        except TypeError:
            msg = f"{name} must contain dtypes, got {value!r}"
            raise TypeError(msg) from None
        if dtype.name not in ALL_DTYPES:
            msg = f"{name}: {dtype.name} is not one of poolref's dtypes {ALL_DTYPES}"
            raise ValueError(msg)
        out.append(dtype.name)
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class Support:
    """What a candidate implements; cases outside it are never generated.

    Attributes
    ----------
    ndims : tuple of {1, 2, 3}
        Spatial ranks.
    dtypes : tuple of str
        Input dtypes of the forward (names, e.g. ``"float32"``).
    backward_dtypes : tuple of str
        dtypes for which the backward is checked (ignored without a backward).
    padding, dilation, ceil_mode : bool
        Whether padding > 0, dilation > 1 and ``ceil_mode=True`` may be used.
    indices : bool
        The forward returns ``(output, indices)``.
    unbatched : bool
        ``(C, *spatial)`` input is accepted (the output is then unbatched too).
    non_contiguous : bool
        Any memory layout is accepted (Fortran order, channels-last, strided
        views, negative strides). If False only C-contiguous arrays are passed.
    backward_dilation : bool
        The backward works with dilation > 1 (JAX's does not).
    square : bool
        Only ``kernel_size`` and ``stride`` equal in every dimension.
    exact_fit : bool
        Only input sizes the windows tile exactly: ``(L + 2p - eff) % stride == 0``.
    max_batch, max_channels : int
        Upper bounds for ``N`` and ``C`` in generated cases.
    accepts : callable or None
        Extra filter ``accepts(x, kernel_size, stride, padding, dilation,
        ceil_mode) -> bool`` for anything else (``x`` is the input array).
    """

    ndims: tuple[int, ...] = (1, 2, 3)
    dtypes: tuple[str, ...] = ALL_DTYPES
    backward_dtypes: tuple[str, ...] = FLOAT_DTYPES
    padding: bool = True
    dilation: bool = True
    ceil_mode: bool = True
    indices: bool = True
    unbatched: bool = True
    non_contiguous: bool = True
    backward_dilation: bool = True
    square: bool = False
    exact_fit: bool = False
    max_batch: int = 3
    max_channels: int = 3
    accepts: Callable | None = None

    def __post_init__(self):
        ndims = (self.ndims,) if isinstance(self.ndims, int) else tuple(self.ndims)
        if not ndims or any(n not in (1, 2, 3) for n in ndims):
            msg = f"Support: ndims must be a non-empty subset of (1, 2, 3), got ndims={self.ndims!r}"
            raise ValueError(msg)
        object.__setattr__(self, "ndims", tuple(sorted(set(ndims))))
        dtypes = _dtype_names(self.dtypes, "Support.dtypes")
        if not dtypes:
            msg = "Support: dtypes must not be empty"
            raise ValueError(msg)
        object.__setattr__(self, "dtypes", dtypes)
        backward = _dtype_names(self.backward_dtypes, "Support.backward_dtypes")
        if any(d not in FLOAT_DTYPES for d in backward):
            msg = f"Support: backward_dtypes must be float dtypes, got backward_dtypes={backward!r}"
            raise ValueError(msg)
        object.__setattr__(self, "backward_dtypes", backward)
        for name in ("max_batch", "max_channels"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                msg = f"Support: {name} must be an int >= 1, got {name}={value!r}"
                raise ValueError(msg)

    def allows(self, x: np.ndarray, kernel_size, stride, padding, dilation, ceil_mode) -> bool:
        """True if the call ``f(x, kernel_size, ...)`` is within this support."""
        nd = len(kernel_size)
        if nd not in self.ndims or x.dtype.name not in self.dtypes:
            return False
        if x.ndim == nd + 1 and not self.unbatched:
            return False
        if x.ndim == nd + 2 and (x.shape[0] > self.max_batch or x.shape[1] > self.max_channels):
            return False
        if x.ndim == nd + 1 and x.shape[0] > self.max_channels:
            return False
        if not self.padding and any(padding):
            return False
        if not self.dilation and any(d != 1 for d in dilation):
            return False
        if not self.ceil_mode and ceil_mode:
            return False
        if not self.non_contiguous and not x.flags.c_contiguous:
            return False
        if self.square and (len(set(kernel_size)) > 1 or len(set(stride)) > 1):
            return False
        if self.exact_fit:
            for n, k, s, p, d in zip(x.shape[-nd:], kernel_size, stride, padding, dilation):
                if (n + 2 * p - d * (k - 1) - 1) % s:
                    return False
        if self.accepts is not None:
            return bool(self.accepts(x, kernel_size, stride, padding, dilation, ceil_mode))
        return True


@dataclass(frozen=True)
class Behaviour:
    """The implementation-defined rules a candidate follows (PyTorch's by default).

    Where a rule is declared ``"any"``/``"propagate"``, the harness still
    checks what every reasonable implementation agrees on (the value, that an
    index points at a maximum of its window) and skips only the
    implementation-defined part; the gradient of such windows is not checked
    (their ``grad_output`` entries are set to zero).

    Attributes
    ----------
    ties : {"first", "any"}
        Which of several equal maxima is selected (index and gradient):
        the first in row-major window order (PyTorch, ONNX, TF, JAX's
        gradient), or any of them.
    nan : {"last", "first", "strict", "propagate", "ignore", "untested"}
        ``"last"``: a window holding NaN gives NaN, index of its *last* NaN
        (PyTorch). ``"first"``: NaN, index of the first NaN (``np.argmax``).
        ``"strict"``: start from the first valid element and move only to a
        strictly greater one, so a NaN is kept only when it comes first
        (onnxruntime's Indices path, TF ``max_pool_with_argmax``).
        ``"propagate"``: NaN, but index and gradient are unspecified (JAX).
        ``"ignore"``: NaN is skipped like padding (TF's forward; all-NaN
        windows unchecked). ``"untested"``: no NaN is ever generated.
    index_format : {"plane", "global"}
        ``"plane"``: flat row-major index inside each ``(n, c)`` plane of the
        unpadded input (PyTorch). ``"global"``: ``(n * C + c) * P + plane``
        over the whole tensor (ONNX ``Indices``, ``storage_order=0``).
    index_dtype : str or None
        Required dtype of the indices (``"int64"``), or None for any integer dtype.
    signed_zero : {"index", "any"}
        ``"index"``: the output is the input *at the selected index*, so a
        ``-0.0``/``+0.0`` tie keeps the sign of the selected one. ``"any"``:
        the sign of a zero output is not checked.
    empty_window_value : {"lowest", "lowest_finite", "any"}
        Output of a window with no valid tap (only with dilation > 1 and
        padding): the dtype's lowest value, ``-inf`` / ``iinfo.min``
        (PyTorch, JAX), the lowest finite value (onnxruntime), or unchecked.
    empty_window_index : {"any", "-1"}
        ``"any"`` (default): the index of an empty window is not compared and
        the backward is not called for inputs that have one (PyTorch returns
        an out-of-range index there and its backward writes out of bounds).
        ``"-1"``: the index must be -1 and the backward must skip it (poolref).
    padding : {"skipped", "compared"}
        ``"skipped"``: padded positions are never selected (PyTorch, ONNX, TF).
        ``"compared"``: padding holds the dtype's lowest value and takes part
        in the comparison (JAX ``reduce_window``), so in a window whose maximum
        equals that value the index and gradient are unspecified.
    """

    ties: str = "first"
    nan: str = "last"
    index_format: str = "plane"
    index_dtype: str | None = "int64"
    signed_zero: str = "index"
    empty_window_value: str = "lowest"
    empty_window_index: str = "any"
    padding: str = "skipped"

    def __post_init__(self):
        allowed = {
            "ties": ("first", "any"),
            "nan": _NAN_RULES,
            "index_format": ("plane", "global"),
            "signed_zero": ("index", "any"),
            "empty_window_value": ("lowest", "lowest_finite", "any"),
            "empty_window_index": ("any", "-1"),
            "padding": ("skipped", "compared"),
        }
        for name, choices in allowed.items():
            value = getattr(self, name)
            if value not in choices:
                msg = f"Behaviour: {name} must be one of {choices}, got {name}={value!r}"
                raise ValueError(msg)
        if self.index_dtype is not None:
            object.__setattr__(
                self, "index_dtype", _dtype_names(self.index_dtype, "Behaviour.index_dtype")[0]
            )

    def differences(self) -> list[str]:
        """The fields that differ from PyTorch's rules, as ``name=value`` strings."""
        default = Behaviour()
        return [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        ]


@dataclass(frozen=True)
class Candidate:
    """A max-pooling implementation under test, with its declarations.

    ``source`` is a Python expression that rebuilds the candidate (used in the
    reproduction snippet), e.g. ``"poolref.adapters.torch(device='cpu')"``.
    ``budget_scale`` scales the named budgets' Hypothesis examples (not the
    corner cases) for candidates with a high cost per new shape (JAX
    compiles every one); an explicit ``max_examples`` ignores it.
    """

    forward: Callable
    backward: Callable | None = None
    support: Support = field(default_factory=Support)
    behaviour: Behaviour = field(default_factory=Behaviour)
    name: str | None = None
    source: str | None = None
    budget_scale: float = 1.0

    @property
    def label(self) -> str:
        return self.name or _callable_name(self.forward) or "candidate"


def _callable_name(fn) -> str | None:
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if qualname is None:
        qualname = type(fn).__name__
    if module and module not in ("__main__", "builtins"):
        return f"{module}.{qualname}"
    return qualname


def _import_source(fn, role: str) -> str:
    """Snippet lines that bind ``role`` to ``fn`` (an import when possible)."""
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if module and qualname and module != "__main__" and "<" not in qualname:
        head, _, tail = qualname.partition(".")
        if tail:
            return f"from {module} import {head}\n{role} = {qualname}"
        return f"from {module} import {qualname} as {role}"
    return f"{role} = ...  # your {role} function ({_callable_name(fn)})"


# ============================================================================
# Windows, the reference, and what is checked where
# ============================================================================


def _params_of(kernel_size, stride, padding, dilation, ceil_mode) -> PoolParams:
    return PoolParams(tuple(kernel_size), tuple(stride), tuple(padding), tuple(dilation), bool(ceil_mode))


def _window_taps(spatial: tuple[int, ...], params: PoolParams):
    """Flat plane index of every tap of every window, ``-1`` for padded taps.

    Returns ``(out_spatial, taps)`` with ``taps`` of shape ``(prod(out), prod(k))``,
    taps in row-major window order (which is increasing flat index).
    """
    out_spatial = output_shape(spatial, params)
    nd = len(spatial)
    index = np.zeros((1,) * (2 * nd), dtype=np.int64)
    valid = np.ones((1,) * (2 * nd), dtype=bool)
    for i, (n, o, k, s, p, d) in enumerate(
        zip(spatial, out_spatial, params.kernel_size, params.stride, params.padding, params.dilation)
    ):
        shape = [1] * (2 * nd)
        shape[i], shape[nd + i] = o, k
        pos = ((np.arange(o) * s - p)[:, None] + np.arange(k)[None, :] * d).reshape(shape)
        index = index * n + pos
        valid = valid & (pos >= 0) & (pos < n)
    taps = np.where(valid, index, -1).reshape(math.prod(out_spatial), -1)
    return out_spatial, taps


@dataclass
class _Expected:
    """What the candidate must produce for one batched input, and where."""

    y: np.ndarray  # (N, C, *O), x's dtype
    index: np.ndarray  # (N, C, *O) int64 plane index, -1 where none
    value_checked: np.ndarray  # bool (N, C, *O)
    index_exact: np.ndarray  # bool: index must equal `index`
    index_member: np.ndarray  # bool: index must point at a maximum of the window
    taps: np.ndarray  # (prod(O), K)
    window_values: np.ndarray  # (N*C, prod(O), K) values at the taps (garbage where tap == -1)
    empty: np.ndarray  # bool (N, C, *O)
    features: set


def _select(vals: np.ndarray, valid: np.ndarray, rule: str) -> np.ndarray:
    """Tap number selected in every window by ``rule`` (-1: none). Vectorised over windows."""
    sel = np.full(vals.shape[:2], -1, dtype=np.int64)
    cur = np.zeros(vals.shape[:2], dtype=vals.dtype)
    is_float = vals.dtype.kind == "f"
    for j in range(vals.shape[2]):
        v = vals[:, :, j]
        ok = np.broadcast_to(valid[None, :, j], v.shape)
        if rule == "ignore" and is_float:
            ok = ok & ~np.isnan(v)
        if is_float and rule in ("last", "propagate"):
            better = (v > cur) | np.isnan(v)
        elif is_float and rule == "first":
            better = (v > cur) | (np.isnan(v) & ~np.isnan(cur))
        else:  # strict, ignore, or integers
            better = v > cur
        take = ok & ((sel == -1) | better)
        sel = np.where(take, j, sel)
        cur = np.where(take, v, cur)
    return sel


def _expected(xb: np.ndarray, params: PoolParams, behaviour: Behaviour) -> _Expected:
    n_batch, n_chan, *spatial = xb.shape
    spatial = tuple(spatial)
    out_spatial, taps = _window_taps(spatial, params)
    plane = math.prod(spatial)
    flat = np.ascontiguousarray(xb).reshape(n_batch * n_chan, plane)
    valid = taps >= 0
    vals = flat[:, np.where(valid, taps, 0)]  # (NC, O, K)
    is_float = xb.dtype.kind == "f"
    rule = behaviour.nan if behaviour.nan != "untested" else "last"
    sel = _select(vals, valid, rule)
    nc_o = sel.shape
    empty_w = sel == -1
    taps_b = np.broadcast_to(taps, vals.shape)
    sel_c = np.where(empty_w, 0, sel)
    index = np.take_along_axis(taps_b, sel_c[..., None], axis=2)[..., 0]
    value = np.take_along_axis(vals, sel_c[..., None], axis=2)[..., 0]
    index = np.where(empty_w, -1, index)
    has_valid = valid.any(axis=1)[None, :].repeat(nc_o[0], axis=0)
    truly_empty = ~has_valid
    if is_float:
        nan_tap = np.isnan(vals) & valid[None]
        nan_w = nan_tap.any(axis=2)
        all_nan_w = has_valid & (nan_tap.sum(axis=2) == valid.sum(axis=1)[None, :])
    else:
        nan_w = np.zeros(nc_o, dtype=bool)
        all_nan_w = nan_w
    low = lowest(xb.dtype)
    value = np.where(truly_empty, low, value).astype(xb.dtype)
    # equal maxima among the valid taps (NaN windows are not ties)
    equal = (vals == value[..., None]) & valid[None]
    tie_w = (equal.sum(axis=2) > 1) & ~nan_w & ~truly_empty

    value_checked = np.ones(nc_o, dtype=bool)
    index_exact = ~truly_empty
    index_member = np.zeros(nc_o, dtype=bool)
    if behaviour.empty_window_value == "any":
        value_checked &= ~truly_empty
    elif behaviour.empty_window_value == "lowest_finite" and is_float:
        value = np.where(truly_empty, np.finfo(xb.dtype).min, value).astype(xb.dtype)
    if behaviour.empty_window_index == "-1":
        index_exact = index_exact | truly_empty
    if behaviour.ties == "any":
        index_member |= tie_w & index_exact
        index_exact &= ~tie_w
    if behaviour.nan == "propagate":
        index_exact &= ~nan_w
        index_member &= ~nan_w
    if behaviour.nan == "ignore":
        value_checked &= ~all_nan_w
        index_exact &= ~all_nan_w
        index_member &= ~all_nan_w
    if behaviour.padding == "compared":
        at_pad = (~valid).any(axis=1)[None, :] & (value == low)
        index_exact &= ~at_pad
        index_member &= ~at_pad

    shape = (n_batch, n_chan, *out_spatial)
    features = set()
    if tie_w.any():
        features.add("ties")
    if nan_w.any():
        features.add("NaN")
    if is_float:
        valid_vals = vals[np.broadcast_to(valid[None], vals.shape)]
        if np.isposinf(valid_vals).any():
            features.add("+inf")
        if np.isneginf(valid_vals).any():
            features.add("-inf")
        if (np.isneginf(value) & ~truly_empty).any():
            features.add("all -inf window")
        zeros = valid_vals[valid_vals == 0]
        if zeros.size and np.signbit(zeros).any() and (~np.signbit(zeros)).any():
            features.add("signed zeros")
    if truly_empty.any():
        features.add("empty window")
    padded_w = (~valid).any(axis=1)[None, :] & ~truly_empty
    negative = value < 0 if (is_float or xb.dtype.kind == "i") else value == low
    if (padded_w & negative & ~nan_w).any():
        features.add("negative values next to padding")
    return _Expected(
        y=value.reshape(shape),
        index=index.reshape(shape),
        value_checked=value_checked.reshape(shape),
        index_exact=index_exact.reshape(shape),
        index_member=index_member.reshape(shape),
        taps=taps,
        window_values=vals,
        empty=truly_empty.reshape(shape),
        features=features,
    )


def _reference(xb: np.ndarray, params: PoolParams):
    """poolref's oracle (:mod:`poolref.naive`) on batched input: ``(y, indices)``."""
    from .. import naive

    fn = getattr(naive, f"max_pool{params.nd}d")
    return fn(xb, **params.as_kwargs(), return_indices=True)


# ============================================================================
# Failures and their report
# ============================================================================


class _Failure(AssertionError):
    """A check failed on one case; ``check`` names the check, ``detail`` says how."""

    def __init__(self, check: str, detail: str, *, extra: str = "", grad_output=None):
        super().__init__(f"[{check}] {detail}")
        self.check = check
        self.detail = detail
        self.extra = extra
        self.grad_output = grad_output


def _fmt_index(name: str, index) -> str:
    return f"{name}[{', '.join(str(int(i)) for i in index)}]"


def _fmt_scalar(value) -> str:
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value)
    return repr(value)


def _array_text(a: np.ndarray, limit: int = 400) -> str:
    from ..strategies import array_source

    text = array_source(np.asarray(a))
    if len(text) > limit:
        return f"<{a.dtype} array of shape {a.shape}; too large to show>"
    return text


def _layout_of(x: np.ndarray, batched: bool) -> str | None:
    """Name of the :data:`poolref.strategies.LAYOUTS` entry that gives ``x``'s strides."""
    from ..strategies import LAYOUTS, with_layout

    base = np.ascontiguousarray(x)
    if x.strides == base.strides:
        return "C"  # (numpy's c_contiguous flag ignores the strides of size-1 axes; torch does not)
    for layout in LAYOUTS:
        if with_layout(base, layout, channel_axis=1 if batched else 0).strides == x.strides:
            return layout
    return None


def _window_description(exp: _Expected, pos: tuple, n_chan: int, batched: bool, spatial) -> str:
    """Human-readable taps of the window of output ``pos`` (batched coordinates)."""
    n, c, *o = pos
    o_flat = int(np.ravel_multi_index(tuple(o), exp.y.shape[2:])) if o else 0
    taps = exp.taps[o_flat]
    values = exp.window_values[n * n_chan + c, o_flat]
    items = []
    for t, v in zip(taps, values):
        if t < 0:
            items.append("pad")
        else:
            coords = np.unravel_index(int(t), spatial)
            items.append(f"{_fmt_scalar(v)} @{int(t)} {tuple(int(i) for i in coords)}")
    plane = f"x[{n}, {c}]" if batched else f"x[{c}]"
    return f"window of that output in {plane} (value @plane index (coordinates), row-major): " + ", ".join(items)


# ============================================================================
# One case
# ============================================================================


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
    params = _params_of(case.kernel_size, case.stride, case.padding, case.dilation, case.ceil_mode)
    nd = params.nd
    batched = x.ndim == nd + 2
    xb = x if batched else x[np.newaxis]
    n_batch, n_chan, *spatial = xb.shape
    spatial = tuple(spatial)
    sup, beh = cand.support, cand.behaviour
    exp = _expected(xb, params, beh)
    if beh == _PYTORCH:
        # The harness's own reading of the rules must agree with the oracle.
        ref_y, ref_idx = _reference(np.ascontiguousarray(xb), params)
        if not (
            _same_bits(np.ascontiguousarray(ref_y), exp.y) and np.array_equal(ref_idx, exp.index)
        ):
            msg = "poolref.testing's window analysis disagrees with poolref.naive (a poolref bug)"
            raise RuntimeError(msg)
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
        from ..strategies import with_layout

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


def _array_line(name: str, a: np.ndarray) -> str:
    return f"{name} = {_array_text(a)}"


def _scatter(g: np.ndarray, index: np.ndarray, routed: np.ndarray, xshape) -> np.ndarray:
    n_batch, n_chan = xshape[:2]
    plane = math.prod(xshape[2:])
    total = np.zeros((n_batch * n_chan, plane), dtype=np.float64)
    rows = np.broadcast_to(np.arange(n_batch * n_chan).reshape(n_batch, n_chan, *([1] * (g.ndim - 2))), g.shape)
    np.add.at(total, (rows[routed], index[routed]), g[routed].astype(np.float64))
    return total.reshape(xshape)


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


def _plane_shape(nd: int, sizes: Sequence[int]) -> tuple[int, ...]:
    return tuple(sizes[:nd])


def _per_dim(nd, values):
    return tuple(values[:nd])


def _distinct(rng, dtype, shape):
    from ..strategies import distinct_grid

    n = math.prod(shape)
    return rng.permutation(distinct_grid(dtype, n)).reshape(shape)


def corner_cases(nd: int, support: Support | None = None, behaviour: Behaviour | None = None):
    """The fixed corner cases run before the Hypothesis search, smallest first.

    Returns a list of ``(name, PoolCase)`` for spatial rank ``nd``, keeping
    only the cases inside ``support`` (dtypes are substituted when the
    case's own dtype is not supported and the point of the case allows it).
    """
    from ..strategies import PoolCase, with_layout

    support = support or Support()
    behaviour = behaviour or Behaviour()
    rng = np.random.default_rng(20240 + nd)
    floats = [d for d in ("float32", "float64", "float16") if d in support.dtypes]
    out: list[tuple[str, Any]] = []

    def add(name, x, k, s=None, p=0, d=1, ceil=False, *, layout="C", need_float=False, dtype_fixed=False):
        k = k if isinstance(k, tuple) else (k,) * nd
        s = k if s is None else (s if isinstance(s, tuple) else (s,) * nd)
        p = p if isinstance(p, tuple) else (p,) * nd
        d = d if isinstance(d, tuple) else (d,) * nd
        x = np.asarray(x)
        if x.dtype.name not in support.dtypes:
            if dtype_fixed:
                return
            if need_float or x.dtype.kind == "f":
                if not floats:
                    return
                x = x.astype(floats[0])
            else:
                ints = [t for t in ("int32", "int64", "int16", "float64", "float32", "int8") if t in support.dtypes]
                if not ints:
                    return
                new = x.astype(ints[0])
                if not np.array_equal(new.astype(np.float64), x.astype(np.float64)):
                    return
                x = new
        if layout != "C":
            x = with_layout(x, layout, channel_axis=1 if x.ndim == nd + 2 else 0)
        if not _valid_call(x, k, s, p, d, ceil):
            return
        if support.allows(x, k, s, p, d, ceil):
            out.append((name, PoolCase(x, k, s, p, d, ceil)))

    S = lambda *sizes: _plane_shape(nd, sizes)  # noqa: E731
    f64 = np.float64

    # --- basics, exact tiling (fits even the most restricted layer classes)
    add("basic", _distinct(rng, f64, (1, 1, *S(4, 4, 4))), 2, 2)
    add("N > 1 and C > 1", _distinct(rng, f64, (2, 3, *S(4, 4, 2))), 2, 2)
    add("overlapping windows, stride 1", _distinct(rng, f64, (2, 2, *S(5, 5, 4))), 3, 1)
    add("kernel 1 (identity)", _distinct(rng, f64, (1, 2, *S(3, 3, 3))), 1, 1)
    add("window = whole input", _distinct(rng, f64, (2, 1, *S(3, 4, 3))), S(3, 4, 3), 1)
    for dtype in ALL_DTYPES:
        add(f"dtype {dtype}", _distinct(rng, np.dtype(dtype), (2, 2, *S(4, 4, 4))), 2, 2, dtype_fixed=True)
    add("unbatched (C, *spatial)", _distinct(rng, f64, (3, *S(4, 4, 2))), 2, 2)
    add("unbatched, one channel", _distinct(rng, f64, (1, *S(5, 3, 3))), 3, 1)
    # --- sizes and shapes
    add("odd sizes, kernel 3 stride 2", _distinct(rng, f64, (1, 2, *S(7, 5, 5))), 3, 2)
    add("stride > kernel (gaps)", _distinct(rng, f64, (1, 2, *S(8, 7, 5))), 2, 3)
    if nd > 1:
        add("non-square window", _distinct(rng, f64, (2, 2, *S(5, 6, 4))), _per_dim(nd, (3, 2, 1)), _per_dim(nd, (1, 2, 1)))
        add("non-square stride", _distinct(rng, f64, (1, 2, *S(6, 7, 5))), 2, _per_dim(nd, (1, 3, 2)))
        add("non-square input, per-dim everything", _distinct(rng, f64, (2, 3, *S(7, 4, 5))), _per_dim(nd, (2, 3, 2)), _per_dim(nd, (2, 1, 3)), _per_dim(nd, (1, 0, 1)), 1, True)
    # --- ties
    add("constant input (ties everywhere)", np.full((1, 2, *S(4, 5, 3)), 3.0), 2, 1)
    add("ties, overlapping windows", rng.integers(0, 3, (2, 2, *S(6, 5, 4))).astype(f64), 3, 1)
    add("ties, integers", rng.integers(-2, 2, (2, 3, *S(6, 6, 4))).astype(np.int32), 2, 1)
    # --- values next to the padding
    add("negative values next to padding", -1.0 - _distinct(rng, f64, (1, 2, *S(5, 4, 3))) % 7, 3, 2, 1)
    add("negative values, padding, stride 1", -rng.integers(1, 9, (2, 1, *S(4, 5, 3))).astype(np.float32), 2, 1, 1)
    for dtype in ("int8", "int16", "int32", "int64", "uint8"):
        info = np.iinfo(dtype)
        lo = np.full((1, 1, *S(3, 3, 3)), info.min, dtype=dtype)
        lo.flat[::2] = info.min + 1
        add(f"{dtype} minimum next to padding", lo, 2, 1, 1, dtype_fixed=True)
    # --- NaN and infinities
    nan_x = rng.integers(-2, 3, (2, 2, *S(6, 5, 4))).astype(f64)
    nan_x[rng.random(nan_x.shape) < 0.3] = np.nan
    if behaviour.nan != "untested":
        one = np.array([1.0, np.nan, 5.0, 2.0, np.nan, 0.0, 3.0, np.nan, np.nan, -1.0, 4.0, 2.0])
        add("NaN in a window", np.resize(one, (1, 1, *S(12, 4, 4))), 4, 2, need_float=True)
        add("two NaNs in one window", np.resize(np.array([np.nan, 1.0, np.nan, 2.0, 0.0, 3.0]), (1, 1, *S(6, 6, 6))), 3, 3 if nd == 1 else 1, need_float=True)
        add("NaN, overlapping windows", nan_x, 3, 1, need_float=True)
        add("NaN with padding", nan_x, 3, 2, 1, need_float=True)
        add("all NaN", np.full((1, 1, *S(4, 4, 2)), np.nan), 2, 1, need_float=True)
    inf_x = rng.choice(np.array([-np.inf, np.inf, -1.0, 0.0, 2.0]), (2, 2, *S(6, 5, 4)))
    add("+inf and -inf", inf_x, 2, 1, need_float=True)
    add("+inf ties", np.resize(np.array([np.inf, 1.0, np.inf, 2.0]), (1, 1, *S(4, 4, 4))), 2, 1, need_float=True)
    add("all -inf windows", np.full((2, 2, *S(3, 4, 3)), -np.inf), 2, 1, need_float=True)
    add("all -inf windows, padding", np.full((1, 2, *S(3, 4, 3)), -np.inf), 2, 1, 1, need_float=True)
    add("all -inf windows, padding, channels-last layout", np.full((2, 3, *S(3, 3, 3)), -np.inf), 2, 1, 1, layout="transposed", need_float=True)
    add("-inf next to padding", np.resize(np.array([-np.inf, -np.inf, -1.0, -np.inf]), (2, 1, *S(5, 4, 3))), 3, 1, 1, need_float=True)
    sz = rng.choice(np.array([-0.0, 0.0]), (1, 2, *S(6, 4, 4)))
    add("signed zeros", sz, 2, 1, need_float=True)
    # --- ceil_mode
    add("ceil_mode, last window partial", _distinct(rng, f64, (1, 2, *S(5, 5, 5))), 2, 2, 0, 1, True)
    add("ceil_mode with padding (window starting in the right padding dropped)", _distinct(rng, f64, (1, 2, *S(5, 5, 5))), 2, 2, 1, 1, True)
    add("ceil_mode, kernel 1 stride 2 (reduce by one)", _distinct(rng, f64, (1, 1, *S(6, 4, 2))), 1, 2, 0, 1, True)
    add("ceil_mode, kernel 3 stride 2 padding 1", -1.0 - _distinct(rng, f64, (2, 1, *S(6, 7, 4))) % 5, 3, 2, 1, 1, True)
    add("ceil_mode, stride 3", _distinct(rng, f64, (1, 2, *S(7, 8, 5))), 2, 3, 1, 1, True)
    # --- dilation
    add("dilation 2", _distinct(rng, f64, (1, 2, *S(7, 6, 5))), 2, 1, 0, 2)
    add("dilation with padding", _distinct(rng, f64, (2, 1, *S(6, 7, 5))), 3, 2, 1, 2)
    add("dilation, padding, ceil_mode", -1.0 - _distinct(rng, f64, (1, 2, *S(7, 6, 5))) % 6, 3, 2, 1, 2, True)
    add("empty windows (dilation 3, padding 1)", -_distinct(rng, f64, (1, 2, *S(2, 2, 2))) - 1, 2, 1, 1, 3)
    # --- memory layouts (same values, different strides)
    lay_x = _distinct(rng, f64, (2, 3, *S(5, 4, 3)))
    for layout in ("F", "transposed", "strided", "reversed"):
        add(f"layout {layout}", lay_x, _per_dim(nd, (2, 3, 2)), 1, layout=layout)
    add("layout transposed, unbatched", _distinct(rng, f64, (3, *S(4, 5, 3))), 2, 1, layout="transposed")
    add("layout strided, padding", -1.0 - lay_x % 5, 3, 2, 1, layout="strided")
    # --- precision
    big = np.int64(2**62)
    add("int64 values beyond float64's precision", big + rng.permutation(np.arange(4 ** min(nd, 2) * 2, dtype=np.int64)).reshape(1, 2, *S(4, 4, 1)) * 1, 2, 1, dtype_fixed=True)
    add("float64 values beyond float32's precision", 1.0 + rng.permutation(np.arange(32.0))[: 2 * 4 ** min(nd, 2)].reshape(1, 2, *S(4, 4, 1)) * 2.0**-40, 2, 1, dtype_fixed=True)
    add("int32 extremes", np.resize(np.array([2**31 - 1, -(2**31), 2**31 - 2, 0], dtype=np.int32), (1, 2, *S(5, 4, 3))), 2, 1, 1, dtype_fixed=True)
    big_shape = {1: (2200,), 2: (48, 48), 3: (14, 14, 12)}[nd]
    x16 = _distinct(rng, np.float16, (1, 1, *big_shape))
    add("float16 plane larger than 2048 (indices beyond float16's exact integers)", x16, 2, 2, dtype_fixed=True)
    add("float16 large plane, overlapping windows, padding", x16, 3, 2, 1, dtype_fixed=True)
    small8 = {1: (300,), 2: (17, 18), 3: (7, 7, 7)}[nd]
    for dtype in ("int8", "uint8"):
        add(f"{dtype} plane larger than 256", _distinct(rng, np.dtype(dtype), (1, 1, *small8)), 2, 1, dtype_fixed=True)
    # --- everything at once
    mix = rng.integers(-3, 3, (3, 3, *S(7, 6, 5))).astype(f64)
    mix[rng.random(mix.shape) < 0.1] = np.nan if behaviour.nan != "untested" else -np.inf
    mix[rng.random(mix.shape) < 0.05] = -np.inf
    add("everything at once (ties, NaN, -inf, padding, dilation, ceil_mode)", mix, _per_dim(nd, (3, 2, 3)), _per_dim(nd, (2, 1, 2)), _per_dim(nd, (1, 1, 0)), _per_dim(nd, (1, 2, 1)), True, layout="transposed", need_float=True)
    return out


def _valid_call(x, k, s, p, d, ceil) -> bool:
    nd = len(k)
    if x.ndim not in (nd + 1, nd + 2):
        return False
    try:
        params = _params.normalize_pool_args(nd, k, s, p, d, ceil, func="corner")
    except (TypeError, ValueError):
        return False
    return min(output_shape(x.shape[-nd:], params)) >= 1


def _shrink(cand: Candidate, case, failure: _Failure, budget: int = 60):
    """Greedily make a failing corner case smaller while the same check still fails."""
    from ..strategies import PoolCase, with_layout

    best, best_failure = case, failure
    tries = 0

    def attempt(x):
        nonlocal tries
        tries += 1
        trial = PoolCase(x, *best[1:])
        if not _valid_call(x, *best[1:]) or not cand.support.allows(x, *best[1:]):
            return None
        try:
            _check_case(cand, trial)
        except _Failure as f:
            if f.check == best_failure.check:
                return trial, f
        except Exception:  # noqa: BLE001
            return None
        return None

    improved = True
    while improved and tries < budget:
        improved = False
        x = best.x
        nd = best.nd
        lead = x.ndim - nd
        options = []
        for axis in range(lead):  # a single sample, then a single channel
            if x.shape[axis] > 1:
                for i in range(x.shape[axis]):
                    sl = [slice(None)] * x.ndim
                    sl[axis] = slice(i, i + 1)
                    options.append(x[tuple(sl)])
        for axis in range(lead, x.ndim):
            n = x.shape[axis]
            for new in sorted({1, n // 2, n - 1} - {0, n}):
                for start in (0, n - new):
                    sl = [slice(None)] * x.ndim
                    sl[axis] = slice(start, start + new)
                    options.append(x[tuple(sl)])
        layout = _layout_of(x, lead == 2)
        for option in options:
            if tries >= budget:
                break
            # keep the case's memory layout (a slice of it would have other strides)
            option = np.ascontiguousarray(option)
            if layout not in (None, "C"):
                option = with_layout(option, layout, channel_axis=lead - 1)
            got = attempt(option)
            if got is not None:
                best, best_failure = got
                improved = True
                break
    return best, best_failure


# ============================================================================
# Hypothesis search
# ============================================================================


def _require_hypothesis():
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        msg = (
            "poolref.testing needs Hypothesis, which is not installed: "
            "pip install 'poolref[strategies]' (or pip install hypothesis)"
        )
        raise ImportError(msg) from None


def _case_strategy(nd: int, support: Support, behaviour: Behaviour):
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    from .. import strategies as ps

    profiles = tuple(
        p for p in ps.PROFILES if not (behaviour.nan == "untested" and p in ("nan", "general"))
    )
    layouts = ps.LAYOUTS if support.non_contiguous else ("C",)
    batched = None if support.unbatched else True
    ceil = None if support.ceil_mode else False
    max_side = 7
    if not (support.square or support.exact_fit):
        strat = ps.pool_cases(
            ndims=(nd,),
            dtypes=support.dtypes,
            profiles=profiles,
            layouts=layouts,
            batched=batched,
            padding=support.padding,
            dilation=support.dilation,
            ceil_mode=ceil,
            max_side=max_side,
            max_batch=support.max_batch,
            max_channels=support.max_channels,
            max_elements={1: 96, 2: 256, 3: 384}[nd],
        )
    else:

        @st.composite
        def constrained(draw):
            dtype = np.dtype(draw(st.sampled_from(support.dtypes)))
            profile = draw(st.sampled_from([p for p in profiles if p in ps.profiles_for(dtype)]))
            layout = draw(st.sampled_from(layouts))
            is_batched = draw(st.sampled_from((True, False) if batched is None else (True,)))
            ks, ss, ps_, ds, sizes = [], [], [], [], []
            for i in range(nd):
                if support.square and i > 0:
                    k, s = ks[0], ss[0]
                else:
                    k = draw(st.integers(1, 3))
                    s = draw(st.integers(1, 3))
                p = draw(st.integers(0, k // 2)) if support.padding else 0
                d = draw(st.integers(1, 2)) if support.dilation and k > 1 else 1
                eff = d * (k - 1) + 1
                o_min = 1
                while (o_min - 1) * s + eff - 2 * p < 1:
                    o_min += 1
                o_max = max(o_min, (max_side - eff + 2 * p) // s + 1)
                o = draw(st.integers(o_min, o_max))
                ks.append(k)
                ss.append(s)
                ps_.append(p)
                ds.append(d)
                sizes.append((o - 1) * s + eff - 2 * p)
            ceil_mode = draw(st.booleans()) if ceil is None else False
            c = draw(st.integers(1, support.max_channels))
            lead = (draw(st.integers(1, support.max_batch)), c) if is_batched else (c,)
            shape = (*lead, *sizes)
            if profile == "distinct":
                size = math.prod(shape)
                grid = ps.distinct_grid(dtype, size)
                x = draw(st.permutations(range(size)).map(lambda perm: grid[np.asarray(perm, dtype=np.intp)].reshape(shape)))
            else:
                x = draw(hnp.arrays(dtype, shape, elements=ps.values(dtype, profile=profile), fill=st.nothing()))
            x = ps.with_layout(x, layout, channel_axis=len(lead) - 1)
            return ps.PoolCase(x, tuple(ks), tuple(ss), tuple(ps_), tuple(ds), ceil_mode)

        strat = constrained()
    return strat.filter(lambda case: support.allows(case.x, *case[1:]))


# ============================================================================
# Summary and the entry point
# ============================================================================

#: Features the default budget must reach for a candidate that supports everything.
HARD_CORNERS = (
    "N > 1 and C > 1",
    "unbatched",
    "ties",
    "NaN",
    "+inf",
    "-inf",
    "all -inf window",
    "signed zeros",
    "negative values next to padding",
    "padding",
    "ceil_mode",
    "ceil_mode with padding",
    "dilation",
    "empty window",
    "odd sizes",
    "non-square window",
    "overlapping windows",
    "non-contiguous",
    "float16 plane > 2048",
    "8-bit plane > 256",
    "indices",
    "backward",
)


@dataclass
class Summary:
    """What a passing :func:`check_max_pool` run did.

    Attributes
    ----------
    name : str
        The candidate's label.
    ndims : tuple of int
        Spatial ranks checked.
    corner_cases : int
        Fixed corner cases run.
    examples : int
        Hypothesis examples run.
    features : dict
        Feature name -> number of cases (corner and Hypothesis) exercising it.
    not_covered : tuple of str
        Hard corners (:data:`HARD_CORNERS`) that no case reached (usually
        because the candidate does not support them).
    notes : dict
        Things skipped on purpose, with counts.
    seconds : float
        Wall time.
    """

    name: str
    ndims: tuple
    corner_cases: int = 0
    examples: int = 0
    features: dict = field(default_factory=dict)
    not_covered: tuple = ()
    notes: dict = field(default_factory=dict)
    seconds: float = 0.0
    seed: Any = None

    def __str__(self) -> str:
        ranks = ", ".join(f"{n}-D" for n in self.ndims)
        lines = [
            f"{self.name}: no counterexample ({ranks}; {self.corner_cases} corner cases, "
            f"{self.examples} Hypothesis examples, {self.seconds:.1f} s)"
        ]
        covered = [f"{k} ({v})" for k, v in self.features.items() if k in HARD_CORNERS]
        if covered:
            lines.append("  covered: " + ", ".join(covered))
        if self.not_covered:
            lines.append("  not covered: " + ", ".join(self.not_covered))
        for note, count in self.notes.items():
            lines.append(f"  note: {note} ({count} cases)")
        return "\n".join(lines)


def _reproduction(cand: Candidate, case, failure: _Failure, batched: bool) -> str:
    x = case.x
    nd = case.nd
    kargs = f"{case.kernel_size!r}, {case.stride!r}, {case.padding!r}, {case.dilation!r}, {case.ceil_mode!r}"
    lines = ["import numpy as np", "import poolref.naive"]
    if cand.source:
        lines.append(f"candidate = {cand.source}")
        lines.append("forward, backward = candidate.forward, candidate.backward")
    else:
        lines.append(_import_source(cand.forward, "forward"))
        if cand.backward is not None and failure.grad_output is not None:
            lines.append(_import_source(cand.backward, "backward"))
    lines.append(f"x = {_array_text(np.ascontiguousarray(x), limit=10**9) if x.size <= 300 else _big_array_source(x)}")
    layout = _layout_of(x, batched)
    if layout not in (None, "C"):
        lines.append("from poolref.strategies import with_layout")
        lines.append(f"x = with_layout(x, {layout!r}, channel_axis={1 if batched else 0})  # same values, other strides")
    lines.append(f"actual = forward(x, {kargs})")
    lines.append(f"expected = poolref.naive.max_pool{nd}d(x, {kargs}, return_indices=True)")
    if failure.grad_output is not None:
        g = failure.grad_output
        lines.append(f"grad_output = {_array_text(np.ascontiguousarray(g), limit=10**9) if g.size <= 300 else _big_array_source(g)}")
        lines.append(f"actual_grad = backward(grad_output, x, {kargs})")
        lines.append(f"expected_grad = poolref.naive.max_pool{nd}d_backward(grad_output, x, {kargs})")
    return "\n".join("    " + line for line in lines)


def _big_array_source(x: np.ndarray) -> str:
    """Source for a large array: its values are a permutation we cannot print, so rebuild by bytes."""
    import base64

    data = base64.b64encode(zlib.compress(np.ascontiguousarray(x).tobytes())).decode()
    return (
        f"np.frombuffer(__import__('zlib').decompress(__import__('base64').b64decode({data!r})), "
        f"dtype=np.{x.dtype.name}).reshape({x.shape!r}).copy()"
    )


def _report(cand: Candidate, case, failure: _Failure, found_by: str) -> str:
    x = case.x
    nd = case.nd
    batched = x.ndim == nd + 2
    layout = _layout_of(x, batched)
    layout_text = {"C": "C-contiguous", None: f"strides {x.strides}"}.get(layout, f"layout {layout!r} (non-contiguous)")
    lines = [
        f"max pooling of {cand.label} is wrong [{failure.check}]: {failure.detail}",
        f"  case: max_pool{nd}d on x.shape={x.shape} ({'N, C' if batched else 'C'}, {'spatial' }), "
        f"x.dtype={x.dtype}, {layout_text}",
        f"        kernel_size={case.kernel_size}, stride={case.stride}, padding={case.padding}, "
        f"dilation={case.dilation}, ceil_mode={case.ceil_mode}",
        f"  found by: {found_by}",
    ]
    diff = cand.behaviour.differences()
    if diff:
        lines.append("  declared behaviour: " + ", ".join(diff))
    lines.append(f"  x = {_array_text(np.ascontiguousarray(x))}")
    if failure.extra:
        lines.extend("  " + line for line in failure.extra.splitlines())
    lines.append("  reproduce:")
    lines.append(_reproduction(cand, case, failure, batched))
    return "\n".join(lines)


_PYTORCH = Behaviour()


def check_max_pool(
    forward,
    *,
    backward: Callable | None = None,
    ndim: int | Sequence[int] | None = 2,
    support: Support | None = None,
    behaviour: Behaviour | None = None,
    budget: str = "quick",
    max_examples: int | None = None,
    seed: int | None = None,
    corners: bool = True,
    name: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Summary:
    """Check a max-pooling implementation against poolref; raise ``AssertionError`` if it is wrong.

    Parameters
    ----------
    forward : callable or Candidate
        ``forward(x, kernel_size, stride, padding, dilation, ceil_mode)``
        returning the output, or ``(output, indices)`` when
        ``support.indices``. ``x`` is ``(N, C, *spatial)`` or, if
        ``support.unbatched``, ``(C, *spatial)``; the parameters are tuples of
        ``ndim`` ints. A :class:`Candidate` (e.g. from :mod:`poolref.adapters`)
        brings its own backward, support and behaviour.
    backward : callable, optional
        ``backward(grad_output, x, kernel_size, stride, padding, dilation,
        ceil_mode)`` returning the gradient with respect to ``x``.
    ndim : int, sequence of int, or None
        Spatial ranks to check (default 2); None means every rank in
        ``support.ndims``.
    support : Support, optional
        What the candidate implements (default: everything poolref does).
    behaviour : Behaviour, optional
        Implementation-defined rules it follows (default: PyTorch's).
    budget : {"quick", "thorough"}
        Hypothesis examples per rank (:data:`BUDGETS`, times the candidate's
        ``budget_scale``); the corner cases always run.
    max_examples : int, optional
        Overrides the budget's number of Hypothesis examples per rank (0: corner cases only).
    seed : int, optional
        Seed for the Hypothesis search. Without it the search is random,
        except when the environment variable ``CI`` is set: then it is
        derandomized (the same examples every run).
    corners : bool
        Run the fixed corner cases first (default True).
    name : str, optional
        Label used in messages.
    progress : callable, optional
        Called with one-line progress messages.

    Returns
    -------
    Summary
        Examples run and features covered (``print`` it for a short report).

    Raises
    ------
    AssertionError
        With the smallest failing case found: the check that failed, shapes,
        dtype, layout, parameters, the input, expected and actual values at the
        first difference (with that output's window), and a snippet that
        reproduces it.
    ValueError, TypeError
        Bad arguments (e.g. an ``ndim`` outside ``support.ndims``).
    ImportError
        Hypothesis is not installed.

    Examples
    --------
    >>> import poolref.fast
    >>> def my_pool(x, kernel_size, stride, padding, dilation, ceil_mode):
    ...     return poolref.fast.max_pool2d(
    ...         x, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)
    >>> summary = check_max_pool(my_pool, max_examples=5)
    >>> summary.not_covered, summary.examples
    ((), 5)
    """
    _require_hypothesis()
    if isinstance(forward, Candidate):
        cand = forward
        changes = {}
        if backward is not None:
            changes["backward"] = backward
        if support is not None:
            changes["support"] = support
        if behaviour is not None:
            changes["behaviour"] = behaviour
        if name is not None:
            changes["name"] = name
        if changes:
            cand = dataclasses.replace(cand, **changes)
    else:
        if not callable(forward):
            msg = f"check_max_pool: forward must be callable or a Candidate, got {type(forward).__name__}"
            raise TypeError(msg)
        cand = Candidate(forward, backward, support or Support(), behaviour or Behaviour(), name)
    if cand.backward is not None and not callable(cand.backward):
        msg = f"check_max_pool: backward must be callable, got {type(cand.backward).__name__}"
        raise TypeError(msg)
    if ndim is None:
        ndims = cand.support.ndims
    else:
        ndims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        bad = [n for n in ndims if n not in cand.support.ndims]
        if bad or not ndims:
            msg = f"check_max_pool: ndim={ndim!r} is not within the candidate's support ndims={cand.support.ndims}"
            raise ValueError(msg)
    if budget not in BUDGETS:
        msg = f"check_max_pool: budget must be one of {tuple(BUDGETS)}, got budget={budget!r}"
        raise ValueError(msg)
    if max_examples is None:
        n_examples = max(1, round(BUDGETS[budget] * cand.budget_scale))
    else:
        n_examples = int(max_examples)
    if n_examples < 0:
        msg = f"check_max_pool: max_examples must be >= 0, got max_examples={max_examples!r}"
        raise ValueError(msg)
    say = progress or (lambda message: None)
    start = time.perf_counter()
    features: Counter = Counter()
    notes: Counter = Counter()
    summary = Summary(name=cand.label, ndims=ndims, seed=seed)
    for nd in ndims:
        if corners:
            cases = corner_cases(nd, cand.support, cand.behaviour)
            for i, (corner_name, case) in enumerate(cases, 1):
                try:
                    features.update(_check_case(cand, case, notes))
                except _Failure as failure:
                    small, small_failure = _shrink(cand, case, failure)
                    found = f"corner case {corner_name!r} ({i} of {len(cases)}, {nd}-D)"
                    if small is not case:
                        found += ", then made smaller"
                    say(f"{nd}-D corner cases: counterexample in {corner_name!r}")
                    raise AssertionError(_report(cand, small, small_failure, found)) from None
                summary.corner_cases += 1
            say(f"{nd}-D corner cases: {len(cases)} passed")
        if n_examples:
            summary.examples += _search(cand, nd, n_examples, seed, features, notes, say)
    summary.features = dict(sorted(features.items(), key=lambda kv: (kv[0] not in HARD_CORNERS, kv[0])))
    applicable = _applicable_corners(cand, ndims)
    summary.not_covered = tuple(f for f in applicable if f not in features)
    summary.notes = dict(notes)
    summary.seconds = time.perf_counter() - start
    return summary


def _applicable_corners(cand: Candidate, ndims) -> tuple:
    sup, beh = cand.support, cand.behaviour
    skip = set()
    floats = [d for d in sup.dtypes if d in FLOAT_DTYPES]
    if not sup.unbatched:
        skip.add("unbatched")
    if sup.max_batch < 2 or sup.max_channels < 2:
        skip.add("N > 1 and C > 1")
    if not floats:
        skip |= {"NaN", "+inf", "-inf", "all -inf window", "signed zeros"}
    if beh.nan == "untested":
        skip.add("NaN")
    if not sup.padding:
        skip |= {"padding", "ceil_mode with padding", "negative values next to padding", "empty window"}
    if not sup.dilation:
        skip |= {"dilation", "empty window"}
    if not sup.ceil_mode:
        skip |= {"ceil_mode", "ceil_mode with padding"}
    if max(ndims) < 2 or sup.square:
        skip.add("non-square window")
    if not sup.non_contiguous:
        skip.add("non-contiguous")
    if "float16" not in sup.dtypes:
        skip.add("float16 plane > 2048")
    if "int8" not in sup.dtypes and "uint8" not in sup.dtypes:
        skip.add("8-bit plane > 256")
    if not sup.indices:
        skip.add("indices")
    if cand.backward is None or not sup.backward_dtypes:
        skip.add("backward")
    return tuple(f for f in HARD_CORNERS if f not in skip)


def _search(cand: Candidate, nd: int, n_examples: int, seed, features: Counter, notes: Counter, say) -> int:
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hseed
    from hypothesis.errors import Flaky, Unsatisfiable

    strategy = _case_strategy(nd, cand.support, cand.behaviour)
    state = {"calls": 0, "failures": 0, "last": None}
    derandomize = seed is None and bool(os.environ.get("CI"))

    @settings(
        max_examples=n_examples,
        deadline=None,
        database=None,
        derandomize=derandomize,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
        verbosity=Verbosity.quiet,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
    )
    @given(strategy)
    def run(case):
        state["calls"] += 1
        try:
            got = _check_case(cand, case, notes if state["failures"] == 0 else None)
        except _Failure as failure:
            state["failures"] += 1
            state["last"] = (case, failure)
            raise
        if state["failures"] == 0:
            features.update(got)
            if state["calls"] % 25 == 0:
                say(f"{nd}-D search: {state['calls']}/{n_examples} examples")

    if seed is not None:
        run = hseed(seed)(run)
    try:
        run()
    except _Failure as failure:
        case = state["last"][0]  # the final (shrunk) replay raised `failure` for this case
        examples = state["calls"]
        found = f"Hypothesis search ({nd}-D), shrunk after {examples} calls"
        if seed is not None:
            found += f", seed={seed}"
        say(f"{nd}-D search: counterexample found")
        raise AssertionError(_report(cand, case, failure, found)) from None
    except Unsatisfiable:
        msg = (
            f"check_max_pool: no {nd}-D case satisfies the declared support of {cand.label} "
            f"({cand.support}); relax it"
        )
        raise ValueError(msg) from None
    except Flaky as exc:
        detail = state["last"]
        text = f"the candidate {cand.label} is not deterministic: the same input passed once and failed once ({type(exc).__name__})"
        if detail is not None:
            case, failure = detail
            text += "\n" + _report(cand, case, failure, f"Hypothesis search ({nd}-D), not reproducible")
        raise AssertionError(text) from None
    say(f"{nd}-D search: {min(state['calls'], n_examples)} examples passed")
    return min(state["calls"], n_examples)

"""The fixed corner cases, run smallest first before any random search."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _params
from .._params import output_shape
from ..arrays import PoolCase, distinct_grid, with_layout
from ._declare import ALL_DTYPES, Behaviour, Support, _in_domain


def _plane_shape(nd: int, sizes: Sequence[int]) -> tuple[int, ...]:
    return tuple(sizes[:nd])


def _per_dim(nd, values):
    return tuple(values[:nd])


def _distinct(rng, dtype, shape):

    n = math.prod(shape)
    return rng.permutation(distinct_grid(dtype, n)).reshape(shape)


def _row(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, dtype=np.float64):
    """A fixed case; ``x``'s rank and ``kernel_size``'s length give the spatial rank."""
    x = np.asarray(x, dtype=dtype)
    nd = len(kernel_size)

    def per_dim(v):
        return (v,) * nd if isinstance(v, int) else tuple(v)

    k = tuple(kernel_size)
    s = k if stride is None else per_dim(stride)
    return PoolCase(x, k, s, per_dim(padding), per_dim(dilation), ceil_mode)


NAN, INF = np.nan, np.inf
#: The smallest rows of the catalogue: a few elements each, one hard point each (several NaN in
#: one window, ties, signed zeros, the lowest value next to padding, empty windows, ceil-mode
#: edges). :func:`corner_cases` runs those of the requested rank first; the property suite
#: runs them all as ``@example``s of its tests.
TINY = (
    ("the last NaN wins", _row([[NAN, 1.0, NAN, 2.0]], (4,))),
    ("NaN in the last column", _row([[[[1.0, NAN], [5.0, NAN]]]], (2, 2))),
    ("NaN among -inf", _row([[[[-INF, NAN], [-INF, -INF]]]], (2, 2), dtype=np.float32)),
    ("NaN, padding, 3-D", _row([[[[[NAN, 1.0], [NAN, 2.0]], [[3.0, NAN], [4.0, 0.0]]]]], (2, 2, 2), 1, 1)),
    ("ties: the first maximum", _row([[5.0, 5.0, 5.0, 1.0]], (2,), 1)),
    ("integer ties", _row([[[2, 2], [2, 2]]], (2, 2), dtype=np.int16)),
    ("signed zeros follow the index", _row([[-0.0, 0.0, 0.0, -0.0]], (2,), 1)),
    ("all -inf next to padding", _row([[-INF, -INF]], (2,), 1, 1)),
    ("negatives next to padding", _row([[-3.0, -1.0, -2.0]], (3,), 1, 1, dtype=np.float32)),
    ("int8 minimum next to padding", _row([[-128, -128, -7]], (2,), 1, 1, dtype=np.int8)),
    ("uint8 zeros next to padding", _row([[0, 0, 3]], (2,), 1, 1, dtype=np.uint8)),
    ("int64 minimum next to padding", _row([[[-(2**63), -(2**63)]]], (2,), 1, 1, dtype=np.int64)),
    ("an empty window", _row([[1.0, 2.0]], (2,), 1, 1, 3)),
    ("empty windows, int32", _row([[[[1, 2], [3, 4]]]], (2, 2), 1, 1, 3, dtype=np.int32)),
    ("ceil: the last window hangs over", _row([[1.0, 3.0, 2.0, 0.0, 5.0]], (2,), ceil_mode=True)),
    ("ceil correction: 3 outputs", _row([[1.0, 2.0, 3.0, 4.0, 5.0]], (2,), padding=1, ceil_mode=True)),
    ("ceil: 1x1 after the correction", _row([[[[1.0, 2.0], [3.0, 4.0]]]], (1, 1), 2, ceil_mode=True)),
    ("ceil: L + 2p < eff, one output", _row([[1.0, 2.0]], (3,), 2, ceil_mode=True)),
    ("float16 beyond 2048", _row([[2048.0, 2050.0, 4096.0, 65504.0, -65504.0, 2049.0]], (2,), 1, dtype=np.float16)),
    ("unbatched 3-D, negative strides", _row(np.arange(16.0).reshape(2, 2, 2, 2)[::-1], (2, 2, 2))),
)


def _into_domain(x: np.ndarray, domain: str) -> np.ndarray | None:
    """``x`` moved into a value domain by a shift that keeps its order, or None if impossible.

    Non-finite values cannot be moved (the case is then skipped); a shift keeps every
    comparison, so ties, orders and windows stay what the case is about.
    """
    if _in_domain(x, domain):
        return x
    if domain == "any" or (x.dtype.kind == "f" and not np.isfinite(x).all()) or x.size == 0:
        return None if domain != "any" else x
    shift = (1 if domain == "positive" else 0) - x.min().item()
    moved = x.astype(np.float64) + shift
    if x.dtype.kind in "iu" and moved.max() > np.iinfo(x.dtype).max:
        return None
    out = moved.astype(x.dtype)
    return out if _in_domain(out, domain) and np.array_equal(np.argsort(out, axis=None, kind="stable"), np.argsort(x, axis=None, kind="stable")) else None


def corner_cases(nd: int, support: Support | None = None, behaviour: Behaviour | None = None):
    """The fixed corner cases run before the Hypothesis search, smallest first.

    Returns a list of ``(name, PoolCase)`` for spatial rank ``nd``, keeping
    only the cases inside ``support`` (dtypes are substituted when the
    case's own dtype is not supported and the point of the case allows it).
    """

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
        x = _into_domain(x, support.values)
        if x is None:
            return
        if layout != "C":
            x = with_layout(x, layout, channel_axis=1 if x.ndim == nd + 2 else 0)
        if not _valid_call(x, k, s, p, d, ceil):
            return
        if support.allows(x, k, s, p, d, ceil):
            out.append((name, PoolCase(x, k, s, p, d, ceil)))

    S = lambda *sizes: _plane_shape(nd, sizes)  # noqa: E731
    f64 = np.float64

    # --- the tiny rows of this rank (also the property suite's @examples)
    for name, row in TINY:
        if row.nd == nd and not (behaviour.nan == "untested" and np.isnan(row.x).any()):
            add(name, row.x, *row[1:], dtype_fixed=row.x.dtype not in (np.float64, np.float32))
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

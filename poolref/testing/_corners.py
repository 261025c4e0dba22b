"""The fixed corner cases, run smallest first before any random search."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import DTypeLike

from .. import _params
from .._params import output_shape
from ..arrays import PoolCase, distinct_grid, with_layout
from ._declare import ALL_DTYPES, Behaviour, Support, _in_domain
from ._tiny import INF, NAN, TINY

Size = int | tuple[int, ...]


def _distinct(rng: np.random.Generator, dtype: DTypeLike, shape: tuple[int, ...]) -> np.ndarray:
    n = math.prod(shape)
    return rng.permutation(distinct_grid(dtype, n)).reshape(shape)


def _per_dim(nd: int, value: Size | dict[int, int]) -> tuple[int, ...]:
    if isinstance(value, dict):
        value = value[nd]
    return (value,) * nd if isinstance(value, int) else tuple(value[:nd])


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
    same_order = np.array_equal(
        np.argsort(out, axis=None, kind="stable"), np.argsort(x, axis=None, kind="stable")
    )
    return out if _in_domain(out, domain) and same_order else None


class _Draw:
    """What a row's ``x`` recipe may use: the rank, the seeded generator, the behaviour, and
    the arrays kept by earlier rows (drawn once, used by several cases)."""

    def __init__(self, nd: int, behaviour: Behaviour):
        self.nd = nd
        self.rng = np.random.default_rng(20240 + nd)
        self.behaviour = behaviour
        self.kept: dict[str, np.ndarray] = {}

    def sizes(self, *sizes: int) -> tuple[int, ...]:
        """The first ``nd`` of three spatial sizes."""
        return tuple(sizes[: self.nd])

    def grid(self, dtype: DTypeLike, lead: tuple[int, ...], sizes: tuple[int, ...]) -> np.ndarray:
        """A random permutation of distinct values, shape ``(*lead, *sizes[:nd])``."""
        return _distinct(self.rng, np.dtype(dtype), (*lead, *self.sizes(*sizes)))


@dataclass(frozen=True)
class _Corner:
    """One row of the catalogue: a name, a recipe for ``x``, the parameters and flags.

    ``x`` builds the input from a :class:`_Draw`. A size parameter is an int (the same in
    every dimension), a 3-tuple cut to the rank, or a dict from rank to int; ``s=None`` means
    the kernel size.
    ``need_float``: the point of the case needs a float dtype; ``dtype_fixed``: the case is
    about its own dtype and is dropped where that dtype is not supported. ``when`` keeps the
    row to ``"nd > 1"`` or to candidates tested with NaN (``"nan"``). ``keep``: the row only
    draws an array that later rows use as ``draw.kept[name]``.
    """

    name: str
    x: Callable[[_Draw], np.ndarray]
    k: Size = 1
    s: Size | dict[int, int] | None = None
    p: Size = 0
    d: Size = 1
    ceil: bool = False
    layout: str = "C"
    need_float: bool = False
    dtype_fixed: bool = False
    when: str | None = None
    keep: bool = False


Recipe = Callable[[_Draw], np.ndarray]


def _grid(lead: tuple[int, ...], sizes: tuple[int, ...], dtype: DTypeLike = np.float64) -> Recipe:
    return lambda draw: draw.grid(dtype, lead, sizes)


def _kept(name: str) -> Recipe:
    return lambda draw: draw.kept[name]


def _minimum_next_to_padding(dtype: str) -> Recipe:
    def build(draw: _Draw) -> np.ndarray:
        info = np.iinfo(dtype)
        lo = np.full((1, 1, *draw.sizes(3, 3, 3)), info.min, dtype=dtype)
        lo.flat[::2] = info.min + 1
        return lo

    return build


def _byte_plane(dtype: str) -> Recipe:
    return lambda draw: draw.grid(dtype, (1, 1), _BYTE_PLANE[draw.nd])


def _nan_mix(draw: _Draw) -> np.ndarray:
    x = draw.rng.integers(-2, 3, (2, 2, *draw.sizes(6, 5, 4))).astype(np.float64)
    x[draw.rng.random(x.shape) < 0.3] = np.nan
    return x


def _everything(draw: _Draw) -> np.ndarray:
    x = draw.rng.integers(-3, 3, (3, 3, *draw.sizes(7, 6, 5))).astype(np.float64)
    x[draw.rng.random(x.shape) < 0.1] = np.nan if draw.behaviour.nan != "untested" else -np.inf
    x[draw.rng.random(x.shape) < 0.05] = -np.inf
    return x


def _beyond_float64(draw: _Draw) -> np.ndarray:
    perm = draw.rng.permutation(np.arange(4 ** min(draw.nd, 2) * 2, dtype=np.int64))
    return np.int64(2**62) + perm.reshape(1, 2, *draw.sizes(4, 4, 1)) * 1


def _beyond_float32(draw: _Draw) -> np.ndarray:
    perm = draw.rng.permutation(np.arange(32.0))[: 2 * 4 ** min(draw.nd, 2)]
    return 1.0 + perm.reshape(1, 2, *draw.sizes(4, 4, 1)) * 2.0**-40


def _resized(
    values: list, lead: tuple[int, ...], sizes: tuple[int, ...], dtype: DTypeLike | None = None
) -> Recipe:
    return lambda draw: np.resize(np.array(values, dtype=dtype), (*lead, *draw.sizes(*sizes)))


def _full(value: float, lead: tuple[int, ...], sizes: tuple[int, ...]) -> Recipe:
    return lambda draw: np.full((*lead, *draw.sizes(*sizes)), value)


def _choice(values: list, lead: tuple[int, ...], sizes: tuple[int, ...]) -> Recipe:
    return lambda draw: draw.rng.choice(np.array(values), (*lead, *draw.sizes(*sizes)))


_F16_PLANE = {1: (2200,), 2: (48, 48), 3: (14, 14, 12)}
_BYTE_PLANE = {1: (300,), 2: (17, 18), 3: (7, 7, 7)}
_C = _Corner
_ONE_NAN = [1.0, NAN, 5.0, 2.0, NAN, 0.0, 3.0, NAN, NAN, -1.0, 4.0, 2.0]

#: The catalogue after the :data:`TINY` rows, in the order it runs (each row draws from one
#: seeded generator, so the order is part of every case).
CATALOGUE: tuple[_Corner, ...] = (
    # --- basics, exact tiling (fits even the most restricted layer classes)
    _C("basic", _grid((1, 1), (4, 4, 4)), 2, 2),
    _C("N > 1 and C > 1", _grid((2, 3), (4, 4, 2)), 2, 2),
    _C("overlapping windows, stride 1", _grid((2, 2), (5, 5, 4)), 3, 1),
    _C("kernel 1 (identity)", _grid((1, 2), (3, 3, 3)), 1, 1),
    _C("window = whole input", _grid((2, 1), (3, 4, 3)), (3, 4, 3), 1),
    *(_C(f"dtype {t}", _grid((2, 2), (4, 4, 4), t), 2, 2, dtype_fixed=True) for t in ALL_DTYPES),
    _C("unbatched (C, *spatial)", _grid((3,), (4, 4, 2)), 2, 2),
    _C("unbatched, one channel", _grid((1,), (5, 3, 3)), 3, 1),
    # --- sizes and shapes
    _C("odd sizes, kernel 3 stride 2", _grid((1, 2), (7, 5, 5)), 3, 2),
    _C("stride > kernel (gaps)", _grid((1, 2), (8, 7, 5)), 2, 3),
    _C("non-square window", _grid((2, 2), (5, 6, 4)), (3, 2, 1), (1, 2, 1), when="nd > 1"),
    _C("non-square stride", _grid((1, 2), (6, 7, 5)), 2, (1, 3, 2), when="nd > 1"),
    _C(
        "non-square input, per-dim everything",
        _grid((2, 3), (7, 4, 5)),
        (2, 3, 2),
        (2, 1, 3),
        (1, 0, 1),
        1,
        True,
        when="nd > 1",
    ),
    # --- ties
    _C("constant input (ties everywhere)", _full(3.0, (1, 2), (4, 5, 3)), 2, 1),
    _C(
        "ties, overlapping windows",
        lambda c: c.rng.integers(0, 3, (2, 2, *c.sizes(6, 5, 4))).astype(np.float64),
        3,
        1,
    ),
    _C(
        "ties, integers",
        lambda c: c.rng.integers(-2, 2, (2, 3, *c.sizes(6, 6, 4))).astype(np.int32),
        2,
        1,
    ),
    # --- values next to the padding
    _C(
        "negative values next to padding",
        lambda c: -1.0 - c.grid(np.float64, (1, 2), (5, 4, 3)) % 7,
        3,
        2,
        1,
    ),
    _C(
        "negative values, padding, stride 1",
        lambda c: -c.rng.integers(1, 9, (2, 1, *c.sizes(4, 5, 3))).astype(np.float32),
        2,
        1,
        1,
    ),
    *(
        _C(f"{t} minimum next to padding", _minimum_next_to_padding(t), 2, 1, 1, dtype_fixed=True)
        for t in ("int8", "int16", "int32", "int64", "uint8")
    ),
    # --- NaN and infinities
    _C("nan_x", _nan_mix, keep=True),
    _C(
        "NaN in a window", _resized(_ONE_NAN, (1, 1), (12, 4, 4)), 4, 2, need_float=True, when="nan"
    ),
    _C(
        "two NaNs in one window",
        _resized([NAN, 1.0, NAN, 2.0, 0.0, 3.0], (1, 1), (6, 6, 6)),
        3,
        {1: 3, 2: 1, 3: 1},
        need_float=True,
        when="nan",
    ),
    _C("NaN, overlapping windows", _kept("nan_x"), 3, 1, need_float=True, when="nan"),
    _C("NaN with padding", _kept("nan_x"), 3, 2, 1, need_float=True, when="nan"),
    _C("all NaN", _full(NAN, (1, 1), (4, 4, 2)), 2, 1, need_float=True, when="nan"),
    _C(
        "+inf and -inf",
        _choice([-INF, INF, -1.0, 0.0, 2.0], (2, 2), (6, 5, 4)),
        2,
        1,
        need_float=True,
    ),
    _C("+inf ties", _resized([INF, 1.0, INF, 2.0], (1, 1), (4, 4, 4)), 2, 1, need_float=True),
    _C("all -inf windows", _full(-INF, (2, 2), (3, 4, 3)), 2, 1, need_float=True),
    _C("all -inf windows, padding", _full(-INF, (1, 2), (3, 4, 3)), 2, 1, 1, need_float=True),
    _C(
        "all -inf windows, padding, channels-last layout",
        _full(-INF, (2, 3), (3, 3, 3)),
        2,
        1,
        1,
        layout="transposed",
        need_float=True,
    ),
    _C(
        "-inf next to padding",
        _resized([-INF, -INF, -1.0, -INF], (2, 1), (5, 4, 3)),
        3,
        1,
        1,
        need_float=True,
    ),
    _C("signed zeros", _choice([-0.0, 0.0], (1, 2), (6, 4, 4)), 2, 1, need_float=True),
    # --- ceil_mode
    _C("ceil_mode, last window partial", _grid((1, 2), (5, 5, 5)), 2, 2, 0, 1, True),
    _C(
        "ceil_mode with padding (window starting in the right padding dropped)",
        _grid((1, 2), (5, 5, 5)),
        2,
        2,
        1,
        1,
        True,
    ),
    _C("ceil_mode, kernel 1 stride 2 (reduce by one)", _grid((1, 1), (6, 4, 2)), 1, 2, 0, 1, True),
    _C(
        "ceil_mode, kernel 3 stride 2 padding 1",
        lambda c: -1.0 - c.grid(np.float64, (2, 1), (6, 7, 4)) % 5,
        3,
        2,
        1,
        1,
        True,
    ),
    _C("ceil_mode, stride 3", _grid((1, 2), (7, 8, 5)), 2, 3, 1, 1, True),
    # --- dilation
    _C("dilation 2", _grid((1, 2), (7, 6, 5)), 2, 1, 0, 2),
    _C("dilation with padding", _grid((2, 1), (6, 7, 5)), 3, 2, 1, 2),
    _C(
        "dilation, padding, ceil_mode",
        lambda c: -1.0 - c.grid(np.float64, (1, 2), (7, 6, 5)) % 6,
        3,
        2,
        1,
        2,
        True,
    ),
    _C(
        "empty windows (dilation 3, padding 1)",
        lambda c: -c.grid(np.float64, (1, 2), (2, 2, 2)) - 1,
        2,
        1,
        1,
        3,
    ),
    # --- memory layouts (same values, different strides)
    _C("lay_x", _grid((2, 3), (5, 4, 3)), keep=True),
    *(
        _C(f"layout {lay}", _kept("lay_x"), (2, 3, 2), 1, layout=lay)
        for lay in ("F", "transposed", "strided", "reversed")
    ),
    _C("layout transposed, unbatched", _grid((3,), (4, 5, 3)), 2, 1, layout="transposed"),
    _C("layout strided, padding", lambda c: -1.0 - c.kept["lay_x"] % 5, 3, 2, 1, layout="strided"),
    # --- precision
    _C("int64 values beyond float64's precision", _beyond_float64, 2, 1, dtype_fixed=True),
    _C("float64 values beyond float32's precision", _beyond_float32, 2, 1, dtype_fixed=True),
    _C(
        "int32 extremes",
        _resized([2**31 - 1, -(2**31), 2**31 - 2, 0], (1, 2), (5, 4, 3), np.int32),
        2,
        1,
        1,
        dtype_fixed=True,
    ),
    _C("x16", lambda c: c.grid(np.float16, (1, 1), _F16_PLANE[c.nd]), keep=True),
    _C(
        "float16 plane larger than 2048 (indices beyond float16's exact integers)",
        _kept("x16"),
        2,
        2,
        dtype_fixed=True,
    ),
    _C(
        "float16 large plane, overlapping windows, padding", _kept("x16"), 3, 2, 1, dtype_fixed=True
    ),
    *(
        _C(f"{t} plane larger than 256", _byte_plane(t), 2, 1, dtype_fixed=True)
        for t in ("int8", "uint8")
    ),
    # --- everything at once
    _C(
        "everything at once (ties, NaN, -inf, padding, dilation, ceil_mode)",
        _everything,
        (3, 2, 3),
        (2, 1, 2),
        (1, 1, 0),
        (1, 2, 1),
        True,
        layout="transposed",
        need_float=True,
    ),
)


def corner_cases(
    nd: int, support: Support | None = None, behaviour: Behaviour | None = None
) -> list[tuple[str, PoolCase]]:
    """The fixed corner cases run before the Hypothesis search, smallest first.

    Parameters
    ----------
    nd : {1, 2, 3}
        Spatial rank of the cases.
    support : Support, optional
        What the candidate supports; cases outside it are dropped, and a case's dtype is
        replaced by a supported one where the point of the case allows it. Default: everything.
    behaviour : Behaviour, optional
        The candidate's rules; cases holding NaN are dropped for ``nan="untested"``.

    Returns
    -------
    list of (str, PoolCase)
        The :data:`TINY` rows of rank ``nd``, then the :data:`CATALOGUE`, named.
    """
    support = support or Support()
    behaviour = behaviour or Behaviour()
    out: list[tuple[str, PoolCase]] = []
    for name, row in TINY:
        if row.nd == nd and not (behaviour.nan == "untested" and np.isnan(row.x).any()):
            fixed = row.x.dtype not in (np.float64, np.float32)
            _add(
                out, support, name, row.x, tuple(row[1:]), "C", need_float=False, dtype_fixed=fixed
            )
    draw = _Draw(nd, behaviour)
    for c in CATALOGUE:
        if (c.when == "nd > 1" and nd == 1) or (c.when == "nan" and behaviour.nan == "untested"):
            continue
        x = c.x(draw)
        if c.keep:
            draw.kept[c.name] = x
            continue
        k = _per_dim(nd, c.k)
        s = k if c.s is None else _per_dim(nd, c.s)
        geometry = (k, s, _per_dim(nd, c.p), _per_dim(nd, c.d), c.ceil)
        _add(
            out,
            support,
            c.name,
            x,
            geometry,
            c.layout,
            need_float=c.need_float,
            dtype_fixed=c.dtype_fixed,
        )
    return out


def _fresh(x: np.ndarray) -> np.ndarray:
    """A copy of ``x`` with the same strides (negative ones included), so that a candidate that
    writes to its input cannot change the catalogue (:data:`TINY` rows are module globals)."""
    flips = tuple(slice(None, None, -1) if step < 0 else slice(None) for step in x.strides)
    return np.array(x[flips], order="K", copy=True)[flips]


def _supported_dtype(
    x: np.ndarray, support: Support, need_float: bool, dtype_fixed: bool
) -> np.ndarray | None:
    """``x``, or ``x`` in a supported dtype that keeps the point of the case, or None."""
    if x.dtype.name in support.dtypes:
        return x
    if dtype_fixed:
        return None
    if need_float or x.dtype.kind == "f":
        floats = [d for d in ("float32", "float64", "float16") if d in support.dtypes]
        return x.astype(floats[0]) if floats else None
    ints = [
        t for t in ("int32", "int64", "int16", "float64", "float32", "int8") if t in support.dtypes
    ]
    if not ints:
        return None
    new = x.astype(ints[0])
    return new if np.array_equal(new.astype(np.float64), x.astype(np.float64)) else None


def _add(
    out: list[tuple[str, PoolCase]],
    support: Support,
    name: str,
    x: np.ndarray,
    geometry: tuple,
    layout: str,
    *,
    need_float: bool,
    dtype_fixed: bool,
) -> None:
    """Append ``(name, case)`` to ``out`` if the case, moved into ``support``, is inside it.

    ``geometry`` is ``(kernel_size, stride, padding, dilation, ceil_mode)``, tuples of the rank.
    """
    typed = _supported_dtype(_fresh(np.asarray(x)), support, need_float, dtype_fixed)
    moved = None if typed is None else _into_domain(typed, support.values)
    if moved is None:
        return
    x = moved
    k, s, p, d, ceil = geometry
    if layout != "C":
        x = with_layout(x, layout, channel_axis=1 if x.ndim == len(k) + 2 else 0)
    if _valid_call(x, k, s, p, d, ceil) and support.allows(x, k, s, p, d, ceil):
        out.append((name, PoolCase(x, k, s, p, d, ceil)))


def _valid_call(x, k, s, p, d, ceil) -> bool:
    nd = len(k)
    if x.ndim not in (nd + 1, nd + 2):
        return False
    try:
        params = _params.normalize_pool_args(nd, k, s, p, d, ceil, func="corner")
    except (TypeError, ValueError):
        return False
    return min(output_shape(x.shape[-nd:], params)) >= 1

"""Hypothesis strategies for max-pooling inputs and parameters.

Public API for users who test their own pooling code against poolref, and
for :mod:`poolref.testing`. Hypothesis is an optional dependency
(``pip install poolref[strategies]``); only this module (with its argument
checks in ``poolref._strategy_args``) and ``poolref.testing`` import it.
Importing it registers :func:`pool_cases` for ``st.from_type(PoolCase)``.

* :func:`pool_params` draws valid pooling parameters for one rank.
* :func:`dtypes` draws one of the forward dtypes.
* :func:`values` gives element strategies for a value *profile* (ties, NaN, ...).
* :func:`pool_cases` draws a complete :class:`PoolCase`: an input array plus
  parameters for which the call is valid.

Everything is constructive: parameters are drawn first and the spatial sizes
are then drawn from the range for which every output size is at least 1, so
no example is ever filtered out. Arrays are small (sides <= 8, about 512
elements by default) and dense: every element is drawn.

Examples
--------
>>> from hypothesis import given
>>> import poolref
>>> from poolref.strategies import pool_cases
>>> @given(pool_cases(ndims=(2,), profiles=("ties",)))
... def test_values_are_gathered_at_indices(case):
...     y, idx = poolref.naive.max_pool2d(case.x, **case.kwargs(), return_indices=True)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra import numpy as hnp
from numpy.typing import DTypeLike

from . import _strategy_args as _args
from ._adaptive_strategies import AdaptiveCase, adaptive_cases
from ._fractional_strategies import FractionalCase, fractional_cases
from ._strategy_args import DOMAINS, PROFILES, profiles_for
from .arrays import (
    LAYOUTS,
    PoolCase,
    _exact_int_limit,
    array_source,
    distinct_grid,
    layout_name,
    with_layout,
)

__all__ = [
    "AdaptiveCase",
    "LAYOUTS",
    "DOMAINS",
    "FractionalCase",
    "PROFILES",
    "PoolCase",
    "adaptive_cases",
    "array_source",
    "distinct_grid",
    "dtypes",
    "fractional_cases",
    "layout_name",
    "pool_cases",
    "pool_params",
    "profiles_for",
    "values",
    "with_layout",
]


def _params_strategy(
    nd,
    *,
    max_kernel,
    max_stride,
    max_dilation,
    padding,
    dilation,
    ceil_mode,
    max_extent=None,
    square=False,
    same_stride=False,
):
    """Parameters whose minimal input length (floor mode) is at most ``max_extent``.

    ``square`` repeats the first dimension's kernel size and stride in every
    dimension; ``same_stride`` only its stride.
    """

    @st.composite
    def draw_params(draw):
        ks, ss, ps, ds = [], [], [], []
        for i in range(nd):
            k_hi = max_kernel if padding or max_extent is None else min(max_kernel, max_extent)
            k = ks[0] if square and i else draw(st.integers(1, k_hi))
            s = ss[0] if (square or same_stride) and i else draw(st.integers(1, max_stride))
            if padding:
                p_lo = 0 if max_extent is None else max(0, -(-(k - max_extent) // 2))
                p = draw(st.integers(p_lo, k // 2))
            else:
                p = 0
            if dilation and k > 1:
                d_hi = max_dilation
                if max_extent is not None:
                    d_hi = min(d_hi, (max_extent + 2 * p - 1) // (k - 1))
                d = draw(st.integers(1, d_hi))
            elif dilation:
                d = draw(st.integers(1, max_dilation))
            else:
                d = 1
            ks.append(k)
            ss.append(s)
            ps.append(p)
            ds.append(d)
        ceil = draw(st.booleans()) if ceil_mode is None else ceil_mode
        return {
            "kernel_size": tuple(ks),
            "stride": tuple(ss),
            "padding": tuple(ps),
            "dilation": tuple(ds),
            "ceil_mode": ceil,
        }

    return draw_params()


def pool_params(
    nd: int,
    *,
    max_kernel: int = 3,
    max_stride: int = 3,
    max_dilation: int = 2,
    padding: bool = True,
    dilation: bool = True,
    ceil_mode: bool | None = None,
    square: bool = False,
    same_stride: bool = False,
) -> st.SearchStrategy[dict[str, Any]]:
    """Strategy for valid pooling parameters of one rank.

    Parameters
    ----------
    nd : {1, 2, 3}
        Number of spatial dimensions; every tuple has ``nd`` entries.
    max_kernel, max_stride, max_dilation : int, optional
        Upper bounds (inclusive, >= 1) for ``kernel_size``, ``stride`` and
        ``dilation`` in each dimension.
    padding : bool, optional
        If False, ``padding`` is always 0. Otherwise it is drawn from
        ``0 .. kernel_size // 2`` per dimension, which is always valid.
    dilation : bool, optional
        If False, ``dilation`` is always 1.
    ceil_mode : bool or None, optional
        Fixed ``ceil_mode``, or None (default) to draw both.
    square : bool, optional
        If True, ``kernel_size`` and ``stride`` are the same in every dimension.
    same_stride : bool, optional
        If True, ``stride`` is the same in every dimension (kernels may differ).

    Returns
    -------
    SearchStrategy[dict]
        Dicts with the keys ``kernel_size``, ``stride``, ``padding``,
        ``dilation`` (``nd``-tuples of ints) and ``ceil_mode`` (bool), ready
        to be passed as ``**kwargs`` to ``max_pool{nd}d``.

    Raises
    ------
    hypothesis.errors.InvalidArgument
        ``nd`` not in 1..3, a bound below 1, or a non-bool flag.

    Notes
    -----
    Examples shrink towards ``kernel_size=1``, ``stride=1``, ``padding=0``,
    ``dilation=1`` and ``ceil_mode=False``, one dimension at a time.
    """
    args = dict(locals())  # first statement: exactly the keywords, by name
    nd = _args.check_nd(nd, "nd")
    bounds = {
        name: _args.check_int(args[name], name, 1)
        for name in ("max_kernel", "max_stride", "max_dilation")
    }
    for name in ("padding", "dilation", "square", "same_stride"):
        _args.check_flag(args[name], name)
    _args.check_bool_or_none(ceil_mode, "ceil_mode")
    inner = _params_strategy(
        nd,
        **bounds,
        padding=padding,
        dilation=dilation,
        ceil_mode=ceil_mode,
        square=square,
        same_stride=same_stride,
    )
    return _args.Named(inner, _args.call_text(pool_params, args))


def dtypes(*, floats: bool = True, ints: bool = True) -> st.SearchStrategy[np.dtype]:
    """Strategy for one of poolref's forward dtypes.

    Parameters
    ----------
    floats : bool, optional
        Include float16, float32 and float64.
    ints : bool, optional
        Include int8, int16, int32, int64 and uint8.

    Returns
    -------
    SearchStrategy[numpy.dtype]
        Examples shrink towards float64 (or int64 when ``floats=False``).

    Raises
    ------
    hypothesis.errors.InvalidArgument
        If both ``floats`` and ``ints`` are False.
    """
    _args.check_flag(floats, "floats")
    _args.check_flag(ints, "ints")
    if not (floats or ints):
        msg = "floats=False and ints=False leave no dtype to draw"
        raise InvalidArgument(msg)
    chosen = [
        t for t in _args.DTYPE_ORDER if (t.kind == "f" and floats) or (t.kind in "iu" and ints)
    ]
    return st.sampled_from(chosen)


def values(
    dtype: DTypeLike, *, profile: str = "general", domain: str = "any"
) -> st.SearchStrategy[int | float]:
    """Element strategy for one value profile of ``dtype``, within a value domain.

    Parameters
    ----------
    dtype : dtype-like
        One of the forward dtypes (float16/32/64, int8/16/32/64, uint8).
    profile : str, optional
        ``"distinct"``
            Integer values in a range wide enough for unique arrays (use with
            ``unique=True``; :func:`pool_cases` instead permutes a grid).
        ``"ties"``
            Small integers (-2..2, or 0..3 for uint8): many ties per window.
        ``"nan"``
            NaN mixed with small integers and ``-inf`` (floats only).
        ``"inf"``
            ``+inf`` and ``-inf`` mixed with small integers (floats only).
        ``"signed_zero"``
            ``-0.0``, ``+0.0`` and ``-1.0`` (floats only).
        ``"negative"``
            Only negative values, down to the dtype's lowest (``-inf`` and the
            most negative finite float, ``iinfo.min``): windows next to the
            padding, where a wrong padding value (0, a finite minimum) shows.
        ``"general"``
            Any value of the dtype, including NaN, infinities, subnormals and
            the extreme integers.
    domain : {"any", "finite", "nonnegative", "positive"}, optional
        Only values in this domain (see :data:`DOMAINS`): ``"finite"`` drops
        NaN and the infinities, ``"nonnegative"`` keeps values ``>= 0``
        (``-0.0`` included), ``"positive"`` values ``> 0``. Profiles that
        cannot produce such values are rejected (see :func:`profiles_for`).

    Returns
    -------
    SearchStrategy
        Python ints or floats that ``dtype`` represents exactly. Examples
        shrink towards 0 for ``"distinct"`` and ``"general"``, and towards
        the first value of the profile otherwise: -2 (0 for uint8) for
        ``"ties"``, NaN for ``"nan"``, ``-inf`` for ``"inf"``, ``-0.0`` for
        ``"signed_zero"``, -1 for ``"negative"``.

    Raises
    ------
    hypothesis.errors.InvalidArgument
        Unknown dtype or profile, or a profile that ``dtype`` cannot hold
        (see :func:`profiles_for`).
    """
    dtype = _args.check_dtype(dtype, "dtype")
    if profile not in PROFILES:
        msg = f"profile={profile!r} is not one of {PROFILES!r}"
        raise InvalidArgument(msg)
    possible = profiles_for(dtype, domain)
    if profile not in possible:
        msg = (
            f"profile={profile!r} is impossible for dtype={dtype} in domain={domain!r} "
            f"(possible: {possible!r})"
        )
        raise InvalidArgument(msg)
    is_float = dtype.kind == "f"
    as_dtype = float if is_float else int
    low = {"nonnegative": 0, "positive": 1}.get(domain)
    # sampled_from and plain integers: one choice per element, the cheapest draws.
    if profile == "distinct":
        limit = min(_exact_int_limit(dtype), 2**20)
        lo = 0 if dtype.kind == "u" else -limit
        return st.integers(lo if low is None else low, limit)  # exact in every dtype here
    if profile == "ties":
        small = range(4) if dtype.kind == "u" or low == 0 else range(-2, 3)
        small = range(1, 5) if low == 1 else small
        return st.sampled_from([as_dtype(v) for v in small])
    if profile == "nan":
        return st.sampled_from([math.nan, math.nan, -2.0, -1.0, 0.0, 1.0, 2.0, -math.inf])
    if profile == "inf":
        return st.sampled_from([-math.inf, math.inf, -2.0, -1.0, 0.0, 1.0, 2.0])
    if profile == "signed_zero":
        return st.sampled_from([-0.0, 0.0, 1.0] if low == 0 else [-0.0, 0.0, -1.0])
    if profile == "negative":
        if is_float:
            lowest_values = [-math.inf] if domain == "any" else []
            return st.sampled_from([-1.0, -2.0, -3.0, *lowest_values, float(np.finfo(dtype).min)])
        lo = int(np.iinfo(dtype).min)
        return st.sampled_from([-1, -2, -3, lo, lo + 1, lo + 2])
    # general
    if is_float:
        if domain == "any":
            return hnp.from_dtype(dtype)
        bounds: dict[str, Any] = {} if low is None else {"min_value": 0.0, "exclude_min": low == 1}
        return hnp.from_dtype(dtype, allow_nan=False, allow_infinity=False, **bounds)
    info = np.iinfo(dtype)
    return st.integers(int(info.min) if low is None else max(int(info.min), low), int(info.max))


def _arrays(dtype: np.dtype, shape: tuple[int, ...], profile: str, domain: str = "any"):
    """Dense arrays: every element drawn (never one repeated fill value)."""
    size = math.prod(shape)
    if profile == "distinct":
        grid = distinct_grid(dtype, size, domain=domain)
        return st.permutations(range(size)).map(
            lambda perm: grid[np.asarray(perm, dtype=np.intp)].reshape(shape)
        )
    elements = _cached_values(dtype, profile, domain)
    return hnp.arrays(dtype, shape, elements=elements, fill=st.nothing())


@functools.cache
def _cached_values(dtype: np.dtype, profile: str, domain: str):
    return values(dtype, profile=profile, domain=domain)


def pool_cases(
    *,
    ndims: int | Sequence[int] = (1, 2, 3),
    dtypes: DTypeLike | Sequence[DTypeLike] | None = None,
    profiles: str | Sequence[str] | None = None,
    layouts: str | Sequence[str] | None = None,
    batched: bool | None = None,
    padding: bool = True,
    dilation: bool = True,
    ceil_mode: bool | None = None,
    min_side: int = 1,
    max_side: int = 8,
    max_batch: int = 3,
    max_channels: int = 3,
    max_kernel: int = 3,
    max_stride: int = 3,
    max_dilation: int = 2,
    min_batch: int = 1,
    max_elements: int = 512,
    square: bool = False,
    same_stride: bool = False,
    exact_fit: bool = False,
    domain: str = "any",
) -> st.SearchStrategy[PoolCase]:
    """Strategy for complete, valid pooling calls (:class:`PoolCase`).

    Parameters
    ----------
    ndims : int or sequence of {1, 2, 3}, optional
        Spatial ranks to draw from.
    dtypes : dtype-like or sequence, optional
        Input dtypes to draw from; None (default) means every forward dtype.
    profiles : str or sequence of str, optional
        Value profiles (see :func:`values`); None (default) means every
        profile that the drawn dtype can hold. ``"distinct"`` arrays are a
        random permutation of :func:`distinct_grid`, so no two elements are
        equal (8-bit integers have only 256 values, so their arrays are kept to
        256 elements unless ``min_side`` needs more) and, for floats,
        neighbouring values differ by 1 (much more than a finite-difference
        step). A dtype for which none of the profiles applies is not drawn.
    layouts : str or sequence of str, optional
        Memory layouts (see :data:`LAYOUTS`); None (default) means all.
    batched : bool or None, optional
        ``(N, C, *spatial)`` input (True), unbatched ``(C, *spatial)``
        (False), or both (None, default).
    padding, dilation : bool, optional
        If False, ``padding`` is 0 / ``dilation`` is 1 everywhere.
    ceil_mode : bool or None, optional
        Fixed ``ceil_mode`` or None (default) for both.
    min_side, max_side : int, optional
        Bounds on every spatial size. The actual lower bound is the larger of
        ``min_side`` and the smallest size with at least one output
        (``eff - 2 * padding``, and ``stride - 1`` less in ceil mode, where
        ``eff = dilation * (kernel_size - 1) + 1``); kernels and dilations
        are drawn small enough for that to be at most ``max_side`` (and at
        most ``max_elements ** (1 / nd)``).
    max_batch, max_channels : int, optional
        Upper bounds for ``N`` (batched only) and ``C``.
    max_kernel, max_stride, max_dilation : int, optional
        As in :func:`pool_params`.
    min_batch : int, optional
        Lower bound for ``N`` (0 allows empty batches).
    max_elements : int, optional
        Budget for ``x.size``: sides, channels and batch are drawn in that
        order, each bounded by what the budget leaves.
    square, same_stride : bool, optional
        As in :func:`pool_params`: one kernel size and stride (``square``) or
        one stride (``same_stride``) for every dimension.
    exact_fit : bool, optional
        If True, every side is one the windows tile exactly,
        ``(L + 2p - eff) % stride == 0`` (so ``ceil_mode`` changes nothing):
        drawn as ``L = (O - 1) * stride + eff - 2p``, never filtered.
    domain : {"any", "finite", "nonnegative", "positive"}, optional
        Value domain of every element (see :data:`DOMAINS` and :func:`values`);
        profiles that cannot produce such values are not drawn.

    Returns
    -------
    SearchStrategy[PoolCase]
        Examples shrink towards 1-D, float64, the first profile, the first
        layout (``"C"``), batched input, ``kernel_size=stride=dilation=1``,
        ``padding=0``, ``ceil_mode=False``, the smallest valid sides,
        ``N = C = 1`` and the first value of each profile.

    Raises
    ------
    hypothesis.errors.InvalidArgument
        A bound of the wrong type or below its minimum, ``min_side >
        max_side``, an unknown dtype/profile/layout, no dtype that any
        requested profile applies to, or ``min_side ** nd > max_elements``.
    """
    args = dict(locals())  # first statement: exactly the keywords, by name
    plan = _args.case_plan(args)
    # Built once: building a composite strategy inside every draw is slow.
    params_strategies = {
        key: _params_strategy(key[0], max_extent=extent, **plan.params)
        for key, (extent, _) in plan.budgets.items()
    }
    return _args.Named(_draw_case(plan, params_strategies), _args.call_text(pool_cases, args))


@st.composite
def _draw_case(draw: st.DrawFn, plan: _args.CasePlan, params_strategies: dict) -> PoolCase:
    """One case: rank, dtype, profile, layout and batching, then parameters, sizes and values."""
    nd = draw(st.sampled_from(plan.ndims))
    dtype = draw(st.sampled_from(plan.dtypes))
    profile = draw(st.sampled_from(plan.dtype_profiles[dtype]))
    layout = draw(st.sampled_from(plan.layouts))
    is_batched = draw(st.sampled_from(plan.batched))
    key = (nd, profile == "distinct" and dtype.itemsize == 1)
    params = draw(params_strategies[key])
    budget = plan.budgets[key][1]
    dims = list(zip(params["kernel_size"], params["stride"], params["padding"], params["dilation"]))
    lows = [max(plan.min_side, _args.min_length(*dim, params["ceil_mode"])) for dim in dims]
    if plan.exact_fit:
        lows = [_args.fitting_length(low, *dim) for low, dim in zip(lows, dims)]
    sides: list[int] = []
    for i in range(nd):
        room = budget // (math.prod(sides) * math.prod(lows[i + 1 :]))
        high = max(lows[i], min(plan.max_side, room))
        if plan.exact_fit:
            s = dims[i][1]
            sides.append(lows[i] + s * draw(st.integers(0, (high - lows[i]) // s)))
        else:
            sides.append(draw(st.integers(lows[i], high)))
    plane = math.prod(sides)
    channels = draw(st.integers(1, max(1, min(plan.max_channels, budget // plane))))
    lead: tuple[int, ...] = (channels,)
    if is_batched:
        n_hi = min(plan.max_batch, budget // (plane * channels))
        lead = (draw(st.integers(plan.min_batch, max(plan.min_batch, n_hi))), channels)
    x = draw(_arrays(dtype, (*lead, *sides), profile, plan.domain))
    return PoolCase(with_layout(x, layout, channel_axis=len(lead) - 1), **params)


st.register_type_strategy(PoolCase, pool_cases())

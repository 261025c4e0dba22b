"""Hypothesis strategies for max-pooling inputs and parameters.

Public API for users who test their own pooling code against poolref, and
for :mod:`poolref.testing`. Hypothesis is an optional dependency
(``pip install poolref[strategies]``); this module (and ``poolref.testing``)
is the only one that imports it.

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
import operator
from collections.abc import Sequence

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra import numpy as hnp

from ._params import FORWARD_DTYPES
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
    "LAYOUTS",
    "DOMAINS",
    "PROFILES",
    "PoolCase",
    "array_source",
    "distinct_grid",
    "dtypes",
    "layout_name",
    "pool_cases",
    "pool_params",
    "profiles_for",
    "values",
    "with_layout",
]

#: Value profiles understood by :func:`values` and :func:`pool_cases`.
PROFILES = ("distinct", "ties", "nan", "inf", "signed_zero", "negative", "general")

#: Value domains understood by :func:`values` and :func:`pool_cases`: every value of the
#: dtype, finite values only (no NaN or infinity), values >= 0, or values > 0.
DOMAINS = ("any", "finite", "nonnegative", "positive")

# The profiles that can produce a value inside each domain (the others are never drawn there).
_DOMAIN_PROFILES = {
    "any": PROFILES,
    "finite": ("distinct", "ties", "signed_zero", "negative", "general"),
    "nonnegative": ("distinct", "ties", "signed_zero", "general"),
    "positive": ("distinct", "ties", "general"),
}

# Shrinking goes towards the first entry of each of these.
_DTYPE_ORDER = tuple(
    np.dtype(t) for t in ("float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8")
)
assert set(_DTYPE_ORDER) == set(FORWARD_DTYPES)



# ----------------------------------------------------------------------------
# PoolCase
# ----------------------------------------------------------------------------



# ----------------------------------------------------------------------------
# Argument validation helpers
# ----------------------------------------------------------------------------


def _check_int(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        msg = f"Expected an int but got {name}={value!r} (type={type(value).__name__})"
        raise InvalidArgument(msg)
    if value < minimum:
        msg = f"{name}={value!r} must be at least {minimum}"
        raise InvalidArgument(msg)
    return operator.index(value)


def _check_bool_or_none(value, name: str):
    if value is not None and not isinstance(value, bool):
        msg = f"Expected None, True or False but got {name}={value!r} (type={type(value).__name__})"
        raise InvalidArgument(msg)
    return value


def _as_choices(value, name: str, allowed: Sequence, *, convert=lambda v: v) -> tuple:
    """A non-empty tuple of unique allowed values from one value or a sequence."""
    if isinstance(value, (str, int, np.dtype, type)) or not isinstance(value, Sequence):
        value = (value,)
    try:
        items = tuple(convert(v) for v in value)
    except TypeError as exc:
        msg = f"Cannot interpret {name}={value!r}: {exc}"
        raise InvalidArgument(msg) from None
    if not items:
        msg = f"{name}={value!r} must not be empty"
        raise InvalidArgument(msg)
    for item in items:
        if item not in allowed:
            msg = f"{name}={value!r} contains {item!r}, which is not one of {tuple(allowed)!r}"
            raise InvalidArgument(msg)
    return tuple(dict.fromkeys(items))


def _forward_dtype(value) -> np.dtype:
    try:
        return np.dtype(value)
    except TypeError as exc:
        msg = f"not a dtype: {value!r}"
        raise TypeError(msg) from exc


# ----------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------


def _min_length(k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """Smallest input length with at least one output (PyTorch's rule, stated directly).

    Floor mode needs the effective window inside the padded input:
    ``L + 2p >= eff``. Ceil mode also accepts a first window that hangs over
    the end by up to ``s - 1`` (it starts at ``-p``, inside the input or the
    left padding, so the ceil correction never removes it).
    """
    eff = d * (k - 1) + 1
    shortfall = s - 1 if ceil_mode else 0
    return max(1, eff - 2 * p - shortfall)


def _fitting_length(low: int, k: int, s: int, p: int, d: int) -> int:
    """Smallest length ``>= low`` that the windows tile exactly: ``(L + 2p - eff) % s == 0``."""
    eff = d * (k - 1) + 1
    return low + (-(low + 2 * p - eff)) % s


def _integer_root(value: int, n: int) -> int:
    """Largest ``r`` with ``r**n <= value``."""
    r = int(round(value ** (1 / n)))
    while r**n > value:
        r -= 1
    while (r + 1) ** n <= value:
        r += 1
    return r


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
):
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
    nd = _check_nd(nd, "nd")
    max_kernel = _check_int(max_kernel, "max_kernel", 1)
    max_stride = _check_int(max_stride, "max_stride", 1)
    max_dilation = _check_int(max_dilation, "max_dilation", 1)
    _check_flag(padding, "padding")
    _check_flag(dilation, "dilation")
    _check_bool_or_none(ceil_mode, "ceil_mode")
    _check_flag(square, "square")
    _check_flag(same_stride, "same_stride")
    return _params_strategy(
        nd,
        max_kernel=max_kernel,
        max_stride=max_stride,
        max_dilation=max_dilation,
        padding=padding,
        dilation=dilation,
        ceil_mode=ceil_mode,
        square=square,
        same_stride=same_stride,
    )


def _check_nd(nd, name: str) -> int:
    nd = _check_int(nd, name, 1)
    if nd > 3:
        msg = f"{name}={nd!r} must be 1, 2 or 3"
        raise InvalidArgument(msg)
    return nd


def _check_flag(value, name: str) -> bool:
    if not isinstance(value, bool):
        msg = f"Expected True or False but got {name}={value!r} (type={type(value).__name__})"
        raise InvalidArgument(msg)
    return value


# ----------------------------------------------------------------------------
# dtypes and values
# ----------------------------------------------------------------------------


def dtypes(*, floats: bool = True, ints: bool = True):
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
    _check_flag(floats, "floats")
    _check_flag(ints, "ints")
    if not (floats or ints):
        msg = "floats=False and ints=False leave no dtype to draw"
        raise InvalidArgument(msg)
    chosen = [t for t in _DTYPE_ORDER if (t.kind == "f" and floats) or (t.kind in "iu" and ints)]
    return st.sampled_from(chosen)



def profiles_for(dtype, domain: str = "any") -> tuple[str, ...]:
    """The value profiles that make sense for ``dtype`` within ``domain`` (see :data:`DOMAINS`).

    NaN, infinities and -0.0 need floats; unsigned integers have no negative values.
    """
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        usable = PROFILES
    elif dtype.kind == "u":
        usable = ("distinct", "ties", "general")
    else:
        usable = ("distinct", "ties", "negative", "general")
    return tuple(p for p in usable if p in _DOMAIN_PROFILES[_check_domain(domain)])


def _check_domain(domain) -> str:
    if domain not in DOMAINS:
        msg = f"domain={domain!r} is not one of {DOMAINS!r}"
        raise InvalidArgument(msg)
    return domain


def values(dtype, *, profile: str = "general", domain: str = "any"):
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
    dtype = _check_dtype(dtype, "dtype")
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
        small = range(0, 4) if dtype.kind == "u" or low == 0 else range(-2, 3)
        small = range(1, 5) if low == 1 else small
        return st.sampled_from([as_dtype(v) for v in small])
    if profile == "nan":
        return st.sampled_from([math.nan, -2.0, -1.0, 0.0, 1.0, 2.0, -math.inf])
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
        bounds = {} if low is None else {"min_value": 0.0, "exclude_min": low == 1}
        return hnp.from_dtype(dtype, allow_nan=False, allow_infinity=False, **bounds)
    info = np.iinfo(dtype)
    return st.integers(int(info.min) if low is None else max(int(info.min), low), int(info.max))


def _check_dtype(value, name: str) -> np.dtype:
    try:
        dtype = np.dtype(value)
    except TypeError:
        msg = f"{name}={value!r} is not a dtype"
        raise InvalidArgument(msg) from None
    if dtype not in FORWARD_DTYPES:
        msg = f"{name}={dtype} is not one of the forward dtypes {tuple(str(t) for t in _DTYPE_ORDER)}"
        raise InvalidArgument(msg)
    return dtype



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


@functools.lru_cache(maxsize=None)
def _cached_values(dtype: np.dtype, profile: str, domain: str):
    return values(dtype, profile=profile, domain=domain)


# ----------------------------------------------------------------------------
# pool_cases
# ----------------------------------------------------------------------------


def pool_cases(
    *,
    ndims=(1, 2, 3),
    dtypes=None,
    profiles=None,
    layouts=None,
    batched=None,
    padding=True,
    dilation=True,
    ceil_mode=None,
    min_side=1,
    max_side=8,
    max_batch=3,
    max_channels=3,
    max_kernel=3,
    max_stride=3,
    max_dilation=2,
    min_batch=1,
    max_elements=512,
    square=False,
    same_stride=False,
    exact_fit=False,
    domain="any",
):
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
    nd_choices = _as_choices(ndims, "ndims", (1, 2, 3))
    dtype_choices = (
        _DTYPE_ORDER
        if dtypes is None
        else _as_choices(dtypes, "dtypes", FORWARD_DTYPES, convert=_forward_dtype)
    )
    profile_choices = PROFILES if profiles is None else _as_choices(profiles, "profiles", PROFILES)
    layout_choices = LAYOUTS if layouts is None else _as_choices(layouts, "layouts", LAYOUTS)
    _check_bool_or_none(batched, "batched")
    _check_flag(padding, "padding")
    _check_flag(dilation, "dilation")
    _check_bool_or_none(ceil_mode, "ceil_mode")
    min_side = _check_int(min_side, "min_side", 1)
    max_side = _check_int(max_side, "max_side", 1)
    if min_side > max_side:
        msg = f"Cannot have max_side={max_side!r} < min_side={min_side!r}"
        raise InvalidArgument(msg)
    min_batch = _check_int(min_batch, "min_batch", 0)
    max_batch = _check_int(max_batch, "max_batch", 1)
    if min_batch > max_batch:
        msg = f"Cannot have max_batch={max_batch!r} < min_batch={min_batch!r}"
        raise InvalidArgument(msg)
    max_channels = _check_int(max_channels, "max_channels", 1)
    max_kernel = _check_int(max_kernel, "max_kernel", 1)
    max_stride = _check_int(max_stride, "max_stride", 1)
    max_dilation = _check_int(max_dilation, "max_dilation", 1)
    max_elements = _check_int(max_elements, "max_elements", 1)
    for flag, name in ((square, "square"), (same_stride, "same_stride"), (exact_fit, "exact_fit")):
        _check_flag(flag, name)
    domain = _check_domain(domain)

    dtype_profiles = {
        t: tuple(p for p in profile_choices if p in profiles_for(t, domain)) for t in dtype_choices
    }
    usable = tuple(t for t in dtype_choices if dtype_profiles[t])
    if not usable:
        msg = (
            f"profiles={profile_choices!r} apply to none of dtypes="
            f"{tuple(str(t) for t in dtype_choices)!r} in domain={domain!r} "
            "(NaN, inf and signed zeros need floats)"
        )
        raise InvalidArgument(msg)
    # Per rank, the largest side every plane may need: kernels and dilations are drawn
    # so that eff - 2 * padding stays within it, and min_side must fit it too.
    extents = {nd: min(max_side, _integer_root(max_elements, nd)) for nd in nd_choices}
    for nd, extent in extents.items():
        if min_side > extent:
            msg = (
                f"max_elements={max_elements} cannot hold a {nd}-D plane with "
                f"min_side={min_side} ({min_side}**{nd} = {min_side**nd} elements)"
            )
            raise InvalidArgument(msg)
    batched_choices = (True, False) if batched is None else (batched,)
    # 8-bit integers have only 256 distinct values: "distinct" arrays of them get a
    # 256-element budget (and kernels to match) unless min_side forbids it.
    budgets = {(nd, False): (extents[nd], max_elements) for nd in nd_choices}
    for nd in nd_choices:
        small = min(extents[nd], _integer_root(min(256, max_elements), nd))
        budgets[nd, True] = (small, min(256, max_elements)) if min_side <= small else budgets[nd, False]
    # Built once: building a composite strategy inside every draw is slow.
    params_strategies = {
        key: _params_strategy(
            key[0],
            max_kernel=max_kernel,
            max_stride=max_stride,
            max_dilation=max_dilation,
            padding=padding,
            dilation=dilation,
            ceil_mode=ceil_mode,
            max_extent=extent,
            square=square,
            same_stride=same_stride,
        )
        for key, (extent, _) in budgets.items()
    }

    @st.composite
    def draw_case(draw):
        nd = draw(st.sampled_from(nd_choices))
        dtype = draw(st.sampled_from(usable))
        profile = draw(st.sampled_from(dtype_profiles[dtype]))
        layout = draw(st.sampled_from(layout_choices))
        is_batched = draw(st.sampled_from(batched_choices))
        key = (nd, profile == "distinct" and dtype.itemsize == 1)
        params = draw(params_strategies[key])
        budget = budgets[key][1]
        dims = list(
            zip(params["kernel_size"], params["stride"], params["padding"], params["dilation"])
        )
        lows = [max(min_side, _min_length(*dim, params["ceil_mode"])) for dim in dims]
        if exact_fit:
            lows = [_fitting_length(low, *dim) for low, dim in zip(lows, dims)]
        sides: list[int] = []
        for i in range(nd):
            room = budget // (math.prod(sides) * math.prod(lows[i + 1 :]))
            high = max(lows[i], min(max_side, room))
            if exact_fit:
                k, s, p, d = dims[i]
                step = st.integers(0, (high - lows[i]) // s)
                sides.append(lows[i] + s * draw(step))
            else:
                sides.append(draw(st.integers(lows[i], high)))
        plane = math.prod(sides)
        channels = draw(st.integers(1, max(1, min(max_channels, budget // plane))))
        lead: tuple[int, ...] = (channels,)
        if is_batched:
            n_hi = min(max_batch, budget // (plane * channels))
            lead = (draw(st.integers(min_batch, max(min_batch, n_hi))), channels)
        shape = (*lead, *sides)
        x = draw(_arrays(dtype, shape, profile, domain))
        x = with_layout(x, layout, channel_axis=len(lead) - 1)
        return PoolCase(x, **params)

    return draw_case()


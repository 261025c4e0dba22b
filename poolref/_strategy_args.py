"""The arguments of :mod:`poolref.strategies`: value profiles and domains, validation, and the
plan that :func:`poolref.strategies.pool_cases` draws from.

Every check raises Hypothesis' ``InvalidArgument`` naming the argument and its value, when the
strategy is built (before anything is drawn).
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from numpy.typing import DTypeLike

from ._params import FORWARD_DTYPES
from .arrays import LAYOUTS

#: Value profiles understood by :func:`~poolref.strategies.values` and
#: :func:`~poolref.strategies.pool_cases`.
PROFILES = ("distinct", "ties", "nan", "inf", "signed_zero", "negative", "general")

#: Value domains understood by :func:`~poolref.strategies.values` and
#: :func:`~poolref.strategies.pool_cases`: every value of the dtype, finite values only (no NaN
#: or infinity), values >= 0, or values > 0.
DOMAINS = ("any", "finite", "nonnegative", "positive")

# The profiles that can produce a value inside each domain (the others are never drawn there).
_DOMAIN_PROFILES = {
    "any": PROFILES,
    "finite": ("distinct", "ties", "signed_zero", "negative", "general"),
    "nonnegative": ("distinct", "ties", "signed_zero", "general"),
    "positive": ("distinct", "ties", "general"),
}

# Shrinking goes towards the first entry of each of these.
DTYPE_ORDER = tuple(
    np.dtype(t)
    for t in ("float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8")
)
assert set(DTYPE_ORDER) == set(FORWARD_DTYPES)


def profiles_for(dtype: DTypeLike, domain: str = "any") -> tuple[str, ...]:
    """The value profiles that make sense for a dtype within a value domain.

    NaN, infinities and -0.0 need floats; unsigned integers have no negative values.

    Parameters
    ----------
    dtype : dtype-like
        One of the forward dtypes.
    domain : {"any", "finite", "nonnegative", "positive"}, optional
        The value domain (see :data:`DOMAINS`).

    Returns
    -------
    tuple of str
        The usable entries of :data:`PROFILES`, in that order.
    """
    dtype = np.dtype(dtype)
    usable: tuple[str, ...]
    if dtype.kind == "f":
        usable = PROFILES
    elif dtype.kind == "u":
        usable = ("distinct", "ties", "general")
    else:
        usable = ("distinct", "ties", "negative", "general")
    return tuple(p for p in usable if p in _DOMAIN_PROFILES[check_domain(domain)])


def _type_error(name: str, value: Any, expected: str) -> InvalidArgument:
    return InvalidArgument(
        f"Expected {expected} but got {name}={value!r} (type={type(value).__name__})"
    )


def check_int(value: Any, name: str, minimum: int) -> int:
    """``value`` as an int, if it is one (not a bool) and at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise _type_error(name, value, "an int")
    if value < minimum:
        msg = f"{name}={value!r} must be at least {minimum}"
        raise InvalidArgument(msg)
    return operator.index(value)


def check_nd(nd: Any, name: str) -> int:
    """A spatial rank: 1, 2 or 3."""
    nd = check_int(nd, name, 1)
    if nd > 3:
        msg = f"{name}={nd!r} must be 1, 2 or 3"
        raise InvalidArgument(msg)
    return nd


def check_flag(value: Any, name: str) -> bool:
    """``value``, if it is True or False."""
    if not isinstance(value, bool):
        raise _type_error(name, value, "True or False")
    return value


def check_bool_or_none(value: Any, name: str) -> bool | None:
    """``value``, if it is None, True or False."""
    if value is not None and not isinstance(value, bool):
        raise _type_error(name, value, "None, True or False")
    return value


def check_domain(domain: Any) -> str:
    """``domain``, if it is one of :data:`DOMAINS`."""
    if domain not in DOMAINS:
        msg = f"domain={domain!r} is not one of {DOMAINS!r}"
        raise InvalidArgument(msg)
    return domain


def check_dtype(value: Any, name: str) -> np.dtype:
    """``value`` as one of the forward dtypes."""
    try:
        dtype = np.dtype(value)
    except TypeError:
        msg = f"{name}={value!r} is not a dtype"
        raise InvalidArgument(msg) from None
    if dtype not in FORWARD_DTYPES:
        msg = (
            f"{name}={dtype} is not one of the forward dtypes {tuple(str(t) for t in DTYPE_ORDER)}"
        )
        raise InvalidArgument(msg)
    return dtype


def _forward_dtype(value: Any) -> np.dtype:
    try:
        return np.dtype(value)
    except TypeError as exc:
        msg = f"not a dtype: {value!r}"
        raise TypeError(msg) from exc


def as_choices(
    value: Any, name: str, allowed: Sequence, *, convert: Callable = lambda v: v
) -> tuple:
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


def min_length(k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """Smallest input length with at least one output (PyTorch's rule, stated directly).

    Floor mode needs the effective window inside the padded input:
    ``L + 2p >= eff``. Ceil mode also accepts a first window that hangs over
    the end by up to ``s - 1`` (it starts at ``-p``, inside the input or the
    left padding, so the ceil correction never removes it).
    """
    eff = d * (k - 1) + 1
    shortfall = s - 1 if ceil_mode else 0
    return max(1, eff - 2 * p - shortfall)


def fitting_length(low: int, k: int, s: int, p: int, d: int) -> int:
    """Smallest length ``>= low`` that the windows tile exactly: ``(L + 2p - eff) % s == 0``."""
    eff = d * (k - 1) + 1
    return low + (-(low + 2 * p - eff)) % s


def integer_root(value: int, n: int) -> int:
    """Largest ``r`` with ``r**n <= value``."""
    r = int(round(value ** (1 / n)))
    while r**n > value:
        r -= 1
    while (r + 1) ** n <= value:
        r += 1
    return r


@dataclass(frozen=True)
class CasePlan:
    """The validated arguments of ``pool_cases`` and what follows from them.

    ``budgets[nd, small]`` is ``(extent, elements)``: the largest side a plane may need and the
    element budget, for ``small`` (a ``"distinct"`` array of an 8-bit dtype, which has only 256
    values) or not.
    """

    ndims: tuple[int, ...]
    dtypes: tuple[np.dtype, ...]  # only those some requested profile applies to
    dtype_profiles: dict[np.dtype, tuple[str, ...]]
    layouts: tuple[str, ...]
    batched: tuple[bool, ...]
    min_side: int
    max_side: int
    min_batch: int
    max_batch: int
    max_channels: int
    exact_fit: bool
    domain: str
    budgets: dict[tuple[int, bool], tuple[int, int]]
    params: dict[str, Any]  # the keywords of the parameter strategy, max_extent aside


def case_plan(args: dict[str, Any]) -> CasePlan:
    """Validate the keywords of ``pool_cases`` (all of them, by name) and plan the draws."""
    a = dict(args)
    ndims = as_choices(a["ndims"], "ndims", (1, 2, 3))
    if a["dtypes"] is None:
        dtypes = DTYPE_ORDER
    else:
        dtypes = as_choices(a["dtypes"], "dtypes", FORWARD_DTYPES, convert=_forward_dtype)
    profiles = (
        PROFILES if a["profiles"] is None else as_choices(a["profiles"], "profiles", PROFILES)
    )
    layouts = LAYOUTS if a["layouts"] is None else as_choices(a["layouts"], "layouts", LAYOUTS)
    for name in ("batched", "ceil_mode"):
        check_bool_or_none(a[name], name)
    for name in ("padding", "dilation", "square", "same_stride", "exact_fit"):
        check_flag(a[name], name)
    for name, minimum in (("min_side", 1), ("max_side", 1), ("min_batch", 0), ("max_batch", 1)):
        a[name] = check_int(a[name], name, minimum)
    for low, high in (("min_side", "max_side"), ("min_batch", "max_batch")):
        if a[low] > a[high]:
            msg = f"Cannot have {high}={a[high]!r} < {low}={a[low]!r}"
            raise InvalidArgument(msg)
    for name in ("max_channels", "max_kernel", "max_stride", "max_dilation", "max_elements"):
        a[name] = check_int(a[name], name, 1)
    domain = check_domain(a["domain"])
    dtype_profiles = {t: tuple(p for p in profiles if p in profiles_for(t, domain)) for t in dtypes}
    usable = tuple(t for t in dtypes if dtype_profiles[t])
    if not usable:
        msg = (
            f"profiles={profiles!r} apply to none of dtypes={tuple(str(t) for t in dtypes)!r} "
            f"in domain={domain!r} (NaN, inf and signed zeros need floats)"
        )
        raise InvalidArgument(msg)
    return CasePlan(
        ndims=ndims,
        dtypes=usable,
        dtype_profiles=dtype_profiles,
        layouts=layouts,
        batched=(True, False) if a["batched"] is None else (a["batched"],),
        min_side=a["min_side"],
        max_side=a["max_side"],
        min_batch=a["min_batch"],
        max_batch=a["max_batch"],
        max_channels=a["max_channels"],
        exact_fit=a["exact_fit"],
        domain=domain,
        budgets=_budgets(ndims, a["min_side"], a["max_side"], a["max_elements"]),
        params={
            k: a[k]
            for k in (
                "max_kernel",
                "max_stride",
                "max_dilation",
                "padding",
                "dilation",
                "ceil_mode",
            )
        }
        | {"square": a["square"], "same_stride": a["same_stride"]},
    )


def _budgets(ndims: tuple[int, ...], min_side: int, max_side: int, max_elements: int) -> dict:
    """``(extent, elements)`` per ``(nd, small)`` (see :class:`CasePlan`)."""
    # Per rank, the largest side every plane may need: kernels and dilations are drawn
    # so that eff - 2 * padding stays within it, and min_side must fit it too.
    extents = {nd: min(max_side, integer_root(max_elements, nd)) for nd in ndims}
    for nd, extent in extents.items():
        if min_side > extent:
            msg = (
                f"max_elements={max_elements} cannot hold a {nd}-D plane with "
                f"min_side={min_side} ({min_side}**{nd} = {min_side**nd} elements)"
            )
            raise InvalidArgument(msg)
    # 8-bit integers have only 256 distinct values: "distinct" arrays of them get a
    # 256-element budget (and kernels to match) unless min_side forbids it.
    budgets = {(nd, False): (extents[nd], max_elements) for nd in ndims}
    for nd in ndims:
        small = min(extents[nd], integer_root(min(256, max_elements), nd))
        budgets[nd, True] = (
            (small, min(256, max_elements)) if min_side <= small else budgets[nd, False]
        )
    return budgets


class Named(st.SearchStrategy):
    """A strategy that draws from another and reads as the call that built it.

    ``repr(pool_cases(ndims=(2,)))`` is ``pool_cases(ndims=(2,))``, not the name of the inner
    composite function, in Hypothesis' falsifying-example and statistics output.
    """

    def __init__(self, inner: st.SearchStrategy, text: str):
        super().__init__()
        self._inner = inner
        self._text = text

    def do_draw(self, data: Any) -> Any:
        return data.draw(self._inner)

    def do_validate(self) -> None:
        self._inner.validate()

    def calc_label(self) -> int:
        return self._inner.label

    def __repr__(self) -> str:
        return self._text


def call_text(func: Any, args: dict[str, Any]) -> str:
    """``func(name=value, ...)`` for the arguments that differ from their defaults."""
    params = inspect.signature(func).parameters
    shown = [
        f"{name}={value!r}"
        for name, value in args.items()
        if params[name].default is inspect.Parameter.empty or value != params[name].default
    ]
    return f"{func.__name__}({', '.join(shown)})"

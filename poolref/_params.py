"""Argument normalisation and validation, shared by every implementation.

This is the one place where user-facing arguments are checked and turned into
tuples. It holds *no* window logic that an implementation could share by
accident: it only decides whether a call is valid and what shape the output
must have. ``poolref.naive`` and ``poolref.im2col`` compute their windows on
their own, so a wrong output size here shows up as a shape disagreement in the
cross-checks.

Every error is a ``ValueError`` (bad value) or ``TypeError`` (bad type) whose
message names the argument and the value, e.g. ``stride=0``.
"""

from __future__ import annotations

import numbers
import operator
import os
from dataclasses import dataclass, fields
from functools import lru_cache

import numpy as np

#: dtypes accepted by the forward and by ``max_unpool``.
FORWARD_DTYPES = tuple(
    np.dtype(t)
    for t in (
        np.float16,
        np.float32,
        np.float64,
        np.int8,
        np.int16,
        np.int32,
        np.int64,
        np.uint8,
    )
)
#: dtypes accepted by the backward (gradients only make sense for floats).
BACKWARD_DTYPES = tuple(np.dtype(t) for t in (np.float16, np.float32, np.float64))

#: the largest kernel_size, stride, padding or dilation accepted (indices are int64).
INT64_MAX = 2**63 - 1

_SPATIAL_NAMES = {1: "L", 2: "H, W", 3: "D, H, W"}


@dataclass(frozen=True)
class PoolParams:
    """Normalised pooling parameters: one entry per spatial dimension.

    Built only by :func:`normalize_pool_args`; nothing downstream accepts an
    int where a tuple is expected.
    """

    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    ceil_mode: bool

    def __post_init__(self) -> None:
        # hashed by every cached geometry lookup: compute the hash once
        fields = (self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)
        object.__setattr__(self, "_hash", hash(fields))

    def __hash__(self) -> int:
        return self._hash  # type: ignore[attr-defined]  # set in __post_init__ (frozen)

    @property
    def nd(self) -> int:
        """Number of spatial dimensions."""
        return len(self.kernel_size)

    def as_kwargs(self) -> dict[str, tuple[int, ...] | bool]:
        """The parameters as keyword arguments of the public functions."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _is_int(value) -> bool:
    """True for Python and NumPy integers, False for bool (which is an int)."""
    if type(value) is int:  # the common case, without the slower abstract-class check
        return True
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def as_tuple(value, nd: int, name: str, func: str) -> tuple[int, ...]:
    """Turn an int or a length-1/length-``nd`` sequence of ints into an ``nd``-tuple.

    Rejects bool, float, str and any other type with ``TypeError``, and a
    sequence of the wrong length with ``ValueError``. Values are not checked
    here (see :func:`normalize_pool_args`).
    """
    if _is_int(value):
        return (operator.index(value),) * nd
    if isinstance(value, (tuple, list)):
        if len(value) not in (1, nd):
            msg = (
                f"{func}: {name} must be a single int or a tuple of {nd} ints, "
                f"got {name}={value!r} of length {len(value)}"
            )
            raise ValueError(msg)
        if not all(_is_int(v) for v in value):
            msg = f"{func}: {name} must contain only ints, got {name}={value!r}"
            raise TypeError(msg)
        items = tuple(operator.index(v) for v in value)
        return items * nd if len(items) == 1 else items
    msg = (
        f"{func}: {name} must be an int or a tuple of {nd} ints, "
        f"got {name}={value!r} (type {type(value).__name__})"
    )
    raise TypeError(msg)


def check_bool(value, name: str, func: str) -> bool:
    """Accept only ``True``/``False`` (Python or NumPy bool)."""
    if not isinstance(value, (bool, np.bool_)):
        msg = f"{func}: {name} must be a bool, got {name}={value!r} (type {type(value).__name__})"
        raise TypeError(msg)
    return bool(value)


def _plain(value) -> bool:
    """An exact ``int`` or a tuple of exact ``int``: safe as a cache key.

    (``True == 1`` and ``2.0 == 2`` hash alike, so anything else must never
    reach the cache, or a bad argument could hit a good call's entry.)
    """
    return type(value) is int or (type(value) is tuple and all(type(v) is int for v in value))


def normalize_pool_args(
    nd: int, kernel_size, stride, padding, dilation, ceil_mode, *, func: str
) -> PoolParams:
    """Validate the pooling parameters and return them as :class:`PoolParams`.

    ``stride=None`` (or ``()``) means ``stride=kernel_size``. Checks, in order:
    types and tuple lengths; ``kernel_size >= 1``, ``stride >= 1``,
    ``dilation >= 1``, ``padding >= 0`` and ``padding <= kernel_size // 2``
    in every dimension. Calls with plain ints are cached (errors are not).
    """
    if (
        _plain(kernel_size)
        and (stride is None or _plain(stride))
        and _plain(padding)
        and _plain(dilation)
        and type(ceil_mode) is bool
    ):
        return _normalize_cached(nd, kernel_size, stride, padding, dilation, ceil_mode, func)
    return _normalize(nd, kernel_size, stride, padding, dilation, ceil_mode, func)


def _normalize(nd, kernel_size, stride, padding, dilation, ceil_mode, func) -> PoolParams:
    k = as_tuple(kernel_size, nd, "kernel_size", func)
    s = (
        k
        if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0)
        else (as_tuple(stride, nd, "stride", func))
    )
    p = as_tuple(padding, nd, "padding", func)
    d = as_tuple(dilation, nd, "dilation", func)
    ceil = check_bool(ceil_mode, "ceil_mode", func)

    def _fmt(name, given, norm):
        return f"{name}={given!r}" if given is not None else f"{name}={norm!r}"

    named = (
        ("kernel_size", kernel_size, k),
        ("stride", stride, s),
        ("padding", padding, p),
        ("dilation", dilation, d),
    )
    for name, given, norm in named:
        if max(norm) > INT64_MAX:  # beyond the int64 indices every implementation returns
            msg = f"{func}: {name} must be at most 2**63 - 1 in every dimension, got {_fmt(name, given, norm)}"
            raise ValueError(msg)
    if min(k) < 1:
        msg = f"{func}: kernel_size must be >= 1 in every dimension, got {_fmt('kernel_size', kernel_size, k)}"
        raise ValueError(msg)
    if min(s) < 1:
        given = stride if stride is not None else kernel_size
        msg = f"{func}: stride must be >= 1 in every dimension, got stride={given!r}"
        raise ValueError(msg)
    if min(d) < 1:
        msg = f"{func}: dilation must be >= 1 in every dimension, got dilation={dilation!r}"
        raise ValueError(msg)
    if min(p) < 0:
        msg = f"{func}: padding must be >= 0 in every dimension, got padding={padding!r}"
        raise ValueError(msg)
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        msg = (
            f"{func}: padding must be at most half of kernel_size in every dimension, "
            f"got padding={padding!r} with kernel_size={kernel_size!r}"
        )
        raise ValueError(msg)
    return PoolParams(k, s, p, d, ceil)


_normalize_cached = lru_cache(maxsize=1024)(_normalize)


def output_size(length: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's output size along one dimension (may be < 1 for invalid input).

    ``O = (L + 2p - d*(k-1) - 1 [+ s - 1 if ceil_mode]) // s + 1``; with
    ``ceil_mode`` the last window must start inside the input or the left
    padding, so ``O`` drops by one when ``(O - 1) * s >= L + p``.
    """
    span = length + 2 * p - d * (k - 1) - 1
    if ceil_mode:
        out = (span + s - 1) // s + 1
        if (out - 1) * s >= length + p:
            out -= 1
    else:
        out = span // s + 1
    return out


@lru_cache(maxsize=1024)
def output_shape(spatial: tuple[int, ...], params: PoolParams) -> tuple[int, ...]:
    """Output spatial shape for an input spatial shape (no validation)."""
    return tuple(
        output_size(n, k, s, p, d, params.ceil_mode)
        for n, k, s, p, d in zip(
            spatial, params.kernel_size, params.stride, params.padding, params.dilation
        )
    )


def check_output_shape(spatial: tuple[int, ...], params: PoolParams, func: str) -> tuple[int, ...]:
    """Output spatial shape; ``ValueError`` naming every parameter if any size is < 1."""
    out = output_shape(spatial, params)
    if min(out) < 1:
        msg = (
            f"{func}: computed output size {out} is too small (every size must be >= 1) "
            f"for input spatial size {spatial} with kernel_size={params.kernel_size}, "
            f"stride={params.stride}, padding={params.padding}, "
            f"dilation={params.dilation}, ceil_mode={params.ceil_mode}"
        )
        raise ValueError(msg)
    return out


#: ndarray subclasses whose elements cannot be pooled as a plain array's: a matrix is
#: always 2-D (indexing it keeps two axes), a masked array's mask would be ignored.
REJECTED_SUBCLASSES = (np.matrix, np.ma.MaskedArray)


def check_array(x, name: str, func: str, dtypes: tuple[np.dtype, ...]) -> np.ndarray:
    """``x`` must be a NumPy array of one of ``dtypes``; returns it as a plain ndarray.

    ``np.matrix`` and masked arrays are rejected (``TypeError``); any other
    ndarray subclass is accepted and returned as a plain ndarray view, and the
    implementations pool that view, so every result is a plain ndarray.
    """
    if not isinstance(x, np.ndarray):
        msg = f"{func}: {name} must be a numpy.ndarray, got {name} of type {type(x).__name__}"
        raise TypeError(msg)
    if isinstance(x, REJECTED_SUBCLASSES):
        msg = (
            f"{func}: {name} must be a plain numpy.ndarray, got {name} of type "
            f"{type(x).__module__}.{type(x).__name__}; convert it with numpy.asarray "
            f"(a masked array: fill the masked elements first, e.g. {name}.filled(-numpy.inf))"
        )
        raise TypeError(msg)
    if x.dtype not in dtypes:
        allowed = ", ".join(str(t) for t in dtypes)
        msg = f"{func}: {name}.dtype={x.dtype} is not supported; expected one of {allowed}"
        raise TypeError(msg)
    return np.asarray(x)


def _machine_bytes() -> int:
    """This machine's physical memory in bytes (2**63 - 1 where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return INT64_MAX


#: once per process (cached by wrapping: mutmut mutates undecorated functions only)
machine_bytes = lru_cache(maxsize=1)(_machine_bytes)


def check_allocation(nbytes: int, what, func: str) -> None:
    """``ValueError`` naming ``what`` when ``nbytes`` exceed the machine's physical memory.

    Called before an array is allocated whose size comes from the arguments rather
    than from an existing array, so the call fails at once with the size it needs
    instead of a ``MemoryError`` (or a NumPy dimension error) from deep inside.
    ``what`` is the text, or a function that makes it (only called for the error).
    """
    available = machine_bytes()
    if nbytes > available:
        text = what() if callable(what) else what
        msg = (
            f"{func}: {text} would need {nbytes:,} bytes ({nbytes / 2**30:,.1f} GiB), "
            f"more than this machine's memory ({available / 2**30:,.1f} GiB)"
        )
        raise ValueError(msg)


def check_pool_shape(shape: tuple[int, ...], nd: int, name: str, func: str) -> bool:
    """Check an ``(N, C, *spatial)`` or ``(C, *spatial)`` shape; return True if batched.

    ``N = 0`` is allowed (empty output); ``C = 0`` or an empty spatial
    dimension is not.
    """
    if len(shape) not in (nd + 1, nd + 2):
        msg = (
            f"{func}: {name} must have shape (N, C, {_SPATIAL_NAMES[nd]}) or "
            f"(C, {_SPATIAL_NAMES[nd]}), i.e. ndim {nd + 2} or {nd + 1}, "
            f"got {name}.shape={tuple(shape)} (ndim {len(shape)})"
        )
        raise ValueError(msg)
    batched = len(shape) == nd + 2
    if min(shape[-nd - 1 :]) < 1:
        msg = (
            f"{func}: {name} must have at least one channel and a non-empty spatial "
            f"extent, got {name}.shape={tuple(shape)}"
        )
        raise ValueError(msg)
    return batched


def lowest(dtype: np.dtype):
    """The dtype's lowest value: ``-inf`` for floats, ``iinfo.min`` for ints."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return dtype.type(-np.inf)
    return dtype.type(np.iinfo(dtype).min)

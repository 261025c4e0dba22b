"""The core functions of :mod:`poolref.jit` (the :mod:`poolref._api` contract) around the kernels.

This module is imported on the first jit call only, and imports numba; the kernels compile on
their first call for each dtype and layout (and are cached on disk, ``cache=True``). Allocation,
layout choice and the thread count are decided here, in plain Python, once per call; the loops
are all in :mod:`poolref._jit_kernels`. Without numba it still imports, in
:mod:`poolref._jit_compat`'s pure mode (plain-Python kernels, for the tests and the mutation
gate only: the ``"jit"`` backend and :mod:`poolref.jit` still need numba).

float16 has no native numba arithmetic: float16 arrays take :mod:`poolref.fast`'s cores.
"""

from __future__ import annotations

import contextlib
import functools
import math
from typing import NamedTuple

import numpy as np

from . import _api_checks, _backend, _fast_kernels, _params
from . import _jit_compat as compat
from . import _jit_kernels as kernels

#: dtypes the kernels compile for; every other accepted dtype takes poolref.fast's cores
JIT_DTYPES = frozenset(
    np.dtype(t) for t in (np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8)
)


#: per rank: the axes that view ``(N, C, *S)`` as ``(N, *S, C)``
_TO_LAST = {ndim: (0, *range(2, ndim), 1) for ndim in (3, 4, 5)}


def _channels_last(a: np.ndarray) -> bool:
    """True for ``(N, C, *S)`` arrays over C-contiguous ``(N, *S, C)`` memory, with ``C > 1``."""
    if a.flags.c_contiguous or a.shape[1] < 2:
        return False
    return a.transpose(_TO_LAST[a.ndim]).flags.c_contiguous


def _empty(shape: tuple, dtype, channels_last: bool) -> np.ndarray:
    """A new uninitialised ``(N, C, *S)`` array, over channels-last memory if asked."""
    if not channels_last:
        return np.empty(shape, dtype=dtype)
    return np.moveaxis(np.empty((shape[0], *shape[2:], shape[1]), dtype=dtype), -1, 1)


def _contiguous(a: np.ndarray) -> np.ndarray:
    """``a`` itself when C-contiguous, else a C-contiguous copy: the plane kernels then compile
    once per dtype (a strided layout would be a second specialisation, as slow to compile as
    the first). Channels-last memory never comes here: its own kernel reads it in place."""
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


class _Alias:
    """What :func:`_writeable` makes an alias from: the array interface of a read-only array,
    marked writeable, and the array itself (the alias's ``base``, which keeps it alive)."""

    __slots__ = ("__array_interface__", "array")

    def __init__(self, a: np.ndarray) -> None:
        face = a.__array_interface__
        self.__array_interface__ = {**face, "data": (face["data"][0], False)}
        self.array = a


def _writeable(a: np.ndarray) -> np.ndarray:
    """``a``, or for a read-only ``a`` a writeable alias of its memory, for a kernel that only
    reads it. numba types a read-only array as a type of its own, so every kernel would compile
    a second specialisation per dtype (25-45 s each) for read-only inputs (``np.broadcast_to``
    views, read-only memory maps, arrays a caller froze); the alias takes the writeable one."""
    return a if a.flags.writeable else np.asarray(_Alias(a))


def _planes(a: np.ndarray) -> np.ndarray:
    """The ``(N, C, prod(S))`` view of an array (a copy only if its layout does not allow one)."""
    return a.reshape(*a.shape[:2], math.prod(a.shape[2:]))


def geometry(params, nd: int) -> np.ndarray:
    """``(3, 4)`` int64 table ``[k, s, p, d]`` per dimension, unit rows in front for 1-D and 2-D."""
    table = np.zeros((3, 4), dtype=np.int64)
    table[:, 0] = table[:, 1] = table[:, 3] = 1
    for i in range(nd):
        row = 3 - nd + i
        table[row] = (
            params.kernel_size[i],
            params.stride[i],
            params.padding[i],
            params.dilation[i],
        )
    return table


def row_plan(geo: np.ndarray, width: int, n_out: int) -> np.ndarray:
    """``uint64 [o0, count, i0, k, s, d]``: the outputs ``o0 .. o0 + count - 1`` are those whose
    ``k`` taps along W all lie inside ``[0, width)``; output ``o0 + t`` starts at input position
    ``i0 + t * s``. The others (padding, ceil_mode) are the edges (:func:`~poolref._jit_kernels._edge_values`).
    ``k``, ``s`` and ``d`` repeat ``geo[2]`` as unsigned integers, for the kernels' unsigned
    index arithmetic.
    """
    k, s, p, d = (int(v) for v in geo[2])
    o0 = min(-(-p // s), n_out)  # the first output whose first tap is not in the padding
    last = width - 1 - (k - 1) * d + p  # output o's last tap is inside when o * s <= last
    count = max(min(last // s + 1, n_out) - o0, 0) if last >= 0 else 0
    return np.array([o0, count, o0 * s - p if count else 0, k, s, d], dtype=np.uint64)


def _geometry_tables(params, width: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`geometry` and :func:`row_plan`, once per parameter set and input width (both have a
    fixed size, whatever the kernel). Cached and never written, but left writeable: numba's
    dispatcher types a read-only array through its slow path (measured: 0.25 µs of the 2.2 µs
    that a tiny forward's kernel call costs, for these three tables)."""
    geo = geometry(params, params.nd)
    return geo, row_plan(geo, width, n_out)


# The cached functions are bound by call, not decorated, so that mutmut mutates their bodies.
_geometry = functools.lru_cache(maxsize=256)(_geometry_tables)


def _lowest_array(dtype) -> np.ndarray:
    """The dtype's lowest value as a one-element array (numba types arrays faster than scalars;
    writeable, as :func:`_geometry_tables` says)."""
    return np.full(1, _params.lowest(dtype), dtype=dtype)


_lowest = functools.lru_cache(maxsize=16)(_lowest_array)


def _threads_block(n: int):
    """Run numba's parallel loops on ``n`` threads inside the block (numba's setting is per thread)."""
    before = compat.get_num_threads()
    compat.set_num_threads(n)
    try:
        yield
    finally:
        compat.set_num_threads(before)


_threads = contextlib.contextmanager(_threads_block)


def _run(name: str, *args):
    """Call kernel ``name``'s serial driver, or its parallel one when more threads are asked for."""
    serial, parallel = kernels.DRIVERS[name]
    n = _backend.threads()
    if n <= 1:
        return serial(*args)
    limit = compat.thread_limit()
    if n > limit:
        msg = (
            f"poolref.jit: threads={n} is more than numba's NUMBA_NUM_THREADS={limit}; "
            "set the NUMBA_NUM_THREADS environment variable before numba starts"
        )
        raise ValueError(msg)
    with _threads(n):
        return parallel(*args)


class _Plan(NamedTuple):
    """What a forward call needs besides its arrays, once per shape, dtype, parameters, layout."""

    alloc_shape: tuple  # the outputs' memory: (N, C, *O), or (N, *O, C) for channels-last
    x5: tuple  # the kernel's view of x: (N, C, D, H, W), or (N, D, H, W, C)
    y5: tuple  # the kernel's view of the outputs, likewise
    to_last: tuple  # the axes that view (N, C, *S) as (N, *S, C)
    from_last: tuple  # the axes that view (N, *O, C) as (N, C, *O)
    geo: np.ndarray
    row: np.ndarray
    low: np.ndarray


def _unit_axes(shape: tuple, last: bool) -> tuple:
    """``(N, C, *S)`` as five dimensions, unit axes in front of ``S`` (channels last if asked)."""
    spatial = (1,) * (5 - len(shape)) + tuple(shape[2:])
    return (shape[0], *spatial, shape[1]) if last else (shape[0], shape[1], *spatial)


def _plan(shape: tuple, dtype, params, last: bool) -> _Plan:
    """The :class:`_Plan` of a forward call (cached: :data:`_forward_plan`)."""
    out_shape = (*shape[:2], *_params.output_shape(shape[2:], params))
    geo, row = _geometry(params, shape[-1], out_shape[-1])
    nd = len(shape) - 2
    to_last = _TO_LAST[len(shape)]
    alloc = tuple(out_shape[i] for i in to_last) if last else out_shape
    from_last = (0, nd + 1, *range(1, nd + 1))
    x5, y5 = _unit_axes(shape, last), _unit_axes(out_shape, last)
    return _Plan(alloc, x5, y5, to_last, from_last, geo, row, _lowest(dtype))


_forward_plan = functools.lru_cache(maxsize=512)(_plan)


#: the indices argument of a forward without indices (empty: nothing is ever written to it;
#: writeable, because the kernels are typed for writing indices)
_NO_INDICES = np.empty((0,) * 5, dtype=np.int64)


def _forward(x, params, with_indices, index_dtype=np.int64):
    """The forward core; ``index_dtype`` int32 is for the layers (planes under 2**31 elements)."""
    x = np.asarray(x)
    if x.dtype not in JIT_DTYPES:
        return _fast_kernels._forward(x, params, with_indices)
    x = _writeable(x)
    last = _channels_last(x)
    plan = _forward_plan(x.shape, x.dtype, params, last)
    y = np.empty(plan.alloc_shape, dtype=x.dtype)
    idx = np.empty(plan.alloc_shape, dtype=index_dtype) if with_indices else _NO_INDICES
    i5 = idx.reshape(plan.y5) if with_indices else idx
    if not last:
        x5, y5 = _contiguous(x).reshape(plan.x5), y.reshape(plan.y5)
        if with_indices:
            _run("indexed_planes", x5, y5, i5, plan.geo, plan.row, plan.low)
        else:
            _run("forward_planes", x5, y5, plan.geo, plan.row, plan.low)
        return y, (idx if with_indices else None)
    # the kernel takes the C-contiguous (N, *S, C) memory itself; the outputs are viewed back
    x5 = x.transpose(plan.to_last).reshape(plan.x5)
    _run("forward_rows", x5, y.reshape(plan.y5), i5, plan.geo, plan.low, with_indices)
    back = plan.from_last
    return y.transpose(back), (idx.transpose(back) if with_indices else None)


def _backward_from_input(grad_output, x, params):
    grad_output, x = np.asarray(grad_output), np.asarray(x)
    if x.dtype not in JIT_DTYPES:
        return _fast_kernels._backward_from_input(grad_output, x, params)
    grad_output, x = _writeable(grad_output), _writeable(x)
    geo, row = _geometry(params, x.shape[-1], grad_output.shape[-1])
    grad = _empty(x.shape, x.dtype, _channels_last(grad_output))
    g5 = _contiguous(grad_output).reshape(_unit_axes(grad_output.shape, False))
    x5 = _contiguous(x).reshape(_unit_axes(x.shape, False))
    _run("backward_planes", g5, x5, _planes(grad), geo, row, _lowest(x.dtype))
    return grad


def _check_range(indices: np.ndarray, plane: int) -> None:
    """:class:`~poolref._api_checks.IndexRangeError` for the first index outside ``[-1, plane)`` (NumPy)."""
    bad = np.flatnonzero((indices < -1) | (indices >= plane))
    if bad.size:
        raise _api_checks.IndexRangeError(int(bad[0]))


def _scatter(values, indices, out, add: bool) -> None:
    """Scatter into ``out`` by plane (the kernel zeroes it), raising for an index out of range."""
    values, indices = _planes(_writeable(values)), _planes(_writeable(indices))
    bad = _run("scatter_planes", values, indices, _planes(out), add)
    if bad >= 0:
        raise _api_checks.IndexRangeError(int(bad))


def _backward_from_indices(grad_output, indices, input_shape, params):
    grad_output = np.asarray(grad_output)
    if grad_output.dtype not in JIT_DTYPES:  # the NumPy core does not check the range
        _check_range(indices, math.prod(input_shape[2:]))
        return _fast_kernels._backward_from_indices(grad_output, indices, input_shape, params)
    grad = _empty(tuple(input_shape), grad_output.dtype, _channels_last(grad_output))
    _scatter(grad_output, indices, grad, True)
    return grad


def _unpool(y, indices, out_spatial):
    y = np.asarray(y)
    if y.dtype not in JIT_DTYPES:
        _check_range(indices, math.prod(out_spatial))
        return _fast_kernels._unpool(y, indices, out_spatial)
    out = _empty((*y.shape[:2], *out_spatial), y.dtype, _channels_last(y))
    _scatter(y, indices, out, False)
    return out


def _checks_indices() -> bool:
    """The scatter cores above check the index range themselves."""
    return True

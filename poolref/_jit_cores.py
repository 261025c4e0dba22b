"""The core functions of :mod:`poolref.jit` (the :mod:`poolref._api` contract) around the kernels.

This module is imported on the first jit call only, and imports numba; the kernels compile on
their first call for each dtype and layout (and are cached on disk, ``cache=True``). Allocation,
layout choice and the thread count are decided here, in plain Python, once per call; the loops
are all in :mod:`poolref._jit_kernels`.

float16 has no native numba arithmetic: float16 arrays take :mod:`poolref.fast`'s cores.
"""

from __future__ import annotations

import contextlib
import functools
import math

import numba
import numpy as np

from . import _backend, _fast_kernels, _params
from . import _jit_kernels as kernels

#: dtypes the kernels compile for; every other accepted dtype takes poolref.fast's cores
JIT_DTYPES = frozenset(
    np.dtype(t) for t in (np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8)
)


def _channels_last(a: np.ndarray) -> bool:
    """True for ``(N, C, *S)`` arrays over C-contiguous ``(N, *S, C)`` memory, with ``C > 1``."""
    if a.flags.c_contiguous or a.shape[1] < 2:
        return False
    return np.moveaxis(a, 1, -1).flags.c_contiguous


def _empty(shape: tuple, dtype, channels_last: bool) -> np.ndarray:
    """A new uninitialised ``(N, C, *S)`` array, over channels-last memory if asked."""
    if not channels_last:
        return np.empty(shape, dtype=dtype)
    return np.moveaxis(np.empty((shape[0], *shape[2:], shape[1]), dtype=dtype), -1, 1)


def _five(a: np.ndarray) -> np.ndarray:
    """The ``(N, C, D, H, W)`` view of an ``(N, C, *S)`` array (unit axes in front of ``S``)."""
    return a.reshape(a.shape[:2] + (1,) * (5 - a.ndim) + a.shape[2:])


def _planes(a: np.ndarray) -> np.ndarray:
    """The ``(N, C, prod(S))`` view of an array (a copy only if its layout does not allow one)."""
    return a.reshape(*a.shape[:2], math.prod(a.shape[2:]))


@functools.lru_cache(maxsize=256)
def _geometry(params, width: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~poolref._jit_kernels.geometry` and :func:`~poolref._jit_kernels.taps`, once per
    parameter set and input width (read-only tables; the tap table has ``kernel_size`` rows)."""
    geo = kernels.geometry(params, params.nd)
    taps = kernels.taps(geo, width, n_out)
    geo.flags.writeable = taps.flags.writeable = False
    return geo, taps


@functools.lru_cache(maxsize=16)
def _lowest(dtype) -> np.ndarray:
    """The dtype's lowest value as a one-element array (numba types arrays faster than scalars)."""
    low = np.full(1, _params.lowest(dtype), dtype=dtype)
    low.flags.writeable = False
    return low


@contextlib.contextmanager
def _threads(n: int):
    """Run numba's parallel loops on ``n`` threads inside the block (numba's setting is per thread)."""
    before = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _run(name: str, *args) -> None:
    """Call kernel ``name``'s serial driver, or its parallel one when more threads are asked for."""
    serial, parallel = kernels.DRIVERS[name]
    n = _backend.threads()
    if n <= 1:
        serial(*args)
        return
    limit = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
    if n > limit:
        msg = (
            f"poolref.jit: threads={n} is more than numba's NUMBA_NUM_THREADS={limit}; "
            "set the NUMBA_NUM_THREADS environment variable before numba starts"
        )
        raise ValueError(msg)
    with _threads(n):
        parallel(*args)


def _forward(x, params, with_indices):
    x = np.asarray(x)
    if x.dtype not in JIT_DTYPES:
        return _fast_kernels._forward(x, params, with_indices)
    out_shape = (*x.shape[:2], *_params.output_shape(x.shape[2:], params))
    geo, taps = _geometry(params, x.shape[-1], out_shape[-1])
    low = _lowest(x.dtype)
    last = _channels_last(x)
    y = _empty(out_shape, x.dtype, last)
    idx = _empty(out_shape, np.int64, last) if with_indices else np.empty((0,) * 5, np.int64)
    if last:
        # the kernel takes the C-contiguous (N, D, H, W, C) memory itself
        x5, y5 = np.moveaxis(_five(x), 1, -1), np.moveaxis(_five(y), 1, -1)
        i5 = np.moveaxis(_five(idx), 1, -1) if with_indices else idx
        _run("forward_rows", x5, y5, i5, geo, taps, low, with_indices)
    else:
        _run("forward_planes", _five(x), _five(y), _five(idx), geo, taps, low, with_indices)
    return y, (idx if with_indices else None)


def _backward_from_input(grad_output, x, params):
    grad_output, x = np.asarray(grad_output), np.asarray(x)
    if x.dtype not in JIT_DTYPES:
        return _fast_kernels._backward_from_input(grad_output, x, params)
    geo, taps = _geometry(params, x.shape[-1], grad_output.shape[-1])
    grad = _empty(x.shape, x.dtype, _channels_last(grad_output))
    g5, x5, low = _five(grad_output), _five(x), _lowest(x.dtype)
    _run("backward_planes", g5, x5, _planes(grad), geo, taps, low)
    return grad


def _backward_from_indices(grad_output, indices, input_shape, params):
    grad_output = np.asarray(grad_output)
    if grad_output.dtype not in JIT_DTYPES:
        return _fast_kernels._backward_from_indices(grad_output, indices, input_shape, params)
    grad = _empty(tuple(input_shape), grad_output.dtype, _channels_last(grad_output))
    _run("scatter_planes", _planes(grad_output), _planes(indices), _planes(grad), True)
    return grad


def _unpool(y, indices, out_spatial):
    y = np.asarray(y)
    if y.dtype not in JIT_DTYPES:
        return _fast_kernels._unpool(y, indices, out_spatial)
    out = _empty((*y.shape[:2], *out_spatial), y.dtype, _channels_last(y))
    _run("scatter_planes", _planes(y), _planes(indices), _planes(out), False)
    return out

"""The repeated-call path of :mod:`poolref.jit`'s forward and backward from indices.

A training loop or a test harness calls a pooling function with the same shapes and parameters
again and again, and on small inputs the argument checks cost more than the kernel. Every check
is a pure function of the arrays' types, shapes, strides and dtypes and of the other arguments'
values and types, so a call equal in all of them to one that passed every check passes them
again. Such a call is answered from an entry made after the checked call succeeded: the
kernel's views and tables are in it, so the call is one allocation and one kernel call.

Only *plain* calls have entries: exact ``numpy.ndarray`` arrays with a compiled dtype over
C-contiguous (or, for the forward, channels-last) memory, sizes that are exact ``int`` or tuples
of them, a ``None`` stride or such a size, and exact ``bool`` flags (and, for the backward, an
input shape that is a tuple of exact ``int``). Those types are checked
before the lookup, because ``2.0``, ``np.int64(2)`` and ``True`` hash and compare like ``2``:
another type must never find a plain call's entry. Every other call takes the checked path. An
index out of range makes the backward's entry give up, and the checked path then raises its
usual error. There are at most :data:`LIMIT` entries of each kind (then they are dropped).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

import numpy as np

from . import _backend, _jit_cores, _params
from ._jit_cores import _NO_INDICES as _NONE

#: the most entries kept per kind (all are dropped when a new one would exceed it)
LIMIT = 256

_FORWARD: dict[tuple, Callable] = {}
_BACKWARD: dict[tuple, Callable] = {}


def _size(v) -> bool:
    """An exact ``int``, or a tuple of exact ``int``."""
    return type(v) is int or (type(v) is tuple and all(type(e) is int for e in v))


def _plain(kernel_size, stride, padding, dilation, ceil_mode) -> bool:
    """Whether the pooling arguments have the exact types that may reach an entry."""
    ints = type(kernel_size) is int and type(padding) is int and type(dilation) is int
    if ints and (stride is None or type(stride) is int):  # plain ints: no call for each
        return type(ceil_mode) is bool
    return (
        _size(kernel_size)
        and (stride is None or _size(stride))
        and _size(padding)
        and _size(dilation)
        and type(ceil_mode) is bool
    )


def _compiled(a) -> bool:
    """An exact, non-empty, C-contiguous ``numpy.ndarray`` of a dtype the kernels compile for."""
    return (
        type(a) is np.ndarray
        and a.size > 0
        and a.dtype in _jit_cores.JIT_DTYPES
        and a.flags.c_contiguous
    )


def _call(name: str, *args):
    """Kernel ``name``'s serial driver on one thread (no lookup), else :func:`~poolref._jit_cores._run`."""
    if _backend.threads() > 1:
        return _jit_cores._run(name, *args)
    return _jit_cores.kernels.DRIVERS[name][0](*args)


def _store(entries: dict, key: tuple, entry: Callable) -> None:
    if len(entries) >= LIMIT:
        entries.clear()
    entries[key] = entry


def forward(nd, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    """The result of a plain forward call that has an entry, else None."""
    # a read-only x takes the checked path, which aliases it (_jit_cores._writeable)
    if type(x) is not np.ndarray or type(return_indices) is not bool or not x.flags.writeable:
        return None
    if not _plain(kernel_size, stride, padding, dilation, ceil_mode):
        return None
    key = (nd, x.shape, x.strides, x.dtype, kernel_size, stride, padding, dilation, ceil_mode)
    entry = _FORWARD.get((*key, return_indices))
    return None if entry is None else entry(x)


def remember_forward(nd, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    """Make the entry of a forward call that has just passed every check (if it is plain)."""
    if not (type(x) is np.ndarray and type(return_indices) is bool):
        return
    last = x.ndim == nd + 2 and _jit_cores._channels_last(x)
    ok = x.size > 0 and x.dtype in _jit_cores.JIT_DTYPES and (last or x.flags.c_contiguous)
    if not (ok and _plain(kernel_size, stride, padding, dilation, ceil_mode)):
        return
    params = _params.normalize_pool_args(
        nd, kernel_size, stride, padding, dilation, ceil_mode, func=f"max_pool{nd}d"
    )
    batched = x.shape if x.ndim == nd + 2 else (1, *x.shape)
    plan = _jit_cores._forward_plan(batched, x.dtype, params, last)
    if last:
        entry = _channels_last_entry(plan, x.dtype, return_indices)
    else:
        entry = _planes_entry(
            plan, plan.alloc_shape[len(batched) - x.ndim :], x.dtype, return_indices
        )
    key = (nd, x.shape, x.strides, x.dtype, kernel_size, stride, padding, dilation, ceil_mode)
    _store(_FORWARD, (*key, return_indices), entry)


def _five(nd: int, unbatched: bool) -> Callable:
    """The kernels' five-dimensional view of an ``(N, C, *S)`` (or ``(C, *S)``) array, by
    indexing with new unit axes (cheaper than a reshape)."""
    lead = (None, slice(None)) if unbatched else (slice(None), slice(None))
    return operator.itemgetter((*lead, *(None,) * (3 - nd), Ellipsis))


def _planes_entry(plan, out_shape: tuple, dtype, with_indices: bool) -> Callable:
    """The entry of a C-contiguous input (``out_shape`` without N for an unbatched one)."""
    five = _five(len(plan.alloc_shape) - 2, len(out_shape) < len(plan.alloc_shape))
    geo, row, low = plan.geo, plan.row, plan.low

    def entry(x):
        y = np.empty(out_shape, dtype=dtype)
        if not with_indices:
            _call("forward_planes", five(x), five(y), geo, row, low)
            return y
        idx = np.empty(out_shape, dtype=np.int64)
        _call("indexed_planes", five(x), five(y), five(idx), geo, row, low)
        return y, idx

    return entry


def _channels_last_entry(plan, dtype, with_indices: bool) -> Callable:
    """The entry of a batched input over channels-last memory (outputs over it too)."""
    to_last, back, x5, y5 = plan.to_last, plan.from_last, plan.x5, plan.y5
    alloc, geo, low = plan.alloc_shape, plan.geo, plan.low

    def entry(x):
        y = np.empty(alloc, dtype=dtype)
        x5_ = x.transpose(to_last).reshape(x5)
        if not with_indices:
            _call("forward_rows", x5_, y.reshape(y5), _NONE, geo, low, False)
            return y.transpose(back)
        idx = np.empty(alloc, dtype=np.int64)
        _call("forward_rows", x5_, y.reshape(y5), idx.reshape(y5), geo, low, True)
        return y.transpose(back), idx.transpose(back)

    return entry


def _shape(x) -> bool:
    """An input shape given as a tuple of exact ``int``."""
    return type(x) is tuple and _size(x)


def backward(nd, grad_output, x, kernel_size, stride, padding, dilation, ceil_mode, indices):
    """The gradient of a plain backward-from-indices call that has an entry, else None (also
    when an index is out of range: the checked path then raises)."""
    if type(grad_output) is not np.ndarray or type(indices) is not np.ndarray or not _shape(x):
        return None
    if not (grad_output.flags.writeable and indices.flags.writeable):
        return None  # the checked path aliases read-only arrays (_jit_cores._writeable)
    if not _plain(kernel_size, stride, padding, dilation, ceil_mode):
        return None
    key = (nd, grad_output.shape, grad_output.strides, grad_output.dtype, x, indices.shape)
    entry = _BACKWARD.get(
        (*key, indices.strides, indices.dtype, kernel_size, stride, padding, dilation, ceil_mode)
    )
    return None if entry is None else entry(grad_output, indices)


def remember_backward(
    nd, grad_output, x, kernel_size, stride, padding, dilation, ceil_mode, indices
):
    """Make the entry of a backward-from-indices call that has just passed every check."""
    if not (_compiled(grad_output) and _compiled(indices) and _shape(x)):
        return
    if not (
        _plain(kernel_size, stride, padding, dilation, ceil_mode) and indices.dtype == np.int64
    ):
        return
    lead = (1,) * (nd + 2 - len(x)) + x[:-nd]  # (N, C), batched
    g3, grad3 = (*lead, math.prod(grad_output.shape[-nd:])), (*lead, math.prod(x[-nd:]))
    shape, dtype = x, grad_output.dtype

    def entry(grad_output, indices):
        grad = np.empty(shape, dtype=dtype)
        args = (grad_output.reshape(g3), indices.reshape(g3), grad.reshape(grad3), True)
        return grad if _call("scatter_planes", *args) < 0 else None

    key = (nd, grad_output.shape, grad_output.strides, grad_output.dtype, x, indices.shape)
    _store(
        _BACKWARD,
        (*key, indices.strides, indices.dtype, kernel_size, stride, padding, dilation, ceil_mode),
        entry,
    )

"""The public signatures, built once for every implementation.

Each implementation module (``poolref.fast``, ``poolref.im2col``,
``poolref.naive``) supplies four *core* functions that work on validated,
batched input; :func:`build` wraps them into the nine public functions with
PyTorch's names and signatures:

``max_pool{1,2,3}d``, ``max_pool{1,2,3}d_backward``, ``max_unpool{1,2,3}d``.

The wrapper does everything that is not pooling: argument normalisation and
validation (:mod:`poolref._params`), unbatched input, and the
``return_indices`` switch. It holds no window logic, so the implementations
stay independent of each other.

Core contract (all arguments already validated; ``x`` may be any memory
layout, e.g. transposed or strided; cores must neither modify their inputs
nor return views of them):

``forward(x, params, with_indices) -> (y, indices_or_None)``
    ``x`` has shape ``(N, C, *S)``; ``y`` has ``x``'s dtype and shape
    ``(N, C, *O)``; ``indices`` are int64 flat row-major indices into each
    ``(n, c)`` plane of ``x`` (``-1`` for an empty window).
``backward_from_input(grad_output, x, params) -> grad_input``
    May be ``None``: then the wrapper calls ``forward`` for the indices and
    ``backward_from_indices``.
``backward_from_indices(grad_output, indices, input_shape, params) -> grad_input``
    ``grad_input`` has shape ``input_shape`` and ``grad_output``'s dtype;
    ``grad_input[n, c].flat[i]`` is the sum of ``grad_output[n, c]`` over the
    outputs whose index is ``i``; index ``-1`` contributes nothing.
``unpool(y, indices, out_spatial) -> out``
    zeros of shape ``(N, C, *out_spatial)`` with ``out[n, c].flat[i] = y[n, c][o]``
    for every output ``o`` whose index ``i`` is not ``-1``.
``checks_indices() -> bool`` (optional)
    True when the two scatter cores check that every index is in ``[-1, plane)`` themselves,
    raising :class:`~poolref._api_checks.IndexRangeError` with the flat position of the first one that is not (the
    compiled cores do it while they scatter); the wrapper then skips its own range check and
    reports the error in the same words.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from . import _docstrings, _params
from ._api_checks import (
    _backward_shapes,
    _forward_shape,
    _index_range_error,
    _never,
    _scatter,
)
from ._params import BACKWARD_DTYPES, FORWARD_DTYPES, PoolParams

# ----------------------------------------------------------------------------
# Validation helpers that need more than one argument at a time.
# ----------------------------------------------------------------------------


def _check_indices(
    indices, expected_shape, plane_size: int, func: str, check_range: bool = True
) -> np.ndarray:
    """``indices`` must be an int64 array of ``expected_shape`` with values in [-1, plane_size).

    ``check_range=False`` leaves the values to a core that checks them while it scatters.
    """
    if not isinstance(indices, np.ndarray):
        msg = (
            f"{func}: indices must be a numpy.ndarray, got indices of type {type(indices).__name__}"
        )
        raise TypeError(msg)
    if isinstance(indices, _params.REJECTED_SUBCLASSES):
        msg = (
            f"{func}: indices must be a plain numpy.ndarray, got indices of type "
            f"{type(indices).__module__}.{type(indices).__name__}; convert it with numpy.asarray"
        )
        raise TypeError(msg)
    if indices.dtype != np.int64:
        msg = f"{func}: indices.dtype={indices.dtype} is not supported; indices must be int64"
        raise TypeError(msg)
    if indices.shape != tuple(expected_shape):
        msg = (
            f"{func}: indices.shape={indices.shape} does not match the expected shape "
            f"{tuple(expected_shape)}"
        )
        raise ValueError(msg)
    if check_range and indices.size:
        bad = (indices < -1) | (indices >= plane_size)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise _index_range_error(indices, where, plane_size, func)
    return np.asarray(indices)


def _batched(shape_or_array, batched: bool):
    """Add a leading N=1 axis to unbatched input (a view for arrays, a tuple for shapes)."""
    if batched:
        return shape_or_array
    if isinstance(shape_or_array, np.ndarray):
        return shape_or_array[np.newaxis]
    return (1, *shape_or_array)


def _unbatched(array, batched: bool):
    return array if batched or array is None else array[0]


def _unpool_output_spatial(in_spatial, params: PoolParams, output_size, ndim: int, func: str):
    """PyTorch's default unpool size ``(in - 1) * s - 2p + k`` or a checked ``output_size``."""
    default = tuple(
        (n - 1) * s - 2 * p + k
        for n, k, s, p in zip(in_spatial, params.kernel_size, params.stride, params.padding)
    )
    nd = params.nd
    if output_size is None:
        if min(default) < 1:
            msg = (
                f"{func}: the default output size {default} is empty for input spatial size "
                f"{tuple(in_spatial)} with kernel_size={params.kernel_size}, "
                f"stride={params.stride}, padding={params.padding}; pass output_size"
            )
            raise ValueError(msg)
        return default
    if not isinstance(output_size, (tuple, list)) or not all(
        _params._is_int(v) for v in output_size
    ):
        msg = (
            f"{func}: output_size must be None or a tuple of ints, got output_size={output_size!r}"
        )
        raise TypeError(msg)
    if len(output_size) not in (nd, ndim):
        msg = (
            f"{func}: output_size must have {nd} (spatial) or {ndim} entries, got "
            f"output_size={tuple(output_size)!r}"
        )
        raise ValueError(msg)
    sizes = tuple(int(v) for v in output_size[-nd:])
    for i, (size, dflt, s) in enumerate(zip(sizes, default, params.stride)):
        lo, hi = max(dflt - s, 0), dflt + s
        if not lo < size < hi:
            msg = (
                f"{func}: invalid output_size={tuple(output_size)!r}: spatial dim {i} must be "
                f"strictly between {lo} and {hi}, got {size}"
            )
            raise ValueError(msg)
    return sizes


class _Cores(NamedTuple):
    """One implementation's core functions (see the module docstring)."""

    forward: Callable
    backward_from_input: Callable | None
    backward_from_indices: Callable
    unpool: Callable
    checks_indices: Callable[[], bool] = _never


# The bodies of the public functions are module-level functions (the methods of
# Implementation only bind nd, the name and the cores), so that they can be read,
# profiled and mutation-tested like any other function.


def _pool(cores, nd, fname, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    params = _params.normalize_pool_args(
        nd, kernel_size, stride, padding, dilation, ceil_mode, func=fname
    )
    with_indices = _params.check_bool(return_indices, "return_indices", fname)
    x = _params.check_array(x, "x", fname, FORWARD_DTYPES)
    batched = _forward_shape(x.shape, nd, params, fname)
    y, idx = cores.forward(_batched(x, batched), params, with_indices)
    y = _unbatched(y, batched)
    if with_indices:
        return y, _unbatched(idx, batched)
    return y


def _backward_input_shape(grad_output, x, indices, bname):
    """The forward input's shape, from ``x`` (an array, or a shape when indices are given)."""
    if isinstance(x, np.ndarray):
        _params.check_array(x, "x", bname, BACKWARD_DTYPES)
        if x.dtype != grad_output.dtype:
            msg = f"{bname}: grad_output.dtype={grad_output.dtype} must match x.dtype={x.dtype}"
            raise TypeError(msg)
        return x.shape
    if indices is not None and isinstance(x, (tuple, list)) and all(_params._is_int(v) for v in x):
        return tuple(int(v) for v in x)
    what = (
        "a numpy.ndarray or (with indices) a shape tuple"
        if indices is not None
        else "a numpy.ndarray"
    )
    msg = f"{bname}: x must be {what}, got x of type {type(x).__name__}"
    raise TypeError(msg)


def _pool_backward(
    cores, nd, bname, grad_output, x, kernel_size, stride, padding, dilation, ceil_mode, indices
):
    params = _params.normalize_pool_args(
        nd, kernel_size, stride, padding, dilation, ceil_mode, func=bname
    )
    grad_output = _params.check_array(grad_output, "grad_output", bname, BACKWARD_DTYPES)
    input_shape = _backward_input_shape(grad_output, x, indices, bname)
    if isinstance(x, np.ndarray):
        x = np.asarray(x)
    _params.check_allocation(
        math.prod(input_shape) * grad_output.itemsize,
        lambda: f"grad_input for x.shape={tuple(input_shape)}",
        bname,
    )
    batched, expected = _backward_shapes(input_shape, grad_output.shape, nd, params, bname)
    g = _batched(grad_output, batched)
    if indices is not None:
        plane, own = math.prod(input_shape[-nd:]), cores.checks_indices()
        indices = _check_indices(indices, expected, plane, bname, check_range=not own)
        grad = _scatter(
            cores.backward_from_indices,
            indices,
            plane,
            bname,
            g,
            _batched(indices, batched),
            _batched(tuple(input_shape), batched),
            params,
        )
    elif cores.backward_from_input is not None:
        grad = cores.backward_from_input(g, _batched(x, batched), params)
    else:
        xb = _batched(x, batched)
        _, idx = cores.forward(xb, params, True)
        grad = cores.backward_from_indices(g, idx, xb.shape, params)
    return _unbatched(grad, batched)


def _unpool(cores, nd, uname, y, indices, kernel_size, stride, padding, output_size):
    params = _params.normalize_pool_args(nd, kernel_size, stride, padding, 1, False, func=uname)
    y = _params.check_array(y, "y", uname, FORWARD_DTYPES)
    batched = _params.check_pool_shape(y.shape, nd, "y", uname)
    out_spatial = _unpool_output_spatial(y.shape[-nd:], params, output_size, y.ndim, uname)
    planes = math.prod(y.shape[:-nd])
    _params.check_allocation(
        planes * math.prod(out_spatial) * y.itemsize,
        lambda: f"the output for output_size={out_spatial}",
        uname,
    )
    plane, own = math.prod(out_spatial), cores.checks_indices()
    indices = _check_indices(indices, y.shape, plane, uname, check_range=not own)
    yb, ib = _batched(y, batched), _batched(indices, batched)
    out = _scatter(cores.unpool, indices, plane, uname, yb, ib, out_spatial)
    return _unbatched(out, batched)


# ----------------------------------------------------------------------------
# The public signatures
# ----------------------------------------------------------------------------

#: A size parameter: one int for every spatial dimension, or one int per dimension.
Size = int | tuple[int, ...]
#: What a forward returns: the output, or ``(output, indices)`` with ``return_indices=True``.
Pooled = NDArray[Any] | tuple[NDArray[Any], NDArray[np.int64]]


class Implementation:
    """The nine public functions of one implementation, with PyTorch's names and signatures.

    Each implementation module binds them as module attributes (``poolref.naive.max_pool2d
    = Implementation(...).max_pool2d``), so a type checker and :func:`help` see the real
    signatures and docstrings below, written once in :mod:`poolref._docstrings`.
    """

    def __init__(self, module: str, cores: _Cores):  # pragma: no mutate block
        self.module = module  # build() overwrites it at import time
        self._cores = cores

    def __repr__(self) -> str:  # pragma: no mutate
        return f"<poolref functions of {self.module}>"

    def max_pool1d(
        self,
        x: NDArray[Any],
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        dilation: Size = 1,
        ceil_mode: bool = False,
        return_indices: bool = False,
    ) -> Pooled:
        return _pool(
            self._cores,
            1,
            "max_pool1d",
            x,
            kernel_size,
            stride,
            padding,
            dilation,
            ceil_mode,
            return_indices,
        )

    def max_pool2d(
        self,
        x: NDArray[Any],
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        dilation: Size = 1,
        ceil_mode: bool = False,
        return_indices: bool = False,
    ) -> Pooled:
        return _pool(
            self._cores,
            2,
            "max_pool2d",
            x,
            kernel_size,
            stride,
            padding,
            dilation,
            ceil_mode,
            return_indices,
        )

    def max_pool3d(
        self,
        x: NDArray[Any],
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        dilation: Size = 1,
        ceil_mode: bool = False,
        return_indices: bool = False,
    ) -> Pooled:
        return _pool(
            self._cores,
            3,
            "max_pool3d",
            x,
            kernel_size,
            stride,
            padding,
            dilation,
            ceil_mode,
            return_indices,
        )

    def max_pool1d_backward(
        self,
        grad_output: NDArray[Any],
        x: NDArray[Any] | tuple[int, ...],
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        dilation: Size = 1,
        ceil_mode: bool = False,
        indices: NDArray[np.int64] | None = None,
    ) -> NDArray[Any]:
        return _pool_backward(
            self._cores,
            1,
            "max_pool1d_backward",
            grad_output,
            x,
            kernel_size,
            stride,
            padding,
            dilation,
            ceil_mode,
            indices,
        )

    def max_pool2d_backward(
        self,
        grad_output: NDArray[Any],
        x: NDArray[Any] | tuple[int, ...],
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        dilation: Size = 1,
        ceil_mode: bool = False,
        indices: NDArray[np.int64] | None = None,
    ) -> NDArray[Any]:
        return _pool_backward(
            self._cores,
            2,
            "max_pool2d_backward",
            grad_output,
            x,
            kernel_size,
            stride,
            padding,
            dilation,
            ceil_mode,
            indices,
        )

    def max_pool3d_backward(
        self,
        grad_output: NDArray[Any],
        x: NDArray[Any] | tuple[int, ...],
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        dilation: Size = 1,
        ceil_mode: bool = False,
        indices: NDArray[np.int64] | None = None,
    ) -> NDArray[Any]:
        return _pool_backward(
            self._cores,
            3,
            "max_pool3d_backward",
            grad_output,
            x,
            kernel_size,
            stride,
            padding,
            dilation,
            ceil_mode,
            indices,
        )

    def max_unpool1d(
        self,
        y: NDArray[Any],
        indices: NDArray[np.int64],
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        output_size: tuple[int, ...] | None = None,
    ) -> NDArray[Any]:
        return _unpool(
            self._cores, 1, "max_unpool1d", y, indices, kernel_size, stride, padding, output_size
        )

    def max_unpool2d(
        self,
        y: NDArray[Any],
        indices: NDArray[np.int64],
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        output_size: tuple[int, ...] | None = None,
    ) -> NDArray[Any]:
        return _unpool(
            self._cores, 2, "max_unpool2d", y, indices, kernel_size, stride, padding, output_size
        )

    def max_unpool3d(
        self,
        y: NDArray[Any],
        indices: NDArray[np.int64],
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        output_size: tuple[int, ...] | None = None,
    ) -> NDArray[Any]:
        return _unpool(
            self._cores, 3, "max_unpool3d", y, indices, kernel_size, stride, padding, output_size
        )


#: The public function names, in a fixed order (every implementation module exports them).
FUNCTION_NAMES = tuple(
    f"{kind}{nd}d{suffix}"
    for kind, suffix in (("max_pool", ""), ("max_pool", "_backward"), ("max_unpool", ""))
    for nd in (1, 2, 3)
)

for _nd in (1, 2, 3):  # pragma: no mutate
    getattr(Implementation, f"max_pool{_nd}d").__doc__ = _docstrings.forward(_nd)
    getattr(Implementation, f"max_pool{_nd}d_backward").__doc__ = _docstrings.backward(_nd)
    getattr(Implementation, f"max_unpool{_nd}d").__doc__ = _docstrings.unpool(_nd)


def build(
    module: str,
    impl: str,
    *,
    forward: Callable,
    backward_from_indices: Callable,
    unpool: Callable,
    backward_from_input: Callable | None = None,
    checks_indices: Callable[[], bool] = _never,
) -> Implementation:  # pragma: no mutate block
    """Wrap one implementation's core functions (see the module docstring) into the public nine.

    ``impl`` names the implementation in :func:`repr` (e.g. ``"vectorised"``).
    """
    functions = Implementation(
        module,
        _Cores(forward, backward_from_input, backward_from_indices, unpool, checks_indices),
    )
    functions.module = f"{module} ({impl})"
    return functions

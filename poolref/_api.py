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
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from . import _params
from ._params import BACKWARD_DTYPES, FORWARD_DTYPES, PoolParams


class PublicFunctions(NamedTuple):
    """The nine public functions of one implementation, in a fixed order."""

    max_pool1d: Callable
    max_pool2d: Callable
    max_pool3d: Callable
    max_pool1d_backward: Callable
    max_pool2d_backward: Callable
    max_pool3d_backward: Callable
    max_unpool1d: Callable
    max_unpool2d: Callable
    max_unpool3d: Callable


# ----------------------------------------------------------------------------
# Validation helpers that need more than one argument at a time.
# ----------------------------------------------------------------------------


def _check_indices(indices, expected_shape, plane_size: int, func: str) -> np.ndarray:
    """``indices`` must be an int64 array of ``expected_shape`` with values in [-1, plane_size)."""
    if not isinstance(indices, np.ndarray):
        msg = f"{func}: indices must be a numpy.ndarray, got indices of type {type(indices).__name__}"
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
    if indices.size:
        bad = (indices < -1) | (indices >= plane_size)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            msg = (
                f"{func}: indices[{', '.join(map(str, where))}]={int(indices[where])} is out of "
                f"range; every index must be in [0, {plane_size}) (or -1 for an empty window)"
            )
            raise ValueError(msg)
    return indices


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
            f"{func}: output_size must be None or a tuple of ints, got "
            f"output_size={output_size!r}"
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


# ----------------------------------------------------------------------------
# Docstring templates: one per kind of function; the examples are per rank.
# ----------------------------------------------------------------------------

_EXAMPLES = {
    1: {
        "forward": """\
    >>> import numpy as np
    >>> from {module} import max_pool1d
    >>> x = np.array([[1., 9., 2., 0., 4., 4.]])      # (C, L) = (1, 6)
    >>> y, idx = max_pool1d(x, 2, return_indices=True)
    >>> y
    array([[9., 2., 4.]])
    >>> idx                                           # a tie goes to the first maximum
    array([[1, 2, 4]])""",
        "backward": """\
    >>> import numpy as np
    >>> from {module} import max_pool1d_backward
    >>> x = np.array([[1., 9., 2., 0., 4., 4.]])
    >>> max_pool1d_backward(np.ones((1, 3)), x, 2)
    array([[0., 1., 1., 0., 1., 0.]])""",
        "unpool": """\
    >>> import numpy as np
    >>> from {module} import max_pool1d, max_unpool1d
    >>> x = np.array([[1., 9., 2., 0., 4., 4.]])
    >>> y, idx = max_pool1d(x, 2, return_indices=True)
    >>> max_unpool1d(y, idx, 2)
    array([[0., 9., 2., 0., 4., 0.]])""",
    },
    2: {
        "forward": """\
    >>> import numpy as np
    >>> from {module} import max_pool2d
    >>> x = np.array([[[[1., 9., 2., 0.],
    ...                 [4., 3., 8., 7.],
    ...                 [0., 6., 5., 5.],
    ...                 [2., 1., 3., 4.]]]])           # (N, C, H, W) = (1, 1, 4, 4)
    >>> y, idx = max_pool2d(x, 2, return_indices=True)
    >>> y[0, 0]
    array([[9., 8.],
           [6., 5.]])
    >>> idx[0, 0]                                     # row * 4 + col; ties: first maximum
    array([[ 1,  6],
           [ 9, 10]])""",
        "backward": """\
    >>> import numpy as np
    >>> from {module} import max_pool2d_backward
    >>> x = np.array([[[1., 9., 2., 0.],
    ...                [4., 3., 8., 7.],
    ...                [0., 6., 5., 5.],
    ...                [2., 1., 3., 4.]]])            # unbatched (C, H, W)
    >>> max_pool2d_backward(np.ones((1, 2, 2)), x, 2)[0]
    array([[0., 1., 0., 0.],
           [0., 0., 1., 0.],
           [0., 1., 1., 0.],
           [0., 0., 0., 0.]])""",
        "unpool": """\
    >>> import numpy as np
    >>> from {module} import max_pool2d, max_unpool2d
    >>> x = np.array([[[1., 9., 2., 0.],
    ...                [4., 3., 8., 7.],
    ...                [0., 6., 5., 5.],
    ...                [2., 1., 3., 4.]]])
    >>> y, idx = max_pool2d(x, 2, return_indices=True)
    >>> max_unpool2d(y, idx, 2)[0]
    array([[0., 9., 0., 0.],
           [0., 0., 8., 0.],
           [0., 6., 5., 0.],
           [0., 0., 0., 0.]])""",
    },
    3: {
        "forward": """\
    >>> import numpy as np
    >>> from {module} import max_pool3d
    >>> x = np.arange(16.).reshape(2, 2, 2, 2)        # (C, D, H, W), unbatched
    >>> y, idx = max_pool3d(x, 2, return_indices=True)
    >>> y.ravel(), idx.ravel()                        # one window per channel
    (array([ 7., 15.]), array([7, 7]))""",
        "backward": """\
    >>> import numpy as np
    >>> from {module} import max_pool3d_backward
    >>> x = np.arange(8.).reshape(1, 2, 2, 2)
    >>> max_pool3d_backward(np.full((1, 1, 1, 1), 5.), x, 2).ravel()
    array([0., 0., 0., 0., 0., 0., 0., 5.])""",
        "unpool": """\
    >>> import numpy as np
    >>> from {module} import max_pool3d, max_unpool3d
    >>> x = np.arange(8.).reshape(1, 2, 2, 2)
    >>> y, idx = max_pool3d(x, 2, return_indices=True)
    >>> max_unpool3d(y, idx, 2).ravel()
    array([0., 0., 0., 0., 0., 0., 0., 7.])""",
    },
}

_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}

_PARAMS_DOC = """\
    kernel_size : int or tuple of {nd} ints
        Window size. ``kernel_size=k`` is equivalent to ``kernel_size=({k_tuple})``;
        so is a 1-tuple ``(k,)``. The same holds for the other three.
    stride : int, tuple of {nd} ints or None, optional
        Step between windows; ``None`` (default) means ``kernel_size``.
    padding : int or tuple of {nd} ints, optional
        Implicit padding on both sides, at most ``kernel_size // 2``. Padded
        positions are never selected (they act as ``-inf``).
    dilation : int or tuple of {nd} ints, optional
        Spacing between the taps of a window.
    ceil_mode : bool, optional
        Use ceil instead of floor in the output-size formula (see Notes)."""

_FORWARD_DOC = """\
{nd}-D max pooling with PyTorch's semantics ({impl} implementation).

Parameters
----------
x : numpy.ndarray
    Input of shape ``(N, C, {sp})`` or unbatched ``(C, {sp})``; dtype float16,
    float32, float64, int8, int16, int32, int64 or uint8. Any memory layout.
{params}
return_indices : bool, optional
    Also return the int64 indices of the maxima.

Returns
-------
y : numpy.ndarray
    Shape ``(N, C, {osp})`` (unbatched if ``x`` is), ``x``'s dtype; a new array.
indices : numpy.ndarray
    Only if ``return_indices``: int64, same shape as ``y``, the flat row-major
    index of each maximum inside its ``(n, c)`` plane of the *unpadded* input.

Raises
------
TypeError
    ``x`` is not an ndarray or has an unsupported dtype; a parameter is a
    bool, float, str or other non-int; ``ceil_mode``/``return_indices`` is not a bool.
ValueError
    Wrong rank; ``C == 0`` or an empty spatial dim; a tuple of the wrong length;
    ``kernel_size``, ``stride`` or ``dilation`` < 1; ``padding`` < 0 or
    > ``kernel_size // 2``; a computed output size < 1.

Notes
-----
Per dimension, with ``eff = dilation * (kernel_size - 1) + 1``::

    O = (L + 2 * padding - eff) // stride + 1                  # floor mode
    O = (L + 2 * padding - eff + stride - 1) // stride + 1     # ceil mode,
    O -= 1 if (O - 1) * stride >= L + padding                  # then this fix

Window ``o`` has taps ``o * stride - padding + j * dilation`` (``j < kernel_size``);
taps outside ``[0, L)`` are skipped. The maximum is the first one in
row-major window order; if the window holds a NaN the output is NaN and the
index is that of the *last* NaN (PyTorch's rule). An all ``-inf`` window
gives ``-inf`` and the index of its first valid tap. The value is always read
at the index, so ``-0.0``/``+0.0`` ties keep the first one. A window with no
valid tap at all (only possible with ``dilation > 1`` and padding) gives the
dtype's lowest value and index ``-1``; PyTorch returns an out-of-range index there.

Examples
--------
{example}
"""

_BACKWARD_DOC = """\
Gradient of :func:`max_pool{nd}d` with respect to its input ({impl} implementation).

Each element of ``grad_output`` is added to the input position its window
selected (the forward's index); overlapping windows accumulate; ties and NaN
route the gradient to the one element the forward chose.

Parameters
----------
grad_output : numpy.ndarray
    Shape of the forward's output, float16, float32 or float64.
x : numpy.ndarray or tuple of ints
    The forward's input (float, same dtype as ``grad_output``). When
    ``indices`` is given, only its shape is used and a shape tuple may be passed.
{params}
indices : numpy.ndarray, optional
    The forward's int64 indices. If omitted they are recomputed from ``x``.

Returns
-------
grad_input : numpy.ndarray
    Same shape as ``x`` and ``grad_output``'s dtype; a new array.

Raises
------
TypeError
    Non-array or non-float ``grad_output``/``x``, dtypes that differ,
    non-int64 ``indices``, or a bad parameter type (as in the forward).
ValueError
    As in the forward; ``grad_output`` or ``indices`` of the wrong shape;
    an index outside ``[-1, {sp_prod})``.

Examples
--------
{example}
"""

_UNPOOL_DOC = """\
Partial inverse of :func:`max_pool{nd}d`: put each value back at its index ({impl} implementation).

Parameters
----------
y : numpy.ndarray
    Pooled values, ``(N, C, {sp})`` or ``(C, {sp})``; any forward dtype.
indices : numpy.ndarray
    int64 indices from the forward, same shape as ``y``; ``-1`` entries are skipped.
kernel_size, stride, padding
    As in the forward (no dilation, as in PyTorch).
output_size : tuple of ints, optional
    Output spatial size (``{nd}`` entries, or ``y.ndim`` entries of which the
    last {nd} are used). Each must lie strictly between ``default - stride`` and
    ``default + stride``, where ``default = (in - 1) * stride - 2 * padding + kernel_size``.

Returns
-------
out : numpy.ndarray
    Zeros of shape ``(N, C, *output_size)`` with ``y`` scattered in; ``y``'s dtype.
    With duplicate indices, the value at the last (row-major) position wins.

Raises
------
TypeError
    Non-array ``y``/``indices``, unsupported dtype, non-int64 ``indices``.
ValueError
    Wrong rank or shape, ``indices.shape != y.shape``, an index outside
    ``[-1, prod(output_size))``, or an ``output_size`` out of range.

Examples
--------
{example}
"""


def _params_doc(nd: int) -> str:  # pragma: no mutate block
    return _PARAMS_DOC.format(nd=nd, k_tuple=", ".join(["k"] * nd) + ("," if nd == 1 else ""))


def _finish(fn, name: str, module: str, doc: str) -> Callable:  # pragma: no mutate block
    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = module
    fn.__doc__ = doc
    return fn


class _Cores(NamedTuple):
    """One implementation's core functions (see the module docstring)."""

    forward: Callable
    backward_from_input: Callable | None
    backward_from_indices: Callable
    unpool: Callable


def build(
    module: str,
    impl: str,
    *,
    forward: Callable,
    backward_from_indices: Callable,
    unpool: Callable,
    backward_from_input: Callable | None = None,
) -> PublicFunctions:  # pragma: no mutate block
    """Wrap one implementation's core functions into the nine public functions."""
    cores = _Cores(forward, backward_from_input, backward_from_indices, unpool)
    functions: dict[str, Callable] = {}
    for nd in (1, 2, 3):
        functions.update(_build_rank(nd, module, impl, cores))
    return PublicFunctions(**functions)


# The bodies of the public functions are module-level functions (the closures
# built by _build_rank only bind nd, the name and the cores), so that they can
# be read, profiled and mutation-tested like any other function.


def _pool(cores, nd, fname, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    params = _params.normalize_pool_args(nd, kernel_size, stride, padding, dilation, ceil_mode, func=fname)
    with_indices = _params.check_bool(return_indices, "return_indices", fname)
    _params.check_array(x, "x", fname, FORWARD_DTYPES)
    batched = _params.check_pool_shape(x.shape, nd, "x", fname)
    _params.check_output_shape(x.shape[-nd:], params, fname)
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
    what = "a numpy.ndarray or (with indices) a shape tuple" if indices is not None else "a numpy.ndarray"
    msg = f"{bname}: x must be {what}, got x of type {type(x).__name__}"
    raise TypeError(msg)


def _pool_backward(cores, nd, bname, grad_output, x, kernel_size, stride, padding, dilation, ceil_mode, indices):
    params = _params.normalize_pool_args(nd, kernel_size, stride, padding, dilation, ceil_mode, func=bname)
    _params.check_array(grad_output, "grad_output", bname, BACKWARD_DTYPES)
    input_shape = _backward_input_shape(grad_output, x, indices, bname)
    batched = _params.check_pool_shape(input_shape, nd, "x", bname)
    out_spatial = _params.check_output_shape(tuple(input_shape[-nd:]), params, bname)
    expected = (*input_shape[:-nd], *out_spatial)
    if grad_output.shape != expected:
        msg = (
            f"{bname}: grad_output.shape={grad_output.shape} does not match the "
            f"forward's output shape {expected} for x.shape={tuple(input_shape)}"
        )
        raise ValueError(msg)
    g = _batched(grad_output, batched)
    if indices is not None:
        _check_indices(indices, expected, math.prod(input_shape[-nd:]), bname)
        grad = cores.backward_from_indices(
            g, _batched(indices, batched), _batched(tuple(input_shape), batched), params
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
    _params.check_array(y, "y", uname, FORWARD_DTYPES)
    batched = _params.check_pool_shape(y.shape, nd, "y", uname)
    out_spatial = _unpool_output_spatial(y.shape[-nd:], params, output_size, y.ndim, uname)
    _check_indices(indices, y.shape, math.prod(out_spatial), uname)
    out = cores.unpool(_batched(y, batched), _batched(indices, batched), out_spatial)
    return _unbatched(out, batched)


def _build_rank(nd, module, impl, cores):  # pragma: no mutate block
    fname = f"max_pool{nd}d"
    bname = f"max_pool{nd}d_backward"
    uname = f"max_unpool{nd}d"
    sp = _SPATIAL[nd]
    osp = ", ".join(f"O{c}" for c in sp.replace(", ", "")) if nd > 1 else "O"

    def max_pool(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        return _pool(cores, nd, fname, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices)

    def max_pool_backward(
        grad_output, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, indices=None
    ):
        return _pool_backward(
            cores, nd, bname, grad_output, x, kernel_size, stride, padding, dilation, ceil_mode, indices
        )

    def max_unpool(y, indices, kernel_size, stride=None, padding=0, output_size=None):
        return _unpool(cores, nd, uname, y, indices, kernel_size, stride, padding, output_size)

    params_doc = _params_doc(nd)
    ex = _EXAMPLES[nd]
    return {
        fname: _finish(
            max_pool,
            fname,
            module,
            _FORWARD_DOC.format(
                nd=nd, impl=impl, sp=sp, osp=osp, params=params_doc,
                example=ex["forward"].format(module=module),
            ),
        ),
        bname: _finish(
            max_pool_backward,
            bname,
            module,
            _BACKWARD_DOC.format(
                nd=nd, impl=impl, params=params_doc, sp_prod="prod(" + sp + ")",
                example=ex["backward"].format(module=module),
            ),
        ),
        uname: _finish(
            max_unpool,
            uname,
            module,
            _UNPOOL_DOC.format(nd=nd, impl=impl, sp=sp, example=ex["unpool"].format(module=module)),
        ),
    }


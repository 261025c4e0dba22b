"""The public functions' docstrings, written once (numpydoc), with one example per rank.

Every implementation (:mod:`poolref.fast`, the default re-exported as ``poolref.*``,
:mod:`poolref.im2col` and :mod:`poolref.naive`) shares these texts: they have the same
signatures and give identical results. The examples import from ``poolref`` and run as
doctests once, from :mod:`poolref._api`.
"""

from __future__ import annotations

from ._params import _SPATIAL_NAMES

_EXAMPLES = {
    1: {
        "forward": """\
>>> import numpy as np
>>> from poolref import max_pool1d
>>> x = np.array([[1., 9., 2., 0., 4., 4.]])      # (C, L) = (1, 6)
>>> y, idx = max_pool1d(x, 2, return_indices=True)
>>> y
array([[9., 2., 4.]])
>>> idx                                           # a tie goes to the first maximum
array([[1, 2, 4]])""",
        "backward": """\
>>> import numpy as np
>>> from poolref import max_pool1d_backward
>>> x = np.array([[1., 9., 2., 0., 4., 4.]])
>>> max_pool1d_backward(np.ones((1, 3)), x, 2)
array([[0., 1., 1., 0., 1., 0.]])""",
        "unpool": """\
>>> import numpy as np
>>> from poolref import max_pool1d, max_unpool1d
>>> x = np.array([[1., 9., 2., 0., 4., 4.]])
>>> y, idx = max_pool1d(x, 2, return_indices=True)
>>> max_unpool1d(y, idx, 2)
array([[0., 9., 2., 0., 4., 0.]])""",
    },
    2: {
        "forward": """\
>>> import numpy as np
>>> from poolref import max_pool2d
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
>>> from poolref import max_pool2d_backward
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
>>> from poolref import max_pool2d, max_unpool2d
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
>>> from poolref import max_pool3d
>>> x = np.arange(16.).reshape(2, 2, 2, 2)        # (C, D, H, W), unbatched
>>> y, idx = max_pool3d(x, 2, return_indices=True)
>>> y.ravel(), idx.ravel()                        # one window per channel
(array([ 7., 15.]), array([7, 7]))""",
        "backward": """\
>>> import numpy as np
>>> from poolref import max_pool3d_backward
>>> x = np.arange(8.).reshape(1, 2, 2, 2)
>>> max_pool3d_backward(np.full((1, 1, 1, 1), 5.), x, 2).ravel()
array([0., 0., 0., 0., 0., 0., 0., 5.])""",
        "unpool": """\
>>> import numpy as np
>>> from poolref import max_pool3d, max_unpool3d
>>> x = np.arange(8.).reshape(1, 2, 2, 2)
>>> y, idx = max_pool3d(x, 2, return_indices=True)
>>> max_unpool3d(y, idx, 2).ravel()
array([0., 0., 0., 0., 0., 0., 0., 7.])""",
    },
}


_UNPOOL_PARAMS_DOC = """\
kernel_size : int or tuple of {nd} ints
    Window size of the forward. ``kernel_size=k`` is equivalent to ``kernel_size=({k_tuple})``;
    so is a 1-tuple ``(k,)``. The same holds for the other two.
stride : int, tuple of {nd} ints or None, optional
    Step between the forward's windows; ``None`` (default) means ``kernel_size``.
padding : int or tuple of {nd} ints, optional
    The forward's implicit padding (there is no dilation, as in PyTorch)."""

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
{nd}-D max pooling with PyTorch's semantics.

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
Gradient of :func:`max_pool{nd}d` with respect to its input.

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
Partial inverse of :func:`max_pool{nd}d`: put each value back at its index.

Parameters
----------
y : numpy.ndarray
    Pooled values, ``(N, C, {sp})`` or ``(C, {sp})``; any forward dtype.
indices : numpy.ndarray
    The forward's int64 indices, same shape as ``y``; ``-1`` entries are skipped.
{params}
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


_IMPLEMENTATIONS = """\

The same function exists in every implementation with the same signature and results:
``poolref.{name}`` (:mod:`poolref.fast`, vectorised), ``poolref.im2col.{name}`` (the im2col
algorithm) and ``poolref.naive.{name}`` (the loop oracle)."""


def _params(nd: int, text: str = _PARAMS_DOC) -> str:
    k_tuple = ", ".join(["k"] * nd) + ("," if nd == 1 else "")
    return text.format(nd=nd, k_tuple=k_tuple)


def forward(nd: int) -> str:
    """The docstring of ``max_pool{nd}d``."""
    sp = _SPATIAL_NAMES[nd]
    osp = ", ".join(f"O{c}" for c in sp.replace(", ", "")) if nd > 1 else "O"
    text = _FORWARD_DOC.format(
        nd=nd, sp=sp, osp=osp, params=_params(nd), example=_EXAMPLES[nd]["forward"]
    )
    return _with_implementations(text, f"max_pool{nd}d")


def backward(nd: int) -> str:
    """The docstring of ``max_pool{nd}d_backward``."""
    text = _BACKWARD_DOC.format(
        nd=nd,
        params=_params(nd),
        sp_prod="prod(" + _SPATIAL_NAMES[nd] + ")",
        example=_EXAMPLES[nd]["backward"],
    )
    return _with_implementations(text, f"max_pool{nd}d_backward")


def unpool(nd: int) -> str:
    """The docstring of ``max_unpool{nd}d``."""
    text = _UNPOOL_DOC.format(
        nd=nd,
        sp=_SPATIAL_NAMES[nd],
        params=_params(nd, _UNPOOL_PARAMS_DOC),
        example=_EXAMPLES[nd]["unpool"],
    )
    return _with_implementations(text, f"max_unpool{nd}d")


def _with_implementations(text: str, name: str) -> str:
    summary, _, rest = text.partition("\n")
    return summary + "\n" + _IMPLEMENTATIONS.format(name=name) + "\n" + rest

"""The docstrings of the adaptive and fractional pools, written once (numpydoc), one example a rank.

:mod:`poolref.adaptive` and :mod:`poolref.fractional` build their public functions per rank with
:func:`poolref._ranked.ranked` and take their text from here (as :mod:`poolref._docstrings` does for
the fixed-window pools). The examples run as doctests of :mod:`poolref.adaptive` and
:mod:`poolref.fractional`.
"""

from __future__ import annotations

_SHAPES = {1: "``(N, C, L)`` or ``(C, L)``", 2: "``(N, C, H, W)`` or ``(C, H, W)``"}
_SHAPES[3] = "``(N, C, D, H, W)`` or ``(C, D, H, W)``"
#: The fractional samples' order, PyTorch's: in 2-D sample 0 is for W; in 3-D it is (T, H, W).
_SAMPLE_ORDER = {2: "(sample 0 for W, sample 1 for H)", 3: "(T, H, W)"}

_ADAPTIVE_EXAMPLES = {
    1: {
        "forward": """\
>>> import numpy as np
>>> from poolref import adaptive_max_pool1d
>>> x = np.array([[1.0, 5.0, 2.0, 7.0, 3.0]])          # (C, L) = (1, 5)
>>> adaptive_max_pool1d(x, 3, return_indices=True)     # windows [0, 2), [1, 4), [3, 5)
(array([[5., 7., 7.]]), array([[1, 3, 3]]))""",
        "backward": """\
>>> import numpy as np
>>> from poolref import adaptive_max_pool1d_backward
>>> x = np.array([[1.0, 5.0, 2.0, 7.0, 3.0]])
>>> adaptive_max_pool1d_backward(np.ones((1, 3)), x, 3)  # two windows select 7.0
array([[0., 1., 0., 2., 0.]])""",
    },
    2: {
        "forward": """\
>>> import numpy as np
>>> from poolref import adaptive_max_pool2d
>>> x = np.array([[[1., 5., 2.],
...                [7., 3., 0.],
...                [4., 6., 8.]]])                     # (C, H, W) = (1, 3, 3)
>>> y, idx = adaptive_max_pool2d(x, 2, return_indices=True)
>>> y
array([[[7., 5.],
        [7., 8.]]])
>>> idx
array([[[3, 1],
        [3, 8]]])""",
        "backward": """\
>>> import numpy as np
>>> from poolref import adaptive_max_pool2d_backward
>>> x = np.array([[[1., 5., 2.],
...                [7., 3., 0.],
...                [4., 6., 8.]]])
>>> adaptive_max_pool2d_backward(np.ones((1, 2, 2)), x, 2)[0]
array([[0., 1., 0.],
       [2., 0., 0.],
       [0., 0., 1.]])""",
    },
    3: {
        "forward": """\
>>> import numpy as np
>>> from poolref import adaptive_max_pool3d
>>> x = np.arange(8.0).reshape(1, 2, 2, 2)             # (C, D, H, W)
>>> y, idx = adaptive_max_pool3d(x, (1, None, 1), return_indices=True)  # None keeps H
>>> y[0, 0, :, 0], idx[0, 0, :, 0]
(array([5., 7.]), array([5, 7]))""",
        "backward": """\
>>> import numpy as np
>>> from poolref import adaptive_max_pool3d_backward
>>> x = np.arange(8.0).reshape(1, 2, 2, 2)
>>> adaptive_max_pool3d_backward(np.ones((1, 1, 2, 1)), x, (1, None, 1))[0, 1]
array([[0., 1.],
       [0., 1.]])""",
    },
}

_FRACTIONAL_EXAMPLES = {
    2: {
        "forward": """\
>>> import numpy as np
>>> from poolref import fractional_max_pool2d
>>> x = np.arange(25.0).reshape(1, 1, 5, 5)
>>> u = np.full((1, 1, 2), 0.5)                        # (N, C, 2): PyTorch's random_samples
>>> y, idx = fractional_max_pool2d(x, 2, output_size=3, return_indices=True, random_samples=u)
>>> idx[0, 0]                                          # window starts 0, 2, 3 in H and W
array([[ 6,  8,  9],
       [16, 18, 19],
       [21, 23, 24]])""",
        "backward": """\
>>> import numpy as np
>>> from poolref import fractional_max_pool2d_backward
>>> x = np.arange(25.0).reshape(1, 1, 5, 5)
>>> u = np.full((1, 1, 2), 0.5)
>>> fractional_max_pool2d_backward(np.ones((1, 1, 3, 3)), x, 2, 3, random_samples=u)[0, 0]
array([[0., 0., 0., 0., 0.],
       [0., 1., 0., 1., 1.],
       [0., 0., 0., 0., 0.],
       [0., 1., 0., 1., 1.],
       [0., 1., 0., 1., 1.]])""",
    },
    3: {
        "forward": """\
>>> import numpy as np
>>> from poolref import fractional_max_pool3d
>>> x = np.arange(27.0).reshape(1, 3, 3, 3)            # unbatched (C, T, H, W)
>>> u = np.full((1, 1, 3), 0.5)                        # (1, C, 3) for unbatched input
>>> fractional_max_pool3d(x, 2, output_size=2, random_samples=u)[0, 1]
array([[22., 23.],
       [25., 26.]])""",
        "backward": """\
>>> import numpy as np
>>> from poolref import fractional_max_pool3d_backward
>>> x = np.arange(27.0).reshape(1, 3, 3, 3)
>>> u = np.full((1, 1, 3), 0.5)
>>> fractional_max_pool3d_backward(np.ones((1, 2, 2, 2)), x, 2, 2, random_samples=u)[0, 2]
array([[0., 0., 0.],
       [0., 1., 1.],
       [0., 1., 1.]])""",
    },
}

#: The backwards' first two parameters (adaptive and fractional alike).
_GRAD_AND_X = """\
grad_output : numpy.ndarray
    Gradient of the forward's output (float16, float32 or float64).
x : numpy.ndarray or tuple of int
    The forward's input, or (with ``indices``) just its shape."""

_ADAPTIVE_FORWARD = """\
{nd}-D adaptive max pooling, as ``torch.nn.functional.adaptive_max_pool{nd}d``.

Parameters
----------
x : numpy.ndarray
    Input of shape {shape}; float16/32/64, int8/16/32/64 or uint8.
output_size : int or tuple of int or None
    The output's spatial size: one int for every dimension, or {nd} entries, each an
    int >= 1 or None (keep the input's size in that dimension).
return_indices : bool, optional
    Also return the int64 flat row-major index of every selected element in its plane.

Returns
-------
numpy.ndarray or tuple of numpy.ndarray
    The pooled array (``x``'s dtype), or ``(output, indices)`` with ``return_indices=True``.

Examples
--------
{example}
"""

_ADAPTIVE_BACKWARD = """\
Gradient of :func:`adaptive_max_pool{nd}d` with respect to its input.

Parameters
----------
{grad_and_x}
output_size : int or tuple of int or None
    The forward's ``output_size``.
indices : numpy.ndarray, optional
    The forward's indices; when None they are recomputed from ``x``.

Returns
-------
numpy.ndarray
    Gradient of the input's shape and ``grad_output``'s dtype; gradients of outputs that
    select the same element add up (in float64, cast once).

Examples
--------
{example}
"""

_FRACTIONAL_FORWARD = """\
{nd}-D fractional max pooling, as ``torch.nn.functional.fractional_max_pool{nd}d``.

Parameters
----------
x : numpy.ndarray
    Input of shape {shape}.
kernel_size : int or tuple of int
    The window size.
output_size : int or tuple of int, optional
    The output's spatial size (exactly one of ``output_size`` and ``output_ratio``).
output_ratio : float or tuple of float, optional
    Output size as a fraction of the input size in (0, 1) (truncated, as PyTorch).
return_indices : bool, optional
    Also return the int64 flat row-major index of every selected element in its plane.
random_samples : numpy.ndarray, optional
    Samples in [0, 1) of shape ``(N, C, {nd})`` (``(1, C, {nd})`` for unbatched input), in
    PyTorch's order {order}, of ``x``'s float dtype.
rng : numpy.random.Generator, optional
    Draws the samples when ``random_samples`` is None.

Returns
-------
numpy.ndarray or tuple of numpy.ndarray
    The pooled array, or ``(output, indices)`` with ``return_indices=True``.

Examples
--------
{example}
"""

_FRACTIONAL_BACKWARD = """\
Gradient of :func:`fractional_max_pool{nd}d` with respect to its input.

Parameters
----------
{grad_and_x}
kernel_size : int or tuple of int
    The forward's ``kernel_size``.
output_size : int or tuple of int, optional
    The forward's ``output_size``.
output_ratio : float or tuple of float, optional
    The forward's ``output_ratio``.
random_samples : numpy.ndarray, optional
    The forward's samples (needed when ``indices`` is None).
indices : numpy.ndarray, optional
    The forward's indices.

Returns
-------
numpy.ndarray
    Gradient of the input's shape (float64 sums, cast once to ``grad_output``'s dtype).

Examples
--------
{example}
"""


def adaptive(nd: int, kind: str) -> str:
    """The docstring of ``adaptive_max_pool{nd}d`` (``kind="forward"``) or its backward."""
    text = _ADAPTIVE_FORWARD if kind == "forward" else _ADAPTIVE_BACKWARD
    example = _ADAPTIVE_EXAMPLES[nd][kind]
    return text.format(nd=nd, shape=_SHAPES[nd], example=example, grad_and_x=_GRAD_AND_X)


def fractional(nd: int, kind: str) -> str:
    """The docstring of ``fractional_max_pool{nd}d`` (``kind="forward"``) or its backward."""
    text = _FRACTIONAL_FORWARD if kind == "forward" else _FRACTIONAL_BACKWARD
    example = _FRACTIONAL_EXAMPLES[nd][kind]
    return text.format(
        nd=nd, shape=_SHAPES[nd], order=_SAMPLE_ORDER[nd], example=example, grad_and_x=_GRAD_AND_X
    )

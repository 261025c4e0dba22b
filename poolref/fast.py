"""The vectorised implementation: the default behind ``poolref.max_pool*d``.

How it works. For every tap of the kernel (a loop over at most
``prod(kernel_size)`` taps, never over batch, channels or outputs) the outputs
that read a *valid* input element at that tap form a box, and the elements
they read form a strided view of the input. The box is computed per dimension
in :func:`poolref._fast_geometry._geometry`, so padding is never
materialised: padded taps are simply not visited. Each tap updates the running
maximum in place where its value is strictly greater (or NaN), which gives
PyTorch's rules directly: ties keep the first maximum and a NaN window ends on
its last NaN. Values are updated with ``np.maximum``, which is exact unless the
input holds NaN or ``-0.0`` (checked once per call); then the value is copied
from the chosen element instead, so ``-0.0`` stays ``-0.0`` and NaN payloads
follow the index.

What is kept between forward and backward is a *code* per output, ``1 +``
the tap number of its maximum (``0`` for an empty window): one byte per
output element for kernels of up to 255 taps; the input is not kept. The
backward writes (or, where windows overlap, adds) ``grad_output`` into one
strided view of ``grad_input`` per tap, under the mask ``code == tap + 1``;
there is no ``np.add.at``. Memory is proportional to input + output: no im2col copy.

Where the code lives. This module binds the public functions and defines the
``MaxPool1d/2d/3d`` layers; the kernels are in :mod:`poolref._fast_kernels` and
the window geometry they share in :mod:`poolref._fast_geometry`, neither of
which shares window logic with :mod:`poolref.naive` or :mod:`poolref.im2col`.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from . import _api, _params
from ._fast_kernels import (
    _backward_from_codes,
    _backward_from_indices,
    _backward_from_input,
    _forward,
    _max_and_codes,
    _unpool,
)

__all__ = [
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "max_pool1d",
    "max_pool1d_backward",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool3d",
    "max_pool3d_backward",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
]


_public = _api.build(
    __name__,
    "vectorised",
    forward=_forward,
    backward_from_input=_backward_from_input,
    backward_from_indices=_backward_from_indices,
    unpool=_unpool,
)
max_pool1d: Final = _public.max_pool1d
max_pool2d: Final = _public.max_pool2d
max_pool3d: Final = _public.max_pool3d
max_pool1d_backward: Final = _public.max_pool1d_backward
max_pool2d_backward: Final = _public.max_pool2d_backward
max_pool3d_backward: Final = _public.max_pool3d_backward
max_unpool1d: Final = _public.max_unpool1d
max_unpool2d: Final = _public.max_unpool2d
max_unpool3d: Final = _public.max_unpool3d


# ----------------------------------------------------------------------------
# Layers: forward keeps one small integer per output, backward uses it.
# ----------------------------------------------------------------------------


class _MaxPoolNd:
    """Max-pooling layer that keeps only the tap number of each maximum for backward."""

    nd: int

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        self._name = type(self).__name__
        self.params = _params.normalize_pool_args(
            self.nd, kernel_size, stride, padding, dilation, ceil_mode, func=self._name
        )
        self._saved = None  # (codes, input_shape, dtype, batched) after forward

    def __repr__(self):
        p = self.params
        return (
            f"{self._name}(kernel_size={p.kernel_size}, stride={p.stride}, "
            f"padding={p.padding}, dilation={p.dilation}, ceil_mode={p.ceil_mode})"
        )

    @property
    def saved_nbytes(self) -> int:
        """Bytes kept between ``forward`` and ``backward`` (one code per output element)."""
        return 0 if self._saved is None else self._saved[0].nbytes

    def forward(self, x):
        """Pool ``x`` (``(N, C, *spatial)`` or ``(C, *spatial)``) and remember the argmax taps."""
        fname = f"{self._name}.forward"
        x = _params.check_array(x, "x", fname, _params.FORWARD_DTYPES)
        batched = _params.check_pool_shape(x.shape, self.nd, "x", fname)
        out_spatial = _params.check_output_shape(x.shape[-self.nd :], self.params, fname)
        xb = x if batched else x[np.newaxis]
        y, codes = _max_and_codes(xb, self.params, out_spatial)
        self._saved = (codes, xb.shape, x.dtype, batched)
        return y if batched else y[0]

    def backward(self, grad_output):
        """Gradient with respect to the last ``forward``'s input."""
        fname = f"{self._name}.backward"
        if self._saved is None:
            msg = f"{fname}: call forward before backward"
            raise RuntimeError(msg)
        codes, input_shape, dtype, batched = self._saved
        grad_output = _params.check_array(
            grad_output, "grad_output", fname, _params.BACKWARD_DTYPES
        )
        if grad_output.dtype != dtype:
            msg = (
                f"{fname}: grad_output.dtype={grad_output.dtype} must match the input dtype {dtype}"
            )
            raise TypeError(msg)
        gb = grad_output if batched else grad_output[np.newaxis]
        if gb.shape != codes.shape:
            expected = codes.shape if batched else codes.shape[1:]
            msg = f"{fname}: grad_output.shape={grad_output.shape} does not match the output shape {expected}"
            raise ValueError(msg)
        grad = _backward_from_codes(gb, codes, input_shape, self.params)
        return grad if batched else grad[0]


def _layer_doc(nd: int) -> str:
    example = {
        1: """    >>> layer = MaxPool1d(2)
    >>> x = np.array([[1., 9., 2., 0., 4., 4.]])
    >>> layer.forward(x)
    array([[9., 2., 4.]])
    >>> layer.backward(np.ones((1, 3)))
    array([[0., 1., 1., 0., 1., 0.]])""",
        2: """    >>> layer = MaxPool2d(2)
    >>> x = np.array([[[1., 9., 2., 0.], [4., 3., 8., 7.], [0., 6., 5., 5.], [2., 1., 3., 4.]]])
    >>> layer.forward(x)
    array([[[9., 8.],
            [6., 5.]]])
    >>> layer.saved_nbytes                            # one byte per output element
    4
    >>> layer.backward(np.ones((1, 2, 2)))[0]
    array([[0., 1., 0., 0.],
           [0., 0., 1., 0.],
           [0., 1., 1., 0.],
           [0., 0., 0., 0.]])""",
        3: """    >>> layer = MaxPool3d(2)
    >>> x = np.arange(8.).reshape(1, 2, 2, 2)
    >>> layer.forward(x).ravel()
    array([7.])
    >>> layer.backward(np.ones((1, 1, 1, 1))).ravel()
    array([0., 0., 0., 0., 0., 0., 0., 1.])""",
    }[nd]
    return f"""{nd}-D max-pooling layer (forward and backward) with PyTorch's semantics.

    ``forward(x)`` returns the same values as :func:`max_pool{nd}d` and keeps, per
    output element, only the number of the kernel tap that held the maximum
    (``uint8`` for kernels of up to 255 taps), not the input.
    ``backward(grad_output)`` returns the gradient with respect to that input,
    equal to :func:`max_pool{nd}d_backward`.

    Parameters
    ----------
    kernel_size, stride, padding, dilation, ceil_mode
        As in :func:`max_pool{nd}d`.

    Raises
    ------
    TypeError, ValueError
        Bad parameters (in the constructor) or bad input (in ``forward``/``backward``),
        as in the functional API. ``RuntimeError`` if ``backward`` comes before ``forward``.

    Examples
    --------
    >>> import numpy as np
    >>> from poolref.fast import MaxPool{nd}d
{example}
    """


class MaxPool1d(_MaxPoolNd):
    __doc__ = _layer_doc(1)
    nd = 1


class MaxPool2d(_MaxPoolNd):
    __doc__ = _layer_doc(2)
    nd = 2


class MaxPool3d(_MaxPoolNd):
    __doc__ = _layer_doc(3)
    nd = 3

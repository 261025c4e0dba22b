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

from typing import Any, ClassVar, Final

import numpy as np
from numpy.typing import NDArray

from . import _api, _docstrings, _params
from ._fast_kernels import (
    _backward_from_codes,
    _backward_from_indices,
    _backward_from_input,
    _forward,
    _max_and_codes,
    _unpool,
)
from ._params import PoolParams

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


#: What ``forward`` keeps for ``backward``: the codes (one per output, ``1 +`` the tap number
#: of its maximum, ``0`` for an empty window), the batched input shape, the input dtype, and
#: whether the input was batched.
_Saved = tuple[NDArray[np.unsignedinteger[Any]], tuple[int, ...], np.dtype[Any], bool]


class _MaxPoolNd:
    """Max-pooling layer that keeps only the tap number of each maximum for backward."""

    #: The number of spatial dimensions (1, 2 or 3), set by each subclass.
    nd: ClassVar[int]
    #: The normalised ``kernel_size``, ``stride``, ``padding``, ``dilation`` and ``ceil_mode``.
    params: PoolParams
    _name: str
    _saved: _Saved | None

    def __init__(
        self,
        kernel_size: _api.Size,
        stride: _api.Size | None = None,
        padding: _api.Size = 0,
        dilation: _api.Size = 1,
        ceil_mode: bool = False,
    ) -> None:
        self._name = type(self).__name__
        self.params = _params.normalize_pool_args(
            self.nd, kernel_size, stride, padding, dilation, ceil_mode, func=self._name
        )
        self._saved = None  # (codes, input_shape, dtype, batched) after forward

    def __repr__(self) -> str:
        p = self.params
        return (
            f"{self._name}(kernel_size={p.kernel_size}, stride={p.stride}, "
            f"padding={p.padding}, dilation={p.dilation}, ceil_mode={p.ceil_mode})"
        )

    @property
    def saved_nbytes(self) -> int:
        """Bytes kept between ``forward`` and ``backward`` (one code per output element)."""
        return 0 if self._saved is None else self._saved[0].nbytes

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        """Pool ``x`` and remember, per output element, the kernel tap that held the maximum.

        Parameters
        ----------
        x : numpy.ndarray
            Input of shape ``(N, C, *spatial)`` or unbatched ``(C, *spatial)``, with the
            layer's number of spatial dimensions; dtype float16, float32, float64, int8,
            int16, int32, int64 or uint8. Any memory layout.

        Returns
        -------
        numpy.ndarray
            The pooled values, equal to the functional ``max_pool*d``'s: shape
            ``(N, C, *out_spatial)`` (unbatched if ``x`` is), ``x``'s dtype; a new array.

        Raises
        ------
        TypeError
            ``x`` is not an ndarray or has an unsupported dtype.
        ValueError
            Wrong rank; ``C == 0`` or an empty spatial dimension; a computed output size < 1.
        """
        fname = f"{self._name}.forward"
        x = _params.check_array(x, "x", fname, _params.FORWARD_DTYPES)
        batched = _params.check_pool_shape(x.shape, self.nd, "x", fname)
        out_spatial = _params.check_output_shape(x.shape[-self.nd :], self.params, fname)
        xb = x if batched else x[np.newaxis]
        y, saved = self._pool_and_save(xb, out_spatial)
        self._saved = (saved, xb.shape, x.dtype, batched)
        return y if batched else y[0]

    def _pool_and_save(self, xb: NDArray[Any], out_spatial: tuple[int, ...]):
        """The batched forward and what backward needs per output (here: the tap codes)."""
        return _max_and_codes(xb, self.params, out_spatial)

    def _backward_saved(self, gb: NDArray[Any], saved, input_shape: tuple[int, ...]):
        """The batched backward from what :meth:`_pool_and_save` kept."""
        return _backward_from_codes(gb, saved, input_shape, self.params)

    def backward(self, grad_output: NDArray[Any]) -> NDArray[Any]:
        """Gradient with respect to the last ``forward``'s input.

        Parameters
        ----------
        grad_output : numpy.ndarray
            Gradient with respect to the last ``forward``'s output: its shape and the input's
            dtype, which must be float16, float32 or float64.

        Returns
        -------
        numpy.ndarray
            Same shape as the last ``forward``'s input and its dtype; a new array, equal to
            the functional ``max_pool*d_backward``'s.

        Raises
        ------
        RuntimeError
            ``forward`` has not been called yet.
        TypeError
            ``grad_output`` is not an ndarray, is not a float array, or its dtype is not the
            input's.
        ValueError
            ``grad_output``'s shape is not the last output's.
        """
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
        grad = self._backward_saved(gb, codes, input_shape)
        return grad if batched else grad[0]


_LAYER_EXAMPLES = {
    1: """\
>>> layer = MaxPool1d(2)
>>> x = np.array([[1., 9., 2., 0., 4., 4.]])
>>> layer.forward(x)
array([[9., 2., 4.]])
>>> layer.backward(np.ones((1, 3)))
array([[0., 1., 1., 0., 1., 0.]])""",
    2: """\
>>> layer = MaxPool2d(2)
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
    3: """\
>>> layer = MaxPool3d(2)
>>> x = np.arange(8.).reshape(1, 2, 2, 2)
>>> layer.forward(x).ravel()
array([7.])
>>> layer.backward(np.ones((1, 1, 1, 1))).ravel()
array([0., 0., 0., 0., 0., 0., 0., 1.])""",
}

_LAYER_DOC = """\
{nd}-D max-pooling layer (forward and backward) with PyTorch's semantics.

``forward(x)`` returns the same values as :func:`max_pool{nd}d` and keeps, per
output element, only the number of the kernel tap that held the maximum
(``uint8`` for kernels of up to 255 taps), not the input.
``backward(grad_output)`` returns the gradient with respect to that input,
equal to :func:`max_pool{nd}d_backward`.

Parameters
----------
{params}

Raises
------
TypeError
    A parameter is a bool, float, str or other non-int; ``ceil_mode`` is not a bool.
ValueError
    A tuple of the wrong length; ``kernel_size``, ``stride`` or ``dilation`` < 1;
    ``padding`` < 0 or > ``kernel_size // 2``.

See Also
--------
max_pool{nd}d : The same forward as a function, with the indices on request.
max_pool{nd}d_backward : The same backward as a function, from the input or the indices.

Notes
-----
The output size is that of :func:`max_pool{nd}d` (its Notes give the formula).
``forward`` and ``backward`` check their input as the functions do and raise the same
errors; ``backward`` raises ``RuntimeError`` if no ``forward`` came before it.

Examples
--------
>>> import numpy as np
>>> from poolref.fast import MaxPool{nd}d
{example}
"""


def _layer_doc(nd: int) -> str:  # pragma: no mutate block
    # import-time docstring text: mutmut switches mutants at call time, so none could be active
    return _LAYER_DOC.format(nd=nd, params=_docstrings._params(nd), example=_LAYER_EXAMPLES[nd])


class MaxPool1d(_MaxPoolNd):
    __doc__ = _layer_doc(1)
    nd = 1


class MaxPool2d(_MaxPoolNd):
    __doc__ = _layer_doc(2)
    nd = 2


class MaxPool3d(_MaxPoolNd):
    __doc__ = _layer_doc(3)
    nd = 3

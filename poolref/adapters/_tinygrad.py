"""tinygrad: ``Tensor.max_pool2d`` (any rank, PyTorch's arguments) and tinygrad's autograd."""

from __future__ import annotations

import numpy as np

from ..testing import ALL_DTYPES, Behaviour, Candidate, Support
from ._common import _import, _source

#: PyTorch's rules, which tinygrad's documentation promises, except three
#: implementation-defined ones (observed, not documented): a NaN is kept only
#: when it is the first element of its window (``nan="strict"``), the
#: gradient of tied maxima is split between them (tinygrad's ``max``
#: backward), and the indices are tinygrad's default int dtype (int32).
TINYGRAD = Behaviour(ties="any", nan="strict", index_dtype=None)


def tinygrad() -> Candidate:
    """``Tensor.max_pool2d(kernel_size, stride, dilation, padding, ceil_mode, return_indices=True)``.

    tinygrad pools the trailing ``len(kernel_size)`` axes and takes
    PyTorch's arguments, so every rank, padding, dilation and ``ceil_mode``
    is passed through; its documentation promises PyTorch's semantics, so
    PyTorch's rules are declared, except :data:`TINYGRAD`'s three. The gradient is ``y.gradient(x,
    gradient=grad_output)``. Each new shape is compiled (seconds, with
    clang), hence ``budget_scale=0.05``; the CPU device needs a C compiler.

    Returns
    -------
    Candidate
        Ready for :func:`poolref.testing.check_max_pool` or ``poolref verify``.
    """
    tg = _import("tinygrad", "tinygrad", "pip install tinygrad (its CPU device also needs clang)")
    tensor = tg.Tensor

    def call(t, kernel_size, stride, padding, dilation, ceil_mode, indices):
        return t.max_pool2d(
            tuple(kernel_size),
            tuple(stride),
            tuple(dilation),
            tuple(padding),
            bool(ceil_mode),
            return_indices=indices,
        )

    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        y, idx = call(
            tensor(np.ascontiguousarray(x)), kernel_size, stride, padding, dilation, ceil_mode, True
        )
        return y.numpy(), idx.numpy()

    def backward(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode):
        t = tensor(np.ascontiguousarray(x))
        y = call(t, kernel_size, stride, padding, dilation, ceil_mode, False)
        (grad,) = y.gradient(t, gradient=tensor(np.ascontiguousarray(grad_output)))
        return grad.numpy()

    version = getattr(tg, "__version__", None) or _version("tinygrad")
    return Candidate(
        forward,
        backward,
        Support(dtypes=ALL_DTYPES),
        TINYGRAD,
        budget_scale=0.05,
        name=f"tinygrad {version} Tensor.max_pool2d ({tg.Device.DEFAULT})",
        source=_source("tinygrad"),
    )


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)

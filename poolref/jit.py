"""The compiled implementation (numba): the default behind ``poolref.max_pool*d`` when installed.

``pip install "poolref[jit]"``. The functions here always take the compiled path (float16
excepted: numba has no native float16 arithmetic, so float16 arrays take :mod:`poolref.fast`'s
NumPy kernels). ``poolref.max_pool*d`` use them automatically when numba can be imported; see
:func:`poolref.backend` for the switch and the thread count.

How it works. Argument checks are the shared ones (:mod:`poolref._params`, once per call, cached
per shape); then one compiled loop nest per call: for each output row it folds whole input rows
into the row of running maxima, two or three kernel taps a pass, reading only the valid taps
(padding is never read), with a branch-free select that the compiler vectorises: a tap takes
over where it is strictly greater or NaN, and the first valid tap always starts a window, which
is PyTorch's rule. 1-D and 2-D inputs are pooled as 3-D with unit axes (views). An input over
C-contiguous ``(N, H, W, C)`` memory seen as ``(N, C, H, W)`` (what ``x.transpose(0, 3, 1, 2)``
gives) runs a channels-last loop order (whole channel vectors per tap) without a copy and
returns channels-last outputs; any other layout is copied to C order once. The backward and
unpool scatter by index over ``(N, C, plane)`` views and check each index's range as they go.
Kernels compile on their first use per dtype and layout and are cached on disk (numba's
``cache=True``): nothing compiles at import.

Importing this module imports numba (``import poolref`` does not); without numba it raises
``ImportError``.

>>> import numpy as np
>>> from poolref import jit
>>> jit.max_pool2d(np.arange(16.0).reshape(1, 4, 4), 2, return_indices=True)
(array([[[ 5.,  7.],
        [13., 15.]]]), array([[[ 5,  7],
        [13, 15]]]))
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final

from . import _api, _backend

_backend.require_numba()

from . import _jit_cores, _jit_fast  # noqa: E402  (after the clear error above)

__all__ = [
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
    "compiled",
    forward=_jit_cores._forward,
    backward_from_input=_jit_cores._backward_from_input,
    backward_from_indices=_jit_cores._backward_from_indices,
    unpool=_jit_cores._unpool,
    checks_indices=_jit_cores._checks_indices,
)


def _with_entries(nd: int, checked: Callable[..., Any]) -> Callable[..., Any]:
    """``checked`` (a forward) answered from :mod:`poolref._jit_fast`'s entries where it can."""
    lookup = _jit_fast.forward

    @functools.wraps(checked)
    def pool(
        x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
    ):
        out = lookup(nd, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
        if out is None:
            args = (x, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
            out = checked(*args)
            _jit_fast.remember_forward(nd, *args)
        return out

    return pool


def _backward_with_entries(nd: int, checked: Callable[..., Any]) -> Callable[..., Any]:
    """``checked`` (a backward) answered from :mod:`poolref._jit_fast`'s entries where it can."""

    @functools.wraps(checked)
    def pool_backward(
        grad_output,
        x,
        kernel_size,
        stride=None,
        padding=0,
        dilation=1,
        ceil_mode=False,
        indices=None,
    ):
        args = (grad_output, x, kernel_size, stride, padding, dilation, ceil_mode, indices)
        out = None if indices is None else _jit_fast.backward(nd, *args)
        if out is None:
            out = checked(*args)
            if indices is not None:
                _jit_fast.remember_backward(nd, *args)
        return out

    return pool_backward


max_pool1d: Final = _with_entries(1, _public.max_pool1d)
max_pool2d: Final = _with_entries(2, _public.max_pool2d)
max_pool3d: Final = _with_entries(3, _public.max_pool3d)
max_pool1d_backward: Final = _backward_with_entries(1, _public.max_pool1d_backward)
max_pool2d_backward: Final = _backward_with_entries(2, _public.max_pool2d_backward)
max_pool3d_backward: Final = _backward_with_entries(3, _public.max_pool3d_backward)
max_unpool1d: Final = _public.max_unpool1d
max_unpool2d: Final = _public.max_unpool2d
max_unpool3d: Final = _public.max_unpool3d

"""poolref: reference max pooling with PyTorch's exact semantics.

The functions here call the compiled kernels of :mod:`poolref.jit` when numba
is installed, else those of :mod:`poolref.fast` (vectorised NumPy); the
``POOLREF_BACKEND`` environment variable and :func:`backend` force either
(docs/jit.md), and so do the ``MaxPool*d`` layers (:mod:`poolref.fast`'s
layers on the NumPy backend).
:mod:`poolref.im2col` (the classic im2col/col2im algorithm) and
:mod:`poolref.naive` (the loop oracle) have the same signatures and are
written independently, so each checks the others.

>>> import numpy as np, poolref
>>> x = np.array([[[1., 9., 2., 0.],
...                [4., 3., 8., 7.],
...                [0., 6., 5., 5.],
...                [2., 1., 3., 4.]]])
>>> y, idx = poolref.max_pool2d(x, 2, return_indices=True)
>>> y
array([[[9., 8.],
        [6., 5.]]])
>>> idx
array([[[ 1,  6],
        [ 9, 10]]])
"""

from typing import Any, Final

from . import adaptive, fast, fractional, im2col, naive
from ._auto_layers import MaxPool1d, MaxPool2d, MaxPool3d
from ._backend import backend
from ._backend import public as _public
from .adaptive import (
    adaptive_max_pool1d,
    adaptive_max_pool1d_backward,
    adaptive_max_pool2d,
    adaptive_max_pool2d_backward,
    adaptive_max_pool3d,
    adaptive_max_pool3d_backward,
)
from .fractional import (
    fractional_max_pool2d,
    fractional_max_pool2d_backward,
    fractional_max_pool3d,
    fractional_max_pool3d_backward,
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


def __getattr__(name: str) -> Any:
    """``poolref.jit`` imports the compiled backend (and numba) on first access only."""
    if name == "jit":
        import importlib

        return importlib.import_module("poolref.jit")
    msg = f"module 'poolref' has no attribute {name!r}"
    raise AttributeError(msg)


__version__ = "0.1.0"

__all__ = [
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "adaptive",
    "adaptive_max_pool1d",
    "adaptive_max_pool1d_backward",
    "adaptive_max_pool2d",
    "adaptive_max_pool2d_backward",
    "adaptive_max_pool3d",
    "adaptive_max_pool3d_backward",
    "backend",
    "fast",
    "fractional",
    "fractional_max_pool2d",
    "fractional_max_pool2d_backward",
    "fractional_max_pool3d",
    "fractional_max_pool3d_backward",
    "im2col",
    "max_pool1d",
    "max_pool1d_backward",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool3d",
    "max_pool3d_backward",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
    "naive",
]

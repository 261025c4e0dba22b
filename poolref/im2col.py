"""Max pooling by the classic im2col/col2im algorithm (the deepnet tutorial, modernised).

The tutorial's ``Maxpool`` layer pools by stretching every receptive field
into a column and taking ``np.argmax`` down the columns; its backward writes
the gradient into the argmax rows of a zero column matrix and folds the
columns back with ``col2im``. This module keeps that algorithm and extends it
to the full poolref API (1-D/2-D/3-D, padding, dilation, ceil_mode, indices,
unpool) with PyTorch's exact semantics:

1. Reshape ``x`` of shape ``(N, C, *S)`` to ``N*C`` single-channel images
   ``(N*C, 1, *S)``, so every column holds one window of one ``(n, c)`` plane.
2. :func:`im2col` builds a ``(K, N*C*P)`` matrix (``K`` window taps, ``P``
   output positions; column ``b*P + o`` is window ``o`` of plane ``b``). Pooling
   keeps only the rows of taps that some window reads inside the input
   (:func:`_taps_inside`), so a huge padded kernel costs nothing. Padded
   taps hold the dtype's lowest value *and* are marked invalid in the
   :func:`im2col_indices` table (index ``-1``), because a real ``-inf`` (or
   ``iinfo.min``) must still beat the padding.
3. ``np.argmax`` down each column gives the first maximum (PyTorch's tie
   rule). Two fix-ups make it PyTorch's rule exactly: a column holding a NaN
   takes its *last* NaN (``np.argmax`` stops at the first one), and a column
   whose argmax landed on a padded tap (possible only when the maximum equals
   the pad value) takes its first valid tap instead. A window with no valid
   tap keeps its padded tap: value = lowest, index = ``-1``.
4. The value is read at the chosen row (never ``np.max``, so ``-0.0``/``+0.0``
   follow the index); the index is the chosen row of the index table.
5. Backward: scatter ``grad_output`` into a zero ``dX_col`` at the argmax rows
   and :func:`col2im` it, which sums overlapping windows (in float64, in the
   row-major order of the outputs) and drops padded taps.

What the tutorial got wrong, and how it is fixed here: square kernels only
(``size`` is used for both ``h_filter`` and ``w_filter``); ``/`` on ints
(``(h - size) / stride + 1`` is an int in Python 2, which has no
``is_integer``, and a float in Python 3); no padding, dilation or ceil_mode; a
NaN index that differs from PyTorch's. Window geometry (:func:`output_length`,
:func:`im2col_indices`) is computed independently of ``poolref.fast``,
``poolref.naive`` and ``poolref._params``, so the cross-checks test it.

Layout: the window geometry lives in ``poolref._im2col_windows``, the column
matrix (:func:`im2col`, :func:`col2im`, the argmax rules of steps 3-4) in
``poolref._im2col_columns``, and the tutorial's layer :class:`Maxpool` in
:mod:`poolref.tutorial`; this module holds the pooling functions built on
them and re-exports those names. None of them imports ``poolref.fast`` or
``poolref.naive``.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from . import _api
from ._im2col_columns import _fold, _pool_columns, _scatter_add, col2im, im2col
from ._im2col_windows import im2col_indices, output_length
from ._params import PoolParams
from .tutorial import Maxpool

__all__ = [
    "Maxpool",
    "col2im",
    "im2col",
    "im2col_indices",
    "max_pool1d",
    "max_pool1d_backward",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool3d",
    "max_pool3d_backward",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
    "output_length",
]


# ----------------------------------------------------------------------------
# The core functions (poolref._api's contract) and the public functions
# ----------------------------------------------------------------------------


def _forward(
    x: NDArray[Any], params: PoolParams, with_indices: bool
) -> tuple[NDArray[Any], NDArray[np.int64] | None]:
    x = np.asarray(x)  # an ndarray subclass is pooled as a plain ndarray (docs/memory.md)
    n_batch, n_chan = x.shape[:2]
    cols, index, rows, out_spatial = _pool_columns(x, params)
    shape = (n_batch, n_chan, *out_spatial)
    y = cols[rows.ravel(), np.arange(rows.size)].reshape(shape)  # read at the index
    if not with_indices:
        return y, None
    indices = index[rows, np.arange(index.shape[1])].reshape(shape)
    return y, indices


def _backward_from_input(
    grad_output: NDArray[Any], x: NDArray[Any], params: PoolParams
) -> NDArray[Any]:
    grad_output, x = np.asarray(grad_output), np.asarray(x)
    n_batch, n_chan, *spatial = x.shape
    cols, index, rows, _ = _pool_columns(x, params)
    d_cols = np.zeros(cols.shape, dtype=np.float64)
    d_cols[rows.ravel(), np.arange(rows.size)] = grad_output.reshape(-1)
    grad = _fold(d_cols, index, (n_batch * n_chan, 1, *spatial), "col2im")
    return grad.reshape(x.shape).astype(grad_output.dtype)


def _backward_from_indices(
    grad_output: NDArray[Any],
    indices: NDArray[np.int64],
    input_shape: tuple[int, ...],
    params: PoolParams,
) -> NDArray[Any]:
    del params  # the indices already say where each gradient goes
    n_batch, n_chan, *spatial = input_shape
    n_planes, n_out = n_batch * n_chan, math.prod(grad_output.shape[2:])
    grad = _scatter_add(
        grad_output.reshape(n_planes, n_out, 1),
        indices.reshape(n_planes, n_out, 1),
        n_planes,
        math.prod(spatial),
        np.float64,
    )
    return grad.reshape(input_shape).astype(grad_output.dtype)


def _unpool(
    y: NDArray[Any], indices: NDArray[np.int64], out_spatial: tuple[int, ...]
) -> NDArray[Any]:
    n_planes, n_out = y.shape[0] * y.shape[1], math.prod(y.shape[2:])
    plane_size = math.prod(out_spatial)
    target = (np.arange(n_planes)[:, None] * plane_size + indices.reshape(n_planes, n_out)).ravel()
    source = np.arange(target.size)
    keep = indices.reshape(-1) >= 0
    # Last row-major write wins, deterministically: the largest source position per target.
    winner = np.full(n_planes * plane_size, -1, dtype=np.int64)
    np.maximum.at(winner, target[keep], source[keep])
    out = np.zeros(n_planes * plane_size, dtype=y.dtype)
    hit = winner >= 0
    out[hit] = y.reshape(-1)[winner[hit]]
    return out.reshape(*y.shape[:2], *out_spatial)


_public = _api.build(
    __name__,
    "im2col/col2im",
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

"""The column matrix of the im2col implementation: im2col, col2im and the argmax down the columns.

The public helpers :func:`im2col` (every window stretched into a column, the
deepnet tutorial's ``im2col_indices``) and :func:`col2im` (the columns folded
back, overlapping windows summed), and what :mod:`poolref.im2col` and the
tutorial layer (:mod:`poolref.tutorial`) pool with: :func:`_pool_columns`
builds the columns of an input and picks the row of every column by
PyTorch's rules (:func:`_argmax_rows`); :func:`_fold` and
:func:`_scatter_add` sum gradients back into the input. The window geometry
comes from :mod:`poolref._im2col_windows` only. Users import these names from
:mod:`poolref.im2col`.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from ._api import Size
from ._im2col_windows import _is_int, _window_table, im2col_indices
from ._params import REJECTED_SUBCLASSES, PoolParams, lowest

__all__ = ["col2im", "im2col"]


def _gather_columns(planes: NDArray[Any], index: NDArray[np.int64], pad_value: Any) -> NDArray[Any]:
    """``(B, C, *S)`` -> ``(C*K, B*P)`` columns, ``pad_value`` where ``index == -1``."""
    n_batch, n_chan = planes.shape[:2]
    n_taps, n_out = index.shape
    flat = planes.reshape(n_batch, n_chan, math.prod(planes.shape[2:]))  # a copy for odd layouts
    cols = flat[
        np.arange(n_batch)[None, None, :, None],
        np.arange(n_chan)[:, None, None, None],
        np.maximum(index, 0)[None, :, None, :],
    ]  # (C, K, B, P), a new array
    np.copyto(cols, pad_value, where=(index < 0)[None, :, None, :], casting="unsafe")
    return cols.reshape(n_chan * n_taps, n_batch * n_out)


def _check_plain(x: object, name: str, func: str) -> NDArray[Any]:
    """An ndarray (not a matrix or masked array, see :mod:`poolref._params`), as a plain ndarray."""
    if not isinstance(x, np.ndarray):
        msg = f"{func}: {name} must be a numpy.ndarray, got {name} of type {type(x).__name__}"
        raise TypeError(msg)
    if isinstance(x, REJECTED_SUBCLASSES):
        msg = f"{func}: {name} must be a plain numpy.ndarray, got {name} of type {type(x).__name__}"
        raise TypeError(msg)
    return np.asarray(x)


def _check_planes(x: object, name: str, func: str) -> NDArray[Any]:
    x = _check_plain(x, name, func)
    if x.ndim not in (3, 4, 5):
        msg = f"{func}: {name} must have shape (N, C, *spatial) with 1 to 3 spatial dims, got {name}.shape={x.shape}"
        raise ValueError(msg)
    return x


def im2col(
    x: NDArray[Any],
    kernel_size: Size,
    stride: Size = 1,
    padding: Size = 0,
    dilation: Size = 1,
    ceil_mode: bool = False,
    *,
    pad_value: float | np.integer[Any] | np.floating[Any] | np.bool_ = 0,
) -> NDArray[Any]:
    """Stretch every pooling window of ``x`` into a column (the tutorial's ``im2col_indices``).

    Parameters
    ----------
    x : numpy.ndarray
        Shape ``(N, C, *S)`` with 1 to 3 spatial dimensions; any dtype and
        memory layout. Not modified.
    kernel_size : int or tuple of ints
        The window size, one value or one per spatial dimension, as in
        :func:`im2col_indices`.
    stride, padding, dilation : int or tuple of ints, optional
        As in :func:`im2col_indices`.
    ceil_mode : bool, optional
        As in :func:`im2col_indices`.
    pad_value : int, float or NumPy real scalar, optional
        Value of the taps that fall in the padding (the tutorial pads with 0).

    Returns
    -------
    numpy.ndarray
        The columns, of shape ``(C * K, N * P)`` and ``x``'s dtype, a new
        array: row ``c * K + j`` is tap ``j`` of channel ``c``; column
        ``n * P + o`` is output position ``o`` of sample ``n`` (the tutorial
        orders the columns ``o * N + n``).

    Raises
    ------
    TypeError, ValueError
        ``x`` is not a plain ``numpy.ndarray`` with 1 to 3 spatial
        dimensions, ``pad_value`` is not a real number, or a window parameter
        is invalid (see :func:`im2col_indices`).

    Examples
    --------
    >>> x = np.arange(16.).reshape(1, 1, 4, 4)
    >>> im2col(x, (2, 3), stride=(2, 1))          # a non-square kernel
    array([[ 0.,  1.,  8.,  9.],
           [ 1.,  2.,  9., 10.],
           [ 2.,  3., 10., 11.],
           [ 4.,  5., 12., 13.],
           [ 5.,  6., 13., 14.],
           [ 6.,  7., 14., 15.]])
    >>> im2col(x[..., 0, :], 2, stride=2, padding=1, pad_value=-1)
    array([[-1.,  1.,  3.],
           [ 0.,  2., -1.]])
    """
    x = _check_planes(x, "x", "im2col")
    if not isinstance(pad_value, (numbers.Real, np.generic)) or isinstance(
        pad_value, (np.str_, np.bytes_)
    ):
        msg = f"im2col: pad_value must be a real number, got pad_value={pad_value!r}"
        raise TypeError(msg)
    if isinstance(pad_value, np.generic) and pad_value.dtype.kind not in "biuf":
        msg = f"im2col: pad_value must be a real number, got pad_value={pad_value!r}"
        raise TypeError(msg)
    index, _ = im2col_indices(x.shape[2:], kernel_size, stride, padding, dilation, ceil_mode)
    return _gather_columns(x, index, pad_value)


def _scatter_add(
    values: NDArray[Any],
    index: NDArray[np.int64],
    n_planes: int,
    plane_size: int,
    dtype: DTypeLike,
) -> NDArray[Any]:
    """Sum ``values[..., b, o]`` into ``(n_planes, plane_size)`` at ``index[..., b, o]`` (skip -1).

    ``values`` and ``index`` broadcast to ``(B, P, R)``; the sum runs in that
    row-major order (so for one plane, in output order) in ``dtype``.
    """
    values, index = np.broadcast_arrays(values, index)
    keep = index >= 0
    target = (np.arange(n_planes).reshape(-1, 1, 1) * plane_size + index)[keep]
    if np.dtype(dtype) == np.float64:  # bincount adds in float64, in order
        total = np.bincount(target, weights=values[keep], minlength=n_planes * plane_size)
    else:
        total = np.zeros(n_planes * plane_size, dtype=dtype)
        np.add.at(total, target, values[keep].astype(dtype, copy=False))
    return total.reshape(n_planes, plane_size)


def col2im(
    cols: NDArray[Any],
    x_shape: tuple[int, ...] | list[int],
    kernel_size: Size,
    stride: Size = 1,
    padding: Size = 0,
    dilation: Size = 1,
    ceil_mode: bool = False,
) -> NDArray[Any]:
    """Fold columns back into an image, summing overlapping windows (inverse layout of :func:`im2col`).

    Parameters
    ----------
    cols : numpy.ndarray
        Shape ``(C * K, N * P)``, laid out as :func:`im2col` returns it.
    x_shape : tuple of ints
        ``(N, C, *S)``, the shape of the image to rebuild.
    kernel_size : int or tuple of ints
        The window size, as in :func:`im2col`.
    stride, padding, dilation : int or tuple of ints, optional
        As in :func:`im2col`.
    ceil_mode : bool, optional
        As in :func:`im2col`.

    Returns
    -------
    numpy.ndarray
        Shape ``x_shape``; element ``i`` of plane ``(n, c)`` is the sum of
        every column entry that :func:`im2col` read from it. Padded taps are
        dropped. Float input is summed in float64 and cast back to
        ``cols.dtype``; integer input is summed in its own dtype.

    Raises
    ------
    TypeError
        ``cols`` is not a plain ``numpy.ndarray``, ``x_shape`` is not a tuple
        of ints, or a window parameter has the wrong type.
    ValueError
        ``x_shape`` is not ``(N, C, *S)`` with 1 to 3 spatial dimensions and
        positive sizes, a window parameter is out of range, or ``cols.shape``
        does not match ``x_shape`` and the parameters.

    Examples
    --------
    Each element comes back multiplied by the number of windows that read it:

    >>> x = np.ones((1, 1, 4, 4))
    >>> col2im(im2col(x, 3), x.shape, 3, stride=1)[0, 0]
    array([[1., 2., 2., 1.],
           [2., 4., 4., 2.],
           [2., 4., 4., 2.],
           [1., 2., 2., 1.]])
    """
    func = "col2im"
    cols = _check_plain(cols, "cols", func)
    if not isinstance(x_shape, (tuple, list)) or not all(map(_is_int, x_shape)):
        msg = f"{func}: x_shape must be a tuple of ints, got x_shape={x_shape!r}"
        raise TypeError(msg)
    x_shape = tuple(int(v) for v in x_shape)
    if len(x_shape) not in (3, 4, 5):
        msg = f"{func}: x_shape must be (N, C, *spatial) with 1 to 3 spatial dims, got x_shape={x_shape}"
        raise ValueError(msg)
    if min(x_shape) < 1:
        msg = f"{func}: x_shape must have positive sizes, got x_shape={x_shape}"
        raise ValueError(msg)
    n_batch, n_chan, *spatial = x_shape
    index, _ = im2col_indices(spatial, kernel_size, stride, padding, dilation, ceil_mode)
    return _fold(cols, index, x_shape, func)


def _fold(
    cols: NDArray[Any], index: NDArray[np.int64], x_shape: tuple[int, ...], func: str
) -> NDArray[Any]:
    """:func:`col2im` with the index table given (any rows: the full or the reduced table)."""
    n_batch, n_chan, *spatial = x_shape
    n_taps, n_out = index.shape
    expected = (n_chan * n_taps, n_batch * n_out)
    if cols.shape != expected:
        msg = f"{func}: cols.shape={cols.shape} does not match {expected} for x_shape={x_shape}"
        raise ValueError(msg)
    # (C*K, N*P) -> (N*C, P, K): one output's taps together, outputs in row-major order.
    values = cols.reshape(n_chan, n_taps, n_batch, n_out).transpose(2, 0, 3, 1)
    values = values.reshape(n_batch * n_chan, n_out, n_taps)
    acc = np.float64 if cols.dtype.kind == "f" else cols.dtype
    total = _scatter_add(values, index.T[None], n_batch * n_chan, math.prod(spatial), acc)
    return total.astype(cols.dtype, copy=False).reshape(x_shape)


# ----------------------------------------------------------------------------
# Argmax down the columns, with PyTorch's rules
# ----------------------------------------------------------------------------


def _argmax_rows(cols: NDArray[Any], index: NDArray[np.int64]) -> NDArray[np.intp]:
    """The selected row of every column of ``cols`` (``(K, B*P)``), as ``(B, P)``.

    ``index`` is the ``(K, P)`` table of :func:`im2col_indices`; padded taps
    of ``cols`` must hold the dtype's lowest value. Rules: first maximum; last
    NaN if there is one; never a padded tap unless the window has no valid tap.
    """
    n_taps, n_out = index.shape
    rows = np.argmax(cols, axis=0).reshape(-1, n_out)  # first maximum, or first NaN
    columns = np.arange(rows.size)
    if cols.dtype.kind == "f":
        nan_cols = np.flatnonzero(np.isnan(cols[rows.ravel(), columns]))
        if nan_cols.size:  # np.argmax stopped at the first NaN: take the last one
            last = n_taps - 1 - np.argmax(np.isnan(cols[::-1, nan_cols]), axis=0)
            rows.flat[nan_cols] = last
    valid = index >= 0
    on_padding = ~valid[rows, np.arange(n_out)]
    if on_padding.any():
        # The maximum equals the pad value: PyTorch takes the first valid tap (a
        # window without one keeps its padded row, whose index is -1).
        first_valid = np.argmax(valid, axis=0)
        has_valid = valid.any(axis=0)
        fix = on_padding & has_valid
        rows[fix] = np.broadcast_to(first_valid, rows.shape)[fix]
    return rows


def _pool_columns(
    x: NDArray[Any], params: PoolParams
) -> tuple[NDArray[Any], NDArray[np.int64], NDArray[np.intp], tuple[int, ...]]:
    """Forward on ``(N, C, *S)``: the columns, the index table and the argmax rows."""
    n_batch, n_chan, *spatial = x.shape
    # the column matrix holds N*C values of x's dtype per table entry
    column_bytes = n_batch * n_chan * x.dtype.itemsize
    index, out_spatial = _window_table(
        tuple(spatial), params, True, "im2col (the column matrix)", column_bytes
    )
    planes = x.reshape(n_batch * n_chan, 1, *spatial)  # every channel its own image
    cols = _gather_columns(planes, index, lowest(x.dtype))
    rows = _argmax_rows(cols, index)
    return cols, index, rows, tuple(out_spatial)

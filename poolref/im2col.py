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
:func:`im2col_indices`) is computed here, independently of ``poolref.fast``,
``poolref.naive`` and ``poolref._params``, so the cross-checks test it.
"""

from __future__ import annotations

import math
import numbers
import operator
from typing import Final

import numpy as np

from . import _api
from ._params import (
    BACKWARD_DTYPES,
    FORWARD_DTYPES,
    INT64_MAX,
    REJECTED_SUBCLASSES,
    PoolParams,
    check_allocation,
    check_array,
    check_bool,
    lowest,
)

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
# Window geometry
# ----------------------------------------------------------------------------


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _ntuple(value, nd: int, name: str, func: str, minimum: int) -> tuple[int, ...]:
    """An int or a length-1/``nd`` sequence of ints (each ``>= minimum``) as an ``nd``-tuple."""
    if _is_int(value):
        items = (operator.index(value),) * nd
    elif isinstance(value, (tuple, list)) and all(map(_is_int, value)):
        if len(value) not in (1, nd):
            msg = f"{func}: {name} must be an int or a tuple of {nd} ints, got {name}={value!r}"
            raise ValueError(msg)
        items = tuple(operator.index(v) for v in value) * (nd if len(value) == 1 else 1)
    else:
        msg = f"{func}: {name} must be an int or a tuple of {nd} ints, got {name}={value!r}"
        raise TypeError(msg)
    if min(items) < minimum:
        msg = f"{func}: {name} must be >= {minimum} in every dimension, got {name}={value!r}"
        raise ValueError(msg)
    if max(items) > INT64_MAX:
        msg = f"{func}: {name} must be at most 2**63 - 1 in every dimension, got {name}={value!r}"
        raise ValueError(msg)
    return items


def output_length(length, kernel_size, stride=1, padding=0, dilation=1, ceil_mode=False) -> int:
    """Number of pooling windows along one dimension (PyTorch's rule).

    Parameters
    ----------
    length : int
        Input length ``L`` (unpadded).
    kernel_size, stride, padding, dilation : int
        Window parameters ``k``, ``s``, ``p``, ``d`` along this dimension.
    ceil_mode : bool, optional
        Count a last, partial window too, provided it starts inside the input
        or the left padding.

    Returns
    -------
    int
        The number of windows; ``< 1`` means the input is too small.

    Raises
    ------
    TypeError, ValueError
        An argument that is not an int (``ceil_mode``: a bool), ``length``,
        ``kernel_size``, ``stride`` or ``dilation`` below 1, ``padding`` below 0,
        or any of them above ``2**63 - 1``.

    Notes
    -----
    A window spans ``reach = d * (k - 1) + 1`` padded positions; window ``o``
    starts at padded position ``o * s``. In floor mode every window must fit
    in the ``L + 2p`` padded positions. In ceil mode the last window may hang
    over the end, but a window starting at or beyond ``L + p`` (in the right
    padding) is dropped.

    Examples
    --------
    >>> output_length(7, 3, 2)                     # Python 3 '/' would give 3.0
    3
    >>> output_length(6, 3, 2), output_length(6, 3, 2, ceil_mode=True)
    (2, 3)
    >>> output_length(2, 2, 1, padding=1, dilation=3)   # one window, all padding
    1
    """
    func = "output_length"
    length, kernel_size, stride, padding, dilation = (
        _ntuple(value, 1, name, func, minimum)[0]
        for value, name, minimum in (
            (length, "length", 1),
            (kernel_size, "kernel_size", 1),
            (stride, "stride", 1),
            (padding, "padding", 0),
            (dilation, "dilation", 1),
        )
    )
    ceil_mode = check_bool(ceil_mode, "ceil_mode", func)
    return _output_length(length, kernel_size, stride, padding, dilation, ceil_mode)


def _output_length(length, kernel_size, stride, padding, dilation, ceil_mode) -> int:
    """:func:`output_length` on validated arguments."""
    reach = dilation * (kernel_size - 1) + 1
    last_start = length + 2 * padding - reach  # the last padded start at which a window fits
    if not ceil_mode:
        return last_start // stride + 1
    count = -(-last_start // stride) + 1  # ceil division: a partial last window counts
    if (count - 1) * stride >= length + padding:  # ... unless it starts in the right padding
        count -= 1
    return count


def im2col_indices(spatial, kernel_size, stride=1, padding=0, dilation=1, ceil_mode=False):
    """Where every tap of every pooling window reads, as a ``(K, P)`` table.

    The N-d counterpart of the tutorial's ``get_im2col_indices``: row ``j`` is
    tap ``j`` of the window (row-major over the kernel, which is also
    increasing position in the input), column ``o`` is output position ``o``
    (row-major over the output).

    Parameters
    ----------
    spatial : tuple of ints
        Spatial shape ``S`` of one ``(n, c)`` plane; its length is the rank.
    kernel_size, stride, padding, dilation : int or tuple of ints
        One value, or one per spatial dimension. Tap ``j`` of window ``o``
        sits at ``o * stride - padding + j * dilation`` in each dimension.
    ceil_mode : bool, optional
        PyTorch's ceil_mode (see :func:`output_length`).

    Returns
    -------
    index : numpy.ndarray
        int64, shape ``(prod(kernel_size), prod(out_spatial))``: the flat
        row-major index of the tap inside the unpadded plane, or ``-1`` for a
        tap in the padding.
    out_spatial : tuple of ints
        The output spatial shape.

    Raises
    ------
    TypeError, ValueError
        A parameter that is not a positive int (non-negative for padding), a
        tuple of the wrong length, or an output size below 1.

    Examples
    --------
    >>> index, out = im2col_indices((4,), 2, stride=2, padding=1)
    >>> out
    (3,)
    >>> index          # column o = window o; -1 = padding
    array([[-1,  1,  3],
           [ 0,  2, -1]])
    """
    func = "im2col_indices"
    if not isinstance(spatial, (tuple, list)):
        msg = f"{func}: spatial must be a tuple of ints, got spatial={spatial!r}"
        raise TypeError(msg)
    spatial = tuple(spatial)
    if not spatial or not all(_is_int(n) and n >= 1 for n in spatial):
        msg = f"{func}: spatial must be a non-empty tuple of positive ints, got spatial={spatial!r}"
        raise ValueError(msg)
    spatial = tuple(int(n) for n in spatial)
    params = _checked_params(spatial, kernel_size, stride, padding, dilation, ceil_mode, func)
    return _window_table(spatial, params, reduced=False)


def _checked_params(spatial, kernel_size, stride, padding, dilation, ceil_mode, func) -> PoolParams:
    """The window parameters as ``nd``-tuples; ``ValueError`` if an output size is below 1."""
    nd = len(spatial)
    k = _ntuple(kernel_size, nd, "kernel_size", func, 1)
    s = _ntuple(stride, nd, "stride", func, 1)
    p = _ntuple(padding, nd, "padding", func, 0)
    d = _ntuple(dilation, nd, "dilation", func, 1)
    ceil = check_bool(ceil_mode, "ceil_mode", func)
    out = tuple(
        _output_length(n, kk, ss, pp, dd, ceil) for n, kk, ss, pp, dd in zip(spatial, k, s, p, d)
    )
    if min(out) < 1:
        msg = (
            f"{func}: output size {out} is too small for spatial={spatial} with kernel_size={kernel_size!r}, "
            f"stride={stride!r}, padding={padding!r}, dilation={dilation!r}, ceil_mode={ceil_mode!r}"
        )
        raise ValueError(msg)
    return PoolParams(k, s, p, d, ceil)


def _taps_inside(length: int, n_out: int, k: int, s: int, p: int, d: int) -> np.ndarray:
    """The taps (ascending) that some window reads inside ``[0, length)``, without visiting the others.

    Window ``o`` starts at ``o*s - p`` and reads inside the input at the taps
    ``ceil(-start / d) .. floor((length - 1 - start) / d)``; the union of those
    ranges is built by merging them (O(windows + taps returned)).
    """
    start = np.arange(n_out, dtype=np.int64) * s - p
    lo = np.maximum(-(start // d), 0)[::-1]  # later windows read earlier taps: ascending
    hi = np.minimum((length - 1 - start) // d, k - 1)[::-1]
    lo, hi = lo[hi >= lo], hi[hi >= lo]
    if lo.size == 0:
        return lo
    reach = np.maximum.accumulate(hi)
    new = np.flatnonzero(np.r_[True, lo[1:] > reach[:-1] + 1])  # first range of each merged run
    ends = np.r_[new[1:] - 1, lo.size - 1]
    return np.concatenate([np.arange(lo[a], reach[b] + 1) for a, b in zip(new, ends)])


def _window_table(
    spatial: tuple, params: PoolParams, reduced: bool, func="im2col_indices", column_bytes=8
):
    """The ``(K, P)`` index table and the output shape; ``reduced``: only rows of taps inside the input.

    With ``reduced`` the rows are the taps some window reads inside the input
    (at least one row; still in row-major tap order), so a huge kernel on a
    small input costs nothing. Positions are computed for those taps only, so
    they stay far from int64 overflow. ``ValueError`` before anything is
    allocated if ``K * P * column_bytes`` (the table, or the columns built from
    it) exceeds the machine's memory.
    """
    nd = len(spatial)
    k, s, p, d = params.kernel_size, params.stride, params.padding, params.dilation
    out = tuple(_output_length(*dim, params.ceil_mode) for dim in zip(spatial, k, s, p, d))
    inside_taps = [_taps_inside(*dim) for dim in zip(spatial, out, k, s, p, d)]
    n_rows = math.prod(max(t.size, 1) for t in inside_taps) if reduced else math.prod(k)
    check_allocation(
        n_rows * math.prod(out) * max(column_bytes, 8),
        f"the {n_rows:,} x {math.prod(out):,} window table of kernel_size={k} on spatial size {spatial}",
        func,
    )
    # Build one (k_0, ..., k_{nd-1}, o_0, ..., o_{nd-1}) grid by broadcasting, one dimension at a time.
    flat = np.zeros((1,) * (2 * nd), dtype=np.int64)
    valid = np.ones((1,) * (2 * nd), dtype=bool)
    for axis in range(nd):
        taps = inside_taps[axis]
        inside = (
            taps[:, None] * d[axis]
            + (np.arange(out[axis], dtype=np.int64) * s[axis] - p[axis])[None, :]
        )
        if reduced:
            position = inside if taps.size else np.full((1, out[axis]), -1, dtype=np.int64)
        else:
            position = np.full((k[axis], out[axis]), -1, dtype=np.int64)
            position[taps] = inside
        shape = [1] * (2 * nd)
        shape[axis], shape[nd + axis] = position.shape
        position = position.reshape(shape)
        valid = valid & (position >= 0) & (position < spatial[axis])
        flat = flat * spatial[axis] + position
    return np.where(valid, flat, -1).reshape(n_rows, math.prod(out)), out


def _gather_columns(planes: np.ndarray, index: np.ndarray, pad_value) -> np.ndarray:
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


def _check_plain(x, name: str, func: str) -> np.ndarray:
    """An ndarray (not a matrix or masked array, see :mod:`poolref._params`), as a plain ndarray."""
    if not isinstance(x, np.ndarray):
        msg = f"{func}: {name} must be a numpy.ndarray, got {name} of type {type(x).__name__}"
        raise TypeError(msg)
    if isinstance(x, REJECTED_SUBCLASSES):
        msg = f"{func}: {name} must be a plain numpy.ndarray, got {name} of type {type(x).__name__}"
        raise TypeError(msg)
    return np.asarray(x)


def _check_planes(x, name: str, func: str) -> np.ndarray:
    x = _check_plain(x, name, func)
    if x.ndim not in (3, 4, 5):
        msg = f"{func}: {name} must have shape (N, C, *spatial) with 1 to 3 spatial dims, got {name}.shape={x.shape}"
        raise ValueError(msg)
    return x


def im2col(x, kernel_size, stride=1, padding=0, dilation=1, ceil_mode=False, *, pad_value=0):
    """Stretch every pooling window of ``x`` into a column (the tutorial's ``im2col_indices``).

    Parameters
    ----------
    x : numpy.ndarray
        Shape ``(N, C, *S)`` with 1 to 3 spatial dimensions; any dtype and
        memory layout. Not modified.
    kernel_size, stride, padding, dilation, ceil_mode
        As in :func:`im2col_indices`.
    pad_value : scalar, optional
        Value of the taps that fall in the padding (the tutorial pads with 0).

    Returns
    -------
    cols : numpy.ndarray
        Shape ``(C * K, N * P)`` and ``x``'s dtype, a new array: row
        ``c * K + j`` is tap ``j`` of channel ``c``; column ``n * P + o`` is
        output position ``o`` of sample ``n``. (The tutorial orders the columns
        ``o * N + n``.)

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
    values: np.ndarray, index: np.ndarray, n_planes: int, plane_size: int, dtype
) -> np.ndarray:
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


def col2im(cols, x_shape, kernel_size, stride=1, padding=0, dilation=1, ceil_mode=False):
    """Fold columns back into an image, summing overlapping windows (inverse layout of :func:`im2col`).

    Parameters
    ----------
    cols : numpy.ndarray
        Shape ``(C * K, N * P)``, laid out as :func:`im2col` returns it.
    x_shape : tuple of ints
        ``(N, C, *S)``, the shape of the image to rebuild.
    kernel_size, stride, padding, dilation, ceil_mode
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
    ValueError
        ``cols.shape`` does not match ``x_shape`` and the parameters.

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


def _fold(cols: np.ndarray, index: np.ndarray, x_shape: tuple, func: str) -> np.ndarray:
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


def _argmax_rows(cols: np.ndarray, index: np.ndarray) -> np.ndarray:
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


def _pool_columns(x: np.ndarray, params):
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


def _forward(x, params, with_indices):
    x = np.asarray(x)  # an ndarray subclass is pooled as a plain ndarray (docs/memory.md)
    n_batch, n_chan = x.shape[:2]
    cols, index, rows, out_spatial = _pool_columns(x, params)
    shape = (n_batch, n_chan, *out_spatial)
    y = cols[rows.ravel(), np.arange(rows.size)].reshape(shape)  # read at the index
    if not with_indices:
        return y, None
    indices = index[rows, np.arange(index.shape[1])].reshape(shape)
    return y, indices


def _backward_from_input(grad_output, x, params):
    grad_output, x = np.asarray(grad_output), np.asarray(x)
    n_batch, n_chan, *spatial = x.shape
    cols, index, rows, _ = _pool_columns(x, params)
    d_cols = np.zeros(cols.shape, dtype=np.float64)
    d_cols[rows.ravel(), np.arange(rows.size)] = grad_output.reshape(-1)
    grad = _fold(d_cols, index, (n_batch * n_chan, 1, *spatial), "col2im")
    return grad.reshape(x.shape).astype(grad_output.dtype)


def _backward_from_indices(grad_output, indices, input_shape, params):
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


def _unpool(y, indices, out_spatial):
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


# ----------------------------------------------------------------------------
# The tutorial's layer
# ----------------------------------------------------------------------------


class Maxpool:
    """The deepnet tutorial's 2-D max-pool layer, with PyTorch's selection rules.

    A drop-in replacement for the tutorial's ``Maxpool``: same constructor,
    attributes and ``forward``/``backward`` methods, but ``size`` and
    ``stride`` may differ between height and width, the output size is
    computed with integer arithmetic, and ties and NaN follow PyTorch (first
    maximum; last NaN).

    Parameters
    ----------
    X_dim : tuple of 3 ints
        ``(C, H, W)`` of one input sample.
    size : int or tuple of 2 ints
        Window size, ``(height, width)`` if a tuple.
    stride : int or tuple of 2 ints
        Step between windows.

    Attributes
    ----------
    params : list
        ``[]``: a max-pool layer has nothing to learn.
    out_dim : tuple of 3 ints
        ``(C, h_out, w_out)``.
    size, stride
        As given (an int stays an int).
    h_out, w_out : int
        Output height and width, ``(H - size) // stride + 1``.
    d_X, h_X, w_X : int
        ``C``, ``H``, ``W`` (the tutorial's names).
    n_X : int or None
        Batch size of the last ``forward``.

    Raises
    ------
    ValueError
        ``"Invalid dimensions! ..."`` where the tutorial raises it: the
        window does not tile the input exactly, ``(H - size) % stride != 0``
        (likewise for ``W``), or it is larger than the input. A ``ValueError``
        is an ``Exception``, so the tutorial's ``except Exception`` still
        catches it. Other bad arguments raise ``TypeError``/``ValueError``
        naming them.

    Examples
    --------
    >>> X = np.array([[[[1., 9., 2., 0.],
    ...                 [4., 3., 8., 7.],
    ...                 [0., 6., 5., 5.],
    ...                 [2., 1., 3., 4.]]]])          # (N, C, H, W) = (1, 1, 4, 4)
    >>> pool = Maxpool((1, 4, 4), size=2, stride=2)
    >>> pool.out_dim
    (1, 2, 2)
    >>> pool.forward(X)[0, 0]
    array([[9., 8.],
           [6., 5.]])
    >>> dX, grads = pool.backward(np.ones((1, 1, 2, 2)))
    >>> dX[0, 0], grads                              # the tie 5, 5 routes to the first
    (array([[0., 1., 0., 0.],
           [0., 0., 1., 0.],
           [0., 1., 1., 0.],
           [0., 0., 0., 0.]]), [])
    """

    def __init__(self, X_dim, size, stride):
        msg = f"Maxpool: X_dim must be (C, H, W), three positive ints, got X_dim={X_dim!r}"
        if not isinstance(X_dim, (tuple, list)):
            raise TypeError(msg)
        if len(X_dim) != 3 or not all(_is_int(v) and v >= 1 for v in X_dim):
            raise ValueError(msg)
        self.d_X, self.h_X, self.w_X = (int(v) for v in X_dim)
        kernel = _ntuple(size, 2, "size", "Maxpool", 1)
        steps = _ntuple(stride, 2, "stride", "Maxpool", 1)
        self.params = []
        self.size = size if _is_int(size) else tuple(size)
        self.stride = stride if _is_int(stride) else tuple(stride)
        bad = [
            f"{name}={length}"
            for name, length, k, s in zip(("H", "W"), (self.h_X, self.w_X), kernel, steps)
            if k > length or (length - k) % s != 0
        ]
        if bad:
            msg = (
                f"Invalid dimensions! (X_dim - size) / stride + 1 must be a positive integer, got "
                f"X_dim={tuple(X_dim)!r}, size={size!r}, stride={stride!r} (fails for {', '.join(bad)})"
            )
            raise ValueError(msg)
        self.h_out = (self.h_X - kernel[0]) // steps[0] + 1
        self.w_out = (self.w_X - kernel[1]) // steps[1] + 1
        self.out_dim = (self.d_X, self.h_out, self.w_out)
        self._params = PoolParams(
            kernel, steps, (0, 0), (1, 1), False
        )  # the tutorial: no padding or dilation
        self.n_X = None  # batch size of the last forward (the tutorial's attribute)
        self._max_rows = None  # argmax rows of the last forward, kept for backward
        self._n_rows = None

    def __repr__(self):
        return f"Maxpool(X_dim={(self.d_X, self.h_X, self.w_X)!r}, size={self.size!r}, stride={self.stride!r})"

    def forward(self, X):
        """Pool ``X`` of shape ``(N, C, H, W)``; returns ``(N, C, h_out, w_out)`` in ``X``'s dtype."""
        X = check_array(X, "X", "Maxpool.forward", FORWARD_DTYPES)
        if X.ndim != 4 or X.shape[1:] != (self.d_X, self.h_X, self.w_X):
            msg = (
                f"Maxpool.forward: X must have shape (N, {self.d_X}, {self.h_X}, {self.w_X}) "
                f"(N, *X_dim), got X.shape={X.shape}"
            )
            raise ValueError(msg)
        cols, self._index, rows, out_spatial = _pool_columns(X, self._params)
        self.n_X = X.shape[0]
        self._max_rows = rows
        self._n_rows = cols.shape[0]
        out = cols[rows.ravel(), np.arange(rows.size)]
        return out.reshape(X.shape[0], self.d_X, *out_spatial)

    def backward(self, dout):
        """Gradient for ``dout`` of the last output's shape; returns ``(dX, [])``.

        ``dX`` has the last ``X``'s shape and ``dout``'s (float) dtype; each
        ``dout`` element goes to the element its window selected, overlapping
        windows add up.
        """
        if self._max_rows is None:
            msg = "Maxpool.backward: called before forward(); run forward(X) first"
            raise RuntimeError(msg)
        dout = check_array(dout, "dout", "Maxpool.backward", BACKWARD_DTYPES)
        expected = (self.n_X, *self.out_dim)
        if dout.shape != expected:
            msg = f"Maxpool.backward: dout.shape={dout.shape} does not match the last output's shape {expected}"
            raise ValueError(msg)
        rows = self._max_rows
        dX_col = np.zeros((self._n_rows, rows.size), dtype=np.float64)
        dX_col[rows.ravel(), np.arange(rows.size)] = dout.reshape(-1)
        shape = (self.n_X * self.d_X, 1, self.h_X, self.w_X)
        dX = _fold(dX_col, self._index, shape, "col2im")
        return dX.reshape(self.n_X, self.d_X, self.h_X, self.w_X).astype(dout.dtype), []

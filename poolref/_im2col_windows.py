"""Window geometry of the im2col implementation: where every tap of every window reads.

The public helpers :func:`output_length` (windows along one dimension) and
:func:`im2col_indices` (the ``(K, P)`` table of the tap positions, the N-d
counterpart of the deepnet tutorial's ``get_im2col_indices``), and the
reduced table that :mod:`poolref.im2col` pools with (:func:`_window_table`:
only the rows of taps that some window reads inside the input).

This geometry is computed here, independently of ``poolref.fast``,
``poolref.naive`` and ``poolref._params`` (which only validates arguments),
so the cross-checks test it. Users import these names from
:mod:`poolref.im2col`.
"""

from __future__ import annotations

import math
import numbers
import operator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._api import Size
from ._params import INT64_MAX, PoolParams, check_allocation, check_bool

__all__ = ["im2col_indices", "output_length"]


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _ntuple(value: Any, nd: int, name: str, func: str, minimum: int) -> tuple[int, ...]:
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


def output_length(
    length: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
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


def _output_length(
    length: int, kernel_size: int, stride: int, padding: int, dilation: int, ceil_mode: bool
) -> int:
    """:func:`output_length` on validated arguments."""
    reach = dilation * (kernel_size - 1) + 1
    last_start = length + 2 * padding - reach  # the last padded start at which a window fits
    if not ceil_mode:
        return last_start // stride + 1
    count = -(-last_start // stride) + 1  # ceil division: a partial last window counts
    if (count - 1) * stride >= length + padding:  # ... unless it starts in the right padding
        count -= 1
    return count


def im2col_indices(
    spatial: tuple[int, ...] | list[int],
    kernel_size: Size,
    stride: Size = 1,
    padding: Size = 0,
    dilation: Size = 1,
    ceil_mode: bool = False,
) -> tuple[NDArray[np.int64], tuple[int, ...]]:
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
        The int64 table of shape ``(prod(kernel_size), prod(out_spatial))``:
        the flat row-major index of the tap inside the unpadded plane, or
        ``-1`` for a tap in the padding.
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


def _checked_params(
    spatial: tuple[int, ...],
    kernel_size: Size,
    stride: Size,
    padding: Size,
    dilation: Size,
    ceil_mode: bool,
    func: str,
) -> PoolParams:
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


def _taps_inside(length: int, n_out: int, k: int, s: int, p: int, d: int) -> NDArray[np.int64]:
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
    spatial: tuple[int, ...],
    params: PoolParams,
    reduced: bool,
    func: str = "im2col_indices",
    column_bytes: int = 8,
) -> tuple[NDArray[np.int64], tuple[int, ...]]:
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

"""The compiled kernels of :mod:`poolref.jit` (numba, imported lazily on the first jit call).

Every kernel works on five-dimensional arrays ``(N, C, D, H, W)``: the 1-D and 2-D calls insert
unit spatial axes as views (:mod:`poolref._jit_cores`), so one loop nest serves every rank. The
window rule is the naive oracle's, written independently: a window's first *valid* tap starts
the running maximum, and a later tap takes over where its value is strictly greater, or is NaN.
So ties (``-0.0`` against ``0.0`` included) keep the first, a NaN window ends on its last NaN,
padding is never read and an empty window keeps the lowest value and index ``-1``.

The taps along W are tabulated once per call in plain Python (:func:`taps`: per tap, its
input offset and the range of outputs it reaches), and a kernel folds whole input rows into
whole output rows, one tap at a time, with a branch-free select that the compiler vectorises
(strides 1 and 2 get their own loops, so their loads are contiguous or de-interleaved). The
valid taps along D and H are found once per output row (:func:`_span`); the channels-last
kernels find them once per output position, then fold whole channel vectors.

Indices are flat row-major plane indices ``(d * H + h) * W + w``. Each kernel has a serial and a
parallel driver over independent work items (planes, or output rows for channels-last memory);
every item is computed by the same sequential code, so results do not depend on the thread count.
The scatter kernels (backward, unpool) run over ``(N, C, plane)`` views.
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np

_njit = numba.njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
_pjit = numba.njit(cache=True, nogil=True, error_model="numpy", boundscheck=False, parallel=True)
#: the helpers of the hot loops are inlined at numba's level: a call that passes arrays costs
#: more than a short loop over a row or a channel vector
_inline = numba.njit(
    cache=True, nogil=True, error_model="numpy", boundscheck=False, inline="always"
)


@_inline
def _span(o, length, geo_row):
    """Output ``o``'s first valid input position along one dimension and its number of valid
    taps (0: an empty window); ``geo_row`` is that dimension's ``[k, s, p, d]``."""
    k, s, p, d = geo_row[0], geo_row[1], geo_row[2], geo_row[3]
    start = o * s - p
    if d == 1:
        lo, hi = max(-start, 0), min(k, length - start)
    else:
        lo = -(start // d) if start < 0 else 0
        hi = min(k, (length - 1 - start) // d + 1) if start < length else 0
    return start + lo * d, max(hi - lo, 0)


_TWO = np.uint64(2)


@_inline
def _unsigned(at):
    """A tuple of four non-negative indices as unsigned integers."""
    return np.uint64(at[0]), np.uint64(at[1]), np.uint64(at[2]), np.uint64(at[3])


@_inline
def _fill(a, at, value):
    """Set the row ``a[at]`` (``at`` four unsigned indices) to ``value``."""
    i, j, k, m = at
    for t in range(np.uint64(a.shape[4])):
        a[i, j, k, m, t] = value


@_inline
def _wins(v, best):
    """Whether ``v`` replaces the running maximum ``best``: strictly greater, or NaN."""
    return (v > best) | (v != v)


@_inline
def _fold_values(x, at_x, y, at, taps, s):
    """Fold input row ``x[at_x]`` into the running maxima of output row ``y[at]``, one tap
    along W at a time (whole arrays are indexed with unsigned indices: see the module notes)."""
    n, c, i_d, i_h = _unsigned(at_x)
    yn, yc, od, oh = _unsigned(at)
    for e in range(taps.shape[0]):
        first, o0, count = taps[e, 0], taps[e, 1], taps[e, 2]
        if s == 1:
            for t in range(count):
                v, best = x[n, c, i_d, i_h, first + t], y[yn, yc, od, oh, o0 + t]
                y[yn, yc, od, oh, o0 + t] = v if _wins(v, best) else best
        elif s == 2:
            for t in range(count):
                v, best = x[n, c, i_d, i_h, first + _TWO * t], y[yn, yc, od, oh, o0 + t]
                y[yn, yc, od, oh, o0 + t] = v if _wins(v, best) else best
        else:
            for t in range(count):
                v, best = x[n, c, i_d, i_h, first + s * t], y[yn, yc, od, oh, o0 + t]
                y[yn, yc, od, oh, o0 + t] = v if _wins(v, best) else best


@_inline
def _take(x, at_x, i, y, idx, at, o, base):
    """One tap of the indexed fold: input ``x[at_x][i]`` against output ``y[at][o]``.

    An output whose index is still ``-1`` takes its first valid tap whatever the value, so a
    window of lowest values gets the index of its first tap.
    """
    n, c, i_d, i_h = at_x
    yn, yc, od, oh = at
    v, best, j = x[n, c, i_d, i_h, i], y[yn, yc, od, oh, o], idx[yn, yc, od, oh, o]
    take = _wins(v, best) | (j < 0)
    y[yn, yc, od, oh, o] = v if take else best
    idx[yn, yc, od, oh, o] = base + np.int64(i) if take else j


@_inline
def _fold_indexed(x, at_x, y, idx, at, taps, s):
    """:func:`_fold_values` that also keeps the winner's flat plane index in ``idx[at]``."""
    at_x, at = _unsigned(at_x), _unsigned(at)
    base = (np.int64(at_x[2]) * x.shape[3] + np.int64(at_x[3])) * x.shape[4]
    for e in range(taps.shape[0]):
        first, o0, count = taps[e, 0], taps[e, 1], taps[e, 2]
        if s == 1:
            for t in range(count):
                _take(x, at_x, first + t, y, idx, at, o0 + t, base)
        elif s == 2:
            for t in range(count):
                _take(x, at_x, first + _TWO * t, y, idx, at, o0 + t, base)
        else:
            for t in range(count):
                _take(x, at_x, first + s * t, y, idx, at, o0 + t, base)


@_inline
def _output_row(x, n, c, od, oh, y, idx, at, geo, taps, low, with_indices):
    """Output row ``(n, c, od, oh, :)`` of plane ``x[n, c]`` into ``y[at]`` (and ``idx[at]``)."""
    first_d, count_d = _span(od, x.shape[2], geo[0])
    first_h, count_h = _span(oh, x.shape[3], geo[1])
    _fill(y, _unsigned(at), low[0])
    if with_indices:
        _fill(idx, _unsigned(at), -1)
    s = np.uint64(geo[2, 1])
    for a in range(count_d):
        i_d = first_d + a * geo[0, 3]
        for b in range(count_h):
            at_x = (n, c, i_d, first_h + b * geo[1, 3])
            if with_indices:
                _fold_indexed(x, at_x, y, idx, at, taps, s)
            else:
                _fold_values(x, at_x, y, at, taps, s)


@_njit
def _forward_plane(x, y, idx, item, geo, taps, low, with_indices):
    """Every window of plane ``item`` (``n * C + c``)."""
    n, c = item // x.shape[1], item % x.shape[1]
    for od in range(y.shape[2]):
        for oh in range(y.shape[3]):
            at = (n, c, od, oh)
            _output_row(x, n, c, od, oh, y, idx, at, geo, taps, low, with_indices)


@_njit
def forward_planes(x, y, idx, geo, taps, low, with_indices):
    for item in range(x.shape[0] * x.shape[1]):
        _forward_plane(x, y, idx, item, geo, taps, low, with_indices)


@_pjit
def forward_planes_parallel(x, y, idx, geo, taps, low, with_indices):
    for item in numba.prange(x.shape[0] * x.shape[1]):
        _forward_plane(x, y, idx, item, geo, taps, low, with_indices)


# ----------------------------------------------------------------------------
# Channels-last memory: C-contiguous (N, D, H, W, C) arrays, the channel loop innermost.
# ----------------------------------------------------------------------------


@_inline
def _fold_channels(x, at_x, y, idx, at, index, with_indices):
    """Fold the channel vector ``x[at_x]`` into the running maxima ``y[at]`` (and ``idx[at]``)."""
    n, i_d, i_h, i_w = _unsigned(at_x)
    yn, od, oh, ow = _unsigned(at)
    if not with_indices:
        for c in range(np.uint64(x.shape[4])):
            v, best = x[n, i_d, i_h, i_w, c], y[yn, od, oh, ow, c]
            y[yn, od, oh, ow, c] = v if _wins(v, best) else best
        return
    for c in range(np.uint64(x.shape[4])):
        v, best, j = x[n, i_d, i_h, i_w, c], y[yn, od, oh, ow, c], idx[yn, od, oh, ow, c]
        take = _wins(v, best) | (j < 0)
        y[yn, od, oh, ow, c] = v if take else best
        idx[yn, od, oh, ow, c] = index if take else j


@_inline
def _channels_window(x, y, idx, at, rows, geo, low, with_indices):
    """Output position ``at = (n, od, oh, ow)``, every channel (``x`` is ``(N, D, H, W, C)``);
    ``rows`` are the valid depth and height taps' ``(first, count)`` of its output row."""
    n, od, oh, ow = at
    _fill(y, _unsigned(at), low[0])
    if with_indices:
        _fill(idx, _unsigned(at), -1)
    first_d, count_d, first_h, count_h = rows
    height, width = x.shape[2], x.shape[3]
    first_w, count_w = _span(ow, width, geo[2])
    for a in range(count_d):
        i_d = first_d + a * geo[0, 3]
        for b in range(count_h):
            i_h = first_h + b * geo[1, 3]
            for e in range(count_w):
                i_w = first_w + e * geo[2, 3]
                index = (i_d * height + i_h) * width + i_w
                _fold_channels(x, (n, i_d, i_h, i_w), y, idx, at, index, with_indices)


@_njit
def _forward_row(x, y, idx, item, geo, low, with_indices):
    """Output row ``item`` (``(n * D_out + od) * H_out + oh``) of ``(N, D, H, W, C)`` arrays."""
    n_out_d, n_out_h = y.shape[1], y.shape[2]
    n, od, oh = item // (n_out_d * n_out_h), item // n_out_h % n_out_d, item % n_out_h
    rows = _span(od, x.shape[1], geo[0]) + _span(oh, x.shape[2], geo[1])
    for ow in range(y.shape[3]):
        _channels_window(x, y, idx, (n, od, oh, ow), rows, geo, low, with_indices)


@_njit
def forward_rows(x, y, idx, geo, taps, low, with_indices):
    for item in range(y.shape[0] * y.shape[1] * y.shape[2]):
        _forward_row(x, y, idx, item, geo, low, with_indices)


@_pjit
def forward_rows_parallel(x, y, idx, geo, taps, low, with_indices):
    for item in numba.prange(y.shape[0] * y.shape[1] * y.shape[2]):
        _forward_row(x, y, idx, item, geo, low, with_indices)


# ----------------------------------------------------------------------------
# Backward from x (each output row's maxima found, then their gradients added).
# ----------------------------------------------------------------------------


@_njit
def _backward_plane(g, x, grad, item, geo, taps, low):
    """Add plane ``item``'s gradients at its windows' maxima (``grad`` is ``(N, C, plane)``)."""
    n, c = item // x.shape[1], item % x.shape[1]
    y = np.empty((1, 1, 1, 1, g.shape[4]), dtype=x.dtype)  # one output row at a time
    idx = np.empty((1, 1, 1, 1, g.shape[4]), dtype=np.int64)
    un, uc = np.uint64(n), np.uint64(c)
    for i in range(np.uint64(grad.shape[2])):
        grad[un, uc, i] = 0
    for od in range(g.shape[2]):
        for oh in range(g.shape[3]):
            _output_row(x, n, c, od, oh, y, idx, (0, 0, 0, 0), geo, taps, low, True)
            at = (un, uc, np.uint64(od), np.uint64(oh))
            for ow in range(np.uint64(g.shape[4])):
                i = idx[0, 0, 0, 0, ow]
                if i >= 0:
                    grad[un, uc, np.uint64(i)] += g[at[0], at[1], at[2], at[3], ow]


@_njit
def backward_planes(g, x, grad, geo, taps, low):
    for item in range(x.shape[0] * x.shape[1]):
        _backward_plane(g, x, grad, item, geo, taps, low)


@_pjit
def backward_planes_parallel(g, x, grad, geo, taps, low):
    for item in numba.prange(x.shape[0] * x.shape[1]):
        _backward_plane(g, x, grad, item, geo, taps, low)


# ----------------------------------------------------------------------------
# Scatter by index: backward from indices (add) and unpool (assign, last duplicate wins).
# ----------------------------------------------------------------------------


@_inline
def _scatter_plane(values, indices, out, item, add):
    """Zero plane ``item`` of ``out`` (``(N, C, plane)``), then scatter its values by index.

    Returns the position in the plane of the first index outside ``[-1, plane)``, or -1.
    """
    n, c = np.uint64(item // values.shape[1]), np.uint64(item % values.shape[1])
    plane = np.uint64(out.shape[2])
    for i in range(plane):
        out[n, c, i] = 0
    for o in range(np.uint64(values.shape[2])):
        i = indices[n, c, o]
        if np.uint64(i) < plane:  # 0 <= i < plane
            if add:
                out[n, c, np.uint64(i)] += values[n, c, o]
            else:
                out[n, c, np.uint64(i)] = values[n, c, o]
        elif i != -1:
            return np.int64(o)
    return -1


@_njit
def scatter_planes(values, indices, out, add):
    """Scatter every plane; the flat position of the first index out of range, or -1."""
    for item in range(values.shape[0] * values.shape[1]):
        bad = _scatter_plane(values, indices, out, item, add)
        if bad >= 0:
            return item * values.shape[2] + bad
    return -1


@_pjit
def scatter_planes_parallel(values, indices, out, add):
    items = values.shape[0] * values.shape[1]
    bad = np.empty(items, dtype=np.int64)
    for item in numba.prange(items):
        bad[item] = _scatter_plane(values, indices, out, item, add)
    for item in range(items):
        if bad[item] >= 0:
            return item * values.shape[2] + bad[item]
    return -1


#: name -> (serial driver, parallel driver)
DRIVERS: dict[str, tuple[Callable[..., None], Callable[..., None]]] = {
    "forward_planes": (forward_planes, forward_planes_parallel),
    "forward_rows": (forward_rows, forward_rows_parallel),
    "backward_planes": (backward_planes, backward_planes_parallel),
    "scatter_planes": (scatter_planes, scatter_planes_parallel),
}


# ----------------------------------------------------------------------------
# The geometry tables, in plain Python (once per parameter set and input size).
# ----------------------------------------------------------------------------


def geometry(params, nd: int) -> np.ndarray:
    """``(3, 4)`` int64 table ``[k, s, p, d]`` per dimension, unit rows in front for 1-D and 2-D."""
    table = np.zeros((3, 4), dtype=np.int64)
    table[:, 0] = table[:, 1] = table[:, 3] = 1
    for i in range(nd):
        row = 3 - nd + i
        table[row] = (
            params.kernel_size[i],
            params.stride[i],
            params.padding[i],
            params.dilation[i],
        )
    return table


def taps(geo: np.ndarray, width: int, n_out: int) -> np.ndarray:
    """``(k, 3)`` uint64 table: per tap along W, ``(first, o0, count)``: outputs
    ``o0 .. o0 + count - 1`` read it inside ``[0, width)``, output ``o0 + t`` at input position
    ``first + t * s``."""
    k, s, p, d = (int(v) for v in geo[2])
    off = np.arange(k, dtype=np.int64) * d - p
    lo = np.where(off < 0, -(off // s), 0)
    hi = np.where(off <= width - 1, np.minimum(n_out, (width - 1 - off) // s + 1), 0)
    count = np.maximum(hi - lo, 0)
    return np.stack([np.where(count > 0, lo * s + off, 0), lo, count], axis=1).astype(np.uint64)

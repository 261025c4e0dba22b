"""The compiled kernels of :mod:`poolref.jit` (numba, imported lazily on the first jit call).

Every kernel works on five-dimensional arrays ``(N, C, D, H, W)``: the 1-D and 2-D calls insert
unit spatial axes as views (:mod:`poolref._jit_cores`), so one loop nest serves every rank. The
window rule is the naive oracle's, written independently: a window's first *valid* tap starts
the running maximum, and a later tap takes over where its value is strictly greater, or is NaN.
So ties (``-0.0`` against ``0.0`` included) keep the first, a NaN window ends on its last NaN,
padding is never read and an empty window keeps the lowest value and index ``-1``.

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


@_njit
def _tap_range(o, k, s, p, d, length):
    """Taps ``[lo, hi)`` of output ``o`` that read inside ``[0, length)`` along one dimension."""
    start = o * s - p
    lo = 0
    if start < 0:
        lo = (-start + d - 1) // d
    hi = k
    last = (length - 1 - start) // d + 1 if length - 1 - start >= 0 else 0
    if last < hi:
        hi = last
    if hi < lo:
        hi = lo
    return start, lo, hi


@_njit
def _window(x, n, c, od, oh, ow, geo, low):
    """``(value, index)`` of one window's maximum (``(low, -1)`` for an empty window)."""
    D, H, W = x.shape[2], x.shape[3], x.shape[4]
    sd, ld, hd = _tap_range(od, geo[0, 0], geo[0, 1], geo[0, 2], geo[0, 3], D)
    sh, lh, hh = _tap_range(oh, geo[1, 0], geo[1, 1], geo[1, 2], geo[1, 3], H)
    sw, lw, hw = _tap_range(ow, geo[2, 0], geo[2, 1], geo[2, 2], geo[2, 3], W)
    best = low
    index = -1
    for a in range(ld, hd):
        i_d = sd + a * geo[0, 3]
        for b in range(lh, hh):
            i_h = sh + b * geo[1, 3]
            for e in range(lw, hw):
                i_w = sw + e * geo[2, 3]
                v = x[n, c, i_d, i_h, i_w]
                if index == -1 or v > best or v != v:
                    best = v
                    index = (i_d * H + i_h) * W + i_w
    return best, index


@_njit
def _forward_plane(x, y, idx, item, geo, low, with_indices):
    """Every window of plane ``item`` (``n * C + c``)."""
    n, c = item // x.shape[1], item % x.shape[1]
    for od in range(y.shape[2]):
        for oh in range(y.shape[3]):
            for ow in range(y.shape[4]):
                v, i = _window(x, n, c, od, oh, ow, geo, low)
                y[n, c, od, oh, ow] = v
                if with_indices:
                    idx[n, c, od, oh, ow] = i


@_njit
def forward_planes(x, y, idx, geo, low, with_indices):
    for item in range(x.shape[0] * x.shape[1]):
        _forward_plane(x, y, idx, item, geo, low, with_indices)


@_pjit
def forward_planes_parallel(x, y, idx, geo, low, with_indices):
    for item in numba.prange(x.shape[0] * x.shape[1]):
        _forward_plane(x, y, idx, item, geo, low, with_indices)


# ----------------------------------------------------------------------------
# Channels-last memory: the channel loop innermost, the running maxima kept in y.
# ----------------------------------------------------------------------------


@_njit
def _tap_channels(x, y, idx, n, o, i, first, with_indices):
    """Fold input position ``i = (i_d, i_h, i_w)`` into output ``o``'s running maxima, all channels."""
    index = (i[0] * x.shape[3] + i[1]) * x.shape[4] + i[2]
    for c in range(x.shape[1]):
        v = x[n, c, i[0], i[1], i[2]]
        best = y[n, c, o[0], o[1], o[2]]
        if first or v > best or v != v:
            y[n, c, o[0], o[1], o[2]] = v
            if with_indices:
                idx[n, c, o[0], o[1], o[2]] = index


@_njit
def _empty_channels(y, idx, n, o, low, with_indices):
    for c in range(y.shape[1]):
        y[n, c, o[0], o[1], o[2]] = low
        if with_indices:
            idx[n, c, o[0], o[1], o[2]] = -1


@_njit
def _forward_row(x, y, idx, item, geo, low, with_indices):
    """Every window of output row ``item`` (``(n * D_out + od) * H_out + oh``), all channels."""
    n_out_d, n_out_h = y.shape[2], y.shape[3]
    n, od, oh = item // (n_out_d * n_out_h), item // n_out_h % n_out_d, item % n_out_h
    sd, ld, hd = _tap_range(od, geo[0, 0], geo[0, 1], geo[0, 2], geo[0, 3], x.shape[2])
    sh, lh, hh = _tap_range(oh, geo[1, 0], geo[1, 1], geo[1, 2], geo[1, 3], x.shape[3])
    for ow in range(y.shape[4]):
        o = (od, oh, ow)
        sw, lw, hw = _tap_range(ow, geo[2, 0], geo[2, 1], geo[2, 2], geo[2, 3], x.shape[4])
        first = True
        for a in range(ld, hd):
            for b in range(lh, hh):
                for e in range(lw, hw):
                    i = (sd + a * geo[0, 3], sh + b * geo[1, 3], sw + e * geo[2, 3])
                    _tap_channels(x, y, idx, n, o, i, first, with_indices)
                    first = False
        if first:
            _empty_channels(y, idx, n, o, low, with_indices)


@_njit
def forward_rows(x, y, idx, geo, low, with_indices):
    for item in range(y.shape[0] * y.shape[2] * y.shape[3]):
        _forward_row(x, y, idx, item, geo, low, with_indices)


@_pjit
def forward_rows_parallel(x, y, idx, geo, low, with_indices):
    for item in numba.prange(y.shape[0] * y.shape[2] * y.shape[3]):
        _forward_row(x, y, idx, item, geo, low, with_indices)


# ----------------------------------------------------------------------------
# Backward from x (the maximum's position found and its gradient added at once).
# ----------------------------------------------------------------------------


@_njit
def _backward_plane(g, x, grad, item, geo, low):
    """Add plane ``item``'s gradients at its windows' maxima (``grad`` is ``(N, C, plane)``)."""
    n, c = item // x.shape[1], item % x.shape[1]
    for od in range(g.shape[2]):
        for oh in range(g.shape[3]):
            for ow in range(g.shape[4]):
                i = _window(x, n, c, od, oh, ow, geo, low)[1]
                if i >= 0:
                    grad[n, c, i] += g[n, c, od, oh, ow]


@_njit
def backward_planes(g, x, grad, geo, low):
    for item in range(x.shape[0] * x.shape[1]):
        _backward_plane(g, x, grad, item, geo, low)


@_pjit
def backward_planes_parallel(g, x, grad, geo, low):
    for item in numba.prange(x.shape[0] * x.shape[1]):
        _backward_plane(g, x, grad, item, geo, low)


# ----------------------------------------------------------------------------
# Scatter by index: backward from indices (add) and unpool (assign, last duplicate wins).
# ----------------------------------------------------------------------------


@_njit
def _scatter_plane(values, indices, out, item, add):
    n, c = item // values.shape[1], item % values.shape[1]
    for o in range(values.shape[2]):
        i = indices[n, c, o]
        if i >= 0:
            if add:
                out[n, c, i] += values[n, c, o]
            else:
                out[n, c, i] = values[n, c, o]


@_njit
def scatter_planes(values, indices, out, add):
    for item in range(values.shape[0] * values.shape[1]):
        _scatter_plane(values, indices, out, item, add)


@_pjit
def scatter_planes_parallel(values, indices, out, add):
    for item in numba.prange(values.shape[0] * values.shape[1]):
        _scatter_plane(values, indices, out, item, add)


#: name -> (serial driver, parallel driver)
DRIVERS: dict[str, tuple[Callable[..., None], Callable[..., None]]] = {
    "forward_planes": (forward_planes, forward_planes_parallel),
    "forward_rows": (forward_rows, forward_rows_parallel),
    "backward_planes": (backward_planes, backward_planes_parallel),
    "scatter_planes": (scatter_planes, scatter_planes_parallel),
}


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

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
def _tap_outputs(e, k, s, p, d, length, n_out):
    """Along the last dimension: the input offset of tap ``e`` and the outputs ``[lo, hi)`` it reads."""
    off = e * d - p
    lo = 0 if off >= 0 else (-off + s - 1) // s
    hi = (length - 1 - off) // s + 1 if length - 1 - off >= 0 else 0
    hi = min(hi, n_out)
    return off, lo, max(hi, lo)


@_njit
def _fold_row(x, n, c, i_d, i_h, yrow, irow, geo, with_indices):
    """Fold input row ``(i_d, i_h)`` into an output row's running maxima, one tap at a time.

    For one output the taps arrive in row-major order (the callers loop over depth and height
    taps outside), so the strict ``>`` keeps the first of equal values.
    """
    width = x.shape[4]
    base = (i_d * x.shape[3] + i_h) * width
    k, s, p, d = geo[2, 0], geo[2, 1], geo[2, 2], geo[2, 3]
    for e in range(k):
        off, lo, hi = _tap_outputs(e, k, s, p, d, width, yrow.size)
        if not with_indices:  # a branch-free select: the loop vectorises
            for ow in range(lo, hi):
                v, best = x[n, c, i_d, i_h, ow * s + off], yrow[ow]
                yrow[ow] = v if (v > best) | (v != v) else best
            continue
        for ow in range(lo, hi):
            v = x[n, c, i_d, i_h, ow * s + off]
            if v > yrow[ow] or v != v:
                yrow[ow] = v
                irow[ow] = base + ow * s + off


@_njit
def _first_taps(irow, x_shape, geo, sd, ld, hd, sh, lh, hh):
    """Windows never updated (every valid tap is the lowest value) take their first valid tap."""
    if ld >= hd or lh >= hh:
        return
    k, s, p, d = geo[2, 0], geo[2, 1], geo[2, 2], geo[2, 3]
    base = ((sd + ld * geo[0, 3]) * x_shape[3] + sh + lh * geo[1, 3]) * x_shape[4]
    for ow in range(irow.size):
        if irow[ow] == -1:
            sw, lw, hw = _tap_range(ow, k, s, p, d, x_shape[4])
            if lw < hw:
                irow[ow] = base + sw + lw * d


@_njit
def _output_row(x, n, c, od, oh, yrow, irow, geo, low, with_indices):
    """One output row ``(n, c, od, oh, :)`` into ``yrow`` (and its indices into ``irow``)."""
    sd, ld, hd = _tap_range(od, geo[0, 0], geo[0, 1], geo[0, 2], geo[0, 3], x.shape[2])
    sh, lh, hh = _tap_range(oh, geo[1, 0], geo[1, 1], geo[1, 2], geo[1, 3], x.shape[3])
    yrow[:] = low[0]
    if with_indices:
        irow[:] = -1
    for a in range(ld, hd):
        for b in range(lh, hh):
            _fold_row(
                x, n, c, sd + a * geo[0, 3], sh + b * geo[1, 3], yrow, irow, geo, with_indices
            )
    if with_indices:
        _first_taps(irow, x.shape, geo, sd, ld, hd, sh, lh, hh)


@_njit
def _forward_plane(x, y, idx, item, geo, low, with_indices):
    """Every window of plane ``item`` (``n * C + c``)."""
    n, c = item // x.shape[1], item % x.shape[1]
    spare = np.empty(y.shape[4], dtype=np.int64)
    for od in range(y.shape[2]):
        for oh in range(y.shape[3]):
            irow = idx[n, c, od, oh] if with_indices else spare
            _output_row(x, n, c, od, oh, y[n, c, od, oh], irow, geo, low, with_indices)


@_njit
def forward_planes(x, y, idx, geo, low, with_indices):
    for item in range(x.shape[0] * x.shape[1]):
        _forward_plane(x, y, idx, item, geo, low, with_indices)


@_pjit
def forward_planes_parallel(x, y, idx, geo, low, with_indices):
    for item in numba.prange(x.shape[0] * x.shape[1]):
        _forward_plane(x, y, idx, item, geo, low, with_indices)


# ----------------------------------------------------------------------------
# Channels-last memory: C-contiguous (N, D, H, W, C) arrays, the channel loop innermost.
# ----------------------------------------------------------------------------


@_njit
def _fold_channels(xv, yv, iv, index, with_indices):
    for c in range(xv.size):
        v = xv[c]
        if v > yv[c] or v != v:
            yv[c] = v
            if with_indices:
                iv[c] = index


@_njit
def _channels_window(x, yv, iv, n, od, oh, ow, geo, low, with_indices):
    """One output position ``(n, od, oh, ow)``, every channel (``x`` is ``(N, D, H, W, C)``)."""
    sd, ld, hd = _tap_range(od, geo[0, 0], geo[0, 1], geo[0, 2], geo[0, 3], x.shape[1])
    sh, lh, hh = _tap_range(oh, geo[1, 0], geo[1, 1], geo[1, 2], geo[1, 3], x.shape[2])
    sw, lw, hw = _tap_range(ow, geo[2, 0], geo[2, 1], geo[2, 2], geo[2, 3], x.shape[3])
    yv[:] = low[0]
    if with_indices:
        iv[:] = -1
    for a in range(ld, hd):
        i_d = sd + a * geo[0, 3]
        for b in range(lh, hh):
            i_h = sh + b * geo[1, 3]
            for e in range(lw, hw):
                i_w = sw + e * geo[2, 3]
                index = (i_d * x.shape[2] + i_h) * x.shape[3] + i_w
                _fold_channels(x[n, i_d, i_h, i_w], yv, iv, index, with_indices)
    if with_indices and ld < hd and lh < hh and lw < hw:
        first = ((sd + ld * geo[0, 3]) * x.shape[2] + sh + lh * geo[1, 3]) * x.shape[3]
        for c in range(iv.size):
            if iv[c] == -1:
                iv[c] = first + sw + lw * geo[2, 3]


@_njit
def _forward_row(x, y, idx, item, geo, low, with_indices):
    """Output row ``item`` (``(n * D_out + od) * H_out + oh``) of ``(N, D, H, W, C)`` arrays."""
    n_out_d, n_out_h = y.shape[1], y.shape[2]
    n, od, oh = item // (n_out_d * n_out_h), item // n_out_h % n_out_d, item % n_out_h
    spare = np.empty(y.shape[4], dtype=np.int64)
    for ow in range(y.shape[3]):
        iv = idx[n, od, oh, ow] if with_indices else spare
        _channels_window(x, y[n, od, oh, ow], iv, n, od, oh, ow, geo, low, with_indices)


@_njit
def forward_rows(x, y, idx, geo, low, with_indices):
    for item in range(y.shape[0] * y.shape[1] * y.shape[2]):
        _forward_row(x, y, idx, item, geo, low, with_indices)


@_pjit
def forward_rows_parallel(x, y, idx, geo, low, with_indices):
    for item in numba.prange(y.shape[0] * y.shape[1] * y.shape[2]):
        _forward_row(x, y, idx, item, geo, low, with_indices)


# ----------------------------------------------------------------------------
# Backward from x (each output row's maxima found, then their gradients added).
# ----------------------------------------------------------------------------


@_njit
def _backward_plane(g, x, grad, item, geo, low):
    """Add plane ``item``'s gradients at its windows' maxima (``grad`` is ``(N, C, plane)``)."""
    n, c = item // x.shape[1], item % x.shape[1]
    yrow = np.empty(g.shape[4], dtype=x.dtype)
    irow = np.empty(g.shape[4], dtype=np.int64)
    for od in range(g.shape[2]):
        for oh in range(g.shape[3]):
            _output_row(x, n, c, od, oh, yrow, irow, geo, low, True)
            for ow in range(g.shape[4]):
                i = irow[ow]
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

"""The compiled kernels of :mod:`poolref.jit` (numba, imported lazily on the first jit call).

Every kernel works on five-dimensional arrays ``(N, C, D, H, W)``: the 1-D and 2-D calls insert
unit spatial axes as views (:mod:`poolref._jit_cores`), so one loop nest serves every rank. The
window rule is the naive oracle's, written independently: a window's first *valid* tap starts
the running maximum, and a later tap takes over where its value is strictly greater, or is NaN.
So ties (``-0.0`` against ``0.0`` included) keep the first, a NaN window ends on its last NaN,
padding is never read and an empty window keeps the lowest value and index ``-1``.

Along W, the outputs whose taps all lie inside the input (:func:`~poolref._jit_cores.row_plan`:
a fixed-size table whatever the kernel size) fold each valid D and H tap's input row into the
output row in one pass, two and three taps at once (unrolled), or two taps a pass for other
sizes, with a branch-free select that the compiler vectorises; for two and three taps the first
tap row writes them (:func:`_interior_first`). Each plane's loops are specialised for stride 2 without
dilation (de-interleaved loads). The edge outputs (padding, ceil_mode) take each input row's
valid taps one by one. The valid D and H taps are found once per output row (:func:`_span`);
the channels-last kernels find them once per output position, then fold channel vectors.

Indices are flat row-major plane indices ``(d * H + h) * W + w``. Each kernel has a serial and a
parallel driver over independent work items (planes, or output rows for channels-last memory);
every item is computed by the same sequential code, so results do not depend on the thread count.
The scatter kernels (backward, unpool) run over ``(N, C, plane)`` views.

Each kernel is a plain ``def`` bound to its compiled version by name at the end of its section
(``f = _inline(f)``): mutmut mutates only undecorated functions, and numba resolves callees by
name when it compiles. Without numba (:mod:`poolref._jit_compat`'s pure mode: identity
decorators, ``prange`` is ``range``) the same functions run as plain Python with the same
results, so that tests on tiny inputs and the mutation gate exercise these very bodies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._jit_compat import njit, prange

_njit = njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
_pjit = njit(cache=True, nogil=True, error_model="numpy", boundscheck=False, parallel=True)
#: the serial kernels that allocate nothing run without numba's reference counting: every row
#: view they take would otherwise cost an atomic increment and decrement (a sixth of a small
#: input's kernel time; numba's private ``_nrt`` option)
_bare = njit(cache=True, nogil=True, error_model="numpy", boundscheck=False, _nrt=False)
#: the helpers of the hot loops are inlined at numba's level: a call that passes arrays costs
#: more than a short loop over a row or a channel vector
_inline = njit(cache=True, nogil=True, error_model="numpy", boundscheck=False, inline="always")


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


_ONE, _TWO = np.uint64(1), np.uint64(2)


def _unsigned(at):
    """A tuple of four non-negative indices as unsigned integers."""
    return np.uint64(at[0]), np.uint64(at[1]), np.uint64(at[2]), np.uint64(at[3])


def _fill(a, at, value):
    """Set the row ``a[at]`` (``at`` four unsigned indices) to ``value``."""
    i, j, k, m = at
    for t in range(np.uint64(a.shape[4])):
        a[i, j, k, m, t] = value


def _wins(v, best):
    """Whether ``v`` replaces the running maximum ``best``: strictly greater, or NaN."""
    return (v > best) | (v != v)


def _pick(v, best):
    """``v`` where it replaces the running maximum ``best`` (see :func:`_wins`), else ``best``."""
    return v if _wins(v, best) else best


def _fold(v, best, lo):
    """:func:`_pick` for a running maximum updated in place. The extra pick of the dtype's lowest
    value ``lo`` never changes the result (``lo`` never wins), but it keeps LLVM from turning
    ``a[i] = v if ... else a[i]`` into a conditional store, which its vectoriser gives up on
    (measured: 4-5x slower loops)."""
    return _pick(v, _pick(lo, best))


def _pick_indexed(v, i, best, j):
    """:func:`_pick` that also keeps the winner's index; a running index still ``-1`` takes
    ``v`` whatever it is, so a window of lowest values gets the index of its first valid tap."""
    take = _wins(v, best) | (j < 0)
    return (v if take else best), (i if take else j)


_span = _inline(_span)
_unsigned = _inline(_unsigned)
_fill = _inline(_fill)
_wins = _inline(_wins)
_pick = _inline(_pick)
_fold = _inline(_fold)
_pick_indexed = _inline(_pick_indexed)


def _interior_values(xr, yr, row, s, d, lo):
    """Fold input row ``xr`` into the running maxima ``yr`` of the outputs whose taps along W all
    lie inside it (``row``, see :func:`~poolref._jit_cores.row_plan`), in one pass for two and three taps (unrolled,
    so that the compiler vectorises across outputs), else two taps a pass. ``s`` and ``d`` are
    constants where the callers can make them so (the loads are then contiguous or
    de-interleaved). ``lo``: the dtype's lowest value (see :func:`_fold`)."""
    o0, count, i0, k = row[0], row[1], row[2], row[3]
    if count == 0:  # no inside output (then the tap loop below would still run k times)
        return
    if k == 2:
        for t in range(count):
            i = i0 + s * t
            yr[o0 + t] = _pick(xr[i + d], _pick(xr[i], yr[o0 + t]))
    elif k == 3:
        for t in range(count):
            i = i0 + s * t
            best = _pick(xr[i + d], _pick(xr[i], yr[o0 + t]))
            yr[o0 + t] = _pick(xr[i + _TWO * d], best)
    else:  # two taps a pass, then the odd one
        for e in range(k // _TWO):
            for t in range(count):
                i = i0 + _TWO * d * e + s * t
                yr[o0 + t] = _pick(xr[i + d], _pick(xr[i], yr[o0 + t]))
        if k % _TWO:
            for t in range(count):
                yr[o0 + t] = _fold(xr[i0 + (k - _ONE) * d + s * t], yr[o0 + t], lo)


def _interior_first(xr, yr, row, s, d):
    """The first input row of two- and three-tap windows (the common sizes) into the inside
    outputs of ``yr``: their maxima over ``xr`` alone, written without reading ``yr`` (so the
    row needs no pass that fills it with the lowest value first: a fifth of a 1-D forward's
    time). Other kernel sizes fold into a filled row (:func:`_interior_values`)."""
    o0, count, i0, k = row[0], row[1], row[2], row[3]
    if k == 2:
        for t in range(count):
            i = i0 + s * t
            yr[o0 + t] = _pick(xr[i + d], xr[i])
    else:
        for t in range(count):
            i = i0 + s * t
            yr[o0 + t] = _pick(xr[i + _TWO * d], _pick(xr[i + d], xr[i]))


def _interior_indexed(xr, yr, ir, row, s, d, base):
    """:func:`_interior_values` that also keeps the winner's flat plane index in ``ir``
    (``base``: the plane index of ``xr[0]``)."""
    o0, count, i0, k = row[0], row[1], row[2], row[3]
    if count == 0:  # no inside output (then the tap loop below would still run k times)
        return
    if k == 2:
        for t in range(count):
            i, o = i0 + s * t, o0 + t
            best, j = _pick_indexed(xr[i], base + np.int64(i), yr[o], ir[o])
            yr[o], ir[o] = _pick_indexed(xr[i + d], base + np.int64(i + d), best, j)
    elif k == 3:
        for t in range(count):
            i, o = i0 + s * t, o0 + t
            best, j = _pick_indexed(xr[i], base + np.int64(i), yr[o], ir[o])
            best, j = _pick_indexed(xr[i + d], base + np.int64(i + d), best, j)
            tap = i + _TWO * d
            yr[o], ir[o] = _pick_indexed(xr[tap], base + np.int64(tap), best, j)
    else:
        for e in range(k):
            for t in range(count):
                tap, o = i0 + d * e + s * t, o0 + t
                yr[o], ir[o] = _pick_indexed(xr[tap], base + np.int64(tap), yr[o], ir[o])


def _edge_values(xr, yr, row, geo_w, lo):
    """Fold input row ``xr`` into the edge outputs of ``yr``, those outside ``row``'s inside
    range (padding, ceil_mode): each over its own valid taps, in order."""
    o0, count = np.int64(row[0]), np.int64(row[1])
    for q in range(yr.shape[0] - count):  # the outputs before o0, then those after
        o = q if q < o0 else q + count
        first, taps = _span(o, xr.shape[0], geo_w)
        for e in range(taps):
            yr[o] = _fold(xr[first + e * geo_w[3]], yr[o], lo)


def _edge_indexed(xr, yr, ir, row, geo_w, base):
    """:func:`_edge_values` that also keeps the winners' flat plane indices in ``ir``."""
    o0, count = np.int64(row[0]), np.int64(row[1])
    for q in range(yr.shape[0] - count):
        o = q if q < o0 else q + count
        first, taps = _span(o, xr.shape[0], geo_w)
        for e in range(taps):
            i = first + e * geo_w[3]
            yr[o], ir[o] = _pick_indexed(xr[i], base + i, yr[o], ir[o])


def _row_values(x, n, c, od, oh, yr, geo, row, low, s, d):
    """Output row ``(od, oh)`` of plane ``x[n, c]`` into ``yr``: each valid D and H tap's input
    row is folded into the inside outputs (:func:`_interior_values`) and the edge ones."""
    spans = _span(od, x.shape[2], geo[0]) + _span(oh, x.shape[3], geo[1])
    lo = low[0]
    # the first input row writes the inside outputs of 2- and 3-tap windows (_interior_first);
    # then only the edge outputs start at the lowest value
    first = spans[1] > 0 and spans[3] > 0 and (row[3] == _TWO or row[3] == _TWO + _ONE)
    o0, count = np.int64(row[0]), np.int64(row[1])
    for q in range(yr.shape[0] - count if first else yr.shape[0]):
        yr[q if not first or q < o0 else q + count] = lo
    for a in range(spans[1]):
        i_d = np.uint64(spans[0] + a * geo[0, 3])
        for b in range(spans[3]):
            xr = x[n, c, i_d, np.uint64(spans[2] + b * geo[1, 3])]
            if first:
                _interior_first(xr, yr, row, s, d)
                first = False
            else:
                _interior_values(xr, yr, row, s, d, lo)
            _edge_values(xr, yr, row, geo[2], lo)


def _row_indexed(x, n, c, od, oh, yr, ir, geo, row, low, s, d):
    """:func:`_row_values` that also keeps the winners' flat plane indices in ``ir``."""
    spans = _span(od, x.shape[2], geo[0]) + _span(oh, x.shape[3], geo[1])
    for t in range(np.uint64(yr.shape[0])):
        yr[t], ir[t] = low[0], -1
    for a in range(spans[1]):
        i_d = spans[0] + a * geo[0, 3]
        for b in range(spans[3]):
            i_h = spans[2] + b * geo[1, 3]
            xr, base = (
                x[n, c, np.uint64(i_d), np.uint64(i_h)],
                (i_d * x.shape[3] + i_h) * x.shape[4],
            )
            _interior_indexed(xr, yr, ir, row, s, d, base)
            _edge_indexed(xr, yr, ir, row, geo[2], base)


def _plane_values(x, y, n, c, geo, row, low, s, d):
    """Every output row of plane ``(n, c)`` (``s``, ``d``: see :func:`_interior_values`)."""
    un, uc = np.uint64(n), np.uint64(c)
    for od in range(y.shape[2]):
        for oh in range(y.shape[3]):
            _row_values(
                x, n, c, od, oh, y[un, uc, np.uint64(od), np.uint64(oh)], geo, row, low, s, d
            )


def _plane_indexed(x, y, idx, n, c, geo, row, low, s, d):
    """:func:`_plane_values` that also keeps the winners' flat plane indices in ``idx``."""
    un, uc = np.uint64(n), np.uint64(c)
    for od in range(y.shape[2]):
        for oh in range(y.shape[3]):
            at = (un, uc, np.uint64(od), np.uint64(oh))
            _row_indexed(x, n, c, od, oh, y[at], idx[at], geo, row, low, s, d)


def _values_plane(x, y, item, geo, row, low):
    """Every window of plane ``item`` (``n * C + c``), with the stride and dilation along W made
    constants for stride 2 without dilation (de-interleaved loads). Other strides run the
    generic loops, where LLVM speculates a unit stride itself; a constant stride 1 was 15%
    faster on 14x14 planes and cost 8 s of compile time per dtype. The values and the indexed
    forward are separate kernels, so that each compiles alone (a call without indices does not
    compile the indexed loops, and the layers' int32 indices do not recompile the values')."""
    n, c = item // x.shape[1], item % x.shape[1]
    s, d = row[4], row[5]
    if s == _TWO and d == _ONE:
        _plane_values(x, y, n, c, geo, row, low, _TWO, _ONE)
    else:
        _plane_values(x, y, n, c, geo, row, low, s, d)


def _indexed_plane(x, y, idx, item, geo, row, low):
    """:func:`_values_plane` that also keeps the winners' flat plane indices in ``idx``."""
    n, c = item // x.shape[1], item % x.shape[1]
    s, d = row[4], row[5]
    if s == _TWO and d == _ONE:
        _plane_indexed(x, y, idx, n, c, geo, row, low, _TWO, _ONE)
    else:
        _plane_indexed(x, y, idx, n, c, geo, row, low, s, d)


def forward_planes(x, y, geo, row, low):
    for item in range(x.shape[0] * x.shape[1]):
        _values_plane(x, y, item, geo, row, low)


def forward_planes_parallel(x, y, geo, row, low):
    for item in prange(x.shape[0] * x.shape[1]):
        _values_plane(x, y, item, geo, row, low)


def indexed_planes(x, y, idx, geo, row, low):
    for item in range(x.shape[0] * x.shape[1]):
        _indexed_plane(x, y, idx, item, geo, row, low)


def indexed_planes_parallel(x, y, idx, geo, row, low):
    for item in prange(x.shape[0] * x.shape[1]):
        _indexed_plane(x, y, idx, item, geo, row, low)


_interior_values = _inline(_interior_values)
_interior_first = _inline(_interior_first)
_interior_indexed = _inline(_interior_indexed)
_edge_values = _inline(_edge_values)
_edge_indexed = _inline(_edge_indexed)
_row_values = _inline(_row_values)
_row_indexed = _inline(_row_indexed)
_plane_values = _inline(_plane_values)
_plane_indexed = _inline(_plane_indexed)
_values_plane = _bare(_values_plane)
_indexed_plane = _bare(_indexed_plane)
forward_planes = _bare(forward_planes)
forward_planes_parallel = _pjit(forward_planes_parallel)
indexed_planes = _bare(indexed_planes)
indexed_planes_parallel = _pjit(indexed_planes_parallel)


# ----------------------------------------------------------------------------
# Channels-last memory: C-contiguous (N, D, H, W, C) arrays, the channel loop innermost.
# ----------------------------------------------------------------------------


def _fold_channels(x, at_x, y, idx, at, index, low, with_indices):
    """Fold the channel vector ``x[at_x]`` into the running maxima ``y[at]`` (and ``idx[at]``)."""
    n, i_d, i_h, i_w = _unsigned(at_x)
    yn, od, oh, ow = _unsigned(at)
    lo = low[0]
    if not with_indices:
        for c in range(np.uint64(x.shape[4])):
            v, best = x[n, i_d, i_h, i_w, c], y[yn, od, oh, ow, c]
            y[yn, od, oh, ow, c] = _fold(v, best, lo)
        return
    for c in range(np.uint64(x.shape[4])):
        v, best, j = x[n, i_d, i_h, i_w, c], y[yn, od, oh, ow, c], idx[yn, od, oh, ow, c]
        take = _wins(v, best) | (j < 0)
        y[yn, od, oh, ow, c] = v if take else best
        idx[yn, od, oh, ow, c] = index if take else j


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
                _fold_channels(x, (n, i_d, i_h, i_w), y, idx, at, index, low, with_indices)


def _forward_row(x, y, idx, item, geo, low, with_indices):
    """Output row ``item`` (``(n * D_out + od) * H_out + oh``) of ``(N, D, H, W, C)`` arrays."""
    n_out_d, n_out_h = y.shape[1], y.shape[2]
    n, od, oh = item // (n_out_d * n_out_h), item // n_out_h % n_out_d, item % n_out_h
    rows = _span(od, x.shape[1], geo[0]) + _span(oh, x.shape[2], geo[1])
    for ow in range(y.shape[3]):
        _channels_window(x, y, idx, (n, od, oh, ow), rows, geo, low, with_indices)


def forward_rows(x, y, idx, geo, low, with_indices):
    for item in range(y.shape[0] * y.shape[1] * y.shape[2]):
        _forward_row(x, y, idx, item, geo, low, with_indices)


def forward_rows_parallel(x, y, idx, geo, low, with_indices):
    for item in prange(y.shape[0] * y.shape[1] * y.shape[2]):
        _forward_row(x, y, idx, item, geo, low, with_indices)


_fold_channels = _inline(_fold_channels)
_channels_window = _inline(_channels_window)
_forward_row = _bare(_forward_row)
forward_rows = _bare(forward_rows)
forward_rows_parallel = _pjit(forward_rows_parallel)


# ----------------------------------------------------------------------------
# Backward from x (each output row's maxima found, then their gradients added).
# ----------------------------------------------------------------------------


def _backward_rows(g, x, grad, n, c, yr, ir, geo, row, low, s, d):
    """Add plane ``(n, c)``'s gradients at its windows' maxima, one output row at a time."""
    un, uc = np.uint64(n), np.uint64(c)
    for od in range(g.shape[2]):
        for oh in range(g.shape[3]):
            _row_indexed(x, n, c, od, oh, yr, ir, geo, row, low, s, d)
            gr = g[un, uc, np.uint64(od), np.uint64(oh)]
            for ow in range(np.uint64(g.shape[4])):
                i = ir[ow]
                if i >= 0:
                    grad[un, uc, np.uint64(i)] += gr[ow]


def _backward_plane(g, x, grad, item, geo, row, low):
    """Plane ``item``'s gradient (``grad`` is ``(N, C, plane)``), zeroed first."""
    n, c = item // x.shape[1], item % x.shape[1]
    yr = np.empty(g.shape[4], dtype=x.dtype)  # one output row at a time
    ir = np.empty(g.shape[4], dtype=np.int64)
    un, uc = np.uint64(n), np.uint64(c)
    for i in range(np.uint64(grad.shape[2])):
        grad[un, uc, i] = 0
    s, d = row[4], row[5]
    if s == _TWO and d == _ONE:
        _backward_rows(g, x, grad, n, c, yr, ir, geo, row, low, _TWO, _ONE)
    else:
        _backward_rows(g, x, grad, n, c, yr, ir, geo, row, low, s, d)


def backward_planes(g, x, grad, geo, row, low):
    for item in range(x.shape[0] * x.shape[1]):
        _backward_plane(g, x, grad, item, geo, row, low)


def backward_planes_parallel(g, x, grad, geo, row, low):
    for item in prange(x.shape[0] * x.shape[1]):
        _backward_plane(g, x, grad, item, geo, row, low)


_backward_rows = _inline(_backward_rows)
_backward_plane = _njit(_backward_plane)
backward_planes = _njit(backward_planes)
backward_planes_parallel = _pjit(backward_planes_parallel)


# ----------------------------------------------------------------------------
# Scatter by index: backward from indices (add) and unpool (assign, last duplicate wins).
# ----------------------------------------------------------------------------


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


def scatter_planes(values, indices, out, add):
    """Scatter every plane; the flat position of the first index out of range, or -1."""
    for item in range(values.shape[0] * values.shape[1]):
        bad = _scatter_plane(values, indices, out, item, add)
        if bad >= 0:
            return item * values.shape[2] + bad
    return -1


def scatter_planes_parallel(values, indices, out, add):
    items = values.shape[0] * values.shape[1]
    bad = np.empty(items, dtype=np.int64)
    for item in prange(items):
        bad[item] = _scatter_plane(values, indices, out, item, add)
    for item in range(items):
        if bad[item] >= 0:
            return item * values.shape[2] + bad[item]
    return -1


_scatter_plane = _inline(_scatter_plane)
scatter_planes = _bare(scatter_planes)
scatter_planes_parallel = _pjit(scatter_planes_parallel)


#: name -> (serial driver, parallel driver)
DRIVERS: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "forward_planes": (forward_planes, forward_planes_parallel),
    "indexed_planes": (indexed_planes, indexed_planes_parallel),
    "forward_rows": (forward_rows, forward_rows_parallel),
    "backward_planes": (backward_planes, backward_planes_parallel),
    "scatter_planes": (scatter_planes, scatter_planes_parallel),
}

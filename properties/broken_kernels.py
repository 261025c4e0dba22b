"""Kernel-shaped broken max pooling: bugs that live at the seams of optimised kernels.

:func:`pool` is written the way an optimised CPU max-pool kernel is (in
NumPy, independently of poolref's modules, so each "instruction" is a
whole-array operation), with the paths real kernels have:

* a **generic path** for short rows: a loop over the kernel taps, each tap a
  gather over every output (vectorised over planes);
* a **vector path** once an output row is at least ``LANES = 16`` wide: a
  vector body over full 16-lane tiles of output columns (all tiles of all
  rows at once, as the SIMD loop would compute them), output rows in blocks
  of ``ROWS = 4``, taps of kernels wider than 8 reduced in chunks of 8 columns
  and kernels above 255 taps in blocks of 255 (the per-block tap number fits
  a byte), then a **scalar tail** for the remaining columns, one at a time;
* a **specialised 2x2 / stride-2 path** (2-D, no padding or dilation);
* a **channels-last path** (``C`` innermost in memory and ``C >= 8``):
  vectorised over channels in blocks of 8, with a scalar tail over the
  remaining channels; its index starts at the window's first element;
* a **parallel split over N*C**: when the work exceeds ``GRAIN`` elements the
  planes are cut into ``WORKERS`` chunks;
* indices stored in a configurable type, and a backward that scatters
  16 gradients at a time in the vector path.

Every entry of :data:`BROKEN` switches on one bug, written as a kernel author
would write it, with a comment saying when it shows; none shows on the tiny
inputs of the corner cases and the Hypothesis search (planes of a few dozen
elements), so only the scale cases catch them. :data:`CORRECT` is the same
kernel without bugs: it must pass. The candidates support float32 only (as
many hand-written kernels do) and the channels-last path.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np

from poolref.testing import Candidate, Support

LANES = 16  # output columns per vector tile
ROWS = 4  # output rows per row block of the vector path
CHUNK = 8  # kernel columns per chunk of a wide kernel
BLOCK = 255  # taps per block of a large kernel (tap numbers fit a uint8)
CL_LANES = 8  # channels per vector of the channels-last path
GRAIN = 32768  # elements of work before the planes are split over workers
WORKERS = 4


# ----------------------------------------------------------------------------
# The window loop: one "instruction" per kernel tap
# ----------------------------------------------------------------------------


def _out_size(n, k, s, p, d, ceil_mode):
    span = n + 2 * p - d * (k - 1) - 1
    if not ceil_mode:
        return span // s + 1
    o = -(-span // s) + 1
    return o - 1 if (o - 1) * s >= n + p else o


def _window_max(planes, outs, k, s, p, d, taps, *, bugs=frozenset(), init_index=None):
    """Running maximum over ``taps`` (row-major tap tuples) for the outputs at coordinates ``outs``.

    ``planes`` is ``(P, *spatial)``; ``outs`` one array of output coordinates
    per dimension. Returns ``(value, index)`` of shape ``(P, *map(len, outs))``;
    index -1 where no tap was valid. With ``init_index`` the index starts
    there (PyTorch's channels-last kernels) instead of at the first valid tap.
    """
    spatial = planes.shape[1:]
    shape = (planes.shape[0], *(len(o) for o in outs))
    low = -np.inf if planes.dtype.kind == "f" else np.iinfo(planes.dtype).min
    best = np.full(shape, low, dtype=planes.dtype)
    index = (
        np.full(shape, -1, dtype=np.int64)
        if init_index is None
        else np.broadcast_to(init_index, shape).copy()
    )
    for qs in tap_coordinates(outs, s, p, d, taps):
        pos, valid, flat = [], True, 0
        for q, n in zip(qs, spatial):
            pos.append(np.clip(q, 0, n - 1))
            valid = valid & (q >= 0) & (q < n)
            flat = flat * n + q
        v = planes[(slice(None), *pos)]
        if "vector_zero_fill_padding" in bugs:
            # masked vector loads fill the lanes outside the row with 0.0, not -inf
            v = np.where(valid, v, np.zeros((), v.dtype))
            valid = np.ones_like(valid)
        greater = v > best
        if "vector_max_drops_nan" not in bugs:
            greater |= np.isnan(
                v
            )  # x86 maxps returns the second operand for NaN: the bug skips this
        take = valid & (greater | ((index == -1) if init_index is None else False))
        best = np.where(take, v, best)
        index = np.where(take, np.broadcast_to(flat, shape), index)
    return best, index


def tap_coordinates(outs, s, p, d, taps):
    """The tiling loop shared by the kernels here and in ``broken_tiles.py``: one step per tap.

    For each tap (a tuple of per-dimension offsets) yields, per dimension, the input coordinate
    each output reads (``o * s - p + j * d``, unclipped: padding is negative or past the end),
    shaped to broadcast over the outputs ``outs`` (one array of output coordinates per dimension).
    """
    nd = len(outs)
    for tap in taps:
        qs = []
        for i, (o, j) in enumerate(zip(outs, tap)):
            view = [1] * nd
            view[i] = len(o)
            qs.append((o * s[i] - p[i] + j * d[i]).reshape(view))
        yield qs


def body_width(out_w: int, lanes: int) -> int:
    """Output columns in whole vector tiles of ``lanes``; the rest is the scalar tail."""
    return out_w - out_w % lanes


def _taps(k):
    return list(itertools.product(*(range(kk) for kk in k)))


def _merge(best, index, v, i, *, ordered=True, ge=False, nan=True):
    """Merge a chunk's ``(v, i)`` into the running ``(best, index)``.

    Flat indices grow in row-major window order, so on equal values the smaller
    index is the earlier tap and among NaN the larger one is the later. With
    ``ordered`` the chunk is known to come after every tap merged so far.
    """
    if ordered:
        better = (v >= best) if ge else (v > best)
        if nan:
            better |= np.isnan(v)
    elif ge:  # the bug: as if the later chunk always came later in the window
        better = (v >= best) | np.isnan(v)
    else:
        nan_v, nan_best = np.isnan(v), np.isnan(best)
        better = (v > best) | ((v == best) & (i < index)) | (nan_v & (~nan_best | (i > index)))
    take = (i != -1) & ((index == -1) | better)
    return np.where(take, v, best), np.where(take, i, index)


def _reduce_taps(planes, outs, k, s, p, d, bugs):
    """The vector body's tap loop: wide kernels in chunks of 8 columns, large kernels in blocks of 255 taps."""
    taps = _taps(k)
    if len(taps) > BLOCK:
        blocks = [taps[i : i + BLOCK] for i in range(0, len(taps), BLOCK)]
        best = index = None
        for block in blocks:
            v, i = _window_max(planes, outs, k, s, p, d, block, bugs=bugs)
            if "big_kernel_uint8_tap" in bugs:
                # the block's tap number is kept in a uint8 *across* blocks: tap 256 reads as tap 0
                i = _index_of_tap(outs, k, s, p, d, planes.shape[1:], i)
            if best is None:
                best, index = v, i
            else:  # shows: kernel > 255 taps with NaN beyond tap 255 (the merge forgets NaN)
                best, index = _merge(
                    best, index, v, i, nan="big_kernel_merge_drops_nan" not in bugs
                )
        return best, index
    if k[-1] > CHUNK:
        best = index = None
        for c0 in range(0, k[-1], CHUNK):
            chunk = [t for t in taps if c0 <= t[-1] < c0 + CHUNK]
            v, i = _window_max(planes, outs, k, s, p, d, chunk, bugs=bugs)
            if best is None:
                best, index = v, i
            else:  # shows: kernel wider than 8 with equal maxima on both sides of a chunk
                best, index = _merge(
                    best, index, v, i, ordered=False, ge="wide_kernel_merge_ge" in bugs
                )
        return best, index
    return _window_max(planes, outs, k, s, p, d, taps, bugs=bugs)


def _index_of_tap(outs, k, s, p, d, spatial, index):
    """Recompute ``index`` from its tap number held in a uint8 (``tap % 256``)."""
    nd = len(spatial)
    coords = np.unravel_index(np.maximum(index, 0), spatial)
    tap = 0
    for i in range(nd):
        view = [1] * (nd + 1)
        view[i + 1] = len(outs[i])
        start = (outs[i] * s[i] - p[i]).reshape(view)
        tap = tap * k[i] + (coords[i] - start) // d[i]
    tap = tap.astype(np.uint8).astype(np.int64)  # the overflow
    flat = 0
    for i in reversed(range(nd)):
        view = [1] * (nd + 1)
        view[i + 1] = len(outs[i])
        tap, j = np.divmod(tap, k[i])
        flat_i = (outs[i] * s[i] - p[i]).reshape(view) + j * d[i]
        flat = flat + flat_i * math.prod(spatial[i + 1 :])
    return np.where(index == -1, -1, flat)


# ----------------------------------------------------------------------------
# Paths
# ----------------------------------------------------------------------------


def _rows_path(planes, out, k, s, p, d, bugs):
    """Vector body over full 16-lane column tiles (rows in blocks of 4), then the scalar tail."""
    nd = planes.ndim - 1
    o_w = out[-1]
    body = body_width(o_w, LANES)
    y = np.zeros((planes.shape[0], *out), dtype=planes.dtype)
    idx = np.zeros(y.shape, dtype=np.int64)
    rows = [np.arange(o) for o in out[:-1]]
    if nd > 1 and "row_block_tail" in bugs:
        # shows: vector path with an output height that is not a multiple of 4 (the last block is dropped)
        rows[-1] = rows[-1][: len(rows[-1]) - len(rows[-1]) % ROWS]
    src = planes
    w = planes.shape[-1]
    if "masked_load_on_multiple" in bugs and w % 32 == 0 and w >= 64:
        # shows: W a multiple of 32 (>= 64): the last 32-column load is masked to W % 32 = 0 lanes
        src = planes.copy()
        src[..., w - 32 :] = -np.inf
    v, i = _reduce_taps(src, [*rows, np.arange(body)], k, s, p, d, bugs)
    block = (slice(None), *(slice(0, len(r)) for r in rows), slice(0, body))
    y[block], idx[block] = v, i
    end = (
        o_w - 1 if "tail_off_by_one" in bugs else o_w
    )  # shows: output W > 16, not a multiple of 16
    tail_bugs = bugs - {"vector_max_drops_nan", "vector_zero_fill_padding"}
    all_rows = [np.arange(o) for o in out[:-1]]
    for col in range(body, end):
        v, i = _reduce_taps(planes, [*all_rows, np.array([col])], k, s, p, d, tail_bugs)
        y[..., col : col + 1], idx[..., col : col + 1] = v, i
    return y, idx


def _pool_2x2(planes, out, bugs):
    """Specialised 2x2 / stride-2 path: two input rows and 32 input columns per 16-lane tile."""
    h, w = planes.shape[1:]
    o_h, o_w = out
    body = body_width(o_w, LANES)
    flat = np.concatenate(
        [
            planes.reshape(planes.shape[0], -1),
            np.full((planes.shape[0], w + 2), -np.inf, planes.dtype),
        ],
        axis=1,
    )
    r0 = (2 * np.arange(o_h))[:, None]
    y = np.empty((planes.shape[0], o_h, o_w), dtype=planes.dtype)
    idx = np.empty(y.shape, dtype=np.int64)
    for cols, top_only in (
        (np.arange(body), False),
        (np.arange(body, o_w), "special_2x2_tail_top_row" in bugs),
    ):
        c0 = 2 * cols[None, :]
        taps = (
            [(r0, c0), (r0, c0 + 1)]
            if top_only
            else [(r0, c0), (r0, c0 + 1), (r0 + 1, c0), (r0 + 1, c0 + 1)]
        )
        best = np.full((planes.shape[0], o_h, len(cols)), -np.inf, planes.dtype)
        index = np.full(best.shape, -1, np.int64)
        for r, c in taps:
            # with ceil_mode and odd W the last window's column W is outside the row; the bug reads
            # the flat buffer there anyway (the next row's first element). shows: ceil_mode, odd W
            pos = r * w + c
            inside = (r < h) & (c < w)
            if "special_2x2_ceil_reads_next_row" in bugs:
                inside = np.broadcast_to(r < h, pos.shape)
            v = flat[:, np.where(inside, pos, h * w)]
            take = inside & ((index == -1) | (v > best) | np.isnan(v))
            best, index = np.where(take, v, best), np.where(take, pos, index)
        y[..., cols], idx[..., cols] = best, index
    return y, idx


def _plane_kernel(planes, out, k, s, p, d, bugs):
    if out[-1] < LANES:  # generic path: rows too short to vectorise
        return _window_max(planes, [np.arange(o) for o in out], k, s, p, d, _taps(k))
    if len(k) == 2 and k == (2, 2) and s == (2, 2) and not any(p) and d == (1, 1):
        return _pool_2x2(planes, out, bugs)
    return _rows_path(planes, out, k, s, p, d, bugs)


def _parallel(planes, out, k, s, p, d, bugs):
    """Split the planes over workers when the work is above the grain size."""
    n = planes.shape[0]
    if planes.size <= GRAIN:
        return _plane_kernel(planes, out, k, s, p, d, bugs)
    y = np.zeros((n, *out), dtype=planes.dtype)
    idx = np.zeros(y.shape, dtype=np.int64)
    if "workers_drop_remainder" in bugs:
        chunk = (
            n // WORKERS
        )  # shows: work > GRAIN and N*C not a multiple of 4 (the remainder is lost)
    else:
        chunk = -(-n // WORKERS)
    plane = math.prod(planes.shape[1:])
    for w in range(WORKERS):
        lo, hi = w * chunk, min(n, (w + 1) * chunk)
        if lo >= hi:
            continue
        yw, iw = _plane_kernel(planes[lo:hi], out, k, s, p, d, bugs)
        if "workers_chunk_relative_index" in bugs:
            # the index is taken relative to the chunk's base pointer, not the plane's.
            # shows: work > GRAIN with more than one plane per worker (N*C > 4)
            iw = iw + (np.arange(hi - lo) * plane).reshape(-1, *([1] * len(out)))
        y[lo:hi], idx[lo:hi] = yw, iw
    return y, idx


def _channels_last(xb, out, k, s, p, d, bugs):
    """Channels-last path: channel vectors of 8 lanes, then a scalar loop over the channel tail."""
    n, c = xb.shape[:2]
    spatial = xb.shape[2:]
    y = np.zeros((n, c, *out), dtype=xb.dtype)
    idx = np.zeros(y.shape, dtype=np.int64)
    start = _first_tap_index(spatial, out, k, s, p, d, bugs)
    body = c - c % CL_LANES
    tail = (
        range(body, c - 1) if "cl_tail_channel_skipped" in bugs else range(body, c)
    )  # shows: C > 8, C % 8 != 0
    groups = [slice(c0, c0 + CL_LANES) for c0 in range(0, body, CL_LANES)] + [
        slice(ch, ch + 1) for ch in tail
    ]
    for group in groups:
        planes = np.ascontiguousarray(xb[:, group]).reshape(-1, *spatial)
        v, i = _window_max(
            planes, [np.arange(o) for o in out], k, s, p, d, _taps(k), bugs=bugs, init_index=start
        )
        y[:, group], idx[:, group] = v.reshape(n, -1, *out), i.reshape(n, -1, *out)
    return y, idx


def _first_tap_index(spatial, out, k, s, p, d, bugs):
    """Flat index of each window's first valid element (where an all -inf window's index stays)."""
    nd = len(spatial)
    flat = np.zeros((1,) * nd, dtype=np.int64)
    for i in range(nd):
        start = np.arange(out[i]) * s[i] - p[i]
        first = np.where(start < 0, start + (-start + d[i] - 1) // d[i] * d[i], start)
        view = [1] * nd
        view[i] = out[i]
        if "cl_neg_inf_depth_offset" in bugs and nd == 3 and i == 0:
            first = np.zeros_like(first)  # shows: 3-D, an all -inf window starting at depth > 0
        flat = flat * spatial[i] + first.reshape(view)
    if "cl_neg_inf_index_zero" in bugs:
        flat = np.zeros_like(flat)  # shows: an all -inf window away from the plane's first element
    return flat[None]


def _channels_last_layout(xb) -> bool:
    return (
        xb.ndim >= 3
        and xb.shape[1] >= CL_LANES
        and xb.strides[1] == xb.itemsize
        and not xb.flags.c_contiguous
    )


def _store_indices(idx, plane, bugs):
    """Indices as the kernel stores them (narrow types overflow or round)."""
    if "index_int16" in bugs:
        return idx.astype(np.int16).astype(np.int64)  # shows: plane > 2^15
    if "index_uint16" in bugs:
        return idx.astype(np.uint16).astype(np.int64)  # shows: plane > 2^16
    if "index_float16" in bugs:
        return idx.astype(np.float16).astype(np.int64)  # shows: plane > 2^11
    if "index_float32" in bugs:
        return idx.astype(np.float32).astype(np.int64)  # shows: plane > 2^24
    return idx


def pool(x, kernel_size, stride, padding, dilation, ceil_mode, bugs=frozenset()):
    """The kernel's forward: ``(y, indices)`` with PyTorch's rules, unless ``bugs`` says otherwise."""
    nd = len(kernel_size)
    k, s, p, d = (tuple(int(v) for v in a) for a in (kernel_size, stride, padding, dilation))
    batched = x.ndim == nd + 2
    xb = x if batched else x[np.newaxis]
    n, c, *spatial = xb.shape
    out = tuple(_out_size(*a, ceil_mode) for a in zip(spatial, k, s, p, d))
    if _channels_last_layout(xb):
        y, idx = _channels_last(xb, out, k, s, p, d, bugs)
    else:
        planes = np.ascontiguousarray(xb).reshape(n * c, *spatial)
        y, idx = _parallel(planes, out, k, s, p, d, bugs)
        y, idx = y.reshape(n, c, *out), idx.reshape(n, c, *out)
    idx = _store_indices(idx, math.prod(spatial), bugs)
    return (y, idx) if batched else (y[0], idx[0])


def pool_backward(
    grad_output, x, kernel_size, stride, padding, dilation, ceil_mode, bugs=frozenset()
):
    """Scatter-add at the forward's indices; the vector path scatters one 16-lane tile at a time."""
    nd = len(kernel_size)
    _, idx = pool(
        x, kernel_size, stride, padding, dilation, ceil_mode, frozenset(bugs) - _BACKWARD_BUGS
    )
    batched = x.ndim == nd + 2
    gb = np.asarray(grad_output if batched else grad_output[np.newaxis], dtype=np.float64)
    ib = idx if batched else idx[np.newaxis]
    n, c = gb.shape[:2]
    plane = math.prod(x.shape[-nd:])
    g2 = gb.reshape(n * c, -1, gb.shape[-1])  # (planes, rows, columns)
    i2 = ib.reshape(n * c, -1, ib.shape[-1]) + (np.arange(n * c) * plane)[:, None, None]
    grad = np.zeros(n * c * plane, dtype=np.float64)
    o_w = g2.shape[-1]
    if o_w < LANES:
        np.add.at(grad, i2.ravel(), g2.ravel())
    else:
        for t0 in range(0, o_w, LANES):
            ti, tg = i2[..., t0 : t0 + LANES].ravel(), g2[..., t0 : t0 + LANES].ravel()
            if "backward_vector_scatter" in bugs:
                # a 16-lane scatter without conflict detection: two lanes of one tile hitting the
                # same element keep one update. shows: overlapping windows, output W >= 16
                grad[ti] += tg
            elif "backward_tile_assign" in bugs:
                # each tile sums into a local buffer and stores it: an element shared with the
                # previous tile loses that tile's gradient. shows: overlapping windows across a tile
                touched, where = np.unique(ti, return_inverse=True)
                grad[touched] = np.bincount(where, weights=tg)
            else:
                np.add.at(grad, ti, tg)
    grad = grad.reshape(n, c, *x.shape[-nd:]).astype(x.dtype)
    return grad if batched else grad[0]


_BACKWARD_BUGS = frozenset({"backward_vector_scatter", "backward_tile_assign"})


# ----------------------------------------------------------------------------
# The catalogue
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Kernel:
    """One broken kernel: the bug, the seam it needs, the check that catches it, and where to look."""

    bug: str
    seam: str
    caught_by: str
    ndim: int = 2
    budget: str = "quick"

    @property
    def candidate(self) -> Candidate:
        return _candidate(self.bug)


SUPPORT = Support(dtypes=("float32",), backward_dtypes=("float32",))

BROKEN = [
    Kernel("tail_off_by_one", "output W crossed a multiple of 16", "values"),
    Kernel("vector_max_drops_nan", "NaN in a vector body (16 columns or 8 channels)", "values"),
    Kernel("vector_zero_fill_padding", "negative values next to padding, output W >= 16", "values"),
    Kernel("masked_load_on_multiple", "W a multiple of 32", "values"),
    Kernel("row_block_tail", "output H not a multiple of 4 in the vector path", "values"),
    Kernel("wide_kernel_merge_ge", "kernel wider than 8 with ties across a chunk", "indices"),
    Kernel("big_kernel_merge_drops_nan", "kernel > 255 taps with NaN past tap 255", "indices"),
    Kernel("big_kernel_uint8_tap", "kernel > 255 taps", "indices"),
    Kernel("special_2x2_tail_top_row", "2x2 stride 2, output W crossed a multiple of 16", "values"),
    Kernel("special_2x2_ceil_reads_next_row", "2x2 stride 2 ceil_mode with odd W", "values"),
    Kernel("cl_tail_channel_skipped", "channels-last C > 8, not a multiple of 8", "values"),
    Kernel("cl_neg_inf_index_zero", "channels-last C >= 8, all -inf window", "indices"),
    Kernel(
        "cl_neg_inf_depth_offset", "channels-last 3-D C >= 8, all -inf window", "indices", ndim=3
    ),
    Kernel("index_float16", "plane > 2^11", "indices"),
    Kernel("index_int16", "plane > 2^15", "indices"),
    Kernel("index_uint16", "plane > 2^16", "indices"),
    Kernel("workers_drop_remainder", "N*C not a multiple of the worker count", "values"),
    Kernel("workers_chunk_relative_index", "N*C above the worker count", "indices"),
    Kernel("backward_vector_scatter", "overlapping windows inside a 16-lane tile", "gradient"),
    Kernel("backward_tile_assign", "overlapping windows across a tile boundary", "gradient"),
    Kernel(
        "index_float32", "plane > 2^24 (a constant plane with planted maxima)", "indices", ndim=1
    ),
]

#: The same kernel without bugs: it must pass.
CORRECT = Kernel("correct", "none", "")


@functools.cache
def _candidate(bug: str) -> Candidate:
    bugs = frozenset() if bug == "correct" else frozenset({bug})

    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        return pool(x, kernel_size, stride, padding, dilation, ceil_mode, bugs)

    def backward(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode):
        return pool_backward(
            grad_output, x, kernel_size, stride, padding, dilation, ceil_mode, bugs
        )

    for fn, role in ((forward, "forward"), (backward, "backward")):
        fn.__name__ = fn.__qualname__ = f"{bug}_{role}"
        fn.__module__ = __name__
        globals()[fn.__name__] = fn
    return Candidate(forward, backward, SUPPORT, name=f"broken_kernels.{bug}")


for _kernel_ in (*BROKEN, CORRECT):
    _candidate(_kernel_.bug)
del _kernel_

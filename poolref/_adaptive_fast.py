"""Vectorised adaptive max pooling (the fast path behind :mod:`poolref.adaptive`).

Window ``o`` of ``out`` along an input dimension of length ``n`` spans
``[floor(o*n/out), ceil((o+1)*n/out))``, PyTorch's ``start_index`` and
``end_index``. The windows differ in width by at most one, so every dimension
gets a gather table ``taps[o, j] = min(start[o] + j, end[o] - 1)`` of the widest
window's width: a narrower window repeats its last element, which changes
neither its maximum nor the selected index (a repeat never beats an equal
value, and a repeated NaN is the same last NaN).

The boundaries are integer arithmetic on int64 (``o*n`` stays far below
``2**63``: both are bounded by array sizes), never floating point.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["backward_from_indices", "bounds", "forward", "gather_table"]


def bounds(length: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """int64 ``(start, end)`` of every window along one dimension: ``[floor(o*n/out), ceil((o+1)*n/out))``."""
    o = np.arange(out, dtype=np.int64)
    start = (o * length) // out
    end = -((-(o + 1) * length) // out)
    return start, end


def gather_table(length: int, out: int) -> np.ndarray:
    """``(out, width)`` int64 table of the input positions of every window along one dimension."""
    start, end = bounds(length, out)
    width = int((end - start).max())
    taps = start[:, None] + np.arange(width, dtype=np.int64)[None, :]
    return np.minimum(taps, end[:, None] - 1)


def _select(windows: np.ndarray) -> np.ndarray:
    """Position in the last axis of each window's selected element: first maximum, else last NaN."""
    if windows.dtype.kind != "f":
        return np.argmax(windows, axis=-1)
    nan = np.isnan(windows)
    width = windows.shape[-1]
    last_nan = width - 1 - np.argmax(nan[..., ::-1], axis=-1)
    # a window without NaN: argmax is its first maximum (a NaN window takes last_nan instead)
    return np.where(nan.any(axis=-1), last_nan, np.argmax(windows, axis=-1))


def forward(x: np.ndarray, out_spatial: tuple[int, ...], with_indices: bool):
    """``(y, indices or None)`` for batched ``x`` of shape ``(N, C, *S)``."""
    spatial = x.shape[2:]
    nd = len(spatial)
    tables = [gather_table(spatial[i], out_spatial[i]) for i in range(nd)]
    # positions[i] has shape (O0, W0, O1, W1, ...) broadcastable, one axis pair per dimension
    positions = []
    for i, table in enumerate(tables):
        shape = [1] * (2 * nd)
        shape[2 * i], shape[2 * i + 1] = table.shape
        positions.append(table.reshape(shape))
    flat = positions[0]
    for i in range(1, nd):
        flat = flat * spatial[i] + positions[i]
    # reorder (O0, W0, O1, W1, ...) to (O0, O1, ..., W0, W1, ...): row-major window order
    order = [2 * i for i in range(nd)] + [2 * i + 1 for i in range(nd)]
    widths = [t.shape[1] for t in tables]
    flat = np.broadcast_to(flat, [s for t in tables for s in t.shape]).transpose(order)
    flat = flat.reshape(*out_spatial, math.prod(widths))
    planes = x.reshape(x.shape[0], x.shape[1], -1)
    windows = planes[:, :, flat]  # (N, C, *O, prod(W)); a copy, never a view of x
    choice = _select(windows)[..., None]
    y = np.take_along_axis(windows, choice, axis=-1)[..., 0]
    if not with_indices:
        return y, None
    index = np.take_along_axis(np.broadcast_to(flat, windows.shape), choice, axis=-1)[..., 0]
    return y, np.ascontiguousarray(index, dtype=np.int64)


def backward_from_indices(grad_output, indices, input_shape):
    """Scatter-add ``grad_output`` at ``indices`` (float64 sums, cast once to the gradient's dtype)."""
    n_planes = input_shape[0] * input_shape[1]
    plane = math.prod(input_shape[2:])
    flat = indices.reshape(n_planes, -1)
    offsets = np.arange(n_planes, dtype=np.int64)[:, None] * plane
    summed = np.bincount(
        (flat + offsets).ravel(),
        weights=grad_output.reshape(n_planes, -1).astype(np.float64).ravel(),
        minlength=n_planes * plane,
    )
    return summed.astype(grad_output.dtype).reshape(input_shape)

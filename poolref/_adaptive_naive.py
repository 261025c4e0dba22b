"""The adaptive max pooling loop oracle: the definition, one element at a time.

It shares no window logic with :mod:`poolref._adaptive_fast`. Instead of the
``floor``/``ceil`` formulas it states which input positions a window holds as
an overlap of intervals: window ``o`` of ``out`` covers the real interval
``[o*n/out, (o+1)*n/out)`` of an input dimension of length ``n``, and holds
input position ``j`` when the cell ``[j, j+1)`` overlaps it, i.e.
``j*out < (o+1)*n`` and ``(j+1)*out > o*n`` (exact Python integers).

Within a window, the taps are scanned in row-major order; a later tap replaces
the current one when its value is greater or is NaN (first maximum, last NaN).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

__all__ = ["backward_from_indices", "forward"]


def _members(length: int, out: int) -> list[list[int]]:
    """For every window ``o``, the input positions whose cell overlaps its interval."""
    return [
        [j for j in range(length) if j * out < (o + 1) * length and (j + 1) * out > o * length]
        for o in range(out)
    ]


def forward(x: np.ndarray, out_spatial: tuple[int, ...], with_indices: bool):
    """``(y, indices or None)`` for batched ``x`` of shape ``(N, C, *S)``."""
    n_batch, n_chan, *spatial = x.shape
    members = [_members(spatial[i], out_spatial[i]) for i in range(len(spatial))]
    y = np.empty((n_batch, n_chan, *out_spatial), dtype=x.dtype)
    idx = np.empty((n_batch, n_chan, *out_spatial), dtype=np.int64)
    for n, c in itertools.product(range(n_batch), range(n_chan)):
        plane = x[n, c]
        for out_pos in itertools.product(*(range(o) for o in out_spatial)):
            best: tuple[int, ...] = ()
            best_value = None
            window = [members[i][out_pos[i]] for i in range(len(spatial))]
            for pos in itertools.product(*window):
                value = plane[pos].item()
                if not best or value > best_value or math.isnan(value):
                    best, best_value = pos, value
            where = (n, c) + out_pos
            y[where] = plane[best]
            idx[where] = np.ravel_multi_index(best, spatial)
    return y, (idx if with_indices else None)


def backward_from_indices(grad_output, indices, input_shape):
    """Add every output's gradient to the element its index names (float64, then cast)."""
    n_batch, n_chan, *spatial = input_shape
    total = [[[0.0] * math.prod(spatial) for _ in range(n_chan)] for _ in range(n_batch)]
    for out in itertools.product(*(range(size) for size in grad_output.shape)):
        total[out[0]][out[1]][int(indices[out])] += float(grad_output[out])
    return np.array(total, dtype=np.float64).reshape(input_shape).astype(grad_output.dtype)

"""Fractional max pooling with given samples, as loops: the oracle for :mod:`poolref._fractional_fast`.

One plane, one dimension, one window at a time, with the interval formula written out per index
in NumPy scalars of the input's dtype (each step rounded to it, as PyTorch's C++ ``scalar_t``);
``int()`` truncates toward zero like ``static_cast<int>``. Window ``i`` holds the ``k`` positions
from its start; the first maximum in row-major order wins, a NaN wins over everything after it.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

__all__ = ["forward", "interval_starts"]


def interval_starts(sample, length: int, out: int, k: int) -> list[int]:
    """PyTorch's ``generate_intervals`` for one sample (a NumPy float scalar)."""
    dt = type(sample)
    sequence = []
    for i in range(out - 1):
        alpha = dt(length - k) / dt(out - 1)
        sequence.append(int((dt(i) + sample) * alpha) - int(sample * alpha))
    sequence.append(length - k)
    return sequence


def forward(x, kernel, out_spatial, samples, with_indices):
    """``(y, indices or None)``; ``samples`` of shape ``(N, C, nd)`` in PyTorch's order (2-D: W, H)."""
    n_batch, n_chan, *spatial = x.shape
    nd = len(spatial)
    y = np.empty((n_batch, n_chan, *out_spatial), dtype=x.dtype)
    idx = np.empty(y.shape, dtype=np.int64)
    for n, c in itertools.product(range(n_batch), range(n_chan)):
        u = samples[n, c]
        per_dim = [u[1], u[0]] if nd == 2 else list(u)
        seqs = [
            interval_starts(per_dim[d], spatial[d], out_spatial[d], kernel[d]) for d in range(nd)
        ]
        for out_pos in itertools.product(*(range(o) for o in out_spatial)):
            best: tuple[int, ...] = ()
            best_value = None
            window = [
                range(seqs[d][out_pos[d]], seqs[d][out_pos[d]] + kernel[d]) for d in range(nd)
            ]
            for pos in itertools.product(*window):
                value = x[(n, c) + pos].item()
                if not best or value > best_value or math.isnan(value):
                    best, best_value = pos, value
            y[(n, c) + out_pos] = x[(n, c) + best]
            idx[(n, c) + out_pos] = np.ravel_multi_index(best, spatial)
    return y, (idx if with_indices else None)

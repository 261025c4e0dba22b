"""Deliberately wrong adaptive max pools, for the harness's own tests (and ``poolref verify``)."""

from __future__ import annotations

import itertools

import numpy as np


def _pool(x, output_size, window):
    n_batch, n_chan, *spatial = x.shape
    y = np.empty((n_batch, n_chan, *output_size), dtype=x.dtype)
    idx = np.empty(y.shape, dtype=np.int64)
    for pos in itertools.product(*(range(o) for o in output_size)):
        ranges = [window(n, o, i) for n, o, i in zip(spatial, output_size, pos)]
        taps = list(itertools.product(*ranges))
        flat = [np.ravel_multi_index(t, spatial) for t in taps]
        values = x.reshape(n_batch, n_chan, -1)[:, :, flat]
        nan = np.isnan(values)
        last_nan = nan.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
        best = np.where(nan.any(-1), last_nan, np.argmax(np.where(nan, -np.inf, values), -1))
        y[(slice(None), slice(None), *pos)] = np.take_along_axis(values, best[..., None], -1)[
            ..., 0
        ]
        idx[(slice(None), slice(None), *pos)] = np.asarray(flat)[best]
    return y, idx


def floor_end(x, output_size):
    """Windows end at ``floor((i+1)*In/Out)`` instead of the ceiling (at least one element)."""

    def window(n, o, i):
        start = i * n // o
        return range(start, max((i + 1) * n // o, start + 1))

    return _pool(x, output_size, window)


def first_width(x, output_size):
    """Every window has the first window's width (clipped at the end)."""

    def window(n, o, i):
        width = -(-n // o)
        start = i * n // o
        return range(start, min(start + width, n))

    return _pool(x, output_size, window)

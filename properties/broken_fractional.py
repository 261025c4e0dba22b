"""Deliberately wrong fractional max pools, for the harness's own tests (and ``poolref verify``).

Each takes ``(x, kernel_size, output_size, random_samples)`` like
:func:`poolref.testing.check_fractional_max_pool`'s candidates and differs from PyTorch's
interval formula in one plausible way.
"""

from __future__ import annotations

import itertools

import numpy as np


def _pool(x, kernel_size, output_size, random_samples, starts):
    batched = x.ndim == len(output_size) + 2
    xb = x if batched else x[None]
    n_batch, n_chan, *spatial = xb.shape
    nd = len(spatial)
    y = np.empty((n_batch, n_chan, *output_size), dtype=x.dtype)
    idx = np.empty(y.shape, dtype=np.int64)
    for n, c in itertools.product(range(n_batch), range(n_chan)):
        u = random_samples[n, c]
        per_dim = [u[1], u[0]] if nd == 2 else list(u)
        seqs = [starts(per_dim[d], spatial[d], output_size[d], kernel_size[d]) for d in range(nd)]
        plane = xb[n, c].reshape(-1)
        for pos in itertools.product(*(range(o) for o in output_size)):
            windows = [range(s[p], s[p] + k) for s, p, k in zip(seqs, pos, kernel_size)]
            flat = [int(np.ravel_multi_index(t, spatial)) for t in itertools.product(*windows)]
            values = plane[flat]
            if values.dtype.kind == "f" and np.isnan(values).any():
                best = len(values) - 1 - int(np.argmax(np.isnan(values)[::-1]))
            else:
                best = int(np.argmax(values))
            y[(n, c, *pos)] = values[best]
            idx[(n, c, *pos)] = flat[best]
    return (y, idx) if batched else (y[0], idx[0])


def _alpha(u, n, k, out):
    dt = type(u)
    return dt(n - k) / dt(out - 1)


def round_intervals(x, kernel_size, output_size, random_samples):
    """``round`` instead of ``int`` (truncation) in the interval formula."""

    def starts(u, n, out, k):
        if out == 1:
            return [n - k]
        alpha = _alpha(u, n, k, out)
        seq = [
            round(float((type(u)(i) + u) * alpha)) - round(float(u * alpha)) for i in range(out - 1)
        ]
        return [*seq, n - k]

    return _pool(x, kernel_size, output_size, random_samples, starts)


def last_not_forced(x, kernel_size, output_size, random_samples):
    """The last window's start from the formula too, instead of being forced to ``n - k``."""

    def starts(u, n, out, k):
        if out == 1:
            return [0]
        alpha = _alpha(u, n, k, out)
        return [int((type(u)(i) + u) * alpha) - int(u * alpha) for i in range(out)]

    return _pool(x, kernel_size, output_size, random_samples, starts)

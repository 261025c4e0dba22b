"""Vectorised fractional max pooling with given samples (the fast path behind :mod:`poolref.fractional`).

The window starts of one dimension are PyTorch's ``generate_intervals``, computed in the input's
floating dtype (every operation rounded to it, as C++ does in ``scalar_t``), for all planes at
once: ``start[i] = int((i + u) * alpha) - int(u * alpha)`` with
``alpha = (n - k) / (out - 1)``, and the last start is ``n - k``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["forward", "starts"]


def starts(samples: np.ndarray, length: int, out: int, k: int) -> np.ndarray:
    """``(planes, out)`` int64 window starts from one sample per plane (``samples`` of shape ``(planes,)``)."""
    dt = samples.dtype.type
    result = np.full((samples.shape[0], out), length - k, dtype=np.int64)
    if out > 1:
        alpha = dt(length - k) / dt(out - 1)
        i = np.arange(out - 1).astype(samples.dtype)
        scaled = ((i[None, :] + samples[:, None]) * alpha).astype(np.int64)
        result[:, :-1] = scaled - (samples * alpha).astype(np.int64)[:, None]
    return result


def forward(x, kernel, out_spatial, samples, with_indices):
    """``(y, indices or None)``; ``samples`` of shape ``(N, C, nd)`` in PyTorch's per-dimension order."""
    n_batch, n_chan, *spatial = x.shape
    nd = len(spatial)
    planes = x.reshape(n_batch * n_chan, -1)
    flat_samples = samples.reshape(n_batch * n_chan, nd)
    # PyTorch's sample order: 2-D (W, H), 3-D (T, H, W)
    column = [1, 0] if nd == 2 else list(range(nd))
    flat = np.zeros((planes.shape[0], *out_spatial, *kernel), dtype=np.int64)
    for d in range(nd):
        st = starts(flat_samples[:, column[d]], spatial[d], out_spatial[d], kernel[d])
        pos = st.reshape(-1, *[out_spatial[d] if e == d else 1 for e in range(nd)], *[1] * nd)
        taps = np.arange(kernel[d]).reshape(
            *[1] * (nd + 1), *[kernel[d] if e == d else 1 for e in range(nd)]
        )
        flat = flat * spatial[d] + pos + taps
    flat = flat.reshape(planes.shape[0], *out_spatial, -1)
    windows = np.take_along_axis(planes, flat.reshape(planes.shape[0], -1), axis=1).reshape(
        flat.shape
    )
    if windows.dtype.kind == "f":
        nan = np.isnan(windows)
        last_nan = windows.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
        first_max = np.argmax(np.where(nan, windows.dtype.type(-np.inf), windows), axis=-1)
        choice = np.where(nan.any(axis=-1), last_nan, first_max)
    else:
        choice = np.argmax(windows, axis=-1)
    y = np.take_along_axis(windows, choice[..., None], -1)[..., 0].reshape(
        n_batch, n_chan, *out_spatial
    )
    if not with_indices:
        return y, None
    idx = np.take_along_axis(flat, choice[..., None], -1)[..., 0]
    return y, idx.reshape(n_batch, n_chan, *out_spatial)

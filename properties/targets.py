"""Third-party-style targets for the harness's own tests: written the way users write them.

* :func:`float_nchw` is correct but does less than PyTorch: float 4-D NCHW input only, the
  output only (no indices), no backward. With no declarations at all it must pass, with
  "not supported" lines; :func:`float_nchw_zero_padding` is the same with one realistic bug.
* :func:`numpy_style` follows NumPy's conventions (``np.argmax`` takes the first NaN; ``np.max``
  picks either zero of a ``-0.0``/``+0.0`` tie): under ``behaviour="auto"`` it passes with the
  profile ``nan=first signed_zero=any``. :func:`numpy_style_two_bugs` adds two real bugs
  (ceil_mode ignored; float16 computed and returned in float32).
"""

from __future__ import annotations

import numpy as np

import poolref.fast


def float_nchw(x, kernel_size, stride, padding, dilation, ceil_mode):
    """Correct, float-only, NCHW-only 2-D max pooling that returns only the output."""
    if x.ndim != 4:
        raise ValueError(f"expected a 4-D NCHW array, got x.ndim={x.ndim}")
    if x.dtype.kind != "f":
        raise TypeError(f"float input only, got x.dtype={x.dtype}")
    return poolref.fast.max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode)


def float_nchw_zero_padding(x, kernel_size, stride, padding, dilation, ceil_mode):
    """:func:`float_nchw` whose padding holds 0 instead of -inf (a classic)."""
    if x.ndim != 4:
        raise ValueError(f"expected a 4-D NCHW array, got x.ndim={x.ndim}")
    if x.dtype.kind != "f":
        raise TypeError(f"float input only, got x.dtype={x.dtype}")
    pad = [(0, 0), (0, 0)] + [(p, p) for p in padding]
    return poolref.fast.max_pool2d(np.pad(x, pad), kernel_size, stride, 0, dilation, ceil_mode)


def _out(n, k, s, p, d, ceil_mode):
    span = n + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _windows(x, kernel_size, stride, padding, dilation, ceil_mode, pad_value=-np.inf):
    """Every window's taps: values ``(N, C, OH, OW, K)``, validity and plane index ``(OH, OW, K)``."""
    h, w = x.shape[-2:]
    oh, ow = (
        _out(n, k, s, p, d, ceil_mode)
        for n, k, s, p, d in zip((h, w), kernel_size, stride, padding, dilation)
    )
    rows = (
        np.arange(oh)[:, None] * stride[0]
        - padding[0]
        + np.arange(kernel_size[0])[None, :] * dilation[0]
    )
    cols = (
        np.arange(ow)[:, None] * stride[1]
        - padding[1]
        + np.arange(kernel_size[1])[None, :] * dilation[1]
    )
    r = rows[:, None, :, None]  # (OH, 1, kh, 1)
    c = cols[None, :, None, :]  # (1, OW, 1, kw)
    valid = (r >= 0) & (r < h) & (c >= 0) & (c < w)
    taps = np.where(valid, np.clip(r, 0, h - 1) * w + np.clip(c, 0, w - 1), -1).reshape(oh, ow, -1)
    valid = valid.reshape(oh, ow, -1)
    flat = x.reshape(*x.shape[:2], -1)
    values = np.where(valid, flat[..., np.maximum(taps, 0)], pad_value)
    return values, valid, taps


def numpy_style(x, kernel_size, stride, padding, dilation, ceil_mode, *, bugs=()):
    """2-D NCHW max pooling the NumPy way: ``np.max`` for the value, the first NaN for the index."""
    if x.ndim != 4 or x.dtype.kind != "f":
        raise ValueError("numpy_style takes float (N, C, H, W) arrays")
    if "floor_only" in bugs:
        ceil_mode = False
    values, valid, taps = _windows(x, kernel_size, stride, padding, dilation, ceil_mode)
    y = values.max(axis=-1)
    nan = np.isnan(values)
    first_max = np.argmax((values == y[..., None]) & valid, axis=-1)
    position = np.where(nan.any(axis=-1), np.argmax(nan, axis=-1), first_max)
    index = np.take_along_axis(np.broadcast_to(taps, values.shape), position[..., None], axis=-1)[
        ..., 0
    ]
    out_dtype = np.float32 if "float16_upcast" in bugs and x.dtype == np.float16 else x.dtype
    return y.astype(out_dtype), np.where(index >= 0, index, 0).astype(np.int64)


def numpy_style_two_bugs(x, kernel_size, stride, padding, dilation, ceil_mode):
    """:func:`numpy_style` that ignores ceil_mode and returns float16 results as float32."""
    return numpy_style(
        x, kernel_size, stride, padding, dilation, ceil_mode, bugs=("floor_only", "float16_upcast")
    )

"""Index formats: how a candidate numbers the element a window selected.

The harness reasons in *plane* indices (flat row-major inside each unpadded ``(n, c)`` plane,
PyTorch's format). A candidate's indices are decoded into plane indices before they are compared,
and the expected plane indices are encoded into the candidate's format for the report, so a
failure shows numbers the candidate's author recognises.

Formats (``Behaviour.index_format``):

``"plane"``
    ``h * W + w`` inside each ``(n, c)`` plane (PyTorch, JAX adapters, poolref).
``"global"``
    ``(n * C + c) * P + plane`` over the whole tensor (ONNX ``Indices``, ``storage_order=0``).
``"window"``
    the tap's position inside its window, row-major over the kernel (chainer's indexes).
``"nhwc"``
    ``plane * C + c``: flat over the channels-last ``(H, W, C)`` sample (TensorFlow
    ``max_pool_with_argmax``).
``"nhwc_batch"``
    ``(n * P + plane) * C + c`` (the same with ``include_batch_in_index=True``).
"""

from __future__ import annotations

import numpy as np

INDEX_FORMATS = ("plane", "global", "window", "nhwc", "nhwc_batch")

#: What each format means, for reports.
FORMAT_TEXT = {
    "plane": "plane: flat row-major index in each (n, c) plane",
    "global": "global: (n*C + c)*plane_size + plane",
    "window": "window: position inside the window, row-major over the kernel",
    "nhwc": "nhwc: plane*C + c",
    "nhwc_batch": "nhwc_batch: (n*plane_size + plane)*C + c",
}

#: Marks a decoded index that no plane element corresponds to (wrong sample or channel,
#: a padded tap, out of range).
INVALID = -2


def _grid(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Sample and channel number of every output, broadcastable to ``shape`` (N, C, *O)."""
    rest = (1,) * (len(shape) - 2)
    n = np.arange(shape[0], dtype=np.int64).reshape(shape[0], 1, *rest)
    c = np.arange(shape[1], dtype=np.int64).reshape(1, shape[1], *rest)
    return n, c


def _window_position(plane_index: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Position of ``plane_index`` among its window's taps (``taps``: (prod(O), K)); -1 if none."""
    n_batch, n_chan = plane_index.shape[:2]
    flat = plane_index.reshape(n_batch * n_chan, -1)
    hit = (taps[None] == flat[..., None]) & (flat[..., None] >= 0)
    return np.where(hit.any(axis=2), hit.argmax(axis=2), -1).reshape(plane_index.shape)


def encode(plane_index: np.ndarray, fmt: str, plane: int, taps: np.ndarray) -> np.ndarray:
    """Plane indices (batched, ``-1`` for none) written in the format ``fmt``."""
    if fmt == "plane":
        return plane_index
    if fmt == "window":
        return _window_position(plane_index, taps)
    n, c = _grid(plane_index.shape)
    n_chan = plane_index.shape[1]
    encoded = {
        "global": (n * n_chan + c) * plane + plane_index,
        "nhwc": plane_index * n_chan + c,
        "nhwc_batch": (n * plane + plane_index) * n_chan + c,
    }[fmt]
    return np.where(plane_index >= 0, encoded, plane_index)


def decode(raw: np.ndarray, fmt: str, plane: int, taps: np.ndarray) -> np.ndarray:
    """A candidate's indices (batched, int64) as plane indices; :data:`INVALID` where impossible."""
    if fmt == "plane":
        return np.where((raw >= -1) & (raw < plane), raw, INVALID)
    n, c = _grid(raw.shape)
    n_chan = raw.shape[1]
    if fmt == "window":
        n_taps = taps.shape[1]
        flat = raw.reshape(raw.shape[0] * n_chan, -1)
        inside = (flat >= 0) & (flat < n_taps)
        rows = np.broadcast_to(np.arange(flat.shape[1]), flat.shape)
        picked = taps[rows, np.where(inside, flat, 0)]
        out = np.where(inside & (picked >= 0), picked, INVALID)
        return np.where(flat == -1, -1, out).reshape(raw.shape)
    if fmt == "global":
        local = raw - (n * n_chan + c) * plane
        ok = (local >= 0) & (local < plane)
    else:
        channel_ok = raw % n_chan == c
        position = raw // n_chan
        if fmt == "nhwc_batch":
            local = position - n * plane
        else:
            local = position
        ok = channel_ok & (local >= 0) & (local < plane)
    return np.where(raw == -1, -1, np.where(ok, local, INVALID))

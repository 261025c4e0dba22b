"""Convert max-pooling indices between the formats that frameworks emit.

Every format names, for each output element, the input element its window selected:

``"plane"``
    PyTorch's (and poolref's): the flat row-major index into the output's own ``(n, c)``
    plane, ``h*W + w`` in 2-D.
``"nhwc"``
    TensorFlow's ``max_pool_with_argmax(include_batch_in_index=True)``: the flat index into the
    whole channels-last input, ``((n*H + h)*W + w)*C + c``.
``"nhwc_no_batch"``
    The same without the batch (TensorFlow's default): ``(h*W + w)*C + c``.
``"onnx_column_major"``
    ONNX ``MaxPool`` with ``storage_order=1``: the plane index in column-major order
    (``w*H + h`` in 2-D), offset by the plane ``(n*C + c) * H*W`` as ONNX does for row-major.
``"window"``
    Chainer's window-local argmax: the row-major position of the tap inside its window
    (``j_h*K_w + j_w``); converting needs ``kernel_size``, ``stride``, ``padding`` and ``dilation``.

All arrays have the output's shape ``(N, C, *out_spatial)`` (channels first, whatever layout the
framework used for its values). ``-1`` (an empty window) stays ``-1`` in every format.

>>> import numpy as np
>>> from poolref.index_formats import convert_indices
>>> idx = np.array([[[[5]]], [[[3]]]])  # N=2, C=1, one output each, input plane 3x2
>>> convert_indices(idx, "plane", "nhwc", (2, 1, 3, 2)).ravel().tolist()
[5, 9]
"""

from __future__ import annotations

import numpy as np

from ._params import as_tuple

__all__ = ["FORMATS", "convert_indices"]

#: The index formats :func:`convert_indices` understands.
FORMATS = ("plane", "nhwc", "nhwc_no_batch", "onnx_column_major", "window")


def _positions(indices, fmt, input_shape, window):
    """Per spatial dimension, the input coordinate of each selected element (and validity)."""
    n_batch, n_chan, *spatial = input_shape
    nd = len(spatial)
    flat = indices.astype(np.int64)
    if fmt == "window":
        k, s, p, d = window
        local = np.unravel_index(np.where(flat < 0, 0, flat), k)
        grids = np.indices(indices.shape[2:])
        coords = [grids[i] * s[i] - p[i] + local[i] * d[i] for i in range(nd)]
        # a -1 entry (an empty window) has no tap: any in-range placeholder, masked back to -1
        return [np.where(flat < 0, 0, c) for c in coords]
    if fmt in ("nhwc", "nhwc_no_batch"):
        plane = flat // n_chan
        if fmt == "nhwc":
            plane = plane - np.arange(n_batch).reshape(-1, *[1] * (indices.ndim - 1)) * int(
                np.prod(spatial)
            )
        return list(np.unravel_index(np.where(flat < 0, 0, plane), spatial))
    if fmt == "onnx_column_major":
        offsets = np.arange(n_batch * n_chan).reshape(n_batch, n_chan, *[1] * nd) * int(
            np.prod(spatial)
        )
        local = np.where(flat < 0, 0, flat - offsets)
        return list(np.unravel_index(local, spatial, order="F"))
    return list(np.unravel_index(np.where(flat < 0, 0, flat), spatial))


def _encode(coords, fmt, input_shape, window, valid):
    n_batch, n_chan, *spatial = input_shape
    nd = len(spatial)
    shape = coords[0].shape
    if fmt == "window":
        k, s, p, d = window
        grids = np.indices(shape[2:])
        local = [(coords[i] - (grids[i] * s[i] - p[i])) // d[i] for i in range(nd)]
        # an empty window's -1 has no tap: a placeholder, masked back to -1 by the caller
        return np.ravel_multi_index([np.where(valid, v, 0) for v in local], k)
    if fmt == "onnx_column_major":
        offsets = np.arange(n_batch * n_chan).reshape(n_batch, n_chan, *[1] * nd)
        return np.ravel_multi_index(coords, spatial, order="F") + offsets * int(np.prod(spatial))
    plane = np.ravel_multi_index(coords, spatial)
    if fmt == "plane":
        return plane
    c = np.arange(n_chan).reshape(1, n_chan, *[1] * nd)
    if fmt == "nhwc":
        plane = plane + np.arange(n_batch).reshape(n_batch, 1, *[1] * nd) * int(np.prod(spatial))
    return plane * n_chan + c


def convert_indices(
    indices: np.ndarray,
    source: str,
    target: str,
    input_shape: tuple[int, ...],
    *,
    kernel_size=None,
    stride=None,
    padding=0,
    dilation=1,
) -> np.ndarray:
    """Convert pooling indices from one framework's format to another's.

    Parameters
    ----------
    indices : numpy.ndarray
        Integer indices of shape ``(N, C, *out_spatial)`` in format ``source``.
    source : str
        The format of ``indices``, one of :data:`FORMATS`.
    target : str
        The format to return, one of :data:`FORMATS`.
    input_shape : tuple of int
        The pooled input's shape ``(N, C, *spatial)`` (channels first).
    kernel_size : int or tuple of int, optional
        The window geometry; needed only when ``source`` or ``target`` is ``"window"``.
    stride : int or tuple of int, optional
        Defaults to ``kernel_size``.
    padding : int or tuple of int, optional
        Padding of the window geometry.
    dilation : int or tuple of int, optional
        Dilation of the window geometry.

    Returns
    -------
    numpy.ndarray
        The int64 indices in format ``target``; ``-1`` stays ``-1``.

    Raises
    ------
    ValueError
        For an unknown format, a shape that does not match, or a missing ``kernel_size``.
    """
    func = "convert_indices"
    for name, fmt in (("source", source), ("target", target)):
        if fmt not in FORMATS:
            msg = f"{func}: {name} must be one of {', '.join(FORMATS)}, got {name}={fmt!r}"
            raise ValueError(msg)
    indices = np.asarray(indices)
    nd = len(input_shape) - 2
    if nd < 1 or indices.ndim != nd + 2 or indices.shape[:2] != tuple(input_shape[:2]):
        msg = (
            f"{func}: indices.shape={indices.shape} does not match input_shape={tuple(input_shape)}"
        )
        raise ValueError(msg)
    window = None
    if "window" in (source, target):
        if kernel_size is None:
            msg = f"{func}: the 'window' format needs kernel_size"
            raise ValueError(msg)
        k = as_tuple(kernel_size, nd, "kernel_size", func)
        s = k if stride is None else as_tuple(stride, nd, "stride", func)
        window = (
            k,
            s,
            as_tuple(padding, nd, "padding", func),
            as_tuple(dilation, nd, "dilation", func),
        )
    coords = _positions(indices, source, tuple(input_shape), window)
    out = _encode(
        [np.asarray(c, dtype=np.int64) for c in coords],
        target,
        tuple(input_shape),
        window,
        indices >= 0,
    )
    return np.where(indices < 0, -1, out).astype(np.int64)

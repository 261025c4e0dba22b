"""The fast path's kernels: the per-tap maximum with its tap codes, the indices, the backward, unpool.

Part of :mod:`poolref.fast` (its docstring says how they work), which binds the four core
functions :func:`_forward`, :func:`_backward_from_input`, :func:`_backward_from_indices` and
:func:`_unpool` into the public functions, and whose layers keep :func:`_max_and_codes`'s codes for
:func:`_backward_from_codes`. The window geometry comes from :mod:`poolref._fast_geometry` only.
"""

from __future__ import annotations

import math

import numpy as np

from . import _params
from ._fast_geometry import _axis_passes, _first_valid_codes, _geometry
from ._params import PoolParams, lowest


def _code_dtype(n_taps: int) -> np.dtype:
    """Smallest unsigned dtype holding the codes ``0`` (no tap) and ``1 .. n_taps``."""
    for dtype in (np.uint8, np.uint16, np.uint32):
        if n_taps <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.uint64)


def _bits(a: np.ndarray) -> np.ndarray:
    """The same memory viewed as unsigned ints of the same width (works for any strides)."""
    return a.view(f"u{a.dtype.itemsize}")


#: float dtype -> (signed int dtype of the same width, the bit pattern of -0.0 read as that int)
_NEGATIVE_ZERO_BITS = {
    np.dtype(f): (np.dtype(i), np.iinfo(i).min)
    for f, i in ((np.float16, np.int16), (np.float32, np.int32), (np.float64, np.int64))
}


def _needs_exact_copy(x: np.ndarray) -> bool:
    """True if ``np.maximum`` could pick the wrong bits: the input holds NaN or -0.0.

    ``np.maximum`` returns either operand on a ``-0.0``/``+0.0`` tie and any
    NaN's payload, while PyTorch's value is the element at the index. Only NaN
    and -0.0 make the difference visible. -0.0 is the only float whose bit
    pattern, read as a signed int, is the most negative int.
    """
    if x.dtype.kind != "f" or x.size == 0:
        return False
    largest = x.max()  # NaN if any element is NaN
    if largest != largest:
        return True
    signed, negative_zero = _NEGATIVE_ZERO_BITS[x.dtype]
    return int(x.view(signed).min()) == negative_zero


# ----------------------------------------------------------------------------
# Forward.
# ----------------------------------------------------------------------------


def _max_values(x: np.ndarray, params: PoolParams, out_spatial: tuple) -> np.ndarray:
    """Window maxima only (no indices).

    The maximum over a box is the maximum over each dimension in turn, so the
    values take ``sum(kernel_size)`` calls of ``np.maximum`` instead of
    ``prod(kernel_size)``, and only the last pass reads with a stride along the
    contiguous axis. That is exact unless the input holds NaN or ``-0.0``
    (see :func:`_needs_exact_copy`); then the per-tap path with indices is used.
    """
    if _needs_exact_copy(x):
        return _max_and_codes(x, params, out_spatial)[0]
    current = x
    for axis, taps in enumerate(_axis_passes(x.shape[2:], out_spatial, params)):
        # Start from taps that every output reads (no fill pass), then fold in the rest.
        full = [current[in_index] for _, in_index, whole in taps if whole]
        if len(full) >= 2:
            reduced = np.maximum(full[0], full[1])
            full = full[2:]
        elif full:
            reduced = full.pop().copy()
        else:
            shape = list(current.shape)
            shape[2 + axis] = out_spatial[axis]
            reduced = np.full(shape, lowest(x.dtype), dtype=x.dtype)
        for v in full:
            np.maximum(reduced, v, out=reduced)
        for out_index, in_index, whole in taps:
            if not whole:
                acc = reduced[out_index]
                np.maximum(acc, current[in_index], out=acc)
        current = reduced
    return current


def _max_and_codes(x: np.ndarray, params: PoolParams, out_spatial: tuple):
    """Window maxima and, per output, ``1 + tap number`` of the maximum (0: empty window).

    A tap takes over where its value is strictly greater than the running
    maximum, or is NaN; codes grow with the tap number, so the running code is
    ``max(code, mask * (tap + 1))``: no masked (branchy) copies.
    """
    spatial = x.shape[2:]
    out_shape = (*x.shape[:2], *out_spatial)
    geometry = _geometry(spatial, out_spatial, params)
    y = np.full(out_shape, lowest(x.dtype), dtype=x.dtype)
    code_dtype = _code_dtype(math.prod(params.kernel_size))
    codes = np.zeros(out_shape, dtype=code_dtype)
    if x.size == 0:
        return y, codes
    exact = _needs_exact_copy(x)
    # The mask and ``mask * (tap + 1)`` share one buffer when codes are bytes.
    scratch = np.empty(out_shape, dtype=code_dtype)
    better = scratch.view(bool) if code_dtype == np.uint8 else np.empty(out_shape, dtype=bool)
    # A second value buffer for taps every output reads (see below), unless the
    # output is large (overlapping windows): then it would cost the input's size.
    two_buffers = 2 * y.nbytes <= x.nbytes
    spare = None
    for tap, out_sl, in_sl, whole in geometry.boxes:
        v = x[in_sl]
        if whole and not exact and two_buffers:
            # Read the strided tap once: take the maximum into a second buffer,
            # then compare two contiguous arrays (max(acc, v) > acc iff v > acc
            # without NaN), and swap the buffers.
            if spare is None:
                spare = np.empty_like(y)
            np.maximum(y, v, out=spare)
            np.greater(spare, y, out=better)
            y, spare = spare, y
        else:
            if not whole:
                better.fill(False)  # so the code update below can run on whole (contiguous) arrays
            acc, m = y[out_sl], better[out_sl]
            np.greater(v, acc, out=m)
            if exact:
                m |= np.isnan(v)
                np.copyto(acc, v, where=m)
            else:
                np.maximum(acc, v, out=acc)
        np.multiply(
            better, code_dtype.type(tap + 1), out=scratch
        )  # overwrites better with uint8 codes
        np.maximum(codes, scratch, out=codes)
    # Windows whose valid taps all equal the lowest value were never updated:
    # PyTorch picks their first valid tap (the value is unchanged).
    missing = codes == 0
    if missing.any():
        first = np.broadcast_to(_first_valid_codes(spatial, out_spatial, params), out_shape)
        np.copyto(codes, first, where=missing, casting="unsafe")
    return y, codes


#: elements per chunk of the passes that need int64 temporaries (bounds their memory)
CHUNK = 2**16


def _wrap64(value: int) -> int:
    """``value`` modulo 2**64 as a signed int64: sums of wrapped terms are exact when the true sum fits."""
    return (value + 2**63) % 2**64 - 2**63


def _indices_from_codes(codes: np.ndarray, spatial: tuple, params: PoolParams) -> np.ndarray:
    """Flat row-major plane index of each chosen tap (-1 where the code is 0).

    ``index = start(o) + offset(tap)``: the window start's plane index is added by
    broadcasting one small vector per dimension; the tap's offset is looked up in a
    table of ``prod(kernel_size) + 1`` entries, in chunks of :data:`CHUNK` elements,
    so the only full-size array is the returned one. (int64 arithmetic wraps; every
    term is reduced modulo 2**64, so the sums are exact.) A kernel with more taps
    than the output has elements takes the per-dimension arithmetic instead.
    """
    n_taps = math.prod(params.kernel_size)
    if n_taps > max(CHUNK, codes.size):
        return _indices_by_dimension(codes, spatial, params)
    out_spatial = codes.shape[2:]
    nd = len(spatial)
    index = np.zeros(codes.shape, dtype=np.int64)
    table = np.zeros(n_taps + 1, dtype=np.int64)  # entry 0: the empty window (fixed below)
    taps = np.arange(n_taps, dtype=np.int64)
    below, plane_stride = n_taps, math.prod(spatial)
    for i, (length, n_out, k, s, p, d) in enumerate(
        zip(
            spatial, out_spatial, params.kernel_size, params.stride, params.padding, params.dilation
        )
    ):
        below //= k
        plane_stride //= length
        shape = [1] * nd
        shape[i] = n_out
        start = np.arange(n_out, dtype=np.int64) * _wrap64(s * plane_stride) + _wrap64(
            -p * plane_stride
        )
        index += start.reshape(shape)
        table[1:] += (taps // below % k) * _wrap64(
            d * plane_stride
        )  # tap j's offset in this dimension
    flat_index, flat_codes = index.reshape(-1), codes.reshape(-1)
    for lo in range(0, flat_codes.size, CHUNK):
        part, chunk = flat_index[lo : lo + CHUNK], flat_codes[lo : lo + CHUNK]
        part += table[chunk]
        np.copyto(part, -1, where=chunk == 0)
    return index


def _indices_by_dimension(codes: np.ndarray, spatial: tuple, params: PoolParams) -> np.ndarray:
    """:func:`_indices_from_codes` for kernels with many taps: per-dimension arithmetic on whole arrays."""
    out_spatial = codes.shape[2:]
    nd = len(spatial)
    tap = codes.astype(np.int64) - 1
    index = np.zeros(codes.shape, dtype=np.int64)
    below = math.prod(params.kernel_size)
    for i, (length, n_out, k, s, p, d) in enumerate(
        zip(
            spatial, out_spatial, params.kernel_size, params.stride, params.padding, params.dilation
        )
    ):
        below //= k
        j = (tap // below) % k
        shape = [1] * nd
        shape[i] = n_out
        start = (np.arange(n_out, dtype=np.int64) * s - p).reshape(shape)
        index *= length
        index += start + j * d
    index[codes == 0] = -1
    return index


def _forward(x, params, with_indices):
    x = np.asarray(x)  # an ndarray subclass is pooled as a plain ndarray (docs/memory.md)
    out_spatial = _params.output_shape(x.shape[2:], params)
    if not with_indices:
        return _max_values(x, params, out_spatial), None
    y, codes = _max_and_codes(x, params, out_spatial)
    return y, _indices_from_codes(codes, x.shape[2:], params)


# ----------------------------------------------------------------------------
# Backward and unpool.
# ----------------------------------------------------------------------------


def _blocks(shape: tuple):
    """``(n_slice, c_slice)`` blocks of an ``(N, C, *O)`` array with about :data:`CHUNK` elements each."""
    n_batch, n_chan = shape[:2]
    per_plane = max(1, math.prod(shape[2:]))
    if n_chan * per_plane >= CHUNK:
        step = max(1, CHUNK // per_plane)
        for n in range(n_batch):
            for c in range(0, n_chan, step):
                yield slice(n, n + 1), slice(c, c + step)
    else:
        step = max(1, CHUNK // (n_chan * per_plane))
        for n in range(0, n_batch, step):
            yield slice(n, n + step), slice(0, n_chan)


def _backward_from_codes(grad_output, codes, input_shape, params):
    """Route each gradient to its tap: per tap, ``grad_input[view] (+)= grad_output * (code == tap + 1)``.

    The product is taken on the bit patterns (an unsigned int times 0 or 1), so
    it is branch-free and a NaN or inf gradient elsewhere never leaks in as
    ``nan * 0``. Without overlap each input element is written once; with
    overlap the taps accumulate (float16 in float32).
    """
    spatial = tuple(input_shape[2:])
    geometry = _geometry(spatial, codes.shape[2:], params)
    dtype = grad_output.dtype
    if geometry.overlapping:
        acc_dtype = np.dtype(np.float32) if dtype == np.float16 else dtype
        grad = np.zeros(input_shape, dtype=acc_dtype)
        g = grad_output.astype(acc_dtype, copy=False)
    else:
        grad = (np.empty if geometry.covering else np.zeros)(input_shape, dtype=dtype)
        g = grad_output
    if grad.size == 0 or codes.size == 0:
        return np.zeros(input_shape, dtype=dtype)
    # The mask and the masked product are computed on whole contiguous arrays
    # (an output never selects a tap outside its box, so no clipping is
    # needed); only the write into grad_input goes through a strided view.
    g_bits = _bits(g)
    if geometry.overlapping:
        # The 0/1 mask is written straight into the term buffer as integers and
        # multiplied in place, a block of about CHUNK outputs at a time: grad_input
        # plus one block-sized buffer, no more.
        blocks = list(_blocks(codes.shape))
        term = np.empty(codes[blocks[0]].shape, dtype=g.dtype)
        for block in blocks:
            codes_b, g_b, grad_b = codes[block], g_bits[block], grad[block]
            t = term[: codes_b.shape[0], : codes_b.shape[1]]
            t_bits = _bits(t)
            for tap, out_sl, in_sl, _ in geometry.boxes:
                np.equal(codes_b, tap + 1, out=t_bits, casting="unsafe")
                np.multiply(g_b, t_bits, out=t_bits)
                target = grad_b[in_sl]
                np.add(target, t[out_sl], out=target)
    else:
        mask = np.empty(codes.shape, dtype=bool)
        for tap, out_sl, in_sl, _ in geometry.boxes:
            np.equal(codes, tap + 1, out=mask)
            np.multiply(g_bits[out_sl], mask[out_sl], out=_bits(grad[in_sl]))
    return grad.astype(dtype, copy=False)


def _backward_from_input(grad_output, x, params):
    grad_output, x = np.asarray(grad_output), np.asarray(x)
    codes = _max_and_codes(x, params, grad_output.shape[2:])[1]  # the maxima are freed at once
    return _backward_from_codes(grad_output, codes, x.shape, params)


def _plane_chunks(n_planes: int, per_plane: int):
    """Slices of whole planes with about :data:`CHUNK` elements each (at least one plane)."""
    step = max(1, CHUNK // max(per_plane, 1))
    return (slice(lo, min(lo + step, n_planes)) for lo in range(0, n_planes, step))


def _backward_from_indices(grad_output, indices, input_shape, params):
    """Scatter-add by index with ``np.bincount`` (float64 sums, cast once), a few planes at a time.

    Working in chunks of about :data:`CHUNK` outputs keeps the int64 and float64
    temporaries small: the only full-size array is the returned gradient.
    """
    del params  # the indices say where every gradient goes
    n_planes = input_shape[0] * input_shape[1]
    plane = math.prod(input_shape[2:])
    per_plane = math.prod(indices.shape[2:])
    flat = indices.reshape(n_planes, per_plane)
    weights = grad_output.reshape(n_planes, per_plane)
    grad = np.empty((n_planes, plane), dtype=grad_output.dtype)
    for rows in _plane_chunks(n_planes, max(per_plane, plane)):
        chunk = flat[rows]
        keep = chunk != -1
        offsets = np.arange(rows.stop - rows.start, dtype=np.int64)[:, None] * plane
        target = (chunk + offsets)[keep]
        summed = np.bincount(
            target, weights=weights[rows][keep].astype(np.float64), minlength=grad[rows].size
        )
        grad[rows] = summed.reshape(-1, plane)
    return grad.reshape(input_shape)


def _unpool(y, indices, out_spatial):
    """Scatter by index, a few planes at a time (small temporaries, see :func:`_backward_from_indices`)."""
    n_planes = y.shape[0] * y.shape[1]
    plane = math.prod(out_spatial)
    per_plane = math.prod(indices.shape[2:])
    out = np.zeros((n_planes, plane), dtype=y.dtype)
    flat = indices.reshape(n_planes, per_plane)
    values = y.reshape(n_planes, per_plane)
    for rows in _plane_chunks(n_planes, max(per_plane, plane)):
        chunk = flat[rows]
        keep = chunk != -1
        target = (chunk + np.arange(rows.stop - rows.start, dtype=np.int64)[:, None] * plane)[keep]
        out[rows].reshape(-1)[target] = values[rows][
            keep
        ]  # numpy assigns in order: the last duplicate wins
    return out.reshape(*y.shape[:2], *out_spatial)

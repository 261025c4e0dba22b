"""The fast path's window geometry: at each kernel tap, which outputs read which input elements.

Part of :mod:`poolref.fast` (its docstring says how the vectorised path works); used only by
:mod:`poolref._fast_kernels`. Written independently of :mod:`poolref.naive` and
:mod:`poolref.im2col`: the three implementations share no window logic, so each checks the others.
Everything here is computed per dimension and, for the per-tap boxes and the per-axis passes,
cached per input shape and parameters (:func:`_bounded_cache`, at most :data:`CACHE_TAPS` taps).
"""

from __future__ import annotations

import itertools
import threading
from typing import NamedTuple

import numpy as np

from ._params import PoolParams


def _touching_taps(length: int, n_out: int, k: int, s: int, p: int, d: int):
    """The taps ``j`` that some output reads inside the input, in increasing order.

    Output ``o`` reads inside the input at taps ``ceil((p - o*s) / d) .. floor((length - 1 + p - o*s) / d)``.
    Taps outside the span of all outputs are skipped arithmetically; if that span is
    still much longer than the number of outputs (a huge stride with a huge padding),
    the per-output ranges are merged instead. Work: O(min(span, n_out) + taps returned).
    """
    first = max(0, -((-(p - (n_out - 1) * s)) // d))
    last = min(k - 1, (length - 1 + p) // d)
    if last - first <= 4 * n_out:
        return range(first, last + 1)
    taps: list[int] = []
    end = -1
    for o in reversed(range(n_out)):  # later outputs read earlier taps
        lo = max(end + 1, -((o * s - p) // d), 0)
        hi = min(k - 1, (length - 1 + p - o * s) // d)
        taps.extend(range(lo, hi + 1))
        end = max(end, hi)
    return taps


def _dim_taps(length: int, n_out: int, k: int, s: int, p: int, d: int) -> list:
    """Along one dimension: ``(j, out_slice, in_slice)`` for every tap ``j`` some output reads.

    Tap ``j`` of output ``o`` reads input ``o * s + j * d - p``; the outputs for
    which that lies in ``[0, L)`` form the range ``[lo, hi)``. Taps no output
    reads inside the input are never visited (see :func:`_touching_taps`).
    """
    ranges = []
    for j in _touching_taps(length, n_out, k, s, p, d):
        offset = j * d - p
        lo = max(0, -(offset // s))  # first o with o * s + offset >= 0
        hi = min(n_out, (length - 1 - offset) // s + 1)  # past the last o inside the input
        if hi > lo:
            ranges.append((j, slice(lo, hi), slice(lo * s + offset, (hi - 1) * s + offset + 1, s)))
    return ranges


def _bounded_cache(budget: int, size):
    """Like ``lru_cache``, but bounded by ``budget`` units of ``size(value)`` (taps: about 0.5 kB each).

    Least-recently-used entries are dropped until the cached values' sizes sum to
    at most ``budget``; a value larger than the budget is returned without being cached.
    """

    def decorate(fn):
        entries: dict = {}
        lock = threading.Lock()  # the reorderings below are several dict operations

        def cached(*key):
            with lock:
                if key in entries:
                    entries[key] = value = entries.pop(key)  # most recently used last
                    return value
            value = fn(*key)  # outside the lock: two threads may compute the same value
            if size(value) <= budget:
                with lock:
                    entries[key] = value
                    while sum(map(size, entries.values())) > budget:
                        del entries[next(iter(entries))]
            return value

        cached.entries = entries
        cached.__wrapped__ = fn
        cached.__doc__ = fn.__doc__
        return cached

    return decorate


#: at most this many taps over all cached geometries (a few MB: about 0.5 kB a tap)
CACHE_TAPS = 4096


class _Geometry(NamedTuple):
    boxes: tuple  # (tap, out_slices, in_slices, whole) for every tap some output reads
    overlapping: bool  # some input element is read by two (output, tap) pairs
    covering: bool  # every input element is read by some (output, tap) pair


@_bounded_cache(CACHE_TAPS, lambda geometry: len(geometry.boxes) + 1)
def _geometry(spatial: tuple, out_spatial: tuple, params: PoolParams) -> _Geometry:
    """Per tap, the box of outputs that read a valid input element, and where they read it.

    The box is the product of the per-dimension ranges of :func:`_dim_taps`.
    Taps are numbered in row-major order over the kernel. Validity is a
    product over dimensions, so overlap and coverage are decided per dimension.
    """
    per_dim = []
    overlapping, covering = False, True
    for length, n_out, k, s, p, d in zip(
        spatial, out_spatial, params.kernel_size, params.stride, params.padding, params.dilation
    ):
        ranges = _dim_taps(length, n_out, k, s, p, d)
        reads = np.zeros(length, dtype=np.int64)
        for _, _, in_sl in ranges:
            reads[in_sl] += 1
        overlapping |= bool((reads > 1).any())
        covering &= bool((reads > 0).all())
        per_dim.append(ranges)
    boxes = []
    for per_dim_tap in itertools.product(*per_dim):
        tap = 0
        for (j, _, _), k in zip(per_dim_tap, params.kernel_size):
            tap = tap * k + j
        out_slices = (Ellipsis, *(r[1] for r in per_dim_tap))
        in_slices = (Ellipsis, *(r[2] for r in per_dim_tap))
        whole = all(r[1] == slice(0, n) for r, n in zip(per_dim_tap, out_spatial))
        boxes.append((tap, out_slices, in_slices, whole))
    return _Geometry(tuple(boxes), overlapping, covering)


def _first_valid_codes(spatial: tuple, out_spatial: tuple, params: PoolParams) -> np.ndarray:
    """Per output position: 1 + the tap number of the window's first valid tap, or 0 if none.

    Validity factorises over dimensions, so the row-major first valid tap is
    the first valid tap of each dimension. Broadcastable to ``out_spatial``.
    Not cached: it is as large as the output's spatial size (computed only when
    some window's valid taps all equal the lowest value).
    """
    nd = len(spatial)
    tap = np.zeros((1,) * nd, dtype=np.int64)
    empty = np.zeros((1,) * nd, dtype=bool)
    for i, (length, n_out, k, s, p, d) in enumerate(
        zip(
            spatial, out_spatial, params.kernel_size, params.stride, params.padding, params.dilation
        )
    ):
        start = np.arange(n_out) * s - p
        first = np.where(start < 0, -(start // d), 0)  # ceil(-start / d) for starts in the padding
        valid = (first < k) & (start + first * d < length)
        shape = [1] * nd
        shape[i] = n_out
        tap = tap * k + np.where(valid, first, 0).reshape(shape)
        empty = empty | ~valid.reshape(shape)
    return np.where(empty, 0, tap + 1)


@_bounded_cache(CACHE_TAPS, lambda passes: sum(map(len, passes)) + 1)
def _axis_passes(spatial: tuple, out_spatial: tuple, params: PoolParams):
    """Per dimension, the taps of a one-dimensional pass: ``[(out_index, in_index, whole), ...]``.

    ``out_index``/``in_index`` index the whole array (batch, channel and the
    other dimensions untouched); ``whole`` says every output reads that tap.
    """
    nd = len(spatial)
    passes = []
    for axis, (length, n_out, k, s, p, d) in enumerate(
        zip(
            spatial, out_spatial, params.kernel_size, params.stride, params.padding, params.dilation
        )
    ):
        before = (slice(None),) * (2 + axis)
        after = (slice(None),) * (nd - axis - 1)
        taps = [
            ((*before, out_sl, *after), (*before, in_sl, *after), out_sl == slice(0, n_out))
            for _, out_sl, in_sl in _dim_taps(length, n_out, k, s, p, d)
        ]
        passes.append(tuple(taps))
    return tuple(passes)

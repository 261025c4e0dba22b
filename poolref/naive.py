"""The loop oracle: max pooling written as its definition.

Plain Python loops over every output element and every window tap inside the
input (the taps in the padding are skipped as one range per dimension); nothing
vectorised, nothing clever. It computes its windows on its own (it imports no
output-size or window logic from ``poolref.fast`` or ``poolref.im2col``) and
states the ceil_mode rule in words rather than as the size formula, so the
cross-checks test that formula too.

The rules, for one ``(n, c)`` plane and one window:

* Window ``o`` has taps at ``o * stride - padding + j * dilation`` for
  ``j = 0 .. kernel_size - 1`` in each dimension; a tap is *valid* when it lies
  inside the (unpadded) input. Padding is never selected.
* Floor mode: a window exists when it fits inside the padded input. Ceil mode:
  a window may hang over the end, but it must start inside the input or the
  left padding, and the previous window must not already reach the end of the
  padded input.
* Scan the valid taps in row-major order. Start with the first one; move to a
  later tap when its value is greater than the current one, or is NaN. So ties
  keep the first maximum and a NaN window ends on its last NaN.
* The output is the input read at the chosen index (so ``-0.0`` stays ``-0.0``).
  A window with no valid tap gives the dtype's lowest value and index ``-1``.

This module is slow on purpose: use it on small inputs.
"""

from __future__ import annotations

import itertools
import math
from typing import Final

import numpy as np

from . import _api
from ._params import lowest

__all__ = [
    "max_pool1d",
    "max_pool1d_backward",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool3d",
    "max_pool3d_backward",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
]


def _window_starts(length, k, s, p, d, ceil_mode):
    """Start of every window along one dimension, in input coordinates (may be negative)."""
    span = d * (k - 1) + 1  # distance from the first to one past the last tap
    padded = length + 2 * p
    starts = []
    o = 0
    while True:
        start = o * s  # in padded coordinates
        if ceil_mode:
            # the window before this one (a virtual one at -s for o = 0) must not
            # already reach the end of the padded input
            previous_reached_end = (start - s) + span >= padded
            exists = not previous_reached_end and start - p < length
        else:
            exists = start + span <= padded
        if not exists:
            return starts
        starts.append(start - p)
        o += 1


def _valid_taps(start, length, k, d):
    """The taps ``j < k`` of a window starting at ``start`` whose position ``start + j*d`` is in ``[0, length)``.

    The same as ``[j for j in range(k) if 0 <= start + j * d < length]``, computed
    as one range so a huge kernel on a small input costs nothing.
    """
    first = max(0, -(start // d))  # ceil(-start / d): the first tap at or after position 0
    last = min(k - 1, (length - 1 - start) // d)  # the last tap before position length
    return range(first, last + 1)


def _plane_index(position, spatial):
    """Row-major flat index of ``position`` in a plane of shape ``spatial``."""
    index = 0
    for coordinate, size in zip(position, spatial):
        index = index * size + coordinate
    return index


def _position(index, spatial):
    """Inverse of :func:`_plane_index`."""
    position = []
    for size in reversed(spatial):
        index, coordinate = divmod(index, size)
        position.append(coordinate)
    return tuple(reversed(position))


def _forward(x, params, with_indices):
    n_batch, n_chan, *spatial = x.shape
    k, s, p, d = params.kernel_size, params.stride, params.padding, params.dilation
    starts = [
        _window_starts(spatial[i], k[i], s[i], p[i], d[i], params.ceil_mode)
        for i in range(len(spatial))
    ]
    out_spatial = tuple(len(st) for st in starts)
    y = np.empty((n_batch, n_chan, *out_spatial), dtype=x.dtype)
    idx = np.empty((n_batch, n_chan, *out_spatial), dtype=np.int64)
    for n in range(n_batch):
        for c in range(n_chan):
            plane = x[n, c]
            for out_pos in itertools.product(*(range(o) for o in out_spatial)):
                best_index, best_value = -1, None
                window = [starts[i][out_pos[i]] for i in range(len(spatial))]
                # only the taps inside the input: a padded position is never selected
                inside = [
                    _valid_taps(window[i], spatial[i], k[i], d[i]) for i in range(len(spatial))
                ]
                for taps in itertools.product(*inside):
                    pos = tuple(window[i] + taps[i] * d[i] for i in range(len(spatial)))
                    value = plane[pos].item()  # exact: Python float/int
                    if best_index == -1 or value > best_value or math.isnan(value):
                        best_index, best_value = _plane_index(pos, spatial), value
                where = (n, c, *out_pos)
                if best_index == -1:
                    y[where] = lowest(x.dtype)
                else:
                    y[where] = plane[_position(best_index, spatial)]
                idx[where] = best_index
    return y, (idx if with_indices else None)


def _backward_from_indices(grad_output, indices, input_shape, params):
    del params  # the indices say everything
    n_batch, n_chan, *spatial = input_shape
    total = [[[0.0] * math.prod(spatial) for _ in range(n_chan)] for _ in range(n_batch)]
    for out in itertools.product(*(range(size) for size in grad_output.shape)):
        i = int(indices[out])
        if i != -1:
            total[out[0]][out[1]][i] += float(grad_output[out])
    grad = np.array(total, dtype=np.float64).reshape(input_shape)
    return grad.astype(grad_output.dtype)


def _unpool(y, indices, out_spatial):
    out = np.zeros((*y.shape[:2], *out_spatial), dtype=y.dtype)
    for src in itertools.product(*(range(size) for size in y.shape)):
        i = int(indices[src])
        if i != -1:
            where = (src[0], src[1], *_position(i, out_spatial))
            out[where] = y[src]
    return out


_public = _api.build(
    __name__,
    "naive loop oracle",
    forward=_forward,
    backward_from_indices=_backward_from_indices,
    unpool=_unpool,
)
max_pool1d: Final = _public.max_pool1d
max_pool2d: Final = _public.max_pool2d
max_pool3d: Final = _public.max_pool3d
max_pool1d_backward: Final = _public.max_pool1d_backward
max_pool2d_backward: Final = _public.max_pool2d_backward
max_pool3d_backward: Final = _public.max_pool3d_backward
max_unpool1d: Final = _public.max_unpool1d
max_unpool2d: Final = _public.max_unpool2d
max_unpool3d: Final = _public.max_unpool3d

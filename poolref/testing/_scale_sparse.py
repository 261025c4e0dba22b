"""Scale cases on planes above 2^24 elements that cost seconds: a constant plane with planted maxima.

A kernel that keeps its argmax in float32 lanes (or any 24-bit index) is wrong only where an index
exceeds ``2**24``, so the plane must have more than ``2**24`` elements. Pooling such a plane with
:mod:`poolref.fast` to judge it costs far more than the candidate's own call, and the thorough
budget's dense case does exactly that. These cases are built so that the expectation needs no
pooling at all:

* every element of the plane holds one value (``1``), so every window is a tie and its index is
  its first tap, which is arithmetic in the output's coordinates;
* a few maxima (``100``) are planted at chosen flat positions (the first element, odd positions
  just above ``2**24`` and ``2**23``, the last covered element, at a middle tap of their window,
  one per window), and one window near the end is set to the dtype's lowest value (``-inf``);
* the windows do not overlap (``stride == kernel_size``: 9 in 1-D, 3x3 and 3x3x3; no padding,
  no dilation), so a planted
  maximum belongs to one window and the gradient is the output gradient scattered at those
  indices (one ``np.bincount``).

The expected values and indices are ``np.full`` and one broadcast sum per dimension, corrected
at the few planted windows: a few passes over the output, nothing per window or per tap. A
sparse case is never shrunk (its size is its seam).
"""

from __future__ import annotations

import math

import numpy as np

from .._params import lowest

#: The constant of the plane and the planted maxima.
BASE, TOP = 1, 100
#: The sparse recipes' spatial sizes per rank: planes just above 2**24 whose windows reach past it.
SPARSE_SPATIAL = {1: (2**24 + 2**16 + 1,), 2: (4104, 4105), 3: (258, 258, 258)}
#: Their kernel size (= stride) per rank: 1-D windows of 9 keep the output (and the harness's
#: work on it) at a ninth of the plane, as many outputs as the 2-D case.
SPARSE_KERNEL = {1: 9, 2: 3, 3: 3}
#: The flat positions where maxima are planted (those inside a window, one per window).
_TOP_AT = (0, 4, 2**23 + 1, 2**24 + 1, 2**24 + 3, 2**24 + 2**14 + 5)


def _covered(spec) -> tuple:
    """Per dimension, the number of outputs (each window is ``[o * s, o * s + k)``)."""
    return spec.out_spatial


def _window_of(spec, coords) -> tuple | None:
    """The output coordinates of the window holding ``coords``, or None (no window holds it)."""
    out = []
    for q, k, s, o in zip(coords, spec.kernel_size, spec.stride, _covered(spec)):
        w = q // s
        if w >= o or q - w * s >= k:
            return None
        out.append(w)
    return tuple(out)


def _lowest_window(spec) -> tuple:
    """Output coordinates of the window set to the lowest value: the second to last of each axis."""
    return tuple(max(0, o - 2) for o in _covered(spec))


def plants(spec) -> list:
    """``[(flat position, output coordinates)]`` of the planted maxima, one per window."""
    plane = math.prod(spec.spatial)
    last = _last_covered(spec)
    seen = {_lowest_window(spec)} if _with_lowest(spec) else set()
    out = []
    for flat in (*_TOP_AT, last - 1, last):
        if not 0 <= flat < plane:
            continue
        coords = tuple(int(c) for c in np.unravel_index(flat, spec.spatial))
        window = _window_of(spec, coords)
        if window is None or window in seen:
            continue
        seen.add(window)
        out.append((flat, window))
    return out


def _last_covered(spec) -> int:
    """Flat position of the last element of the last window."""
    coords = [o * s - s + k - 1 for o, k, s in zip(_covered(spec), spec.kernel_size, spec.stride)]
    return int(np.ravel_multi_index(coords, spec.spatial))


def _with_lowest(spec) -> bool:
    return spec.values == "any"


def _lowest_block(spec) -> tuple:
    window = _lowest_window(spec)
    return tuple(slice(w * s, w * s + k) for w, k, s in zip(window, spec.kernel_size, spec.stride))


def _at(window: tuple) -> tuple:
    """``window`` (one entry per spatial dimension) as an index of every plane."""
    return (Ellipsis, *window)


def build(spec) -> np.ndarray:
    """The input: ``BASE`` everywhere, ``TOP`` at :func:`plants`, one window at the lowest value."""
    x = np.full(spec.shape, BASE, dtype=np.dtype(spec.dtype))
    planes = x.reshape(-1, math.prod(spec.spatial))
    for flat, _ in plants(spec):
        planes[:, flat] = TOP
    if _with_lowest(spec):
        x[_at(_lowest_block(spec))] = lowest(x.dtype)
    return x


def check_geometry(spec) -> None:
    """Raise ``ValueError`` unless the windows are disjoint and inside the input."""
    if any(spec.padding) or any(d != 1 for d in spec.dilation) or spec.ceil_mode:
        msg = f"a sparse scale case needs no padding, dilation or ceil_mode, got {spec.source()}"
        raise ValueError(msg)
    if any(k > s for k, s in zip(spec.kernel_size, spec.stride)):
        msg = f"a sparse scale case needs stride >= kernel_size, got {spec.source()}"
        raise ValueError(msg)


def expected(spec) -> tuple:
    """``(output, plane indices)`` of a sparse case, without pooling the plane."""
    check_geometry(spec)
    out, nd = _covered(spec), spec.nd
    first = np.zeros((1,) * nd, dtype=np.int64)
    for axis in range(nd):
        view = [1] * nd
        view[axis] = out[axis]
        starts = (np.arange(out[axis], dtype=np.int64) * spec.stride[axis]).reshape(view)
        first = first * spec.spatial[axis] + starts
    shape = (*spec.shape[:2], *out)
    index = np.broadcast_to(first, shape).copy()
    value = np.full(shape, BASE, dtype=np.dtype(spec.dtype))
    for flat, window in plants(spec):
        value[_at(window)] = TOP
        index[_at(window)] = flat
    if _with_lowest(spec):
        value[_at(_lowest_window(spec))] = lowest(value.dtype)
    return value, index


def expected_backward(spec, grad_output: np.ndarray, index: np.ndarray) -> np.ndarray:
    """The gradient: ``grad_output`` scattered at ``index`` (disjoint windows: one each)."""
    n_planes, plane = spec.shape[0] * spec.shape[1], math.prod(spec.spatial)
    flat = index.reshape(n_planes, -1) + (np.arange(n_planes, dtype=np.int64) * plane)[:, None]
    weights = grad_output.reshape(n_planes, -1).astype(np.float64)
    grad = np.bincount(flat.ravel(), weights=weights.ravel(), minlength=n_planes * plane)
    return grad.astype(grad_output.dtype).reshape(spec.shape)


def wrong_gradient(spec, grad: np.ndarray, grad_output: np.ndarray, index: np.ndarray, eps: float):
    """The first wrong position of ``grad`` (batched coordinates), or None.

    At each output's index ``grad`` must be that output's gradient (within ``2 * eps`` of it: one
    addend, the summation bound of one term); every other element must be zero.
    """
    n_planes, plane = spec.shape[0] * spec.shape[1], math.prod(spec.spatial)
    flat = (index.reshape(n_planes, -1) + (np.arange(n_planes) * plane)[:, None]).ravel()
    values = np.ascontiguousarray(grad).reshape(-1)
    got = values[flat].astype(np.float64)
    want = grad_output.reshape(-1).astype(np.float64)
    bad = ~(np.abs(got - want) <= 2 * eps * np.abs(want))
    if bad.any():
        return _coordinates(spec, int(flat[int(np.argmax(bad))]))
    if np.count_nonzero(values) == np.count_nonzero(got):
        return None
    elsewhere = values != 0
    elsewhere[flat] = False
    return _coordinates(spec, int(np.argmax(elsewhere)))


def _coordinates(spec, flat: int) -> tuple:
    return tuple(int(i) for i in np.unravel_index(flat, spec.shape))


def sparse_recipes() -> tuple:
    """The sparse recipe: ``make(nd, seed)`` for every rank (sizes in :data:`SPARSE_SPATIAL`)."""

    def make(nd: int, seed: int):
        from ._scale_spec import ScaleSpec

        return ScaleSpec(
            shape=(1, 1, *SPARSE_SPATIAL[nd]),
            kernel_size=(SPARSE_KERNEL[nd],) * nd,
            stride=(SPARSE_KERNEL[nd],) * nd,
            seed=seed,
            label="plane > 2^24, constant with planted maxima",
            sparse=True,
        )

    return (make,)

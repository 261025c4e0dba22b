"""Kernel-shaped broken max pooling whose bugs need a hard value *and* a seam (issue 22).

:func:`pool` is a 2-D NCHW kernel (float32 and float64, with indices and a backward) written as
a vector loop is: output columns in whole tiles of ``lanes`` outputs (the *body*) and a scalar
*tail* for the rest, each "instruction" a whole-array NumPy operation over every plane and row
(the tap loop and the output sizes are ``broken_kernels.py``'s).
The correct kernel follows PyTorch (strict ``>`` keeps the first maximum, a NaN always wins,
the index starts at the window's first valid tap). Each entry of :data:`BROKEN` switches on one
bug of the body, written as a kernel author would write it:

* ``overhang``: the body loads its taps without bounds checks. When the output width is a
  multiple of the lane count there is no tail, so the last window, which overhangs the right
  edge (padding or ``ceil_mode``), reads the next row's first elements instead of padding.
* ``zero_ge``: the value register is updated with ``>=`` and the index register with ``>``:
  a ``-0.0``/``+0.0`` tie keeps the first index but the second zero's sign.
* ``nan_lanes``: the body's compare drops NaN (``val > max`` only); the tail is right.
* ``f32_compare``: the body compares in float32 for every dtype: float64 values that differ below
  float32 resolution, or lie beyond float32's range, tie in the compare.
* ``f32_backward``: the float64 backward accumulates the gradients of overlapping windows in a
  float32 buffer.

None of them shows on the small planes of the corner cases and the Hypothesis search with the
default lane counts; the lane scale cases (``poolref.testing._scale_lanes``) must catch them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from broken_kernels import _out_size, body_width, tap_coordinates

from poolref.testing import Candidate, Support


def pool(x, kernel_size, stride, padding, dilation, ceil_mode, bugs=frozenset(), lanes=16):
    """``(output, indices)`` of a 2-D NCHW max pool with the body/tail split of a vector loop."""
    n, c, h, w = x.shape
    kh, kw = kernel_size
    oh, ow = (_out_size(*a, ceil_mode) for a in zip((h, w), kernel_size, stride, padding, dilation))
    flat = np.ascontiguousarray(x).reshape(n * c, h * w)
    body = np.broadcast_to(np.arange(ow)[None, :] < body_width(ow, lanes), (oh, ow))
    best = np.full((n * c, oh, ow), -np.inf, dtype=x.dtype)
    index = np.full((n * c, oh, ow), -1, dtype=np.int64)
    taps = [(i, j) for i in range(kh) for j in range(kw)]
    for r, col in tap_coordinates([np.arange(oh), np.arange(ow)], stride, padding, dilation, taps):
        valid = (r >= 0) & (r < h) & (col >= 0) & (col < w)
        if "overhang" in bugs:  # the body's unchecked load past the row's end
            valid = valid | (body & (r >= 0) & (r < h) & (col >= w) & (r * w + col < h * w))
        at = np.broadcast_to(np.where(valid, r * w + col, 0), (oh, ow))
        v = flat[:, at]
        _update(best, index, v, at, np.broadcast_to(valid, (oh, ow)), body, bugs)
    return best.reshape(n, c, oh, ow), index.reshape(n, c, oh, ow)


def _update(best, index, v, at, valid, body, bugs):
    first = index < 0
    if "f32_compare" in bugs:
        with np.errstate(over="ignore"):  # float64 beyond float32's range becomes inf
            greater = np.where(body, v.astype(np.float32) > best.astype(np.float32), v > best)
    else:
        greater = v > best
    nan = np.isnan(v)
    if "nan_lanes" in bugs:
        nan = nan & ~body
    take_index = valid & (first | greater | nan)
    take_value = take_index
    if "zero_ge" in bugs:
        take_value = take_index | (valid & body & (v == best))
    best[...] = np.where(take_value, v, best)
    index[...] = np.where(take_index, at, index)


def pool_backward(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode, bugs):
    """The gradient: each output's gradient added at its index (in float32 with ``f32_backward``)."""
    _, index = pool(x, kernel_size, stride, padding, dilation, ceil_mode)
    n, c, h, w = x.shape
    acc = np.float32 if "f32_backward" in bugs else x.dtype
    grad = np.zeros((n * c, h * w), dtype=acc)
    g = np.asarray(grad_output).reshape(n * c, -1).astype(acc)
    planes = np.repeat(np.arange(n * c), g.shape[1])
    np.add.at(grad, (planes, index.reshape(n * c, -1).ravel()), g.ravel())
    return grad.astype(x.dtype).reshape(x.shape)


@dataclass(frozen=True)
class Kernel:
    """One broken kernel: the bug, its lane count, the seam and value it needs, the check."""

    bug: str
    lanes: int
    seam: str
    caught_by: str

    @property
    def name(self) -> str:
        return f"{self.bug}_{self.lanes}"

    @property
    def candidate(self) -> Candidate:
        return _candidate(self.bug, self.lanes)


SUPPORT = Support(
    ndims=(2,),
    dtypes=("float32", "float64"),
    backward_dtypes=("float32", "float64"),
    unbatched=False,
)

BROKEN = [
    Kernel("overhang", 8, "output W a multiple of 8, last window overhangs (padding)", "values"),
    Kernel("overhang", 16, "output W a multiple of 16, last window overhangs", "values"),
    Kernel("overhang", 32, "output W a multiple of 32, last window overhangs", "values"),
    Kernel("zero_ge", 16, "-0.0/+0.0 tie inside a whole 16-lane tile", "values"),
    Kernel("nan_lanes", 32, "NaN inside a whole 32-lane tile", "values"),
    Kernel("f32_compare", 16, "float64 near-ties / beyond float32 inside a tile", "values"),
    Kernel("f32_backward", 16, "float64 gradients of overlapping windows", "gradient"),
]

#: The same kernel without bugs: it must pass, declared with nothing but its support.
CORRECT = Kernel("correct", 16, "none", "")


@functools.cache
def _candidate(bug: str, lanes: int) -> Candidate:
    bugs = frozenset() if bug == "correct" else frozenset({bug})

    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        return pool(x, kernel_size, stride, padding, dilation, ceil_mode, bugs, lanes)

    def backward(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode):
        return pool_backward(
            grad_output, x, kernel_size, stride, padding, dilation, ceil_mode, bugs
        )

    for fn, role in ((forward, "forward"), (backward, "backward")):
        fn.__name__ = fn.__qualname__ = f"{bug}_{lanes}_{role}"
        fn.__module__ = __name__
        globals()[fn.__name__] = fn
    return Candidate(forward, backward, SUPPORT, name=f"broken_tiles.{bug}_{lanes}")


for _kernel_ in (*BROKEN, CORRECT):
    _candidate(_kernel_.bug, _kernel_.lanes)
del _kernel_

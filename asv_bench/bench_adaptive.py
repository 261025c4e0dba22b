"""Adaptive max pooling (``poolref.adaptive_max_pool{ndim}d``): forward with indices, and backward.

``out`` is the output side relative to the input side: ``"half"`` (windows of about two,
overlapping where the side is odd), ``"third+1"`` (uneven windows) and ``"double"`` (Out > In,
every element in about two windows).
"""

from __future__ import annotations

import numpy as np

import poolref

from .common import Benchmark, input_shape, make_input

OUTS = ["half", "third+1", "double"]


def _out_side(side: int, out: str) -> int:
    return {"half": max(side // 2, 1), "third+1": side // 3 + 1, "double": 2 * side}[out]


class AdaptiveMaxPool(Benchmark):
    """``adaptive_max_pool{ndim}d(x, output_size, return_indices=True)`` and its backward."""

    params = [[1, 2, 3], OUTS, ["float32"]]
    param_names = ["ndim", "out", "dtype"]

    def setup(self, ndim, out, dtype):
        self.x = make_input(input_shape(ndim), dtype)
        self.size = tuple(_out_side(n, out) for n in self.x.shape[2:])
        self.forward = getattr(poolref, f"adaptive_max_pool{ndim}d")
        self.backward = getattr(poolref, f"adaptive_max_pool{ndim}d_backward")
        y, self.indices = self.forward(self.x, self.size, return_indices=True)
        self.g = np.ones_like(y)

    def time_forward(self, ndim, out, dtype):
        self.forward(self.x, self.size, return_indices=True)

    def time_backward(self, ndim, out, dtype):
        self.backward(self.g, self.x.shape, self.size, indices=self.indices)

    def peakmem_forward(self, ndim, out, dtype):
        self.forward(self.x, self.size, return_indices=True)

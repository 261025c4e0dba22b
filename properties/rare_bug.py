"""A max pooling with one seeded rare bug, for timing ``poolref fuzz`` with 1 and 2 workers.

:func:`rare_forward` is :func:`poolref.fast.max_pool2d` except on batched inputs with spatial
shape ``(5, 6)`` pooled by a ``(3, 2)`` kernel
(one comparison of tuples, so branch coverage does not lead the fuzzer to it), where its first output value is one too big:
a case the Hypothesis search draws rarely (docs/database.md has the measurement).
"""

from __future__ import annotations

import poolref.fast


def rare_forward(x, kernel_size, stride, padding, dilation, ceil_mode):
    """``poolref.fast.max_pool2d`` with indices, wrong on one rare shape and kernel."""
    out, indices = poolref.fast.max_pool2d(
        x, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True
    )
    rare = (tuple(x.shape[2:]), tuple(kernel_size))
    if x.ndim == 4 and rare == ((5, 6), (3, 2)) and out.size:
        out = out.copy()
        out.flat[0] = out.flat[0] + 1
    return out, indices

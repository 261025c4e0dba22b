"""MLX: ``mlx.nn.MaxPool{1,2,3}d`` (channels last) and ``mlx.core.vjp``."""

from __future__ import annotations

import numpy as np

from ..testing import Behaviour, Candidate, Support
from ._common import _batched, _import, _source, _to_first, _to_last, _unbatch

#: MLX's rules: padding is negative infinity and takes part in the comparison
#: (documented: "how much negative infinity padding to apply"), the gradient
#: of tied maxima is split between them (the gradient of ``mx.max``), a NaN
#: in a window propagates to the output; which element takes the gradient of
#: a NaN window is not documented (unchecked), nor is the sign of a
#: ``-0.0``/``+0.0`` tie.
MLX = Behaviour(ties="any", nan="propagate", signed_zero="any", padding="compared")

#: MLX has no float64 (``mx.array`` of a float64 array is float32).
_DTYPES = ("float16", "float32", "int8", "int16", "int32", "int64", "uint8")


def mlx() -> Candidate:
    """``mlx.nn.MaxPool{1,2,3}d(kernel_size, stride, padding)`` on channels-last arrays, CPU.

    The NCHW input is transposed to channels-last and copied to a
    C-contiguous array (MLX rejects NumPy arrays with negative strides);
    unbatched input gets ``N = 1``. The gradient is ``mlx.core.vjp`` of the
    layer. Declared support: no dilation or ``ceil_mode`` (no such
    arguments), no indices, no float64 (MLX has none).

    Returns
    -------
    Candidate
        Ready for :func:`poolref.testing.check_max_pool` or ``poolref verify``.
    """
    mx = _import("mlx.core", "mlx", "pip install 'mlx[cpu]' on Linux (or poolref[mlx])")
    nn = _import("mlx.nn", "mlx", "pip install 'mlx[cpu]' on Linux (or poolref[mlx])")

    def layer(kernel_size, stride, padding):
        cls = getattr(nn, f"MaxPool{len(kernel_size)}d")
        return cls(tuple(kernel_size), tuple(stride), tuple(padding))

    def to_mlx(a, nd):
        ab, batched = _batched(a, nd)
        # a fresh copy: np.ascontiguousarray keeps the negative strides of size-1 arrays
        return mx.array(np.array(_to_last(ab), order="C")), batched

    def from_mlx(a, batched):
        return _unbatch(_to_first(np.array(a)), batched).copy()

    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        t, batched = to_mlx(x, len(kernel_size))
        return from_mlx(layer(kernel_size, stride, padding)(t), batched)

    def backward(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode):
        nd = len(kernel_size)
        t, batched = to_mlx(x, nd)
        g, _ = to_mlx(grad_output, nd)
        _, (grad,) = mx.vjp(layer(kernel_size, stride, padding), [t], [g])
        return from_mlx(grad, batched)

    support = Support(
        dtypes=_DTYPES,
        backward_dtypes=("float16", "float32"),
        dilation=False,
        ceil_mode=False,
        indices=False,
    )
    return Candidate(
        forward,
        backward,
        support,
        MLX,
        name=f"mlx {mx.__version__} nn.MaxPool{{1,2,3}}d ({mx.default_device()}, channels last)",
        source=_source("mlx"),
    )

"""PaddlePaddle: ``paddle.nn.functional.max_pool{1,2,3}d(..., return_mask=True)`` and autograd."""

from __future__ import annotations

import numpy as np

from ..testing import Behaviour, Candidate, Support
from ._common import _batched, _import, _source, _unbatch

#: Paddle's CPU kernels with ``return_mask=True`` (observed; its documentation
#: states no NaN rule): NaN is skipped, in the forward and the gradient. The
#: mask may be int32 or int64.
PADDLE = Behaviour(nan="ignore", index_dtype=None)


def paddle() -> Candidate:
    """``paddle.nn.functional.max_pool{1,2,3}d`` with ``return_mask=True``, CPU, and ``Tensor.backward``.

    NCHW input as a ``paddle.to_tensor`` copy of the same dtype; unbatched
    input gets ``N = 1``. ``padding`` and ``ceil_mode`` are passed as they
    are (same meaning as PyTorch's in Paddle's documentation). Declared
    support: float32/float64 only (the CPU kernels' dtypes), no dilation
    (no such argument). The mask is a plane index like PyTorch's. The
    gradient is taken through the same ``return_mask=True`` call.

    Returns
    -------
    Candidate
        Ready for :func:`poolref.testing.check_max_pool` or ``poolref verify``.
    """
    pd = _import("paddle", "paddle", "pip install paddlepaddle")
    functional = pd.nn.functional
    pd.set_device("cpu")

    def call(t, kernel_size, stride, padding, ceil_mode, mask):
        # Without return_mask another kernel runs, with another NaN rule (docs/adapters.md).
        fn = getattr(functional, f"max_pool{len(kernel_size)}d")
        return fn(
            t,
            list(kernel_size),
            list(stride),
            list(padding),
            return_mask=mask,
            ceil_mode=bool(ceil_mode),
        )

    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        xb, batched = _batched(x, len(kernel_size))
        y, mask = call(
            pd.to_tensor(np.ascontiguousarray(xb)), kernel_size, stride, padding, ceil_mode, True
        )
        return _unbatch(y.numpy(), batched).copy(), _unbatch(mask.numpy(), batched).copy()

    def backward(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode):
        nd = len(kernel_size)
        xb, batched = _batched(x, nd)
        gb, _ = _batched(grad_output, nd)
        t = pd.to_tensor(np.ascontiguousarray(xb), stop_gradient=False)
        y, _ = call(t, kernel_size, stride, padding, ceil_mode, True)  # the forward's code path
        y.backward(pd.to_tensor(np.ascontiguousarray(gb)))
        return _unbatch(t.grad.numpy(), batched).copy()

    support = Support(
        dtypes=("float32", "float64"), backward_dtypes=("float32", "float64"), dilation=False
    )
    return Candidate(
        forward,
        backward,
        support,
        PADDLE,
        budget_scale=0.5,
        name=f"paddle {pd.__version__} nn.functional.max_pool{{1,2,3}}d (CPU)",
        source=_source("paddle"),
    )

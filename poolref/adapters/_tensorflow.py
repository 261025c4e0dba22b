"""TensorFlow: ``tf.nn.max_pool{1,2,3}d``, ``tf.nn.max_pool_with_argmax`` and ``tf.GradientTape``."""

from __future__ import annotations

import numpy as np

from ..testing import ALL_DTYPES, Behaviour, Candidate, Support
from ._common import _batched, _import, _source, _to_first, _to_last, _unbatch

#: ``tf.nn.max_pool*d``: the forward ignores NaN (Eigen's NaN-dropping max).
#: Declared for the forward only; the gradient is checked against the same
#: rule, so a gradient that lands on an ignored NaN is reported.
TENSORFLOW = Behaviour(nan="ignore")
_HINT = "pip install tensorflow (or tensorflow-cpu)"


def _tf():
    return _import("tensorflow", "tensorflow", _HINT)


def _explicit(padding):
    """TF's explicit padding list for symmetric ``padding`` (NHWC: no pad on N and C)."""
    return [[0, 0], *([int(p), int(p)] for p in padding), [0, 0]]


def _gradient(tf, fn, x, grad_output, nd):
    """``d(sum(fn(x) * grad_output))/dx`` with ``tf.GradientTape``, NCHW in and out."""
    xb, batched = _batched(x, nd)
    gb, _ = _batched(grad_output, nd)
    t = tf.constant(np.ascontiguousarray(_to_last(xb)))
    with tf.GradientTape() as tape:
        tape.watch(t)
        y = fn(t)
    g = tape.gradient(y, t, output_gradients=tf.constant(np.ascontiguousarray(_to_last(gb))))
    return _unbatch(_to_first(g.numpy()), batched).copy()


def tensorflow() -> Candidate:
    """``tf.nn.max_pool{1,2,3}d`` on NHWC tensors and its gradient (``tf.GradientTape``).

    The NCHW input is transposed to channels-last and passed as a
    ``tf.constant`` of the same dtype (never as a NumPy array, which TF may
    convert to float32); unbatched input gets ``N = 1``. Symmetric padding is
    passed as TF's explicit padding list, whose windows are PyTorch's (floor
    mode); ``max_pool3d`` accepts only ``"SAME"``/``"VALID"``, so 3-D has no
    padding. Declared support: no dilation or ``ceil_mode`` (no such
    arguments), no indices; dtypes as TF's CPU kernels register them (3-D:
    float32 only).

    Returns
    -------
    Candidate
        Ready for :func:`poolref.testing.check_max_pool` or ``poolref verify``.
    """
    tf = _tf()

    def pool(nd, kernel_size, stride, padding):
        fn = getattr(tf.nn, f"max_pool{nd}d")
        pad = _explicit(padding) if any(padding) else "VALID"
        return lambda t: fn(t, list(kernel_size), list(stride), pad)

    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        nd = len(kernel_size)
        xb, batched = _batched(x, nd)
        y = pool(nd, kernel_size, stride, padding)(tf.constant(np.ascontiguousarray(_to_last(xb))))
        return _unbatch(_to_first(y.numpy()), batched).copy()

    def backward(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode):
        nd = len(kernel_size)
        return _gradient(tf, pool(nd, kernel_size, stride, padding), x, grad_output, nd)

    def accepts(x, kernel_size, stride, padding, dilation, ceil_mode):
        return len(kernel_size) < 3 or (x.dtype == np.float32 and not any(padding))

    support = Support(
        dtypes=ALL_DTYPES, dilation=False, ceil_mode=False, indices=False, accepts=accepts
    )
    return Candidate(
        forward,
        backward,
        support,
        TENSORFLOW,
        budget_scale=0.25,
        name=f"tensorflow {tf.__version__} tf.nn.max_pool{{1,2,3}}d (NHWC)",
        source=_source("tensorflow"),
    )


def tensorflow_argmax(*, include_batch_in_index: bool = False) -> Candidate:
    """``tf.nn.max_pool_with_argmax`` (2-D, NHWC, ``"VALID"``) and its gradient.

    The indices are TF's, not converted. Only ``"VALID"`` and ``"SAME"``
    padding exist, and ``"SAME"`` pads asymmetrically, so only ``padding=0``
    is declared; no dilation or ``ceil_mode``.

    Parameters
    ----------
    include_batch_in_index : bool, optional
        False (default): the indices are flat over ``(h * W + w) * C + c``
        (``index_format="nhwc"``); True: over ``((n * H + h) * W + w) * C + c``
        (``"nhwc_batch"``).

    Returns
    -------
    Candidate
        Ready for :func:`poolref.testing.check_max_pool` or ``poolref verify``.
    """
    tf = _tf()

    def pool(kernel_size, stride):
        def fn(t):
            return tf.nn.max_pool_with_argmax(
                t,
                list(kernel_size),
                list(stride),
                "VALID",
                include_batch_in_index=include_batch_in_index,
            )

        return fn

    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        xb, batched = _batched(x, 2)
        y, idx = pool(kernel_size, stride)(tf.constant(np.ascontiguousarray(_to_last(xb))))
        return _unbatch(_to_first(y.numpy()), batched).copy(), _unbatch(
            _to_first(idx.numpy()), batched
        ).copy()

    def backward(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode):
        fn = pool(kernel_size, stride)
        return _gradient(tf, lambda t: fn(t)[0], x, grad_output, 2)

    support = Support(ndims=(2,), dtypes=ALL_DTYPES, padding=False, dilation=False, ceil_mode=False)
    # First valid tap, then strictly greater (a NaN is kept only when it comes first).
    fmt = "nhwc_batch" if include_batch_in_index else "nhwc"
    behaviour = Behaviour(nan="strict", index_format=fmt)
    return Candidate(
        forward,
        backward,
        support,
        behaviour,
        budget_scale=0.25,
        name=f"tensorflow {tf.__version__} tf.nn.max_pool_with_argmax (NHWC, include_batch_in_index={include_batch_in_index})",
        source=_source("tensorflow_argmax", f"include_batch_in_index={include_batch_in_index!r}"),
    )

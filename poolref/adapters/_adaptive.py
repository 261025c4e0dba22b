"""Adaptive max pooling adapters: forward/backward pairs for :func:`~poolref.testing.check_adaptive_max_pool`."""

from __future__ import annotations

import numpy as np

from ._common import AdapterUnavailable, _import

__all__ = ["keras_adaptive", "paddle_adaptive", "torch_adaptive", "torch_fractional"]


def torch_adaptive():
    """``torch.nn.functional.adaptive_max_pool{1,2,3}d(..., return_indices=True)`` and autograd (CPU).

    Returns
    -------
    tuple of callable
        ``(forward, backward)`` for :func:`poolref.testing.check_adaptive_max_pool`.

    Raises
    ------
    AdapterUnavailable
        If torch is not installed.
    """
    torch = _import_torch()

    def _fn(output_size):
        return getattr(torch.nn.functional, f"adaptive_max_pool{len(output_size)}d")

    def forward(x, output_size):
        t = torch.from_numpy(np.array(x, order="C", copy=True))
        y, i = _fn(output_size)(t, output_size, return_indices=True)
        return y.numpy(), i.numpy()

    def backward(grad_output, x, output_size):
        t = torch.from_numpy(np.array(x, order="C", copy=True)).requires_grad_()
        _fn(output_size)(t, output_size).backward(torch.from_numpy(np.array(grad_output)))
        return t.grad.numpy()

    return forward, backward


def torch_fractional():
    """``torch.nn.functional.fractional_max_pool{2,3}d`` with given samples, and autograd (CPU).

    The samples go to PyTorch's ``_random_samples`` argument (shape ``(N, C, nd)``, the
    input's dtype), so its windows are the ones poolref computes from the same samples.

    Returns
    -------
    tuple of callable
        ``(forward, backward)`` for :func:`poolref.testing.check_fractional_max_pool`.

    Raises
    ------
    AdapterUnavailable
        If torch is not installed.
    """
    torch = _import_torch()

    def _call(x, kernel_size, output_size, random_samples):
        fn = getattr(torch.nn.functional, f"fractional_max_pool{len(output_size)}d")
        samples = torch.from_numpy(np.array(random_samples, order="C", copy=True))
        return fn(
            x, kernel_size, output_size=output_size, return_indices=True, _random_samples=samples
        )

    def forward(x, kernel_size, output_size, random_samples):
        t = torch.from_numpy(np.array(x, order="C", copy=True))
        y, i = _call(t, kernel_size, output_size, random_samples)
        return y.numpy(), i.numpy()

    def backward(grad_output, x, kernel_size, output_size, random_samples):
        t = torch.from_numpy(np.array(x, order="C", copy=True)).requires_grad_()
        y, _ = _call(t, kernel_size, output_size, random_samples)
        y.backward(torch.from_numpy(np.array(grad_output)))
        return t.grad.numpy()

    return forward, backward


def _import_torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        msg = "the torch adapter needs PyTorch: pip install torch"
        raise AdapterUnavailable(msg) from exc
    return torch


def keras_adaptive(data_format: str = "channels_first"):
    """``keras.ops.adaptive_max_pool`` (Keras >= 3.12) on the installed backend; no indices.

    With the TensorFlow backend the backward is ``tf.GradientTape`` over the same op; with
    another backend there is no backward (None).

    Parameters
    ----------
    data_format : {"channels_first", "channels_last"}, optional
        The layout Keras gets (the NCHW input is transposed for ``"channels_last"``).

    Returns
    -------
    tuple of callable
        ``(forward, backward)`` for :func:`poolref.testing.check_adaptive_max_pool`.

    Raises
    ------
    AdapterUnavailable
        If Keras is not installed or has no ``adaptive_max_pool``.
    """
    keras = _import("keras", "keras", "pip install keras (3.12 or later)")
    if not hasattr(keras.ops, "adaptive_max_pool"):
        msg = f"keras {keras.__version__} has no keras.ops.adaptive_max_pool (3.12 or later has)"
        raise AdapterUnavailable(msg)
    last = data_format == "channels_last"

    def to_keras(a):
        return np.ascontiguousarray(np.moveaxis(a, 1, -1) if last else a)

    def from_keras(a):
        a = np.asarray(a)
        return np.moveaxis(a, -1, 1).copy() if last else a.copy()

    def forward(x, output_size):
        t = keras.ops.convert_to_tensor(to_keras(x), dtype=x.dtype.name)
        return from_keras(keras.ops.adaptive_max_pool(t, output_size, data_format=data_format))

    if keras.backend.backend() != "tensorflow":
        return forward, None
    import tensorflow as tf

    def backward(grad_output, x, output_size):
        t = tf.constant(to_keras(x))
        with tf.GradientTape() as tape:
            tape.watch(t)
            y = keras.ops.adaptive_max_pool(t, output_size, data_format=data_format)
        g = tape.gradient(y, t, output_gradients=tf.constant(to_keras(grad_output)))
        return from_keras(g)

    return forward, backward


def paddle_adaptive():
    """``paddle.nn.functional.adaptive_max_pool{1,2,3}d(..., return_mask=True)`` and autograd (CPU).

    Returns
    -------
    tuple of callable
        ``(forward, backward)`` for :func:`poolref.testing.check_adaptive_max_pool`.

    Raises
    ------
    AdapterUnavailable
        If paddle is not installed.
    """
    paddle = _import("paddle", "paddle", "pip install paddlepaddle")
    paddle.set_device("cpu")

    def _fn(output_size):
        return getattr(paddle.nn.functional, f"adaptive_max_pool{len(output_size)}d")

    def forward(x, output_size):
        t = paddle.to_tensor(np.array(x, order="C", copy=True))
        y, mask = _fn(output_size)(t, list(output_size), return_mask=True)
        return y.numpy().copy(), mask.numpy().copy()

    def backward(grad_output, x, output_size):
        t = paddle.to_tensor(np.array(x, order="C", copy=True), stop_gradient=False)
        y = _fn(output_size)(t, list(output_size))
        y.backward(paddle.to_tensor(np.array(grad_output)))
        return t.grad.numpy().copy()

    return forward, backward

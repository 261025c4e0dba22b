"""Adaptive max pooling adapters: forward/backward pairs for :func:`~poolref.testing.check_adaptive_max_pool`."""

from __future__ import annotations

import numpy as np

from ._common import AdapterUnavailable

__all__ = ["torch_adaptive", "torch_fractional"]


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

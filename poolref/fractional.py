"""Fractional max pooling (Graham, 2014) with PyTorch's exact interval formula.

``fractional_max_pool{2,3}d`` pools ``kernel_size`` windows whose starts are pseudo-random: for
one ``(n, c)`` plane and one dimension of length ``n`` with output size ``out``, sample ``u``
in ``[0, 1)`` gives ``alpha = (n - k) / (out - 1)``,
``start[i] = int((i + u) * alpha) - int(u * alpha)`` for ``i < out - 1`` and
``start[out - 1] = n - k``, all computed in the samples' floating dtype (PyTorch's ``scalar_t``).
``random_samples`` has shape ``(N, C, nd)`` in PyTorch's order: in 2-D sample 0 is for the
width and sample 1 for the height; in 3-D they are (T, H, W). Without ``random_samples`` they are
drawn from ``rng`` (a ``numpy.random.Generator``; default ``numpy.random.default_rng()``).
Selection is as everywhere in poolref: first maximum, last NaN, flat row-major indices.

TensorFlow's ``tf.nn.fractional_max_pool`` draws its boundaries differently (a shuffled sequence
of steps of two sizes, or a pseudo-random ``ceil(alpha*(i+u)) - ceil(alpha*u)`` sequence with
``overlapping`` windows of one extra element), seeded by TensorFlow's own generator: it is not
supported here as a named behaviour.

>>> import numpy as np, poolref
>>> x = np.arange(25.0).reshape(1, 1, 5, 5)
>>> poolref.fractional_max_pool2d(x, 2, output_size=3, random_samples=np.full((1, 1, 2), 0.5))
array([[[[ 6.,  8.,  9.],
         [16., 18., 19.],
         [21., 23., 24.]]]])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _adaptive_fast, _api, _fractional_fast, _fractional_naive, _params
from ._params import BACKWARD_DTYPES, FORWARD_DTYPES

__all__ = [
    "fractional_max_pool2d",
    "fractional_max_pool2d_backward",
    "fractional_max_pool3d",
    "fractional_max_pool3d_backward",
]

_CORES = {"fast": _fractional_fast, "naive": _fractional_naive}
_FLOATS = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def _output_spatial(spatial, kernel, output_size, output_ratio, func):
    nd = len(spatial)
    if (output_size is None) == (output_ratio is None):
        msg = f"{func}: pass exactly one of output_size and output_ratio, got output_size={output_size!r}, output_ratio={output_ratio!r}"
        raise ValueError(msg)
    if output_size is not None:
        sizes = _params.as_tuple(output_size, nd, "output_size", func)
    else:
        ratios = output_ratio if isinstance(output_ratio, (tuple, list)) else (output_ratio,) * nd
        if len(ratios) != nd or not all(isinstance(r, (int, float)) and 0 < r < 1 for r in ratios):
            msg = f"{func}: output_ratio must be a float in (0, 1) or a tuple of {nd}, got output_ratio={output_ratio!r}"
            raise ValueError(msg)
        sizes = tuple(int(n * r) for n, r in zip(spatial, ratios))
    for d, (n, k, o) in enumerate(zip(spatial, kernel, sizes)):
        if o < 1 or o + k - 1 > n:
            msg = (
                f"{func}: output size {o} with kernel_size {k} does not fit the input size {n} "
                f"in spatial dim {d} (need 1 <= output_size and output_size + kernel_size - 1 <= {n})"
            )
            raise ValueError(msg)
    return sizes


def _samples(random_samples, rng, x, batched, nd, func):
    lead = x.shape[:2] if batched else (1, x.shape[0])
    if random_samples is None:
        gen = np.random.default_rng() if rng is None else rng
        if not isinstance(gen, np.random.Generator):
            msg = f"{func}: rng must be a numpy.random.Generator, got rng of type {type(rng).__name__}"
            raise TypeError(msg)
        dtype = x.dtype if x.dtype in _FLOATS else np.dtype(np.float64)
        return gen.random((*lead, nd)).astype(dtype)
    u = _params.check_array(random_samples, "random_samples", func, _FLOATS)
    if x.dtype in _FLOATS and u.dtype != x.dtype:
        msg = f"{func}: random_samples.dtype={u.dtype} must match x.dtype={x.dtype}"
        raise TypeError(msg)
    if u.shape != (*lead, nd):
        msg = f"{func}: random_samples.shape={u.shape} must be {(*lead, nd)} (N, C, {nd})"
        raise ValueError(msg)
    if not ((u >= 0) & (u < 1)).all():
        msg = f"{func}: random_samples must lie in [0, 1)"
        raise ValueError(msg)
    return u


def _pool(
    nd,
    fname,
    x,
    kernel_size,
    output_size,
    output_ratio,
    return_indices,
    random_samples,
    rng,
    core="fast",
):
    with_indices = _params.check_bool(return_indices, "return_indices", fname)
    x = _params.check_array(x, "x", fname, FORWARD_DTYPES)
    batched = _params.check_pool_shape(x.shape, nd, "x", fname)
    kernel = _params.as_tuple(kernel_size, nd, "kernel_size", fname)
    if min(kernel) < 1:
        msg = (
            f"{fname}: kernel_size must be >= 1 in every dimension, got kernel_size={kernel_size!r}"
        )
        raise ValueError(msg)
    out = _output_spatial(x.shape[-nd:], kernel, output_size, output_ratio, fname)
    u = _samples(random_samples, rng, x, batched, nd, fname)
    _params.check_allocation(
        math.prod((*x.shape[:-nd], *out, *kernel)) * 8, f"the windows for output_size={out}", fname
    )
    y, idx = _CORES[core].forward(_api._batched(x, batched), kernel, out, u, with_indices)
    y = _api._unbatched(y, batched)
    return (y, _api._unbatched(idx, batched)) if with_indices else y


def _backward(
    nd, bname, grad_output, x, kernel_size, output_size, output_ratio, random_samples, indices
):
    grad_output = _params.check_array(grad_output, "grad_output", bname, BACKWARD_DTYPES)
    if indices is None:
        if random_samples is None:
            msg = f"{bname}: pass random_samples or indices (the windows are random)"
            raise ValueError(msg)
        _, indices = _pool(
            nd, bname, x, kernel_size, output_size, output_ratio, True, random_samples, None
        )
    shape = _api._backward_input_shape(grad_output, x, indices, bname)
    batched = _params.check_pool_shape(shape, nd, "x", bname)
    checked = _api._check_indices(indices, grad_output.shape, math.prod(shape[-nd:]), bname)
    if (checked == -1).any():
        msg = f"{bname}: indices must be in [0, {math.prod(shape[-nd:])}), got -1"
        raise ValueError(msg)
    if grad_output.shape[:-nd] != tuple(shape[:-nd]):
        msg = (
            f"{bname}: grad_output.shape={grad_output.shape} does not match x.shape={tuple(shape)}"
        )
        raise ValueError(msg)
    grad = _adaptive_fast.backward_from_indices(
        _api._batched(grad_output, batched),
        _api._batched(checked, batched),
        _api._batched(tuple(shape), batched),
    )
    return _api._unbatched(grad, batched)


def fractional_max_pool2d(
    x: NDArray[Any],
    kernel_size: int | tuple[int, ...],
    output_size: int | tuple[int, ...] | None = None,
    output_ratio: float | tuple[float, ...] | None = None,
    return_indices: bool = False,
    random_samples: NDArray[Any] | None = None,
    rng: np.random.Generator | None = None,
) -> NDArray[Any] | tuple[NDArray[Any], NDArray[np.int64]]:
    """2-D fractional max pooling, as ``torch.nn.functional.fractional_max_pool2d``.

    Parameters
    ----------
    x : numpy.ndarray
        Input of shape ``(N, C, H, W)`` or ``(C, H, W)``.
    kernel_size : int or tuple of int
        The window size.
    output_size : int or tuple of int, optional
        The output's spatial size (exactly one of ``output_size`` and ``output_ratio``).
    output_ratio : float or tuple of float, optional
        Output size as a fraction of the input size in (0, 1) (truncated, as PyTorch).
    return_indices : bool, optional
        Also return the int64 flat row-major index of every selected element in its plane.
    random_samples : numpy.ndarray, optional
        Samples in [0, 1) of shape ``(N, C, 2)`` (``(1, C, 2)`` for unbatched input), in
        PyTorch's order (sample 0 for W, sample 1 for H), of ``x``'s float dtype.
    rng : numpy.random.Generator, optional
        Draws the samples when ``random_samples`` is None.

    Returns
    -------
    numpy.ndarray or tuple of numpy.ndarray
        The pooled array, or ``(output, indices)`` with ``return_indices=True``.
    """
    return _pool(
        2,
        "fractional_max_pool2d",
        x,
        kernel_size,
        output_size,
        output_ratio,
        return_indices,
        random_samples,
        rng,
    )


def fractional_max_pool2d_backward(
    grad_output: NDArray[Any],
    x: NDArray[Any] | tuple[int, ...],
    kernel_size: int | tuple[int, ...],
    output_size: int | tuple[int, ...] | None = None,
    output_ratio: float | tuple[float, ...] | None = None,
    random_samples: NDArray[Any] | None = None,
    indices: NDArray[np.int64] | None = None,
) -> NDArray[Any]:
    """Gradient of :func:`fractional_max_pool2d` with respect to its input.

    Parameters
    ----------
    grad_output : numpy.ndarray
        Gradient of the forward's output (float16, float32 or float64).
    x : numpy.ndarray or tuple of int
        The forward's input, or (with ``indices``) just its shape.
    kernel_size : int or tuple of int
        The forward's ``kernel_size``.
    output_size : int or tuple of int, optional
        The forward's ``output_size``.
    output_ratio : float or tuple of float, optional
        The forward's ``output_ratio``.
    random_samples : numpy.ndarray, optional
        The forward's samples (needed when ``indices`` is None).
    indices : numpy.ndarray, optional
        The forward's indices.

    Returns
    -------
    numpy.ndarray
        Gradient of the input's shape (float64 sums, cast once to ``grad_output``'s dtype).
    """
    return _backward(
        2,
        "fractional_max_pool2d_backward",
        grad_output,
        x,
        kernel_size,
        output_size,
        output_ratio,
        random_samples,
        indices,
    )


def fractional_max_pool3d(
    x: NDArray[Any],
    kernel_size: int | tuple[int, ...],
    output_size: int | tuple[int, ...] | None = None,
    output_ratio: float | tuple[float, ...] | None = None,
    return_indices: bool = False,
    random_samples: NDArray[Any] | None = None,
    rng: np.random.Generator | None = None,
) -> NDArray[Any] | tuple[NDArray[Any], NDArray[np.int64]]:
    """3-D fractional max pooling, as ``torch.nn.functional.fractional_max_pool3d``.

    Parameters
    ----------
    x : numpy.ndarray
        Input of shape ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
    kernel_size : int or tuple of int
        The window size.
    output_size : int or tuple of int, optional
        The output's spatial size (exactly one of ``output_size`` and ``output_ratio``).
    output_ratio : float or tuple of float, optional
        Output size as a fraction of the input size in (0, 1) (truncated, as PyTorch).
    return_indices : bool, optional
        Also return the int64 flat row-major index of every selected element in its plane.
    random_samples : numpy.ndarray, optional
        Samples in [0, 1) of shape ``(N, C, 3)`` (``(1, C, 3)`` for unbatched input), in
        PyTorch's order (T, H, W), of ``x``'s float dtype.
    rng : numpy.random.Generator, optional
        Draws the samples when ``random_samples`` is None.

    Returns
    -------
    numpy.ndarray or tuple of numpy.ndarray
        The pooled array, or ``(output, indices)`` with ``return_indices=True``.
    """
    return _pool(
        3,
        "fractional_max_pool3d",
        x,
        kernel_size,
        output_size,
        output_ratio,
        return_indices,
        random_samples,
        rng,
    )


def fractional_max_pool3d_backward(
    grad_output: NDArray[Any],
    x: NDArray[Any] | tuple[int, ...],
    kernel_size: int | tuple[int, ...],
    output_size: int | tuple[int, ...] | None = None,
    output_ratio: float | tuple[float, ...] | None = None,
    random_samples: NDArray[Any] | None = None,
    indices: NDArray[np.int64] | None = None,
) -> NDArray[Any]:
    """Gradient of :func:`fractional_max_pool3d` with respect to its input.

    Parameters
    ----------
    grad_output : numpy.ndarray
        Gradient of the forward's output (float16, float32 or float64).
    x : numpy.ndarray or tuple of int
        The forward's input, or (with ``indices``) just its shape.
    kernel_size : int or tuple of int
        The forward's ``kernel_size``.
    output_size : int or tuple of int, optional
        The forward's ``output_size``.
    output_ratio : float or tuple of float, optional
        The forward's ``output_ratio``.
    random_samples : numpy.ndarray, optional
        The forward's samples (needed when ``indices`` is None).
    indices : numpy.ndarray, optional
        The forward's indices.

    Returns
    -------
    numpy.ndarray
        Gradient of the input's shape (float64 sums, cast once to ``grad_output``'s dtype).
    """
    return _backward(
        3,
        "fractional_max_pool3d_backward",
        grad_output,
        x,
        kernel_size,
        output_size,
        output_ratio,
        random_samples,
        indices,
    )

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
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from . import (
    _adaptive_docstrings,
    _adaptive_fast,
    _api,
    _fractional_fast,
    _fractional_naive,
    _params,
    _ranked,
)
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
    nd: int,
    bname: str,
    grad_output: NDArray[Any],
    x: NDArray[Any] | tuple[int, ...],
    kernel_size: int | tuple[int, ...],
    output_size: int | tuple[int, ...] | None = None,
    output_ratio: float | tuple[float, ...] | None = None,
    random_samples: NDArray[Any] | None = None,
    indices: NDArray[np.int64] | None = None,
) -> NDArray[Any]:
    """The public backward's body (its parameters after ``nd`` and ``bname``: the signature)."""
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


def _forward(
    nd: int,
    fname: str,
    x: NDArray[Any],
    kernel_size: int | tuple[int, ...],
    output_size: int | tuple[int, ...] | None = None,
    output_ratio: float | tuple[float, ...] | None = None,
    return_indices: bool = False,
    random_samples: NDArray[Any] | None = None,
    rng: np.random.Generator | None = None,
) -> NDArray[Any] | tuple[NDArray[Any], NDArray[np.int64]]:
    """The public forward's body (its parameters after ``nd`` and ``fname``: the signature)."""
    return _pool(
        nd, fname, x, kernel_size, output_size, output_ratio, return_indices, random_samples, rng
    )


# One function per rank, each kind's signature written once above and its text once in
# poolref._adaptive_docstrings (poolref._ranked).
fractional_max_pool2d: Final = _ranked.ranked(
    _forward, 2, "fractional_max_pool2d", __name__, _adaptive_docstrings.fractional(2, "forward")
)
fractional_max_pool3d: Final = _ranked.ranked(
    _forward, 3, "fractional_max_pool3d", __name__, _adaptive_docstrings.fractional(3, "forward")
)
fractional_max_pool2d_backward: Final = _ranked.ranked(
    _backward,
    2,
    "fractional_max_pool2d_backward",
    __name__,
    _adaptive_docstrings.fractional(2, "backward"),
)
fractional_max_pool3d_backward: Final = _ranked.ranked(
    _backward,
    3,
    "fractional_max_pool3d_backward",
    __name__,
    _adaptive_docstrings.fractional(3, "backward"),
)

"""Adaptive max pooling with PyTorch's exact semantics.

``adaptive_max_pool{1,2,3}d(x, output_size)`` splits every spatial dimension of
length ``n`` into ``out`` windows; window ``o`` spans
``floor(o*n/out) .. ceil((o+1)*n/out) - 1``, so neighbouring windows may
overlap, and ``out > n`` repeats elements. Selection is as for the fixed-window
pools: the first maximum in row-major window order, or the last NaN; indices
are flat row-major per ``(n, c)`` plane. The backward scatters each gradient to
its selected element, summing in float64 and casting once.

The fast path is :mod:`poolref._adaptive_fast`; :mod:`poolref._adaptive_naive`
is the loop oracle, written independently (``core="naive"`` below selects it,
for the cross-checks).

>>> import numpy as np, poolref
>>> x = np.array([[1.0, 5.0, 2.0, 7.0, 3.0]])
>>> poolref.adaptive_max_pool1d(x, 3, return_indices=True)
(array([[5., 7., 7.]]), array([[1, 3, 3]]))
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from . import _adaptive_docstrings, _adaptive_fast, _adaptive_naive, _api, _params, _ranked
from ._params import BACKWARD_DTYPES, FORWARD_DTYPES

__all__ = [
    "adaptive_max_pool1d",
    "adaptive_max_pool1d_backward",
    "adaptive_max_pool2d",
    "adaptive_max_pool2d_backward",
    "adaptive_max_pool3d",
    "adaptive_max_pool3d_backward",
]

#: ``output_size``: one int for every dimension, or one int (or None: keep the input's size) each.
OutputSize = int | tuple[int | None, ...]
_CORES = {"fast": _adaptive_fast, "naive": _adaptive_naive}


def _output_spatial(output_size, spatial: tuple[int, ...], func: str) -> tuple[int, ...]:
    """Check ``output_size`` against the input's spatial shape; ``None`` entries keep the input's size."""
    nd = len(spatial)
    if _params._is_int(output_size):
        output_size = (output_size,) * nd
    if not isinstance(output_size, (tuple, list)) or not all(
        v is None or _params._is_int(v) for v in output_size
    ):
        msg = (
            f"{func}: output_size must be an int or a tuple of {nd} ints or None, "
            f"got output_size={output_size!r}"
        )
        raise TypeError(msg)
    if len(output_size) != nd:
        msg = f"{func}: output_size must have {nd} entries, got output_size={tuple(output_size)!r}"
        raise ValueError(msg)
    sizes = tuple(n if v is None else int(v) for v, n in zip(output_size, spatial))
    if min(sizes) < 1:
        msg = f"{func}: output_size must be >= 1 in every dimension, got output_size={tuple(output_size)!r}"
        raise ValueError(msg)
    return sizes


def _check_size(shape: tuple[int, ...], itemsize: int, output_size, func: str) -> None:
    _params.check_allocation(
        math.prod(shape) * itemsize, f"the output for output_size={output_size!r}", func
    )


def _core(core: str):
    if core not in _CORES:
        msg = f"core must be one of {sorted(_CORES)}, got core={core!r}"
        raise ValueError(msg)
    return _CORES[core]


def _pool(nd: int, fname: str, x, output_size, return_indices, core: str = "fast"):
    impl = _core(core)
    with_indices = _params.check_bool(return_indices, "return_indices", fname)
    x = _params.check_array(x, "x", fname, FORWARD_DTYPES)
    batched = _params.check_pool_shape(x.shape, nd, "x", fname)
    out_spatial = _output_spatial(output_size, x.shape[-nd:], fname)
    # the widest window has ceil(n/out) + 1 elements: the gathered windows stay proportional
    _check_size((*x.shape[:-nd], *out_spatial), x.itemsize * 2**nd, output_size, fname)
    y, idx = impl.forward(_api._batched(x, batched), out_spatial, with_indices)
    y = _api._unbatched(y, batched)
    if with_indices:
        return y, _api._unbatched(idx, batched)
    return y


def _backward(nd: int, bname: str, grad_output, x, output_size, indices, core: str = "fast"):
    impl = _core(core)
    grad_output = _params.check_array(grad_output, "grad_output", bname, BACKWARD_DTYPES)
    input_shape = _api._backward_input_shape(grad_output, x, indices, bname)
    batched = _params.check_pool_shape(input_shape, nd, "x", bname)
    _check_size(input_shape, grad_output.itemsize, output_size, bname)
    out_spatial = _output_spatial(output_size, tuple(input_shape[-nd:]), bname)
    expected = (*input_shape[:-nd], *out_spatial)
    if grad_output.shape != expected:
        msg = (
            f"{bname}: grad_output.shape={grad_output.shape} does not match the "
            f"forward's output shape {expected} for x.shape={tuple(input_shape)}"
        )
        raise ValueError(msg)
    if indices is None:
        xb = _api._batched(np.asarray(x), batched)
        _, idx = impl.forward(xb, out_spatial, True)
    else:
        checked = _api._check_indices(indices, expected, math.prod(input_shape[-nd:]), bname)
        idx = _api._batched(checked, batched)
        if (idx == -1).any():
            msg = f"{bname}: indices must be in [0, {math.prod(input_shape[-nd:])}), got -1 (adaptive windows are never empty)"
            raise ValueError(msg)
    g = _api._batched(grad_output, batched)
    grad = impl.backward_from_indices(g, idx, _api._batched(tuple(input_shape), batched))
    return _api._unbatched(grad, batched)


def _forward(
    nd: int, fname: str, x: NDArray[Any], output_size: OutputSize, return_indices: bool = False
) -> NDArray[Any] | tuple[NDArray[Any], NDArray[np.int64]]:
    """The public forward's body (``x``, ``output_size``, ``return_indices``: its signature)."""
    return _pool(nd, fname, x, output_size, return_indices)


def _public_backward(
    nd: int,
    bname: str,
    grad_output: NDArray[Any],
    x: NDArray[Any] | tuple[int, ...],
    output_size: OutputSize,
    indices: NDArray[np.int64] | None = None,
) -> NDArray[Any]:
    """The public backward's body (its parameters after ``nd`` and ``bname``: the signature)."""
    return _backward(nd, bname, grad_output, x, output_size, indices)


# One function per rank, each kind's signature written once above and its text once in
# poolref._adaptive_docstrings (poolref._ranked).
adaptive_max_pool1d: Final = _ranked.ranked(
    _forward, 1, "adaptive_max_pool1d", __name__, _adaptive_docstrings.adaptive(1, "forward")
)
adaptive_max_pool2d: Final = _ranked.ranked(
    _forward, 2, "adaptive_max_pool2d", __name__, _adaptive_docstrings.adaptive(2, "forward")
)
adaptive_max_pool3d: Final = _ranked.ranked(
    _forward, 3, "adaptive_max_pool3d", __name__, _adaptive_docstrings.adaptive(3, "forward")
)
adaptive_max_pool1d_backward: Final = _ranked.ranked(
    _public_backward,
    1,
    "adaptive_max_pool1d_backward",
    __name__,
    _adaptive_docstrings.adaptive(1, "backward"),
)
adaptive_max_pool2d_backward: Final = _ranked.ranked(
    _public_backward,
    2,
    "adaptive_max_pool2d_backward",
    __name__,
    _adaptive_docstrings.adaptive(2, "backward"),
)
adaptive_max_pool3d_backward: Final = _ranked.ranked(
    _public_backward,
    3,
    "adaptive_max_pool3d_backward",
    __name__,
    _adaptive_docstrings.adaptive(3, "backward"),
)

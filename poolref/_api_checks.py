"""Checks of the public wrappers (:mod:`poolref._api`) that are cached or shared with the cores.

The shape checks are pure functions of the shapes and parameters, so they run once per shape
(``_forward_shape`` and ``_backward_shapes`` are their ``lru_cache``; an error is never cached). :class:`IndexRangeError` is how a core that checks
index ranges itself (the compiled ones, while they scatter) reports the first bad index; the
wrapper words it as its own check would.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import _params
from ._params import PoolParams


class IndexRangeError(Exception):
    """Raised by a core that checks index ranges itself (:class:`_Cores` ``checks_indices``):
    ``position`` is the flat row-major position of the first index out of range."""

    def __init__(self, position: int):
        super().__init__(position)
        self.position = position


def _index_range_error(indices: np.ndarray, where: tuple, plane_size: int, func: str):
    """The ``ValueError`` for ``indices[where]`` out of ``[-1, plane_size)``."""
    msg = (
        f"{func}: indices[{', '.join(map(str, where))}]={int(indices[where])} is out of "
        f"range; every index must be in [0, {plane_size}) (or -1 for an empty window)"
    )
    return ValueError(msg)


def _scatter(core, indices: np.ndarray, plane_size: int, func: str, *args):
    """``core(*args)``, turning a core's :class:`IndexRangeError` into the usual ``ValueError``."""
    try:
        return core(*args)
    except IndexRangeError as exc:
        where = tuple(int(i) for i in np.unravel_index(exc.position, indices.shape))
        raise _index_range_error(indices, where, plane_size, func) from None


def _never() -> bool:
    return False


def _check_forward_shape(shape: tuple, nd: int, params: PoolParams, fname: str) -> bool:
    """Check a forward input's shape (once per shape and parameters); True if batched."""
    batched = _params.check_pool_shape(shape, nd, "x", fname)
    _params.check_output_shape(shape[-nd:], params, fname)
    return batched


def _check_backward_shapes(
    input_shape: tuple, grad_shape: tuple, nd: int, params: PoolParams, bname: str
) -> tuple[bool, tuple]:
    """Check a backward's input and gradient shapes (once per shapes and parameters).

    Returns whether they are batched and the forward's output shape.
    """
    batched = _params.check_pool_shape(input_shape, nd, "x", bname)
    out_spatial = _params.check_output_shape(tuple(input_shape[-nd:]), params, bname)
    expected = (*input_shape[:-nd], *out_spatial)
    if grad_shape != expected:
        msg = (
            f"{bname}: grad_output.shape={grad_shape} does not match the "
            f"forward's output shape {expected} for x.shape={tuple(input_shape)}"
        )
        raise ValueError(msg)
    return batched, expected


# cached by wrapping, not decorating: mutmut mutates undecorated functions only
_forward_shape = lru_cache(maxsize=1024)(_check_forward_shape)
_backward_shapes = lru_cache(maxsize=1024)(_check_backward_shapes)

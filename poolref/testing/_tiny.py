"""The corner catalogue's smallest rows: a few elements each, one hard point each.

:func:`poolref.testing.corner_cases` runs those of the requested rank first; the property suite
runs them all as ``@example``s of its tests (``properties/_assertions.HARD_CASES``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from ..arrays import PoolCase

Size = int | tuple[int, ...]


def _per_dim(nd: int, value: Size) -> tuple[int, ...]:
    return (value,) * nd if isinstance(value, int) else tuple(value)


def _row(
    x: ArrayLike,
    kernel_size: tuple[int, ...],
    stride: Size | None = None,
    padding: Size = 0,
    dilation: Size = 1,
    ceil_mode: bool = False,
    dtype: DTypeLike = np.float64,
) -> PoolCase:
    """A fixed case; ``x``'s rank and ``kernel_size``'s length give the spatial rank."""
    nd = len(kernel_size)
    k = tuple(kernel_size)
    s = k if stride is None else _per_dim(nd, stride)
    array = np.asarray(x, dtype=dtype)
    return PoolCase(array, k, s, _per_dim(nd, padding), _per_dim(nd, dilation), ceil_mode)


NAN, INF = np.nan, np.inf
#: The smallest rows of the catalogue: a few elements each, one hard point each (several NaN in
#: one window, ties, signed zeros, the lowest value next to padding, empty windows, ceil-mode
#: edges). :func:`corner_cases` runs those of the requested rank first; the property suite
#: runs them all as ``@example``s of its tests.
TINY = (
    ("the last NaN wins", _row([[NAN, 1.0, NAN, 2.0]], (4,))),
    ("NaN in the last column", _row([[[[1.0, NAN], [5.0, NAN]]]], (2, 2))),
    ("NaN among -inf", _row([[[[-INF, NAN], [-INF, -INF]]]], (2, 2), dtype=np.float32)),
    (
        "NaN, padding, 3-D",
        _row([[[[[NAN, 1.0], [NAN, 2.0]], [[3.0, NAN], [4.0, 0.0]]]]], (2, 2, 2), 1, 1),
    ),
    ("ties: the first maximum", _row([[5.0, 5.0, 5.0, 1.0]], (2,), 1)),
    ("integer ties", _row([[[2, 2], [2, 2]]], (2, 2), dtype=np.int16)),
    ("signed zeros follow the index", _row([[-0.0, 0.0, 0.0, -0.0]], (2,), 1)),
    ("all -inf next to padding", _row([[-INF, -INF]], (2,), 1, 1)),
    ("negatives next to padding", _row([[-3.0, -1.0, -2.0]], (3,), 1, 1, dtype=np.float32)),
    ("int8 minimum next to padding", _row([[-128, -128, -7]], (2,), 1, 1, dtype=np.int8)),
    ("uint8 zeros next to padding", _row([[0, 0, 3]], (2,), 1, 1, dtype=np.uint8)),
    ("int64 minimum next to padding", _row([[[-(2**63), -(2**63)]]], (2,), 1, 1, dtype=np.int64)),
    ("an empty window", _row([[1.0, 2.0]], (2,), 1, 1, 3)),
    ("empty windows, int32", _row([[[[1, 2], [3, 4]]]], (2, 2), 1, 1, 3, dtype=np.int32)),
    ("ceil: the last window hangs over", _row([[1.0, 3.0, 2.0, 0.0, 5.0]], (2,), ceil_mode=True)),
    (
        "ceil correction: 3 outputs",
        _row([[1.0, 2.0, 3.0, 4.0, 5.0]], (2,), padding=1, ceil_mode=True),
    ),
    (
        "ceil: 1x1 after the correction",
        _row([[[[1.0, 2.0], [3.0, 4.0]]]], (1, 1), 2, ceil_mode=True),
    ),
    ("ceil: L + 2p < eff, one output", _row([[1.0, 2.0]], (3,), 2, ceil_mode=True)),
    (
        "float16 beyond 2048",
        _row([[2048.0, 2050.0, 4096.0, 65504.0, -65504.0, 2049.0]], (2,), 1, dtype=np.float16),
    ),
    ("unbatched 3-D, negative strides", _row(np.arange(16.0).reshape(2, 2, 2, 2)[::-1], (2, 2, 2))),
)

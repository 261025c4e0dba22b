"""im2col window tables and the column-matrix memory guard (surviving mutants of issue 19).

Two behaviours the older tests left open: taps that no window reads inside the
input (a kernel wider than the input plus padding) must read ``-1`` in the full
``im2col_indices`` table, and the forward's column matrix is sized (and refused
on a small machine) by the taps that some window reads inside the input, so a
huge kernel on a tiny input costs memory in proportion to the input.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from poolref import _params
from poolref import im2col as ic


def _brute_table(spatial, k, s, p, d, out):
    """``(prod(k), prod(out))``: flat tap position, or -1 outside the input, by the definition."""
    table = np.empty((math.prod(k), math.prod(out)), dtype=np.int64)
    for row, taps in enumerate(itertools.product(*(range(v) for v in k))):
        for col, outs in enumerate(itertools.product(*(range(v) for v in out))):
            pos = [o * ss - pp + j * dd for o, ss, pp, j, dd in zip(outs, s, p, taps, d)]
            inside = all(0 <= q < n for q, n in zip(pos, spatial))
            table[row, col] = np.ravel_multi_index(pos, spatial) if inside else -1
    return table


# (spatial, kernel, stride, padding, dilation): kernels whose first/last taps read only padding
WIDE_KERNELS = [
    ((2,), (5,), (1,), (2,), (1,)),
    ((3,), (7,), (2,), (3,), (1,)),
    ((2,), (3,), (1,), (2,), (2,)),
    ((2, 3), (5, 3), (1, 2), (2, 1), (1, 1)),
    ((2, 2, 2), (5, 1, 3), (1, 1, 1), (2, 0, 1), (1, 1, 1)),
]


@pytest.mark.parametrize(("spatial", "k", "s", "p", "d"), WIDE_KERNELS)
def test_im2col_indices_full_table_when_taps_never_read_the_input(spatial, k, s, p, d):
    index, out = ic.im2col_indices(spatial, k, stride=s, padding=p, dilation=d)
    expected = _brute_table(spatial, k, s, p, d, out)
    assert index.dtype == np.int64
    assert index.shape == (math.prod(k), math.prod(out))  # every tap, not only the inside ones
    np.testing.assert_array_equal(index, expected)
    assert (index[0] == -1).all()  # the first tap of the first kernel axis reads only padding


def test_column_matrix_memory_guard_counts_batch_channels_and_itemsize(monkeypatch):
    # N*C*itemsize = 2*3*8 = 48 bytes per table entry; the table is 3 x 6 (k=3 on length 8)
    x = np.arange(48.0).reshape(2, 3, 8)
    need = 3 * 6 * 48
    monkeypatch.setattr(_params, "machine_bytes", lambda: need)
    y = ic.max_pool1d(x, 3, stride=1)  # exactly fits
    np.testing.assert_array_equal(y, np.lib.stride_tricks.sliding_window_view(x, 3, -1).max(-1))
    monkeypatch.setattr(_params, "machine_bytes", lambda: need - 1)
    with pytest.raises(
        ValueError, match=r"^im2col \(the column matrix\): the 3 x 6 window table"
    ) as err:
        ic.max_pool1d(x, 3, stride=1)
    assert f"would need {need:,} bytes" in str(err.value)
    with pytest.raises(ValueError, match=r"^im2col \(the column matrix\): "):
        ic.max_pool1d_backward(np.ones((2, 3, 6)), x, 3, stride=1)


def test_huge_kernel_on_tiny_input_needs_memory_of_the_input_only(monkeypatch):
    # a 2**21 + 1 kernel with 2**20 padding on length 4: every window covers the whole
    # input, and only 7 taps ever read inside it; a 64 KiB machine must be enough
    k, p = 2**21 + 1, 2**20
    monkeypatch.setattr(_params, "machine_bytes", lambda: 2**16)
    x = np.array([[[0.0, 3.0, 1.0, 2.0]]])
    y, idx = ic.max_pool1d(x, k, stride=1, padding=p, return_indices=True)
    np.testing.assert_array_equal(y, [[[3.0, 3.0, 3.0, 3.0]]])
    np.testing.assert_array_equal(idx, [[[1, 1, 1, 1]]])
    grad = ic.max_pool1d_backward(np.ones((1, 1, 4)), x, k, stride=1, padding=p)
    np.testing.assert_array_equal(grad, [[[0.0, 4.0, 0.0, 0.0]]])

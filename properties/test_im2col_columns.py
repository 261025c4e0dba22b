"""``poolref.im2col.im2col`` and ``col2im``, the public column helpers, against their definition.

Window ``o`` of a plane has tap ``j`` at ``o * stride - padding + j * dilation``
in each dimension; ``im2col`` puts tap ``j`` of channel ``c`` in row
``c * K + j`` and window ``o`` of sample ``n`` in column ``n * P + o``, with
``pad_value`` for taps in the padding. The expected columns are built here
with plain loops, independently of ``im2col_indices``.
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest

from poolref import im2col as ic
from poolref._params import output_size

# (shape (N, C, *S), kernel_size, stride, padding, dilation, ceil_mode)
CASES = [
    ((2, 3, 7), (3,), (2,), (1,), (1,), False),
    ((1, 2, 6), (2,), (2,), (1,), (2,), True),
    ((2, 1, 5, 4), (2, 3), (2, 1), (1, 1), (1, 1), False),
    ((1, 2, 4, 5), (3, 2), (1, 2), (1, 0), (1, 2), True),
    ((1, 1, 3, 4, 3), (2, 2, 1), (1, 2, 1), (1, 0, 0), (2, 1, 1), False),
]


def _expected_columns(x, k, s, p, d, ceil_mode, pad_value):
    n_batch, n_chan, *spatial = x.shape
    out = [
        output_size(L, kk, ss, pp, dd, ceil_mode) for L, kk, ss, pp, dd in zip(spatial, k, s, p, d)
    ]
    n_taps, n_out = math.prod(k), math.prod(out)
    cols = np.empty((n_chan * n_taps, n_batch * n_out), dtype=x.dtype)
    for n, c in itertools.product(range(n_batch), range(n_chan)):
        for o_flat, o in enumerate(itertools.product(*map(range, out))):
            for j_flat, j in enumerate(itertools.product(*map(range, k))):
                pos = tuple(oi * si - pi + ji * di for oi, si, pi, ji, di in zip(o, s, p, j, d))
                inside = all(0 <= q < L for q, L in zip(pos, spatial))
                cols[c * n_taps + j_flat, n * n_out + o_flat] = (
                    x[(n, c, *pos)] if inside else pad_value
                )
    return cols


@pytest.mark.parametrize("case", CASES, ids=str)
def test_im2col_puts_tap_j_of_window_o_at_row_c_k_plus_j_column_n_p_plus_o(case):
    shape, k, s, p, d, ceil_mode = case
    x = np.arange(math.prod(shape), dtype=np.float64).reshape(shape) + 1.0
    cols = ic.im2col(x, k, s, p, d, ceil_mode, pad_value=-7.0)
    expected = _expected_columns(x, k, s, p, d, ceil_mode, -7.0)
    assert cols.dtype == x.dtype and cols.shape == expected.shape
    np.testing.assert_array_equal(cols, expected)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_col2im_is_the_adjoint_of_im2col_with_zero_padding(case):
    shape, k, s, p, d, ceil_mode = case
    rng = np.random.default_rng(0)
    x = rng.integers(-3, 4, shape).astype(np.float64)
    cols_shape = ic.im2col(x, k, s, p, d, ceil_mode).shape
    c = rng.integers(-3, 4, cols_shape).astype(np.float64)
    folded = ic.col2im(c, shape, k, s, p, d, ceil_mode)
    assert folded.shape == shape and folded.dtype == c.dtype
    assert np.sum(folded * x) == np.sum(c * ic.im2col(x, k, s, p, d, ceil_mode, pad_value=0))


def test_im2col_rejects_a_non_array_naming_its_type():
    with pytest.raises(
        TypeError, match=r"^im2col: x must be a numpy\.ndarray, got x of type list$"
    ):
        ic.im2col([[[1.0, 2.0]]], 1)


@pytest.mark.parametrize("shape", [(4, 4), (1, 1, 1, 1, 1, 1)])
def test_im2col_rejects_a_rank_without_one_to_three_spatial_dims_naming_the_shape(shape):
    with pytest.raises(
        ValueError,
        match=r"^im2col: x must have shape .* got x\.shape=" + re.escape(str(shape)) + "$",
    ):
        ic.im2col(np.zeros(shape), 1)


def test_im2col_defaults_are_stride_1_no_padding_no_dilation_floor_mode_zero_pad():
    x = np.arange(2 * 3 * 5, dtype=np.float64).reshape(2, 3, 5)
    np.testing.assert_array_equal(
        ic.im2col(x, 2), _expected_columns(x, (2,), (1,), (0,), (1,), False, 0)
    )


def test_col2im_defaults_are_stride_1_no_padding_no_dilation_floor_mode():
    cols = np.arange(2 * 4, dtype=np.float64).reshape(2, 4)  # K=2 taps, P=4 windows of stride 1
    np.testing.assert_array_equal(
        ic.col2im(cols, (1, 1, 5), 2), ic.col2im(cols, (1, 1, 5), 2, 1, 0, 1, False)
    )
    np.testing.assert_array_equal(ic.col2im(cols, (1, 1, 5), 2)[0, 0], [0.0, 5.0, 7.0, 9.0, 7.0])


def test_col2im_sums_integer_columns_exactly_in_their_own_dtype():
    big = 2**53 + 1  # not a float64: a float64 sum would round it
    cols = np.array([[big, big], [1, 1]], dtype=np.int64)  # K=2 taps, P=2 windows of stride 1
    folded = ic.col2im(cols, (1, 1, 3), 2)
    assert folded.dtype == np.int64
    np.testing.assert_array_equal(folded[0, 0], [big, big + 1, 1])


def test_col2im_keeps_float32_columns_float32():
    cols = np.ones((2, 2), dtype=np.float32)
    assert ic.col2im(cols, (1, 1, 3), 2).dtype == np.float32


def test_col2im_rejects_a_non_array_naming_its_type():
    with pytest.raises(
        TypeError, match=r"^col2im: cols must be a numpy\.ndarray, got cols of type list$"
    ):
        ic.col2im([[1.0]], (1, 1, 1), 1)


def test_col2im_rejects_an_x_shape_without_one_to_three_spatial_dims():
    with pytest.raises(ValueError, match=r"^col2im: x_shape must be .* got x_shape=\(1, 1\)$"):
        ic.col2im(np.ones((1, 1)), (1, 1), 1)


def test_col2im_rejects_columns_of_the_wrong_shape_naming_both_shapes():
    text = "col2im: cols.shape=(2, 3) does not match (2, 2) for x_shape=(1, 1, 3)"
    with pytest.raises(ValueError, match="^" + re.escape(text) + "$"):
        ic.col2im(np.ones((2, 3)), (1, 1, 3), 2)


def test_im2col_indices_defaults_are_stride_1_no_padding_no_dilation_floor_mode():
    index, out = ic.im2col_indices((5,), 2)
    assert out == (4,)
    np.testing.assert_array_equal(index, [[0, 1, 2, 3], [1, 2, 3, 4]])


def test_output_length_defaults_are_stride_1_no_padding_no_dilation_floor_mode():
    assert ic.output_length(6, 2) == 5


def test_a_one_tuple_parameter_applies_to_every_dimension():
    np.testing.assert_array_equal(
        ic.im2col_indices((4, 4), (2,))[0], ic.im2col_indices((4, 4), 2)[0]
    )


@pytest.mark.parametrize("name", ["kernel_size", "stride", "dilation"])
def test_im2col_indices_names_the_bad_parameter_and_itself(name):
    kwargs = {name: 0}
    with pytest.raises(
        ValueError, match=rf"^im2col_indices: {name} must be >= 1 in every dimension, got {name}=0$"
    ):
        ic.im2col_indices((4,), **{"kernel_size": 2, **kwargs})


def test_im2col_indices_names_a_negative_padding():
    with pytest.raises(
        ValueError,
        match=r"^im2col_indices: padding must be >= 0 in every dimension, got padding=-1$",
    ):
        ic.im2col_indices((4,), 2, padding=-1)


@pytest.mark.parametrize("spatial", [(), (4, 0), (4, 2.0)], ids=str)
def test_im2col_indices_rejects_a_spatial_shape_that_is_not_positive_ints(spatial):
    text = f"im2col_indices: spatial must be a non-empty tuple of positive ints, got spatial={spatial!r}"
    with pytest.raises(ValueError, match="^" + re.escape(text) + "$"):
        ic.im2col_indices(spatial, 1)


def test_im2col_indices_rejects_a_kernel_larger_than_the_input():
    with pytest.raises(
        ValueError, match=r"^im2col_indices: output size \(0,\) is too small for spatial=\(2,\)"
    ):
        ic.im2col_indices((2,), 3)


def test_im2col_casts_a_float_pad_value_to_an_integer_input():
    x = np.array([[[5, 6]]], dtype=np.int8)
    np.testing.assert_array_equal(ic.im2col(x, 2, 2, 1, pad_value=-1.0), [[-1, 6], [5, -1]])


def test_im2col_helpers_default_to_floor_mode_and_zero_padding_value():
    assert ic.im2col_indices((5,), 2, 2)[1] == (2,)  # ceil mode would give 3 windows
    x = np.arange(1.0, 6.0).reshape(1, 1, 5)
    np.testing.assert_array_equal(ic.im2col(x, 2, 2, 1), [[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]])
    assert ic.col2im(np.ones((2, 2)), (1, 1, 5), 2, 2).shape == (1, 1, 5)


def test_col2im_sums_float32_columns_in_float64_then_casts_once():
    cols = np.zeros(
        (3, 3), dtype=np.float32
    )  # k=3, s=1 on length 5: element 2 is read by all 3 windows
    cols[2, 0], cols[1, 1], cols[0, 2] = (
        2.0**24,
        1.0,
        1.0,
    )  # float32: 2**24 + 1 rounds back to 2**24
    assert ic.col2im(cols, (1, 1, 5), 3)[0, 0, 2] == np.float32(2.0**24 + 2)


def test_im2col_defaults_to_floor_mode_dropping_a_partial_last_window():
    x = np.arange(1.0, 6.0).reshape(
        1, 1, 5
    )  # k=2, s=2 on length 5: ceil mode would add window [5, pad]
    np.testing.assert_array_equal(ic.im2col(x, 2, 2), [[1.0, 3.0], [2.0, 4.0]])

"""Metamorphic relations: transform the input, predict the change in the output.

The transformations are exact on the generated values (small integers, powers
of two), so every relation is checked with exact equality.
"""

from __future__ import annotations

import _assertions as pa
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from poolref import strategies as ps
from poolref._params import lowest

impls = pytest.mark.parametrize("impl", pa.IMPLEMENTATIONS, ids=pa.impl_id)
FLOATS = ("float64", "float32", "float16")
SMALL = {"max_elements": 128}
# Small values (|x| <= 256), so x + c and 2**e * x stay exact in every float dtype.
SMALL_VALUES = ("distinct", "ties", "nan", "inf", "signed_zero")


def _with_params(case, **changes):
    return case._replace(**changes)


@impls
@given(
    case=ps.pool_cases(
        dtypes=(*FLOATS, "int64", "int32", "int16"),
        profiles=("distinct", "ties", "nan", "inf"),
        **SMALL,
    ),
    c=st.integers(-100, 100),
)
def test_adding_a_constant_commutes(impl, case, c):
    y, idx = pa.pool(impl, case, return_indices=True)
    shifted = (case.x + case.x.dtype.type(c)).astype(case.x.dtype)
    y2, idx2 = pa.pool(impl, case, x=shifted, return_indices=True)
    expected = np.where(idx == -1, lowest(y.dtype), y + y.dtype.type(c)).astype(y.dtype)
    pa.assert_pool_equal(y2, expected, case=case._replace(x=shifted), name="y")
    pa.assert_pool_equal(
        idx2, idx, case=case._replace(x=shifted), name="indices", return_indices=True
    )


@impls
@given(
    case=ps.pool_cases(dtypes=FLOATS, profiles=SMALL_VALUES, **SMALL),
    exponent=st.integers(-3, 3),
)
def test_scaling_by_a_positive_power_of_two_commutes(impl, case, exponent):
    a = case.x.dtype.type(2.0**exponent)
    y, idx = pa.pool(impl, case, return_indices=True)
    scaled = case.x * a
    y2, idx2 = pa.pool(impl, case, x=scaled, return_indices=True)
    pa.assert_pool_equal(y2, y * a, case=case._replace(x=scaled), name="y")
    pa.assert_pool_equal(
        idx2, idx, case=case._replace(x=scaled), name="indices", return_indices=True
    )


@impls
@given(
    case=ps.pool_cases(profiles=("distinct", "ties", "inf", "negative", "signed_zero"), **SMALL),
    data=st.data(),
)
def test_pooling_is_monotone(impl, case, data):
    # x <= x2 elementwise (x2 = max(x, z) for another NaN-free array z) => pool(x) <= pool(x2)
    z = data.draw(
        hnp.arrays(
            case.x.dtype,
            case.x.shape,
            elements=ps.values(case.x.dtype, profile="ties"),
            fill=st.nothing(),
        ),
        label="z",
    )
    larger = np.maximum(case.x, z)
    y = pa.pool(impl, case)
    y2 = pa.pool(impl, case, x=larger)
    pa.check(
        np.all(y <= y2),
        f"pool(x) <= pool(max(x, z)) fails at {np.argwhere(~(y <= y2))[:1].tolist()}: "
        f"{y[~(y <= y2)][:1]} > {y2[~(y <= y2)][:1]}",
        case=case,
    )


@impls
@given(case=ps.pool_cases(profiles=SMALL_VALUES, **SMALL))
def test_strictly_increasing_function_keeps_indices(impl, case):
    # f(v) = 3 * v + 7 in float64 (floats) or int64 (ints): strictly increasing and exact
    # here, NaN stays NaN and -inf stays -inf; the dtype changes too.
    wide = np.float64 if case.x.dtype.kind == "f" else np.int64
    transformed = case.x.astype(wide) * 3 + 7
    _, idx = pa.pool(impl, case, return_indices=True)
    _, idx2 = pa.pool(impl, case, x=transformed, return_indices=True)
    pa.assert_pool_equal(
        idx2, idx, case=case._replace(x=transformed), name="indices", return_indices=True
    )


@impls
@given(case=ps.pool_cases(batched=True, **SMALL), data=st.data())
def test_permuting_the_batch_commutes(impl, case, data):
    perm = np.array(data.draw(st.permutations(range(case.x.shape[0])), label="perm"), dtype=np.intp)
    y, idx = pa.pool(impl, case, return_indices=True)
    y2, idx2 = pa.pool(impl, case, x=case.x[perm], return_indices=True)
    pa.assert_pool_equal(y2, y[perm], case=case._replace(x=case.x[perm]), name="y")
    pa.assert_pool_equal(
        idx2, idx[perm], case=case._replace(x=case.x[perm]), name="indices", return_indices=True
    )


@impls
@given(case=ps.pool_cases(**SMALL), data=st.data())
def test_permuting_the_channels_commutes(impl, case, data):
    axis = case.x.ndim - case.nd - 1
    perm = np.array(
        data.draw(st.permutations(range(case.x.shape[axis])), label="perm"), dtype=np.intp
    )
    permuted = np.take(case.x, perm, axis=axis)
    y, idx = pa.pool(impl, case, return_indices=True)
    y2, idx2 = pa.pool(impl, case, x=permuted, return_indices=True)
    pa.assert_pool_equal(y2, np.take(y, perm, axis=axis), case=case._replace(x=permuted), name="y")
    pa.assert_pool_equal(
        idx2,
        np.take(idx, perm, axis=axis),
        case=case._replace(x=permuted),
        name="indices",
        return_indices=True,
    )


def _pool_along_w_then_h(impl, case):
    """2-D pooling as two 1-D poolings: along W (rows are a batch), then along H."""
    x = pa.batched(case.x, 2)
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = (
        case.kernel_size,
        case.stride,
        case.padding,
        case.dilation,
    )
    y1, i1 = impl.max_pool1d(
        x.reshape(n, c * h, w), kw, sw, pw, dw, case.ceil_mode, return_indices=True
    )
    ow = y1.shape[-1]
    y1 = y1.reshape(n, c, h, ow)
    i1 = i1.reshape(n, c, h, ow)
    by_column = np.ascontiguousarray(y1.transpose(0, 1, 3, 2)).reshape(n, c * ow, h)
    y2, i2 = impl.max_pool1d(by_column, kh, sh, ph, dh, case.ceil_mode, return_indices=True)
    oh = y2.shape[-1]
    y2 = y2.reshape(n, c, ow, oh).transpose(0, 1, 3, 2)
    rows = i2.reshape(n, c, ow, oh).transpose(0, 1, 3, 2)  # (n, c, oh, ow): the row chosen
    cols = np.take_along_axis(i1, np.maximum(rows, 0), axis=2)  # the column chosen in that row
    idx = np.where((rows == -1) | (cols == -1), -1, rows * w + cols)
    if not case.batched:
        return y2[0], idx[0]
    return y2, idx


@impls
@given(case=ps.pool_cases(ndims=(2,), **SMALL))
def test_2d_values_equal_1d_along_w_then_1d_along_h(impl, case):
    # Holds for every parameter set (padding, dilation, ceil_mode included), with NaN and
    # signed zeros: each 2-D window is the product of a W-window and an H-window.
    y, _ = pa.pool(impl, case, return_indices=True)
    y_sep, _ = _pool_along_w_then_h(impl, case)
    pa.assert_pool_equal(y_sep, y, case=case, name="y (separable)")


@impls
@given(case=ps.pool_cases(ndims=(2,), **SMALL))
def test_2d_indices_compose_from_1d_indices_when_no_window_is_empty(impl, case):
    # First maximum along W, then first row holding the maximum = first in row-major order;
    # last NaN likewise. With an empty W-window the H-pass sees the lowest value instead of
    # "nothing", so indices only compose when no 2-D window is empty.
    _, idx = pa.pool(impl, case, return_indices=True)
    _, idx_sep = _pool_along_w_then_h(impl, case)
    if not pa.empty_windows(idx):
        pa.assert_pool_equal(
            idx_sep, idx, case=case, name="indices (separable)", return_indices=True
        )


@impls
@given(case=ps.pool_cases(batched=False, **SMALL))
def test_unbatched_equals_batched_with_one_sample(impl, case):
    y, idx = pa.pool(impl, case, return_indices=True)
    y_b, idx_b = pa.pool(impl, case, x=case.x[np.newaxis], return_indices=True)
    pa.assert_pool_equal(y_b[0], y, case=case, name="y")
    pa.assert_pool_equal(idx_b[0], idx, case=case, name="indices", return_indices=True)


def _lift(case, position):
    """The same pooling with a size-1 spatial axis at ``position`` (kernel 1, stride 1)."""
    axis = case.x.ndim - case.nd + position
    x = np.expand_dims(case.x, axis)

    def put(values, one):
        return (*values[:position], one, *values[position:])

    return case._replace(
        x=x,
        kernel_size=put(case.kernel_size, 1),
        stride=put(case.stride, 1),
        padding=put(case.padding, 0),
        dilation=put(case.dilation, 1),
    )


@impls
@given(case=ps.pool_cases(ndims=(1,), **SMALL))
def test_1d_equals_2d_on_a_trailing_unit_axis(impl, case):
    y, idx = pa.pool(impl, case, return_indices=True)
    lifted = _lift(case, 1)  # (N, C, L, 1) with kernel (k, 1)
    y2, idx2 = pa.pool(impl, lifted, return_indices=True)
    pa.assert_pool_equal(y2[..., 0], y, case=lifted, name="y")
    pa.assert_pool_equal(idx2[..., 0], idx, case=lifted, name="indices", return_indices=True)


@impls
@given(case=ps.pool_cases(ndims=(2,), **SMALL))
def test_2d_equals_3d_on_a_leading_unit_axis(impl, case):
    y, idx = pa.pool(impl, case, return_indices=True)
    lifted = _lift(case, 0)  # (N, C, 1, H, W) with kernel (1, kh, kw)
    y2, idx2 = pa.pool(impl, lifted, return_indices=True)
    axis = lifted.x.ndim - 3
    pa.assert_pool_equal(y2.squeeze(axis), y, case=lifted, name="y")
    pa.assert_pool_equal(idx2.squeeze(axis), idx, case=lifted, name="indices", return_indices=True)

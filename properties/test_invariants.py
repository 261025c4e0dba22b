"""Invariants of one forward call, checked against the definition of a window.

The windows come from ``_assertions.window_taps`` (taps ``o*s - p + j*d``,
written out in the test helpers), never from an implementation.
"""

from __future__ import annotations

import _assertions as pa
import numpy as np
import pytest
from hypothesis import given

from poolref import strategies as ps
from poolref._params import lowest

impls = pytest.mark.parametrize("impl", pa.IMPLEMENTATIONS, ids=pa.impl_id)
SMALL = {"max_elements": 128}


@impls
@given(case=ps.pool_cases(**SMALL))
def test_output_shape_matches_formula(impl, case):
    y, idx = pa.pool(impl, case, return_indices=True)
    expected = (*case.x.shape[: -case.nd], *pa.output_sizes(case))
    pa.check(y.shape == expected, f"y.shape={y.shape}, but should be {expected}", case=case)
    pa.check(
        idx.shape == expected, f"indices.shape={idx.shape}, but should be {expected}", case=case
    )


@impls
@given(case=ps.pool_cases(**SMALL))
def test_output_keeps_dtype_and_indices_are_int64(impl, case):
    y, idx = pa.pool(impl, case, return_indices=True)
    pa.check(y.dtype == case.x.dtype, f"y.dtype={y.dtype}, but should be {case.x.dtype}", case=case)
    pa.check(idx.dtype == np.int64, f"indices.dtype={idx.dtype}, but should be int64", case=case)


@impls
@pa.with_hard_cases()
@given(case=ps.pool_cases(**SMALL))
def test_indices_point_inside_their_window(impl, case):
    _, idx = pa.pool(impl, case, return_indices=True)
    flat, valid = pa.window_taps(case)
    ib = pa.batched(idx, case.nd)
    # idx[n, c, o] must be one of the valid taps of window o (or -1 if there is none)
    hits = (ib[..., None] == flat) & valid
    ok = hits.any(axis=-1) | ((ib == -1) & ~valid.any(axis=-1))
    if not ok.all():
        where = tuple(np.argwhere(~ok)[0])
        o = where[2:]
        taps = flat[o][valid[o]].tolist()
        pa.fail(
            f"indices{list(where)}={ib[where]} is not a valid tap of its window {taps}",
            case=case,
            return_indices=True,
        )


@impls
@pa.with_hard_cases()
@given(case=ps.pool_cases(**SMALL))
def test_values_equal_input_gathered_at_indices(impl, case):
    y, idx = pa.pool(impl, case, return_indices=True)
    gathered = pa.gather(case.x, idx, case.nd)
    expected = np.where(idx == -1, lowest(case.x.dtype), gathered).astype(case.x.dtype)
    pa.assert_pool_equal(y, expected, case=case, name="y", return_indices=True)


@impls
@pa.with_hard_cases()
@given(case=ps.pool_cases(**SMALL))
def test_output_is_at_least_every_element_of_its_window(impl, case):
    y = pa.pool(impl, case)
    values, valid, _ = pa.window_values(case)
    yb = pa.batched(y, case.nd)[..., None]
    with np.errstate(invalid="ignore"):
        # NaN-aware: a NaN output dominates everything; a NaN element forces a NaN output
        dominated = (yb >= values) | np.isnan(yb) if case.x.dtype.kind == "f" else yb >= values
        if case.x.dtype.kind == "f":
            dominated &= ~(np.isnan(values) & ~np.isnan(yb))
    ok = (dominated | ~valid).all(axis=-1)
    if not ok.all():
        where = tuple(np.argwhere(~ok)[0])
        pa.fail(
            f"y{list(where)}={yb[where][0]!r} is below (or not NaN next to) an element of its "
            f"window {values[where][valid[where[2:]]].tolist()}",
            case=case,
        )


@impls
@pa.with_hard_cases(lambda c: not (pa.is_float(c) and np.isnan(c.x).any()))
@given(case=ps.pool_cases(profiles=("ties", "signed_zero", "inf", "negative"), **SMALL))
def test_ties_select_the_first_maximum_in_window_order(impl, case):
    y, idx = pa.pool(impl, case, return_indices=True)
    values, valid, flat = pa.window_values(case)
    yb = pa.batched(y, case.nd)[..., None]
    # first valid tap whose value equals the output (NaN-free profiles)
    candidates = valid & (values == yb)
    first = np.where(
        candidates.any(-1),
        np.take_along_axis(
            np.broadcast_to(flat, values.shape), candidates.argmax(-1)[..., None], -1
        )[..., 0],
        -1,
    )
    pa.assert_pool_equal(
        pa.batched(idx, case.nd), first, case=case, name="indices", return_indices=True
    )


@impls
@pa.with_hard_cases(pa.is_float)
@given(case=ps.pool_cases(dtypes=("float64", "float32", "float16"), profiles=("nan",), **SMALL))
def test_windows_with_nan_select_their_last_nan(impl, case):
    y, idx = pa.pool(impl, case, return_indices=True)
    values, valid, flat = pa.window_values(case)
    nans = valid & np.isnan(values)
    has_nan = nans.any(-1)
    last = flat.shape[-1] - 1 - nans[..., ::-1].argmax(-1)
    last_index = np.take_along_axis(np.broadcast_to(flat, values.shape), last[..., None], -1)[
        ..., 0
    ]
    ib = pa.batched(idx, case.nd)
    yb = pa.batched(y, case.nd)
    pa.check(
        np.isnan(yb[has_nan]).all(),
        "a window holding NaN has a non-NaN output",
        case=case,
    )
    pa.assert_pool_equal(
        ib[has_nan], last_index[has_nan], case=case, name="indices[has_nan]", return_indices=True
    )


@impls
@pa.with_hard_cases()
@given(case=ps.pool_cases(**SMALL))
def test_empty_windows_give_lowest_value_and_index_minus_one(impl, case):
    y, idx = pa.pool(impl, case, return_indices=True)
    _, valid = pa.window_taps(case)
    empty = np.broadcast_to(~valid.any(-1), pa.batched(idx, case.nd).shape)
    ib = pa.batched(idx, case.nd)
    yb = pa.batched(y, case.nd)
    pa.assert_pool_equal(ib == -1, empty, case=case, name="indices == -1", return_indices=True)
    expected = np.full(yb[empty].shape, lowest(case.x.dtype), dtype=case.x.dtype)
    pa.assert_pool_equal(yb[empty], expected, case=case, name="y[empty]")


@impls
@given(
    case=ps.pool_cases(max_kernel=1, max_stride=1, padding=False, dilation=False, **SMALL),
)
def test_unit_kernel_is_identity(impl, case):
    y, idx = pa.pool(impl, case, return_indices=True)
    pa.assert_pool_equal(y, case.x, case=case, name="y")
    plane = int(np.prod(case.x.shape[-case.nd :]))
    expected = np.broadcast_to(np.arange(plane).reshape(case.x.shape[-case.nd :]), case.x.shape)
    pa.assert_pool_equal(idx, expected, case=case, name="indices", return_indices=True)


@impls
@pa.with_hard_cases()
@given(case=ps.pool_cases(**SMALL))
def test_return_indices_does_not_change_values(impl, case):
    y_only = pa.pool(impl, case)
    y, _ = pa.pool(impl, case, return_indices=True)
    pa.assert_pool_equal(y_only, y, case=case, name="y")

"""max_unpool: a partial inverse of the forward, plus its output-size rule."""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import _assertions as pa
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from poolref import strategies as ps

impls = pytest.mark.parametrize("impl", pa.IMPLEMENTATIONS, ids=pa.impl_id)
SMALL = {"max_elements": 128}


@impls
@given(case=ps.pool_cases(dilation=False, **SMALL))
def test_gathering_unpool_at_indices_recovers_pooled_values(impl, case):
    y, idx = pa.pool(impl, case, return_indices=True)
    out = pa.unpool(impl, case.nd)(y, idx, **pa.unpool_kwargs(case))
    recovered = pa.gather(out, idx, case.nd)
    pa.assert_pool_equal(
        recovered, y, case=case, name="unpooled gathered at indices", func=f"max_unpool{case.nd}d"
    )


@impls
@given(case=ps.pool_cases(dilation=False, **SMALL))
def test_unpool_of_pool_keeps_each_maximum_in_place_and_zeros_elsewhere(impl, case):
    _, idx = pa.pool(impl, case, return_indices=True)
    y = pa.pool(impl, case)
    out = pa.unpool(impl, case.nd)(y, idx, **pa.unpool_kwargs(case))
    ib = pa.batched(idx, case.nd)
    xb = pa.batched(case.x, case.nd)
    selected = np.zeros(xb.shape, dtype=bool).reshape(*xb.shape[:2], -1)
    for n, c in np.ndindex(*ib.shape[:2]):
        chosen = ib[n, c].ravel()
        selected[n, c, chosen[chosen != -1]] = True
    expected = np.where(selected.reshape(xb.shape), xb, np.zeros((), dtype=xb.dtype)).reshape(
        case.x.shape
    )
    pa.assert_pool_equal(out, expected, case=case, name="unpooled", func=f"max_unpool{case.nd}d")


class UnpoolCase(NamedTuple):
    """Direct unpool input: values, indices (valid for ``out_spatial``) and parameters."""

    y: np.ndarray
    indices: np.ndarray
    kernel_size: tuple
    stride: tuple
    padding: tuple
    default: tuple  # (in - 1) * s - 2p + k
    out_spatial: tuple  # the size the indices were drawn for
    output_size: tuple | None  # None: use the default


@st.composite
def unpool_cases(draw, *, use_default=None):
    nd = draw(st.integers(1, 3))
    params = draw(ps.pool_params(nd, dilation=False, ceil_mode=False))
    k, s, p = params["kernel_size"], params["stride"], params["padding"]
    # the default size must be >= 1: one input element suffices unless k == 2p
    in_spatial = tuple(draw(st.integers(1 if ki - 2 * pi >= 1 else 2, 3)) for ki, pi in zip(k, p))
    default = tuple((i - 1) * si - 2 * pi + ki for i, ki, si, pi in zip(in_spatial, k, s, p))
    explicit = not draw(st.booleans()) if use_default is None else not use_default
    if explicit:
        out_spatial = tuple(
            draw(st.integers(max(dflt - si, 0) + 1, dflt + si - 1)) for dflt, si in zip(default, s)
        )
    else:
        out_spatial = default
    lead = draw(st.sampled_from([(1,), (2,), (1, 1), (2, 3)]))
    shape = (*lead, *in_spatial)
    dtype = draw(ps.dtypes())
    y = draw(
        hnp.arrays(dtype, shape, elements=ps.values(dtype, profile="distinct"), fill=st.nothing())
    )
    plane = math.prod(out_spatial)
    index_elements = st.integers(-1, plane - 1)
    # duplicates allowed (and likely in small planes); -1 marks an empty window
    indices = draw(hnp.arrays(np.int64, shape, elements=index_elements, fill=st.nothing()))
    return UnpoolCase(y, indices, k, s, p, default, out_spatial, out_spatial if explicit else None)


def _call(impl, u: UnpoolCase, **changes):
    kw = {
        "kernel_size": u.kernel_size,
        "stride": u.stride,
        "padding": u.padding,
        "output_size": u.output_size,
    }
    kw.update(changes)
    return pa.unpool(impl, len(u.kernel_size))(u.y, u.indices, **kw)


def _loop_unpool(u: UnpoolCase) -> np.ndarray:
    """The definition: zeros, then write in row-major order of y (a later write wins)."""
    nd = len(u.kernel_size)
    yb = pa.batched(u.y, nd)
    ib = pa.batched(u.indices, nd)
    out = np.zeros((*yb.shape[:2], math.prod(u.out_spatial)), dtype=u.y.dtype)
    for pos in itertools.product(*(range(n) for n in yb.shape)):
        i = int(ib[pos])
        if i != -1:
            out[pos[0], pos[1], i] = yb[pos]
    return out.reshape(*u.y.shape[: u.y.ndim - nd], *u.out_spatial)


@impls
@given(u=unpool_cases(use_default=True))
def test_unpool_default_output_size_is_in_minus_one_times_stride_minus_2_padding_plus_kernel(
    impl, u
):
    out = _call(impl, u)
    expected = (*u.y.shape[: u.y.ndim - len(u.kernel_size)], *u.default)
    assert out.shape == expected, f"out.shape={out.shape}, but should be {expected} for {u}"


@impls
@given(u=unpool_cases(use_default=False))
def test_unpool_accepts_every_output_size_within_one_stride_of_the_default(impl, u):
    out = _call(impl, u)
    expected = (*u.y.shape[: u.y.ndim - len(u.kernel_size)], *u.out_spatial)
    assert out.shape == expected, f"out.shape={out.shape}, but should be {expected} for {u}"


@impls
@given(u=unpool_cases(use_default=False))
def test_unpool_output_size_may_include_batch_and_channels(impl, u):
    full = (*u.y.shape[: u.y.ndim - len(u.kernel_size)], *u.out_spatial)
    np.testing.assert_array_equal(_call(impl, u, output_size=full), _call(impl, u))


@impls
@given(u=unpool_cases())
def test_unpool_scatters_values_and_a_later_duplicate_index_wins(impl, u):
    out = _call(impl, u)
    expected = _loop_unpool(u)
    assert out.dtype == u.y.dtype, f"out.dtype={out.dtype}, but should be {u.y.dtype}"
    np.testing.assert_array_equal(out, expected, err_msg=f"for {u}", strict=True)

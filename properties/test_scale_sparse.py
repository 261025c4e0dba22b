"""The sparse scale cases: a plane above 2^24 elements judged without pooling it (issue 22).

A constant plane with planted maxima and one lowest window has an arithmetic expectation; it must
equal :mod:`poolref.fast`'s on every geometry the sparse cases allow, and a kernel that keeps its
argmax in float32 must be caught by it in seconds, without shrinking (a smaller plane is below
2^24).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

import poolref.fast
from poolref.testing import Behaviour, Candidate, ScaleSpec, Support
from poolref.testing import _scale_cases as cases
from poolref.testing import _scale_check as chk
from poolref.testing import _scale_sparse as sp

SMALL = [
    ScaleSpec((1, 2, 50), (3,), (3,), sparse=True),
    ScaleSpec((2, 1, 13, 17), (2, 2), (3, 2), sparse=True, dtype="float64"),
    ScaleSpec((1, 1, 7, 8, 11), (2, 3, 2), (2, 3, 4), sparse=True, dtype="int8"),
    ScaleSpec((1, 1, 9, 9), (3, 3), (3, 3), sparse=True, values="positive"),
]


@pytest.mark.parametrize("spec", SMALL, ids=lambda s: f"{s.shape}-k{s.kernel_size}-s{s.stride}")
def test_the_arithmetic_expectation_is_fast_s(spec):
    x = spec.build()
    assert x.dtype == np.dtype(spec.dtype) and x.shape == spec.shape
    assert (x == sp.TOP).sum() == len(sp.plants(spec)) * spec.shape[0] * spec.shape[1] >= 2
    fast_nd = getattr(poolref.fast, f"max_pool{spec.nd}d")
    y, i = fast_nd(x, *spec.kargs(), return_indices=True)
    y_exp, i_exp = sp.expected(spec)
    assert np.array_equal(y, y_exp) and y.dtype == y_exp.dtype
    assert np.array_equal(i, i_exp)
    if x.dtype.kind == "f":
        g = np.random.default_rng(1).standard_normal(y.shape).astype(x.dtype)
        backward = getattr(poolref.fast, f"max_pool{spec.nd}d_backward")
        assert np.array_equal(sp.expected_backward(spec, g, i_exp), backward(g, x, *spec.kargs()))


def test_the_lowest_window_is_planted_only_where_the_values_allow_it():
    spec = SMALL[0]
    assert np.isneginf(spec.build()).sum() == 2 * 3  # one 3-wide window in each of 2 planes
    assert not np.isneginf(sp.build(dataclasses.replace(spec, values="finite"))).any()


@pytest.mark.parametrize(
    "change",
    [{"padding": (1,)}, {"dilation": (2,)}, {"ceil_mode": True}, {"stride": (2,)}],
    ids=["padding", "dilation", "ceil_mode", "overlapping"],
)
def test_a_sparse_case_needs_disjoint_windows_inside_the_input(change):
    spec = dataclasses.replace(SMALL[0], **change)
    with pytest.raises(ValueError, match="sparse scale case needs"):
        sp.expected(spec)


def _float32_index(x, k, s, p, d, ceil_mode):
    y, i = getattr(poolref.fast, f"max_pool{len(k)}d")(
        x, k, s, p, d, ceil_mode, return_indices=True
    )
    return y, i.astype(np.float32).astype(np.int64)


def test_a_float32_index_is_caught_on_the_2d_plane_in_seconds_and_not_shrunk():
    specs, _ = cases.scale_specs(2, Support(ndims=(2,)), Behaviour())
    spec = next(s for s in specs if s.sparse)
    assert np.prod(spec.spatial) > 2**24 and spec.elements <= cases.DEFAULT_MAX_ELEMENTS
    cand = Candidate(_float32_index, support=Support(ndims=(2,), backward_dtypes=()))
    start = time.perf_counter()
    with pytest.raises(chk.ScaleFailure) as info:
        chk.check_case(cand, spec, spec.build())
    assert info.value.check == "indices" and "expected 16777217" in info.value.detail
    assert chk.shrink(cand, spec, info.value) == (spec, info.value)
    assert time.perf_counter() - start < 30
    exact = Candidate(
        lambda x, *a: poolref.fast.max_pool2d(x, *a, return_indices=True),
        support=Support(ndims=(2,), backward_dtypes=()),
    )
    assert "plane > 2^24" in chk.check_case(exact, spec, spec.build())


def _exact(x, *a):
    return getattr(poolref.fast, f"max_pool{x.ndim - 2}d")(x, *a, return_indices=True)


def _backward(g, x, *a):
    return getattr(poolref.fast, f"max_pool{x.ndim - 2}d_backward")(g, x, *a)


def _stray(g, x, *a):
    grad = _backward(g, x, *a)
    grad.reshape(-1)[-1] = 1.0  # right at the indices, but a gradient where no window's index is
    return grad


def _rounded(g, x, *a):
    return _backward(g.astype(np.float32).astype(g.dtype), x, *a)  # float32 on the way


@pytest.mark.parametrize(
    ("backward", "where"), [(_stray, "the last element"), (_rounded, "a window's index")]
)
def test_a_wrong_sparse_gradient_is_caught_where_it_is(backward, where):
    spec = ScaleSpec((1, 1, 7, 32), (3, 3), (3, 3), dtype="float64", sparse=True)
    support = Support(ndims=(2,), dtypes=("float64",), backward_dtypes=("float64",))
    chk.check_case(Candidate(_exact, _backward, support), spec, spec.build())
    with pytest.raises(chk.ScaleFailure) as info:
        chk.check_case(Candidate(_exact, backward, support), spec, spec.build())
    assert info.value.check == "gradient"
    if where == "the last element":
        assert info.value.where == (0, 0, 6, 31) and "expected 0.0" in info.value.detail
    else:
        _, index = sp.expected(spec)
        assert np.ravel_multi_index(info.value.where[2:], spec.spatial) in index


def test_the_self_check_leaves_the_sparse_planes_to_a_larger_cap():
    from poolref._cli.selfcheck import SELF_MAX_ELEMENTS

    for nd in (1, 2, 3):
        specs, skipped = cases.scale_specs(
            nd, Support(), Behaviour(), max_elements=SELF_MAX_ELEMENTS
        )
        assert not any(s.sparse for s in specs) and len(skipped) == 1
        assert len(specs) == len(cases.scale_specs(nd, Support(), Behaviour())[0]) - 1


def test_a_slow_candidate_leaves_the_sparse_plane_out_within_the_time_cap():
    from poolref.testing._scale import _projected

    spec = next(s for s in cases.scale_specs(2, Support(), Behaviour())[0] if s.sparse)
    dense = cases.scale_specs(2, Support(), Behaviour())[0][0]
    assert _projected(5.0, 3_600_000, spec) < 30  # torch's rate: 5 s for the pooled cases
    assert _projected(20.0, 3_600_000, spec) > 30  # 4x slower: 23 s more for the sparse plane
    assert _projected(20.0, 3_600_000, dense) == 20.0  # a pooled case runs while time is left
    assert _projected(0.1, 0, spec) == 0.1

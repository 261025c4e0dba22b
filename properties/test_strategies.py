"""Meta-tests: the public strategies generate what they promise (array-api-tests' meta_tests)."""

from __future__ import annotations

import itertools
import subprocess
import sys

import _assertions as pa
import numpy as np
import pytest
from hypothesis import find, given
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from poolref import _params, _strategy_args
from poolref import strategies as ps
from poolref.strategies import PoolCase


@given(ps.pool_params(2, max_kernel=4, max_stride=2, max_dilation=3))
def test_pool_params_are_valid_and_within_bounds(params):
    normalised = _params.normalize_pool_args(2, **params, func="test")
    assert normalised.as_kwargs() == params
    assert max(params["kernel_size"]) <= 4
    assert max(params["stride"]) <= 2
    assert max(params["dilation"]) <= 3
    assert all(p <= k // 2 for p, k in zip(params["padding"], params["kernel_size"]))


@given(ps.pool_params(3, padding=False, dilation=False, ceil_mode=True))
def test_pool_params_respect_disabled_options(params):
    assert params["padding"] == (0, 0, 0)
    assert params["dilation"] == (1, 1, 1)
    assert params["ceil_mode"] is True


@given(
    ps.pool_cases(
        dtypes=("float32", "int8"), layouts=("F", "strided"), max_side=5, max_elements=100
    )
)
def test_pool_cases_are_valid_calls_within_their_bounds(case):
    assert isinstance(case, PoolCase)
    assert case.x.dtype in (np.float32, np.int8)
    assert case.x.size <= 100
    assert max(case.x.shape[-case.nd :]) <= 5
    assert case.x.ndim == case.nd + (2 if case.batched else 1)
    params = _params.normalize_pool_args(case.nd, **case.kwargs(), func="test")
    assert min(_params.output_shape(case.x.shape[-case.nd :], params)) >= 1
    assert pa.output_sizes(case) == _params.output_shape(case.x.shape[-case.nd :], params)


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_smallest_side_is_the_smallest_length_with_an_output(ceil_mode):
    for k, s, d in itertools.product(range(1, 6), range(1, 5), range(1, 4)):
        for p in range(k // 2 + 1):
            smallest = _strategy_args.min_length(k, s, p, d, ceil_mode)
            assert _params.output_size(smallest, k, s, p, d, ceil_mode) >= 1
            if smallest > 1:
                assert _params.output_size(smallest - 1, k, s, p, d, ceil_mode) < 1, (k, s, p, d)


def test_ceil_mode_cases_include_windows_that_hang_over_the_end():
    # L + 2p < eff is valid in ceil mode (one output): the strategy must reach it
    def hangs_over(case):
        (length,), (k,), (p,), (d,) = (
            case.x.shape[-1:],
            case.kernel_size,
            case.padding,
            case.dilation,
        )
        return length + 2 * p < d * (k - 1) + 1

    found = find(ps.pool_cases(ndims=(1,), ceil_mode=True), hangs_over)
    assert pa.output_sizes(found) == (1,)


@pytest.mark.parametrize("layout", ps.LAYOUTS)
@given(case=ps.pool_cases(layouts=("C",), min_side=2, max_side=4))
def test_layouts_keep_values_and_change_memory_order(layout, case):
    x = ps.with_layout(case.x, layout, channel_axis=case.x.ndim - case.nd - 1)
    pa.assert_pool_equal(x, case.x, case=case, name=f"with_layout(x, {layout!r})")
    assert not np.shares_memory(x, case.x)
    if layout == "C":
        assert x.flags.c_contiguous
    elif layout == "F":
        assert x.flags.f_contiguous
    elif layout == "strided":
        assert not (x.flags.c_contiguous or x.flags.f_contiguous)
        assert x.base is not None and x.base.size == x.size * 2**x.ndim
    elif layout == "reversed":
        assert all(stride < 0 for stride in x.strides)
    else:  # transposed: channels have the smallest stride
        axis = x.ndim - case.nd - 1
        assert x.strides[axis] == x.itemsize


@given(ps.pool_cases(profiles=("distinct",), max_elements=512))
def test_distinct_profile_has_no_ties(case):
    flat = case.x.ravel()
    assert np.unique(flat).size == flat.size


def test_distinct_grid_goes_beyond_float16_exact_integers():
    small = ps.distinct_grid(np.float16, 4097)  # every integer in [-2048, 2048]
    assert np.array_equal(small, np.arange(-2048, 2049))
    large = ps.distinct_grid(np.float16, 5000)
    assert large.dtype == np.float16
    assert np.unique(large).size == 5000
    assert np.all(np.diff(large.astype(np.float64)) > 0)


@pytest.mark.parametrize(
    ("profile", "allowed"),
    [
        ("ties", lambda x: np.isin(x, [-2, -1, 0, 1, 2, 3])),
        ("nan", lambda x: np.isnan(x) | np.isin(x, [-2, -1, 0, 1, 2, -np.inf])),
        ("inf", lambda x: np.isin(x, [-2, -1, 0, 1, 2, -np.inf, np.inf])),
        ("signed_zero", lambda x: np.isin(x, [0.0, -1.0])),
        ("negative", lambda x: x < 0),
    ],
)
@given(data=st.data())
def test_value_profiles_hold_only_their_values(profile, allowed, data):
    case = data.draw(ps.pool_cases(profiles=(profile,), layouts=("C",)))
    assert np.all(allowed(case.x)), f"{profile}: {case.x!r}"


@given(ps.pool_cases(profiles=("signed_zero", "nan", "inf", "general")))
def test_repr_reproduces_the_array_exactly(case):
    text = repr(case)
    assert text.startswith(("PoolCase(x=np.array(", "PoolCase(x=np.empty("))
    rebuilt = eval(ps.array_source(case.x), {"np": np})
    pa.assert_pool_equal(rebuilt, case.x, case=case, name="eval(array_source(x))")


def test_snippet_is_a_runnable_call():
    case = PoolCase(np.array([[1.0, -0.0, np.nan]]), (2,), (1,), (0,), (1,), False)
    snippet = case.snippet(return_indices=True)
    assert snippet == (
        "poolref.max_pool1d(np.array([[1.0, -0.0, np.nan]], dtype=np.float64), kernel_size=(2,), "
        "stride=(1,), padding=(0,), dilation=(1,), ceil_mode=False, return_indices=True)"
    )
    import poolref.naive

    y, _ = eval(snippet.replace("poolref.", "poolref.naive."), {"np": np, "poolref": poolref})
    assert np.isnan(y[0, 1])


def e(func, **kwargs):
    shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return pytest.param(func, kwargs, id=f"{func.__name__}({shown})")


BAD_STRATEGY_ARGUMENTS = [
    e(ps.pool_params, nd=0),
    e(ps.pool_params, nd=4),
    e(ps.pool_params, nd=2, max_kernel=0),
    e(ps.pool_params, nd=2, max_stride=1.5),
    e(ps.pool_params, nd=2, ceil_mode="yes"),
    e(ps.pool_params, nd=2, padding=None),
    e(ps.dtypes, floats=False, ints=False),
    e(ps.values, dtype="bool"),
    e(ps.values, dtype="float64", profile="bogus"),
    e(ps.values, dtype="int8", profile="nan"),
    e(ps.values, dtype="uint8", profile="negative"),
    e(ps.pool_cases, ndims=(4,)),
    e(ps.pool_cases, ndims=()),
    e(ps.pool_cases, dtypes=("bool",)),
    e(ps.pool_cases, dtypes=("not a dtype",)),
    e(ps.pool_cases, dtypes=("int8", "uint8"), profiles=("nan", "signed_zero")),
    e(ps.pool_cases, profiles=("bogus",)),
    e(ps.pool_cases, layouts=("G",)),
    e(ps.pool_cases, batched="yes"),
    e(ps.pool_cases, min_side=5, max_side=2),
    e(ps.pool_cases, min_side=0),
    e(ps.pool_cases, max_side=True),
    e(ps.pool_cases, min_batch=3, max_batch=2),
    e(ps.pool_cases, max_channels=0),
    e(ps.pool_cases, ndims=(3,), min_side=5, max_elements=100),
]


@pytest.mark.parametrize(("func", "kwargs"), BAD_STRATEGY_ARGUMENTS)
def test_impossible_strategy_arguments_raise_invalid_argument(func, kwargs):
    with pytest.raises(InvalidArgument):
        func(**kwargs)  # validated when called, before anything is drawn


def test_hypothesis_is_imported_only_by_the_strategies():
    code = (
        "import sys, poolref, poolref.fast, poolref.im2col, poolref.naive, poolref.gradcheck; "
        "assert 'hypothesis' not in sys.modules, sorted(m for m in sys.modules if 'hypothesis' in m)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@given(ps.pool_cases(max_elements=64, min_batch=0, max_batch=2, max_channels=2))
def test_element_budget_and_batch_bounds_hold(case):
    assert case.x.size <= 64
    assert case.x.shape[-case.nd - 1] <= 2
    if case.batched:
        assert 0 <= case.x.shape[0] <= 2


@given(st.from_type(PoolCase))
def test_from_type_draws_valid_cases(case):
    # registered by poolref.strategies: a test asking for a PoolCase gets pool_cases()
    y, idx = poolref_naive_pool(case)
    assert y.shape == idx.shape
    assert case.x.shape[: -case.nd] == y.shape[: -case.nd]


def poolref_naive_pool(case):
    import poolref.naive

    return getattr(poolref.naive, f"max_pool{case.nd}d")(
        case.x, **case.kwargs(), return_indices=True
    )


@pytest.mark.parametrize(
    ("strategy", "text"),
    [
        (lambda: ps.pool_cases(), "pool_cases()"),
        (lambda: ps.pool_cases(ndims=(2,)), "pool_cases(ndims=(2,))"),
        (
            lambda: ps.pool_cases(ndims=2, profiles="ties", exact_fit=True),
            "pool_cases(ndims=2, profiles='ties', exact_fit=True)",
        ),
        (lambda: ps.pool_params(2), "pool_params(nd=2)"),
        (
            lambda: ps.pool_params(1, max_kernel=5, ceil_mode=True),
            "pool_params(nd=1, max_kernel=5, ceil_mode=True)",
        ),
        (
            lambda: st.lists(ps.pool_cases(max_side=4), max_size=2),
            "lists(pool_cases(max_side=4), max_size=2)",
        ),
    ],
)
def test_strategy_reprs_read_as_the_call(strategy, text):
    assert repr(strategy()) == text

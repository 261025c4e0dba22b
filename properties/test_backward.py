"""The backward: numerical gradients, the adjoint identity, and where gradient may go."""

from __future__ import annotations

import math

import _assertions as pa
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from poolref import gradcheck
from poolref import strategies as ps

impls = pytest.mark.parametrize("impl", pa.IMPLEMENTATIONS, ids=pa.impl_id)
FLOATS = ("float64", "float32", "float16")
SMALL = {"max_elements": 128}


def _integer_arrays(shape, dtype=np.float64, lo=-4, hi=4):
    return hnp.arrays(dtype, shape, elements=st.integers(lo, hi).map(float), fill=st.nothing())


def _backward(impl, case, g, **extra):
    return pa.backward(impl, case.nd)(g, case.x, **case.kwargs(), **extra)


def _masked_forward(impl, case):
    """The forward with empty windows (constant -inf) replaced by 0, so differences stay finite."""
    _, idx = pa.pool(impl, case, return_indices=True)

    def f(x):
        return np.where(idx == -1, 0.0, pa.pool(impl, case, x=x))

    return f, idx


@impls
@given(
    case=ps.pool_cases(dtypes=("float64",), profiles=("distinct",), **SMALL),
    seed=st.integers(0, 2**32 - 1),
)
def test_backward_matches_numerical_gradient(impl, case, seed):
    # distinct values are a permutation of consecutive integers: gaps of 1 >> eps = 1e-3
    f, idx = _masked_forward(impl, case)
    gradcheck.check_vjp(
        f,
        lambda ct: _backward(impl, case, np.where(idx == -1, 0.0, ct)),
        case.x,
        eps=1e-3,
        rng=np.random.default_rng(seed),
    )


@impls
@given(
    case=ps.pool_cases(dtypes=("float64",), profiles=("distinct",), max_elements=24), data=st.data()
)
def test_backward_matches_scipy_finite_difference_gradient(impl, case, data):
    optimize = pytest.importorskip("scipy.optimize")
    f, idx = _masked_forward(impl, case)
    g = data.draw(_integer_arrays(idx.shape), label="grad_output")
    g = np.where(idx == -1, 0.0, g)

    def objective(flat):
        return float(np.vdot(g, f(flat.reshape(case.x.shape))))

    # forward differences are exact on a linear piece; 1e-4 << the gap of 1 between values
    expected = optimize.approx_fprime(case.x.ravel().astype(np.float64), objective, 1e-4).reshape(
        case.x.shape
    )
    actual = _backward(impl, case, g)
    pa.check(
        np.allclose(actual, expected, rtol=1e-6, atol=1e-6),
        f"backward {actual.ravel().tolist()} differs from approx_fprime {expected.ravel().tolist()}",
        case=case,
        func=f"max_pool{case.nd}d_backward",
    )


@impls
@given(
    case=ps.pool_cases(
        dtypes=("float64",), profiles=("ties", "distinct", "inf", "signed_zero", "nan"), **SMALL
    ),
    data=st.data(),
)
def test_backward_is_adjoint_of_gather_at_indices(impl, case, data):
    # <backward(g), v> == <g, v gathered at the indices>; exact on small integers in float64
    _, idx = pa.pool(impl, case, return_indices=True)
    g = data.draw(_integer_arrays(idx.shape), label="grad_output")
    v = data.draw(_integer_arrays(case.x.shape), label="v")
    gathered = np.where(idx == -1, 0.0, pa.gather(v, idx, case.nd))
    lhs = float(np.vdot(_backward(impl, case, g), v))
    rhs = float(np.vdot(g, gathered))
    pa.check(lhs == rhs, f"<backward(g), v>={lhs} but <g, gather(v, indices)>={rhs}", case=case)


@impls
@given(case=ps.pool_cases(dtypes=FLOATS, **SMALL), data=st.data())
def test_gradient_mass_is_conserved_except_for_empty_windows(impl, case, data):
    # sum(grad_input) == sum(grad_output) over windows that have a tap (all of them unless
    # dilation and padding leave one empty); integers keep every partial sum exact
    _, idx = pa.pool(impl, case, return_indices=True)
    g = data.draw(_integer_arrays(idx.shape, case.x.dtype), label="grad_output")
    grad = _backward(impl, case, g)
    expected = float(g[idx != -1].astype(np.float64).sum())
    total = float(grad.astype(np.float64).sum())
    pa.check(
        total == expected, f"sum(grad_input)={total}, but sum(grad_output)={expected}", case=case
    )


@impls
@given(case=ps.pool_cases(dtypes=FLOATS, **SMALL), data=st.data())
def test_gradient_is_zero_off_the_argmax_positions(impl, case, data):
    # positive grad_output: grad_input is positive exactly at the selected positions
    _, idx = pa.pool(impl, case, return_indices=True)
    g = data.draw(_integer_arrays(idx.shape, case.x.dtype, lo=1, hi=4), label="grad_output")
    grad = pa.batched(_backward(impl, case, g), case.nd)
    ib = pa.batched(idx, case.nd)
    selected = np.zeros(grad.shape, dtype=bool).reshape(*grad.shape[:2], -1)
    for n, c in np.ndindex(*ib.shape[:2]):
        chosen = ib[n, c].ravel()
        selected[n, c, chosen[chosen != -1]] = True
    selected = selected.reshape(grad.shape)
    pa.assert_pool_equal(
        grad != 0, selected, case=case, name="grad_input != 0", func=f"max_pool{case.nd}d_backward"
    )


@impls
@given(case=ps.pool_cases(dtypes=FLOATS, profiles=("ties", "distinct", "nan", "inf"), **SMALL))
def test_overlapping_windows_accumulate(impl, case):
    # grad_output = 1: each input position receives the number of windows that selected it
    _, idx = pa.pool(impl, case, return_indices=True)
    grad = _backward(impl, case, np.ones(idx.shape, dtype=case.x.dtype))
    ib = pa.batched(idx, case.nd)
    counts = np.zeros((*ib.shape[:2], math.prod(case.x.shape[-case.nd :])))
    for n, c in np.ndindex(*ib.shape[:2]):
        chosen = ib[n, c].ravel()
        np.add.at(counts[n, c], chosen[chosen != -1], 1.0)
    expected = (
        counts.reshape(pa.batched(case.x, case.nd).shape).reshape(case.x.shape).astype(case.x.dtype)
    )
    pa.assert_pool_equal(
        grad, expected, case=case, name="grad_input", func=f"max_pool{case.nd}d_backward"
    )


@impls
@given(case=ps.pool_cases(dtypes=FLOATS, **SMALL), data=st.data())
def test_backward_equals_scatter_add_at_indices(impl, case, data):
    _, idx = pa.pool(impl, case, return_indices=True)
    g = data.draw(
        hnp.arrays(
            case.x.dtype,
            idx.shape,
            elements=hnp.from_dtype(
                case.x.dtype, min_value=-100, max_value=100, allow_nan=False, allow_subnormal=False
            ),
            fill=st.nothing(),
        ),
        label="grad_output",
    )
    expected = pa.scatter_add(g, idx, case.x.shape, case.nd)
    atol = pa.summation_tolerance(g, idx, case.x.shape, case.nd)
    pa.assert_pool_close(
        _backward(impl, case, g),
        expected,
        case=case,
        name="grad_input",
        func=f"max_pool{case.nd}d_backward",
        atol=atol,
    )


@impls
@given(case=ps.pool_cases(dtypes=FLOATS, **SMALL), data=st.data(), as_shape=st.booleans())
def test_backward_from_indices_equals_backward_from_input(impl, case, data, as_shape):
    _, idx = pa.pool(impl, case, return_indices=True)
    g = data.draw(_integer_arrays(idx.shape, case.x.dtype), label="grad_output")
    from_input = _backward(impl, case, g)
    x_arg = case.x.shape if as_shape else case.x
    from_indices = pa.backward(impl, case.nd)(g, x_arg, **case.kwargs(), indices=idx)
    pa.assert_pool_equal(
        from_indices, from_input, case=case, name="grad_input", func=f"max_pool{case.nd}d_backward"
    )


@impls
@given(case=ps.pool_cases(dtypes=FLOATS, **SMALL))
def test_backward_has_input_shape_and_grad_output_dtype(impl, case):
    y = pa.pool(impl, case)
    grad = _backward(impl, case, np.ones_like(y))
    pa.check(
        grad.shape == case.x.shape,
        f"grad_input.shape={grad.shape}, but should be {case.x.shape}",
        case=case,
    )
    pa.check(
        grad.dtype == case.x.dtype,
        f"grad_input.dtype={grad.dtype}, but should be {case.x.dtype}",
        case=case,
    )

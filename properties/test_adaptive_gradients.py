"""The adaptive and fractional backwards are the vector-Jacobian products of their forwards.

``poolref.gradcheck.check_vjp`` compares ``<backward(cotangent), tangent>`` with a central
difference of the forward along a random tangent, on distinct values (a permutation of
consecutive integers: gaps of 1, far above ``eps``), so no perturbation reorders a window. The
backward is checked both ways: recomputing the indices from ``x`` and given the forward's.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import poolref
from poolref import gradcheck
from poolref import strategies as ps


@settings(max_examples=25)
@given(
    ps.adaptive_cases(dtypes=[np.dtype(np.float64)], profiles=["distinct"], max_side=5),
    st.integers(0, 2**32 - 1),
)
def test_the_adaptive_backward_is_the_numerical_gradient(case, seed):
    forward = getattr(poolref, f"adaptive_max_pool{case.nd}d")
    backward = getattr(poolref, f"adaptive_max_pool{case.nd}d_backward")
    _, idx = forward(case.x, case.output_size, return_indices=True)
    rng = np.random.default_rng(seed)
    for vjp in (
        lambda ct: backward(ct, case.x, case.output_size),
        lambda ct: backward(ct, case.x.shape, case.output_size, indices=idx),
    ):
        gradcheck.check_vjp(lambda x: forward(x, case.output_size), vjp, case.x, eps=1e-3, rng=rng)


@settings(max_examples=25)
@given(st.sampled_from([2, 3]), st.integers(0, 2**32 - 1))
def test_the_fractional_backward_is_the_numerical_gradient(nd, seed):
    rng = np.random.default_rng(seed)
    spatial = tuple(int(n) for n in rng.integers(3, 7, size=nd))
    kernel = tuple(int(rng.integers(1, n)) for n in spatial)
    out = tuple(int(rng.integers(1, n - k + 2)) for n, k in zip(spatial, kernel))
    x = rng.permutation(2 * int(np.prod(spatial))).astype(np.float64).reshape(1, 2, *spatial)
    u = rng.random((1, 2, nd))
    forward = getattr(poolref, f"fractional_max_pool{nd}d")
    backward = getattr(poolref, f"fractional_max_pool{nd}d_backward")

    def f(v):
        return forward(v, kernel, out, random_samples=u)

    gradcheck.check_vjp(
        f, lambda ct: backward(ct, x, kernel, out, random_samples=u), x, eps=1e-3, rng=rng
    )

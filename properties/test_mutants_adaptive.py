"""Adaptive max pooling: fixed cases for what the mutation run of issue 20 found unchecked.

Cheap, deterministic cases (no Hypothesis), so that a mutant fails at once instead of running
into mutmut's wall-clock limit while a property shrinks (see ``test_mutants_fractional.py``):
the fast path against the loop oracle on several planes, ranks, dtypes, ``out > in``, NaN and
ties; the cores' contract (``None`` without indices, int64 indices); the backward's float64
sums, which a float16 accumulation would round away.
"""

from __future__ import annotations

import numpy as np
import pytest

import poolref
from poolref import _adaptive_fast, _adaptive_naive

#: (input spatial, output spatial): dividing, not dividing, out > in, out = 1, mixed.
GEOMETRIES = {
    1: [((7,), (3,)), ((3,), (5,)), ((4,), (1,))],
    2: [((5, 7), (3, 4)), ((2, 3), (5, 2)), ((6, 4), (3, 4))],
    3: [((3, 4, 5), (2, 3, 4)), ((2, 2, 3), (3, 1, 5))],
}
CASES = [(nd, s, o) for nd, geometries in GEOMETRIES.items() for s, o in geometries]


def _x(spatial, dtype, seed):
    """Two batches of three planes of small values: ties everywhere, a NaN in a float plane."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, size=(2, 3, *spatial)).astype(dtype)
    if x.dtype.kind == "f":
        x[0, 1].flat[1] = np.nan
        x[1, 2].flat[:2] = np.nan  # two NaNs in a window: the last one is selected
    return x


@pytest.mark.parametrize(("nd", "spatial", "out"), CASES)
@pytest.mark.parametrize("dtype", ["float64", "float16", "int16", "uint8"])
def test_the_fast_path_equals_the_oracle_on_fixed_cases(nd, spatial, out, dtype):
    x = _x(spatial, dtype, sum(spatial) + nd)
    y, i = _adaptive_fast.forward(x, out, True)
    y2, i2 = _adaptive_naive.forward(x, out, True)
    assert i.dtype == i2.dtype == np.int64 and y.dtype == y2.dtype == x.dtype
    assert i.shape == y.shape == (2, 3, *out)
    np.testing.assert_array_equal(i, i2)
    assert np.array_equal(y.view(np.uint8), y2.view(np.uint8))  # bitwise, NaN included
    flat = x.reshape(2, 3, -1)
    picked = np.take_along_axis(flat, i.reshape(2, 3, -1), -1).reshape(y.shape)
    assert np.array_equal(picked, y, equal_nan=True)


@pytest.mark.parametrize("core", [_adaptive_fast, _adaptive_naive])
def test_the_selection_rules_of_each_core(core):
    # L = 4 into 2 windows [0, 2) and [2, 4); ties: first maximum; NaN: the last NaN
    x = np.array([[[5.0, 5.0, np.nan, np.nan], [1.0, 2.0, 2.0, 1.0]]])
    y, i = core.forward(x, (2,), True)
    assert i.tolist() == [[[0, 3], [1, 2]]]
    assert y[0, 0, 0] == 5.0 and np.isnan(y[0, 0, 1]) and y[0, 1].tolist() == [2.0, 2.0]


@pytest.mark.parametrize("core", [_adaptive_fast, _adaptive_naive])
def test_without_indices_the_cores_return_none(core):
    x = _x((5,), "float64", 0)
    y, none = core.forward(x, (3,), False)
    assert none is None and y.shape == (2, 3, 3)


@pytest.mark.parametrize("core", [_adaptive_fast, _adaptive_naive])
def test_the_backward_sums_in_float64_and_casts_once(core):
    """Three outputs select one element: float16 steps would give 1024 + 0.5 + 0.5 = 1024."""
    g = np.array([[[1024.0, 0.5, 0.5]]], dtype=np.float16)
    idx = np.array([[[1, 1, 1]]])
    grad = core.backward_from_indices(g, idx, (1, 1, 3))
    assert grad.dtype == np.float16 and grad.tolist() == [[[0.0, 1025.0, 0.0]]]


@pytest.mark.parametrize("core", [_adaptive_fast, _adaptive_naive])
def test_the_backward_keeps_every_plane_apart(core):
    g = np.arange(1.0, 13.0).reshape(2, 3, 2)
    idx = np.array([[[0, 0], [1, 2], [2, 2]], [[0, 1], [2, 1], [0, 0]]])
    grad = core.backward_from_indices(g, idx, (2, 3, 3))
    expected = np.zeros((2, 3, 3))
    for n, c, o in np.ndindex(2, 3, 2):
        expected[n, c, idx[n, c, o]] += g[n, c, o]
    np.testing.assert_array_equal(grad, expected)


def test_out_equal_to_in_is_the_identity_in_every_rank():
    for nd, spatial in ((1, (5,)), (2, (3, 4)), (3, (2, 3, 2))):
        x = _x(spatial, "float32", nd)
        y, i = getattr(poolref, f"adaptive_max_pool{nd}d")(x, spatial, return_indices=True)
        assert np.array_equal(y, x, equal_nan=True)
        assert (i == np.arange(np.prod(spatial)).reshape(spatial)).all()


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_both_backwards_agree_given_the_indices(nd):
    from poolref import adaptive as A

    x = _x((3,) * nd, "float64", nd)
    out = (4,) + (2,) * (nd - 1)
    _, idx = A._pool(nd, "f", x, out, True)
    g = np.arange(1.0, 1.0 + idx.size).reshape(idx.shape)
    fast = A._backward(nd, "b", g, x.shape, out, idx)
    naive = A._backward(nd, "b", g, x.shape, out, idx, core="naive")
    np.testing.assert_array_equal(fast, naive)
    assert fast.sum() == g.sum()


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_a_bad_return_indices_is_named_by_each_rank(nd):
    name = f"adaptive_max_pool{nd}d"
    with pytest.raises(TypeError) as info:
        getattr(poolref, name)(np.zeros((1, *(2,) * nd)), 1, return_indices=1)
    assert str(info.value).startswith(f"{name}: return_indices must be a bool")


@pytest.mark.parametrize(
    ("call", "text"),
    [
        (
            lambda: poolref.adaptive_max_pool1d(np.zeros((1, 1, 4))),
            "adaptive_max_pool1d(): missing a required argument: 'output_size'",
        ),
        (
            lambda: poolref.adaptive_max_pool2d_backward(np.zeros((1, 1, 2, 2))),
            "adaptive_max_pool2d_backward(): missing a required argument: 'x'",
        ),
        (
            lambda: poolref.fractional_max_pool3d(np.zeros((1, 1, 4, 4, 4)), 2, bogus=1),
            "fractional_max_pool3d(): got an unexpected keyword argument 'bogus'",
        ),
    ],
)
def test_arguments_that_do_not_fit_name_the_public_function(call, text):
    with pytest.raises(TypeError) as info:
        call()
    assert str(info.value) == text

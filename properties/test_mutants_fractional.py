"""Fractional max pooling: the claims the mutation run of issue 20 found unchecked.

Fixed, cheap cases (no Hypothesis): under mutmut a failing Hypothesis property shrinks for
seconds, and on shared cores that ran past mutmut's wall-clock limit ("timeout", not a kill).
Each test below fails at its first assertion on the bug it names.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import poolref
from poolref import _fractional_fast, _fractional_naive


def _case(nd: int, dtype=np.float64):
    """Two planes of distinct values with a NaN and a tie, samples different per plane and dim."""
    dtype = np.dtype(dtype)
    spatial = (5, 7) if nd == 2 else (4, 5, 6)
    x = np.random.default_rng(nd).permutation(2 * np.prod(spatial)).astype(dtype)
    x = x.reshape(1, 2, *spatial)
    if dtype.kind == "f":
        x[0, 0].flat[3] = np.nan
        x[0, 1].flat[:2] = x[0, 1].max()  # a tie in the first window: the first one wins
    kernel = (2,) * nd
    out = (3, 4) if nd == 2 else (2, 3, 4)
    sdtype = x.dtype if x.dtype.kind == "f" else np.float64
    u = np.array([[[0.9, 0.2, 0.6][:nd], [0.1, 0.7, 0.4][:nd]]], dtype=sdtype)
    return x, kernel, out, u


@pytest.mark.parametrize("nd", [2, 3])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
def test_the_fast_path_equals_the_oracle_on_fixed_cases(nd, dtype):
    x, kernel, out, u = _case(nd, dtype)
    y, i = _fractional_fast.forward(x, kernel, out, u, True)
    y2, i2 = _fractional_naive.forward(x, kernel, out, u, True)
    assert i.dtype == i2.dtype == np.int64
    np.testing.assert_array_equal(i, i2)
    assert np.array_equal(y, y2, equal_nan=True)
    assert y.dtype == y2.dtype == x.dtype


@pytest.mark.parametrize("core", [_fractional_fast, _fractional_naive])
def test_a_nan_window_selects_its_last_nan_and_a_tie_its_first_maximum(core):
    x = np.arange(30.0).reshape(1, 1, 5, 6)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan  # both in the first 2x2 window: row-major last wins
    x[0, 0, 3, 4] = x[0, 0, 4, 5] = 99.0  # a tie in the last 2x2 window: the first wins
    u = np.zeros((1, 1, 2))
    y, i = core.forward(x, (2, 2), (3, 4), u, True)
    # starts with u = 0: rows 0, 1, 3 (alpha = 3/2), columns 0, 1, 2, 4 (alpha = 4/3)
    assert i[0, 0, 0, 0] == 6 and np.isnan(y[0, 0, 0, 0])
    assert i[0, 0, 2, 3] == 3 * 6 + 4 and y[0, 0, 2, 3] == 99.0
    assert i[0, 0, 1, 1] == 2 * 6 + 2  # no NaN, no tie: the window's maximum (bottom right)


@pytest.mark.parametrize("core", [_fractional_fast, _fractional_naive])
def test_without_indices_the_cores_return_none(core):
    x, kernel, out, u = _case(2)
    y, none = core.forward(x, kernel, out, u, False)
    assert none is None and y.shape == (1, 2, *out)


def test_the_oracle_reads_the_samples_in_torchs_order():
    """2-D: sample 0 is for the width, sample 1 for the height (the oracle swaps them)."""
    x = np.arange(81.0).reshape(1, 1, 9, 9)
    u = np.array([[[0.0, 0.5]]])
    _, i = _fractional_naive.forward(x, (1, 1), (4, 4), u, True)
    rows, cols = [0, 3, 5, 8], [0, 2, 5, 8]
    assert i[0, 0].tolist() == [[r * 9 + c for c in cols] for r in rows]


@pytest.mark.parametrize("nd", [2, 3])
def test_one_output_per_dimension_warns_nothing(nd):
    """``out = 1`` has no ``alpha = (n - k) / (out - 1)``: only the last start ``n - k``."""
    x = np.arange(float(6**nd)).reshape(1, 1, *(6,) * nd)
    u = np.full((1, 1, nd), 0.5)
    f = getattr(poolref, f"fractional_max_pool{nd}d")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y, i = f(x, 2, output_size=1, random_samples=u, return_indices=True)
        starts = _fractional_fast.starts(np.array([0.5, 0.0]), 6, 1, 2)
    assert starts.tolist() == [[4], [4]]
    assert i.ravel().tolist() == [6**nd - 1]  # the last window, [4, 6) in every dimension


# ---- the public wrapper: messages, output_ratio, the drawn samples, the memory check ----------

F2 = "fractional_max_pool2d"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"x": np.zeros((4, 4))}, ValueError, f"{F2}: x must have shape (N, C, H, W) or (C, H, W)"),
        ({"kernel_size": "2"}, TypeError, f"{F2}: kernel_size must be an int or a tuple of 2 ints"),
        ({"output_size": (1, 2, 3)}, ValueError, f"{F2}: output_size must be a single int or"),
        (
            {"random_samples": [[[0.5, 0.5]]]},
            TypeError,
            f"{F2}: random_samples must be a numpy.ndarray, got random_samples of type list",
        ),
        (
            {"rng": 7},
            TypeError,
            f"{F2}: rng must be a numpy.random.Generator, got rng of type int",
        ),
        (
            {"output_size": None, "output_ratio": 0},
            ValueError,
            f"{F2}: output_ratio must be a float in",
        ),
        (
            {"output_size": None, "output_ratio": 1.0},
            ValueError,
            f"{F2}: output_ratio must be a float in",
        ),
    ],
)
def test_the_forward_names_the_argument_and_itself(kwargs, error, message):
    args = {"x": np.zeros((1, 1, 4, 4)), "kernel_size": 1, "output_size": 2, **kwargs}
    with pytest.raises(error) as info:
        poolref.fractional_max_pool2d(**args)
    assert str(info.value).startswith(message)


def test_an_output_ratio_per_dimension():
    x = np.zeros((1, 1, 8, 10))
    y = poolref.fractional_max_pool2d(x, 1, output_ratio=(0.5, 0.3), rng=np.random.default_rng(0))
    assert y.shape == (1, 1, 4, 3)


def test_the_default_generator_draws_samples():
    y, i = poolref.fractional_max_pool2d(np.zeros((2, 3, 7, 7)), 2, 3, return_indices=True)
    assert y.shape == i.shape == (2, 3, 3, 3) and i.dtype == np.int64


def _same_as_given(x, dtype, seed=11):
    """The result with ``rng`` and the one with its first draw given as samples of ``dtype``."""
    n = x.shape[-1]
    drawn = poolref.fractional_max_pool2d(
        x, 1, n // 2, return_indices=True, rng=np.random.default_rng(seed)
    )[1]
    u = np.random.default_rng(seed).random((*x.shape[:2], 2))
    return drawn, poolref.fractional_max_pool2d(
        x, 1, n // 2, return_indices=True, random_samples=u.astype(dtype)
    )[1]


def test_drawn_samples_have_the_inputs_float_dtype():
    """float16 samples are rounded to 11 bits, which moves window starts of a long dimension."""
    x = np.zeros((1, 4, 200, 200), dtype=np.float16)
    drawn, given16 = _same_as_given(x, np.float16)
    np.testing.assert_array_equal(drawn, given16)
    _, given64 = _same_as_given(x.astype(np.float64), np.float64)
    assert not np.array_equal(given16, given64)  # the case tells the two dtypes apart


def test_drawn_samples_for_integers_are_float64():
    x = np.zeros((1, 4, 200, 200), dtype=np.int32)
    drawn, given64 = _same_as_given(x, np.float64)
    np.testing.assert_array_equal(drawn, given64)
    u0 = np.zeros((1, 4, 2))
    at_zero = poolref.fractional_max_pool2d(x, 1, 100, return_indices=True, random_samples=u0)
    assert not np.array_equal(drawn, at_zero[1])  # samples truncated to ints would all be 0


def test_the_memory_check_counts_the_windows_of_every_plane(monkeypatch):
    """The forward reserves ``planes * prod(out) * prod(kernel) * 8`` bytes (its gather table)."""
    from poolref import _params

    x = np.zeros((3, 5, 5))  # unbatched: 3 planes
    u = np.zeros((1, 3, 2))
    need = 3 * (2 * 2) * (2 * 2) * 8  # 384
    monkeypatch.setattr(_params, "machine_bytes", lambda: need)
    assert poolref.fractional_max_pool2d(x, 2, 2, random_samples=u).shape == (3, 2, 2)
    monkeypatch.setattr(_params, "machine_bytes", lambda: need - 1)
    with pytest.raises(ValueError) as info:
        poolref.fractional_max_pool2d(x, 2, 2, random_samples=u)
    assert str(info.value).startswith(
        f"{F2}: the windows for output_size=(2, 2) would need 384 bytes"
    )


def test_the_backward_names_itself_for_a_mismatched_x():
    g = np.zeros((1, 1, 2, 2), dtype=np.float32)
    idx = np.zeros((1, 1, 2, 2), dtype=np.int64)
    with pytest.raises(TypeError) as info:
        poolref.fractional_max_pool2d_backward(g, np.zeros((1, 1, 4, 4)), 2, indices=idx)
    assert str(info.value).startswith(
        "fractional_max_pool2d_backward: grad_output.dtype=float32 must match x.dtype=float64"
    )


def test_the_backward_recomputes_the_windows_from_the_given_samples():
    """n = 7, k = 2, out = 3: the middle window starts at 2 or 3 depending on the sample."""
    x = np.arange(49.0).reshape(1, 1, 7, 7)
    g = np.ones((1, 1, 3, 3))
    for value in (0.0, 0.3):
        u = np.full((1, 1, 2), value)
        _, idx = poolref.fractional_max_pool2d(x, 2, 3, random_samples=u, return_indices=True)
        grad = poolref.fractional_max_pool2d_backward(g, x, 2, 3, random_samples=u)
        np.testing.assert_array_equal(grad, _adaptive_scatter(g, idx, x.shape))


def _adaptive_scatter(g, idx, shape):
    out = np.zeros(shape)
    for pos in np.ndindex(g.shape):
        out[pos[:2]].flat[idx[pos]] += g[pos]
    return out

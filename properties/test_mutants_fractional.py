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

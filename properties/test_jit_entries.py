"""poolref.jit's repeated-call entries (poolref._jit_fast): same answers, same errors.

A plain call equal to an earlier successful one is answered from an entry without the checks;
each test makes the entry with a first call, checks that the entry exists (so the second call
really takes it), then checks the second call against the naive oracle, or that a call the
checks reject is still rejected. Skipped without numba.
"""

from __future__ import annotations

import _assertions as pa
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from poolref import naive
from poolref import strategies as ps

pytest.importorskip("numba", exc_type=ImportError)
from poolref import _jit_cores, _jit_fast, jit

SMALL = {"max_elements": 256, "max_channels": 4}


def _channels_last(x: np.ndarray) -> np.ndarray:
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(x, 1, -1)), -1, 1)


def _forward_entries(nd: int, x: np.ndarray) -> int:
    return sum(k[0] == nd and k[1] == x.shape and k[2] == x.strides for k in _jit_fast._FORWARD)


@given(case=ps.pool_cases(**SMALL), layout=st.sampled_from(["C", "channels-last"]))
def test_a_repeated_forward_matches_naive(case, layout):
    x = case.x
    if layout == "channels-last" and x.ndim == case.nd + 2:
        x = _channels_last(x)
    _jit_fast._FORWARD.clear()
    expected = pa.pool(naive, case, x=x, return_indices=True)
    before = x.copy()
    for _ in range(2):
        for with_indices in (False, True):
            got = pa.pool(jit, case, x=x, return_indices=with_indices)
            y, idx = got if with_indices else (got, None)
            pa.assert_pool_equal(y, expected[0], case=case, name="y")
            if with_indices:
                pa.assert_pool_equal(
                    idx, expected[1], case=case, name="indices", return_indices=True
                )
            assert not np.shares_memory(y, x)
    layout_ok = x.flags.c_contiguous or (x.ndim == case.nd + 2 and _jit_cores._channels_last(x))
    compiled = x.size and x.dtype in _jit_cores.JIT_DTYPES and layout_ok
    assert _forward_entries(case.nd, x) == (2 if compiled else 0)
    assert np.array_equal(x, before, equal_nan=True)


@given(case=ps.pool_cases(dtypes=("float32", "float64"), **SMALL), seed=st.integers(0, 2**16))
def test_a_repeated_backward_from_indices_matches_naive(case, seed):
    _, idx = pa.pool(naive, case, return_indices=True)
    g = np.random.default_rng(seed).integers(-4, 5, idx.shape).astype(case.x.dtype)
    shape, kwargs = tuple(case.x.shape), case.kwargs()
    expected = pa.backward(naive, case.nd)(g, shape, **kwargs, indices=idx)
    _jit_fast._BACKWARD.clear()
    for _ in range(3):
        got = pa.backward(jit, case.nd)(g, shape, **kwargs, indices=idx)
        pa.assert_pool_equal(got, expected, case=case, name="grad_input")
    compiled = g.size and idx.flags.c_contiguous
    assert len(_jit_fast._BACKWARD) == (1 if compiled else 0)


X = np.arange(24.0, dtype=np.float32).reshape(1, 2, 12)


@pytest.mark.parametrize("bad", [2.0, True, (2.0,), (True,)])
@pytest.mark.parametrize("argument", ["kernel_size", "stride", "padding", "dilation"])
def test_a_value_equal_to_a_plain_argument_is_still_checked(argument, bad):
    good = {"kernel_size": 2, "stride": 2, "padding": 0, "dilation": 1}
    good["padding"] = 1 if argument == "padding" else 0
    good["dilation"] = 2 if argument == "dilation" else 1
    jit.max_pool1d(X, **good)
    jit.max_pool1d(X, **good)
    assert _forward_entries(1, X)
    with pytest.raises(TypeError, match=argument):
        jit.max_pool1d(X, **{**good, argument: bad})


@pytest.mark.parametrize("flag", ["ceil_mode", "return_indices"])
def test_an_int_flag_equal_to_a_plain_bool_is_still_checked(flag):
    jit.max_pool1d(X, 2, **{flag: True})
    jit.max_pool1d(X, 2, **{flag: True})
    with pytest.raises(TypeError, match=flag):
        jit.max_pool1d(X, 2, **{flag: 1})


def test_an_index_out_of_range_after_a_good_call_raises_the_checked_error():
    y, idx = jit.max_pool1d(X, 2, return_indices=True)
    g = np.ones_like(y)
    for _ in range(2):
        jit.max_pool1d_backward(g, X.shape, 2, indices=idx)
    assert _jit_fast._BACKWARD
    bad = idx.copy()
    bad[0, 1, 3] = 12
    with pytest.raises(ValueError, match=r"indices\[0, 1, 3\]=12 is out of range"):
        jit.max_pool1d_backward(g, X.shape, 2, indices=bad)
    with pytest.raises(TypeError, match="x"):  # a float in the shape, after the plain shape
        jit.max_pool1d_backward(g, (1, 2, 12.0), 2, indices=idx)


def test_entries_are_bounded():
    for width in range(2, _jit_fast.LIMIT + 10):
        jit.max_pool1d(np.zeros((1, 1, width), np.float32), 2)
    assert 0 < len(_jit_fast._FORWARD) <= _jit_fast.LIMIT

"""Adaptive max pooling: the fast path against the loop oracle, identities, validation.

Conformance against PyTorch is in ``test_adaptive_torch.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import poolref
from poolref import _adaptive_fast, _adaptive_naive, _params
from poolref import adaptive as A
from poolref import strategies as ps

FLOATS = [np.dtype(t) for t in ("float64", "float32", "float16")]


def _run(case, core, indices=True):
    return A._pool(case.nd, "f", case.x, case.output_size, indices, core=core)


@given(ps.adaptive_cases())
def test_fast_equals_oracle(case):
    y, i = _run(case, "fast")
    y_ref, i_ref = _run(case, "naive")
    assert y_ref.dtype == case.x.dtype and i_ref.dtype == np.int64
    assert y.dtype == case.x.dtype and i.dtype == np.int64
    np.testing.assert_array_equal(i, i_ref)
    assert np.array_equal(y.view(np.uint8), y_ref.view(np.uint8))  # bitwise: -0.0 and NaN too
    assert np.array_equal(_run(case, "fast", False), y, equal_nan=True)
    flat = case.x.reshape(*case.x.shape[: case.x.ndim - case.nd], -1)
    assert np.array_equal(
        np.take_along_axis(flat, i.reshape(*i.shape[: i.ndim - case.nd], -1), -1).reshape(y.shape),
        y,
        equal_nan=True,
    )


@given(ps.adaptive_cases(dtypes=FLOATS), st.randoms(use_true_random=False))
def test_backward_equals_oracle(case, random):
    y, i = _run(case, "fast")
    g = np.array([random.randint(-4, 4) for _ in range(y.size)], dtype=y.dtype).reshape(y.shape)
    fast = A._backward(case.nd, "b", g, case.x, case.output_size, None)
    naive = A._backward(case.nd, "b", g, case.x, case.output_size, None, core="naive")
    by_index = A._backward(case.nd, "b", g, case.x.shape, case.output_size, i)
    assert fast.dtype == g.dtype == naive.dtype and fast.shape == case.x.shape
    np.testing.assert_array_equal(fast, naive)
    np.testing.assert_array_equal(by_index, fast)
    assert fast.sum() == g.astype(np.float64).sum()


@given(ps.adaptive_cases(allow_none=False))
def test_output_equal_to_input_size_is_the_identity(case):
    spatial = case.x.shape[-case.nd :]
    y, i = A._pool(case.nd, "f", case.x, spatial, True)
    assert np.array_equal(y, case.x, equal_nan=True)
    expected = np.arange(int(np.prod(spatial))).reshape(spatial)
    assert (i == expected).all()
    none = A._pool(case.nd, "f", case.x, (None,) * case.nd, True)
    assert np.array_equal(none[1], i)


@given(ps.adaptive_cases(allow_none=False, max_side=4), st.data())
def test_dividing_output_is_the_fixed_window_pool(case, data):
    spatial = case.x.shape[-case.nd :]
    factors = tuple(data.draw(st.integers(1, 3)) for _ in spatial)
    x = np.tile(case.x, (1,) * (case.x.ndim - case.nd) + factors)
    big = x.shape[-case.nd :]
    out = tuple(data.draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0])) for n in big)
    kernel = tuple(n // o for n, o in zip(big, out))
    pool = getattr(poolref, f"max_pool{case.nd}d")
    y, i = pool(x, kernel, kernel, return_indices=True)
    ya, ia = getattr(poolref, f"adaptive_max_pool{case.nd}d")(x, out, return_indices=True)
    assert np.array_equal(ya, y, equal_nan=True)
    np.testing.assert_array_equal(ia, i)


@pytest.mark.parametrize(
    ("length", "out", "expected"),
    [
        (5, 3, [[0, 1], [1, 2, 3], [3, 4]]),
        (3, 5, [[0], [0, 1], [1], [1, 2], [2]]),
        (4, 2, [[0, 1], [2, 3]]),
        (7, 1, [list(range(7))]),
        (1, 3, [[0], [0], [0]]),
        (10, 4, [[0, 1, 2], [2, 3, 4], [5, 6, 7], [7, 8, 9]]),
        (6, 4, [[0, 1], [1, 2], [3, 4], [4, 5]]),
    ],
)
def test_windows_of_examples(length, out, expected):
    assert _adaptive_naive._members(length, out) == expected
    table = _adaptive_fast.gather_table(length, out)
    assert table.dtype == np.int64
    assert [sorted(set(row.tolist())) for row in table] == expected
    assert table.shape[1] == max(len(w) for w in expected)
    assert all(row[: len(w)].tolist() == w for row, w in zip(table, expected))


def test_boundaries_do_not_overflow():
    # o * n exceeds float64's exact integers (2**53) but not int64
    n, out = 2**52 + 1, 3
    start, end = _adaptive_fast.bounds(n, out)
    assert start.tolist() == [0, n // 3, (2 * n) // 3]
    assert end.tolist() == [-(-n // 3), -(-2 * n // 3), n]
    assert float(n) * 2 / 3 != (2 * n) // 3  # a float formula would be off here


def test_select_rules():
    w = np.array(
        [[1.0, 3.0, 3.0], [np.nan, 2.0, np.nan], [-np.inf, -np.inf, -np.inf], [0.0, -0.0, 0.0]]
    )
    assert _adaptive_fast._select(w).tolist() == [1, 2, 0, 0]
    assert _adaptive_fast._select(np.array([[2, 5, 5, 1]], dtype=np.int8)).tolist() == [1]
    y, i = poolref.adaptive_max_pool1d(np.array([[-0.0, 0.0, np.nan, 1.0]]), 2, return_indices=True)
    assert np.signbit(y[0, 0]) and np.isnan(y[0, 1]) and i.tolist() == [[0, 2]]


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_unbatched_equals_batched(nd):
    rng = np.random.default_rng(nd)
    x = rng.standard_normal((2, *(3,) * nd))
    fwd = getattr(poolref, f"adaptive_max_pool{nd}d")
    bwd = getattr(poolref, f"adaptive_max_pool{nd}d_backward")
    y, i = fwd(x, 2, return_indices=True)
    yb, ib = fwd(x[None], 2, return_indices=True)
    assert y.shape == (2, *(2,) * nd)
    np.testing.assert_array_equal(y, yb[0])
    np.testing.assert_array_equal(i, ib[0])
    g = rng.standard_normal(y.shape)
    np.testing.assert_array_equal(bwd(g, x, 2), bwd(g[None], x[None], 2)[0])
    np.testing.assert_array_equal(bwd(g, x.shape, 2, indices=i), bwd(g, x, 2))


def test_inputs_untouched_and_outputs_fresh():
    x = np.arange(12.0).reshape(1, 3, 4)[:, ::-1]
    before = x.copy()
    y, i = poolref.adaptive_max_pool1d(x, 4, return_indices=True)
    assert not np.shares_memory(y, x)
    g = np.ones_like(y)
    grad = poolref.adaptive_max_pool1d_backward(g, x, 4)
    assert not np.shares_memory(grad, g) and not np.shares_memory(grad, x)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(y, x)


BAD = [
    (
        (np.zeros((1, 4)), 0),
        ValueError,
        "output_size must be >= 1 in every dimension, got output_size=(0,)",
    ),
    (
        (np.zeros((1, 4)), (2, 2)),
        ValueError,
        "output_size must have 1 entries, got output_size=(2, 2)",
    ),
    ((np.zeros((1, 4)), 2.0), TypeError, "got output_size=2.0"),
    ((np.zeros((1, 4)), True), TypeError, "got output_size=True"),
    (
        (np.zeros((1, 4)), [None, 1.5]),
        TypeError,
        "output_size must be an int or a tuple of 1 ints or None",
    ),
    ((np.zeros((1, 4), dtype=bool), 2), TypeError, "x.dtype=bool"),
    ((np.zeros(4), 2), ValueError, "x.shape=(4,)"),
    (([[1.0]], 1), TypeError, "x must be a numpy.ndarray"),
]


@pytest.mark.parametrize(("args", "error", "text"), BAD)
def test_bad_forward_arguments(args, error, text):
    with pytest.raises(error, match="^adaptive_max_pool1d: ") as info:
        poolref.adaptive_max_pool1d(*args)
    assert text in str(info.value)


def test_bad_return_indices_and_core():
    with pytest.raises(TypeError, match="return_indices must be a bool"):
        poolref.adaptive_max_pool2d(np.zeros((1, 2, 2)), 1, return_indices=1)
    with pytest.raises(ValueError, match=r"core=.nope."):
        A._pool(1, "f", np.zeros((1, 2)), 1, False, core="nope")


def test_bad_backward_arguments():
    f = poolref.adaptive_max_pool2d_backward
    x = np.zeros((1, 4, 4))
    cases = [
        ((np.zeros((1, 2, 3)), x, 2), ValueError, "grad_output.shape=(1, 2, 3) does not match"),
        ((np.zeros((1, 2, 2), dtype=np.int64), x, 2), TypeError, "grad_output.dtype=int64"),
        (
            (np.zeros((1, 2, 2)), (1, 4, 4), 2),
            TypeError,
            "x must be a numpy.ndarray, got x of type tuple",
        ),
        ((np.zeros((1, 2, 2)), np.zeros((4, 4)), 2), ValueError, "x.shape=(4, 4)"),
        ((np.zeros((1, 2, 2)), x, (2, 0)), ValueError, "output_size must be >= 1"),
    ]
    for args, error, text in cases:
        with pytest.raises(error, match="^adaptive_max_pool2d_backward: ") as info:
            f(*args)
        assert text in str(info.value)
    with pytest.raises(
        ValueError,
        match=r"^adaptive_max_pool2d_backward: indices must be in \[0, 16\), got -1 \(adaptive",
    ):
        f(np.zeros((1, 2, 2)), (1, 4, 4), 2, indices=np.full((1, 2, 2), -1))
    with pytest.raises(
        ValueError, match=r"^adaptive_max_pool2d_backward: indices\[0, 0, 0\]=16 is out of range"
    ):
        f(np.zeros((1, 2, 2)), (1, 4, 4), 2, indices=np.full((1, 2, 2), 16))
    got = f(np.ones((1, 2, 2)), (1, 4, 4), 2, indices=np.zeros((1, 2, 2), dtype=np.int64))
    assert got[0, 0, 0] == 4 and got.sum() == 4
    batched = f(np.ones((2, 1, 2, 2)), (2, 1, 4, 4), 2, indices=np.full((2, 1, 2, 2), 5))
    assert batched.shape == (2, 1, 4, 4) and batched[:, 0, 1, 1].tolist() == [4.0, 4.0]


def test_memory_is_checked_before_allocating(monkeypatch):
    x = np.zeros((1, 2, 1, 1), dtype=np.float32)  # (C, D, H, W): one plane of 2x1x1
    # the forward reserves output * itemsize * 2**nd bytes: 1 * (2 * 2 * 2) * 4 * 8 = 256
    monkeypatch.setattr(_params, "machine_bytes", lambda: 256)
    assert poolref.adaptive_max_pool3d(x, 2).shape == (1, 2, 2, 2)
    with pytest.raises(
        ValueError,
        match=r"^adaptive_max_pool3d: the output for output_size=\(2, 2, 3\) would need 384 bytes",
    ):
        poolref.adaptive_max_pool3d(x, (2, 2, 3))
    monkeypatch.setattr(_params, "machine_bytes", lambda: 24)
    g = np.zeros((1, 1, 1), dtype=np.float32)
    x2 = np.zeros((1, 2, 3), dtype=np.float32)
    assert poolref.adaptive_max_pool2d_backward(g, x2, 1).shape == x2.shape
    with pytest.raises(
        ValueError,
        match=r"^adaptive_max_pool2d_backward: the output for output_size=1 would need 28 bytes",
    ):
        poolref.adaptive_max_pool2d_backward(g, np.zeros((1, 1, 7), dtype=np.float32), 1)


def test_two_dimensional_example():
    x = np.arange(35.0).reshape(1, 1, 5, 7)[:, :, ::-1, :]  # the maximum is at the top left
    y, i = poolref.adaptive_max_pool2d(x, (3, 2), return_indices=True)
    # rows 0..1, 1..3, 3..4; columns 0..3, 3..6
    assert i[0, 0].tolist() == [[3, 6], [10, 13], [24, 27]]
    assert y[0, 0].tolist() == [[31.0, 34.0], [24.0, 27.0], [10.0, 13.0]]


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_each_public_function(nd):
    fwd = getattr(poolref, f"adaptive_max_pool{nd}d")
    bwd = getattr(poolref, f"adaptive_max_pool{nd}d_backward")
    x = np.arange(2.0 * 3**nd).reshape(1, 2, *(3,) * nd)
    y = fwd(x, 2)
    assert isinstance(y, np.ndarray) and y.shape == (1, 2, *(2,) * nd)
    assert y.reshape(2, -1)[:, -1].tolist() == [3**nd - 1, 2 * 3**nd - 1]
    y2, i = fwd(x, 2, True)
    np.testing.assert_array_equal(y2, y)
    g = np.ones_like(y)
    grad = bwd(g, x, 2)
    np.testing.assert_array_equal(grad, bwd(g, x.shape, 2, i))
    assert grad.sum() == y.size and grad.reshape(2, -1)[:, -1].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match=f"^adaptive_max_pool{nd}d: output_size must be >= 1"):
        fwd(x, 0)
    with pytest.raises(ValueError, match=f"^adaptive_max_pool{nd}d_backward: grad_output.shape"):
        bwd(g[..., :1], x, 2)

"""The im2col implementation: the tutorial ``Maxpool`` layer and a fixed cross-check against the oracle.

Fast on purpose (fixed, seeded cases; no Hypothesis): the broad randomised
cross-checks between implementations live elsewhere. Every comparison is
exact: same dtype, same shape, same values including NaN positions and the
sign of zeros.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from poolref import im2col as ic
from poolref import naive


def assert_same(actual, expected, what):
    """Exact equality: dtype, shape, values (NaN == NaN) and the sign of every zero."""
    __tracebackhide__ = True
    assert isinstance(actual, np.ndarray), f"{what}: got {type(actual).__name__}"
    assert actual.dtype == expected.dtype, (
        f"{what}: dtype {actual.dtype}, expected {expected.dtype}"
    )
    assert actual.shape == expected.shape, (
        f"{what}: shape {actual.shape}, expected {expected.shape}"
    )
    if actual.dtype.kind == "f":
        same = (actual == expected) | (np.isnan(actual) & np.isnan(expected))
        same &= np.signbit(actual) == np.signbit(expected)
    else:
        same = actual == expected
    if not same.all():
        where = tuple(int(i) for i in np.argwhere(~same)[0])
        msg = f"{what}{list(where)}={actual[where]!r}, but should be {expected[where]!r}"
        raise AssertionError(msg)


# ----------------------------------------------------------------------------
# The tutorial layer: Maxpool(X_dim, size, stride)
# ----------------------------------------------------------------------------


def test_layer_interface_matches_the_tutorial():
    pool = ic.Maxpool((3, 6, 8), size=(2, 3), stride=(2, 1))
    assert pool.params == []
    assert pool.out_dim == (3, 3, 6)
    assert (pool.h_out, pool.w_out) == (3, 6)
    assert isinstance(pool.h_out, int) and isinstance(pool.w_out, int)
    assert (pool.size, pool.stride) == ((2, 3), (2, 1))
    assert (pool.d_X, pool.h_X, pool.w_X) == (3, 6, 8)
    X = np.random.default_rng(0).standard_normal((5, 3, 6, 8))
    out = pool.forward(X)
    assert out.shape == (5, *pool.out_dim)
    assert out.dtype == X.dtype
    result = pool.backward(np.ones_like(out))
    assert isinstance(result, tuple) and len(result) == 2
    dX, grads = result
    assert grads == []
    assert dX.shape == X.shape and dX.dtype == X.dtype
    # stride 2 rows, width windows overlap: every output sends one unit of gradient
    assert dX.sum() == out.size


def test_layer_keeps_int_size_and_stride_as_given():
    pool = ic.Maxpool((1, 4, 4), 2, 2)
    assert pool.size == 2 and pool.stride == 2
    assert pool.out_dim == (1, 2, 2)


LAYER_CASES = [
    # X_dim, size, stride, N, values
    ((1, 4, 4), 2, 2, 1, "normal"),
    ((3, 6, 6), 3, 3, 2, "normal"),
    ((2, 7, 7), 3, 2, 3, "ties"),  # overlapping windows: gradients add up
    ((2, 6, 9), (2, 3), (2, 3), 2, "normal"),  # non-square size and stride
    ((2, 5, 8), (3, 2), (1, 2), 2, "ties"),
    ((1, 5, 5), (1, 5), (2, 1), 4, "normal"),
    ((2, 6, 6), 2, 1, 2, "nan"),  # NaN: the last NaN of the window, as in PyTorch
    ((2, 4, 6), (2, 2), (2, 2), 0, "normal"),  # empty batch
]


def _layer_input(shape, values, rng):
    if values == "normal":
        return rng.standard_normal(shape)
    x = rng.integers(-2, 3, shape).astype(np.float64)  # many ties
    if values == "nan":
        x[rng.random(shape) < 0.2] = np.nan
        x[rng.random(shape) < 0.1] = -np.inf
    return x


@pytest.mark.parametrize(("X_dim", "size", "stride", "n", "values"), LAYER_CASES)
def test_layer_matches_naive_oracle(X_dim, size, stride, n, values):
    rng = np.random.default_rng(len(LAYER_CASES) * n + X_dim[1])
    X = _layer_input((n, *X_dim), values, rng)
    before = X.copy()
    pool = ic.Maxpool(X_dim, size, stride)
    out = pool.forward(X)
    assert_same(out, naive.max_pool2d(X, size, stride), "forward")
    dout = rng.integers(-3, 4, out.shape).astype(np.float64)
    dX, _ = pool.backward(dout)
    assert_same(dX, naive.max_pool2d_backward(dout, X, size, stride), "backward")
    assert_same(X, before, "X after forward/backward")
    assert not np.shares_memory(out, X) and not np.shares_memory(dX, X)


def test_layer_backward_uses_the_last_forward():
    pool = ic.Maxpool((1, 4, 4), 2, 2)
    rng = np.random.default_rng(3)
    pool.forward(rng.standard_normal((5, 1, 4, 4)))
    X = rng.standard_normal((2, 1, 4, 4))
    pool.forward(X)
    dX, _ = pool.backward(np.ones((2, 1, 2, 2)))
    assert_same(dX, naive.max_pool2d_backward(np.ones((2, 1, 2, 2)), X, 2, 2), "backward")
    with pytest.raises(ValueError, match=re.escape("dout.shape=(5, 1, 2, 2)")):
        pool.backward(np.ones((5, 1, 2, 2)))


def test_layer_float32_and_int_input():
    rng = np.random.default_rng(4)
    pool = ic.Maxpool((2, 4, 6), (2, 3), (2, 3))
    X32 = rng.standard_normal((3, 2, 4, 6)).astype(np.float32)
    out = pool.forward(X32)
    assert_same(out, naive.max_pool2d(X32, (2, 3), (2, 3)), "float32 forward")
    dX, _ = pool.backward(np.ones(out.shape, np.float32))
    assert dX.dtype == np.float32
    Xi = rng.integers(-5, 5, (3, 2, 4, 6)).astype(np.int16)
    assert_same(pool.forward(Xi), naive.max_pool2d(Xi, (2, 3), (2, 3)), "int16 forward")


def _tutorial_accepts(length, k, s):
    """The tutorial's check in Python 3, plus "the window fits" (the tutorial then crashes later)."""
    return ((length - k) / s + 1).is_integer() and k <= length


def _pair(v):
    return (v, v) if isinstance(v, int) else v


GRID = list(
    itertools.product(
        range(1, 7),  # H
        (3, 4),  # W
        (1, 2, 3, 4, (1, 2), (3, 2)),  # size
        (1, 2, 3, (2, 1)),  # stride
    )
)


def test_invalid_dimensions_exactly_where_the_tutorial_raises():
    raised = 0
    for H, W, size, stride in GRID:
        (kh, kw), (sh, sw) = _pair(size), _pair(stride)
        ok = _tutorial_accepts(H, kh, sh) and _tutorial_accepts(W, kw, sw)
        if ok:
            pool = ic.Maxpool((2, H, W), size, stride)
            assert pool.out_dim == (2, (H - kh) // sh + 1, (W - kw) // sw + 1), (H, W, size, stride)
            assert pool.forward(np.zeros((1, 2, H, W))).shape == (1, *pool.out_dim)
        else:
            raised += 1
            with pytest.raises(ValueError, match="^Invalid dimensions!") as info:
                ic.Maxpool((2, H, W), size, stride)
            text = str(info.value)
            assert (
                f"X_dim=(2, {H}, {W})" in text
                and f"size={size!r}" in text
                and f"stride={stride!r}" in text
            )
    assert 0 < raised < len(GRID)  # the grid holds both kinds


def test_invalid_dimensions_is_caught_by_the_tutorials_except_exception():
    try:
        ic.Maxpool((1, 6, 6), 3, 2)  # (6 - 3) / 2 + 1 = 2.5
    except Exception as exc:  # noqa: BLE001 - the tutorial's own pattern
        assert "Invalid dimensions!" in str(exc)  # noqa: PT017 - the tutorial's pattern, kept on purpose
    else:
        pytest.fail("Maxpool((1, 6, 6), 3, 2) did not raise")


@pytest.mark.parametrize(
    ("H", "size", "stride", "h_out"),
    [(7, 3, 2, 3), (9, 3, 3, 3), (5, 1, 2, 3), (10, 4, 3, 3), (4, 4, 7, 1)],
)
def test_layer_output_size_uses_python3_division(H, size, stride, h_out):
    pool = ic.Maxpool((1, H, H), size, stride)
    assert pool.h_out == h_out and type(pool.h_out) is int
    assert pool.out_dim == (1, h_out, h_out)


def test_layer_backward_before_forward_raises():
    with pytest.raises(RuntimeError, match="before forward"):
        ic.Maxpool((1, 4, 4), 2, 2).backward(np.ones((1, 1, 2, 2)))


@pytest.mark.parametrize(
    ("X", "error", "text"),
    [
        ([[[[1.0]]]], TypeError, "X must be a numpy.ndarray"),
        (np.zeros((1, 4, 4)), ValueError, "X.shape=(1, 4, 4)"),
        (np.zeros((2, 2, 4, 4)), ValueError, "X.shape=(2, 2, 4, 4)"),
        (np.zeros((2, 1, 4, 5)), ValueError, "X.shape=(2, 1, 4, 5)"),
        (np.zeros((2, 1, 4, 4), dtype=bool), TypeError, "X.dtype=bool"),
    ],
)
def test_layer_forward_rejects_bad_x(X, error, text):
    with pytest.raises(error, match=re.escape(text)):
        ic.Maxpool((1, 4, 4), 2, 2).forward(X)


@pytest.mark.parametrize(
    ("dout", "error", "text"),
    [
        (np.ones((3, 1, 2, 2)), ValueError, "dout.shape=(3, 1, 2, 2)"),
        (np.ones((2, 1, 4, 4)), ValueError, "dout.shape=(2, 1, 4, 4)"),
        (np.ones((1, 2, 2)), ValueError, "dout.shape=(1, 2, 2)"),
        (np.ones((2, 1, 2, 2), dtype=np.int64), TypeError, "dout.dtype=int64"),
        ([[1.0]], TypeError, "dout must be a numpy.ndarray"),
    ],
)
def test_layer_backward_rejects_bad_dout(dout, error, text):
    pool = ic.Maxpool((1, 4, 4), 2, 2)
    pool.forward(np.zeros((2, 1, 4, 4)))
    with pytest.raises(error, match=re.escape(text)):
        pool.backward(dout)


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"X_dim": (1, 4), "size": 2, "stride": 2}, ValueError, "X_dim=(1, 4)"),
        ({"X_dim": (1, 4, 4), "size": 0, "stride": 2}, ValueError, "size=0"),
        ({"X_dim": (1, 4, 4), "size": 2, "stride": 0}, ValueError, "stride=0"),
        ({"X_dim": (1, 4, 4), "size": 2.0, "stride": 2}, TypeError, "size=2.0"),
        ({"X_dim": (1, 4, 4), "size": (2, 2, 2), "stride": 2}, ValueError, "size=(2, 2, 2)"),
    ],
)
def test_layer_rejects_bad_constructor_arguments(kwargs, error, text):
    with pytest.raises(error, match=re.escape(text)):
        ic.Maxpool(**kwargs)


# ----------------------------------------------------------------------------
# Cross-check of the nine functions against the naive oracle (fixed cases)
# ----------------------------------------------------------------------------

# (nd, shape, dtype, values, layout, kwargs); values: "ties" small ints, "nan", "-inf" (some),
# "all-inf" (every element -inf), "zeros" (-0.0 and +0.0), "lowest" (iinfo.min for ints)
CROSS_CASES = [
    (1, (2, 3, 9), "float64", "ties", "C", {"kernel_size": 3, "stride": 2}),
    (1, (2, 2, 8), "float64", "ties", "C", {"kernel_size": 3, "stride": 1, "padding": 1}),
    (
        1,
        (1, 2, 2),
        "float64",
        "ties",
        "C",
        {"kernel_size": 2, "stride": 1, "padding": 1, "dilation": 3},
    ),
    (1, (2, 2, 7), "float64", "ties", "C", {"kernel_size": 2, "stride": 2, "ceil_mode": True}),
    (
        1,
        (3, 10),
        "float32",
        "ties",
        "C",
        {"kernel_size": 4, "stride": 3, "padding": 2, "dilation": 2},
    ),
    (1, (2, 2, 9), "float64", "nan", "C", {"kernel_size": 3, "stride": 1}),
    (1, (2, 2, 6), "float64", "all-inf", "C", {"kernel_size": 2, "stride": 1, "padding": 1}),
    (1, (2, 2, 8), "float64", "zeros", "C", {"kernel_size": 3, "stride": 2, "padding": 1}),
    (1, (2, 3, 9), "int8", "lowest", "C", {"kernel_size": 3, "stride": 2, "padding": 1}),
    (1, (2, 3, 9), "uint8", "ties", "C", {"kernel_size": 3, "padding": 1, "ceil_mode": True}),
    (1, (0, 2, 6), "float64", "ties", "C", {"kernel_size": 2}),
    (
        1,
        (2, 2, 5),
        "float64",
        "ties",
        "C",
        {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True},
    ),
    (2, (2, 3, 6, 5), "float64", "ties", "C", {"kernel_size": (2, 3), "stride": (2, 1)}),
    (
        2,
        (2, 2, 7, 7),
        "float32",
        "ties",
        "C",
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    ),
    (
        2,
        (2, 2, 5, 6),
        "float64",
        "-inf",
        "C",
        {"kernel_size": (3, 2), "stride": (1, 2), "padding": 1, "dilation": (2, 1)},
    ),
    (
        2,
        (2, 2, 2, 2),
        "float64",
        "ties",
        "C",
        {"kernel_size": 2, "stride": 1, "padding": 1, "dilation": 3},
    ),
    (2, (2, 2, 6, 6), "float16", "nan", "C", {"kernel_size": 3, "stride": 1}),
    (2, (2, 2, 5, 5), "int64", "lowest", "C", {"kernel_size": 3, "stride": 2, "padding": 1}),
    (2, (2, 2, 6, 6), "int32", "lowest", "C", {"kernel_size": 2, "padding": 1, "dilation": 2}),
    (2, (2, 2, 6, 6), "float32", "zeros", "C", {"kernel_size": 3, "stride": 2}),
    (2, (3, 6, 7), "float64", "ties", "T", {"kernel_size": (2, 3), "stride": 2, "ceil_mode": True}),
    (2, (2, 3, 6, 6), "float64", "-inf", "F", {"kernel_size": 3, "stride": 2, "padding": 1}),
    (2, (2, 2, 6, 6), "float64", "ties", "sliced", {"kernel_size": 2, "stride": 1}),
    (
        2,
        (2, 2, 7, 6),
        "int16",
        "ties",
        "C",
        {"kernel_size": 3, "stride": 1, "padding": 1, "dilation": 2},
    ),
    (2, (2, 2, 6, 6), "float16", "ties", "C", {"kernel_size": 3, "stride": 1, "padding": 1}),
    (2, (2, 2, 2, 5), "float32", "ties", "C", {"kernel_size": 1, "stride": 2, "ceil_mode": True}),
    (3, (2, 2, 4, 5, 6), "float64", "ties", "C", {"kernel_size": (2, 3, 2), "stride": (2, 1, 2)}),
    (
        3,
        (1, 2, 5, 5, 5),
        "float32",
        "nan",
        "C",
        {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": (1, 2, 1), "ceil_mode": True},
    ),
    (
        3,
        (2, 2, 2, 2),
        "float64",
        "ties",
        "C",
        {"kernel_size": 2, "stride": 1, "padding": 1, "dilation": 3},
    ),
    (3, (2, 2, 4, 4, 4), "int8", "ties", "T", {"kernel_size": 2, "stride": 1}),
    (3, (1, 2, 3, 4, 4), "float64", "all-inf", "C", {"kernel_size": 3, "stride": 1, "padding": 1}),
    (3, (0, 3, 4, 4, 4), "float32", "ties", "C", {"kernel_size": 2}),
    (
        3,
        (2, 2, 4, 4, 4),
        "float64",
        "zeros",
        "sliced",
        {"kernel_size": (1, 2, 2), "stride": 1, "padding": (0, 1, 1)},
    ),
]


def _case_id(case):
    _, shape, dtype, values, layout, kwargs = case
    kw = ",".join(f"{k[0]}{v}" for k, v in kwargs.items())
    return f"{shape}-{dtype}-{values}-{layout}-{kw}".replace(" ", "")


def _make_input(shape, dtype, values, layout, rng):
    dtype = np.dtype(dtype)
    if layout == "sliced":  # every other element of a twice-as-wide array
        full = _make_input((*shape[:-1], 2 * shape[-1]), dtype, values, "C", rng)
        return full[..., ::2]
    if layout == "T":  # same shape, reversed memory order
        return _make_input(shape[::-1], dtype, values, "C", rng).T
    low = 0 if dtype.kind == "u" else -2
    x = rng.integers(low, 3, shape).astype(dtype)
    if values in ("nan", "-inf"):
        x[rng.random(shape) < 0.3] = -np.inf
    if values == "nan":
        x[rng.random(shape) < 0.15] = np.nan
    if values == "all-inf":
        x[...] = -np.inf
    if values == "zeros":
        x = np.where(rng.random(shape) < 0.5, -0.0, 0.0).astype(dtype)
    if values == "lowest":
        x[rng.random(shape) < 0.4] = np.iinfo(dtype).min
    if layout == "F":
        x = np.asfortranarray(x)
    return x


@pytest.mark.parametrize(
    ("seed", "case"), list(enumerate(CROSS_CASES)), ids=[_case_id(c) for c in CROSS_CASES]
)
def test_im2col_matches_naive_oracle(seed, case):
    nd, shape, dtype, values, layout, kwargs = case
    x = _make_input(shape, dtype, values, layout, np.random.default_rng(seed))
    assert x.shape == shape and x.ndim in (nd + 1, nd + 2)
    before = x.copy()
    pool = getattr(ic, f"max_pool{nd}d")

    y, idx = pool(x, return_indices=True, **kwargs)
    y_ref, idx_ref = getattr(naive, f"max_pool{nd}d")(x, return_indices=True, **kwargs)
    assert_same(y, y_ref, "y")
    assert_same(idx, idx_ref, "indices")
    assert_same(pool(x, **kwargs), y_ref, "y (no indices)")
    assert not np.shares_memory(y, x) and not np.shares_memory(idx, x)

    if x.dtype.kind == "f":
        backward = getattr(ic, f"max_pool{nd}d_backward")
        grad_out = np.random.default_rng(7).integers(-3, 4, y.shape).astype(x.dtype)
        expected = getattr(naive, f"max_pool{nd}d_backward")(grad_out, x, **kwargs)
        assert_same(backward(grad_out, x, **kwargs), expected, "grad_input")
        assert_same(
            backward(grad_out, x.shape, indices=idx, **kwargs), expected, "grad_input (indices)"
        )

    unpool_kw = {k: v for k, v in kwargs.items() if k in ("kernel_size", "stride", "padding")}
    unpool, unpool_ref = getattr(ic, f"max_unpool{nd}d"), getattr(naive, f"max_unpool{nd}d")
    try:
        out_ref = unpool_ref(y_ref, idx_ref, **unpool_kw, output_size=x.shape[-nd:])
    except ValueError:
        with pytest.raises(ValueError):
            unpool(y, idx, **unpool_kw, output_size=x.shape[-nd:])
    else:
        assert_same(unpool(y, idx, **unpool_kw, output_size=x.shape[-nd:]), out_ref, "unpool")
    assert_same(x, before, "x after the calls")


def test_cross_cases_cover_the_hard_parts():
    """The fixed cases above hold empty windows, NaN, ties on the pad value and every dtype."""
    dtypes = {c[2] for c in CROSS_CASES}
    assert dtypes >= {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8"}
    y, idx = ic.max_pool1d(np.array([[[1.0, 2.0]]]), 2, 1, 1, 3, return_indices=True)
    assert idx.tolist() == [[[-1]]] and y.tolist() == [[[-np.inf]]]


def test_padding_is_never_selected_even_when_it_ties():
    # -inf and iinfo.min equal the pad value; the first *valid* tap must win.
    x = np.array([[-np.inf, -np.inf, 5.0]])
    y, idx = ic.max_pool1d(x, 2, 2, padding=1, return_indices=True)
    assert idx.tolist() == [[0, 2]] and y.tolist() == [[-np.inf, 5.0]]
    xi = np.array([[[[-128, -128], [-128, -128]]]], dtype=np.int8)
    y, idx = ic.max_pool2d(xi, 2, 1, padding=1, return_indices=True)
    assert idx[0, 0].tolist() == [[0, 0, 1], [0, 0, 1], [2, 2, 3]]
    assert (y == -128).all()
    assert_same(idx, naive.max_pool2d(xi, 2, 1, padding=1, return_indices=True)[1], "indices")


def test_nan_goes_to_the_last_nan_and_signed_zero_follows_the_index():
    x = np.array([[np.nan, 1.0, np.nan, 2.0, -0.0, 0.0]])
    y, idx = ic.max_pool1d(x, 3, return_indices=True)
    assert idx.tolist() == [[2, 3]]
    assert np.isnan(y[0, 0]) and y[0, 1] == 2.0
    y, idx = ic.max_pool1d(x[:, 4:], 2, return_indices=True)
    assert idx.tolist() == [[0]] and np.signbit(y[0, 0])
    y, idx = ic.max_pool1d(x[:, 5:3:-1], 2, return_indices=True)  # reversed: +0.0 comes first
    assert idx.tolist() == [[0]] and not np.signbit(y[0, 0])
    grad = ic.max_pool1d_backward(np.ones((1, 2)), x, 3)
    assert grad.tolist() == [[0, 0, 1, 1, 0, 0]]


def test_unpool_skips_minus_one_and_the_last_duplicate_wins():
    y = np.array([[[1.0, 2.0, 3.0, 4.0]]])
    idx = np.array([[[1, -1, 1, 0]]])
    out = ic.max_unpool1d(y, idx, 2, output_size=(8,))
    assert_same(out, naive.max_unpool1d(y, idx, 2, output_size=(8,)), "unpool")
    assert out.tolist() == [[[4.0, 3.0, 0, 0, 0, 0, 0, 0]]]


def test_backward_accumulates_overlapping_windows_like_the_oracle():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 3, 9, 9)).astype(np.float16)
    grad_out = rng.standard_normal((2, 3, 7, 7)).astype(np.float16)
    got = ic.max_pool2d_backward(grad_out, x, 3, 1)
    assert_same(got, naive.max_pool2d_backward(grad_out, x, 3, 1), "grad_input float16")


@pytest.mark.parametrize(
    ("dtype", "big"), [(np.float16, 2048.0), (np.float32, 2.0**24), (np.float64, 2.0**53)]
)
def test_backward_sums_in_float64_then_casts(dtype, big):
    # x[2] is the maximum of three overlapping windows; big + 1 + 1 loses both
    # ones when summed in dtype, but float64 (then cast) gives big + 2, as the
    # oracle and PyTorch's CPU kernel (accumulate type) do; float64 loses them too.
    x = np.array([[0.0, 0.0, 5.0, 0.0, 0.0]], dtype=dtype)
    grad_out = np.array([[big, 1.0, 1.0]], dtype=dtype)
    expected = naive.max_pool1d_backward(grad_out, x, 3, 1)
    _, idx = ic.max_pool1d(x, 3, 1, return_indices=True)
    assert_same(ic.max_pool1d_backward(grad_out, x, 3, 1), expected, "grad_input")
    assert_same(
        ic.max_pool1d_backward(grad_out, x.shape, 3, 1, indices=idx),
        expected,
        "grad_input (indices)",
    )
    pool = ic.Maxpool((1, 1, 5), (1, 3), 1)
    pool.forward(x.reshape(1, 1, 1, 5))
    assert_same(
        pool.backward(grad_out.reshape(1, 1, 1, 3))[0], expected.reshape(1, 1, 1, 5), "layer dX"
    )
    if dtype is not np.float64:
        assert expected[0, 2] == big + 2


@pytest.mark.parametrize(
    ("length", "k", "s", "p", "expected"),
    [
        (5, 2, 2, 1, (3, 3)),
        (2, 1, 2, 0, (1, 1)),
        (6, 3, 2, 0, (2, 3)),
        (7, 3, 2, 1, (4, 4)),
        (2, 2, 1, 1, (3, 3)),
    ],
)
def test_output_length_floor_and_ceil(length, k, s, p, expected):
    # ceil mode drops a last window that would start in the right padding: (5, 2, 2, 1) has 3, not 4
    assert (
        ic.output_length(length, k, s, p),
        ic.output_length(length, k, s, p, ceil_mode=True),
    ) == expected

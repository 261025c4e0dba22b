"""Fractional max pooling with given samples: fast path against the loop oracle, against torch, validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import poolref
from poolref import _fractional_fast, _fractional_naive
from poolref import fractional as Fr

FLOATS = ("float64", "float32", "float16")


@st.composite
def fractional_cases(draw, strict3d: bool = False):
    nd = draw(st.sampled_from([2, 3]))
    dtype = np.dtype(draw(st.sampled_from(FLOATS + ("int32", "uint8"))))
    spatial = tuple(draw(st.integers(1, 7)) for _ in range(nd))
    kernel = tuple(draw(st.integers(1, n)) for n in spatial)
    limit = [n - k + 1 - (1 if strict3d and nd == 3 else 0) for n, k in zip(spatial, kernel)]
    if min(limit) < 1:
        kernel = tuple(1 for _ in spatial)
        limit = [n - (1 if strict3d and nd == 3 else 0) for n in spatial]
    if min(limit) < 1:
        spatial = tuple(n + 1 for n in spatial)
        limit = [max(lim, 1) for lim in limit]
    out = tuple(draw(st.integers(1, lim)) for lim in limit)
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *spatial)
    values = st.sampled_from(
        [-1.0, 0.0, 1.0, 2.0, float("nan")] if dtype.kind == "f" else [0, 1, 2]
    )
    x = np.array(draw(st.lists(values, min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))))
    x = x.astype(dtype).reshape(shape)
    sdtype = dtype if dtype.kind == "f" else np.dtype(np.float64)
    grid = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.7, 0.999])
    u = np.array(
        draw(
            st.lists(
                grid | st.floats(0, 0.999),
                min_size=shape[0] * shape[1] * nd,
                max_size=shape[0] * shape[1] * nd,
            )
        )
    )
    return x, kernel, out, u.astype(sdtype).reshape(shape[0], shape[1], nd)


@given(fractional_cases())
def test_fast_equals_oracle(case):
    x, k, out, u = case
    nd = len(k)
    y, i = Fr._pool(nd, "f", x, k, out, None, True, u, None)
    y2, i2 = Fr._pool(nd, "f", x, k, out, None, True, u, None, core="naive")
    np.testing.assert_array_equal(i, i2)
    assert y2.dtype == x.dtype and i2.dtype == np.int64
    assert np.array_equal(y, y2, equal_nan=True) and y.dtype == x.dtype
    assert np.array_equal(Fr._pool(nd, "f", x, k, out, None, False, u, None), y, equal_nan=True)


@pytest.mark.parametrize(
    ("u", "n", "out", "k", "expected"),
    [
        (0.5, 5, 3, 2, [0, 2, 3]),
        (0.0, 7, 3, 2, [0, 2, 5]),
        (0.9, 7, 4, 3, [0, 1, 2, 4]),
        (0.3, 4, 1, 2, [2]),
        (0.999, 10, 4, 1, [0, 3, 6, 9]),
    ],
)
def test_interval_examples(u, n, out, k, expected):
    assert _fractional_naive.interval_starts(np.float64(u), n, out, k) == expected
    got = _fractional_fast.starts(np.array([u, u]), n, out, k)
    assert got.dtype == np.int64 and got.tolist() == [expected, expected]


def test_intervals_are_computed_in_the_samples_dtype():
    # (i + u) * alpha rounds differently in float16 than in float64
    u16, u64 = np.float16(0.3333), np.float64(np.float16(0.3333))
    a = _fractional_naive.interval_starts(u16, 100, 11, 1)
    b = _fractional_naive.interval_starts(u64, 100, 11, 1)
    assert a != b
    assert _fractional_fast.starts(np.array([u16]), 100, 11, 1).tolist() == [a]
    assert _fractional_fast.starts(np.array([u64]), 100, 11, 1).tolist() == [b]


def test_sample_order_is_torchs():
    x = np.arange(81.0).reshape(1, 1, 9, 9)
    u = np.array([[[0.0, 0.5]]])  # sample 0: width, sample 1: height
    _, i = poolref.fractional_max_pool2d(x, 1, output_size=4, random_samples=u, return_indices=True)
    rows, cols = [0, 3, 5, 8], [0, 2, 5, 8]
    assert i[0, 0].tolist() == [[r * 9 + c for c in cols] for r in rows]
    _, i3 = poolref.fractional_max_pool3d(
        np.arange(729.0).reshape(1, 1, 9, 9, 9),
        1,
        output_size=4,
        random_samples=np.array([[[0.5, 0.0, 0.5]]]),
        return_indices=True,
    )
    assert i3[0, 0, :, 0, 0].tolist() == [t * 81 for t in rows]
    assert i3[0, 0, 0, :, 0].tolist() == [h * 9 for h in cols]
    assert i3[0, 0, 0, 0, :].tolist() == rows


def test_rng_output_ratio_unbatched_and_backward():
    x = np.random.default_rng(0).standard_normal((3, 8, 8))
    a = poolref.fractional_max_pool2d(x, 2, output_ratio=0.5, rng=np.random.default_rng(5))
    b = poolref.fractional_max_pool2d(x, 2, output_size=(4, 4), rng=np.random.default_rng(5))
    assert a.shape == (3, 4, 4)
    np.testing.assert_array_equal(a, b)
    u = np.random.default_rng(5).random((1, 3, 2))
    y, i = poolref.fractional_max_pool2d(x, 2, output_size=4, random_samples=u, return_indices=True)
    np.testing.assert_array_equal(y, a)
    yb = poolref.fractional_max_pool2d(x[None], 2, output_size=4, random_samples=u)
    np.testing.assert_array_equal(yb[0], y)
    g = np.ones_like(y)
    grad = poolref.fractional_max_pool2d_backward(g, x, 2, output_size=4, random_samples=u)
    np.testing.assert_array_equal(
        grad, poolref.fractional_max_pool2d_backward(g, x.shape, 2, indices=i)
    )
    assert grad.sum() == y.size and grad.shape == x.shape
    np.testing.assert_array_equal(grad.reshape(3, -1)[0][i[0].ravel()] > 0, True)


BAD = [
    ({"kernel_size": 2}, ValueError, "exactly one of output_size and output_ratio"),
    ({"kernel_size": 2, "output_size": 2, "output_ratio": 0.5}, ValueError, "exactly one"),
    ({"kernel_size": 0, "output_size": 2}, ValueError, "kernel_size must be >= 1"),
    (
        {"kernel_size": 3, "output_size": 3},
        ValueError,
        "output size 3 with kernel_size 3 does not fit the input size 4",
    ),
    ({"kernel_size": 2, "output_ratio": 1.5}, ValueError, "output_ratio must be a float in (0, 1)"),
    (
        {"kernel_size": 2, "output_size": 2, "random_samples": np.zeros((1, 1, 3))},
        ValueError,
        "random_samples.shape=(1, 1, 3) must be (1, 1, 2)",
    ),
    (
        {"kernel_size": 2, "output_size": 2, "random_samples": np.ones((1, 1, 2))},
        ValueError,
        "random_samples must lie in [0, 1)",
    ),
    (
        {"kernel_size": 2, "output_size": 2, "random_samples": np.zeros((1, 1, 2), np.float32)},
        TypeError,
        "random_samples.dtype=float32 must match x.dtype=float64",
    ),
    (
        {"kernel_size": 2, "output_size": 2, "rng": 1},
        TypeError,
        "rng must be a numpy.random.Generator",
    ),
    (
        {"kernel_size": 2, "output_size": 2, "return_indices": 1},
        TypeError,
        "return_indices must be a bool",
    ),
]


@pytest.mark.parametrize(("kwargs", "error", "text"), BAD)
def test_bad_arguments(kwargs, error, text):
    with pytest.raises(error, match="^fractional_max_pool2d: ") as info:
        poolref.fractional_max_pool2d(np.zeros((1, 1, 4, 4)), **kwargs)
    assert text in str(info.value)


def test_bad_backward_arguments():
    f = poolref.fractional_max_pool3d_backward
    x = np.zeros((1, 4, 4, 4))
    g = np.zeros((1, 2, 2, 2))
    with pytest.raises(
        ValueError, match="^fractional_max_pool3d_backward: pass random_samples or indices"
    ):
        f(g, x, 2, output_size=2)
    with pytest.raises(ValueError, match="got -1"):
        f(g, x.shape, 2, indices=np.full(g.shape, -1))
    with pytest.raises(ValueError, match="does not match"):
        f(
            np.zeros((2, 2, 2, 2)),
            (2, 4, 4, 4),
            2,
            indices=np.zeros((2, 2, 2, 2), dtype=np.int64)[:1],
        )


@pytest.mark.torch
@given(fractional_cases(strict3d=True))
def test_values_indices_and_gradients_equal_torch(case):
    torch = pytest.importorskip("torch")
    x, k, out, u = case
    if x.dtype.kind != "f":
        return  # torch: floats only
    nd = len(k)
    fn = getattr(torch.nn.functional, f"fractional_max_pool{nd}d")
    t = torch.from_numpy(x.copy()).requires_grad_()
    ty, ti = fn(t, k, output_size=out, return_indices=True, _random_samples=torch.from_numpy(u))
    y, i = getattr(poolref, f"fractional_max_pool{nd}d")(
        x, k, output_size=out, random_samples=u, return_indices=True
    )
    assert np.array_equal(y, ty.detach().numpy(), equal_nan=True)
    np.testing.assert_array_equal(i, ti.numpy())
    g = np.ones(y.shape, dtype=x.dtype)
    ty.backward(torch.from_numpy(g))
    grad = getattr(poolref, f"fractional_max_pool{nd}d_backward")(
        g, x, k, output_size=out, random_samples=u
    )
    np.testing.assert_array_equal(grad, t.grad.numpy())


@pytest.mark.parametrize("nd", [2, 3])
def test_each_public_function(nd):
    fwd = getattr(poolref, f"fractional_max_pool{nd}d")
    bwd = getattr(poolref, f"fractional_max_pool{nd}d_backward")
    x = np.random.default_rng(nd).standard_normal((2, 1, *(6,) * nd))
    u = np.random.default_rng(1).random((2, 1, nd))
    y = fwd(x, 2, output_ratio=0.5, rng=np.random.default_rng(3))
    assert isinstance(y, np.ndarray) and y.shape == (2, 1, *(3,) * nd)
    u3 = np.random.default_rng(3).random((2, 1, nd))
    np.testing.assert_array_equal(y, fwd(x, 2, output_size=3, random_samples=u3))
    yi, i = fwd(x, 2, output_size=3, random_samples=u, return_indices=True)
    for core in ("fast", "naive"):  # the oracle too, with the sample order of every rank
        y2, i2 = Fr._pool(nd, "f", x, (2,) * nd, (3,) * nd, None, True, u, None, core=core)
        np.testing.assert_array_equal(i2, i)
    g = np.random.default_rng(0).standard_normal(yi.shape)
    grad = bwd(g, x, 2, output_ratio=0.5, random_samples=u)
    np.testing.assert_array_equal(grad, bwd(g, x.shape, 2, indices=i))
    np.testing.assert_array_equal(bwd(g[0], x[0].shape, 2, indices=i[0]), grad[0])
    np.testing.assert_allclose(grad.sum(), g.sum())
    name = f"fractional_max_pool{nd}d"
    with pytest.raises(ValueError, match=f"^{name}: pass exactly one"):
        fwd(x, 2)
    cases = [
        (
            (g.astype(np.int64), x, 2),
            {"output_size": 3, "random_samples": u},
            TypeError,
            "grad_output.dtype=int64",
        ),
        (
            (g, x.shape, 2),
            {"indices": np.full(i.shape, -1)},
            ValueError,
            f"indices must be in [0, {6**nd}), got -1",
        ),
        ((g, x.shape, 2), {"indices": i[:, :, :1]}, ValueError, "indices.shape="),
        ((g, x.shape[1:], 2), {"indices": i}, ValueError, "does not match x.shape="),
        ((g, (6,), 2), {"indices": i}, ValueError, "x.shape=(6,)"),
        ((g, x.shape, 2), {}, ValueError, "pass random_samples or indices"),
        (
            (g, x.shape, 2),
            {"random_samples": u, "output_size": 3},
            TypeError,
            "x must be a numpy.ndarray",
        ),
    ]
    for args, kwargs, error, text in cases:
        with pytest.raises(error, match=f"^{name}_backward: ") as info:
            bwd(*args, **kwargs)
        assert text in str(info.value)
    shape = (1, 1, *(6,) * nd)
    message = f"grad_output.shape=(2, 1, {', '.join(['3'] * nd)}) does not match x.shape={shape}"
    with pytest.raises(ValueError, match=f"^{name}_backward: ") as info:
        bwd(g, shape, 2, indices=i)
    assert message in str(info.value)

"""The public wrapper and argument validation: claims the rest of the suite left unchecked.

Found by mutation testing (issue 19): the 3-d forward's and the 2-d/3-d backwards' names in
their errors, the 3-d backward's ``ceil_mode`` default, the allocation checks' byte counts
(``elements * itemsize``, over every ``(n, c)`` plane), and the validation's boundaries at
``2**63 - 1`` and ``padding = kernel_size // 2`` for kernels too large for a float.

Plain-int calls of ``normalize_pool_args`` are cached, and mutmut forks every mutant's test run
from a process that has already run the suite: a cached call would never reach a mutant. So
each test here starts from empty argument caches.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from poolref import _params, fast, im2col, naive

IMPLS = pytest.mark.parametrize("impl", [fast, im2col, naive], ids=lambda m: m.__name__)
INT64_MAX = 2**63 - 1


@pytest.fixture(autouse=True)
def _cold_argument_caches():
    _params._normalize_cached.cache_clear()
    _params.output_shape.cache_clear()


def _raises(error, text):
    return pytest.raises(error, match="^" + re.escape(text) + "$")


# ---------------------------------------------------------------------------- names and defaults


@IMPLS
def test_the_3d_forward_names_itself(impl):
    text = (
        "max_pool3d: computed output size (0, 0, 0) is too small (every size must be >= 1) for "
        "input spatial size (1, 1, 1) with kernel_size=(2, 2, 2), stride=(2, 2, 2), "
        "padding=(0, 0, 0), dilation=(1, 1, 1), ceil_mode=False"
    )
    with _raises(ValueError, text):
        impl.max_pool3d(np.zeros((1, 1, 1, 1, 1)), 2)


@IMPLS
@pytest.mark.parametrize("nd", [2, 3])
def test_the_2d_and_3d_backwards_name_themselves(impl, nd):
    x = np.zeros((1, 1) + (4,) * nd)
    g = np.zeros((1, 1) + (2,) * nd)
    text = f"max_pool{nd}d_backward: kernel_size must be >= 1 in every dimension, got kernel_size=0"
    with _raises(ValueError, text):
        getattr(impl, f"max_pool{nd}d_backward")(g, x, 0)


@IMPLS
def test_the_3d_backward_floors_by_default(impl):
    # spatial 3, kernel 2: floor mode has one window per dimension, ceil mode two
    x = np.arange(27.0).reshape(1, 1, 3, 3, 3)
    g = np.full((1, 1, 1, 1, 1), 5.0)
    grad = impl.max_pool3d_backward(g, x, 2)
    expected = np.zeros_like(x)
    expected[0, 0, 1, 1, 1] = 5.0  # the maximum of x[..., :2, :2, :2]
    np.testing.assert_array_equal(grad, expected)


# ---------------------------------------------------------------------------- allocation checks


@IMPLS
@pytest.mark.parametrize("dtype", [np.float16, np.float64])
def test_the_backward_counts_the_gradient_bytes_as_elements_times_itemsize(
    impl, dtype, monkeypatch
):
    # grad_input of x.shape = (2, 3, 100): 600 elements
    nbytes = 600 * np.dtype(dtype).itemsize
    g = np.ones((2, 3, 50), dtype)
    idx = np.zeros((2, 3, 50), np.int64)
    monkeypatch.setattr(_params, "machine_bytes", lambda: nbytes)
    grad = impl.max_pool1d_backward(g, (2, 3, 100), 2, indices=idx)  # exactly fits
    assert grad.shape == (2, 3, 100) and grad.dtype == dtype
    monkeypatch.setattr(_params, "machine_bytes", lambda: nbytes - 1)
    with pytest.raises(ValueError, match=rf"^max_pool1d_backward: .* would need {nbytes:,} bytes"):
        impl.max_pool1d_backward(g, (2, 3, 100), 2, indices=idx)


@IMPLS
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
def test_the_unpool_counts_the_output_bytes_of_every_plane(impl, nd, batched, monkeypatch):
    # y: 2 x 8 planes of one element; kernel 3: each output plane has 3**nd elements
    shape = ((2, 8) if batched else (8,)) + (1,) * nd
    y = np.ones(shape)
    idx = np.zeros(shape, np.int64)
    planes = 16 if batched else 8
    nbytes = planes * 3**nd * 8
    unpool = getattr(impl, f"max_unpool{nd}d")
    monkeypatch.setattr(_params, "machine_bytes", lambda: nbytes)
    out = unpool(y, idx, 3)  # exactly fits
    assert out.shape == shape[: -nd or None] + (3,) * nd
    monkeypatch.setattr(_params, "machine_bytes", lambda: nbytes - 1)
    with pytest.raises(ValueError, match=rf"^max_unpool{nd}d: .* would need {nbytes:,} bytes"):
        unpool(y, idx, 3)


# ---------------------------------------------------------------------------- validation boundaries


@pytest.mark.parametrize("name", ["kernel_size", "stride", "dilation"])
def test_int64_max_itself_is_accepted(name):
    kwargs = {"kernel_size": 1, "stride": None, "padding": 0, "dilation": 1, name: INT64_MAX}
    params = _params.normalize_pool_args(1, ceil_mode=False, func="f", **kwargs)
    assert getattr(params, name) == (INT64_MAX,)


@pytest.mark.parametrize("name", ["kernel_size", "stride", "dilation"])
def test_a_size_beyond_int64_is_reported_as_given(name):
    # a list is reported as the user wrote it, not as the normalised tuple
    kwargs = {"kernel_size": 1, "stride": None, "padding": 0, "dilation": 1, name: [2**63]}
    text = f"f: {name} must be at most 2**63 - 1 in every dimension, got {name}=[{2**63}]"
    with _raises(ValueError, text):
        _params.normalize_pool_args(1, ceil_mode=False, func="f", **kwargs)


# odd and even kernels, and kernels whose half is not a float (k / 2 rounds up to k // 2 + 1)
HUGE_KERNELS = [1, 2, 3, 8, 9, 2**53 + 1, 2**55 + 7, INT64_MAX]


@pytest.mark.parametrize("k", HUGE_KERNELS)
def test_padding_up_to_half_the_kernel_is_accepted_and_no_more(k):
    params = _params.normalize_pool_args(1, k, None, k // 2, 1, False, func="f")
    assert params.padding == (k // 2,)
    text = (
        "f: padding must be at most half of kernel_size in every dimension, "
        f"got padding={k // 2 + 1} with kernel_size={k}"
    )
    with _raises(ValueError, text):
        _params.normalize_pool_args(1, k, None, k // 2 + 1, 1, False, func="f")

"""``poolref.fast`` at its edges: claims the rest of the suite left unchecked.

Found by mutation testing (issue 19): kernels with more taps than a float64 holds exactly
(``2**60`` taps: the tap codes must stay integers), strides whose plane offsets exceed int64
(the index arithmetic wraps modulo 2**64), an empty batch without indices, the taps the
geometry visits (every tap some output reads, and only O(outputs) others, whatever the
kernel's size), and the overlapping backward's scratch memory (one block of about ``CHUNK``
outputs or one plane, not a whole sample).

The geometry is cached per shape, and mutmut forks every mutant's test run from a process that
has already run the suite: a cached geometry would never reach a mutant. So each test here
starts from empty caches.
"""

from __future__ import annotations

import gc
import tracemalloc
from unittest import mock

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from poolref import _fast_geometry, _fast_kernels, _params, fast, im2col, naive

IMPLS = pytest.mark.parametrize("impl", [fast, im2col, naive], ids=lambda m: m.__name__)


@pytest.fixture(autouse=True)
def _cold_caches():
    _params._normalize_cached.cache_clear()
    _params.output_shape.cache_clear()
    _fast_geometry._geometry.entries.clear()
    _fast_geometry._axis_passes.entries.clear()


# ---------------------------------------------------------------------------- huge kernels


@IMPLS
@pytest.mark.parametrize(
    "value", [1.0, -np.inf, np.int8(-128), np.int8(3)], ids=["one", "-inf", "int8-min", "int8"]
)
def test_a_kernel_of_2_to_the_60_taps_finds_the_one_element(impl, value):
    # kernel 2**20 per dimension, padding 2**19: the only valid tap of the one window is tap
    # 2**59 + 2**39 + 2**19, whose code (tap + 1) is not a float64 (53-bit mantissa).
    # A window of lowest values takes its first valid tap (the same one here).
    x = np.full((1, 1, 1, 1, 1), value)
    k = 2**20
    y, idx = impl.max_pool3d(x, k, padding=k // 2, return_indices=True)
    assert y.tolist() == x.tolist() and y.dtype == x.dtype
    assert idx.tolist() == [[[[[0]]]]]
    if x.dtype.kind == "f":
        g = impl.max_pool3d_backward(np.full(y.shape, 2.0), x, k, padding=k // 2)
        assert g.tolist() == [[[[[2.0]]]]]


@IMPLS
@pytest.mark.parametrize("stride", [2**63 - 1, 2**62 + 1])
def test_a_stride_whose_plane_offset_exceeds_int64_indexes_exactly(impl, stride):
    # along H, stride * W = 2 * stride >= 2**63: the index arithmetic must wrap, not overflow
    x = np.array([[[[1.0, 5.0], [7.0, 2.0]]]])
    y, idx = impl.max_pool2d(x, 1, stride=(stride, 1), return_indices=True)
    assert y.tolist() == [[[[1.0, 5.0]]]] and idx.tolist() == [[[[0, 1]]]]
    y, idx = impl.max_pool2d(x, (1, 2), stride=(stride, 1), return_indices=True)
    assert y.tolist() == [[[[5.0]]]] and idx.tolist() == [[[[1]]]]


@IMPLS
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int8", "uint8"])
def test_an_empty_batch_pools_to_an_empty_output(impl, dtype):
    for return_indices in (False, True):
        out = impl.max_pool1d(np.zeros((0, 2, 5), dtype), 2, return_indices=return_indices)
        y = out[0] if return_indices else out
        assert y.shape == (0, 2, 2) and y.dtype == dtype


# ---------------------------------------------------------------------------- the taps visited


def _read_taps(length, n_out, k, s, p, d):
    """Brute force: every tap j some output o reads inside the input (input o*s + j*d - p)."""
    taps = set()
    for o in range(n_out):
        for i in range(length):
            j, r = divmod(i + p - o * s, d)
            if r == 0 and 0 <= j < k:
                taps.add(j)
    return taps


@st.composite
def _dims(draw):
    k = draw(st.integers(1, 12))
    p = draw(st.integers(0, k // 2))
    length = draw(st.integers(1, 12))
    s = draw(st.integers(1, 14))
    d = draw(st.integers(1, 4))
    ceil = draw(st.booleans())
    return length, k, s, p, d, ceil


@given(dims=_dims())
# one window of a huge kernel reading one element at tap 10**9 (a range from 0 would be 10**9 long)
@example(dims=(1, 2 * 10**9, 2 * 10**9, 10**9, 1, False))
# two windows of a huge kernel reading taps 10**6 - 10**5 and 10**6 (a big stride, big padding)
@example(dims=(1, 2 * 10**6, 10**5, 10**6, 1, True))
@example(dims=(1, 40, 10, 20, 1, True))
@example(dims=(3, 2 * 10**6, 10**5, 10**6, 2, True))
def test_the_geometry_visits_every_tap_read_and_o_of_the_outputs_others(dims):
    length, k, s, p, d, ceil = dims
    n_out = _params.output_size(length, k, s, p, d, ceil)
    if n_out < 1:
        return
    taps = _fast_geometry._touching_taps(length, n_out, k, s, p, d)
    read = _read_taps(length, n_out, k, s, p, d)
    # taps no output reads cost work, but at most O(n_out) of them, whatever k is (the bound
    # is looser than the code's own threshold of 4 * n_out + 1: any O(n_out) choice is fine)
    assert len(taps) <= len(read) + 8 * n_out + 1, (len(taps), len(read), n_out)
    taps = list(taps)
    assert taps == sorted(set(taps)), "increasing, no repeats"
    assert all(0 <= j < k for j in taps)
    assert read <= set(taps)


# ---------------------------------------------------------------------------- backward scratch


def _scratch_bytes(call):
    """tracemalloc peak during ``call()`` above the array it returns."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        result = call()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return peak - result.nbytes


# NumPy's buffered casts (np.equal into the unsigned view of the term buffer) add a fixed ~0.27 MB
NUMPY_BUFFERS = 384 * 1024


@pytest.mark.parametrize(
    ("shape", "chunk"),
    [((1, 2, 400, 200), 2**14), ((2, 1, 400, 200), 81920)],
    ids=["planes-over-chunk", "samples-near-chunk"],
)
def test_the_overlapping_backward_needs_one_block_of_scratch(shape, chunk):
    # stride 1 with padding 1: every output plane is the input plane's size; the layer keeps the
    # codes, so its backward needs grad_input plus one block of about CHUNK outputs or one plane
    # (whichever is larger, docs/memory.md), never more (not two planes, nor a whole sample).
    x = np.random.default_rng(0).standard_normal(shape)
    layer = fast.MaxPool2d(3, 1, 1)
    y, idx = fast.max_pool2d(x, 3, 1, 1, return_indices=True)
    np.testing.assert_array_equal(layer.forward(x), y)
    g = np.ones_like(y)
    with mock.patch.object(_fast_kernels, "CHUNK", chunk):
        scratch = _scratch_bytes(lambda: layer.backward(g))
        grad = layer.backward(g)
    bound = max(chunk, shape[2] * shape[3]) * g.itemsize
    assert scratch <= bound + NUMPY_BUFFERS, (scratch, bound)
    np.testing.assert_array_equal(grad, fast.max_pool2d_backward(g, x.shape, 3, 1, 1, indices=idx))

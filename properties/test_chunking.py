"""The fast path's results do not depend on how it splits its work.

``poolref.fast`` bounds its temporaries by working in chunks of ``_fast_kernels.CHUNK``
elements (index lookup, the overlapping backward's blocks, the scatters of backward-from-indices
and unpool), and its geometry caches are bounded by ``_fast_geometry.CACHE_TAPS``. With the
default sizes the small cases of the rest of the suite fit in one chunk, so a wrong chunk boundary
would go unseen there. Here the chunk size is made tiny (1 element up to a few planes) and every
result is compared with the naive oracle, exactly (gradients with integer values, so every sum is
exact).
"""

from __future__ import annotations

from unittest import mock

import _assertions as pa
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from poolref import _fast_geometry, _fast_kernels, fast, naive
from poolref import strategies as ps

SMALL = {"max_elements": 128}
CHUNKS = st.sampled_from([1, 2, 3, 5, 8, 13, 64])
FLOATS = ("float64", "float32")


@pa.with_hard_cases(chunk=1)
@given(case=ps.pool_cases(**SMALL), chunk=CHUNKS)
def test_forward_with_indices_does_not_depend_on_the_chunk_size(case, chunk):
    with mock.patch.object(_fast_kernels, "CHUNK", chunk):
        y, idx = pa.pool(fast, case, return_indices=True)
    y_ref, idx_ref = pa.pool(naive, case, return_indices=True)
    pa.assert_pool_equal(y, y_ref, case=case, name="y", return_indices=True)
    pa.assert_pool_equal(idx, idx_ref, case=case, name="indices", return_indices=True)


@pytest.mark.parametrize("source", ["input", "indices"])
@pa.with_hard_cases(pa.is_float, chunk=1, seed=0)
@given(case=ps.pool_cases(dtypes=FLOATS, **SMALL), chunk=CHUNKS, seed=st.integers(0, 2**32 - 1))
def test_backward_does_not_depend_on_the_chunk_size(source, case, chunk, seed):
    y, idx = pa.pool(naive, case, return_indices=True)
    g = pa.integer_gradients(y.shape, y.dtype, seed)
    kwargs = case.kwargs()
    if source == "indices":
        kwargs["indices"] = idx
    with mock.patch.object(_fast_kernels, "CHUNK", chunk):
        grad = pa.backward(fast, case.nd)(g, case.x, **kwargs)
    grad_ref = pa.backward(naive, case.nd)(g, case.x, **case.kwargs())
    pa.assert_pool_equal(
        grad, grad_ref, case=case, name="grad_input", func=f"max_pool{case.nd}d_backward"
    )


@pa.with_hard_cases(lambda case: case.dilation == (1,) * case.nd, chunk=1)
@given(case=ps.pool_cases(dilation=False, **SMALL), chunk=CHUNKS)
def test_unpool_does_not_depend_on_the_chunk_size(case, chunk):
    y, idx = pa.pool(naive, case, return_indices=True)
    kw = pa.unpool_kwargs(case)
    with mock.patch.object(_fast_kernels, "CHUNK", chunk):
        out = pa.unpool(fast, case.nd)(y, idx, **kw)
    out_ref = pa.unpool(naive, case.nd)(y, idx, **kw)
    pa.assert_pool_equal(out, out_ref, case=case, name="unpooled", func=f"max_unpool{case.nd}d")


def test_a_long_plane_is_split_into_several_chunks_with_the_same_result():
    # one plane of 1,000 outputs, 3 taps each: every chunk size splits it differently
    x = np.random.default_rng(0).permutation(3000).astype(np.float64).reshape(1, 1, 3000)
    y_ref, idx_ref = naive.max_pool1d(x, 3, return_indices=True)
    g = np.arange(1000, dtype=np.float64).reshape(1, 1, 1000)
    grad_ref = naive.max_pool1d_backward(g, x, 3, indices=idx_ref)
    unpooled_ref = naive.max_unpool1d(y_ref, idx_ref, 3, output_size=(3000,))
    for chunk in (1, 7, 999, 1000, 1001):
        with mock.patch.object(_fast_kernels, "CHUNK", chunk):
            y, idx = fast.max_pool1d(x, 3, return_indices=True)
            grad = fast.max_pool1d_backward(g, x, 3, indices=idx)
            unpooled = fast.max_unpool1d(y, idx, 3, output_size=(3000,))
        np.testing.assert_array_equal(y, y_ref, err_msg=f"CHUNK={chunk}")
        np.testing.assert_array_equal(idx, idx_ref, err_msg=f"CHUNK={chunk}")
        np.testing.assert_array_equal(grad, grad_ref, err_msg=f"CHUNK={chunk}")
        np.testing.assert_array_equal(unpooled, unpooled_ref, err_msg=f"CHUNK={chunk}")


@pytest.mark.parametrize("n_planes", [1, 5, 64])
@pytest.mark.parametrize("per_plane", [0, 1, 7, 100])
@pytest.mark.parametrize("chunk", [1, 8, 2**16])
def test_plane_chunks_are_disjoint_in_order_cover_every_plane_and_stay_within_the_chunk(
    n_planes, per_plane, chunk
):
    with mock.patch.object(_fast_kernels, "CHUNK", chunk):
        slices = list(_fast_kernels._plane_chunks(n_planes, per_plane))
    covered = [i for sl in slices for i in range(sl.start, sl.stop)]
    assert covered == list(range(n_planes))
    largest = max(sl.stop - sl.start for sl in slices)
    assert largest == min(n_planes, max(1, chunk // max(per_plane, 1)))


@pytest.mark.parametrize("shape", [(1, 1, 5), (3, 4, 2, 3), (2, 70, 9), (4, 1, 1)])
@pytest.mark.parametrize("chunk", [1, 8, 60, 2**16])
def test_blocks_tile_the_batch_and_channels_exactly_once(shape, chunk):
    seen = np.zeros(shape[:2], dtype=int)
    with mock.patch.object(_fast_kernels, "CHUNK", chunk):
        for n, c in _fast_kernels._blocks(shape):
            seen[n, c] += 1
    assert (seen == 1).all()


# ----------------------------------------------------------------------------
# The bounded cache: what it keeps, what it drops
# ----------------------------------------------------------------------------


def _cache(budget: int):
    calls = []

    @_fast_geometry._bounded_cache(budget, len)
    def make(n: int) -> str:
        calls.append(n)
        return "x" * n

    return make, calls


def test_the_bounded_cache_answers_a_repeated_key_without_recomputing():
    make, calls = _cache(10)
    assert make(3) == "xxx" and make(3) == "xxx"
    assert calls == [3]


def test_the_bounded_cache_keeps_a_value_exactly_the_size_of_its_budget():
    make, calls = _cache(10)
    make(10)
    make(10)
    assert calls == [10]
    assert list(make.entries) == [(10,)]


def test_the_bounded_cache_never_keeps_a_value_larger_than_its_budget():
    make, calls = _cache(10)
    assert make(11) == "x" * 11
    make(11)
    assert calls == [11, 11]
    assert make.entries == {}


def test_the_bounded_cache_drops_the_least_recently_used_until_it_fits():
    make, calls = _cache(10)
    make(4)
    make(3)
    make(4)  # 4 is now the most recently used
    make(5)  # 4 + 3 + 5 = 12 > 10: the least recently used (3) goes
    assert list(make.entries) == [(4,), (5,)]
    make(1)  # 4 + 5 + 1 = 10 fits exactly: nothing goes
    assert list(make.entries) == [(4,), (5,), (1,)]
    assert sum(len(v) for v in make.entries.values()) == 10
    assert calls == [4, 3, 5, 1]


def test_the_bounded_cache_keeps_the_wrapped_function_and_its_docstring():
    def make(n: int) -> str:
        """Docstring."""
        return "x" * n

    cached = _fast_geometry._bounded_cache(10, len)(make)
    assert cached.__wrapped__ is make
    assert cached.__doc__ == "Docstring."

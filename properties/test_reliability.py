"""Issue 12: array subclasses, bounded caches, work bounded by input and output.

The rule for array subclasses (docs/memory.md): ``np.matrix`` and masked arrays
are rejected with a ``TypeError`` naming the argument and its type (a matrix is
always 2-D and a mask would be ignored, so neither can be pooled as the user
means); every other ``ndarray`` subclass is pooled as a plain ndarray and every
result is a plain ``numpy.ndarray``.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import poolref.fast
import poolref.im2col
import poolref.naive

pytestmark = pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")

IMPLS = (poolref.fast, poolref.im2col, poolref.naive)
IDS = ("fast", "im2col", "naive")


class Tagged(np.ndarray):
    """An ndarray subclass that changes nothing (like a user's unit-carrying array)."""


def _bad_kinds(x):
    return (
        (np.asmatrix(x.reshape(x.shape[0], -1)), "matrix"),
        (np.ma.masked_array(x, mask=np.zeros(x.shape, bool)), "MaskedArray"),
    )


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
def test_matrix_and_masked_arrays_are_rejected_everywhere(impl):
    x = np.arange(12.0).reshape(2, 6)
    y, idx = impl.max_pool1d(x, 2, return_indices=True)
    g = np.ones_like(y)
    calls = {
        "x": lambda bad: impl.max_pool1d(bad, 2),
        "x ": lambda bad: impl.max_pool1d_backward(g, bad, 2),
        "grad_output": lambda bad: impl.max_pool1d_backward(bad, x, 2),
        "grad_output ": lambda bad: impl.max_pool1d_backward(bad, x, 2, indices=idx),
        "y": lambda bad: impl.max_unpool1d(bad, idx, 2),
    }
    for name, call in calls.items():
        source = x if name.startswith("x") else (g if name.startswith("grad") else y)
        for bad, kind in _bad_kinds(source):
            with pytest.raises(
                TypeError, match=rf"{name.strip()} must be a plain numpy.ndarray.*{kind}"
            ):
                call(bad)


@pytest.mark.parametrize("layer", [poolref.fast.MaxPool1d(2)], ids=["fast.MaxPool1d"])
def test_layers_reject_matrix_and_masked(layer):
    x = np.arange(12.0).reshape(2, 6)
    for bad, kind in _bad_kinds(x):
        with pytest.raises(TypeError, match=rf"x must be a plain numpy.ndarray.*{kind}"):
            layer.forward(bad)
    layer.forward(x)
    for bad, kind in _bad_kinds(np.ones((2, 3))):
        with pytest.raises(TypeError, match=rf"grad_output must be a plain numpy.ndarray.*{kind}"):
            layer.backward(bad)
    pool = poolref.im2col.Maxpool((1, 2, 2), 2, 2)
    with pytest.raises(TypeError, match=r"X must be a plain numpy.ndarray.*MaskedArray"):
        pool.forward(np.ma.masked_array(np.ones((1, 1, 2, 2))))


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
def test_other_subclasses_give_plain_ndarrays_and_the_same_values(impl):
    x = np.array([[[1.0, 9.0, 2.0, 0.0, 4.0, 4.0], [3.0, -1.0, 7.0, 7.0, 0.0, 5.0]]])
    sub = x.view(Tagged)
    results = [
        impl.max_pool1d(sub, 2),
        *impl.max_pool1d(sub, 3, 1, 1, return_indices=True),
        impl.max_pool1d_backward(np.ones((1, 2, 3)).view(Tagged), sub, 2),
        impl.max_pool1d_backward(np.ones((1, 2, 6)).view(Tagged), sub, 3, 1, 1),
    ]
    y, idx = impl.max_pool1d(x, 2, return_indices=True)
    results.append(impl.max_unpool1d(y.view(Tagged), idx, 2))
    for r in results:
        assert type(r) is np.ndarray, type(r)
    np.testing.assert_array_equal(results[0], y)
    np.testing.assert_array_equal(results[1], poolref.naive.max_pool1d(x, 3, 1, 1))


def test_fast_layer_returns_plain_ndarrays_for_subclasses():
    layer = poolref.fast.MaxPool1d(3, 1, 1)
    x = np.arange(12.0).reshape(2, 6).view(Tagged)
    assert type(layer.forward(x)) is np.ndarray
    assert type(layer.backward(np.ones((2, 6)).view(Tagged))) is np.ndarray


# ----------------------------------------------------------------------------
# Caches hold a bounded number of bytes, whatever the call sequence.
# ----------------------------------------------------------------------------


def _retained_bytes(calls) -> int:
    """Bytes still allocated after ``calls()`` returned and its results were dropped."""
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        calls()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_all_lowest_windows_leave_no_large_cache_entries():
    # uint8 zeros: every window's taps equal the lowest value (the first-valid-tap path);
    # 100 distinct shapes of 20,000+ outputs used to keep 100 int64 arrays (16 MB).
    def calls():
        for n in range(20_000, 20_100):
            poolref.fast.max_pool1d(np.zeros((1, 1, n), np.uint8), 3, 1, 1, return_indices=True)
            poolref.fast.MaxPool1d(3, 1, 1).forward(np.full((1, n), -np.inf, np.float32))

    assert _retained_bytes(calls) < 4 * 2**20  # 15.5 MB before, 0.2 MB after


def test_geometry_caches_are_bounded_by_bytes():
    # 256-tap kernels on 80 distinct shapes: every geometry (256 boxes each) used to stay cached.
    def calls():
        for h in range(16, 96):
            x = np.ones((1, 1, h, 16), np.float32)
            poolref.fast.max_pool2d(x, 16, 1, return_indices=True)
            poolref.fast.max_pool2d(x, 16, 1)

    assert _retained_bytes(calls) < 3 * 2**20  # 5.2 MB before the byte bound, 1.7 MB after


# ----------------------------------------------------------------------------
# Work is bounded by the input and output, not by the kernel.
# ----------------------------------------------------------------------------


def _timed(call):
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
def test_a_huge_padded_kernel_on_one_element_is_answered_at_once(impl):
    x = np.array([[[3.0]]])
    (y, idx), seconds = _timed(
        lambda: impl.max_pool1d(x, 2**31, padding=2**30, return_indices=True)
    )
    assert seconds < 1.0
    # output size (1 + 2**31 - 2**31) // 2**31 + 1 = 1; the window's only valid tap is x[0]
    assert y.tolist() == [[[3.0]]] and idx.tolist() == [[[0]]]
    g, seconds = _timed(
        lambda: impl.max_pool1d_backward(np.full((1, 1, 1), 2.0), x, 2**31, padding=2**30)
    )
    assert seconds < 1.0 and g.tolist() == [[[2.0]]]
    x3 = np.full((1, 1, 1, 1, 1), 5, np.int16)
    (y3, idx3), seconds = _timed(lambda: impl.max_pool3d(x3, 200, padding=100, return_indices=True))
    assert seconds < 1.0 and y3.ravel().tolist() == [5] and idx3.ravel().tolist() == [0]


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
def test_a_long_kernel_with_stride_one_reads_only_the_taps_inside(impl):
    # L = 3, k = 2**20 + 1, padding = 2**19, stride 1: 3 outputs; each window's valid taps are x[0..2]
    x = np.array([[[1.0, 7.0, 2.0]]])
    k, p = 2**20 + 1, 2**19
    (y, idx), seconds = _timed(lambda: impl.max_pool1d(x, k, 1, p, return_indices=True))
    assert seconds < 1.0
    assert y.tolist() == [[[7.0, 7.0, 7.0]]] and idx.tolist() == [[[1, 1, 1]]]


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
@pytest.mark.parametrize("name", ["stride", "dilation"])
def test_int64_max_stride_and_dilation_are_answered(impl, name):
    x = np.array([[[1.0, 9.0, 2.0]]])
    big = 2**63 - 1
    kwargs = {"stride": big} if name == "stride" else {"kernel_size": 1, "dilation": big}
    kernel = kwargs.pop("kernel_size", 2)
    y, idx = impl.max_pool1d(x, kernel, return_indices=True, **kwargs)
    expected = ([[[9.0]]], [[[1]]]) if name == "stride" else ([[[1.0, 9.0, 2.0]]], [[[0, 1, 2]]])
    assert (y.tolist(), idx.tolist()) == expected
    g = impl.max_pool1d_backward(np.ones_like(y), x, kernel, **kwargs)
    assert g.tolist() == ([[[0.0, 1.0, 0.0]]] if name == "stride" else [[[1.0, 1.0, 1.0]]])


@pytest.mark.parametrize("name", ["kernel_size", "stride", "padding", "dilation"])
def test_sizes_beyond_int64_are_rejected_naming_the_argument(name):
    kwargs = {"kernel_size": 2, name: (1, 2**63)}  # checked before padding <= kernel_size // 2
    for impl in IMPLS:
        with pytest.raises(ValueError, match=rf"{name} must be at most 2\*\*63 - 1.*{name}="):
            impl.max_pool2d(np.ones((1, 1, 4, 4)), **kwargs)


# ----------------------------------------------------------------------------
# Peak memory above the returned arrays (docs/memory.md has the full table).
# ----------------------------------------------------------------------------


def _peak_above_outputs(call, input_bytes: int) -> float:
    """tracemalloc peak during ``call()`` above the arrays it returns, over ``input_bytes``."""
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        result = call()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    arrays = result if isinstance(result, tuple) else (result,)
    return (peak - sum(a.nbytes for a in arrays)) / input_bytes


@pytest.mark.parametrize(
    "operation", ["forward_indices", "backward_x", "backward_indices", "unpool", "layer"]
)
def test_fast_peak_memory_is_at_most_one_input_above_the_outputs(operation):
    # overlapping windows (stride 1): the output is as large as the input, the worst case.
    # Before issue 12: 8.3x, 2.3x, 6.3x, 4.3x and 2.0x (asv_bench/bench_peakmem.py, docs/memory.md).
    f = poolref.fast
    x = np.random.default_rng(0).standard_normal((4, 16, 128, 128)).astype(np.float32)
    y, idx = f.max_pool2d(x, 3, 1, 1, return_indices=True)
    g = np.ones_like(y)
    calls = {
        "forward_indices": lambda: f.max_pool2d(x, 3, 1, 1, return_indices=True),
        "backward_x": lambda: f.max_pool2d_backward(g, x, 3, 1, 1),
        "backward_indices": lambda: f.max_pool2d_backward(g, x.shape, 3, 1, 1, indices=idx),
        "unpool": lambda: f.max_unpool2d(y, idx, 3, 1, 1, output_size=x.shape[2:]),
        "layer": lambda: f.MaxPool2d(3, 1, 1).forward(x),
    }
    ratio = _peak_above_outputs(calls[operation], x.nbytes)
    assert ratio <= 1.0, f"{operation}: {ratio:.2f}x the input above the outputs"


def test_a_workspace_beyond_the_machine_fails_at_once_naming_its_size():
    # im2col's column matrix: about 2**19 taps x 2**19 windows; nothing is allocated first
    x = np.zeros((1, 1, 2**20), np.float32)
    (exc, seconds) = _timed(
        lambda: pytest.raises(ValueError, poolref.im2col.max_pool1d, x, 2**19 + 1, 1)
    )
    assert seconds < 1.0
    assert "kernel_size=(524289,)" in str(exc.value) and "would need" in str(exc.value)
    with pytest.raises(ValueError, match=r"im2col_indices: the 1 x 1 window table.*would need"):  # noqa: PT012
        from poolref import _params

        saved = _params.machine_bytes
        _params.machine_bytes = lambda: 7  # a machine with 7 bytes: the 1 x 1 table needs 8
        try:
            poolref.im2col.im2col_indices((1,), 1)
        finally:
            _params.machine_bytes = saved
    assert _params.machine_bytes() > 2**20


def test_the_bounded_caches_give_the_same_answers_from_eight_threads():
    from concurrent.futures import ThreadPoolExecutor

    x = np.arange(2 * 3 * 40, dtype=np.float32).reshape(2, 3, 40)

    def work(seed):
        out = []
        for i in range(60):
            n = 20 + (seed * 7 + i) % 20  # 20 shapes, looked up and inserted from every thread
            y, idx = poolref.fast.max_pool1d(x[..., :n], 16, 1, return_indices=True)
            out.append((y.sum(), idx.sum()))
        return out

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    expected = [work(seed) for seed in range(8)]
    assert results == expected


# ----------------------------------------------------------------------------
# The arithmetic tap skipping of each implementation against brute force.
# ----------------------------------------------------------------------------

SMALL_GEOMETRIES = [
    (length, n_out, k, s, p, d)
    for length in (1, 2, 5, 10)
    for k in (1, 2, 3, 7, 12)
    for s in (1, 2, 3, 9)
    for p in range(k // 2 + 1)
    for d in (1, 2, 4)
    for n_out in (1, 2, 3, 4)
]


def _brute_taps(length, n_out, k, s, p, d):
    return [j for j in range(k) if any(0 <= o * s + j * d - p < length for o in range(n_out))]


def test_fast_touching_taps_are_exactly_the_taps_read_inside_the_input():
    from poolref._fast_geometry import _dim_taps, _touching_taps

    for geometry in SMALL_GEOMETRIES:
        expected = _brute_taps(*geometry)
        assert [j for j in _touching_taps(*geometry) if j in expected] == expected, geometry
        assert [j for j, _, _ in _dim_taps(*geometry)] == expected, geometry


def test_im2col_taps_inside_are_exactly_the_taps_read_inside_the_input():
    from poolref._im2col_windows import _taps_inside

    for geometry in SMALL_GEOMETRIES:
        assert _taps_inside(*geometry).tolist() == _brute_taps(*geometry), geometry


def test_naive_valid_taps_are_the_window_taps_inside_the_input():
    from poolref.naive import _valid_taps

    for length in (1, 3, 8):
        for start in range(-9, 9):
            for k in (1, 2, 5, 11):
                for d in (1, 2, 3):
                    expected = [j for j in range(k) if 0 <= start + j * d < length]
                    assert list(_valid_taps(start, length, k, d)) == expected, (start, length, k, d)


def test_bounded_cache_keeps_recent_values_within_the_budget():
    from poolref._fast_geometry import _bounded_cache

    calls = []

    @_bounded_cache(10, len)
    def make(n):
        calls.append(n)
        return [n] * n

    for n in (4, 5, 4, 1):  # 4 + 5 + 1 = 10: all fit
        make(n)
    assert list(make.entries) == [(5,), (4,), (1,)] and calls == [4, 5, 1]
    make(2)  # 12 > 10: the least recently used (5) goes
    assert list(make.entries) == [(4,), (1,), (2,)]
    make(11)  # larger than the budget: returned, not cached
    assert list(make.entries) == [(4,), (1,), (2,)] and make(11) == [11] * 11
    assert calls == [4, 5, 1, 2, 11, 11]
    make(6)  # 4 + 1 + 2 + 6 = 13: 4 then nothing more (1 + 2 + 6 = 9)
    assert list(make.entries) == [(1,), (2,), (6,)]
    make(1)
    assert list(make.entries) == [(2,), (6,), (1,)] and calls[-1] == 6


def test_check_allocation_message_and_boundary(monkeypatch):
    import os

    from poolref import _params

    assert _params.machine_bytes() == os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    monkeypatch.setattr(_params, "machine_bytes", lambda: 2**31)
    _params.check_allocation(2**31, "the thing", "f")  # exactly the memory: allowed
    with pytest.raises(ValueError) as info:
        _params.check_allocation(2**31 + 1, "the thing", "f")
    assert str(info.value) == (
        "f: the thing would need 2,147,483,649 bytes (2.0 GiB), more than this machine's memory (2.0 GiB)"
    )
    monkeypatch.setattr(_params, "machine_bytes", lambda: 8)
    poolref.im2col.im2col_indices((1,), 1)  # the 1 x 1 table: 8 bytes
    assert poolref.im2col.max_pool1d(np.array([[[2.0]]]), 1).tolist() == [
        [[2.0]]
    ]  # 1 column of 1 byte: 8


def test_subclass_message_in_full():
    with pytest.raises(TypeError) as info:
        poolref.fast.max_pool1d(np.ma.masked_array(np.ones((1, 4))), 2)
    assert str(info.value) == (
        "max_pool1d: x must be a plain numpy.ndarray, got x of type numpy.ma.MaskedArray; "
        "convert it with numpy.asarray (a masked array: fill the masked elements first, "
        "e.g. x.filled(-numpy.inf))"
    )


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
def test_masked_or_matrix_indices_are_rejected_naming_indices(impl):
    y, idx = impl.max_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
    masked = np.ma.masked_array(idx, mask=np.zeros(idx.shape, dtype=bool))
    for call in (
        lambda: impl.max_unpool2d(y, masked, 2),
        lambda: impl.max_pool2d_backward(np.ones(y.shape), (1, 1, 4, 4), 2, indices=masked),
    ):
        with pytest.raises(
            TypeError, match=r"indices must be a plain numpy.ndarray, got indices of type numpy\.ma"
        ):
            call()


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
def test_an_unpool_or_backward_beyond_the_machine_fails_at_once_naming_its_size(impl):
    y, idx = impl.max_pool1d(np.ones((1, 1, 4)), 2, return_indices=True)
    huge = 2**45
    with pytest.raises(
        ValueError, match=r"max_unpool1d: the output for output_size=\(35184372088832,\) would need"
    ):
        impl.max_unpool1d(y, idx, huge // 2, stride=huge, output_size=(huge,))
    g = np.ones((1, 1, 1))
    with pytest.raises(
        ValueError,
        match=r"max_pool1d_backward: grad_input for x.shape=\(1, 1, 35184372088832\) would need",
    ):
        impl.max_pool1d_backward(g, (1, 1, huge), huge, indices=np.zeros((1, 1, 1), dtype=np.int64))


# Kernels with more taps than fast's CHUNK and more than one output: fast then turns its argmax
# codes into indices per dimension (_indices_by_dimension), a path no small case reaches.
BIG_KERNELS = [
    pytest.param((10,), (70_001,), (2,), (35_000,), (1,), id="1d-padding-5-outputs"),
    pytest.param((272, 522), (270, 260), (1, 2), (0, 1), (1, 2), id="2d-dilation-3x3-outputs"),
]


@pytest.mark.parametrize(("spatial", "k", "s", "p", "d"), BIG_KERNELS)
def test_kernels_beyond_the_chunk_give_the_oracles_indices_and_gradient(spatial, k, s, p, d):
    rng = np.random.default_rng(sum(spatial))
    x = rng.permutation(np.arange(2 * int(np.prod(spatial)), dtype=np.float64)).reshape(
        1, 2, *spatial
    )
    nd = len(spatial)
    oracle = poolref.naive if spatial == (10,) else poolref.im2col  # naive where it is quick
    args = (x, k, s, p, d)
    y, idx = getattr(poolref.fast, f"max_pool{nd}d")(*args, return_indices=True)
    y_ref, idx_ref = getattr(oracle, f"max_pool{nd}d")(*args, return_indices=True)
    np.testing.assert_array_equal(idx, idx_ref)
    np.testing.assert_array_equal(y, y_ref)
    g = rng.integers(1, 5, size=y.shape).astype(np.float64)
    grad = getattr(poolref.fast, f"max_pool{nd}d_backward")(g, *args)
    grad_ref = getattr(oracle, f"max_pool{nd}d_backward")(g, *args)
    np.testing.assert_array_equal(grad, grad_ref)

"""The compiled backend (poolref.jit) on what the shared cross-checks do not draw.

test_crosscheck.py and the other suites that run every implementation include poolref.jit
when numba imports; here: channels-last memory (no copy, channels-last outputs), thread
counts, float16's NumPy path, the thread limit, and the automatic dispatch. Skipped without numba.
"""

from __future__ import annotations

import _assertions as pa
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import poolref
from poolref import fast, naive
from poolref import strategies as ps

pytest.importorskip("numba", exc_type=ImportError)
from poolref import _jit_cores, jit

SMALL = {"max_elements": 256, "max_channels": 4}


def channels_last(x: np.ndarray) -> np.ndarray:
    """The same values over C-contiguous ``(N, *S, C)`` memory (batched: an N axis is added)."""
    xb = x if x.ndim >= 3 and x.shape[0] else x
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(xb, 1, -1)), -1, 1)


def batched_case(case):
    nd = case.nd
    return case.x if case.x.ndim == nd + 2 else case.x[np.newaxis]


@pa.with_hard_cases(lambda case: case.x.ndim == case.nd + 2)
@given(case=ps.pool_cases(batched=True, **SMALL))
def test_channels_last_memory_matches_naive_without_a_copy(case):
    x = channels_last(batched_case(case))
    assert np.shares_memory(x, x.transpose(0, *range(2, x.ndim), 1))
    y, idx = pa.pool(jit, case, x=x, return_indices=True)
    y_ref, idx_ref = pa.pool(naive, case, x=x, return_indices=True)
    pa.assert_pool_equal(y, y_ref, case=case, name="y")
    pa.assert_pool_equal(idx, idx_ref, case=case, name="indices", return_indices=True)
    pa.assert_pool_equal(pa.pool(jit, case, x=x), y_ref, case=case, name="y")
    if x.shape[1] > 1 and x.dtype in _jit_cores.JIT_DTYPES:  # outputs stay channels-last
        assert np.moveaxis(y, 1, -1).flags.c_contiguous
        assert np.moveaxis(idx, 1, -1).flags.c_contiguous


@pa.with_hard_cases(lambda case: case.x.ndim == case.nd + 2 and pa.is_float(case), seed=0)
@given(
    case=ps.pool_cases(batched=True, dtypes=("float32", "float64"), **SMALL),
    seed=st.integers(0, 2**32 - 1),
)
def test_channels_last_backward_and_unpool_match_naive(case, seed):
    x = channels_last(batched_case(case))
    y, idx = pa.pool(naive, case, x=x, return_indices=True)
    g = channels_last(pa.integer_gradients(y.shape, y.dtype, seed))
    kw = case.kwargs()
    grad_ref = pa.backward(naive, case.nd)(g, x, **kw)
    for grad in (
        pa.backward(jit, case.nd)(g, x, **kw),
        pa.backward(jit, case.nd)(g, x.shape, indices=channels_last(idx), **kw),
    ):
        pa.assert_pool_equal(grad, grad_ref, case=case, name="grad_input")
    unpool_kw = {k: kw[k] for k in ("kernel_size", "stride", "padding")}
    out = (
        pa.unpool(jit, case.nd)(
            channels_last(y), channels_last(idx), **unpool_kw, output_size=x.shape[2:]
        )
        if _fits(case, y)
        else None
    )
    if out is not None:
        ref = pa.unpool(naive, case.nd)(y, idx, **unpool_kw, output_size=x.shape[2:])
        pa.assert_pool_equal(out, ref, case=case, name="unpooled")


def _fits(case, y) -> bool:
    """The input's size is a valid unpool output size (it is unless ceil_mode or dilation differ)."""
    p = case.kwargs()
    k, s = p["kernel_size"], p["stride"] or p["kernel_size"]
    k, s, pad = (np.broadcast_to(v, (case.nd,)) for v in (k, s, p["padding"]))
    default = (np.array(y.shape[2:]) - 1) * s - 2 * pad + k
    size = np.array(case.x.shape[-case.nd :])
    return bool(np.all((np.maximum(default - s, 0) < size) & (size < default + s)))


def two_threads():
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has fewer than 2 threads (NUMBA_NUM_THREADS)")


#: the parallel drivers are the serial code under ``prange``, the same for every dtype (which the
#: serial kernels are checked on): two float dtypes for the backward and one integer dtype, each
#: parallel specialisation being 25-50 s of compile time
THREAD_DTYPES = ("float32", "float64", "int16")


@settings(max_examples=30)
@given(
    case=ps.pool_cases(**SMALL, dtypes=THREAD_DTYPES),
    layout=st.sampled_from(["as drawn", "channels last"]),
)
def test_two_threads_give_identical_results(case, layout):
    two_threads()
    x = channels_last(batched_case(case)) if layout == "channels last" else case.x
    with poolref.backend("jit", threads=1):
        one = pa.pool(poolref, case, x=x, return_indices=True)
    with poolref.backend("jit", threads=2):
        two = pa.pool(poolref, case, x=x, return_indices=True)
    for a, b, name in zip(one, two, ("y", "indices")):
        pa.assert_pool_equal(b, a, case=case, name=name)
    if pa.is_float(case):
        g = np.ones(one[0].shape, one[0].dtype)
        results = []
        for n in (1, 2):
            with poolref.backend("jit", threads=n):
                f = pa.backward(poolref, case.nd)
                results.append(
                    (f(g, x, **case.kwargs()), f(g, x.shape, indices=one[1], **case.kwargs()))
                )
        for a, b in zip(*results):
            pa.assert_pool_equal(b, a, case=case, name="grad_input")


def test_more_threads_than_numba_has_is_a_clear_error():
    import numba

    limit = numba.config.NUMBA_NUM_THREADS
    x = np.zeros((2, 2, 4, 4), dtype=np.float32)
    with (
        poolref.backend("jit", threads=limit + 1),
        pytest.raises(ValueError, match=rf"threads={limit + 1} is more than numba's"),
    ):
        poolref.max_pool2d(x, 2)
    with poolref.backend("jit", threads=limit):  # the limit itself is fine
        np.testing.assert_array_equal(poolref.max_pool2d(x, 2), np.zeros((2, 2, 2, 2)))


def test_threads_are_set_inside_the_call_and_restored():
    import numba

    two_threads()
    before = numba.get_num_threads()
    with _jit_cores._threads(1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before


@given(case=ps.pool_cases(dtypes="float16", **SMALL))
def test_float16_takes_the_numpy_path(case):
    y, idx = pa.pool(jit, case, return_indices=True)
    y_ref, idx_ref = pa.pool(fast, case, return_indices=True)
    pa.assert_pool_equal(y, y_ref, case=case, name="y")
    pa.assert_pool_equal(idx, idx_ref, case=case, name="indices")
    g = np.ones(y.shape, y.dtype)
    for f in (
        lambda m: pa.backward(m, case.nd)(g, case.x, **case.kwargs()),
        lambda m: pa.backward(m, case.nd)(g, case.x.shape, indices=idx, **case.kwargs()),
    ):
        pa.assert_pool_equal(f(jit), f(fast), case=case, name="grad_input")


def test_automatic_dispatch_uses_jit_when_numba_imports(monkeypatch):
    monkeypatch.delenv("POOLREF_BACKEND", raising=False)
    calls = []
    real = _jit_cores._forward
    monkeypatch.setattr(_jit_cores, "_forward", lambda *a: calls.append(a) or real(*a))
    x = np.arange(2 * 3 * 4 * 4, dtype=np.float32).reshape(2, 3, 4, 4)
    np.testing.assert_array_equal(poolref.max_pool2d(x, 2), fast.max_pool2d(x, 2))
    assert len(calls) == 1
    with poolref.backend("numpy"):
        poolref.max_pool2d(x, 2)
    assert len(calls) == 1


def test_geometry_table():
    params = poolref._params.normalize_pool_args(2, (2, 3), (1, 2), (1, 0), (2, 1), False, func="f")
    np.testing.assert_array_equal(
        _jit_cores.geometry(params, 2), [[1, 1, 0, 1], [2, 1, 1, 2], [3, 2, 0, 1]]
    )


def test_layout_helpers():
    a = np.zeros((2, 3, 4, 5))
    assert not _jit_cores._channels_last(a)
    assert _jit_cores._channels_last(channels_last(a))
    assert not _jit_cores._channels_last(channels_last(a[:, :1]))  # one channel: planes
    made = _jit_cores._empty((2, 3, 4, 5), np.float32, True)
    assert made.shape == (2, 3, 4, 5)
    assert _jit_cores._channels_last(made)
    assert _jit_cores._empty((2, 3, 4), np.int8, False).flags.c_contiguous
    assert _jit_cores._planes(made).shape == (2, 3, 20)
    assert np.shares_memory(_jit_cores._planes(made), made)


@pytest.mark.parametrize("layout", ["planes", "channels_last"])
def test_memory_does_not_grow_with_the_kernel_size(layout):
    """The kernels keep O(1) tables per call, whatever the kernel (a table of one row a tap
    along W took 112 MB for ``kernel_size=2**20``)."""
    import tracemalloc

    x = np.arange(2 * 3, dtype=np.float32).reshape(1, 2, 3)
    x = channels_last(x) if layout == "channels_last" else x
    k, p = 2**30, 2**29
    expected = naive.max_pool1d(x, k, 1, p, return_indices=True)
    jit.max_pool1d(x, 2, 1, 1, return_indices=True)  # compiled before tracing
    _jit_cores._geometry.cache_clear()
    tracemalloc.start()
    try:
        got = jit.max_pool1d(x, k, 1, p, return_indices=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)
    assert peak < 2**16, peak


def test_jit_threads_script_prints_a_row_per_op_with_both_speed_ups(capsys):
    """``python -m asv_bench.jit_threads`` on the tiny configuration: four rows, results that
    agree across thread counts and, with torch installed, torch's speed-up in the same run."""
    jit_threads = pytest.importorskip("asv_bench.jit_threads")
    torch_here = jit_threads.load_torch() is not None
    assert jit_threads.main(["--threads", "1", "--configs", "tiny", "--repeat", "1"]) == 0
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith("| tiny")]
    assert [r.split(" | ")[1] for r in rows] == list(jit_threads.OPS)
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[5] == "same", row
        assert len(cells) == (7 if torch_here else 6), row
        assert all(c.endswith("x") for c in cells[4 : len(cells) : 2] if c != "same"), row


def test_read_only_inputs_compile_no_read_only_specialisation():
    """Read-only inputs (``np.broadcast_to``, read-only memory maps) reach the kernels through a
    writeable alias, so they share the writeable arrays' compiled code (a second specialisation
    would cost 25-45 s per dtype and kernel), on the checked path and past the entries."""
    import numba

    def frozen(a):
        a = a.copy(order="K")  # the layout kept (channels-last too)
        a.flags.writeable = False
        return a

    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    for make in (np.copy, frozen, frozen):  # writeable first: the entries then exist
        xi = make(x)
        y, idx = jit.max_pool2d(xi, 2, return_indices=True)
        for got, want in zip((y, idx), naive.max_pool2d(x, 2, return_indices=True)):
            np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(jit.max_pool2d(xi, 2), y)
        np.testing.assert_array_equal(jit.max_pool2d(make(channels_last(x)), 2), y)
        g, i = make(np.ones_like(y)), make(idx)
        want = naive.max_pool2d_backward(np.ones_like(y), x, 2)
        np.testing.assert_array_equal(jit.max_pool2d_backward(g, xi, 2), want)
        np.testing.assert_array_equal(jit.max_pool2d_backward(g, x.shape, 2, indices=i), want)
        np.testing.assert_array_equal(
            jit.max_unpool2d(make(y), i, 2), naive.max_unpool2d(y, idx, 2)
        )
    read_only = [
        (name, sig)
        for name, drivers in _jit_cores.kernels.DRIVERS.items()
        for driver in drivers
        for sig in driver.signatures
        if any(isinstance(t, numba.types.Array) and not t.mutable for t in sig)
    ]
    assert read_only == []


def test_jit_memory_threads_script_prints_the_three_rows(capsys):
    script = pytest.importorskip("asv_bench.jit_memory_threads")
    assert script.main(["--threads", "1", "--mib", "1", "--repeat", "1"]) == 0
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith("| ") and "ms" in r]
    assert [r.split(" | ")[0][2:] for r in rows] == [
        "fill",
        "new + fill, huge pages",
        "new + fill, no huge pages",
    ]
    assert all(r.endswith("x |") for r in rows), rows

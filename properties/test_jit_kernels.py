"""The compiled backend's cores and kernels, called directly, with numba and without it.

Without numba, :mod:`poolref._jit_compat`'s pure mode runs the kernels' own bodies as plain
Python: this file is what tests them in the mutation gate's environment (which installs no
numba), so nothing here skips without numba; with numba the same tests check the compiled
kernels. Every case is compared with :mod:`poolref.naive`'s cores: values bit for bit (NaN,
signed zero), indices exactly, gradients exactly (integer-valued: every partial sum is exact).

Inputs are tiny (at most a few hundred elements): plain-Python kernels are about 1e5 times
slower than compiled ones. The explicit grids come first, so that a broken kernel fails fast
(mutmut stops at the first failing test); the Hypothesis properties come after them.
"""

from __future__ import annotations

import ast
import itertools
import tracemalloc
from pathlib import Path

import _assertions as pa
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import poolref
from poolref import _api_checks, _jit_compat, _jit_cores, _jit_kernels, _params, naive
from poolref import strategies as ps

JIT_DTYPES = ("float32", "float64", "int8", "int16", "int32", "int64", "uint8")
THREADS = pytest.mark.parametrize("threads", [1, 2], ids=lambda n: f"threads={n}")


@pytest.fixture(autouse=True)
def _cold_caches():
    """Every call computes its geometry, plan and lowest value (a cached one skips the code)."""
    _jit_cores._geometry.cache_clear()
    _jit_cores._forward_plan.cache_clear()
    _jit_cores._lowest.cache_clear()
    _params._normalize_cached.cache_clear()
    _params.output_shape.cache_clear()


def _threads(n: int):
    if n > _jit_compat.thread_limit():
        pytest.skip(f"{n} threads: more than this machine's limit {_jit_compat.thread_limit()}")
    return poolref.backend(threads=n)


def params(nd, k, s=None, p=0, d=1, ceil=False) -> _params.PoolParams:
    return _params.normalize_pool_args(nd, k, s, p, d, ceil, func="test")


def tricky(shape, dtype, seed: int) -> np.ndarray:
    """Few distinct values (ties everywhere), the dtype's lowest and highest values, and for
    floats ``-0.0``/``0.0`` ties, ``-inf`` and a few NaN; the last plane is all lowest values."""
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(seed)
    if dtype.kind == "f":
        choices = [-np.inf, -1.0, -0.0, 0.0, 1.0, 2.0, np.inf, np.nan]
        weights = [2, 3, 3, 3, 3, 3, 1, 1]
    else:
        info = np.iinfo(dtype)
        choices = [info.min, info.min + 1, 0, 1, 2, info.max]
        weights = [2, 2, 3, 3, 3, 1]
    p = np.array(weights) / sum(weights)
    x = rng.choice(np.array(choices, dtype=dtype), size=shape, p=p)
    if shape[0] * shape[1] > 1:
        x[-1, -1] = _params.lowest(dtype)  # a plane of lowest values: first valid taps win
    return x


def channels_last(x: np.ndarray) -> np.ndarray:
    """The same values over C-contiguous ``(N, *S, C)`` memory, seen as ``(N, C, *S)``."""
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(x, 1, -1)), -1, 1)


def is_channels_last(a: np.ndarray) -> bool:
    """Over C-contiguous ``(N, *S, C)`` memory (both layouts, when ``C == 1`` or ``S`` is 1)."""
    return bool(np.moveaxis(a, 1, -1).flags.c_contiguous)


def check_forward(x, prm, index_dtype=np.int64):
    """The jit forward, with and without indices, against the naive oracle; its outputs."""
    y_ref, i_ref = naive._forward(x, prm, True)
    y, idx = _jit_cores._forward(x, prm, True, index_dtype)
    pa.assert_pool_equal(y, y_ref, case=None, name="y")
    pa.assert_pool_equal(idx, i_ref.astype(index_dtype), case=None, name="indices")
    y_only, none = _jit_cores._forward(x, prm, False)
    assert none is None
    pa.assert_pool_equal(y_only, y_ref, case=None, name="y without indices")
    if x.flags.c_contiguous:
        assert y.flags.c_contiguous and idx.flags.c_contiguous and y_only.flags.c_contiguous
    return y, idx


def check_backward(x, prm, seed: int, g=None):
    """Both jit backwards against the naive scatter of the oracle's indices; the gradients."""
    _, i_ref = naive._forward(x, prm, True)
    if g is None:
        g = pa.integer_gradients(i_ref.shape, x.dtype, seed)
    ref = naive._backward_from_indices(g, i_ref, x.shape, prm)
    from_x = _jit_cores._backward_from_input(g, x, prm)
    from_indices = _jit_cores._backward_from_indices(g, i_ref, x.shape, prm)
    pa.assert_pool_equal(from_x, ref, case=None, name="grad_input from x")
    pa.assert_pool_equal(from_indices, ref, case=None, name="grad_input from indices")
    if g.flags.c_contiguous:  # whatever x's layout: the gradient follows grad_output's
        assert from_x.flags.c_contiguous and from_indices.flags.c_contiguous
    return from_x, from_indices


# ---------------------------------------------------------------------------- explicit grids

#: The W-fold branches, in 1-D (width 11): kernel 2 and 3 (unrolled), 1, 4 and 5 (two taps a
#: pass, and the odd one); stride 1, 2 and 3 (the plane kernels' two specialisations: stride 2
#: without dilation, and the general one, which stride 2 with dilation takes too); dilation 1
#: and 2; no edge, edges from ceil_mode only, and edges from padding and ceil_mode.
BRANCHES = [
    (k, s, d, p, ceil)
    for k, s, d in itertools.product((2, 3, 1, 4, 5), (1, 2, 3), (1, 2))
    for p, ceil in sorted({(0, False), (0, True), (k // 2, True)})
]
BRANCH_IDS = [f"k{k}s{s}d{d}p{p}{'c' if c else 'f'}" for k, s, d, p, c in BRANCHES]


def _branch_case(i: int, dtype="float32", width: int = 11):
    k, s, d, p, ceil = BRANCHES[i]
    return tricky((1, 2, width), dtype, seed=i), params(1, k, s, p, d, ceil)


@pytest.mark.parametrize("i", range(len(BRANCHES)), ids=BRANCH_IDS)
def test_every_fold_branch_matches_naive(i):
    x, prm = _branch_case(i)
    check_forward(x, prm)
    check_backward(x.astype(np.float64), prm, seed=i)


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int64"])
@pytest.mark.parametrize("i", range(0, len(BRANCHES), 3), ids=BRANCH_IDS[::3])
def test_every_fold_branch_matches_naive_on_integers(i, dtype):
    check_forward(*_branch_case(i, dtype))


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_rows_with_no_inside_output(k):
    # dilation 2, inputs narrower than a window: no output has all its taps inside (count 0),
    # so every output is an edge one (some of them empty)
    for width, (s, ceil) in itertools.product(
        range(1, 2 * k - 1), ((1, False), (2, True), (3, True))
    ):
        prm = params(1, k, s, k // 2, 2, ceil)
        n_out = _params.output_shape((width,), prm)[0]
        if n_out < 1:
            continue  # the wrappers reject it before any core runs
        assert _jit_cores._geometry(prm, width, n_out)[1][1] == 0
        x = tricky((2, 1, width), "float32", seed=width)
        check_forward(x, prm)
        check_backward(x, prm, seed=k)


@pytest.mark.parametrize("shape", [(1, 8, 4), (1, 2, 9, 4)], ids=["1d", "2d"])
def test_the_row_plan_is_the_w_dimensions(shape):
    # more channels than W (and rows than W): a row plan computed for a width of C (or H)
    # would count outputs past the end of a row as inside ones
    x = tricky(shape, "float32", seed=len(shape))
    prm = params(len(shape) - 2, 2, 1, 1)
    check_forward(x, prm)
    check_backward(x, prm, seed=0)


#: (input shape, kernel, stride, padding, dilation, ceil_mode): 2-D and 3-D windows, dilated
#: and undilated along D and H, padding, ceil-mode windows that end in the padding, taps no
#: output reads (width 1 with padding), empty windows (the only tap of a dilated window lies in
#: the padding), N != C, and non-square planes.
GRID = [
    ((2, 3, 8), 3, 1, 1, 1, False),
    ((2, 3, 9), 3, 2, 1, 1, True),
    ((2, 3, 10), 2, 3, 1, 2, True),
    ((3, 2, 7), 3, 2, 0, 2, False),
    ((2, 3, 1), 3, 1, 1, 1, False),  # width 1: taps 0 and 2 are read by no output
    ((1, 2, 2), 2, 1, 1, 3, False),  # the one window's taps are both outside: empty
    ((2, 3, 5, 4), (3, 2), (2, 1), (1, 1), (1, 2), True),
    ((2, 3, 4, 6), (2, 3), (1, 3), (0, 1), (2, 1), False),
    ((3, 2, 6, 5), (3, 3), (3, 2), (1, 0), (1, 1), True),
    ((2, 2, 1, 5), (2, 3), (1, 2), (1, 1), (2, 1), False),  # empty windows (rows of them)
    ((2, 3, 3, 4, 5), (2, 3, 2), (1, 2, 3), (1, 1, 0), (1, 1, 2), True),
    ((2, 2, 4, 3, 4), (3, 2, 3), (2, 1, 1), (1, 0, 1), (1, 2, 1), False),
    ((2, 3, 5, 3, 4), (2, 2, 2), (1, 2, 1), (1, 1, 0), (2, 1, 1), False),  # dilated along D
    ((1, 2, 3, 4, 9), (1, 2, 4), (1, 1, 2), (0, 1, 2), (1, 1, 1), True),  # kernel 4 along W
    ((2, 2, 5, 10), (2, 5), (2, 2), (1, 2), (1, 1), False),  # kernel 5, stride 2 along W
]
GRID_IDS = [f"{len(g[0]) - 2}d-{i}" for i, g in enumerate(GRID)]


def _grid_case(i: int, dtype, layout: str = "C"):
    shape, k, s, p, d, ceil = GRID[i]
    x = tricky(shape, dtype, seed=i)
    if layout == "channels_last":
        x = channels_last(x)
    elif layout == "F":
        x = np.asfortranarray(x)
    elif layout == "reversed":
        x = np.ascontiguousarray(x[..., ::-1])[..., ::-1]
    return x, params(len(shape) - 2, k, s, p, d, ceil)


@pytest.mark.parametrize("i", range(len(GRID)), ids=GRID_IDS)
def test_forward_matches_naive_on_the_grid(i):
    x, prm = _grid_case(i, "float32")
    check_forward(x, prm)


@pytest.mark.parametrize("i", range(len(GRID)), ids=GRID_IDS)
def test_backward_matches_naive_on_the_grid(i):
    x, prm = _grid_case(i, "float64")
    check_backward(x, prm, seed=i)


@pytest.mark.parametrize("i", range(len(GRID)), ids=GRID_IDS)
def test_channels_last_memory_matches_naive_and_stays_channels_last(i):
    x, prm = _grid_case(i, "float32", "channels_last")
    y, idx = check_forward(x, prm)
    assert is_channels_last(y) and is_channels_last(idx), "the outputs are channels-last"
    y_only, _ = _jit_cores._forward(x, prm, False)
    assert is_channels_last(y_only)
    g = channels_last(pa.integer_gradients(y.shape, x.dtype, seed=i))
    for grad in check_backward(x, prm, seed=i, g=g):
        if not g.flags.c_contiguous:  # else both layouts are the same memory order for g
            assert is_channels_last(grad), "the gradient follows grad_output's memory"


@pytest.mark.parametrize("i", range(0, len(BRANCHES), 2), ids=BRANCH_IDS[::2])
def test_channels_last_memory_matches_naive_in_every_fold_branch(i):
    x, prm = _branch_case(i, width=9)
    check_forward(channels_last(np.concatenate([x, x[:, ::-1]], axis=1)), prm)


@pytest.mark.parametrize("dtype", JIT_DTYPES)
@pytest.mark.parametrize("i", [1, 6, 10, 13], ids=[GRID_IDS[i] for i in (1, 6, 10, 13)])
def test_every_jit_dtype_matches_naive(i, dtype):
    for layout in ("C", "channels_last"):
        x, prm = _grid_case(i, dtype, layout)
        y, idx = check_forward(x, prm)
        assert y.dtype == x.dtype and idx.dtype == np.int64


@pytest.mark.parametrize("layout", ["F", "reversed"])
def test_other_layouts_are_copied_to_c_order(layout):
    for i in (2, 7, 11):
        x, prm = _grid_case(i, "int16", layout)
        check_forward(x, prm)
        check_backward(x.astype(np.float32), prm, seed=i)
        assert not x.flags.c_contiguous
        copy = _jit_cores._contiguous(x)
        assert copy.flags.c_contiguous and np.array_equal(copy, x)
        assert _jit_cores._contiguous(copy) is copy, "a C-contiguous array is not copied"


def test_int32_indices_for_the_layers():
    for i, layout in ((6, "C"), (7, "channels_last")):
        x, prm = _grid_case(i, "float32", layout)
        _, idx = check_forward(x, prm, index_dtype=np.int32)
        assert idx.dtype == np.int32


def test_float16_takes_the_numpy_cores():
    x, prm = _grid_case(6, "float16")
    y, idx = check_forward(x, prm)
    check_backward(x, prm, seed=6)
    out = _jit_cores._unpool(y, idx, x.shape[2:])
    pa.assert_pool_equal(out, naive._unpool(y, idx, x.shape[2:]), case=None, name="unpooled")


def test_the_forward_without_indices_allocates_no_index_array():
    x = np.zeros((1, 2, 2048), dtype=np.float32)  # kernel 1: one tap per output, 4096 outputs
    tracemalloc.start()
    try:
        y, _ = _jit_cores._forward(x, params(1, 1), False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < y.nbytes + 8 * y.size // 2, f"peak {peak} B for a {y.nbytes} B output"


@pytest.mark.parametrize("k", [2, 3, 4])
@pytest.mark.parametrize("layout", ["C", "channels_last"])
def test_ties_keep_the_first_tap_and_nan_the_last_nan(k, layout):
    row = [-0.0, 0.0, 0.0, -0.0, np.nan, np.nan, np.nan, 3.0, 3.0, -np.inf, -np.inf, -np.inf]
    x = np.array([[row, row[::-1]]])
    x = channels_last(x) if layout == "channels_last" else x
    y, idx = check_forward(x, params(1, k, 1, 1))
    # window o covers taps o - 1 .. o + k - 2 (padding 1)
    assert idx[0, 0, :2].tolist() == [0, 0] and np.signbit(y[0, 0, :2]).all(), "-0.0 stays"
    assert idx[0, 0, 6] == 6 and np.isnan(y[0, 0, 6]), "the last NaN before a 3.0"
    assert idx[0, 0, 10] == 9 and y[0, 0, 10] == -np.inf, "-inf windows: the first valid tap"


def test_empty_windows_keep_the_lowest_value_and_index_minus_one():
    for dtype in ("float32", "int8", "uint8"):
        for layout in ("C", "channels_last"):
            x = tricky((1, 2, 2), dtype, seed=0)
            x = channels_last(x) if layout == "channels_last" else x
            y, idx = check_forward(x, params(1, 2, 1, 1, 3))
            assert (idx == -1).all() and (y == _params.lowest(dtype)).all()


@pytest.mark.parametrize("k", [2, 3, 4])
def test_rows_whose_depth_window_is_empty_hold_only_lowest_values(k):
    # the one depth window's taps (-1 and 2: dilation 3 over a depth of 2) are both outside,
    # while the H windows (rows 0 and 2) and the W ones (all inside) have taps: no tap row is
    # folded, so each output row must be filled with the lowest value, whatever the output
    # held before (here 7, not np.empty's leftovers), in the rows starting at h = 0 and h > 0
    prm = params(3, (2, 2, k), (1, 2, 1), (1, 0, 0), (3, 1, 1))
    for dtype in ("float32", "int16"):
        x = tricky((1, 2, 2, 4, 2 * k + 2), dtype, seed=1)
        y_ref, _ = check_forward(x, prm)
        plan = _jit_cores._forward_plan(x.shape, x.dtype, prm, False)
        y = np.full(plan.alloc_shape, 7, dtype=dtype)
        args = (x.reshape(plan.x5), y.reshape(plan.y5), plan.geo, plan.row, plan.low)
        _jit_cores._run("forward_planes", *args)
        assert (y == _params.lowest(dtype)).all() and (y_ref == _params.lowest(dtype)).all()


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_a_window_of_lowest_values_takes_its_first_valid_tap(k):
    for dtype in ("float64", "int64"):
        x = np.full((1, 1, 3, 7), _params.lowest(dtype), dtype=dtype)
        for s in (1, 2, 3):
            prm = params(2, (2, k), (1, s), (1, k // 2))
            _, idx = check_forward(x, prm)
            starts = [max(o * s - k // 2, 0) for o in range(idx.shape[-1])]
            assert idx[0, 0, 1].tolist() == starts
            g = np.arange(1.0, idx.size + 1).reshape(idx.shape)
            check_backward(x.astype(np.float64), prm, seed=0, g=g)


# ---------------------------------------------------------------------------- the scatters


def test_the_backward_adds_the_gradients_of_every_window_that_chose_a_tap():
    x = np.array([[[0.0, 5.0, 1.0, 2.0, 0.0]]])
    g = np.array([[[1.0, 2.0, 4.0, 8.0]]])
    for grad in check_backward(x, params(1, 2, 1), seed=0, g=g):
        assert grad.tolist() == [[[0.0, 3.0, 0.0, 12.0, 0.0]]]


def test_the_backward_zeroes_every_plane_first():
    # windows that choose no tap of a plane leave it zero, in every plane (np.empty before)
    x = np.arange(2 * 3 * 6, dtype=np.float32).reshape(2, 3, 6)
    g = np.ones((2, 3, 1), dtype=np.float32)
    for _ in range(3):
        grad = _jit_cores._backward_from_input(g, x, params(1, 2, 4))
        assert grad.tolist() == [[[0, 1, 0, 0, 0, 0]] * 3] * 2


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_unpool_assigns_and_the_last_duplicate_wins(nd):
    out_spatial = (3, 2, 4)[-nd:]
    plane = int(np.prod(out_spatial))
    rng = np.random.default_rng(nd)
    y = (rng.permutation(30) + 1).reshape(2, 3, 5).astype(np.float32)
    indices = rng.integers(-1, plane, (2, 3, 5))
    indices[:, :, 1] = indices[:, :, 3]  # a duplicate index in every plane
    indices[0, 0, :] = [0, plane - 1, -1, 0, 0]
    y, indices = y.reshape(2, 3, 5, *(1,) * (nd - 1)), indices.reshape(2, 3, 5, *(1,) * (nd - 1))
    ref = naive._unpool(y, indices, out_spatial)
    out = _jit_cores._unpool(y, indices, out_spatial)
    pa.assert_pool_equal(out, ref, case=None, name="unpooled")
    assert out.reshape(2, 3, plane)[0, 0, 0] == y.flat[4]  # the last of three writes to 0
    out_cl = _jit_cores._unpool(channels_last(y), channels_last(indices), out_spatial)
    pa.assert_pool_equal(out_cl, ref, case=None, name="unpooled from channels-last")
    assert is_channels_last(out_cl)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize(
    "where", [(0, 0, 0), (0, 2, 3), (1, 0, 0), (1, 2, 5)], ids=lambda w: "at" + "".join(map(str, w))
)
@pytest.mark.parametrize("bad", [-2, 12, 10**6], ids=lambda b: f"index={b}")
def test_an_index_out_of_range_raises_at_its_flat_position(bad, where, dtype):
    # planes of 12 elements; every other index is in range (-1 and 11 included), and a later
    # plane has one more bad index: the first in row-major order is reported
    indices = np.tile(np.array([-1, 0, 11, 5, 11, 3]), (2, 3, 1))
    indices[where] = bad
    if where < (1, 2, 5):
        indices[1, 2, 5] = 12
    values = np.ones(indices.shape, dtype=dtype)
    position = int(np.ravel_multi_index(where, indices.shape))
    calls = [
        lambda: _jit_cores._backward_from_indices(values, indices, (2, 3, 12), None),
        lambda: _jit_cores._unpool(values, indices, (12,)),
    ]
    for call in calls:
        with pytest.raises(_api_checks.IndexRangeError) as raised:
            call()
        assert raised.value.position == position


def test_indices_at_the_edges_of_the_range_are_scattered():
    indices = np.array([[[11, 0, -1, 11]]])
    values = np.array([[[1.0, 2.0, 4.0, 8.0]]])
    grad = _jit_cores._backward_from_indices(values, indices, (1, 1, 12), None)
    out = _jit_cores._unpool(values, indices, (12,))
    assert grad.tolist() == [[[2.0] + [0.0] * 10 + [9.0]]]
    assert out.tolist() == [[[2.0] + [0.0] * 10 + [8.0]]]


# ---------------------------------------------------------------------------- threads


@THREADS
@pytest.mark.parametrize("layout", ["C", "channels_last"])
def test_threads_give_the_same_results(threads, layout):
    with _threads(threads):
        for i in (3, 6, 11, 14):
            x, prm = _grid_case(i, "float32", layout)
            check_forward(x, prm)
            check_backward(x, prm, seed=i)
        test_unpool_assigns_and_the_last_duplicate_wins(2)


@THREADS
@pytest.mark.parametrize("offset", [0, 3], ids=lambda o: f"at{o}in-plane")
def test_threads_report_the_first_index_out_of_range(threads, offset):
    # bad indices in planes 2, 3 and 5 (planes of 4): the first is plane 2's, at ``offset``
    indices = np.zeros((2, 3, 4), dtype=np.int64)
    indices[1, 2, 0] = indices[1, 0, 3] = indices[0, 2, offset] = 4
    with _threads(threads):
        for call in (
            lambda: _jit_cores._backward_from_indices(np.ones((2, 3, 4)), indices, (2, 3, 4), None),
            lambda: _jit_cores._unpool(np.ones((2, 3, 4)), indices, (4,)),
        ):
            with pytest.raises(_api_checks.IndexRangeError) as raised:
                call()
            assert raised.value.position == 2 * 4 + offset


@THREADS
def test_the_parallel_drivers_run_on_the_threads_asked_for(threads, monkeypatch):
    ran = []
    for name, (serial, parallel) in list(_jit_kernels.DRIVERS.items()):

        def spy(*args, _f=parallel, _name=name, **kwargs):
            ran.append((_name, "parallel", _jit_compat.get_num_threads()))
            return _f(*args, **kwargs)

        def serial_spy(*args, _f=serial, _name=name, **kwargs):
            ran.append((_name, "serial", None))
            return _f(*args, **kwargs)

        monkeypatch.setitem(_jit_kernels.DRIVERS, name, (serial_spy, spy))
    before = _jit_compat.get_num_threads()
    with _threads(threads):
        x, prm = _grid_case(6, "float32")
        _jit_cores._forward(x, prm, False)
        _jit_cores._forward(x, prm, True)
        check_backward(x, prm, seed=0)
        _jit_cores._forward(channels_last(x), prm, True)
    assert _jit_compat.get_num_threads() == before, "the thread count is restored"
    kind, count = ("serial", None) if threads == 1 else ("parallel", threads)
    assert ran == [
        (name, kind, count)
        for name in (
            "forward_planes",
            "indexed_planes",
            "backward_planes",
            "scatter_planes",
            "forward_rows",
        )
    ]


def test_more_threads_than_the_limit_is_an_error_and_the_limit_is_not():
    limit = _jit_compat.thread_limit()
    x, prm = _grid_case(0, "float32")
    with poolref.backend(threads=limit):
        check_forward(x, prm)
    with poolref.backend(threads=limit + 1), pytest.raises(ValueError) as raised:
        _jit_cores._forward(x, prm, False)
    assert str(raised.value) == (
        f"poolref.jit: threads={limit + 1} is more than numba's NUMBA_NUM_THREADS={limit}; "
        "set the NUMBA_NUM_THREADS environment variable before numba starts"
    )


# ---------------------------------------------------------------------------- helpers


def inside_outputs(k, s, p, d, width, n_out) -> list[int]:
    """The outputs whose ``k`` taps all lie inside ``[0, width)`` (row_plan's definition)."""
    return [o for o in range(n_out) if o * s - p >= 0 and o * s - p + (k - 1) * d < width]


def check_row_plan(k, s, p, d, width, n_out):
    """:func:`~poolref._jit_cores.row_plan` against its definition, counted output by output."""
    geo = np.array([[1, 1, 0, 1], [1, 1, 0, 1], [k, s, p, d]])
    row = _jit_cores.row_plan(geo, width, n_out)
    assert row.dtype == np.uint64 and row.shape == (6,)
    o0, count, i0 = (int(v) for v in row[:3])
    inside = inside_outputs(k, s, p, d, width, n_out)
    assert count == len(inside), (k, s, p, d, width, n_out, row)
    if inside:
        assert inside == list(range(o0, o0 + count)) and i0 == o0 * s - p, row
    assert row[3:].tolist() == [k, s, d]
    return row


def test_the_row_plan():
    # k=3, s=2, p=1, width 9, 5 outputs: output 0 starts in the padding, 1 .. 3 are inside
    # (starting at 1, 3, 5), output 4 (ceil mode) ends in the padding
    assert check_row_plan(3, 2, 1, 1, 9, 5).tolist() == [1, 3, 1, 3, 2, 1]
    assert check_row_plan(2, 1, 0, 1, 5, 4).tolist() == [0, 4, 0, 2, 1, 1]
    assert check_row_plan(3, 1, 1, 2, 4, 2).tolist()[1] == 0  # wider than the input: none
    assert check_row_plan(1, 3, 0, 1, 1, 1).tolist() == [0, 1, 0, 1, 3, 1]


def test_the_geometry_tables():
    prm = params(2, (2, 3), (1, 2), (1, 0), (2, 1))
    geo, row = _jit_cores._geometry(prm, 7, 3)
    assert geo.tolist() == [[1, 1, 0, 1], [2, 1, 1, 2], [3, 2, 0, 1]] and geo.dtype == np.int64
    assert row.tolist() == [0, 3, 0, 3, 2, 1] and row.dtype == np.uint64
    again = _jit_cores._geometry(prm, 7, 3)
    assert again[0] is geo and again[1] is row, "cached: the same arrays"
    one_d = _jit_cores.geometry(params(1, 3, 2, 1, 2), 1)
    assert one_d.tolist() == [[1, 1, 0, 1], [1, 1, 0, 1], [3, 2, 1, 2]]


def test_the_lowest_value_and_the_index_check_flag():
    for dtype in (np.float32, np.int8, np.uint8):
        low = _jit_cores._lowest(np.dtype(dtype))
        assert low.tolist() == [_params.lowest(dtype)] and low.dtype == dtype
        assert _jit_cores._lowest(np.dtype(dtype)) is low, "cached"
    assert _jit_cores._checks_indices() is True


def test_read_only_arrays_get_a_writeable_alias_that_keeps_them_alive():
    import gc
    import weakref

    base = np.arange(24, dtype=np.int16).reshape(2, 3, 4).copy()  # owns its memory
    x = base.transpose(0, 2, 1)[:, ::2]  # strided and offset: the alias keeps the layout
    x.flags.writeable = False
    alias = _jit_cores._writeable(x)
    assert alias.flags.writeable and alias.dtype == x.dtype
    assert alias.shape == x.shape and alias.strides == x.strides
    assert alias.__array_interface__["data"][0] == x.__array_interface__["data"][0]
    np.testing.assert_array_equal(alias, x)
    writeable = np.arange(3.0)
    assert _jit_cores._writeable(writeable) is writeable
    ref = weakref.ref(base)
    del base, x
    gc.collect()
    assert ref() is not None, "the alias keeps the read-only array and its memory alive"
    np.testing.assert_array_equal(alias[1, 0], [12, 16, 20])
    del alias
    gc.collect()
    assert ref() is None


def test_the_layout_helpers():
    a = np.zeros((2, 3, 4, 5))
    assert not _jit_cores._channels_last(a)
    assert _jit_cores._channels_last(channels_last(a))
    assert _jit_cores._channels_last(channels_last(a[:, :2]))
    assert not _jit_cores._channels_last(channels_last(a[:, :1]))  # one channel: planes
    made = _jit_cores._empty((2, 3, 4, 5), np.float32, True)
    assert made.shape == (2, 3, 4, 5) and made.dtype == np.float32 and is_channels_last(made)
    assert _jit_cores._empty((2, 3, 4), np.int8, False).flags.c_contiguous
    assert _jit_cores._planes(made).shape == (2, 3, 20)
    assert _jit_cores._unit_axes((2, 3, 4), False) == (2, 3, 1, 1, 4)
    assert _jit_cores._unit_axes((2, 3, 4, 5), True) == (2, 1, 4, 5, 3)


def test_every_kernel_is_bound_to_its_compiled_version():
    # the kernels are plain defs (for mutmut) bound by name after them: one forgotten binding
    # would run a kernel as Python inside compiled code, or fail to compile its callers
    tree = ast.parse(Path(_jit_kernels.__file__).read_text())
    defs = [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and "mutmut" not in node.name  # mutmut's copies
    ]
    assert "_span" in defs and "scatter_planes_parallel" in defs
    bound = {
        node.targets[0].id: node.value.func.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id in ("_inline", "_njit", "_pjit", "_bare")
        and [ast.unparse(a) for a in node.value.args] == [ast.unparse(node.targets[0])]
    }
    assert set(defs) == set(bound)
    parallel = {f"{name}_parallel" for name in _jit_kernels.DRIVERS}
    assert {name for name, how in bound.items() if how == "_pjit"} == parallel
    if not _jit_compat.PURE and not _jit_compat._numba.config.DISABLE_JIT:
        assert all(hasattr(getattr(_jit_kernels, name), "py_func") for name in bound)


# ---------------------------------------------------------------------------- properties

SMALL = {"max_elements": 96, "max_channels": 3, "max_side": 6}


@given(
    k=st.integers(1, 6),
    s=st.integers(1, 4),
    d=st.integers(1, 3),
    width=st.integers(1, 24),
    data=st.data(),
)
def test_row_plan_matches_its_definition(k, s, d, width, data):
    p = data.draw(st.integers(0, k // 2), label="p")
    span = width + 2 * p - (k - 1) * d - 1
    if span < 0:
        return  # no output: rejected before any core runs
    n_out = data.draw(st.integers(1, span // s + 2), label="n_out")  # floor and ceil mode
    check_row_plan(k, s, p, d, width, n_out)


@given(case=ps.pool_cases(batched=True, dtypes=JIT_DTYPES, **SMALL), last=st.booleans())
def test_forward_matches_naive(case, last):
    x = channels_last(case.x) if last else case.x
    check_forward(x, case.params)


@given(
    case=ps.pool_cases(batched=True, dtypes=("float32", "float64"), **SMALL),
    last=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_backward_matches_naive(case, last, seed):
    x = channels_last(case.x) if last else case.x
    check_backward(x, case.params, seed)

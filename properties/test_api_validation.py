"""The public wrapper (``poolref._api``): exact messages of the checks it runs, one claim per test.

Every implementation (``fast``, ``im2col``, ``naive``) gets its nine public
functions from ``poolref._api.build``; each error names the public function
that raised it (``max_pool1d_backward``, ``max_unpool1d``, ...) and the
argument (``x``, ``y``, ``grad_output``, ``indices``). The last tests check the
core contract of ``build``: the backward hands its ``backward_from_indices``
core the normalised ``PoolParams``.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import poolref
from poolref import _api, _api_checks, _params, fast, im2col, naive
from poolref._params import PoolParams

try:  # the compiled cores check index ranges themselves (checks_indices): the same words
    from poolref import jit
except ImportError:
    jit = None
IMPLS = pytest.mark.parametrize(
    "impl",
    [fast, im2col, naive, poolref] + ([jit] if jit is not None else []),
    ids=lambda m: m.__name__,
)

X1 = np.zeros((1, 1, 6))
G1 = np.zeros((1, 1, 3))  # max_pool1d(X1, 2)'s output shape
I1 = np.zeros((1, 1, 3), dtype=np.int64)


def _raises(error, text):
    return pytest.raises(error, match="^" + re.escape(text) + "$")


# ---------------------------------------------------------------------------- forward


@IMPLS
def test_forward_names_itself_when_return_indices_is_not_a_bool(impl):
    with _raises(
        TypeError, "max_pool1d: return_indices must be a bool, got return_indices=1 (type int)"
    ):
        impl.max_pool1d(X1, 2, return_indices=1)


@IMPLS
def test_forward_names_itself_and_x_for_an_input_of_the_wrong_rank(impl):
    text = "max_pool2d: x must have shape (N, C, H, W) or (C, H, W), i.e. ndim 4 or 3, got x.shape=(6,) (ndim 1)"
    with _raises(ValueError, text):
        impl.max_pool2d(np.zeros(6), 2)


@IMPLS
def test_forward_names_itself_when_the_output_would_be_empty(impl):
    text = (
        "max_pool1d: computed output size (0,) is too small (every size must be >= 1) for input spatial "
        "size (1,) with kernel_size=(2,), stride=(2,), padding=(0,), dilation=(1,), ceil_mode=False"
    )
    with _raises(ValueError, text):
        impl.max_pool1d(np.zeros((1, 1, 1)), 2)


# ---------------------------------------------------------------------------- backward


@IMPLS
def test_backward_names_itself_for_a_bad_parameter(impl):
    with _raises(
        ValueError,
        "max_pool1d_backward: kernel_size must be >= 1 in every dimension, got kernel_size=0",
    ):
        impl.max_pool1d_backward(G1, X1, 0)


@IMPLS
def test_backward_names_itself_for_an_integer_grad_output(impl):
    text = "max_pool1d_backward: grad_output.dtype=int64 is not supported; expected one of float16, float32, float64"
    with _raises(TypeError, text):
        impl.max_pool1d_backward(G1.astype(np.int64), X1, 2)


@IMPLS
def test_backward_names_itself_for_an_integer_x(impl):
    text = "max_pool1d_backward: x.dtype=int64 is not supported; expected one of float16, float32, float64"
    with _raises(TypeError, text):
        impl.max_pool1d_backward(G1, X1.astype(np.int64), 2)


@IMPLS
def test_backward_without_indices_asks_for_an_array_x(impl):
    with _raises(TypeError, "max_pool1d_backward: x must be a numpy.ndarray, got x of type list"):
        impl.max_pool1d_backward(G1, [0.0] * 6, 2)


@IMPLS
def test_backward_with_indices_asks_for_an_array_or_a_shape_tuple_x(impl):
    text = "max_pool1d_backward: x must be a numpy.ndarray or (with indices) a shape tuple, got x of type str"
    with _raises(TypeError, text):
        impl.max_pool1d_backward(G1, "x", 2, indices=I1)


@IMPLS
def test_backward_names_itself_and_x_for_an_input_shape_of_the_wrong_rank(impl):
    text = "max_pool1d_backward: x must have shape (N, C, L) or (C, L), i.e. ndim 3 or 2, got x.shape=(6,) (ndim 1)"
    with _raises(ValueError, text):
        impl.max_pool1d_backward(G1, (6,), 2, indices=I1)


@IMPLS
def test_backward_names_itself_when_the_forward_output_would_be_empty(impl):
    text = (
        "max_pool1d_backward: computed output size (0,) is too small (every size must be >= 1) for input "
        "spatial size (1,) with kernel_size=(2,), stride=(2,), padding=(0,), dilation=(1,), ceil_mode=False"
    )
    with _raises(ValueError, text):
        impl.max_pool1d_backward(np.zeros((1, 1, 0)), np.zeros((1, 1, 1)), 2)


@IMPLS
def test_backward_names_itself_for_an_index_out_of_range(impl):
    text = (
        "max_pool1d_backward: indices[0, 0, 0]=6 is out of range; every index must be in [0, 6) "
        "(or -1 for an empty window)"
    )
    with _raises(ValueError, text):
        impl.max_pool1d_backward(G1, (1, 1, 6), 2, indices=np.full((1, 1, 3), 6, dtype=np.int64))


# ---------------------------------------------------------------------------- unpool


@IMPLS
def test_unpool_names_itself_for_a_bad_parameter(impl):
    with _raises(
        ValueError, "max_unpool1d: kernel_size must be >= 1 in every dimension, got kernel_size=0"
    ):
        impl.max_unpool1d(G1, I1, 0)


@IMPLS
def test_unpool_names_itself_and_y_for_an_unsupported_dtype(impl):
    text = (
        "max_unpool1d: y.dtype=bool is not supported; expected one of float16, float32, float64, "
        "int8, int16, int32, int64, uint8"
    )
    with _raises(TypeError, text):
        impl.max_unpool1d(G1.astype(bool), I1, 2)


@IMPLS
def test_unpool_names_itself_and_y_for_an_input_of_the_wrong_rank(impl):
    text = "max_unpool1d: y must have shape (N, C, L) or (C, L), i.e. ndim 3 or 2, got y.shape=(3,) (ndim 1)"
    with _raises(ValueError, text):
        impl.max_unpool1d(np.zeros(3), np.zeros(3, dtype=np.int64), 2)


@IMPLS
def test_unpool_names_itself_for_an_output_size_out_of_range(impl):
    text = "max_unpool1d: invalid output_size=(9,): spatial dim 0 must be strictly between 4 and 8, got 9"
    with _raises(ValueError, text):
        impl.max_unpool1d(G1, I1, 2, output_size=(9,))


@IMPLS
def test_unpool_names_itself_for_an_index_out_of_range(impl):
    text = "max_unpool1d: indices[0, 0, 0]=6 is out of range; every index must be in [0, 6) (or -1 for an empty window)"
    with _raises(ValueError, text):
        impl.max_unpool1d(G1, np.full((1, 1, 3), 6, dtype=np.int64), 2)


# ---------------------------------------------------------------------------- core contract of build


def _spy_functions(seen, *, with_backward_from_input):
    """naive's cores behind ``build``, recording the params that reach ``backward_from_indices``."""

    def backward_from_indices(grad_output, indices, input_shape, params):
        seen.append(params)
        return naive._backward_from_indices(grad_output, indices, input_shape, params)

    def backward_from_input(grad_output, x, params):
        raise AssertionError("not called in these tests")

    return _api.build(
        "spy",
        "spy",
        forward=naive._forward,
        backward_from_indices=backward_from_indices,
        unpool=naive._unpool,
        backward_from_input=backward_from_input if with_backward_from_input else None,
    )


EXPECTED = PoolParams((3,), (2,), (1,), (1,), True)


def test_backward_with_indices_hands_the_core_the_normalised_params():
    seen = []
    spy = _spy_functions(seen, with_backward_from_input=True)
    x = np.arange(6.0).reshape(1, 1, 6)
    _, idx = spy.max_pool1d(x, 3, stride=2, padding=1, ceil_mode=True, return_indices=True)
    spy.max_pool1d_backward(
        np.ones(idx.shape), x, 3, stride=2, padding=1, ceil_mode=True, indices=idx
    )
    assert seen == [EXPECTED]


def test_backward_that_recomputes_indices_hands_the_core_the_normalised_params():
    seen = []
    spy = _spy_functions(seen, with_backward_from_input=False)
    x = np.arange(6.0).reshape(1, 1, 6)
    y = spy.max_pool1d(x, 3, stride=2, padding=1, ceil_mode=True)
    spy.max_pool1d_backward(np.ones(y.shape), x, 3, stride=2, padding=1, ceil_mode=True)
    assert seen == [EXPECTED]


@IMPLS
@pytest.mark.parametrize("nd", [2, 3])
def test_every_rank_of_unpool_names_itself(impl, nd):
    y = np.zeros((1, 1) + (2,) * nd)
    indices = np.zeros(y.shape, dtype=np.int64)
    text = f"max_unpool{nd}d: kernel_size must be >= 1 in every dimension, got kernel_size=0"
    with _raises(ValueError, text):
        getattr(impl, f"max_unpool{nd}d")(y, indices, 0)


@IMPLS
def test_unpool_refuses_padding_over_half_the_kernel(impl):
    with pytest.raises(ValueError, match=r"^max_unpool1d: padding"):
        impl.max_unpool1d(G1, I1, 2, padding=2)


@IMPLS
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_unpool_pads_nothing_by_default(impl, nd):
    x = np.arange(2.0**nd).reshape((1, 1) + (2,) * nd)
    y, indices = getattr(impl, f"max_pool{nd}d")(x, 1, return_indices=True)
    out = getattr(impl, f"max_unpool{nd}d")(y, indices, 1)  # padding=1 would be refused
    np.testing.assert_array_equal(out, x)


@IMPLS
def test_unpool_names_the_type_of_indices_that_are_not_an_array(impl):
    text = "max_unpool1d: indices must be a numpy.ndarray, got indices of type list"
    with _raises(TypeError, text):
        impl.max_unpool1d(G1, [[[0, 1, 2]]], 2)


@IMPLS
def test_unpool_names_the_module_and_type_of_a_rejected_indices_subclass(impl):
    masked = np.ma.masked_array(I1)
    text = (
        "max_unpool1d: indices must be a plain numpy.ndarray, got indices of type "
        "numpy.ma.MaskedArray; convert it with numpy.asarray"
    )
    with _raises(TypeError, text):
        impl.max_unpool1d(G1, masked, 2)


@IMPLS
def test_unpool_refuses_an_output_larger_than_memory_before_allocating_it(impl):
    # one float64 input element, a k x k kernel with stride k: the default output is k x k, whose
    # 8 * k**2 bytes are twice the machine's memory (an estimate off by the itemsize would pass)
    k = math.isqrt(2 * _params.machine_bytes() // 8) + 1
    y = np.zeros((1, 1, 1, 1))
    indices = np.zeros(y.shape, dtype=np.int64)
    with pytest.raises(ValueError, match=r"^max_unpool2d: .* would need [0-9,]+ bytes"):
        impl.max_unpool2d(y, indices, k)


# ---------------------------------------------------------------------------- cores that check indices


def _own_range_checks(seen, position, *, checks=True):
    """naive's forward, and scatter cores that report ``position`` as the first bad index."""

    def backward_from_indices(grad_output, indices, input_shape, params):
        seen.append(("backward", indices.shape))
        raise _api_checks.IndexRangeError(position)

    def unpool(y, indices, out_spatial):
        seen.append(("unpool", indices.shape))
        raise _api_checks.IndexRangeError(position)

    return _api.build(
        "own",
        "own",
        forward=naive._forward,
        backward_from_indices=backward_from_indices,
        unpool=unpool,
        checks_indices=lambda: checks,
    )


BAD = np.array([[[0, 99, 3], [1, 7, 2]]], dtype=np.int64)  # 99 first in row-major order; 7 at 4


@pytest.mark.parametrize("batched", [True, False])
def test_a_core_that_checks_the_range_gets_the_indices_unchecked_and_its_error_worded_as_usual(
    batched,
):
    seen = []
    impl = _own_range_checks(seen, 4)
    indices, shape = (BAD, (1, 2, 6)) if batched else (BAD[0], (2, 6))
    where = "0, 1, 1" if batched else "1, 1"
    text = (
        f"max_pool1d_backward: indices[{where}]=7 is out of range; every index must be in "
        "[0, 6) (or -1 for an empty window)"
    )
    with _raises(ValueError, text):
        impl.max_pool1d_backward(np.zeros(indices.shape), shape, 2, indices=indices)
    with _raises(ValueError, text.replace("max_pool1d_backward", "max_unpool1d")):
        impl.max_unpool1d(np.zeros(indices.shape), indices, 2)
    assert seen == [("backward", (1, 2, 3)), ("unpool", (1, 2, 3))]  # batched views reach it


def test_a_core_that_does_not_check_the_range_never_sees_a_bad_index():
    seen = []
    impl = _own_range_checks(seen, 4, checks=False)
    text = "indices[0, 0, 1]=99 is out of range"
    with _raises(
        ValueError,
        f"max_pool1d_backward: {text}; every index must be in [0, 6) (or -1 for an empty window)",
    ):
        impl.max_pool1d_backward(np.zeros((1, 2, 3)), (1, 2, 6), 2, indices=BAD)
    with _raises(
        ValueError,
        f"max_unpool1d: {text}; every index must be in [0, 6) (or -1 for an empty window)",
    ):
        impl.max_unpool1d(np.zeros((1, 2, 3)), BAD, 2)
    assert seen == []


def test_the_allocation_text_is_made_only_for_the_error(monkeypatch):
    calls = []

    def text():
        calls.append(1)
        return "the thing"

    _params.check_allocation(10, text, "f")
    assert calls == []
    monkeypatch.setattr(_params, "machine_bytes", lambda: 9)
    with _raises(
        ValueError,
        "f: the thing would need 10 bytes (0.0 GiB), more than this machine's memory (0.0 GiB)",
    ):
        _params.check_allocation(10, text, "f")
    with pytest.raises(ValueError, match=r"^f: plain text would need 10 bytes "):
        _params.check_allocation(10, "plain text", "f")


def test_a_core_reports_the_position_of_the_bad_index():
    exc = _api_checks.IndexRangeError(7)
    assert exc.position == 7 and exc.args == (7,) and str(exc) == "7"


def test_the_automatic_backend_checks_indices_where_jit_runs(monkeypatch):
    from poolref import _backend

    monkeypatch.setattr(_backend, "active", lambda: "jit")
    assert _backend._checks_indices() is True
    monkeypatch.setattr(_backend, "active", lambda: "numpy")
    assert _backend._checks_indices() is False

"""The layer classes (``poolref.fast``'s and ``poolref``'s, on the active backend) agree with
the functional API they stand for."""

from __future__ import annotations

import _assertions as pa
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import poolref
from poolref import fast
from poolref import strategies as ps

FLOATS = ("float64", "float32", "float16")
SMALL = {"max_elements": 128}


#: poolref.MaxPool*d run the compiled kernels when numba is installed (the jit backend); without
#: numba they are fast's layers (properties/test_auto_layers.py), so they are not run twice
OWNERS = pytest.mark.parametrize(
    "owner",
    [fast, poolref] if poolref._backend.numba_available() else [fast],
    ids=lambda m: m.__name__,
)


def _layer(case, owner=fast):
    return getattr(owner, f"MaxPool{case.nd}d")(**case.kwargs())


def _grad_outputs(y, *, integers):
    elements = (
        st.integers(-4, 4).map(float)
        if integers
        else hnp.from_dtype(
            y.dtype, min_value=-100, max_value=100, allow_nan=False, allow_subnormal=False
        )
    )
    return hnp.arrays(y.dtype, y.shape, elements=elements, fill=st.nothing())


@OWNERS
@given(case=ps.pool_cases(**SMALL))
def test_layer_forward_equals_functional_forward(owner, case):
    y = _layer(case, owner).forward(case.x)
    pa.assert_pool_equal(y, pa.pool(fast, case), case=case, name="layer.forward(x)")


@OWNERS
@given(case=ps.pool_cases(dtypes=FLOATS, **SMALL), data=st.data())
def test_layer_backward_equals_functional_backward_exactly_on_integer_gradients(owner, case, data):
    layer = _layer(case, owner)
    y = layer.forward(case.x)
    g = data.draw(_grad_outputs(y, integers=True), label="grad_output")
    expected = pa.backward(fast, case.nd)(g, case.x, **case.kwargs())
    pa.assert_pool_equal(layer.backward(g), expected, case=case, name="layer.backward(g)")


@OWNERS
@given(case=ps.pool_cases(dtypes=FLOATS, **SMALL), data=st.data())
def test_layer_backward_equals_functional_backward_to_rounding(owner, case, data):
    layer = _layer(case, owner)
    y = layer.forward(case.x)
    g = data.draw(_grad_outputs(y, integers=False), label="grad_output")
    expected = pa.backward(fast, case.nd)(g, case.x, **case.kwargs())
    _, idx = pa.pool(fast, case, return_indices=True)
    atol = pa.summation_tolerance(g, idx, case.x.shape, case.nd)
    pa.assert_pool_close(
        layer.backward(g), expected, case=case, name="layer.backward(g)", atol=atol
    )


@OWNERS
@given(case=ps.pool_cases(dtypes=FLOATS, **SMALL), data=st.data())
def test_layer_backward_uses_the_latest_forward(owner, case, data):
    layer = _layer(case, owner)
    other = data.draw(
        hnp.arrays(
            case.x.dtype,
            case.x.shape,
            elements=ps.values(case.x.dtype, profile="distinct"),
            fill=st.nothing(),
        ),
        label="earlier input",
    )
    layer.forward(other)
    y = layer.forward(case.x)
    g = np.arange(y.size, dtype=y.dtype).reshape(y.shape) % 5 + 1
    expected = pa.backward(fast, case.nd)(g, case.x, **case.kwargs())
    pa.assert_pool_equal(layer.backward(g), expected, case=case, name="layer.backward(g)")


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (fast.MaxPool2d(16), (1, 2, 16, 16)),  # 256 taps: one more than uint8 holds
        (fast.MaxPool3d((7, 7, 6), stride=1), (1, 1, 8, 7, 7)),  # 294 taps, overlapping windows
        (fast.MaxPool1d(300, stride=7, padding=150), (1, 1, 320)),
    ],
    ids=repr,
)
def test_layer_handles_kernels_with_more_taps_than_uint8(layer, shape):
    rng = np.random.default_rng(0)
    x = rng.permutation(np.prod(shape)).astype(np.float64).reshape(shape)
    kw = {
        "kernel_size": layer.params.kernel_size,
        "stride": layer.params.stride,
        "padding": layer.params.padding,
        "dilation": layer.params.dilation,
        "ceil_mode": layer.params.ceil_mode,
    }
    nd = len(shape) - 2
    y = layer.forward(x)
    np.testing.assert_array_equal(y, pa.forward(fast, nd)(x, **kw), strict=True)
    g = rng.integers(-3, 4, size=y.shape).astype(np.float64)
    np.testing.assert_array_equal(layer.backward(g), pa.backward(fast, nd)(g, x, **kw), strict=True)


def test_layer_backward_before_forward_raises_runtime_error():
    with pytest.raises(RuntimeError, match="forward"):
        fast.MaxPool2d(2).backward(np.ones((1, 1, 1, 1)))


@given(case=ps.pool_cases(**SMALL))
def test_layer_keeps_at_most_one_byte_per_output_for_kernels_under_255_taps(case):
    layer = _layer(case)
    y = layer.forward(case.x)
    assert layer.saved_nbytes <= y.size, (
        f"saved {layer.saved_nbytes} bytes for {y.size} outputs: {case!r}"
    )

"""``poolref.fast.MaxPool1d/2d/3d``: repr, saved state and error messages, one claim per test.

The layers' numerics are checked against the functional API in
``test_layers.py``; these fixed cases pin what a user sees when a call is
wrong: the error type and a message that starts with ``<Layer>.<method>:``
and names the argument and value.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from poolref.fast import MaxPool1d, MaxPool2d, MaxPool3d


def test_repr_shows_the_normalised_parameters():
    assert repr(MaxPool2d(3, stride=(2, 1), padding=1, dilation=2, ceil_mode=True)) == (
        "MaxPool2d(kernel_size=(3, 3), stride=(2, 1), padding=(1, 1), dilation=(2, 2), ceil_mode=True)"
    )


def test_nothing_is_saved_before_the_first_forward():
    layer = MaxPool1d(2)
    assert layer.saved_nbytes == 0
    layer.forward(np.zeros((1, 2, 6)))
    assert layer.saved_nbytes == 6  # one uint8 code per output element


def test_constructor_error_names_the_layer_class():
    with pytest.raises(
        ValueError, match=r"^MaxPool3d: stride must be >= 1 in every dimension, got stride=0$"
    ):
        MaxPool3d(2, stride=0)


def test_forward_rejects_an_unsupported_dtype_naming_it():
    with pytest.raises(TypeError, match=r"^MaxPool2d\.forward: x\.dtype=bool is not supported"):
        MaxPool2d(2).forward(np.zeros((1, 1, 4, 4), dtype=bool))


def test_forward_rejects_a_wrong_rank_naming_the_shape():
    text = "MaxPool2d.forward: x must have shape (N, C, H, W) or (C, H, W), i.e. ndim 4 or 3, got x.shape=(4, 4) (ndim 2)"
    with pytest.raises(ValueError, match="^" + re.escape(text) + "$"):
        MaxPool2d(2).forward(np.zeros((4, 4)))


def test_forward_rejects_an_input_too_small_for_the_kernel():
    with pytest.raises(
        ValueError, match=r"^MaxPool1d\.forward: computed output size \(0,\) is too small"
    ):
        MaxPool1d(3).forward(np.zeros((1, 1, 2)))


def test_backward_rejects_an_integer_gradient_naming_its_dtype():
    layer = MaxPool2d(2)
    layer.forward(np.zeros((1, 1, 4, 4)))
    with pytest.raises(
        TypeError, match=r"^MaxPool2d\.backward: grad_output\.dtype=int64 is not supported"
    ):
        layer.backward(np.zeros((1, 1, 2, 2), dtype=np.int64))


def test_backward_rejects_a_gradient_dtype_other_than_the_inputs():
    layer = MaxPool2d(2)
    layer.forward(np.zeros((1, 1, 4, 4)))
    with pytest.raises(
        TypeError,
        match=r"^MaxPool2d\.backward: grad_output\.dtype=float32 must match the input dtype float64$",
    ):
        layer.backward(np.zeros((1, 1, 2, 2), dtype=np.float32))


@pytest.mark.parametrize(
    ("x_shape", "g_shape", "expected"),
    [((1, 1, 4, 4), (1, 1, 3, 3), (1, 1, 2, 2)), ((2, 4, 4), (2, 3, 3), (2, 2, 2))],
    ids=["batched", "unbatched"],
)
def test_backward_rejects_a_gradient_of_the_wrong_shape_naming_both_shapes(
    x_shape, g_shape, expected
):
    layer = MaxPool2d(2)
    layer.forward(np.zeros(x_shape))
    text = f"MaxPool2d.backward: grad_output.shape={g_shape} does not match the output shape {expected}"
    with pytest.raises(ValueError, match="^" + re.escape(text) + "$"):
        layer.backward(np.zeros(g_shape))


def test_backward_before_forward_raises_runtime_error_naming_the_method():
    with pytest.raises(RuntimeError, match=r"^MaxPool1d\.backward: call forward before backward$"):
        MaxPool1d(2).backward(np.zeros((1, 1, 1)))


def test_defaults_are_stride_kernel_padding_0_dilation_1_floor_mode():
    assert repr(MaxPool1d(3)) == (
        "MaxPool1d(kernel_size=(3,), stride=(3,), padding=(0,), dilation=(1,), ceil_mode=False)"
    )


def test_a_kernel_of_255_taps_still_keeps_one_byte_per_output():
    layer = MaxPool1d(255)
    layer.forward(np.zeros((1, 2, 255)))
    assert layer.saved_nbytes == 2

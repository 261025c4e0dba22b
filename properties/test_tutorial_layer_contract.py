"""The tutorial ``Maxpool`` layer: attributes and error messages, one claim per test.

Fixed, tiny cases (no Hypothesis): each test pins one promise of
``poolref.im2col.Maxpool``'s docstring that the broader layer tests in
``test_im2col_layer.py`` leave open.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from poolref import im2col as ic


def test_size_and_stride_given_as_lists_are_kept_as_tuples():
    pool = ic.Maxpool((1, 4, 4), size=[2, 2], stride=[2, 1])
    assert pool.size == (2, 2) and type(pool.size) is tuple
    assert pool.stride == (2, 1) and type(pool.stride) is tuple


def test_batch_size_attribute_is_none_before_the_first_forward():
    pool = ic.Maxpool((1, 4, 4), 2, 2)
    assert pool.n_X is None
    pool.forward(np.zeros((3, 1, 4, 4)))
    assert pool.n_X == 3


def test_x_dim_that_is_not_a_sequence_raises_type_error_naming_it():
    with pytest.raises(TypeError, match=re.escape("X_dim=5")):
        ic.Maxpool(5, 2, 2)


def test_x_dim_with_zero_channels_raises_value_error_naming_it():
    with pytest.raises(ValueError, match=re.escape("X_dim=(0, 4, 4)")):
        ic.Maxpool((0, 4, 4), 2, 2)


@pytest.mark.parametrize("name", ["size", "stride"])
def test_bad_size_or_stride_message_starts_with_the_layer_name(name):
    kwargs = {"X_dim": (1, 4, 4), "size": 2, "stride": 2, name: 0}
    with pytest.raises(ValueError, match=rf"^Maxpool: {name} must be >= 1 .* got {name}=0$"):
        ic.Maxpool(**kwargs)


@pytest.mark.parametrize(
    ("X_dim", "size", "stride", "fails_for"),
    [
        ((1, 4, 5), 2, 2, "(fails for W=5)"),
        ((1, 5, 4), 2, 2, "(fails for H=5)"),
        ((1, 5, 5), 2, 2, "(fails for H=5, W=5)"),
    ],
)
def test_invalid_dimensions_message_names_each_failing_side(X_dim, size, stride, fails_for):
    with pytest.raises(ValueError) as info:
        ic.Maxpool(X_dim, size, stride)
    assert str(info.value).endswith(fails_for), str(info.value)


def test_forward_with_a_non_array_names_its_type():
    with pytest.raises(
        TypeError, match=r"^Maxpool\.forward: X must be a numpy\.ndarray, got X of type list$"
    ):
        ic.Maxpool((1, 2, 2), 2, 2).forward([[[[1.0]]]])


def test_backward_with_a_non_array_names_its_type():
    pool = ic.Maxpool((1, 2, 2), 2, 2)
    pool.forward(np.zeros((1, 1, 2, 2)))
    with pytest.raises(
        TypeError,
        match=r"^Maxpool\.backward: dout must be a numpy\.ndarray, got dout of type list$",
    ):
        pool.backward([[[[1.0]]]])


def test_backward_before_forward_message_says_what_to_run_first():
    with pytest.raises(
        RuntimeError,
        match=r"^Maxpool\.backward: called before forward\(\); run forward\(X\) first$",
    ):
        ic.Maxpool((1, 2, 2), 2, 2).backward(np.ones((1, 1, 1, 1)))

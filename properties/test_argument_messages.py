"""Argument validation (``poolref._params``): exact messages and the plain-int cache, one claim per test.

Every message starts with the public function's name and names the argument,
its value and, for a bad type, the type. Calls with plain ints are cached;
``2.0 == 2`` and ``True == 1`` hash alike, so a bad argument must never be
answered from a good call's cache entry.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import poolref

X1 = np.zeros((1, 1, 6))
X2 = np.zeros((1, 1, 4, 4))


def _raises(error, text):
    return pytest.raises(error, match="^" + re.escape(text) + "$")


@pytest.mark.parametrize(
    ("good", "bad"),
    [
        ({"kernel_size": 2}, {"kernel_size": 2.0}),
        ({"kernel_size": (2,)}, {"kernel_size": (2.0,)}),
        ({"kernel_size": 2, "stride": 2}, {"kernel_size": 2, "stride": 2.0}),
        ({"kernel_size": 2, "padding": 1}, {"kernel_size": 2, "padding": True}),
        (
            {"kernel_size": (2,), "padding": (0,), "dilation": (1,)},
            {"kernel_size": (2.0,), "padding": (0,), "dilation": (1,)},
        ),
    ],
    ids=["kernel_size", "kernel_size-tuple", "stride", "padding", "all-tuples"],
)
def test_a_non_int_argument_is_rejected_after_an_equal_int_call_was_cached(good, bad):
    poolref.max_pool1d(X1, **good)
    with pytest.raises(TypeError):
        poolref.max_pool1d(X1, **bad)


def test_a_one_tuple_parameter_applies_to_every_dimension():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    y = poolref.max_pool2d(x, (2,), stride=(1,), padding=(1,), dilation=(1,))
    np.testing.assert_array_equal(y, poolref.max_pool2d(x, 2, stride=1, padding=1, dilation=1))


@pytest.mark.parametrize("name", ["kernel_size", "stride", "padding", "dilation"])
def test_a_float_parameter_message_names_function_argument_value_and_type(name):
    kwargs = {"kernel_size": 2, name: 2.5}
    with _raises(
        TypeError,
        f"max_pool2d: {name} must be an int or a tuple of 2 ints, got {name}=2.5 (type float)",
    ):
        poolref.max_pool2d(X2, **kwargs)


def test_a_parameter_tuple_of_the_wrong_length_message_gives_the_length():
    text = "max_pool2d: padding must be a single int or a tuple of 2 ints, got padding=(1, 1, 1) of length 3"
    with _raises(ValueError, text):
        poolref.max_pool2d(X2, 2, padding=(1, 1, 1))


def test_a_non_bool_ceil_mode_message_names_its_type():
    with _raises(TypeError, "max_pool2d: ceil_mode must be a bool, got ceil_mode=1 (type int)"):
        poolref.max_pool2d(X2, 2, ceil_mode=1)


@pytest.mark.parametrize("kernel_size", [0, [0]], ids=["cached-int", "uncached-list"])
def test_a_zero_kernel_size_message_starts_with_the_function_name(kernel_size):
    text = (
        f"max_pool1d: kernel_size must be >= 1 in every dimension, got kernel_size={kernel_size!r}"
    )
    with _raises(ValueError, text):
        poolref.max_pool1d(X1, kernel_size)


def test_an_unsupported_dtype_message_lists_every_supported_dtype():
    text = (
        "max_pool1d: x.dtype=bool is not supported; expected one of "
        "float16, float32, float64, int8, int16, int32, int64, uint8"
    )
    with _raises(TypeError, text):
        poolref.max_pool1d(X1.astype(bool), 2)

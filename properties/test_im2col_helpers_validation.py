"""The public helpers of poolref.im2col reject bad arguments with a message naming them (issue 12, item 5)."""

from __future__ import annotations

import numpy as np
import pytest

from poolref.im2col import col2im, im2col, im2col_indices, output_length

X = np.arange(16.0).reshape(1, 1, 4, 4)
COLS = im2col(X, 2, 2)

BAD_CALLS = [
    # (call, exception, message fragment)
    (
        lambda: output_length(5, 2, 0),
        ValueError,
        "stride must be >= 1 in every dimension, got stride=0",
    ),
    (
        lambda: output_length(5, 0),
        ValueError,
        "kernel_size must be >= 1 in every dimension, got kernel_size=0",
    ),
    (
        lambda: output_length(5, -1),
        ValueError,
        "kernel_size must be >= 1 in every dimension, got kernel_size=-1",
    ),
    (
        lambda: output_length(5, 2, dilation=0),
        ValueError,
        "dilation must be >= 1 in every dimension, got dilation=0",
    ),
    (
        lambda: output_length(5, 2, padding=-3),
        ValueError,
        "padding must be >= 0 in every dimension, got padding=-3",
    ),
    (
        lambda: output_length(0, 2),
        ValueError,
        "length must be >= 1 in every dimension, got length=0",
    ),
    (
        lambda: output_length(5, 2, 2.0),
        TypeError,
        "stride must be an int or a tuple of 1 ints, got stride=2.0",
    ),
    (
        lambda: output_length(5, True),
        TypeError,
        "kernel_size must be an int or a tuple of 1 ints, got kernel_size=True",
    ),
    (
        lambda: output_length(5, 2, ceil_mode="False"),
        TypeError,
        "ceil_mode must be a bool, got ceil_mode='False'",
    ),
    (
        lambda: output_length("5", 2),
        TypeError,
        "length must be an int or a tuple of 1 ints, got length='5'",
    ),
    (
        lambda: im2col(X, 2, 2, ceil_mode="False"),
        TypeError,
        "ceil_mode must be a bool, got ceil_mode='False'",
    ),
    (
        lambda: im2col(X, 2, pad_value="a"),
        TypeError,
        "pad_value must be a real number, got pad_value='a'",
    ),
    (
        lambda: im2col(X, 2, pad_value=1j),
        TypeError,
        "pad_value must be a real number, got pad_value=1j",
    ),
    (
        lambda: im2col(X, 2, pad_value=np.str_("a")),
        TypeError,
        "pad_value must be a real number, got pad_value=np.str_('a')",
    ),
    (lambda: im2col(X, 2, pad_value=np.complex64(1)), TypeError, "pad_value must be a real number"),
    (lambda: im2col(X.tolist(), 2), TypeError, "x must be a numpy.ndarray, got x of type list"),
    (lambda: im2col(np.ma.masked_array(X), 2), TypeError, "x must be a plain numpy.ndarray"),
    (
        lambda: im2col(X[0, 0], 2),
        ValueError,
        "x must have shape (N, C, *spatial) with 1 to 3 spatial dims",
    ),
    (
        lambda: col2im(COLS, (1, 1, 4.0, 4), 2, 2),
        TypeError,
        "x_shape must be a tuple of ints, got x_shape=(1, 1, 4.0, 4)",
    ),
    (lambda: col2im(COLS, (2, 1, 5.7, 7.2), 2, 2), TypeError, "x_shape must be a tuple of ints"),
    (
        lambda: col2im(COLS, "abc", 2, 2),
        TypeError,
        "x_shape must be a tuple of ints, got x_shape='abc'",
    ),
    (
        lambda: col2im(COLS, (1, 0, 4, 4), 2, 2),
        ValueError,
        "x_shape must have positive sizes, got x_shape=(1, 0, 4, 4)",
    ),
    (
        lambda: col2im(COLS, (1, 1, 4, 4), 2, 2, ceil_mode=1),
        TypeError,
        "ceil_mode must be a bool, got ceil_mode=1",
    ),
    (lambda: col2im(COLS.tolist(), (1, 1, 4, 4), 2, 2), TypeError, "cols must be a numpy.ndarray"),
    (lambda: im2col_indices(4, 2), TypeError, "spatial must be a tuple of ints, got spatial=4"),
    (
        lambda: im2col_indices("ab", 2),
        TypeError,
        "spatial must be a tuple of ints, got spatial='ab'",
    ),
    (
        lambda: im2col_indices((4,), 2, ceil_mode=None),
        TypeError,
        "ceil_mode must be a bool, got ceil_mode=None",
    ),
    (lambda: im2col_indices((4,), 2, 2**63), ValueError, "stride must be at most 2**63 - 1"),
]


@pytest.mark.parametrize("case", range(len(BAD_CALLS)))
def test_bad_arguments_are_named(case):
    call, exc, fragment = BAD_CALLS[case]
    with pytest.raises(exc) as info:
        call()
    assert fragment in str(info.value)
    assert type(info.value) is exc


def test_good_calls_still_work():
    assert output_length(7, 3, 2) == 3 and type(output_length(7, 3, 2)) is int
    assert output_length(np.int64(6), 3, 2, ceil_mode=np.bool_(True)) == 3
    assert im2col(X, 2, 2, ceil_mode=False).shape == (4, 4)
    assert im2col(X[..., 0, :], 2, stride=2, padding=1, pad_value=np.float32(-1)).tolist() == [
        [-1.0, 1.0, 3.0],
        [0.0, 2.0, -1.0],
    ]
    assert col2im(COLS, [1, 1, np.int64(4), 4], 2, 2).tolist() == X.tolist()
    assert im2col_indices([4], 2)[1] == (3,)


def test_output_length_names_itself_in_its_messages():
    with pytest.raises(ValueError, match=r"^output_length: stride must be >= 1"):
        output_length(5, 2, 0)
    with pytest.raises(TypeError, match=r"^output_length: ceil_mode must be a bool"):
        output_length(5, 2, ceil_mode=None)


def test_im2col_indices_names_itself_for_a_bad_ceil_mode():
    with pytest.raises(TypeError, match=r"^im2col_indices: ceil_mode must be a bool"):
        im2col_indices((4,), 2, ceil_mode=None)


def test_im2col_indices_counts_the_partial_window_in_ceil_mode():
    assert im2col_indices((5,), 2, 2, ceil_mode=True)[1] == (3,)
    assert im2col_indices((5,), 2, 2, ceil_mode=False)[1] == (2,)
    # a kernel longer than the input: only ceil mode has a window (it starts inside the input)
    assert im2col_indices((3,), 4, 2, ceil_mode=True)[1] == (1,)
    with pytest.raises(ValueError, match=r"^im2col_indices: output size \(0,\) is too small"):
        im2col_indices((3,), 4, 2, ceil_mode=False)


def test_the_largest_int64_is_an_accepted_stride():
    assert output_length(5, 2, 2**63 - 1) == 1


def test_a_rejected_array_subclass_is_named_by_its_type():
    with pytest.raises(
        TypeError, match=r"^im2col: x must be a plain numpy.ndarray, got x of type MaskedArray$"
    ):
        im2col(np.ma.masked_array(X), 2, 2)

"""``poolref.fast`` backward: accumulation precision and empty batches, one claim per test.

The contract lets float16/float32 gradients of overlapping windows differ from
the float64 reference by rounding; ``poolref.fast`` promises more for float16:
it accumulates in float32, so a sum that float32 holds exactly is rounded only
once, when cast back to float16.
"""

from __future__ import annotations

import numpy as np
import pytest

from poolref import fast


def test_float16_overlapping_gradients_accumulate_in_float32():
    # three overlapping windows all select x[1]; the taps add 2048 first, and in float16
    # 2048 + 1 rounds back to 2048 (twice), while float32 holds 2050
    x = np.array([[[0.0, 5.0, 0.0]]], dtype=np.float16)
    g = np.array([[[1.0, 1.0, 2048.0]]], dtype=np.float16)
    grad = fast.max_pool1d_backward(g, x, 3, stride=1, padding=1)
    assert grad.dtype == np.float16
    np.testing.assert_array_equal(grad[0, 0], np.array([0.0, 2050.0, 0.0], dtype=np.float16))


@pytest.mark.parametrize("overlapping", [False, True], ids=["disjoint", "overlapping"])
def test_gradient_of_an_empty_batch_has_the_input_shape_and_dtype(overlapping):
    x = np.zeros((0, 2, 5), dtype=np.float32)
    stride = 1 if overlapping else 2
    g = np.zeros((0, 2, 4 if overlapping else 2), dtype=np.float32)
    grad = fast.max_pool1d_backward(g, x, 2, stride=stride)
    assert grad.shape == x.shape and grad.dtype == np.float32

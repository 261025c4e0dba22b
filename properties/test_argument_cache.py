"""The plain-int cache of ``poolref._params.normalize_pool_args``, one claim per test.

Only exact ``int``s, tuples of exact ``int``s and exact ``bool``s may reach the cache: NumPy
integers, NumPy bools and floats hash and compare like the equal ``int`` (``np.int64(2) ==
2.0``, ``np.True_ == 1``), so if one reached it, a bad argument could be answered from a
valid call's entry instead of being rejected.
"""

from __future__ import annotations

import numpy as np
import pytest

import poolref

X1 = np.zeros((1, 1, 6))


def test_a_float_tuple_is_rejected_after_an_equal_numpy_integer_tuple_was_accepted():
    poolref.max_pool1d(X1, (np.int64(2),))
    with pytest.raises(TypeError):
        poolref.max_pool1d(X1, (2.0,))


def test_an_int_ceil_mode_is_rejected_after_an_equal_numpy_bool_was_accepted():
    poolref.max_pool1d(X1, 2, ceil_mode=np.True_)
    with pytest.raises(TypeError):
        poolref.max_pool1d(X1, 2, ceil_mode=1)

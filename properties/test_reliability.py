"""Issue 12: array subclasses, bounded caches, work bounded by input and output.

The rule for array subclasses (docs/memory.md): ``np.matrix`` and masked arrays
are rejected with a ``TypeError`` naming the argument and its type (a matrix is
always 2-D and a mask would be ignored, so neither can be pooled as the user
means); every other ``ndarray`` subclass is pooled as a plain ndarray and every
result is a plain ``numpy.ndarray``.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import poolref.fast
import poolref.im2col
import poolref.naive

pytestmark = pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")

IMPLS = (poolref.fast, poolref.im2col, poolref.naive)
IDS = ("fast", "im2col", "naive")


class Tagged(np.ndarray):
    """An ndarray subclass that changes nothing (like a user's unit-carrying array)."""


def _bad_kinds(x):
    return (
        (np.asmatrix(x.reshape(x.shape[0], -1)), "matrix"),
        (np.ma.masked_array(x, mask=np.zeros(x.shape, bool)), "MaskedArray"),
    )


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
def test_matrix_and_masked_arrays_are_rejected_everywhere(impl):
    x = np.arange(12.0).reshape(2, 6)
    y, idx = impl.max_pool1d(x, 2, return_indices=True)
    g = np.ones_like(y)
    calls = {
        "x": lambda bad: impl.max_pool1d(bad, 2),
        "x ": lambda bad: impl.max_pool1d_backward(g, bad, 2),
        "grad_output": lambda bad: impl.max_pool1d_backward(bad, x, 2),
        "grad_output ": lambda bad: impl.max_pool1d_backward(bad, x, 2, indices=idx),
        "y": lambda bad: impl.max_unpool1d(bad, idx, 2),
    }
    for name, call in calls.items():
        source = x if name.startswith("x") else (g if name.startswith("grad") else y)
        for bad, kind in _bad_kinds(source):
            with pytest.raises(TypeError, match=rf"{name.strip()} must be a plain numpy.ndarray.*{kind}"):
                call(bad)


@pytest.mark.parametrize("layer", [poolref.fast.MaxPool1d(2)], ids=["fast.MaxPool1d"])
def test_layers_reject_matrix_and_masked(layer):
    x = np.arange(12.0).reshape(2, 6)
    for bad, kind in _bad_kinds(x):
        with pytest.raises(TypeError, match=rf"x must be a plain numpy.ndarray.*{kind}"):
            layer.forward(bad)
    layer.forward(x)
    for bad, kind in _bad_kinds(np.ones((2, 3))):
        with pytest.raises(TypeError, match=rf"grad_output must be a plain numpy.ndarray.*{kind}"):
            layer.backward(bad)
    pool = poolref.im2col.Maxpool((1, 2, 2), 2, 2)
    with pytest.raises(TypeError, match=r"X must be a plain numpy.ndarray.*MaskedArray"):
        pool.forward(np.ma.masked_array(np.ones((1, 1, 2, 2))))


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
def test_other_subclasses_give_plain_ndarrays_and_the_same_values(impl):
    x = np.array([[[1.0, 9.0, 2.0, 0.0, 4.0, 4.0], [3.0, -1.0, 7.0, 7.0, 0.0, 5.0]]])
    sub = x.view(Tagged)
    results = [
        impl.max_pool1d(sub, 2),
        *impl.max_pool1d(sub, 3, 1, 1, return_indices=True),
        impl.max_pool1d_backward(np.ones((1, 2, 3)).view(Tagged), sub, 2),
        impl.max_pool1d_backward(np.ones((1, 2, 6)).view(Tagged), sub, 3, 1, 1),
    ]
    y, idx = impl.max_pool1d(x, 2, return_indices=True)
    results.append(impl.max_unpool1d(y.view(Tagged), idx, 2))
    for r in results:
        assert type(r) is np.ndarray, type(r)
    np.testing.assert_array_equal(results[0], y)
    np.testing.assert_array_equal(results[1], poolref.naive.max_pool1d(x, 3, 1, 1))


def test_fast_layer_returns_plain_ndarrays_for_subclasses():
    layer = poolref.fast.MaxPool1d(3, 1, 1)
    x = np.arange(12.0).reshape(2, 6).view(Tagged)
    assert type(layer.forward(x)) is np.ndarray
    assert type(layer.backward(np.ones((2, 6)).view(Tagged))) is np.ndarray

"""``poolref.MaxPool1d/2d/3d`` on the active backend (test_layers.py checks their values).

On the NumPy backend they are ``poolref.fast``'s layers exactly (tap codes kept); on the jit
backend (numba installed) they keep int32 indices and scatter by them. The backend is chosen at
``forward``, and ``backward`` follows what that forward kept.
"""

from __future__ import annotations

import numpy as np
import pytest

import poolref
from poolref import _auto_layers, fast

X = np.array(
    [[[1.0, 9.0, 2.0, 0.0], [4.0, 3.0, 8.0, 7.0], [0.0, 6.0, 5.0, 5.0], [2.0, 1.0, 3.0, 4.0]]]
)
G = np.array([[[1.0, 2.0], [3.0, 4.0]]])
EXPECTED_GRAD = np.array(
    [[[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0], [0.0, 3.0, 4.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]
)


def jit_or_skip():
    pytest.importorskip("numba", exc_type=ImportError)


def test_the_public_layers_are_the_fast_layers_on_the_numpy_backend():
    layer = poolref.MaxPool2d(2)
    assert isinstance(layer, fast.MaxPool2d)
    with poolref.backend("numpy"):
        np.testing.assert_array_equal(layer.forward(X), [[[9.0, 8.0], [6.0, 5.0]]])
    assert layer._saved[0].dtype == np.uint8 and layer.saved_nbytes == 4  # one code per output
    np.testing.assert_array_equal(layer.backward(G), EXPECTED_GRAD)


def test_float16_keeps_tap_codes_on_every_backend():
    layer = poolref.MaxPool2d(2)
    layer.forward(X.astype(np.float16))
    assert layer._saved[0].dtype == np.uint8
    np.testing.assert_array_equal(layer.backward(G.astype(np.float16)), EXPECTED_GRAD)


def test_the_jit_backend_keeps_int32_indices_and_scatters_by_them():
    jit_or_skip()
    layer = poolref.MaxPool2d(2)
    with poolref.backend("jit"):
        np.testing.assert_array_equal(layer.forward(X), [[[9.0, 8.0], [6.0, 5.0]]])
    saved = layer._saved[0]
    assert saved.dtype == np.int32 and layer.saved_nbytes == 16
    np.testing.assert_array_equal(saved, [[[[1, 6], [9, 10]]]])  # batched, as kept
    with poolref.backend("numpy"):  # backward follows what the forward kept
        np.testing.assert_array_equal(layer.backward(G), EXPECTED_GRAD)


def test_a_plane_too_big_for_int32_keeps_int64_indices(monkeypatch):
    jit_or_skip()
    monkeypatch.setattr(_auto_layers, "_INT32_PLANE", 15)
    layer = poolref.MaxPool2d(2)
    with poolref.backend("jit"):
        layer.forward(X)  # a 16-element plane
        assert layer._saved[0].dtype == np.int64
        np.testing.assert_array_equal(layer.backward(G), EXPECTED_GRAD)
    monkeypatch.setattr(_auto_layers, "_INT32_PLANE", 16)
    with poolref.backend("jit"):
        layer.forward(X)
    assert layer._saved[0].dtype == np.int32


def test_an_empty_window_keeps_minus_one_in_int32():
    jit_or_skip()
    layer = poolref.MaxPool1d(2, stride=2, dilation=2, ceil_mode=True)
    x = np.array([[1.0, 5.0, 3.0]])
    with poolref.backend("jit"):
        y = layer.forward(x)
    np.testing.assert_array_equal(y, fast.max_pool1d(x, 2, 2, dilation=2, ceil_mode=True))
    grad = layer.backward(np.ones_like(y))
    expected = fast.max_pool1d_backward(np.ones_like(y), x, 2, 2, dilation=2, ceil_mode=True)
    np.testing.assert_array_equal(grad, expected)


def test_the_layer_docstrings_name_the_backend():
    for nd in (1, 2, 3):
        doc = getattr(poolref, f"MaxPool{nd}d").__doc__
        assert "Under the jit backend" in doc and "from poolref import MaxPool" in doc
        assert "from poolref.fast import" not in doc and "saved_nbytes" not in doc

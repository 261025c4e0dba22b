"""``convert_indices``: fixed cases for what the mutation run of issue 20 found unchecked.

Every format is written out here by its own formula (the module docstring's), on a batch of
several planes whose selected elements are all different, so a wrong plane offset, a wrong
order or a swapped dimension changes a number. The ``-1`` of an empty window must survive
every conversion, also in a plane of one element (where any other placeholder than 0 is out of
range). Fixed cases, no Hypothesis: they fail at once under mutmut (see
``test_mutants_fractional.py``).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import poolref
from poolref.index_formats import FORMATS, convert_indices

SHAPE = (2, 3, 4, 6)  # N, C, H, W
GEOMETRY = {"kernel_size": (2, 3), "stride": (2, 3), "padding": 0, "dilation": 1}


def _pooled():
    x = np.random.default_rng(20).permutation(np.prod(SHAPE)).astype(float).reshape(SHAPE)
    return poolref.max_pool2d(x, (2, 3), return_indices=True)[1]  # (2, 3, 2, 2)


def _written_out(plane_idx: np.ndarray, fmt: str) -> np.ndarray:
    n_batch, n_chan, height, width = SHAPE
    n = np.arange(n_batch).reshape(-1, 1, 1, 1)
    c = np.arange(n_chan).reshape(1, -1, 1, 1)
    h, w = plane_idx // width, plane_idx % width
    if fmt == "plane":
        return plane_idx
    if fmt == "nhwc":
        return ((n * height + h) * width + w) * n_chan + c
    if fmt == "nhwc_no_batch":
        return (h * width + w) * n_chan + c
    if fmt == "onnx_column_major":
        return (n * n_chan + c) * height * width + w * height + h
    oh = np.arange(plane_idx.shape[2]).reshape(1, 1, -1, 1)
    ow = np.arange(plane_idx.shape[3]).reshape(1, 1, 1, -1)
    return (h - oh * 2) * 3 + (w - ow * 3)  # window: j_h * K_w + j_w


@pytest.mark.parametrize(("source", "target"), list(itertools.product(FORMATS, FORMATS)))
def test_every_pair_of_formats_converts_as_written_out(source, target):
    idx = _pooled()
    got = convert_indices(_written_out(idx, source), source, target, SHAPE, **GEOMETRY)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, _written_out(idx, target))


@pytest.mark.parametrize(("source", "target"), list(itertools.product(FORMATS, FORMATS)))
def test_an_empty_window_stays_minus_one_in_a_plane_of_one_element(source, target):
    shape = (2, 3, 1)
    idx = np.full((2, 3, 1), -1)
    got = convert_indices(idx, source, target, shape, kernel_size=1)
    assert got.tolist() == idx.tolist()


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_window_of_a_padded_dilated_pool_round_trips(fmt):
    """``kernel_size=2, dilation=2, padding=1`` on a length-1 input: both taps in the padding."""
    shape = (2, 3, 1)
    geometry = {"kernel_size": 2, "padding": 1, "dilation": 2, "stride": 1}
    _, idx = poolref.max_pool1d(np.ones(shape), **geometry, return_indices=True)
    assert (idx == -1).all()
    other = convert_indices(idx, "plane", fmt, shape, **geometry)
    assert (other == -1).all()
    assert (convert_indices(other, fmt, "plane", shape, **geometry) == -1).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source": "torch"}, "source must be one of plane, nhwc, nhwc_no_batch, "),
        ({"kernel_size": "2"}, "kernel_size must be an int or a tuple of 2 ints"),
        ({"stride": 1.5}, "stride must be an int or a tuple of 2 ints"),
        ({"padding": (1, 1, 1)}, "padding must be a single int or a tuple of 2 ints"),
        ({"dilation": [1.0]}, "dilation must contain only ints"),
    ],
)
def test_a_bad_window_geometry_is_named(kwargs, message):
    args = {"source": "plane", "kernel_size": 2, "stride": None, "padding": 0, "dilation": 1}
    args.update(kwargs)
    source = args.pop("source")
    with pytest.raises((TypeError, ValueError)) as info:
        convert_indices(np.zeros((1, 1, 1, 1), int), source, "window", (1, 1, 2, 2), **args)
    assert str(info.value).startswith(f"convert_indices: {message}")


def test_the_first_element_of_a_padded_window_is_not_its_first_tap():
    """``kernel_size=3, padding=1``: element 0 is tap 1 of window 0 (tap 0 is in the padding)."""
    got = convert_indices(
        np.array([[[0, 0]]]), "plane", "window", (1, 1, 2), kernel_size=3, stride=1, padding=1
    )
    assert got.tolist() == [[[1, 0]]]
    back = convert_indices(got, "window", "plane", (1, 1, 2), kernel_size=3, stride=1, padding=1)
    assert back.tolist() == [[[0, 0]]]

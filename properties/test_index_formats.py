"""``poolref.index_formats.convert_indices``: every format reads the selected value, and round-trips."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

import poolref
from poolref import strategies as ps
from poolref.index_formats import FORMATS, convert_indices


def _gather(x, idx, fmt):
    n, c = x.shape[:2]
    if fmt == "plane":
        return np.take_along_axis(x.reshape(n, c, -1), idx.reshape(n, c, -1), -1)
    if fmt == "nhwc":
        return np.moveaxis(x, 1, -1).ravel()[idx].reshape(n, c, -1)
    if fmt == "nhwc_no_batch":
        return np.stack([np.moveaxis(x[b], 0, -1).ravel()[idx[b]] for b in range(n)]).reshape(
            n, c, -1
        )
    if fmt == "onnx_column_major":
        axes = (0, 1, *range(x.ndim - 1, 1, -1))
        return np.transpose(x, axes).ravel()[idx].reshape(n, c, -1)
    raise AssertionError(fmt)


@given(ps.pool_cases(ndims=(1, 2, 3), profiles=("distinct",), batched=True, dtypes=("float64",)))
def test_every_format_reads_the_selected_value_and_round_trips(case):
    kw = case.kwargs()
    y, idx = getattr(poolref, f"max_pool{case.nd}d")(case.x, **kw, return_indices=True)
    geometry = {k: kw[k] for k in ("kernel_size", "stride", "padding", "dilation")}
    keep = idx.reshape(*idx.shape[:2], -1) != -1
    for fmt in FORMATS:
        other = convert_indices(idx, "plane", fmt, case.x.shape, **geometry)
        assert other.dtype == np.int64 and other.shape == idx.shape
        np.testing.assert_array_equal(other == -1, idx == -1)
        back = convert_indices(other, fmt, "plane", case.x.shape, **geometry)
        np.testing.assert_array_equal(back, idx)
        if fmt != "window":
            got = _gather(case.x, np.where(other == -1, 0, other), fmt)
            np.testing.assert_array_equal(got[keep], y.reshape(keep.shape)[keep])
        else:
            k = geometry["kernel_size"]
            assert ((other == -1) | ((other >= 0) & (other < np.prod(k)))).all()


def test_worked_examples():
    shape = (2, 3, 2, 2)  # N, C, H, W
    idx = np.full((2, 3, 1, 1), 3)  # every plane's last element (h=1, w=1)
    nhwc = convert_indices(idx, "plane", "nhwc", shape)
    assert nhwc.ravel().tolist() == [9, 10, 11, 21, 22, 23]
    assert convert_indices(idx, "plane", "nhwc_no_batch", shape).ravel().tolist() == [9, 10, 11] * 2
    onnx = convert_indices(np.full((2, 3, 1, 1), 1), "plane", "onnx_column_major", shape)
    assert onnx.ravel().tolist() == [
        2,
        6,
        10,
        14,
        18,
        22,
    ]  # h=0, w=1: column-major 2, plus 4 per plane
    win = convert_indices(
        np.array([[[[0, 3]]]]), "plane", "window", (1, 1, 1, 4), kernel_size=(1, 2)
    )
    assert win.tolist() == [[[[0, 1]]]]
    pad = convert_indices(
        np.array([[[0, 2]]]), "plane", "window", (1, 1, 3), kernel_size=3, stride=2, padding=1
    )
    assert pad.tolist() == [[[1, 1]]]
    dil = convert_indices(
        np.array([[[4]]]), "plane", "window", (1, 1, 5), kernel_size=2, dilation=4
    )
    assert dil.tolist() == [[[1]]]
    assert convert_indices(
        np.array([[[-1]]]), "window", "nhwc", (1, 1, 5), kernel_size=2
    ).tolist() == [[[-1]]]


@pytest.mark.parametrize(
    ("args", "kwargs", "text"),
    [
        (
            (np.zeros((1, 1, 1), int), "torch", "plane", (1, 1, 2)),
            {},
            "source must be one of plane",
        ),
        ((np.zeros((1, 1, 1), int), "plane", "tf", (1, 1, 2)), {}, "target must be one of"),
        (
            (np.zeros((1, 2, 1), int), "plane", "nhwc", (1, 1, 2)),
            {},
            "indices.shape=(1, 2, 1) does not match input_shape=(1, 1, 2)",
        ),
        ((np.zeros((1, 1), int), "plane", "nhwc", (1, 1)), {}, "does not match"),
        (
            (np.zeros((1, 1, 1), int), "plane", "window", (1, 1, 2)),
            {},
            "the 'window' format needs kernel_size",
        ),
    ],
)
def test_bad_arguments(args, kwargs, text):
    with pytest.raises(ValueError, match="^convert_indices: ") as info:
        convert_indices(*args, **kwargs)
    assert text in str(info.value)

"""PyTorch (CPU) as an external oracle: forward values and indices, autograd, unpool.

Configurations with an empty window (possible with dilation > 1 and padding)
are excluded: torch returns an out-of-range index there and
its backward writes out of bounds. poolref marks them with index -1.
"""

from __future__ import annotations

import _assertions as pa
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from poolref import strategies as ps
from poolref._params import lowest

torch = pytest.importorskip("torch")
F = torch.nn.functional

pytestmark = pytest.mark.torch
impls = pytest.mark.parametrize("impl", pa.IMPLEMENTATIONS, ids=pa.impl_id)
FLOATS = ("float64", "float32", "float16")
SMALL = {"max_elements": 128}


def _tensor(x: np.ndarray, *, channels_last: bool = False):
    # A fresh C-ordered copy: torch refuses negative strides, and numpy's
    # ascontiguousarray keeps odd strides on size-1 axes, which torch may read as
    # channels_last (a different kernel).
    t = torch.from_numpy(np.array(x, order="C", copy=True))
    if channels_last:
        fmt = torch.channels_last if x.ndim == 4 else torch.channels_last_3d
        t = t.contiguous(memory_format=fmt)
    return t


def _torch_pool(case, t, **extra):
    fn = getattr(F, f"max_pool{case.nd}d")
    return fn(
        t, case.kernel_size, case.stride, case.padding, case.dilation, case.ceil_mode, **extra
    )


def _without_empty_windows(impl, case):
    y, idx = pa.pool(impl, case, return_indices=True)
    assume(not pa.empty_windows(idx))  # torch's index is out of range there
    return y, idx


@impls
@pa.with_hard_cases()
@given(case=ps.pool_cases(**SMALL))
def test_forward_values_and_indices_match_torch(impl, case):
    # every dtype torch CPU supports (1-D ints only go through the return_indices path)
    y, idx = _without_empty_windows(impl, case)
    ty, tidx = _torch_pool(case, _tensor(case.x), return_indices=True)
    pa.record("torch indices", tidx.numpy())
    pa.assert_pool_equal(y, ty.numpy(), case=case, name="y", return_indices=True)
    pa.assert_pool_equal(idx, tidx.numpy(), case=case, name="indices", return_indices=True)


@impls
@pa.with_hard_cases(lambda c: pa.is_float(c) or c.nd > 1)
@given(
    case=st.one_of(
        ps.pool_cases(dtypes=FLOATS, **SMALL),
        ps.pool_cases(ndims=(2, 3), dtypes=("int64", "int32", "int16", "int8", "uint8"), **SMALL),
    )
)
def test_forward_values_without_indices_match_torch(impl, case):
    # torch's 1-D path without indices is a separate kernel, floats only; poolref's
    # values-only path is separate too (fast: a per-dimension reduction)
    _without_empty_windows(impl, case)
    y = pa.pool(impl, case)
    ty = _torch_pool(case, _tensor(case.x))
    pa.assert_pool_equal(y, ty.numpy(), case=case, name="y")


@impls
@pa.with_hard_cases(lambda c: c.nd > 1 and c.batched)
@given(case=ps.pool_cases(ndims=(2, 3), batched=True, **SMALL))
def test_channels_last_input_matches_torch(impl, case):
    # torch 2.13's CPU channels-last kernel refuses int8/uint8 planes of more than 127
    # elements ("Expected input_depth * input_height * input_width <= ...max()")
    assume(case.x.dtype.itemsize > 1 or np.prod(case.x.shape[-case.nd :]) <= 127)
    y, idx = _without_empty_windows(impl, case)
    ty, tidx = _torch_pool(case, _tensor(case.x, channels_last=True), return_indices=True)
    tidx = tidx.contiguous().numpy()
    pa.assert_pool_equal(y, ty.contiguous().numpy(), case=case, name="y", return_indices=True)
    if case.nd == 3:
        # torch 2.13 bug: the channels_last_3d kernel starts from a tap index without the
        # depth offset, so a window whose maximum is the dtype's lowest value (-inf,
        # iinfo.min) reports the wrong index; e.g. max_pool3d(full((1, 2, 3, 1, 1), -inf)
        # in channels_last_3d, 1) -> indices 0, 0, 0 (contiguous input: 0, 1, 2).
        kept = y != lowest(y.dtype)
        pa.assert_pool_equal(
            idx[kept], tidx[kept], case=case, name="indices[y != lowest]", return_indices=True
        )
    else:
        pa.assert_pool_equal(idx, tidx, case=case, name="indices", return_indices=True)


@impls
@pa.with_hard_cases(pa.is_float, seed=0)
@given(case=ps.pool_cases(dtypes=FLOATS, **SMALL), seed=st.integers(0, 2**32 - 1))
def test_backward_matches_torch_autograd(impl, case, seed):
    y, _ = _without_empty_windows(impl, case)
    # small integers: every accumulated sum is exact, whatever the summation order
    g = pa.integer_gradients(y.shape, y.dtype, seed)
    t = _tensor(case.x).requires_grad_(True)
    _torch_pool(case, t).backward(torch.from_numpy(g))
    grad = pa.backward(impl, case.nd)(g, case.x, **case.kwargs())
    pa.assert_pool_equal(
        grad, t.grad.numpy(), case=case, name="grad_input", func=f"max_pool{case.nd}d_backward"
    )


@impls
@given(case=ps.pool_cases(dtypes=FLOATS, dilation=False, **SMALL))
def test_unpool_matches_torch(impl, case):
    y, idx = _without_empty_windows(impl, case)
    size = case.x.shape[-case.nd :]
    out = pa.unpool(impl, case.nd)(
        y, idx, case.kernel_size, case.stride, case.padding, output_size=size
    )
    fn = getattr(F, f"max_unpool{case.nd}d")
    t_out = fn(
        torch.from_numpy(y),
        torch.from_numpy(idx),
        case.kernel_size,
        case.stride,
        case.padding,
        output_size=size,
    )
    pa.assert_pool_equal(
        out, t_out.numpy(), case=case, name="unpooled", func=f"max_unpool{case.nd}d"
    )

"""Declarations of the harness: each one lets a correct target that follows it pass, and never
blinds a check, so a target with a real bug under that declaration still fails.

Every test pairs a target that follows a rule with (a) the run without the declaration, which
must fail, and (b) a version of the target with a plausible bug, which must fail with it.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import poolref.fast as fast
from poolref.testing import Behaviour, Support, check_max_pool

FEW = 20


def _tag(exc: BaseException) -> str:
    return re.search(r"\[([^\]]+)\]", str(exc).splitlines()[0]).group(1)


def _fails(target, tag: str | None = None, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        check_max_pool(target, max_examples=FEW, **kwargs)
    if tag is not None:
        assert _tag(info.value) == tag, str(info.value)
    return str(info.value)


def _pool(x, k, s, p, d, ceil):
    return fast.max_pool2d(x, k, s, p, d, ceil, return_indices=True)


# ----------------------------------------------------------------------------
# Index formats
# ----------------------------------------------------------------------------


def _window_format(x, k, s, p, d, ceil):
    """Indices as the position inside the window (chainer's indexes)."""
    y, idx = _pool(x, k, s, p, d, ceil)
    batched = x.ndim == 4
    xb = x if batched else x[None]
    width = xb.shape[-1]
    ib = idx if batched else idx[None]
    rows, cols = np.divmod(ib, width)
    oh = np.arange(rows.shape[-2])[:, None] * s[0] - p[0]
    ow = np.arange(rows.shape[-1])[None, :] * s[1] - p[1]
    local = ((rows - oh) // d[0]) * k[1] + (cols - ow) // d[1]
    local = np.where(ib >= 0, local, -1)
    return y, (local if batched else local[0])


def _nhwc_format(x, k, s, p, d, ceil):
    """TensorFlow ``max_pool_with_argmax``: ``plane * C + c``."""
    y, idx = _pool(x, k, s, p, d, ceil)
    c = np.arange(x.shape[-3]).reshape(-1, 1, 1)
    return y, np.where(idx >= 0, idx * x.shape[-3] + c, idx)


SUPPORT_NO_EMPTY = Support(ndims=(2,), dilation=False)


@pytest.mark.parametrize(
    ("target", "fmt"), [(_window_format, "window"), (_nhwc_format, "nhwc")], ids=["window", "nhwc"]
)
def test_an_index_format_declared_passes_and_undeclared_fails(target, fmt):
    check_max_pool(
        target, support=SUPPORT_NO_EMPTY, behaviour=Behaviour(index_format=fmt), max_examples=FEW
    )
    _fails(target, "indices", support=SUPPORT_NO_EMPTY)


def test_an_index_off_by_one_fails_under_the_window_format():
    def off_by_one(x, k, s, p, d, ceil):
        y, idx = _window_format(x, k, s, p, d, ceil)
        return y, np.where(idx > 0, idx - 1, idx)

    _fails(
        off_by_one, "indices", support=SUPPORT_NO_EMPTY, behaviour=Behaviour(index_format="window")
    )


def test_a_wrong_channel_fails_under_the_nhwc_format():
    def channel_zero(x, k, s, p, d, ceil):
        y, idx = _pool(x, k, s, p, d, ceil)
        return y, idx * x.shape[-3]  # forgets "+ c"

    _fails(
        channel_zero, "indices", support=SUPPORT_NO_EMPTY, behaviour=Behaviour(index_format="nhwc")
    )


# ----------------------------------------------------------------------------
# Zero padding that competes, value domains, one stride
# ----------------------------------------------------------------------------


def _zero_padded(x, k, s, p, d, ceil):
    """``np.pad`` with zeros, then max: padding takes part in the comparison."""
    pad = [(0, 0)] * (x.ndim - 2) + [(pi, pi) for pi in p]
    y = fast.max_pool2d(np.pad(x, pad), k, s, 0, d, ceil)
    return y


ZERO_SUPPORT = Support(ndims=(2,), indices=False, ceil_mode=False, dtypes=("float64", "int32"))


def test_zero_padding_declared_passes_and_undeclared_fails():
    check_max_pool(
        _zero_padded, support=ZERO_SUPPORT, behaviour=Behaviour(padding="zero"), max_examples=FEW
    )
    _fails(_zero_padded, "values", support=ZERO_SUPPORT)


def test_a_wrong_pad_value_fails_under_zero_padding():
    def pads_with_one(x, k, s, p, d, ceil):
        pad = [(0, 0)] * (x.ndim - 2) + [(pi, pi) for pi in p]
        return fast.max_pool2d(np.pad(x, pad, constant_values=1), k, s, 0, d, ceil)

    _fails(pads_with_one, "values", support=ZERO_SUPPORT, behaviour=Behaviour(padding="zero"))


def _finite_only(x, k, s, p, d, ceil):
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise ValueError("expected finite input")
    return _pool(x, k, s, p, d, ceil)


def test_finite_values_declared_are_the_only_values_generated():
    summary = check_max_pool(
        _finite_only, ndim=2, support=Support(values="finite"), max_examples=60
    )
    assert "NaN" not in summary.features and "+inf" not in summary.features
    _fails(_finite_only, "forward raised")


@pytest.mark.parametrize("domain", ["nonnegative", "positive"])
def test_a_value_domain_is_generated_not_filtered(domain):
    seen = []

    def records(x, k, s, p, d, ceil):
        seen.append(x.copy())
        return _pool(x, k, s, p, d, ceil)

    check_max_pool(records, support=Support(ndims=(2,), values=domain), max_examples=60)
    low = np.min([a.min() if a.size else 1 for a in seen])
    assert low >= 0 if domain == "nonnegative" else low > 0
    assert len(seen) >= 60


def test_a_bug_on_positive_values_is_still_found_under_values_positive():
    def drops_the_last_column(x, k, s, p, d, ceil):
        y, idx = _pool(x[..., :-1] if x.shape[-1] > k[1] else x, k, s, p, d, ceil)
        return (
            _pool(x, k, s, p, d, ceil)
            if y.shape[-1] != _pool(x, k, s, p, d, ceil)[0].shape[-1]
            else (y, idx)
        )

    _fails(drops_the_last_column, support=Support(ndims=(2,), values="positive"))


def test_same_stride_declared_draws_one_stride_for_every_dimension():
    def one_stride(x, k, s, p, d, ceil):
        if len(set(s)) > 1:
            raise ValueError(f"stride must be the same in every dimension, got {s}")
        return _pool(x, k, s, p, d, ceil)

    summary = check_max_pool(
        one_stride, support=Support(ndims=(2,), same_stride=True), max_examples=60
    )
    assert summary.examples == 60
    # undeclared, the capability probe finds it and reports it instead of failing...
    probed = check_max_pool(one_stride, ndim=2, max_examples=20)
    assert any(line.startswith("a stride per dimension") for line in probed.unsupported)
    # ...while a support given explicitly that claims it fails
    with pytest.raises(AssertionError) as info:
        check_max_pool(one_stride, support=Support(ndims=(2,)), max_examples=FEW)
    assert "unsupported: a stride per dimension" in {d.kind for d in info.value.summary.failed}


# ----------------------------------------------------------------------------
# Checks that never go blind
# ----------------------------------------------------------------------------


def _backward(g, x, k, s, p, d, ceil):
    return fast.max_pool2d_backward(g, x, k, s, p, d, ceil)


def test_ties_any_still_checks_that_a_tie_gradient_keeps_its_mass():
    """TensorFlow's 3-D backward doubles the gradient of tied maxima: ties='any' must not hide it."""

    def doubles_ties(g, x, k, s, p, d, ceil):
        grad = _backward(g, x, k, s, p, d, ceil)
        y = fast.max_pool2d(x, k, s, p, d, ceil)
        ties = _tie_windows(x, y, k, s, p)
        extra = fast.max_pool2d_backward(np.where(ties, g, 0).astype(g.dtype), x, k, s, p, d, ceil)
        return grad + extra

    beh = Behaviour(ties="any")
    check_max_pool(_pool, backward=_backward, behaviour=beh, max_examples=FEW)
    _fails(
        _pool,
        "gradient (ties)",
        backward=doubles_ties,
        behaviour=beh,
        support=Support(ndims=(2,), dilation=False),
    )


def _tie_windows(x, y, k, s, p):
    """Outputs whose window (dilation 1) holds its maximum more than once."""
    xb = x.astype(np.float64)
    oh, ow = y.shape[-2:]
    big = np.full((*x.shape[:-2], (oh - 1) * s[0] + k[0], (ow - 1) * s[1] + k[1]), -np.inf)
    h = min(x.shape[-2], big.shape[-2] - p[0])
    w = min(x.shape[-1], big.shape[-1] - p[1])
    big[..., p[0] : p[0] + h, p[1] : p[1] + w] = xb[..., :h, :w]
    count = np.zeros(y.shape)
    for i in range(k[0]):
        for j in range(k[1]):
            count += (
                big[..., i : i + (oh - 1) * s[0] + 1 : s[0], j : j + (ow - 1) * s[1] + 1 : s[1]]
                == y
            )
    return count > 1


def test_a_value_that_is_not_the_input_at_its_index_fails_even_where_ties_are_any():
    """In a -0.0/+0.0 tie window under ties='any' only the value-at-index check sees the sign."""

    def negative_zero_out(x, k, s, p, d, ceil):
        y, idx = _pool(x, k, s, p, d, ceil)
        if y.dtype.kind == "f":
            y = np.where(y == 0, -0.0, y).astype(y.dtype)
        return y, idx

    with pytest.raises(AssertionError) as info:
        check_max_pool(negative_zero_out, ndim=2, behaviour=Behaviour(ties="any"), max_examples=FEW)
    assert "value at index" in [d.check for d in info.value.summary.differences], str(info.value)


def test_a_forward_that_returns_a_view_of_its_input_fails():
    def view_for_kernel_one(x, k, s, p, d, ceil):
        if k == (1, 1) and s == (1, 1) and d == (1, 1):
            return x[...]
        return fast.max_pool2d(x, k, s, p, d, ceil)

    _fails(view_for_kernel_one, "output aliases input", support=Support(ndims=(2,), indices=False))


def test_a_forward_that_reshapes_its_input_fails_with_the_case():
    def reshapes(x, k, s, p, d, ceil):
        y = fast.max_pool2d(x, k, s, p, d, ceil)
        if x.flags.c_contiguous:
            x.shape = (x.size,)
        return y

    text = _fails(reshapes, "input modified", support=Support(ndims=(2,), indices=False))
    assert "x.shape=" in text and "reproduce:" in text

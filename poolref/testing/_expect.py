"""What is correct: the windows of one case and the output, indices and gradient a candidate
following a :class:`~poolref.testing.Behaviour` must produce.

This is the harness's own reading of the rules, parametrised by the behaviour; the property suite
checks that under PyTorch's rules it agrees with :mod:`poolref.naive`
(``properties/test_testing.py``), so the harness does not re-run the oracle on every case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._params import PoolParams, lowest, output_shape
from ._declare import Behaviour


def _window_taps(spatial: tuple[int, ...], params: PoolParams):
    """Flat plane index of every tap of every window, ``-1`` for padded taps.

    Returns ``(out_spatial, taps)`` with ``taps`` of shape ``(prod(out), prod(k))``,
    taps in row-major window order (which is increasing flat index).
    """
    out_spatial = output_shape(spatial, params)
    nd = len(spatial)
    index = np.zeros((1,) * (2 * nd), dtype=np.int64)
    valid = np.ones((1,) * (2 * nd), dtype=bool)
    for i, (n, o, k, s, p, d) in enumerate(
        zip(spatial, out_spatial, params.kernel_size, params.stride, params.padding, params.dilation)
    ):
        shape = [1] * (2 * nd)
        shape[i], shape[nd + i] = o, k
        pos = ((np.arange(o) * s - p)[:, None] + np.arange(k)[None, :] * d).reshape(shape)
        index = index * n + pos
        valid = valid & (pos >= 0) & (pos < n)
    taps = np.where(valid, index, -1).reshape(math.prod(out_spatial), -1)
    return out_spatial, taps


@dataclass
class _Expected:
    """What the candidate must produce for one batched input, and where."""

    y: np.ndarray  # (N, C, *O), x's dtype
    index: np.ndarray  # (N, C, *O) int64 plane index, -1 where none
    value_checked: np.ndarray  # bool (N, C, *O)
    index_exact: np.ndarray  # bool: index must equal `index`
    index_member: np.ndarray  # bool: index must point at a maximum of the window
    taps: np.ndarray  # (prod(O), K)
    window_values: np.ndarray  # (N*C, prod(O), K) values at the taps (garbage where tap == -1)
    empty: np.ndarray  # bool (N, C, *O)
    features: set


def _select(vals: np.ndarray, valid: np.ndarray, rule: str) -> np.ndarray:
    """Tap number selected in every window by ``rule`` (-1: none). Vectorised over windows."""
    sel = np.full(vals.shape[:2], -1, dtype=np.int64)
    cur = np.zeros(vals.shape[:2], dtype=vals.dtype)
    is_float = vals.dtype.kind == "f"
    for j in range(vals.shape[2]):
        v = vals[:, :, j]
        ok = np.broadcast_to(valid[None, :, j], v.shape)
        if rule == "ignore" and is_float:
            ok = ok & ~np.isnan(v)
        if is_float and rule in ("last", "propagate"):
            better = (v > cur) | np.isnan(v)
        elif is_float and rule == "first":
            better = (v > cur) | (np.isnan(v) & ~np.isnan(cur))
        else:  # strict, ignore, or integers
            better = v > cur
        take = ok & ((sel == -1) | better)
        sel = np.where(take, j, sel)
        cur = np.where(take, v, cur)
    return sel


def _expected(xb: np.ndarray, params: PoolParams, behaviour: Behaviour) -> _Expected:
    n_batch, n_chan, *spatial = xb.shape
    spatial = tuple(spatial)
    out_spatial, taps = _window_taps(spatial, params)
    plane = math.prod(spatial)
    flat = np.ascontiguousarray(xb).reshape(n_batch * n_chan, plane)
    valid = taps >= 0
    vals = flat[:, np.where(valid, taps, 0)]  # (NC, O, K)
    is_float = xb.dtype.kind == "f"
    rule = behaviour.nan if behaviour.nan != "untested" else "last"
    sel = _select(vals, valid, rule)
    nc_o = sel.shape
    empty_w = sel == -1
    taps_b = np.broadcast_to(taps, vals.shape)
    sel_c = np.where(empty_w, 0, sel)
    index = np.take_along_axis(taps_b, sel_c[..., None], axis=2)[..., 0]
    value = np.take_along_axis(vals, sel_c[..., None], axis=2)[..., 0]
    index = np.where(empty_w, -1, index)
    has_valid = valid.any(axis=1)[None, :].repeat(nc_o[0], axis=0)
    truly_empty = ~has_valid
    if is_float:
        nan_tap = np.isnan(vals) & valid[None]
        nan_w = nan_tap.any(axis=2)
        all_nan_w = has_valid & (nan_tap.sum(axis=2) == valid.sum(axis=1)[None, :])
    else:
        nan_w = np.zeros(nc_o, dtype=bool)
        all_nan_w = nan_w
    low = lowest(xb.dtype)
    value = np.where(truly_empty, low, value).astype(xb.dtype)
    # equal maxima among the valid taps (NaN windows are not ties)
    equal = (vals == value[..., None]) & valid[None]
    tie_w = (equal.sum(axis=2) > 1) & ~nan_w & ~truly_empty

    value_checked = np.ones(nc_o, dtype=bool)
    index_exact = ~truly_empty
    index_member = np.zeros(nc_o, dtype=bool)
    if behaviour.empty_window_value == "any":
        value_checked &= ~truly_empty
    elif behaviour.empty_window_value == "lowest_finite" and is_float:
        value = np.where(truly_empty, np.finfo(xb.dtype).min, value).astype(xb.dtype)
    if behaviour.empty_window_index == "-1":
        index_exact = index_exact | truly_empty
    if behaviour.ties == "any":
        index_member |= tie_w & index_exact
        index_exact &= ~tie_w
    if behaviour.nan == "propagate":
        index_exact &= ~nan_w
        index_member &= ~nan_w
    if behaviour.nan == "ignore":
        value_checked &= ~all_nan_w
        index_exact &= ~all_nan_w
        index_member &= ~all_nan_w
    if behaviour.padding == "compared":
        at_pad = (~valid).any(axis=1)[None, :] & (value == low)
        index_exact &= ~at_pad
        index_member &= ~at_pad
    if behaviour.padding == "zero":
        # padding holds 0 and competes: a padded window's output is at least 0 and, where it
        # is 0, padding may have been selected (index, gradient and sign unspecified)
        padded = (~valid).any(axis=1)[None, :]
        at_zero = padded & ~nan_w & ~(value > 0)
        value = np.where(at_zero, np.zeros((), dtype=xb.dtype), value).astype(xb.dtype)
        value_checked |= at_zero
        index_exact &= ~at_zero
        index_member &= ~at_zero
        truly_empty = truly_empty & ~at_zero

    shape = (n_batch, n_chan, *out_spatial)
    features = set()
    if tie_w.any():
        features.add("ties")
    if nan_w.any():
        features.add("NaN")
    if is_float:
        valid_vals = vals[np.broadcast_to(valid[None], vals.shape)]
        if np.isposinf(valid_vals).any():
            features.add("+inf")
        if np.isneginf(valid_vals).any():
            features.add("-inf")
        if (np.isneginf(value) & ~truly_empty).any():
            features.add("all -inf window")
        zeros = valid_vals[valid_vals == 0]
        if zeros.size and np.signbit(zeros).any() and (~np.signbit(zeros)).any():
            features.add("signed zeros")
    if truly_empty.any():
        features.add("empty window")
    padded_w = (~valid).any(axis=1)[None, :] & ~truly_empty
    negative = value < 0 if (is_float or xb.dtype.kind == "i") else value == low
    if (padded_w & negative & ~nan_w).any():
        features.add("negative values next to padding")
    return _Expected(
        y=value.reshape(shape),
        index=index.reshape(shape),
        value_checked=value_checked.reshape(shape),
        index_exact=index_exact.reshape(shape),
        index_member=index_member.reshape(shape),
        taps=taps,
        window_values=vals,
        empty=truly_empty.reshape(shape),
        features=features,
    )


def _scatter(g: np.ndarray, index: np.ndarray, routed: np.ndarray, xshape) -> np.ndarray:
    n_batch, n_chan = xshape[:2]
    plane = math.prod(xshape[2:])
    total = np.zeros((n_batch * n_chan, plane), dtype=np.float64)
    rows = np.broadcast_to(np.arange(n_batch * n_chan).reshape(n_batch, n_chan, *([1] * (g.ndim - 2))), g.shape)
    np.add.at(total, (rows[routed], index[routed]), g[routed].astype(np.float64))
    return total.reshape(xshape)

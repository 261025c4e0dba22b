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
        zip(
            spatial, out_spatial, params.kernel_size, params.stride, params.padding, params.dilation
        )
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


@dataclass
class _Windows:
    """The windows of one batched input ``(N, C, *S)`` and the tap each one selects.

    Arrays over windows have shape ``(N*C, prod(O))``; ``taps``/``valid`` are ``(prod(O), K)``.
    """

    out_spatial: tuple[int, ...]
    taps: np.ndarray
    valid: np.ndarray  # tap inside the input
    vals: np.ndarray  # (N*C, prod(O), K) values at the taps (garbage where invalid)
    index: np.ndarray  # selected plane index, -1 where none
    value: np.ndarray  # selected value, the dtype's lowest where the window has no tap
    empty: np.ndarray  # the window has no valid tap
    padded: np.ndarray  # (1, prod(O)): the window has a tap in the padding
    nan: np.ndarray  # a valid tap holds NaN
    all_nan: np.ndarray  # every valid tap holds NaN
    ties: np.ndarray  # several valid taps hold the maximum (NaN windows excluded)


def _windows(xb: np.ndarray, params: PoolParams, behaviour: Behaviour) -> _Windows:
    """Gather every window of ``xb`` and select its maximum by the behaviour's NaN rule."""
    n_batch, n_chan, *spatial = xb.shape
    out_spatial, taps = _window_taps(tuple(spatial), params)
    flat = np.ascontiguousarray(xb).reshape(n_batch * n_chan, math.prod(spatial))
    valid = taps >= 0
    vals = flat[:, np.where(valid, taps, 0)]  # (NC, O, K)
    sel = _select(vals, valid, behaviour.nan if behaviour.nan != "untested" else "last")
    no_sel = sel == -1
    sel_c = np.where(no_sel, 0, sel)[..., None]
    index = np.take_along_axis(np.broadcast_to(taps, vals.shape), sel_c, axis=2)[..., 0]
    value = np.take_along_axis(vals, sel_c, axis=2)[..., 0]
    has_valid = np.asarray(valid.any(axis=1))[None, :].repeat(sel.shape[0], axis=0)
    if xb.dtype.kind == "f":
        nan_tap = np.isnan(vals) & valid[None]
        nan_w = np.asarray(nan_tap.any(axis=2))
        all_nan_w = has_valid & (nan_tap.sum(axis=2) == valid.sum(axis=1)[None, :])
    else:
        nan_w = all_nan_w = np.zeros(sel.shape, dtype=bool)
    empty = ~has_valid
    value = np.where(empty, lowest(xb.dtype), value).astype(xb.dtype)
    equal = (vals == value[..., None]) & valid[None]  # NaN windows are not ties
    return _Windows(
        out_spatial=out_spatial,
        taps=taps,
        valid=valid,
        vals=vals,
        index=np.where(no_sel, -1, index),
        value=value,
        empty=empty,
        padded=np.asarray((~valid).any(axis=1))[None, :],
        nan=nan_w,
        all_nan=all_nan_w,
        ties=(equal.sum(axis=2) > 1) & ~nan_w & ~empty,
    )


def _masks(w: _Windows, dtype: np.dtype, behaviour: Behaviour) -> dict[str, np.ndarray]:
    """What is checked where under ``behaviour``: the expected ``value``, the masks
    ``value_checked``, ``index_exact`` and ``index_member``, and the windows still ``empty``.
    """
    value, empty = w.value, w.empty
    value_checked = np.ones(value.shape, dtype=bool)
    index_exact = ~empty
    index_member = np.zeros(value.shape, dtype=bool)
    if behaviour.empty_window_value == "any":
        value_checked &= ~empty
    elif behaviour.empty_window_value == "lowest_finite" and dtype.kind == "f":
        value = np.where(empty, np.finfo(dtype).min, value).astype(dtype)
    if behaviour.empty_window_index == "-1":
        index_exact = index_exact | empty
    if behaviour.ties == "any":
        index_member |= w.ties & index_exact
        index_exact &= ~w.ties
    unspecified = np.zeros(value.shape, dtype=bool)  # index and gradient not checked
    if behaviour.nan == "propagate":
        unspecified |= w.nan
    if behaviour.nan == "ignore":
        value_checked &= ~w.all_nan
        unspecified |= w.all_nan
    if behaviour.padding == "compared":
        unspecified |= w.padded & (value == lowest(dtype))
    if behaviour.padding == "zero":
        # padding holds 0 and competes: a padded window's output is at least 0 and, where it
        # is 0, padding may have been selected (index, gradient and sign unspecified)
        at_zero = w.padded & ~w.nan & ~(value > 0)
        value = np.where(at_zero, np.zeros((), dtype=dtype), value).astype(dtype)
        value_checked |= at_zero
        unspecified |= at_zero
        empty = empty & ~at_zero
    return {
        "y": value,
        "value_checked": value_checked,
        "index_exact": index_exact & ~unspecified,
        "index_member": index_member & ~unspecified,
        "empty": empty,
    }


def _features(w: _Windows, value: np.ndarray, empty: np.ndarray, dtype: np.dtype) -> set[str]:
    """The hard points the case exercises (named in the report's coverage summary)."""
    features = set()
    if w.ties.any():
        features.add("ties")
    if w.nan.any():
        features.add("NaN")
    if dtype.kind == "f":
        valid_vals = w.vals[np.broadcast_to(w.valid[None], w.vals.shape)]
        if np.isposinf(valid_vals).any():
            features.add("+inf")
        if np.isneginf(valid_vals).any():
            features.add("-inf")
        if (np.isneginf(value) & ~empty).any():
            features.add("all -inf window")
        zeros = valid_vals[valid_vals == 0]
        if zeros.size and np.signbit(zeros).any() and (~np.signbit(zeros)).any():
            features.add("signed zeros")
    if empty.any():
        features.add("empty window")
    padded_w = w.padded & ~empty
    negative = value < 0 if dtype.kind in "fi" else value == lowest(dtype)
    if (padded_w & negative & ~w.nan).any():
        features.add("negative values next to padding")
    return features


def _expected(xb: np.ndarray, params: PoolParams, behaviour: Behaviour) -> _Expected:
    """What a candidate following ``behaviour`` must produce for the batched input ``xb``."""
    w = _windows(xb, params, behaviour)
    masks = _masks(w, xb.dtype, behaviour)
    shape = (*xb.shape[:2], *w.out_spatial)
    return _Expected(
        y=masks["y"].reshape(shape),
        index=w.index.reshape(shape),
        value_checked=masks["value_checked"].reshape(shape),
        index_exact=masks["index_exact"].reshape(shape),
        index_member=masks["index_member"].reshape(shape),
        taps=w.taps,
        window_values=w.vals,
        empty=masks["empty"].reshape(shape),
        features=_features(w, masks["y"], masks["empty"], xb.dtype),
    )


def _scatter(g: np.ndarray, index: np.ndarray, routed: np.ndarray, xshape) -> np.ndarray:
    n_batch, n_chan = xshape[:2]
    plane = math.prod(xshape[2:])
    total = np.zeros((n_batch * n_chan, plane), dtype=np.float64)
    rows = np.broadcast_to(
        np.arange(n_batch * n_chan).reshape(n_batch, n_chan, *([1] * (g.ndim - 2))), g.shape
    )
    np.add.at(total, (rows[routed], index[routed]), g[routed].astype(np.float64))
    return total.reshape(xshape)

"""Deliberately broken max-pooling implementations, for testing ``poolref.testing``.

One plain implementation, :func:`pool` / :func:`pool_backward` (loops over the
output positions and the window taps, vectorised over ``N * C``; written
here, independently of poolref's modules and of the harness), takes a set of
*bugs*. Each bug is a mistake seen in real pooling code. :data:`BROKEN`
lists one candidate per bug together with the check of
:func:`poolref.testing.check_max_pool` expected to catch it (the ``[check]``
tag of the ``AssertionError``); :data:`CORRECT` holds the bug-free version.

The module-level functions ``<bug>_forward`` / ``<bug>_backward`` exist so that
reproduction snippets and ``poolref verify broken:<bug>_forward`` can import them.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, field

import numpy as np

# ----------------------------------------------------------------------------
# The plain implementation, with switchable bugs
# ----------------------------------------------------------------------------


def _out_size(n, k, s, p, d, ceil_mode, bugs):
    eff = k * d if "eff_k_times_d" in bugs else d * (k - 1) + 1
    span = n + 2 * p - eff
    if ceil_mode and "ignore_ceil_mode" not in bugs:
        o = -(-span // s) + 1
        if "ceil_without_correction" not in bugs and (o - 1) * s >= n + p:
            o -= 1
        return o
    return span // s + 1


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _params(kernel_size, stride, bugs):
    k = tuple(kernel_size)
    s = tuple(stride)
    if "kernel_reversed" in bugs:
        k = k[::-1]
    if "first_stride_everywhere" in bugs:
        s = (s[0],) * len(s)
    return k, s


def _windows(spatial, k, s, p, d, ceil_mode, bugs):
    """For every output position: the list of (tap position in the window, plane index or None)."""
    out = tuple(_out_size(*args, ceil_mode, bugs) for args in zip(spatial, k, s, p, d))
    taps_d = d if "no_dilation_taps" not in bugs else (1,) * len(d)
    windows = []
    for opos in itertools.product(*(range(o) for o in out)):
        taps = []
        for j, jpos in enumerate(itertools.product(*(range(kk) for kk in k))):
            coords = [o * ss - pp + jj * dd for o, ss, pp, jj, dd in zip(opos, s, p, jpos, taps_d)]
            inside = all(0 <= c < n for c, n in zip(coords, spatial))
            if inside:
                plane = 0
                for c, n in zip(coords, spatial):
                    plane = plane * n + c
                taps.append((j, plane, coords))
            else:
                taps.append((j, None, coords))
        windows.append(taps)
    return out, windows


def pool(x, kernel_size, stride, padding, dilation, ceil_mode, bugs=frozenset()):
    """Max pooling with PyTorch's rules, unless ``bugs`` says otherwise. Returns ``(y, indices)``."""
    nd = len(kernel_size)
    k, s = _params(kernel_size, stride, bugs)
    p, d = tuple(padding), tuple(dilation)
    if "modifies_input" in bugs and x.dtype.kind == "f":
        np.nan_to_num(x, copy=False, nan=-np.inf)  # "clean" the input in place
    batched = x.ndim == nd + 2
    if not batched:
        xb = x[:, np.newaxis] if "unbatched_channels_as_batch" in bugs else x[np.newaxis]
    else:
        xb = x
    n_batch, n_chan, *spatial = xb.shape
    if "layout_blind" in bugs:
        planes = np.ravel(xb, order="K").reshape(n_batch * n_chan, -1)
    elif "batch_channel_swap" in bugs:
        # planes in (c, n) order, results read back as (n, c)
        planes = np.ascontiguousarray(xb.swapaxes(0, 1)).reshape(n_batch * n_chan, -1)
    else:
        planes = np.ascontiguousarray(xb).reshape(n_batch * n_chan, -1)
    work_dtype = x.dtype
    if "computes_in_float32" in bugs:
        planes = planes.astype(np.float32)
        work_dtype = np.dtype(np.float32)
    out, windows = _windows(tuple(spatial), k, s, p, d, ceil_mode, bugs)
    rows = planes.shape[0]
    y = np.empty((rows, len(windows)), dtype=work_dtype)
    idx = np.empty((rows, len(windows)), dtype=np.int64)
    is_float = work_dtype.kind == "f"
    for w, taps in enumerate(windows):
        best = np.full(rows, -1, dtype=np.int64)
        cur = np.zeros(rows, dtype=work_dtype)
        if "finite_init" in bugs and is_float:
            best[:] = -2  # "no element yet" marker that is never replaced by -inf
            cur[:] = np.finfo(work_dtype).min
        for j, plane, coords in taps:
            if plane is None:
                if "zero_padding" in bugs or ("int_zero_padding" in bugs and not is_float):
                    v = np.zeros(rows, dtype=work_dtype)
                    take = (best == -1) | (v > cur)
                    cur = np.where(take, v, cur)
                    best = np.where(take, -3, best)  # a padded position won
                continue
            v = planes[:, plane]
            if is_float and "nan_ignored" in bugs:
                better = v > cur
                first = (best == -1) & ~np.isnan(v)
            elif is_float and "nan_first" in bugs:
                better = (v > cur) | (np.isnan(v) & ~np.isnan(cur))
                first = best == -1
            elif is_float:
                better = (v >= cur if "ties_last" in bugs else v > cur) | np.isnan(v)
                first = best == -1
            else:
                better = v >= cur if "ties_last" in bugs else v > cur
                first = best == -1
            take = first | better
            if "window_relative_index" in bugs:
                index = j
            elif "padded_plane_index" in bugs:
                index = 0
                for c, n, pp in zip(coords, spatial, p):
                    index = index * (n + 2 * pp) + c + pp
            else:
                index = plane
            cur = np.where(take, v, cur)
            best = np.where(take, index, best)
        if "signed_zero_via_max" in bugs and is_float:
            vals = np.stack([planes[:, pl] for _, pl, _ in taps if pl is not None], axis=1)
            if vals.shape[1]:
                m = np.max(vals, axis=1)
                cur = np.where((cur == 0) & ~np.isnan(m), m, cur)
        empty = best == -1
        if "empty_window_zero" in bugs:
            cur = np.where(empty, 0, cur)
        else:
            cur = np.where(empty, _lowest(work_dtype), cur)
        if "finite_init" in bugs and is_float:
            best = np.where(best == -2, -1, best)
        y[:, w] = cur
        idx[:, w] = np.where(best == -3, 0, best)
    shape = (n_batch, n_chan, *out)
    y = y.reshape(shape)
    idx = idx.reshape(shape)
    if "computes_in_float32" in bugs:
        y = y.astype(x.dtype)
    if "output_float64" in bugs:
        y = y.astype(np.float64)
    if "index_in_input_dtype" in bugs:
        idx = idx.astype(x.dtype).astype(np.int64)
    if "indices_int32" in bugs:
        idx = idx.astype(np.int32)
    if not batched and "unbatched_channels_as_batch" not in bugs:
        y, idx = y[0], idx[0]
    return y, idx


def pool_backward(
    grad_output, x, kernel_size, stride, padding, dilation, ceil_mode, bugs=frozenset()
):
    """Gradient of :func:`pool` (scatter-add at the forward's indices), unless ``bugs`` says otherwise."""
    nd = len(kernel_size)
    _, idx = pool(
        x, kernel_size, stride, padding, dilation, ceil_mode, frozenset(bugs) - {"modifies_input"}
    )
    batched = x.ndim == nd + 2
    xb = x if batched else x[np.newaxis]
    gb = grad_output if batched else grad_output[np.newaxis]
    ib = idx if batched else idx[np.newaxis]
    n_batch, n_chan, *spatial = xb.shape
    plane = math.prod(spatial)
    grad = np.zeros((n_batch * n_chan, plane), dtype=np.float64)
    g2 = gb.reshape(n_batch * n_chan, -1).astype(np.float64)
    i2 = ib.reshape(n_batch * n_chan, -1).astype(np.int64)
    if "grad_ties_split" in bugs:
        k, s = _params(kernel_size, stride, bugs)
        _, windows = _windows(
            tuple(spatial), k, s, tuple(padding), tuple(dilation), ceil_mode, bugs
        )
        planes = np.ascontiguousarray(xb).reshape(n_batch * n_chan, -1)
    for r in range(n_batch * n_chan):
        for w in range(i2.shape[1]):
            i = i2[r, w]
            if i < 0 or i >= plane:
                continue
            if "grad_ties_split" in bugs:
                vals = [(pl, planes[r, pl]) for _, pl, _ in windows[w] if pl is not None]
                tied = [pl for pl, v in vals if v == planes[r, i]]
                for pl in tied:
                    grad[r, pl] += g2[r, w] / len(tied)
            elif "grad_assign" in bugs:
                grad[r, i] = g2[r, w]
            else:
                grad[r, i] += g2[r, w]
    if "grad_modifies_grad_output" in bugs:
        grad_output[...] = 0
    grad = grad.reshape(xb.shape)
    out_dtype = np.float64 if "backward_float64" in bugs else x.dtype
    grad = grad.astype(out_dtype)
    return grad if batched else grad[0]


# ----------------------------------------------------------------------------
# The catalogue
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Broken:
    """One broken candidate: the bug, what it models, and the check that must catch it."""

    bug: str
    what: str
    caught_by: str  # the "[check]" tag expected in the AssertionError
    forward_bugs: frozenset = field(default_factory=frozenset)
    backward_bugs: frozenset = field(default_factory=frozenset)

    @property
    def forward(self):
        return globals()[f"{self.bug}_forward"]

    @property
    def backward(self):
        return globals()[f"{self.bug}_backward"]


def _entry(bug, what, caught_by, *, backward_only=False):
    bugs = frozenset({bug})
    return Broken(bug, what, caught_by, frozenset() if backward_only else bugs, bugs)


BROKEN = [
    _entry("ignore_ceil_mode", "output size: ceil_mode ignored (always floor)", "output shape"),
    _entry(
        "ceil_without_correction",
        "ceil_mode: keeps a last window that starts in the right padding",
        "output shape",
    ),
    _entry(
        "eff_k_times_d", "output size: effective window k*d instead of d*(k-1)+1", "output shape"
    ),
    _entry(
        "zero_padding", "padding: padded positions hold 0 and can win (negative inputs)", "values"
    ),
    _entry(
        "int_zero_padding", "padding: integer inputs padded with 0 instead of iinfo.min", "values"
    ),
    _entry("no_dilation_taps", "dilation: size formula uses it, taps ignore it", "values"),
    _entry(
        "window_relative_index", "indices: position inside the window, not in the plane", "indices"
    ),
    _entry("padded_plane_index", "indices: flat index into the padded plane", "indices"),
    _entry("ties_last", "ties: the last maximum wins (>=)", "indices"),
    _entry("nan_ignored", "NaN: skipped like nanmax (value not NaN)", "values"),
    _entry("nan_first", "NaN: index of the first NaN (np.argmax) instead of the last", "indices"),
    _entry(
        "finite_init",
        "-inf: running max starts at the lowest finite value (all -inf windows)",
        "values",
    ),
    _entry(
        "empty_window_zero", "empty windows (dilation + padding): value 0 instead of -inf", "values"
    ),
    _entry(
        "signed_zero_via_max",
        "signed zero: value from np.max (+0.0) instead of the selected element",
        "values",
    ),
    _entry(
        "grad_assign",
        "gradient: overlapping windows overwrite instead of accumulating",
        "gradient",
        backward_only=True,
    ),
    _entry(
        "grad_ties_split", "gradient: split between tied maxima", "gradient", backward_only=True
    ),
    _entry("output_float64", "dtype: output always float64", "output dtype"),
    _entry("indices_int32", "dtype: int32 indices", "indices dtype"),
    _entry(
        "computes_in_float32", "dtype: computes in float32 (float64/int64 precision lost)", "values"
    ),
    _entry(
        "index_in_input_dtype",
        "dtype: indices stored in the input dtype (float16/int8 planes overflow)",
        "indices",
    ),
    _entry(
        "backward_float64", "dtype: gradient always float64", "gradient dtype", backward_only=True
    ),
    _entry(
        "layout_blind",
        "layout: reads the buffer in memory order (wrong for non-contiguous input)",
        "values",
    ),
    _entry(
        "modifies_input", "in place: replaces NaN by -inf in the caller's array", "input modified"
    ),
    _entry(
        "grad_modifies_grad_output",
        "in place: the backward zeroes grad_output",
        "grad_output modified",
        backward_only=True,
    ),
    _entry("batch_channel_swap", "batch/channel mix-up: reshapes (N, C) as (C, N)", "values"),
    _entry(
        "unbatched_channels_as_batch",
        "unbatched input: channels treated as the batch",
        "output shape",
    ),
    _entry(
        "first_stride_everywhere", "parameters: stride[0] used for every dimension", "output shape"
    ),
    _entry("kernel_reversed", "parameters: kernel_size read in reverse order", "output shape"),
]

#: The same implementation without bugs: it must pass.
CORRECT = Broken("correct", "no bug", "", frozenset(), frozenset())


def _make(entry: Broken):
    @functools.wraps(pool)
    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        return pool(x, kernel_size, stride, padding, dilation, ceil_mode, entry.forward_bugs)

    @functools.wraps(pool_backward)
    def backward(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode):
        return pool_backward(
            grad_output, x, kernel_size, stride, padding, dilation, ceil_mode, entry.backward_bugs
        )

    for fn, role in ((forward, "forward"), (backward, "backward")):
        fn.__name__ = fn.__qualname__ = f"{entry.bug}_{role}"
        fn.__module__ = __name__
        globals()[fn.__name__] = fn


for _entry_ in (*BROKEN, CORRECT):
    _make(_entry_)
del _entry_

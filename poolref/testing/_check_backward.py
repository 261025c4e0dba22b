"""The backward's checks for one case: the gradient sent, where it must land, and its mass.

Split from :mod:`._check` (the forward's checks); :func:`._check._check_case` calls
:func:`_backward_applies` and :func:`_check_backward`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..arrays import with_layout
from ._check import (
    _GRAD_RTOL,
    _as_array,
    _call,
    _Case,
    _check_not_a_view,
    _check_unchanged,
    _find_first,
    _grad_output,
    _same_bits,
    _Snapshot,
)
from ._declare import Behaviour, Candidate
from ._expect import _Expected, _expected, _scatter
from ._report import _array_line, _array_text, _Failure, _fmt_index, _fmt_scalar

# Backward
# ----------------------------------------------------------------------------


def _backward_applies(cand: Candidate, c: _Case, params, stats: Counter | None) -> bool:
    sup, beh = cand.support, cand.behaviour
    if cand.backward is None or c.x.dtype.name not in sup.backward_dtypes:
        return False
    if not sup.backward_dilation and any(d > 1 for d in params.dilation):
        return False
    if c.exp.empty.any() and beh.empty_window_index != "-1":
        if stats is not None:
            stats["backward not called: empty window (implementation-defined index)"] += 1
        return False
    return True


@dataclass
class _GradPlan:
    """The gradient sent to the candidate and what must come back."""

    g: np.ndarray  # batched grad_output
    expected: np.ndarray  # batched expected grad_input (exactly routed windows)
    member: np.ndarray  # bool (N, C, *O): tie windows whose maxima share the gradient
    skipped: np.ndarray  # bool, x's batched shape: elements not compared


def _grad_plan(c: _Case, beh: Behaviour) -> _GradPlan:
    """Route ``grad_output`` by the gradient's rules (``nan_backward`` where declared)."""
    exp = c.exp if beh.gradient_rules is beh else _expected(c.xb, c.params, beh.gradient_rules)
    dtype = c.x.dtype
    routed = exp.index_exact & ~exp.empty
    member = exp.index_member & ~routed
    g = _grad_output(exp.y.shape, dtype, c.xb)
    g = np.where(routed | member, g, np.zeros((), dtype=dtype)).astype(dtype)
    expected = _scatter(g, exp.index, routed, c.xb.shape).astype(dtype)
    # windows whose selection is unspecified (NaN under "propagate", padding compared...) get a
    # zero gradient, and their taps are not compared: a correct backward may put 0 * NaN there
    unspecified = ~routed & ~member & ~exp.empty
    skipped = _taps_mask(exp, unspecified, c)
    return _GradPlan(g, expected, member, skipped)


def _taps_mask(
    exp: _Expected, windows: np.ndarray, c: _Case, *, maxima_only: bool = False
) -> np.ndarray:
    """Elements of x (batched) that are valid taps of the selected windows (or hold their maximum)."""
    n_batch = c.xb.shape[0]
    mask = np.zeros((n_batch * c.n_chan, c.plane + 1), dtype=bool)
    sel = windows.reshape(n_batch * c.n_chan, -1)
    rows, outs = np.nonzero(sel)
    if rows.size:
        taps = exp.taps[outs]
        keep = taps >= 0
        if maxima_only:
            keep &= exp.window_values[rows, outs] == exp.y.reshape(sel.shape)[rows, outs][:, None]
        mask[rows[:, None], np.where(keep, taps, c.plane)] = True
    return mask[:, : c.plane].reshape(c.xb.shape)


def _check_backward(cand: Candidate, c: _Case) -> None:
    plan = _grad_plan(c, cand.behaviour)
    x = c.x
    g_call = c.unbatch(plan.g)
    if not x.flags.c_contiguous:
        layout = "F" if x.flags.f_contiguous else "transposed"
        g_call = with_layout(g_call, layout, channel_axis=1 if c.batched else 0)
    g_before, x_before = g_call.copy(order="K"), _Snapshot(x)
    context: dict = {"extra": _array_line("grad_output", g_call), "grad_output": g_before}
    grad = _call(cand.backward, "backward", (g_call, x, *c.kargs), **context)
    _check_unchanged(x, x_before, "backward")
    if not _same_bits(g_call, g_before):
        raise _Failure("grad_output modified", "the backward changed grad_output", **context)
    if isinstance(grad, (tuple, list)):
        raise _Failure(
            "gradient type",
            f"the backward returned a {type(grad).__name__}; expected one array "
            "(the gradient with respect to x)",
        )
    _check_not_a_view(grad, {"x": x, "grad_output": g_call}, "backward")
    grad = _as_array(grad, "gradient")
    if grad.shape != x.shape:
        raise _Failure(
            "gradient shape",
            f"grad_input.shape={grad.shape}, expected {x.shape} (x.shape)",
            **context,
        )
    if grad.dtype != x.dtype:
        raise _Failure(
            "gradient dtype", f"grad_input.dtype={grad.dtype}, expected {x.dtype}", **context
        )
    gb = grad if c.batched else grad[np.newaxis]
    _compare_gradient(gb, plan, c, context)


def _compare_gradient(gb: np.ndarray, plan: _GradPlan, c: _Case, context: dict) -> None:
    rtol = _GRAD_RTOL[c.x.dtype.name]
    scale = float(np.abs(plan.g).max()) if plan.g.size else 0.0
    residual = gb.astype(np.float64) - plan.expected.astype(np.float64)
    allowed = rtol * (np.abs(plan.expected.astype(np.float64)) + scale)
    maxima = _taps_mask(c.exp, plan.member, c, maxima_only=True)
    bad = ~(np.abs(residual) <= allowed) & ~plan.skipped & ~maxima
    if bad.any():
        where = _find_first(bad)
        raise _Failure(
            "gradient",
            f"{_fmt_index('grad_input', c.shown(where))} = {_fmt_scalar(gb[where])}, "
            f"expected {_fmt_scalar(plan.expected[where])}",
            extra=context["extra"]
            + f"\nexpected grad_input = {_array_text(c.unbatch(plan.expected))}"
            + f"\nactual grad_input   = {_array_text(c.unbatch(gb))}",
            grad_output=context["grad_output"],
            where=where,
        )
    if plan.member.any():
        _check_tie_mass(residual, plan, c, maxima, context)


def _check_tie_mass(residual, plan: _GradPlan, c: _Case, maxima, context: dict) -> None:
    """Under ``ties="any"`` a tie window's gradient lands on its maxima and sums to its grad_output.

    Checked per sample and channel: what the tie windows of a plane received must add up to
    what they were sent (a doubled or dropped tie gradient shows here).
    """
    n_batch = c.xb.shape[0]
    sent = (
        np.where(plan.member, plan.g, 0)
        .astype(np.float64)
        .reshape(n_batch, c.n_chan, -1)
        .sum(axis=2)
    )
    got = np.where(maxima, residual, 0.0).reshape(n_batch, c.n_chan, -1).sum(axis=2)
    scale = np.abs(plan.g).astype(np.float64).reshape(n_batch, c.n_chan, -1).sum(axis=2)
    bad = ~(np.abs(got - sent) <= _GRAD_RTOL[c.x.dtype.name] * (scale + 1.0))
    if bad.any():
        n, ch = _find_first(bad)
        plane = f"x[{n}, {ch}]" if c.batched else f"x[{ch}]"
        raise _Failure(
            "gradient (ties)",
            f"the tie windows of {plane} were sent a gradient summing to {sent[n, ch]!r} and "
            f"their maxima received {got[n, ch]!r}",
            extra=context["extra"] + f"\nactual grad_input = {_array_text(c.unbatch(residual))}",
            grad_output=context["grad_output"],
        )

"""Which kind of difference a failure is, how severe, and which named rule explains it.

A *kind* is the failing check plus the hard feature of the window (or case) where it showed:
``"indices: NaN window"``, ``"values: signed zero"``, ``"gradient: ties"``. A run reports each kind
once, shrunk on its own. A *named rule* is one value of a :class:`~poolref.testing.Behaviour`
field that real implementations follow (``nan="first"``, ``signed_zero="any"``...): a difference
is explained by a rule when the failing case passes once the rule is declared.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ._declare import Behaviour, Candidate
from ._expect import _expected
from ._report import _Failure

#: Checks from the most to the least severe (a crash hides everything after it).
SEVERITY = (
    "target crashed",
    "timeout",
    "target exited",
    "forward raised",
    "backward raised",
    "unsupported",
    "output aliases input",
    "input modified",
    "grad_output modified",
    "output type",
    "output shape",
    "output dtype",
    "values",
    "indices missing",
    "indices shape",
    "indices dtype",
    "indices",
    "indices (not a maximum of the window)",
    "value at index",
    "gradient type",
    "gradient shape",
    "gradient dtype",
    "gradient",
    "gradient (ties)",
)


def severity(check: str) -> int:
    """Rank of a check in :data:`SEVERITY` (unknown checks sort with the crashes)."""
    for i, name in enumerate(SEVERITY):
        if check.startswith(name):
            return i
    return 0


#: The named rules, by the checks they can explain. Each is one Behaviour field and value.
RULES = (
    ("nan", "first"),
    ("nan", "strict"),
    ("nan", "ignore"),
    ("nan", "propagate"),
    ("signed_zero", "any"),
    ("ties", "any"),
    ("empty_window_value", "lowest_finite"),
    ("empty_window_value", "any"),
    ("padding", "compared"),
    ("padding", "zero"),
    ("index_format", "global"),
    ("index_format", "window"),
    ("index_format", "nhwc"),
    ("index_format", "nhwc_batch"),
    ("index_dtype", None),
    ("nan_backward", "first"),
    ("nan_backward", "strict"),
    ("nan_backward", "last"),
    ("nan_backward", "ignore"),
    ("nan_backward", "propagate"),
)

_RULES_FOR = {
    "values": ("nan", "signed_zero", "empty_window_value", "padding"),
    "indices": ("nan", "ties", "index_format", "padding"),
    "indices dtype": ("index_dtype",),
    "value at index": ("nan", "signed_zero", "padding"),
    "gradient": ("nan_backward", "nan", "ties", "padding"),
}


def rule_text(field: str, value) -> str:
    """A rule as a declaration: ``nan='first'``."""
    return f"{field}={value!r}"


def window_feature(case, failure: _Failure) -> str:
    """The hard feature of the window (or, for input-side checks, the case) where ``failure`` showed."""
    x = case.x if case.batched else case.x[np.newaxis]
    exp = _expected(x, case.params, Behaviour())
    where = failure.where
    if where is None or len(where) != exp.y.ndim or any(w >= n for w, n in zip(where, exp.y.shape)):
        return _case_feature(exp.features)
    n, c, *o = where
    o_flat = int(np.ravel_multi_index(tuple(o), exp.y.shape[2:])) if o else 0
    taps = exp.taps[o_flat]
    values = exp.window_values[n * x.shape[1] + c, o_flat][taps >= 0]
    if not values.size:
        return "empty window"
    if values.dtype.kind == "f":
        if np.isnan(values).any():
            return "NaN window"
        if np.isneginf(values).all():
            return "all -inf window"
        top = values.max()
        if top == 0 and np.signbit(values[values == 0]).any():
            return "signed zero"
    top = values.max()
    if (values == top).sum() > 1:
        return "ties"
    if (taps < 0).any():
        return "next to padding"
    return "general"


def _case_feature(features) -> str:
    for name in ("NaN", "ties", "signed zeros", "all -inf window", "empty window"):
        if name in features:
            return name
    return "general"


def kind_of(case, failure: _Failure) -> str:
    """The kind of difference: the check, and where it showed."""
    if failure.check in (
        "values",
        "indices",
        "value at index",
        "indices (not a maximum of the window)",
    ):
        return f"{failure.check}: {window_feature(case, failure)}"
    if failure.check == "gradient":  # `where` is an input element: the case's hardest feature
        x = case.x if case.batched else case.x[np.newaxis]
        return f"gradient: {_case_feature(_expected(x, case.params, Behaviour()).features)}"
    if failure.check in ("forward raised", "backward raised"):
        return f"{failure.check}: {failure.detail.split(':', 1)[0]}"
    return failure.check


def explain(cand: Candidate, case, failure: _Failure, check_case) -> tuple[str, object] | None:
    """The first named rule under which ``case`` passes, as ``(field, value)``; None if none does.

    None too when the candidate's indices point outside the input where a window has a valid
    tap: no rule explains that.

    ``check_case(cand, case)`` runs every check (raising :class:`_Failure`). Only rules that
    can explain the failing check are tried, each on top of the candidate's current rules.
    """
    base = failure.check.split(" (")[0]
    fields = _RULES_FOR.get(base, ())
    for field, value in RULES:
        if field not in fields or getattr(cand.behaviour, field) == value:
            continue
        try:
            behaviour = dataclasses.replace(cand.behaviour, **{field: value})  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        trial = dataclasses.replace(cand, behaviour=behaviour)
        try:
            check_case(trial, case)
        except _Failure:
            continue
        if _index_outside_input(trial, case):
            return None
        return field, value
    return None


def _index_outside_input(cand: Candidate, case) -> bool:
    """Whether the candidate returns, for a window with a valid tap, an index outside the input.

    No rule explains such an index (it points into the padding, or nowhere): a rule that leaves
    it unspecified (``padding="compared"``) would hide a real bug.
    """
    if not cand.support.indices:
        return False
    from . import _index
    from ._check import _Case, _run_forward

    c = _Case.build(case, cand.behaviour)
    try:
        _, idx = _run_forward(cand, c)
    except _Failure:
        return False
    raw = np.asarray(idx)
    if raw.dtype.kind not in "iu" or raw.shape != c.unbatch(c.exp.index).shape:
        return False
    raw = (raw if c.batched else raw[np.newaxis]).astype(np.int64)
    local = _index.decode(raw, cand.behaviour.index_format, c.plane, c.exp.taps)
    has_tap = np.broadcast_to((c.exp.taps >= 0).any(axis=1).reshape(local.shape[2:]), local.shape)
    return bool((has_tap & (local < 0)).any())


def profile_text(behaviour: Behaviour) -> str:
    """The rules that differ from PyTorch's, as flags to paste: ``nan=first signed_zero=any``."""
    default = Behaviour()
    parts = []
    for f in dataclasses.fields(behaviour):
        value = getattr(behaviour, f.name)
        if value != getattr(default, f.name):
            parts.append(f"{f.name}={value}")
    return " ".join(parts) if parts else "pytorch (no difference)"

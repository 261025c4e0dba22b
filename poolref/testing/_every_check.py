"""Every check of one failing case, not only the first: :func:`other_failures`.

:func:`._check._check_case` stops at the first problem (the search and the shrinker need only
that). Once a case is reported, the run calls :func:`other_failures` to list the other checks
that fail on the same case (e.g. a wrong index *and* a backward that crashes), so one report
shows all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._check import (
    _as_array,
    _Case,
    _check_indices,
    _check_output,
    _check_value_at_index,
    _run_forward,
)
from ._declare import Candidate
from ._report import _Failure


def _attempt(found: list, step: Callable[[], object]) -> object:
    """``step()``; a :class:`_Failure` it raises is appended to ``found`` (and None returned)."""
    try:
        return step()
    except _Failure as failure:
        found.append(failure)
        return None


def every_failure(cand: Candidate, case) -> list:
    """Every failing check of ``case``: the forward's, the indices', the backward's."""
    from ._check_backward import _backward_applies, _check_backward

    c = _Case.build(case, cand.behaviour)
    found: list = []
    forward: Any = _attempt(found, lambda: _run_forward(cand, c))
    if forward is not None:
        y, idx = forward
        _attempt(found, lambda: _check_output(y, c, cand.behaviour))
        if cand.support.indices:
            local: Any = _attempt(
                found, lambda: _check_indices(_as_array(idx, "indices"), c, cand.behaviour)
            )
            if local is not None:
                _attempt(
                    found,
                    lambda: _check_value_at_index(y, local, c, cand.behaviour.signed_zero),
                )
    if _backward_applies(cand, c, case.params, None):
        _attempt(found, lambda: _check_backward(cand, c))
    return found


def other_failures(cand: Candidate, case, first: _Failure) -> list:
    """The failing checks of ``case`` other than ``first`` (whose check is already reported)."""
    try:
        found = every_failure(cand, case)
    except Exception:  # noqa: BLE001 - the first failure is reported whatever happens here
        return []
    return [f for f in found if (f.check, f.detail) != (first.check, first.detail)]


def other_failures_text(failures: list) -> str:
    """The report lines for :func:`other_failures`, or ``""``."""
    if not failures:
        return ""
    lines = ["  other checks failing on this case:"]
    for failure in failures:
        detail = failure.detail.replace("\n", " ")
        lines.append(f"    [{failure.check}] {detail}")
    return "\n".join(lines) + "\n"

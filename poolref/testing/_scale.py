"""Scale cases: inputs big enough to reach the seams of optimised kernels.

Optimised max-pool kernels are built from a vector body of 8/16/32/64 lanes
plus a scalar tail, row blocks, worker chunks over ``N * C``, a channels-last
path vectorised over ``C``, specialised 2x2/stride-2 paths, merges for large
kernels and indices held in narrow types. Their bugs show only past those
seams, never on the tiny inputs of the corner cases and the Hypothesis search.

A scale case is a :class:`ScaleSpec`: shapes and parameters placed on and
around the seams (``W``, ``H``, ``D`` near ``1..3 x {8, 16, 32, 64, 128}``
``+- {0, 1, kernel - 1}``, output widths crossing a tile, ``N * C`` prime or
a multiple of 2..64, channels-last ``C`` in ``{1, 3, 8, 16, 17, 64, 65,
256}``, planes above ``2^11``, ``2^15``, ``2^16`` and ``2^24`` elements,
kernels above 7 and above 255 taps, stride > kernel), and hard values planted
at chosen positions (ties across a tile boundary, NaN in the last tile,
+-inf, -0.0 beside +0.0, all -inf windows in the tail and the first corner,
negative values next to the padding). :meth:`ScaleSpec.build` makes the
input from a seeded ``np.random.Generator`` in a few whole-array calls.

The code is in four modules: ``_scale_spec`` (one case, its input and its
seams), ``_scale_cases`` (the list of cases and how it is fitted to the
declarations), ``_scale_check`` (checking one case, shrinking, the report) and
this one (the run and the summary lines).

The expected results come from :mod:`poolref.fast` (values, indices, and
the gradient from ``poolref.fast.max_pool*d_backward``), so the harness's
work per case is a small multiple of the input: no loop over outputs, no
per-output tap table. A failing case is shrunk (fewer planes, then the
smallest size past the seam along each axis) before it is reported.

Where a declared :class:`~poolref.testing.Behaviour` differs from PyTorch's
in a way :mod:`poolref.fast` cannot express, the difference is kept out of
the cases instead (see :func:`~poolref.testing._scale_cases._plantable`): no NaN unless ``nan`` is
``"last"`` or ``"propagate"``, no ties (distinct values) with ``ties="any"``,
no lowest values next to padding with ``padding="compared"``, and never an
empty window (no dilation together with padding).
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections import Counter
from dataclasses import dataclass

from ._scale_cases import DEFAULT_MAX_ELEMENTS, QUICK, SCALE_BUDGETS, scale_specs
from ._scale_check import ScaleFailure, _allowed, check_case, report, shrink
from ._scale_spec import MULTIPLES, PLANTS, ScaleSpec, seams_of

__all__ = [
    "DEFAULT_MAX_ELEMENTS",
    "MULTIPLES",
    "PLANTS",
    "QUICK",
    "SCALE_BUDGETS",
    "ScaleFailure",
    "ScaleRun",
    "ScaleSpec",
    "check_case",
    "report",
    "run_scale",
    "scale_specs",
    "seams_of",
    "shrink",
    "summary_lines",
]


@dataclass
class ScaleRun:
    """What the scale cases of one or more ranks did (for the summary)."""

    cases: int = 0
    elements: int = 0
    seconds: float = 0.0
    seams: Counter = dataclasses.field(default_factory=Counter)
    skipped: Counter = dataclasses.field(default_factory=Counter)
    failed: int = 0


def run_scale(
    cand,
    nd: int,
    *,
    budget: str = "quick",
    max_elements: int | None = None,
    seed: int | None = None,
    say=lambda message: None,
    into: ScaleRun | None = None,
    seconds: float | None = None,
) -> ScaleRun:
    """Run rank ``nd``'s scale cases on ``cand``; raise ``AssertionError`` with shrunk reports on failures.

    Every case runs (a failing one does not stop the rest) and is counted. The first failing case
    of each check is shrunk and reported; the error's ``failures`` lists ``(check, report, spec)``
    for each, ``spec`` being the shrunk case. ``seconds`` is the wall time after which the
    remaining cases are skipped (default: the budget's ``SCALE_BUDGETS[budget]["seconds"]``).
    """
    run = into if into is not None else ScaleRun()
    start, cases_before = time.perf_counter(), run.cases
    elements_before = run.elements
    specs, skipped = scale_specs(nd, cand.support, cand.behaviour, budget, max_elements, seed)
    run.skipped.update(skipped)
    limit = SCALE_BUDGETS[budget]["seconds"] if seconds is None else float(seconds)
    failures: dict[str, tuple] = {}
    for i, spec in enumerate(specs, 1):
        elapsed = time.perf_counter() - start
        if _projected(elapsed, run.elements - elements_before, spec) > limit:
            run.skipped[_over_time(spec, budget, limit)] += 1
            continue
        x = spec.build()
        if not _allowed(cand, spec, x):
            run.skipped[f"{spec.label}: outside the declared support"] += 1
            continue
        run.cases += 1
        run.elements += spec.elements
        try:
            run.seams.update(check_case(cand, spec, x))
        except ScaleFailure as failure:
            del x
            run.failed += 1
            if failure.check not in failures:
                failures[failure.check] = _shrunk(cand, spec, failure, i, len(specs), nd, say)
    run.seconds += time.perf_counter() - start
    if failures:
        errors = list(failures.values())
        text = "\n".join(report_text for _, report_text, _ in errors)
        error = AssertionError(text)
        error.failures = errors  # type: ignore[attr-defined]
        error.spec = errors[0][2]  # type: ignore[attr-defined]  # the shrunk case, for the run's kinds
        raise error
    ran = run.cases - cases_before
    say(
        f"{nd}-D scale cases: {ran} passed"
        + (f", {len(specs) - ran} skipped" if ran < len(specs) else "")
    )
    return run


def _projected(elapsed: float, done: int, spec) -> float:
    """Seconds the rank's scale stage will have taken after ``spec``, at the rate seen so far
    (``elapsed`` seconds for ``done`` input elements).

    A case cannot be stopped once it runs, so the sparse planes above 2^24 (last in the list, 4 to
    100 times larger than the rest) are left out when a slow candidate would overrun the cap with
    them; a sparse case costs at most about a quarter per element of a pooled one (nothing is
    pooled to judge it; measured: torch 0.04, a NumPy kernel 0.26). Other cases: ``elapsed``.
    """
    if done <= 0 or not spec.sparse:  # the pooled cases: as before, the time spent
        return elapsed
    return elapsed + elapsed / done * spec.elements * (0.25 if spec.sparse else 1.0)


def _over_time(spec, budget: str, limit: float) -> str:
    """The skip reason of a case past the time limit, with the flag that runs it."""
    return (
        f"{spec.label}: over the {limit:.0f} s per rank of the {budget} budget "
        f"(run it with a larger --time-budget, time_budget=, or --budget thorough)"
    )


def _shrunk(cand, spec, failure, i: int, n: int, nd: int, say) -> tuple:
    """``(check, report, shrunk spec)`` for a failing scale case."""
    small, small_failure = shrink(cand, spec, failure)
    found = f"scale case {spec.label!r} ({i} of {n}, {nd}-D, x.shape={spec.shape})"
    if small is not spec:
        found += ", then made smaller"
    say(f"{nd}-D scale cases: counterexample in {spec.label!r}")
    return small_failure.check, report(cand, small, small_failure, found), small


def coverage_lines(run: ScaleRun, width: int = 100) -> list:
    """``"W crossed a multiple of 32: 14 cases; plane > 2^24: 1 case; ..."`` wrapped to ``width``."""

    def key(item):
        return re.sub(r"\d+", lambda m: f"{int(m.group()):09d}", item[0])

    items = [
        f"{name}: {count} case{'s' if count != 1 else ''}"
        for name, count in sorted(run.seams.items(), key=key)
    ]
    lines, current = [], ""
    for item in items:
        if current and len(current) + len(item) + 2 > width:
            lines.append(current + ";")
            current = ""
        current = f"{current}; {item}" if current else item
    if current:
        lines.append(current)
    return lines


def summary_lines(run: ScaleRun) -> list:
    """The summary's scale lines: cases and time, the seams exercised, what was skipped."""
    lines = [
        f"scale: {run.cases} cases, {run.elements / 1e6:.1f} M input elements, {run.seconds:.1f} s"
        + (f", {run.failed} failed" if run.failed else "")
    ]
    lines += [
        "  seams: " + line if i == 0 else "         " + line
        for i, line in enumerate(coverage_lines(run, 92))
    ]
    for reason, count in sorted(run.skipped.items()):
        lines.append(f"  skipped: {reason}" + (f" ({count} cases)" if count > 1 else ""))
    return lines

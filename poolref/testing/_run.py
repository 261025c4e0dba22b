"""The entry point: :func:`check_max_pool` probes the target's capabilities, runs the corner cases
and the Hypothesis search, keeps going after a difference until every distinct kind is found
(each shrunk on its own), names the rule that explains each, and reports them all."""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Sequence

from ..arrays import PoolCase
from . import _infer, _probe
from ._check import _check_case
from ._corners import corner_cases
from ._database import Store, encode_case, encode_scale, replay
from ._declare import Behaviour, Candidate, Support
from ._every_check import other_failures, other_failures_text
from ._report import _Failure, _report, distinct_report
from ._run_args import (
    _applicable_corners,
    _candidate,
    _check_behaviour,
    _check_max_elements,
    _examples,
    _ndims,
    _seed,
)
from ._scale import ScaleRun, run_scale
from ._search import _require_hypothesis, _search, _shrink
from ._summary import HARD_CORNERS, Difference, Summary
from ._worker import DEFAULT_TIMEOUT, isolated

#: The arguments an isolated run passes on to the run inside it.
_RUN_OPTIONS = (
    "ndim", "budget", "max_examples", "seed", "corners", "progress",
    "max_cases", "time_budget", "scale", "max_elements", "database", "read_only",
)  # fmt: skip

#: How many times the search restarts after a new kind of difference, per rank.
MAX_SEARCH_ROUNDS = 8


def check_max_pool(
    forward: Callable[..., object] | Candidate,
    *,
    backward: Callable[..., object] | None = None,
    ndim: int | Sequence[int] | None = 2,
    support: Support | None = None,
    behaviour: Behaviour | str | None = None,
    budget: str = "quick",
    max_examples: int | None = None,
    seed: int | None = None,
    corners: bool = True,
    name: str | None = None,
    progress: Callable[[str], None] | None = None,
    strict: bool | None = None,
    max_cases: int | None = None,
    time_budget: float | None = None,
    isolate: bool = False,
    timeout: float | None = None,
    scale: bool = True,
    max_elements: int | None = None,
    database: object = None,
    read_only: bool = False,
) -> Summary:
    """Check a max-pooling implementation against poolref; raise ``AssertionError`` if it is wrong.

    One run reports every distinct kind of difference (by check and by the hard feature where
    it shows: NaN index, signed zero, ties, dtype...), each shrunk to its own smallest case,
    most severe first, and names the documented rule that explains a difference where one does.

    Parameters
    ----------
    forward : callable or Candidate
        ``forward(x, kernel_size, stride, padding, dilation, ceil_mode)``
        returning the output, or ``(output, indices)`` when
        ``support.indices``. ``x`` is ``(N, C, *spatial)`` or, if
        ``support.unbatched``, ``(C, *spatial)``; the parameters are tuples of
        ``ndim`` ints. A :class:`Candidate` (e.g. from :mod:`poolref.adapters`)
        brings its own backward, support and behaviour.
    backward : callable, optional
        ``backward(grad_output, x, kernel_size, stride, padding, dilation,
        ceil_mode)`` returning the gradient with respect to ``x``.
    ndim : int, sequence of int, or None
        Spatial ranks to check (default 2); None means every rank in
        ``support.ndims``.
    support : Support, optional
        What the candidate implements. Without it (and for a plain function), every
        capability is probed on one tiny case first, and one the target rejects with an
        exception is reported as not supported and not searched.
    behaviour : Behaviour, "pytorch" or "auto", optional
        Implementation-defined rules it follows (default, ``"pytorch"``: PyTorch's; a
        difference a named rule explains still fails, and the report names the rule).
        ``"auto"``: a difference that a named rule explains is accepted, the rule becomes
        part of the target's profile (``Summary.profile``), and only differences no rule
        explains fail.
    budget : {"quick", "thorough"}
        Hypothesis examples per rank (:data:`BUDGETS`, times the candidate's
        ``budget_scale``); the corner cases always run.
    max_examples : int, optional
        Overrides the budget's number of Hypothesis examples per rank (0: corner cases only).
    seed : int, optional
        Seed for the Hypothesis search. Without it the search is random (the seed it drew is
        in every failure and in ``Summary.seed``), except when the environment variable ``CI``
        is set: then it is derandomized (the same examples every run).
    corners : bool
        Run the fixed corner cases first (default True).
    name : str, optional
        Label used in messages.
    progress : callable, optional
        Called with one-line progress messages.
    strict : bool, optional
        Make a capability the target rejects a failure instead of "not supported". Default:
        strict when ``support`` is given or the Candidate declares a support of its own.
    max_cases : int, optional
        Cap on the cases of the run (corner cases are sampled evenly, then the search gets
        what is left).
    time_budget : float, optional
        Seconds after which no new case starts (the current one finishes and is reported).
    isolate : bool
        Run the candidate in a worker process (default False): a call that
        exits the process (``sys.exit``, ``os._exit``), dies of a signal
        (segfault, abort) or exceeds ``timeout`` fails the case instead of
        ending or hanging the run. The candidate is sent by pickle, or
        inherited through ``fork`` when it does not pickle. Each call costs
        a few milliseconds more.
    timeout : float, optional
        Seconds one call may take with ``isolate=True`` (default 60).
    scale : bool
        Run the scale cases (big inputs on the seams of optimised kernels,
        judged by :mod:`poolref.fast`; see ``docs/scale.md``) after every rank's
        corner cases and before the search (default True).
    max_elements : int, optional
        Memory cap: the most elements one scale case's input may have (default
        2**25, which holds the sparse planes above 2**24; the other quick cases
        have at most 2**22); the summary lists the cases it skipped.
    database : str, os.PathLike or hypothesis.database.ExampleDatabase, optional
        Where counterexamples are kept across runs: a directory, ``"redis://host:port[/db]"``
        (needs ``pip install 'poolref[redis]'``) or any Hypothesis ``ExampleDatabase``. Every
        difference found (corner case, scale case or search) is saved under a key naming the
        target and the kind of difference, and the saved ones are replayed first, before the
        corner cases (see ``docs/database.md``). A database that fails during the run does not
        end it: the report says what could not be saved.
    read_only : bool
        Replay the database's counterexamples but save nothing (for CI).

    Returns
    -------
    Summary
        What ran, what was covered, what is not supported, and the inferred profile
        (``print`` it for a short report). Differences that a named rule explains are in
        ``Summary.differences`` with ``failed=False`` under ``behaviour="auto"``.

    Raises
    ------
    AssertionError
        With every distinct difference found, most severe first: the check that failed,
        shapes, dtype, layout, parameters, the input, expected and actual values at the
        first difference (with that output's window), the rule that explains it if any, and
        a snippet that reproduces it. Its ``summary`` attribute is the :class:`Summary`.
        A crash, a timeout, a returned view of the input or a reshaped input
        is a failure of the case too ("target crashed (signal SIGSEGV)",
        "timeout (60 s)", "output aliases input", "input modified"); a crash
        or timeout is reported unshrunk.
    ValueError, TypeError
        Bad arguments (e.g. an ``ndim`` outside ``support.ndims``, a malformed or unreachable
        ``database``), before any case runs.
    ImportError
        Hypothesis is not installed.

    Examples
    --------
    >>> import poolref.fast
    >>> def my_pool(x, kernel_size, stride, padding, dilation, ceil_mode):
    ...     return poolref.fast.max_pool2d(
    ...         x, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)
    >>> summary = check_max_pool(my_pool, max_examples=5)
    >>> summary.not_covered, summary.examples
    ((), 5)
    """
    arguments = dict(locals())  # the call's arguments, for the isolated run's own call
    _require_hypothesis()
    _check_max_elements(max_elements)
    auto = behaviour == "auto"
    cand, declared = _candidate(
        forward, backward, support, None if isinstance(behaviour, str) else behaviour, name
    )
    _check_behaviour(behaviour)
    ndims = _ndims(cand, ndim)
    n_examples = _examples(cand, budget, max_examples)
    store = None if database is None else Store(database, cand.label, read_only=read_only)
    if isolate or timeout is not None:
        options = {key: arguments[key] for key in _RUN_OPTIONS}
        options.update(behaviour=behaviour if isinstance(behaviour, str) else None)
        options["strict"] = declared if strict is None else strict
        return _check_isolated(cand, isolate, timeout, **options)
    run = _Run(cand, auto=auto, strict=declared if strict is None else bool(strict), say=progress)
    run.ndims = ndims
    run.limit(max_cases, time_budget)
    run.seed = _seed(seed)
    run.probe(ndims[0])
    run.replay(store)  # every stored counterexample first
    for nd in ndims if corners else ():
        run.corners(nd)
    # every rank's corner cases first (the cheapest, clearest counterexamples), then the scale cases
    if scale:
        run.scale = ScaleRun()
        for nd in ndims:
            run.scale_cases(nd, budget, max_elements, seed)
    for nd in ndims if n_examples else ():
        run.search(nd, n_examples)
    summary = run.summary()
    if summary.failed:
        error = AssertionError(run.report_text())
        error.summary = summary  # type: ignore[attr-defined]
        raise error
    return summary


class _Run:
    """The state of one run: the candidate (its rules grow under ``auto``), what was found."""

    def __init__(self, cand: Candidate, *, auto: bool, strict: bool, say):
        self.cand = cand
        self.auto = auto
        self.strict = strict
        self.say = say or (lambda message: None)
        self.start = time.perf_counter()
        self.deadline: float | None = None
        self.cases_left: int | None = None
        self.seed = None
        self.ndims: tuple = ()
        self.features: Counter = Counter()
        self.notes: Counter = Counter()
        self.found: dict[str, tuple[Difference, object]] = {}
        self.unsupported: list[str] = []
        self.corner_count = 0
        self.example_count = 0
        self.scale: ScaleRun | None = None
        self.store: Store | None = None

    def limit(self, max_cases, time_budget) -> None:
        if max_cases is not None:
            if int(max_cases) < 1:
                msg = f"check_max_pool: max_cases must be >= 1, got max_cases={max_cases!r}"
                raise ValueError(msg)
            self.cases_left = int(max_cases)
        if time_budget is not None:
            if not time_budget > 0:
                msg = f"check_max_pool: time_budget must be > 0 seconds, got time_budget={time_budget!r}"
                raise ValueError(msg)
            self.deadline = self.start + float(time_budget)

    def replay(self, store: Store | None) -> None:
        """Check the stored counterexamples of ``store`` (saved to from now on) first."""
        self.store = store
        if store is not None:
            replay(self, store)

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.perf_counter() > self.deadline

    # ---- phases -------------------------------------------------------------

    def probe(self, nd: int) -> None:
        cand, found = _probe.probe(self.cand, nd)
        if not found:
            return
        lines = _probe.describe(found)
        if self.strict:
            for item in found:
                detail = f"declared as supported, but the probe says: {item.line()}"
                report = f"max pooling of {self.cand.label} is wrong [unsupported]: {detail}"
                diff = Difference(
                    f"unsupported: {item.capability}",
                    "unsupported",
                    detail,
                    report + "\n  found by: capability probe",
                    "capability probe",
                )
                self.found[diff.kind] = (diff, None)
            return
        self.cand = cand
        self.unsupported.extend(lines)
        for line in lines:
            self.say(f"not supported: {line}")

    def corners(self, nd: int) -> None:
        cases = corner_cases(nd, self.cand.support, self.cand.behaviour)
        cases = self._sample(cases)
        for i, (corner_name, case) in enumerate(cases, 1):
            if self.out_of_time():
                self.notes["corner cases skipped: time budget"] += len(cases) - i + 1
                break
            try:
                self.features.update(_check_case(self.cand, case, self.notes))
            except _Failure as failure:
                found_by = f"corner case {corner_name!r} ({i} of {len(cases)}, {nd}-D)"
                self.record(case, failure, found_by, shrink=True)
            self.corner_count += 1
        self.say(f"{nd}-D corner cases: {len(cases)} run")

    def _sample(self, cases: list) -> list:
        if self.cases_left is None:
            return cases
        share = max(1, self.cases_left // 2)
        if len(cases) > share:
            step = len(cases) / share
            cases = [cases[int(i * step)] for i in range(share)]
            self.notes["corner cases sampled by max_cases"] += 1
        self.cases_left = max(0, self.cases_left - len(cases))
        return cases

    def scale_cases(self, nd: int, budget: str, max_elements, seed) -> None:
        """Rank ``nd``'s scale cases; each check's first failure is one difference (shrunk by _scale)."""
        if self.out_of_time():
            return
        seconds = None if self.deadline is None else self.deadline - time.perf_counter()
        try:
            run_scale(
                self.cand,
                nd,
                budget=budget,
                max_elements=max_elements,
                seed=seed,
                say=self.say,
                into=self.scale,
                seconds=seconds,
            )
        except AssertionError as exc:
            failures = getattr(exc, "failures", None) or [("scale", str(exc), None)]
            for check, report, spec in failures:
                self._scale_difference(check, report, spec)

    def _scale_difference(self, check: str, report: str, spec) -> None:
        first = report.splitlines()[0]
        if "[" in first:
            check = first.split("[", 1)[1].split("]", 1)[0]
        kind = self._small_kind(spec) or f"{check}: scale case"
        if kind not in self.found:
            detail = first.split("]: ", 1)[-1]
            found_by = next(
                (ln.strip() for ln in report.splitlines() if "found by:" in ln), "scale case"
            )
            self.found[kind] = (Difference(kind, check, detail, report, found_by), None)
            self.say(f"difference: {kind}")
            if self.store is not None and spec is not None:
                self.store.save(kind, encode_scale(kind, spec))

    def _small_kind(self, spec) -> str | None:
        """The kind of a shrunk scale case's difference if the ordinary checks see it too."""
        if spec is None:
            return None
        case = PoolCase(spec.build(), *spec.kargs())
        try:
            _check_case(self.cand, case)
        except _Failure as failure:
            return _infer.kind_of(case, failure)
        except Exception:  # noqa: BLE001 - a case the small checks cannot run is scale-only
            return None
        return None

    def search(self, nd: int, n_examples: int) -> None:
        if self.cases_left is not None:
            n_examples, self.cases_left = (
                min(n_examples, self.cases_left),
                max(0, self.cases_left - n_examples),
            )
        for _ in range(MAX_SEARCH_ROUNDS):
            if n_examples <= 0 or self.out_of_time():
                return
            result = _search(
                self.cand,
                nd,
                n_examples,
                self.seed,
                self.features,
                self.notes,
                self.say,
                known=self.known,
                deadline=self.deadline,
                database=None if self.store is None else self.store.hypothesis_database(),
                key=f"{self.cand.label}:search:{nd}-D",
            )
            self.example_count += result.examples
            if result.failure is None:
                return
            self.record(result.case, result.failure, result.found_by, shrink=False)

    # ---- differences --------------------------------------------------------

    def known(self, case, failure: _Failure) -> bool:
        return _infer.kind_of(case, failure) in self.found

    def record(self, case, failure: _Failure, found_by: str, *, shrink: bool) -> None:
        kind = _infer.kind_of(case, failure)
        if kind in self.found:
            return
        if shrink:
            case, failure = _shrink(
                self.cand, case, failure, same=lambda trial, f: _infer.kind_of(trial, f) == kind
            )
            found_by += ", then made smaller"
        rule = _infer.explain(self.cand, case, failure, _check_case)
        rule_text = None if rule is None else _infer.rule_text(*rule)
        report = _report(self.cand, case, failure, found_by)
        note = other_failures_text(other_failures(self.cand, case, failure))
        if rule_text is not None:
            note += f"  explained by the named rule {rule_text}: {self._rule_note()}\n"
        if note:  # before the reproduction, which stays the block's end
            report = report.replace("\n  reproduce:\n", "\n" + note + "  reproduce:\n", 1)
        diff = Difference(
            kind,
            failure.check,
            failure.detail,
            report,
            found_by,
            rule_text,
            failed=not (self.auto and rule),
        )
        self.found[kind] = (diff, case)
        if self.store is not None:
            self.store.save(kind, encode_case(kind, case))
        if self.auto and rule is not None:
            field, value = rule
            behaviour = dataclasses.replace(self.cand.behaviour, **{field: value})  # type: ignore[arg-type]
            self.cand = dataclasses.replace(self.cand, behaviour=behaviour)
            self.say(f"inferred rule {rule_text} ({kind})")
        else:
            self.say(f"difference: {kind}")

    def _rule_note(self) -> str:
        if self.auto:
            return "accepted (behaviour='auto')"
        return (
            "the target follows it instead of PyTorch's; declare it, or run with --behaviour auto"
        )

    # ---- the result ----------------------------------------------------------

    def summary(self) -> Summary:
        ndims = self.ndims
        if self.auto:
            self._recheck()
        diffs = sorted(
            (d for d, _ in self.found.values()),
            key=lambda d: (not d.failed, _infer.severity(d.check)),
        )
        applicable = _applicable_corners(self.cand, ndims)
        features = dict(
            sorted(self.features.items(), key=lambda kv: (kv[0] not in HARD_CORNERS, kv[0]))
        )
        return Summary(
            name=self.cand.label,
            ndims=ndims,
            corner_cases=self.corner_count,
            examples=self.example_count,
            features=features,
            not_covered=tuple(f for f in applicable if f not in self.features),
            notes=dict(self.notes),
            seconds=time.perf_counter() - self.start,
            seed=self.seed,
            differences=diffs,
            unsupported=list(self.unsupported),
            profile=_infer.profile_text(self.cand.behaviour) if self.auto else "",
            scale=self.scale,
        )

    def _recheck(self) -> None:
        """Under ``auto``, a bug recorded before a later rule was inferred may be that rule's."""
        for kind, (diff, case) in list(self.found.items()):
            if not diff.failed or case is None:
                continue
            try:
                _check_case(self.cand, case)
            except _Failure:
                continue
            self.found[kind] = (
                dataclasses.replace(diff, failed=False, rule="(inferred profile)"),
                case,
            )

    def report_text(self) -> str:
        failed = [d for d, _ in self.found.values() if d.failed]
        failed.sort(key=lambda d: _infer.severity(d.check))
        problem = self.store.problem() if self.store is not None else None
        return distinct_report(failed, problem)


def _check_isolated(cand: Candidate, isolate: bool, timeout, **run) -> Summary:
    """:func:`check_max_pool` on a proxy of ``cand`` whose calls run in a worker process."""
    if not isolate:
        msg = f"check_max_pool: timeout={timeout!r} needs isolate=True (a call in this process cannot be stopped)"
        raise ValueError(msg)
    with isolated(cand, timeout=DEFAULT_TIMEOUT if timeout is None else timeout) as proxy:
        return check_max_pool(proxy, **run)

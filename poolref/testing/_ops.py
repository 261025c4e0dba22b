"""The run of :func:`check_adaptive_max_pool` and :func:`check_fractional_max_pool`.

Both operations have their own calling convention and their own expected results (an
:class:`OpSpec` says them: the corner cases, the strategy, the reference, the report lines), and
share everything else with :func:`check_max_pool`: the :class:`~poolref.testing.Candidate` and
its :class:`~poolref.testing.Support` declarations (``dtypes``, ``backward_dtypes``,
``indices``, ``unbatched``), the capability probe (:mod:`._probe`'s ``Unsupported``, its
restriction of the support and its one-line descriptions), the guarded call (:func:`._check._call`:
an exception, ``sys.exit``, an aliased result or a reshaped input fails the case), worker-process
isolation (:func:`._worker.isolated`: a crash, an exit or a hang fails its case and the run
goes on), the time budget, the Hypothesis search that a crash stops at once
(:class:`._search._Crashed`), and :class:`~poolref.testing.Summary` (text, JSON, JUnit XML).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._check import _call, _check_not_a_view, _check_unchanged, _Snapshot
from ._declare import Candidate, Support
from ._probe import Unsupported, _restrict, describe
from ._report import _array_text, _Failure, _fmt_index, _fmt_scalar
from ._run_args import _seed
from ._search import _Crashed
from ._summary import Difference, Summary
from ._worker import DEFAULT_TIMEOUT, isolated

__all__ = ["OpCase", "OpSpec", "run_op"]

#: Relative tolerance of a gradient element (float16 sums of quarter-integers are exact; a few ulp).
GRAD_RTOL = 2.0**-9


@dataclass(frozen=True)
class OpCase:
    """One case: the input and the arguments that follow it in the forward call."""

    x: np.ndarray
    args: tuple
    found_by: str
    nd: int

    @property
    def batched(self) -> bool:
        return self.x.ndim == self.nd + 2


class OpSpec:
    """What one operation's check needs; :mod:`._adaptive` and :mod:`._fractional` subclass it."""

    func = "check"  # the public function's name, for messages
    op = "pooling"  # the operation, for reports
    ranks: tuple[int, ...] = (1, 2, 3)

    def expected(self, case: OpCase) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def expected_grad(self, g: np.ndarray, case: OpCase) -> np.ndarray:
        raise NotImplementedError

    def corner_cases(self, nd: int, sup: Support, skip: frozenset) -> list[OpCase]:
        raise NotImplementedError

    def strategy(self, ndims: tuple[int, ...], sup: Support, skip: dict[int, frozenset]):
        """Cases of every rank in ``ndims``, within ``sup``, without the capabilities ``skip[nd]``."""
        raise NotImplementedError

    def probe_cases(self, nd: int, dtype: str) -> list[tuple[str, OpCase]]:
        """Op-specific capabilities (name, case) besides dtypes and unbatched input."""
        return []

    def basic_case(self, nd: int, dtype: str, batched: bool = True) -> OpCase:
        raise NotImplementedError

    #: Positions in ``OpCase.args`` of array arguments besides ``x``, with their names (each is
    #: passed as a copy, checked unchanged and not aliased by a result).
    array_args: dict[int, str] = {}

    def where_text(self, case: OpCase, where: tuple) -> str:
        return ""

    def case_lines(self, case: OpCase) -> list[str]:
        raise NotImplementedError

    def reproduce(self, case: OpCase) -> str:
        raise NotImplementedError


# ----------------------------------------------------------------------------
# One case
# ----------------------------------------------------------------------------


def sorted_dtypes(names) -> list[np.dtype]:
    """The dtypes in the order the corner cases use: float64 first, as the strategies shrink."""
    from .._strategy_args import DTYPE_ORDER

    return [t for t in DTYPE_ORDER if t.name in names]


def _first_bad(bad: np.ndarray) -> tuple:
    return tuple(int(i) for i in np.argwhere(bad)[0])


def _compare(spec: OpSpec, name: str, got, want: np.ndarray, case: OpCase, rtol=0.0) -> None:
    try:
        got = np.asarray(got)
    except Exception as exc:  # noqa: BLE001 - any conversion problem is the candidate's
        raise _Failure(f"{name} type", f"cannot convert the {name} to an array: {exc}") from None
    if got.shape != want.shape:
        raise _Failure(f"{name} shape", f"{name}.shape={got.shape}, expected {want.shape}")
    if got.dtype != want.dtype:
        raise _Failure(f"{name} dtype", f"{name}.dtype={got.dtype}, expected {want.dtype}")
    if got.dtype.kind == "f":
        same = np.isclose(got, want, rtol=rtol, atol=0.0, equal_nan=True)
        if rtol == 0.0:
            same &= (np.signbit(got) == np.signbit(want)) | np.isnan(want)
    else:
        same = got == want
    if not same.all():
        where = _first_bad(~same)
        extra = spec.where_text(case, where) if name != "gradient" else ""
        raise _Failure(
            name,
            f"{_fmt_index(name, where)} = {_fmt_scalar(got[where])}, expected "
            f"{_fmt_scalar(want[where])}",
            extra=extra,
            where=where,
        )


def _grad_output(shape, dtype) -> np.ndarray:
    rng = np.random.default_rng(int(np.prod(shape)) + len(shape))
    return (rng.integers(-8, 9, shape) / 4).astype(dtype)


def check_case(spec: OpSpec, cand: Candidate, case: OpCase) -> set[str]:
    """Run the forward (and backward) on one case; raise :class:`_Failure`; the features seen."""
    want_y, want_i = spec.expected(case)
    x = case.x.copy()
    args = tuple(a.copy() if i in spec.array_args else a for i, a in enumerate(case.args))
    extra = {name: args[i] for i, name in spec.array_args.items()}
    before = _Snapshot(x)
    extra_before = {name: _Snapshot(a) for name, a in extra.items()}
    result = _call(cand.forward, "forward", (x, *args))
    _check_unchanged(x, before, "forward")
    for name, a in extra.items():
        _check_unchanged(a, extra_before[name], "forward", name)
    if isinstance(result, (tuple, list)) and len(result) == 2:
        y, idx = result
    else:
        y, idx = result, None
    _check_not_a_view(y, {"x": x, **extra}, "forward")
    _compare(spec, "values", y, want_y, case)
    features = _features(case)
    if cand.support.indices:
        if idx is None:
            raise _Failure("indices missing", "the forward returned only the output")
        _compare(spec, "indices", np.asarray(idx).astype(np.int64, copy=False), want_i, case)
        features.add("indices")
    if cand.backward is None or case.x.dtype.name not in cand.support.backward_dtypes:
        return features
    g = _grad_output(want_y.shape, case.x.dtype)
    want_g = spec.expected_grad(g, case)
    g_before = _Snapshot(g)
    got_g = _call(cand.backward, "backward", (g, x, *args), grad_output=g)
    _check_unchanged(g, g_before, "backward", "grad_output")
    _check_not_a_view(got_g, {"x": x, "grad_output": g, **extra}, "backward")
    _compare(spec, "gradient", got_g, want_g, case, rtol=GRAD_RTOL)
    return features | {"backward"}


def _features(case: OpCase) -> set[str]:
    x = case.x
    features = {f"{case.nd}-D", x.dtype.name}
    if not case.batched:
        features.add("unbatched")
    elif x.shape[0] > 1 and x.shape[1] > 1:
        features.add("N > 1 and C > 1")
    if x.dtype.kind == "f":
        if np.isnan(x).any():
            features.add("NaN")
        if np.isneginf(x).any():
            features.add("-inf")
        if np.isposinf(x).any():
            features.add("+inf")
    if np.unique(x).size < x.size:
        features.add("ties")
    if x.dtype.kind == "f" and (np.signbit(x) & (x == 0)).any():
        features.add("signed zeros")
    return features


# ----------------------------------------------------------------------------
# The run
# ----------------------------------------------------------------------------


class _OpRun:
    def __init__(self, spec: OpSpec, cand: Candidate, strict: bool, time_budget):
        self.spec, self.cand, self.strict = spec, cand, strict
        self.start = time.perf_counter()
        self.deadline = None if time_budget is None else self.start + float(time_budget)
        self.found: dict[str, Difference] = {}
        self.unsupported: list[str] = []
        self.skip: dict[int, frozenset] = {}  # per rank: op-specific capabilities not supported
        self.features: Counter = Counter()
        self.notes: Counter = Counter()
        self.corner_count = 0
        self.example_count = 0

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.perf_counter() > self.deadline

    def record(self, case: OpCase, failure: _Failure) -> None:
        kind = failure.check
        if kind in self.found:
            return
        report = self.report(case, failure)
        self.found[kind] = Difference(kind, failure.check, failure.detail, report, case.found_by)

    def report(self, case: OpCase, failure: _Failure) -> str:
        x = case.x
        return "\n".join(
            [
                f"{self.spec.op} of {self.cand.label} is wrong [{failure.check}]: {failure.detail}",
                f"  found by: {case.found_by}",
                f"  x = {_array_text(x, limit=3000)}  # shape {x.shape}, {x.dtype}",
                *(f"  {line}" for line in self.spec.case_lines(case)),
                *(f"  {line}" for line in failure.extra.splitlines()),
                f"  reproduce: {self.spec.reproduce(case)}",
            ]
        )

    # ---- the probe ------------------------------------------------------------

    def _try(self, case: OpCase) -> _Failure | None:
        """The exception the forward raised on ``case`` (None: it ran, crashed or misbehaved)."""
        try:
            _call(self.cand.forward, "forward", (case.x.copy(), *case.args))
        except _Failure as failure:
            if getattr(failure, "crash", None) or not failure.check.endswith("raised"):
                return None  # crashes and misbehaviour are the cases' to report
            return failure
        return None

    def probe(self, ndims: Sequence[int]) -> None:
        """Capabilities the target rejects: dtypes, unbatched input, op-specific ones per rank."""
        sup = self.cand.support
        floats: list[str] = [t for t in ("float64", "float32", "float16") if t in sup.dtypes]
        if not floats:
            return
        nd0, found = ndims[0], list[Unsupported]()
        base, out = self._base(floats, nd0, found)
        if base is None:
            return  # no float dtype works: the corner cases report it
        if sup.indices and not (isinstance(out, (tuple, list)) and len(out) == 2):
            found.append(
                Unsupported("indices", {"indices": False}, "the forward returns the output only")
            )
        tried = floats[: floats.index(base) + 1]
        for dtype in (t for t in sup.dtypes if t not in tried):
            self._probe_one(found, dtype, {"dtypes": ()}, self.spec.basic_case(nd0, dtype))
        if sup.unbatched:
            case = self.spec.basic_case(nd0, base, batched=False)
            self._probe_one(found, "unbatched input", {"unbatched": False}, case)
        for nd in ndims:
            skipped = set()
            for capability, case in self.spec.probe_cases(nd, base):
                if self._probe_one(found, f"{capability} ({nd}-D)", {}, case):
                    skipped.add(capability)
            self.skip[nd] = frozenset(skipped)
        self._settle(found)

    def _base(self, floats: list[str], nd: int, found: list):
        """The first float dtype whose basic case runs, and its result; the ones before it are
        unsupported (a float32-only target is probed on float32)."""
        for dtype in floats:
            basic = self.spec.basic_case(nd, dtype)
            try:
                return dtype, _call(self.cand.forward, "forward", (basic.x.copy(), *basic.args))
            except _Failure as failure:
                if getattr(failure, "crash", None) or not failure.check.endswith("raised"):
                    return None, None  # crashes and misbehaviour are the cases' to report
                if dtype != floats[-1]:
                    text = failure.detail.splitlines()[0][:160]
                    found.append(Unsupported(dtype, {"dtypes": ()}, f"forward raised {text}"))
        found.clear()
        return None, None

    def _probe_one(self, found: list, capability: str, change: dict, case: OpCase) -> bool:
        failure = self._try(case)
        if failure is None:
            return False
        text = failure.detail.splitlines()[0][:160]
        found.append(Unsupported(capability, change, f"forward raised {text}"))
        return True

    def _settle(self, found: list[Unsupported]) -> None:
        if not found:
            return
        if self.strict:
            for item in found:
                detail = f"declared as supported, but the probe says: {item.line()}"
                report = f"{self.spec.op} of {self.cand.label} is wrong [unsupported]: {detail}"
                kind = f"unsupported: {item.capability}"
                self.found[kind] = Difference(
                    kind,
                    "unsupported",
                    detail,
                    report + "\n  found by: capability probe",
                    "capability probe",
                )
            self.skip = {}
            return
        self.cand = _restrict(self.cand, [i for i in found if i.change])
        self.unsupported.extend(describe(found))

    # ---- corner cases and search ------------------------------------------------

    def corners(self, nd: int) -> None:
        cases = self.spec.corner_cases(nd, self.cand.support, self.skip.get(nd, frozenset()))
        for i, case in enumerate(cases):
            if self.out_of_time():
                self.notes["corner cases skipped: time budget"] += len(cases) - i
                return
            self.corner_count += 1
            try:
                self.features.update(check_case(self.spec, self.cand, case))
            except _Failure as failure:
                self.record(case, failure)

    def search(self, ndims: tuple[int, ...], n_examples: int, seed) -> None:
        from hypothesis import HealthCheck, Phase, Verbosity, given, settings
        from hypothesis import seed as hseed
        from hypothesis.errors import Flaky

        last: list = []

        def test(case: OpCase) -> None:
            if self.out_of_time():
                self.notes["examples skipped: time budget"] += 1
                return
            if not last:
                self.example_count += 1  # shrink steps are not examples
            try:
                features = check_case(self.spec, self.cand, case)
            except _Failure as failure:
                if (last and failure.check != last[1].check) or (
                    not last and failure.check in self.found
                ):
                    return  # another kind, or one already found: not this search's difference
                last[:] = [case, failure]
                if getattr(failure, "crash", None):
                    raise _Crashed from None  # not shrunk: every try would restart the worker
                raise
            if not last:
                self.features.update(features)

        run = settings(
            max_examples=n_examples,
            database=None,
            deadline=None,
            derandomize=seed is None,
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
            print_blob=False,
            verbosity=Verbosity.quiet,
            phases=(Phase.explicit, Phase.generate, Phase.shrink),
        )(given(self.spec.strategy(ndims, self.cand.support, self.skip))(test))
        if seed is not None:
            run = hseed(seed)(run)
        with contextlib.suppress(_Failure, _Crashed, Flaky):
            run()
        if last:
            case, failure = last
            how = "not shrunk (the target crashed)" if getattr(failure, "crash", None) else "shrunk"
            found_by = f"Hypothesis search, {how}, " + (
                f"seed={seed}" if seed is not None else "derandomized"
            )
            self.record(dataclasses.replace(case, found_by=found_by), failure)

    def summary(self, ndims: tuple[int, ...], seed) -> Summary:
        return Summary(
            name=self.cand.label,
            ndims=ndims,
            corner_cases=self.corner_count,
            examples=self.example_count,
            features=dict(sorted(self.features.items())),
            notes=dict(self.notes),
            seconds=time.perf_counter() - self.start,
            seed=seed,
            differences=list(self.found.values()),
            unsupported=list(self.unsupported),
        )


def _as_candidate(func: str, forward, backward, support, name) -> tuple[Candidate, bool]:
    if isinstance(forward, Candidate):
        changes = {"backward": backward, "support": support, "name": name}
        cand = dataclasses.replace(forward, **{k: v for k, v in changes.items() if v is not None})
        return cand, cand.support != Support()
    for role, fn in (("forward", forward), ("backward", backward)):
        if fn is not None and not callable(fn):
            msg = f"{func}: {role} must be callable, got {type(fn).__name__}"
            raise TypeError(msg)
    return Candidate(forward, backward, support or Support(), name=name), support is not None


def run_op(
    spec: OpSpec,
    forward: Callable[..., Any] | Candidate,
    backward: Callable[..., Any] | None,
    *,
    support: Support | None,
    name: str | None,
    ndims: Sequence[int] | None,
    max_examples: int,
    corners: bool = True,
    seed: int | None,
    strict: bool | None,
    time_budget: float | None,
    isolate: bool,
    timeout: float | None,
) -> Summary:
    """The whole run of ``spec``'s check; see :func:`check_adaptive_max_pool` for the arguments."""
    cand, declared = _as_candidate(spec.func, forward, backward, support, name)
    ranks = (
        tuple(ndims)
        if ndims is not None
        else tuple(n for n in cand.support.ndims if n in spec.ranks)
    )
    if not ranks or any(n not in spec.ranks for n in ranks):
        msg = f"{spec.func}: ndims must be a non-empty subset of {spec.ranks}, got ndims={ndims!r}"
        raise ValueError(msg)
    if isinstance(max_examples, bool) or not isinstance(max_examples, int) or max_examples < 0:
        msg = f"{spec.func}: max_examples must be an int >= 0, got max_examples={max_examples!r}"
        raise ValueError(msg)
    if time_budget is not None and not time_budget > 0:
        msg = f"{spec.func}: time_budget must be > 0 seconds, got time_budget={time_budget!r}"
        raise ValueError(msg)
    strict = declared if strict is None else bool(strict)
    if isolate or timeout is not None:
        if not isolate:
            msg = f"{spec.func}: timeout={timeout!r} needs isolate=True (a call in this process cannot be stopped)"
            raise ValueError(msg)
        with isolated(cand, timeout=DEFAULT_TIMEOUT if timeout is None else timeout) as proxy:
            return run_op(
                spec, proxy, None, support=None, name=None, ndims=ranks,
                max_examples=max_examples, corners=corners, seed=seed, strict=strict,
                time_budget=time_budget, isolate=False, timeout=None,
            )  # fmt: skip
    seed = _seed(seed)
    run = _OpRun(spec, cand, strict, time_budget)
    run.probe(ranks)
    for nd in ranks if corners else ():
        run.corners(nd)
    if max_examples:
        run.search(ranks, max_examples, seed)
    return run.summary(ranks, seed)

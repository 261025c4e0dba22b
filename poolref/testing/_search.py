"""The Hypothesis search over random cases, and the shrinker for failing corner cases."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..arrays import PoolCase, with_layout
from ._check import _check_case
from ._corners import _valid_call
from ._declare import SMALL_PLANES, Behaviour, Candidate, Support
from ._report import _Failure, _layout_of, _report

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy


def _shrink(cand: Candidate, case, failure: _Failure, budget: int = 60, *, same=None):
    """Greedily make a failing corner case smaller while the same kind of failure shows.

    ``same(case, failure)`` decides whether a smaller case's failure is the same kind
    (default: the same check). A crash or a timeout is not shrunk: every try would restart
    (or wait for) the target.
    """
    if getattr(failure, "crash", None):
        return case, failure
    best, best_failure = case, failure
    same = same or (lambda trial, f: f.check == failure.check)
    tries = 0

    def attempt(x):
        nonlocal tries
        tries += 1
        trial = PoolCase(x, *best[1:])
        if not _valid_call(x, *best[1:]) or not cand.support.allows(x, *best[1:]):
            return None
        try:
            _check_case(cand, trial)
        except _Failure as f:
            if same(trial, f):
                return trial, f
        except Exception:  # noqa: BLE001
            return None
        return None

    improved = True
    while improved and tries < budget:
        improved = False
        x = best.x
        nd = best.nd
        lead = x.ndim - nd
        options = []
        for axis in range(lead):  # a single sample, then a single channel
            if x.shape[axis] > 1:
                for i in range(x.shape[axis]):
                    sl = [slice(None)] * x.ndim
                    sl[axis] = slice(i, i + 1)
                    options.append(x[tuple(sl)])
        for axis in range(lead, x.ndim):
            n = x.shape[axis]
            for new in sorted({1, n // 2, n - 1} - {0, n}):
                for start in (0, n - new):
                    sl = [slice(None)] * x.ndim
                    sl[axis] = slice(start, start + new)
                    options.append(x[tuple(sl)])
        layout = _layout_of(x, lead == 2)
        for option in options:
            if tries >= budget:
                break
            # keep the case's memory layout (a slice of it would have other strides)
            option = np.ascontiguousarray(option)
            if layout not in (None, "C"):
                option = with_layout(option, layout, channel_axis=lead - 1)
            got = attempt(option)
            if got is not None:
                best, best_failure = got
                improved = True
                break
    return best, best_failure


# ============================================================================
# Hypothesis search
# ============================================================================


def _require_hypothesis():
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        msg = (
            "poolref.testing needs Hypothesis, which is not installed: "
            "pip install 'poolref[strategies]' (or pip install hypothesis)"
        )
        raise ImportError(msg) from None


def _case_strategy(nd: int, support: Support, behaviour: Behaviour) -> SearchStrategy[PoolCase]:
    """Cases inside the declared support, drawn constructively by :func:`poolref.strategies.pool_cases`.

    Only a user's ``Support.accepts`` predicate filters what was drawn.
    """
    from .. import strategies as ps

    profiles = tuple(
        p for p in ps.PROFILES if not (behaviour.nan == "untested" and p in ("nan", "general"))
    )
    strat = ps.pool_cases(
        ndims=(nd,),
        dtypes=support.dtypes,
        profiles=profiles,
        layouts=ps.LAYOUTS if support.non_contiguous else ("C",),
        batched=None if support.unbatched else True,
        padding=support.padding,
        dilation=support.dilation,
        ceil_mode=None if support.ceil_mode else False,
        max_side=7,
        max_batch=support.max_batch or SMALL_PLANES,
        max_channels=support.max_channels or SMALL_PLANES,
        max_elements={1: 96, 2: 256, 3: 384}[nd],
        square=support.square,
        same_stride=support.same_stride,
        exact_fit=support.exact_fit,
        domain=support.values,
    )
    if support.accepts is None:
        return strat
    return strat.filter(lambda case: support.allows(case.x, *case[1:]))


# ============================================================================
# Summary and the entry point
# ============================================================================


class _Crashed(BaseException):
    """Ends a Hypothesis search at once when the target crashed (state["last"] holds the case)."""


@dataclass
class SearchResult:
    """One Hypothesis search: the examples run and the (shrunk) failure it found, if any."""

    examples: int
    case: object = None
    failure: _Failure | None = None
    found_by: str = ""


@dataclass
class _SearchRun:
    """One search's inputs and running state: examples run, failures seen, the last failing case."""

    cand: Candidate
    nd: int
    n_examples: int
    features: Counter
    notes: Counter
    say: Callable[[str], None]
    known: Callable[[PoolCase, _Failure], bool]
    deadline: float | None
    calls: int = 0
    failures: int = 0
    last: tuple[PoolCase, _Failure] | None = None

    def example(self, case: PoolCase) -> None:
        """Check one drawn case (every example, and every step of the shrink).

        A failure not ``known`` is recorded and re-raised for Hypothesis to shrink; a crash
        raises :class:`_Crashed` instead, which stops Hypothesis at once.
        """
        if self.deadline is not None and time.perf_counter() > self.deadline and not self.failures:
            return
        self.calls += 1
        try:
            got = _check_case(self.cand, case, self.notes if self.failures == 0 else None)
        except _Failure as failure:
            if self.known(case, failure):
                return
            self.failures += 1
            self.last = (case, failure)
            if getattr(failure, "crash", None):
                raise _Crashed from None  # not an Exception: Hypothesis stops without shrinking
            raise
        if self.failures == 0:
            self.features.update(got)
            if self.calls % 25 == 0:
                self.say(f"{self.nd}-D search: {self.calls}/{self.n_examples} examples")

    @property
    def examples(self) -> int:
        """The examples run (shrink steps are calls too, so at most ``n_examples``)."""
        return min(self.calls, self.n_examples)


def _hypothesis_test(
    run: _SearchRun,
    strategy: SearchStrategy[PoolCase],
    seed: int | None,
    derandomize: bool,
    database=None,
    key: str = "",
) -> Callable[[], None]:
    """``run.example`` as a Hypothesis test over ``strategy``: quiet, no deadline.

    With a ``database``, Hypothesis replays its stored examples of ``key`` first and saves
    what it finds there (``key`` joins the test's digest, so each target and rank has its own).
    """
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hseed

    def test(case: PoolCase) -> None:
        run.example(case)

    phases: tuple[Phase, ...] = (Phase.explicit, Phase.generate, Phase.shrink)
    if database is not None:
        test._hypothesis_internal_add_digest = f"poolref:{key}".encode()  # type: ignore[attr-defined]
        phases = (Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink)
    test = settings(
        max_examples=run.n_examples,
        deadline=None,
        database=database,
        derandomize=derandomize,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
        verbosity=Verbosity.quiet,
        phases=phases,
    )(given(strategy)(test))
    return hseed(seed)(test) if seed is not None else test


def _not_deterministic(run: _SearchRun, where: str, exc: Exception) -> AssertionError:
    """The error for a failure Hypothesis could not reproduce, with the last report if any."""
    text = (
        f"the candidate {run.cand.label} is not deterministic: the same input passed once and "
        f"failed once ({type(exc).__name__})"
    )
    if run.last is not None:
        case, failure = run.last
        how = f"Hypothesis search ({run.nd}-D), not reproducible, {where}"
        text += "\n" + _report(run.cand, case, failure, how)
    return AssertionError(text)


def _search(
    cand: Candidate,
    nd: int,
    n_examples: int,
    seed: int | None,
    features: Counter,
    notes: Counter,
    say: Callable[[str], None],
    *,
    known: Callable[[PoolCase, _Failure], bool] = lambda case, failure: False,
    deadline: float | None = None,
    database=None,
    key: str = "",
) -> SearchResult:
    """Search ``n_examples`` random cases; stop at (and shrink) the first failure not ``known``.

    ``known(case, failure)`` says whether a failure is of a kind already reported: such cases
    count as passing, so the search goes on to the next kind. Past ``deadline``
    (``time.perf_counter()``) the remaining examples are skipped. A crash ends the search at
    once, unshrunk.
    """
    from hypothesis.errors import Flaky, Unsatisfiable

    strategy = _case_strategy(nd, cand.support, cand.behaviour)
    run = _SearchRun(cand, nd, n_examples, features, notes, say, known, deadline)
    derandomize = seed is None and bool(os.environ.get("CI"))
    where = f"seed={seed}" if seed is not None else "derandomized" if derandomize else "random"
    try:
        _hypothesis_test(run, strategy, seed, derandomize, database, key)()
    except (_Failure, _Crashed) as stop:
        assert run.last is not None  # set before anything is raised
        case, failure = run.last  # the final (shrunk) replay raised `failure` for this case
        how = "not shrunk (the target crashed)" if isinstance(stop, _Crashed) else "shrunk"
        found = f"Hypothesis search ({nd}-D), {how} after {run.calls} calls, {where}"
        say(f"{nd}-D search: difference found ({failure.check})")
        return SearchResult(run.examples, case, failure, found)
    except Unsatisfiable:
        msg = (
            f"check_max_pool: no {nd}-D case satisfies the declared support of {cand.label} "
            f"({cand.support}); relax it"
        )
        raise ValueError(msg) from None
    except Flaky as exc:
        raise _not_deterministic(run, where, exc) from None
    say(f"{nd}-D search: {run.examples} examples passed")
    return SearchResult(run.examples)

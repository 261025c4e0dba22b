"""The Hypothesis search over random cases, and the shrinker for failing corner cases."""

from __future__ import annotations

import math
import os
from collections import Counter

import numpy as np

from ..arrays import PoolCase, with_layout
from ._check import _check_case
from ._corners import _valid_call
from ._declare import Behaviour, Candidate, Support
from ._report import _Failure, _layout_of, _report


def _shrink(cand: Candidate, case, failure: _Failure, budget: int = 60):
    """Greedily make a failing corner case smaller while the same check still fails."""

    best, best_failure = case, failure
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
            if f.check == best_failure.check:
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


def _case_strategy(nd: int, support: Support, behaviour: Behaviour):
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    from .. import strategies as ps

    profiles = tuple(
        p for p in ps.PROFILES if not (behaviour.nan == "untested" and p in ("nan", "general"))
    )
    layouts = ps.LAYOUTS if support.non_contiguous else ("C",)
    batched = None if support.unbatched else True
    ceil = None if support.ceil_mode else False
    max_side = 7
    if not (support.square or support.exact_fit):
        strat = ps.pool_cases(
            ndims=(nd,),
            dtypes=support.dtypes,
            profiles=profiles,
            layouts=layouts,
            batched=batched,
            padding=support.padding,
            dilation=support.dilation,
            ceil_mode=ceil,
            max_side=max_side,
            max_batch=support.max_batch,
            max_channels=support.max_channels,
            max_elements={1: 96, 2: 256, 3: 384}[nd],
        )
    else:

        @st.composite
        def constrained(draw):
            dtype = np.dtype(draw(st.sampled_from(support.dtypes)))
            profile = draw(st.sampled_from([p for p in profiles if p in ps.profiles_for(dtype)]))
            layout = draw(st.sampled_from(layouts))
            is_batched = draw(st.sampled_from((True, False) if batched is None else (True,)))
            ks, ss, ps_, ds, sizes = [], [], [], [], []
            for i in range(nd):
                if support.square and i > 0:
                    k, s = ks[0], ss[0]
                else:
                    k = draw(st.integers(1, 3))
                    s = draw(st.integers(1, 3))
                p = draw(st.integers(0, k // 2)) if support.padding else 0
                d = draw(st.integers(1, 2)) if support.dilation and k > 1 else 1
                eff = d * (k - 1) + 1
                o_min = 1
                while (o_min - 1) * s + eff - 2 * p < 1:
                    o_min += 1
                o_max = max(o_min, (max_side - eff + 2 * p) // s + 1)
                o = draw(st.integers(o_min, o_max))
                ks.append(k)
                ss.append(s)
                ps_.append(p)
                ds.append(d)
                sizes.append((o - 1) * s + eff - 2 * p)
            ceil_mode = draw(st.booleans()) if ceil is None else False
            c = draw(st.integers(1, support.max_channels))
            lead = (draw(st.integers(1, support.max_batch)), c) if is_batched else (c,)
            shape = (*lead, *sizes)
            if profile == "distinct":
                size = math.prod(shape)
                grid = ps.distinct_grid(dtype, size)
                x = draw(st.permutations(range(size)).map(lambda perm: grid[np.asarray(perm, dtype=np.intp)].reshape(shape)))
            else:
                x = draw(hnp.arrays(dtype, shape, elements=ps.values(dtype, profile=profile), fill=st.nothing()))
            x = ps.with_layout(x, layout, channel_axis=len(lead) - 1)
            return ps.PoolCase(x, tuple(ks), tuple(ss), tuple(ps_), tuple(ds), ceil_mode)

        strat = constrained()
    return strat.filter(lambda case: support.allows(case.x, *case[1:]))


# ============================================================================
# Summary and the entry point
# ============================================================================


def _search(cand: Candidate, nd: int, n_examples: int, seed, features: Counter, notes: Counter, say) -> int:
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hseed
    from hypothesis.errors import Flaky, Unsatisfiable

    strategy = _case_strategy(nd, cand.support, cand.behaviour)
    state = {"calls": 0, "failures": 0, "last": None}
    derandomize = seed is None and bool(os.environ.get("CI"))

    @settings(
        max_examples=n_examples,
        deadline=None,
        database=None,
        derandomize=derandomize,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
        verbosity=Verbosity.quiet,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
    )
    @given(strategy)
    def run(case):
        state["calls"] += 1
        try:
            got = _check_case(cand, case, notes if state["failures"] == 0 else None)
        except _Failure as failure:
            state["failures"] += 1
            state["last"] = (case, failure)
            raise
        if state["failures"] == 0:
            features.update(got)
            if state["calls"] % 25 == 0:
                say(f"{nd}-D search: {state['calls']}/{n_examples} examples")

    if seed is not None:
        run = hseed(seed)(run)
    try:
        run()
    except _Failure as failure:
        case = state["last"][0]  # the final (shrunk) replay raised `failure` for this case
        examples = state["calls"]
        found = f"Hypothesis search ({nd}-D), shrunk after {examples} calls"
        if seed is not None:
            found += f", seed={seed}"
        say(f"{nd}-D search: counterexample found")
        raise AssertionError(_report(cand, case, failure, found)) from None
    except Unsatisfiable:
        msg = (
            f"check_max_pool: no {nd}-D case satisfies the declared support of {cand.label} "
            f"({cand.support}); relax it"
        )
        raise ValueError(msg) from None
    except Flaky as exc:
        detail = state["last"]
        text = f"the candidate {cand.label} is not deterministic: the same input passed once and failed once ({type(exc).__name__})"
        if detail is not None:
            case, failure = detail
            text += "\n" + _report(cand, case, failure, f"Hypothesis search ({nd}-D), not reproducible")
        raise AssertionError(text) from None
    say(f"{nd}-D search: {min(state['calls'], n_examples)} examples passed")
    return min(state["calls"], n_examples)

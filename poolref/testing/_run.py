"""The entry point: :func:`check_max_pool` runs the corner cases, then the search, and reports."""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Sequence

from ._check import _check_case
from ._corners import corner_cases
from ._declare import BUDGETS, FLOAT_DTYPES, Behaviour, Candidate, Support
from ._report import HARD_CORNERS, Summary, _Failure, _report
from ._search import _require_hypothesis, _search, _shrink

_PYTORCH = Behaviour()


def check_max_pool(
    forward,
    *,
    backward: Callable | None = None,
    ndim: int | Sequence[int] | None = 2,
    support: Support | None = None,
    behaviour: Behaviour | None = None,
    budget: str = "quick",
    max_examples: int | None = None,
    seed: int | None = None,
    corners: bool = True,
    name: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Summary:
    """Check a max-pooling implementation against poolref; raise ``AssertionError`` if it is wrong.

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
        What the candidate implements (default: everything poolref does).
    behaviour : Behaviour, optional
        Implementation-defined rules it follows (default: PyTorch's).
    budget : {"quick", "thorough"}
        Hypothesis examples per rank (:data:`BUDGETS`, times the candidate's
        ``budget_scale``); the corner cases always run.
    max_examples : int, optional
        Overrides the budget's number of Hypothesis examples per rank (0: corner cases only).
    seed : int, optional
        Seed for the Hypothesis search. Without it the search is random,
        except when the environment variable ``CI`` is set: then it is
        derandomized (the same examples every run).
    corners : bool
        Run the fixed corner cases first (default True).
    name : str, optional
        Label used in messages.
    progress : callable, optional
        Called with one-line progress messages.

    Returns
    -------
    Summary
        Examples run and features covered (``print`` it for a short report).

    Raises
    ------
    AssertionError
        With the smallest failing case found: the check that failed, shapes,
        dtype, layout, parameters, the input, expected and actual values at the
        first difference (with that output's window), and a snippet that
        reproduces it.
    ValueError, TypeError
        Bad arguments (e.g. an ``ndim`` outside ``support.ndims``).
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
    _require_hypothesis()
    if isinstance(forward, Candidate):
        cand = forward
        changes = {}
        if backward is not None:
            changes["backward"] = backward
        if support is not None:
            changes["support"] = support
        if behaviour is not None:
            changes["behaviour"] = behaviour
        if name is not None:
            changes["name"] = name
        if changes:
            cand = dataclasses.replace(cand, **changes)
    else:
        if not callable(forward):
            msg = f"check_max_pool: forward must be callable or a Candidate, got {type(forward).__name__}"
            raise TypeError(msg)
        cand = Candidate(forward, backward, support or Support(), behaviour or Behaviour(), name)
    if cand.backward is not None and not callable(cand.backward):
        msg = f"check_max_pool: backward must be callable, got {type(cand.backward).__name__}"
        raise TypeError(msg)
    if ndim is None:
        ndims = cand.support.ndims
    else:
        ndims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        bad = [n for n in ndims if n not in cand.support.ndims]
        if bad or not ndims:
            msg = f"check_max_pool: ndim={ndim!r} is not within the candidate's support ndims={cand.support.ndims}"
            raise ValueError(msg)
    if budget not in BUDGETS:
        msg = f"check_max_pool: budget must be one of {tuple(BUDGETS)}, got budget={budget!r}"
        raise ValueError(msg)
    if max_examples is None:
        n_examples = max(1, round(BUDGETS[budget] * cand.budget_scale))
    else:
        n_examples = int(max_examples)
    if n_examples < 0:
        msg = f"check_max_pool: max_examples must be >= 0, got max_examples={max_examples!r}"
        raise ValueError(msg)
    say = progress or (lambda message: None)
    start = time.perf_counter()
    features: Counter = Counter()
    notes: Counter = Counter()
    summary = Summary(name=cand.label, ndims=ndims, seed=seed)
    for nd in ndims:
        if corners:
            cases = corner_cases(nd, cand.support, cand.behaviour)
            for i, (corner_name, case) in enumerate(cases, 1):
                try:
                    features.update(_check_case(cand, case, notes))
                except _Failure as failure:
                    small, small_failure = _shrink(cand, case, failure)
                    found = f"corner case {corner_name!r} ({i} of {len(cases)}, {nd}-D)"
                    if small is not case:
                        found += ", then made smaller"
                    say(f"{nd}-D corner cases: counterexample in {corner_name!r}")
                    raise AssertionError(_report(cand, small, small_failure, found)) from None
                summary.corner_cases += 1
            say(f"{nd}-D corner cases: {len(cases)} passed")
        if n_examples:
            summary.examples += _search(cand, nd, n_examples, seed, features, notes, say)
    summary.features = dict(sorted(features.items(), key=lambda kv: (kv[0] not in HARD_CORNERS, kv[0])))
    applicable = _applicable_corners(cand, ndims)
    summary.not_covered = tuple(f for f in applicable if f not in features)
    summary.notes = dict(notes)
    summary.seconds = time.perf_counter() - start
    return summary


def _applicable_corners(cand: Candidate, ndims) -> tuple:
    sup, beh = cand.support, cand.behaviour
    skip = set()
    floats = [d for d in sup.dtypes if d in FLOAT_DTYPES]
    if not sup.unbatched:
        skip.add("unbatched")
    if sup.max_batch < 2 or sup.max_channels < 2:
        skip.add("N > 1 and C > 1")
    if not floats:
        skip |= {"NaN", "+inf", "-inf", "all -inf window", "signed zeros"}
    if beh.nan == "untested":
        skip.add("NaN")
    if not sup.padding:
        skip |= {"padding", "ceil_mode with padding", "negative values next to padding", "empty window"}
    if not sup.dilation:
        skip |= {"dilation", "empty window"}
    if not sup.ceil_mode:
        skip |= {"ceil_mode", "ceil_mode with padding"}
    if max(ndims) < 2 or sup.square:
        skip.add("non-square window")
    if not sup.non_contiguous:
        skip.add("non-contiguous")
    if "float16" not in sup.dtypes:
        skip.add("float16 plane > 2048")
    if "int8" not in sup.dtypes and "uint8" not in sup.dtypes:
        skip.add("8-bit plane > 256")
    if not sup.indices:
        skip.add("indices")
    if cand.backward is None or not sup.backward_dtypes:
        skip.add("backward")
    return tuple(f for f in HARD_CORNERS if f not in skip)

"""``check_adaptive_max_pool``: check anyone's adaptive max pooling against poolref.

A candidate is a forward ``f(x, output_size) -> y`` or ``(y, indices)`` (``output_size`` a
tuple of ints, one per spatial dimension; ``x`` of shape ``(N, C, *spatial)``, or
``(C, *spatial)`` where ``Support.unbatched``) and optionally a backward
``b(grad_output, x, output_size) -> grad_input``. Expected results come from
:func:`poolref.adaptive_max_pool1d` and friends (PyTorch's rules: window ``o`` spans
``floor(o*n/out) .. ceil((o+1)*n/out) - 1``, first maximum, last NaN, flat row-major indices).

The run (:mod:`._ops`) is the fixed-window harness's: the declarations, the capability probe,
the guarded call, worker isolation, the time budget and the :class:`~poolref.testing.Summary`.
The corner cases are Out < In not dividing, Out = In, Out > In, one element, ties, NaN, -inf,
signed zeros, every rank, smallest first; then a Hypothesis search over
:func:`poolref.strategies.adaptive_cases`, shrunk by Hypothesis.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .. import adaptive as _adaptive
from ._declare import Candidate, Support
from ._ops import OpCase, OpSpec, run_op, sorted_dtypes
from ._summary import Summary

__all__ = ["check_adaptive_max_pool"]


def _windows(n: int, out: int, o: int) -> str:
    start, end = (o * n) // out, -(-(o + 1) * n // out)
    return f"{start}..{end - 1}"


#: (spatial shape, output size): the boundary cases, smallest first.
_CORNER_SHAPES = (
    ((1,), (3,)),
    ((3,), (5,)),
    ((4,), (4,)),
    ((5,), (3,)),
    ((6,), (4,)),
    ((7,), (3,)),
    ((10,), (4,)),
    ((3, 2), (5, 4)),
    ((5, 7), (3, 2)),
    ((6, 6), (4, 3)),
    ((4, 5, 3), (3, 2, 2)),
    ((2, 3, 2), (3, 5, 4)),
)


def _values(profile: str, dtype: np.dtype, size: int, rng) -> np.ndarray:
    if profile == "distinct":
        values = rng.permutation(size)
    else:
        values = rng.integers(0, 3, size)
    x = values.astype(dtype)
    if profile == "nan":
        x[rng.random(size) < 0.3] = np.nan
    if profile == "-inf":
        x[rng.random(size) < 0.5] = -np.inf
    if profile == "signed zeros":  # -0.0 and +0.0 tied maxima: the output is the selected one
        x = np.where(rng.random(size) < 0.5, -0.0, 0.0).astype(dtype)
        x[rng.random(size) < 0.2] = -1
    return x


def _profiles(dtype: np.dtype) -> tuple[str, ...]:
    if dtype.kind == "f":
        return ("distinct", "ties", "nan", "-inf", "signed zeros")
    return ("distinct", "ties")


class _Adaptive(OpSpec):
    func = "check_adaptive_max_pool"
    op = "adaptive max pooling"
    ranks = (1, 2, 3)

    def expected(self, case):
        fwd = getattr(_adaptive, f"adaptive_max_pool{case.nd}d")
        return fwd(case.x, case.args[0], return_indices=True)

    def expected_grad(self, g, case):
        bwd = getattr(_adaptive, f"adaptive_max_pool{case.nd}d_backward")
        return bwd(g, case.x, case.args[0])

    def basic_case(self, nd, dtype, batched=True):
        lead = (1, 2) if batched else (2,)
        x = _values("distinct", np.dtype(dtype), 2 * 4**nd, np.random.default_rng(7))
        return OpCase(x.reshape(*lead, *(4,) * nd), ((3,) * nd,), "capability probe", nd)

    def corner_cases(self, nd, sup, skip):
        cases: list[OpCase] = []
        for spatial, out in (s for s in _CORNER_SHAPES if len(s[0]) == nd):
            for dtype in sorted_dtypes(sup.dtypes):
                for profile in _profiles(dtype):
                    rng = np.random.default_rng(len(cases))
                    x = _values(profile, dtype, 2 * int(np.prod(spatial)), rng)
                    what = f"corner case {profile} {spatial} -> {out}"
                    cases.append(OpCase(x.reshape(1, 2, *spatial), (out,), what, nd))
        if sup.unbatched:
            x = cases[-1].x[0].copy()
            cases.append(OpCase(x, cases[-1].args, "corner case unbatched", nd))
        return cases

    def strategy(self, ndims, sup, skip):
        from ..strategies import adaptive_cases

        def case(c) -> OpCase:
            x = c.x if c.x.ndim == c.nd + 2 or sup.unbatched else c.x[None]
            return OpCase(x, (tuple(int(v) for v in c.output_size),), "Hypothesis search", c.nd)

        return adaptive_cases(ndims=ndims, dtypes=sup.dtypes, allow_none=False).map(case)

    def where_text(self, case, where):
        spatial, out = case.x.shape[-case.nd :], case.args[0]
        spans = [_windows(n, o, i) for n, o, i in zip(spatial, out, where[-case.nd :])]
        return f"window of that output: input positions {' x '.join(spans)}"

    def case_lines(self, case):
        return [f"output_size = {case.args[0]!r}"]

    def reproduce(self, case):
        return f"poolref.adaptive_max_pool{case.nd}d(x, {case.args[0]!r}, return_indices=True)"


SPEC = _Adaptive()


def check_adaptive_max_pool(
    forward: Callable | Candidate,
    backward: Callable | None = None,
    *,
    name: str | None = None,
    ndims: Sequence[int] | None = None,
    dtypes: Sequence | None = None,
    support: Support | None = None,
    max_examples: int = 100,
    corners: bool = True,
    seed: int | None = None,
    strict: bool | None = None,
    time_budget: float | None = None,
    isolate: bool = False,
    timeout: float | None = None,
    raise_on_failure: bool = True,
) -> Summary:
    """Check an adaptive max pooling forward (and backward) against poolref's.

    Parameters
    ----------
    forward : callable or Candidate
        ``forward(x, output_size)`` returning the output or ``(output, indices)``; ``x`` has shape
        ``(N, C, *spatial)`` (or ``(C, *spatial)`` where the support says ``unbatched``) and
        ``output_size`` is a tuple of ints. A :class:`Candidate` brings its backward and support.
    backward : callable, optional
        ``backward(grad_output, x, output_size)`` returning the gradient with respect to ``x``.
    name : str, optional
        The candidate's label in reports (default: the forward's qualified name).
    ndims : sequence of int, optional
        Spatial ranks to check (default: every rank of the support, of 1, 2, 3).
    dtypes : sequence of dtype, optional
        Shorthand for ``support=Support(dtypes=dtypes)`` (a declaration).
    support : Support, optional
        What the candidate implements; the fields that apply are ``ndims``, ``dtypes``,
        ``backward_dtypes``, ``indices`` and ``unbatched``. Without it every capability is
        probed on one tiny case first, and one the target rejects with an exception is
        reported as not supported (``Summary.unsupported``) and not checked.
    max_examples : int, optional
        Hypothesis examples after the corner cases, over every rank (0: corner cases only).
    corners : bool, optional
        Run the fixed corner cases first (default True).
    seed : int, optional
        Seed of the search; without it the search is random, except under the environment
        variable ``CI``, where it is derandomized.
    strict : bool, optional
        A capability the target rejects is a failure, not "not supported" (default: strict
        when the support is declared).
    time_budget : float, optional
        Seconds after which no new case starts.
    isolate : bool, optional
        Run the candidate in a worker process: an exit, a crash or a call longer than
        ``timeout`` fails its case instead of ending or hanging the run.
    timeout : float, optional
        Seconds one call may take with ``isolate=True`` (default 60).
    raise_on_failure : bool, optional
        Raise ``AssertionError`` with the reports when a difference is found.

    Returns
    -------
    Summary
        What ran, what is not supported, and every distinct difference (one per failing check).

    Raises
    ------
    AssertionError
        With ``raise_on_failure=True``, when a difference is found.
    """
    return _finish(
        run_op(
            SPEC,
            forward,
            backward,
            support=_support(support, dtypes),
            name=name,
            ndims=ndims,
            max_examples=max_examples,
            corners=corners,
            seed=seed,
            strict=strict,
            time_budget=time_budget,
            isolate=isolate,
            timeout=timeout,
        ),  # fmt: skip
        raise_on_failure,
    )


def _support(support: Support | None, dtypes) -> Support | None:
    if dtypes is None:
        return support
    names = tuple(np.dtype(t).name for t in dtypes)
    base = support or Support()
    backward = tuple(t for t in base.backward_dtypes if t in names)
    return Support(
        ndims=base.ndims, dtypes=names, backward_dtypes=backward, indices=base.indices,
        unbatched=base.unbatched,
    )  # fmt: skip


def _finish(summary: Summary, raise_on_failure: bool) -> Summary:
    if raise_on_failure and summary.failed:
        error = AssertionError("\n\n".join(d.report for d in summary.failed))
        error.summary = summary  # type: ignore[attr-defined]
        raise error
    return summary

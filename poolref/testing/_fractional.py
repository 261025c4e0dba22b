"""``check_fractional_max_pool``: check anyone's fractional max pooling (given samples) against poolref.

A candidate is a forward ``f(x, kernel_size, output_size, random_samples) -> y`` or
``(y, indices)`` and optionally a backward
``b(grad_output, x, kernel_size, output_size, random_samples) -> grad_input``. ``kernel_size``
and ``output_size`` are tuples of ints (one per spatial dimension); ``random_samples`` is an
array of shape ``(N, C, nd)`` (``(1, C, nd)`` for unbatched ``x``) in ``[0, 1)``, of ``x``'s
dtype when ``x`` is floating (PyTorch requires that) and float64 for integer ``x``, in
PyTorch's order (2-D: sample 0 for the width, sample 1 for the height; 3-D: T, H, W). Expected
results come from :func:`poolref.fractional_max_pool2d` / ``3d`` with those samples.

The run is :mod:`._ops`'s (declarations, probe, isolation, time budget, Summary). Besides
dtypes and unbatched input, the probe tries ``output_size + kernel_size - 1 == input size``
in each rank (PyTorch's 3-D form rejects it): a target that rejects it gets no such case.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .. import fractional as _fractional
from .._fractional_naive import interval_starts
from .._fractional_strategies import samples_dtype
from ._adaptive import _finish, _support
from ._declare import Candidate, Support
from ._ops import OpCase, OpSpec, run_op, sorted_dtypes
from ._report import _array_text
from ._summary import Summary

__all__ = ["check_fractional_max_pool"]

FULL_SPAN = "output_size + kernel_size - 1 == input size"

#: (spatial shape, kernel size, output size), smallest first: kernel 1, output 1, full span
#: (out + k - 1 == n), overlapping and disjoint windows, non-square kernels.
_CORNER_SHAPES = (
    ((3, 3), (1, 1), (2, 3)),
    ((4, 4), (2, 2), (1, 1)),
    ((4, 5), (2, 3), (3, 3)),
    ((5, 5), (2, 2), (3, 3)),
    ((6, 7), (3, 2), (2, 4)),
    ((7, 6), (2, 1), (5, 3)),
    ((2, 3, 3), (1, 1, 2), (2, 2, 1)),
    ((3, 4, 4), (1, 2, 2), (2, 2, 3)),
    ((4, 4, 5), (2, 2, 2), (3, 3, 4)),
    ((5, 4, 6), (2, 3, 2), (3, 1, 4)),
)


def _plane_samples(dtype: np.dtype, planes: tuple[int, int], nd: int, rng) -> np.ndarray:
    """Samples 0, the largest float below 1, 1/2 and a random one, rotated over planes and dims."""
    special = np.array(
        [0.0, np.nextafter(dtype.type(1), dtype.type(0)), 0.5, rng.random()], dtype=dtype
    )
    u = np.empty((*planes, nd), dtype=dtype)
    for p in range(planes[0] * planes[1]):
        for d in range(nd):
            u.reshape(-1, nd)[p, d] = special[(p + d) % 4]
    return u


def _full_span(spatial, kernel, out) -> bool:
    return any(o + k - 1 == n for n, k, o in zip(spatial, kernel, out))


class _Fractional(OpSpec):
    func = "check_fractional_max_pool"
    op = "fractional max pooling"
    ranks = (2, 3)
    array_args = {2: "random_samples"}

    def expected(self, case):
        kernel, out, u = case.args
        fwd = getattr(_fractional, f"fractional_max_pool{case.nd}d")
        return fwd(case.x, kernel, output_size=out, return_indices=True, random_samples=u)

    def expected_grad(self, g, case):
        kernel, out, u = case.args
        bwd = getattr(_fractional, f"fractional_max_pool{case.nd}d_backward")
        return bwd(g, case.x, kernel, output_size=out, random_samples=u)

    def _case(self, x, kernel, out, found_by, nd) -> OpCase:
        planes = x.shape[:2] if x.ndim == nd + 2 else (1, x.shape[0])
        rng = np.random.default_rng(x.size)
        u = _plane_samples(samples_dtype(x.dtype), planes, nd, rng)
        return OpCase(x, (kernel, out, u), found_by, nd)

    def basic_case(self, nd, dtype, batched=True):
        from ._adaptive import _values

        x = _values("distinct", np.dtype(dtype), 2 * 5**nd, np.random.default_rng(7))
        x = x.reshape(*((1, 2) if batched else (2,)), *(5,) * nd)
        return self._case(x, (2,) * nd, (3,) * nd, "capability probe", nd)

    def probe_cases(self, nd, dtype):
        from ._adaptive import _values

        x = _values("distinct", np.dtype(dtype), 2 * 4**nd, np.random.default_rng(7))
        case = self._case(x.reshape(1, 2, *(4,) * nd), (2,) * nd, (3,) * nd, "capability probe", nd)
        return [(FULL_SPAN, case)]

    def corner_cases(self, nd, sup, skip):
        from ._adaptive import _profiles, _values

        cases: list[OpCase] = []
        for spatial, kernel, out in (s for s in _CORNER_SHAPES if len(s[0]) == nd):
            if FULL_SPAN in skip and _full_span(spatial, kernel, out):
                continue
            for dtype in sorted_dtypes(sup.dtypes):
                for profile in _profiles(dtype):
                    rng = np.random.default_rng(len(cases))
                    x = _values(profile, dtype, 4 * int(np.prod(spatial)), rng)
                    what = f"corner case {profile} {spatial}, kernel {kernel} -> {out}"
                    cases.append(self._case(x.reshape(2, 2, *spatial), kernel, out, what, nd))
        if sup.unbatched and cases:
            last = cases[-1]
            x = last.x[0].copy()
            cases.append(self._case(x, last.args[0], last.args[1], "corner case unbatched", nd))
        return cases

    def strategy(self, ndims, sup, skip):
        from hypothesis import strategies as st

        from ..strategies import fractional_cases

        def case(c) -> OpCase:
            x, u = c.x, c.random_samples
            if x.ndim == c.nd + 1 and not sup.unbatched:
                x = x[None]
            return OpCase(x, (c.kernel_size, c.output_size, u), "Hypothesis search", c.nd)

        parts = [
            fractional_cases(
                ndims=(nd,), dtypes=sup.dtypes, full_span=FULL_SPAN not in skip.get(nd, ())
            )
            for nd in ndims
        ]
        return st.one_of(parts).map(case)

    def where_text(self, case, where):
        kernel, out, u = case.args
        batched = case.batched
        n, c = (where[0], where[1]) if batched else (0, where[0])
        sample = u[n, c]
        per_dim = [sample[1], sample[0]] if case.nd == 2 else list(sample)
        spans = []
        for d, (size, k, o, i) in enumerate(
            zip(case.x.shape[-case.nd :], kernel, out, where[-case.nd :])
        ):
            start = interval_starts(per_dim[d], size, o, k)[i]
            spans.append(f"{start}..{start + k - 1}")
        return f"window of that output: input positions {' x '.join(spans)}"

    def case_lines(self, case):
        kernel, out, u = case.args
        return [
            f"kernel_size = {kernel!r}, output_size = {out!r}",
            f"random_samples = {_array_text(u, limit=3000)}",
        ]

    def reproduce(self, case):
        kernel, out, _ = case.args
        return (
            f"poolref.fractional_max_pool{case.nd}d(x, {kernel!r}, output_size={out!r}, "
            "return_indices=True, random_samples=random_samples)"
        )


SPEC = _Fractional()


def check_fractional_max_pool(
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
    """Check a fractional max pooling forward (and backward) with given samples against poolref's.

    Parameters
    ----------
    forward : callable or Candidate
        ``forward(x, kernel_size, output_size, random_samples)`` returning the output or
        ``(output, indices)``. ``kernel_size`` and ``output_size`` are tuples of ints;
        ``random_samples`` has shape ``(N, C, nd)`` (``(1, C, nd)`` for unbatched ``x``), values
        in ``[0, 1)``, ``x``'s dtype for floating ``x`` and float64 for integer ``x``, in
        PyTorch's order (2-D: W, H).
    backward : callable, optional
        ``backward(grad_output, x, kernel_size, output_size, random_samples)`` returning the
        gradient with respect to ``x``.
    name : str, optional
        The candidate's label in reports (default: the forward's qualified name).
    ndims : sequence of int, optional
        Spatial ranks to check (default: 2 and 3, within the support).
    dtypes : sequence of dtype, optional
        Shorthand for ``support=Support(dtypes=dtypes)`` (a declaration).
    support : Support, optional
        What the candidate implements (``ndims``, ``dtypes``, ``backward_dtypes``, ``indices``,
        ``unbatched``). Without it every capability, and
        ``output_size + kernel_size - 1 == input size`` in each rank, is probed first; one the
        target rejects is reported as not supported and not checked.
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

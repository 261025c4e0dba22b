"""``check_adaptive_max_pool``: check anyone's adaptive max pooling against poolref.

A candidate is a forward ``f(x, output_size) -> y`` or ``(y, indices)`` (``output_size`` a
tuple of ints, one per spatial dimension; ``x`` of shape ``(N, C, *spatial)``) and optionally
a backward ``b(grad_output, x, output_size) -> grad_input``. Expected results come from
:func:`poolref.adaptive_max_pool1d` and friends (PyTorch's rules: window ``o`` spans
``floor(o*n/out) .. ceil((o+1)*n/out) - 1``, first maximum, last NaN, flat row-major indices).

It reuses the fixed-window harness's pieces: the guarded call (:func:`_check._call`), the
checks that inputs are unchanged and results are not views of them, the failure reports'
array text, and :class:`~poolref.testing.Summary` / :class:`~poolref.testing.Difference`
(so ``str``, JSON and JUnit XML are the same). A run is a fixed list of corner cases (Out < In
not dividing, Out = In, Out > In, one element, ties, NaN, -inf, every rank), smallest first,
then a Hypothesis search over :func:`poolref.strategies.adaptive_cases`, shrunk by Hypothesis.
Not reused (yet): worker-process isolation, capability probing, named rules.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import adaptive as _adaptive
from ._check import _call, _check_not_a_view, _check_unchanged, _Snapshot
from ._declare import FLOAT_DTYPES
from ._report import _array_text, _Failure, _fmt_index, _fmt_scalar
from ._summary import Difference, Summary

__all__ = ["check_adaptive_max_pool"]


@dataclass(frozen=True)
class _ACase:
    x: np.ndarray
    output_size: tuple[int, ...]
    found_by: str

    @property
    def nd(self) -> int:
        return len(self.output_size)


def _windows(n: int, out: int, o: int) -> str:
    start, end = (o * n) // out, -(-(o + 1) * n // out)
    return f"{start}..{end - 1}"


def _where_text(case: _ACase, where: tuple) -> str:
    spans = [
        _windows(n, out, o) for n, out, o in zip(case.x.shape[2:], case.output_size, where[2:])
    ]
    return f"window of output {_fmt_index('y', where)}: input positions {' x '.join(spans)}"


def _first_bad(bad: np.ndarray) -> tuple:
    return tuple(int(i) for i in np.argwhere(bad)[0])


def _compare(name: str, got, want: np.ndarray, case: _ACase, *, rtol: float = 0.0) -> None:
    got = np.asarray(got)
    if got.shape != want.shape or got.dtype != want.dtype:
        raise _Failure(
            f"{name} shape" if got.shape != want.shape else f"{name} dtype",
            f"{name} has shape {got.shape} and dtype {got.dtype}, expected {want.shape} {want.dtype}",
        )
    if got.dtype.kind == "f":
        same = np.isclose(got, want, rtol=rtol, atol=0.0, equal_nan=True)
        same &= np.signbit(got) == np.signbit(want) if rtol == 0.0 else True
    else:
        same = got == want
    if not same.all():
        where = _first_bad(~same)
        extra = _where_text(case, where) if name != "gradient" else ""
        raise _Failure(
            name,
            f"{_fmt_index(name, where)} is {_fmt_scalar(got[where])}, expected "
            f"{_fmt_scalar(want[where])}",
            extra=extra,
            where=where,
        )


def _check_one(forward, backward, case: _ACase) -> None:
    fwd = getattr(_adaptive, f"adaptive_max_pool{case.nd}d")
    want_y, want_i = fwd(case.x, case.output_size, return_indices=True)
    x = case.x.copy()
    before = _Snapshot(x)
    result = _call(forward, "forward", (x, case.output_size))
    _check_unchanged(x, before, "forward")
    y, idx = result if isinstance(result, tuple) else (result, None)
    _check_not_a_view(y, {"x": x}, "forward")
    _compare("values", y, want_y, case)
    if idx is not None:
        _compare("indices", np.asarray(idx).astype(np.int64, copy=False), want_i, case)
    if backward is None or case.x.dtype.kind != "f":
        return
    rng = np.random.default_rng(want_y.size)
    g = (rng.integers(-8, 9, want_y.shape) / 4).astype(case.x.dtype)
    bwd = getattr(_adaptive, f"adaptive_max_pool{case.nd}d_backward")
    want_g = bwd(g, case.x, case.output_size)
    g_before = _Snapshot(g)
    got_g = _call(backward, "backward", (g, x, case.output_size), grad_output=g)
    _check_unchanged(g, g_before, "backward", "grad_output")
    _check_not_a_view(got_g, {"x": x, "grad_output": g}, "backward")
    _compare("gradient", got_g, want_g, case, rtol=2.0**-9)


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


def _corner_cases(ndims, dtypes) -> list[_ACase]:
    cases: list[_ACase] = []
    for spatial, out in _CORNER_SHAPES:
        if len(spatial) not in ndims:
            continue
        for dtype in dtypes:
            for profile in ("distinct", "ties", "nan"):
                if profile == "nan" and np.dtype(dtype).kind != "f":
                    continue
                rng = np.random.default_rng(len(cases))
                size = 2 * int(np.prod(spatial))
                values = (
                    rng.permutation(size) if profile == "distinct" else rng.integers(0, 3, size)
                )
                x = values.astype(dtype).reshape(1, 2, *spatial)
                if profile == "nan":
                    x[rng.random(x.shape) < 0.3] = np.nan
                cases.append(_ACase(x, out, f"corner case {profile} {spatial} -> {out}"))
    return cases


def _report(name: str, case: _ACase, failure: _Failure) -> str:
    return "\n".join(
        [
            f"{name}: [{failure.check}] {failure.detail}",
            f"  found by: {case.found_by}",
            f"  x = {_array_text(case.x)}",
            f"  output_size = {case.output_size!r}",
            *([f"  {failure.extra}"] if failure.extra else []),
            f"  reproduce: poolref.adaptive_max_pool{case.nd}d(x, {case.output_size!r}, "
            "return_indices=True)",
        ]
    )


def _search(forward, backward, ndims, dtypes, max_examples: int, seen: list) -> int:
    from hypothesis import HealthCheck, given, settings

    from ..strategies import adaptive_cases

    count = [0]

    @settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(adaptive_cases(ndims=ndims, dtypes=dtypes, allow_none=False))
    def test(c) -> None:
        count[0] += 1
        x = c.x if c.x.ndim == c.nd + 2 else c.x[None]
        case = _ACase(x, tuple(int(v) for v in c.output_size), "Hypothesis search (shrunk)")
        try:
            _check_one(forward, backward, case)
        except _Failure as failure:
            seen.append((case, failure))
            raise

    with contextlib.suppress(_Failure):
        test()
    return count[0]


def check_adaptive_max_pool(
    forward: Callable,
    backward: Callable | None = None,
    *,
    name: str = "candidate",
    ndims: tuple[int, ...] = (1, 2, 3),
    dtypes: tuple = FLOAT_DTYPES,
    max_examples: int = 100,
    raise_on_failure: bool = True,
) -> Summary:
    """Check an adaptive max pooling forward (and backward) against poolref's.

    Parameters
    ----------
    forward : callable
        ``forward(x, output_size)`` returning the output or ``(output, indices)``; ``x`` has shape
        ``(N, C, *spatial)`` and ``output_size`` is a tuple of ints.
    backward : callable, optional
        ``backward(grad_output, x, output_size)`` returning the gradient with respect to ``x``.
    name : str, optional
        The candidate's label in reports.
    ndims : tuple of int, optional
        Spatial ranks to check.
    dtypes : tuple of dtype, optional
        The dtypes the candidate supports (default the float dtypes).
    max_examples : int, optional
        Hypothesis examples after the corner cases (0: corner cases only).
    raise_on_failure : bool, optional
        Raise ``AssertionError`` with the reports when a difference is found.

    Returns
    -------
    Summary
        What ran and every distinct difference (one per failing check, smallest case first).

    Raises
    ------
    AssertionError
        With ``raise_on_failure=True``, when a difference is found.
    """
    start = time.perf_counter()
    dtypes = tuple(np.dtype(t) for t in dtypes)
    found: list = []
    corners = _corner_cases(ndims, dtypes)
    for case in corners:
        try:
            _check_one(forward, backward, case)
        except _Failure as failure:
            found.append((case, failure))
    examples = _search(forward, backward, ndims, dtypes, max_examples, found) if max_examples else 0
    differences: dict[str, Difference] = {}
    for case, fail in found:  # corner cases first, then the search's shrunk example last
        kind = fail.check
        if kind not in differences or case.found_by.startswith("Hypothesis"):
            differences[kind] = Difference(
                kind, fail.check, fail.detail, _report(name, case, fail), case.found_by
            )
    summary = Summary(
        name=name,
        ndims=tuple(ndims),
        corner_cases=len(corners),
        examples=examples,
        seconds=time.perf_counter() - start,
        differences=list(differences.values()),
    )
    if raise_on_failure and summary.failed:
        raise AssertionError("\n\n".join(d.report for d in summary.failed))
    return summary

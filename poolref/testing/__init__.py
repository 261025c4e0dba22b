"""Check anyone's max pooling against poolref, and find the smallest input where it is wrong.

The main entry point is :func:`check_max_pool` (adaptive and fractional pooling:
:func:`check_adaptive_max_pool`, :func:`check_fractional_max_pool` and, for boundaries the
target draws itself, :func:`check_fractional_sequences`)::

    from poolref.testing import check_max_pool

    def test_my_pool():
        check_max_pool(my_pool)                 # raises AssertionError on a counterexample

A *candidate* is a forward callable ``f(x, kernel_size, stride, padding,
dilation, ceil_mode)`` (parameters as tuples of ints, ``ceil_mode`` a bool)
that returns the pooled output or ``(output, indices)``, and optionally a
backward ``b(grad_output, x, kernel_size, stride, padding, dilation,
ceil_mode)`` that returns the gradient with respect to ``x``.
:mod:`poolref.adapters` wraps other calling conventions (PyTorch, JAX,
onnxruntime, layer classes) into a :class:`Candidate`.

What the candidate supports (:class:`Support`) decides which cases are
generated; which implementation-defined rules it follows (:class:`Behaviour`)
decides what "correct" means where frameworks legitimately differ (ties,
NaN, index format, empty windows). PyTorch's rules are the default.

Each case is checked for: the output's shape and dtype, every value, the
indices, the gradient (with a dtype-aware tolerance), that neither ``x`` nor
``grad_output`` was modified or reshaped and no result is a view of them,
and (through the memory layouts of the generated inputs) that
non-contiguous input gives the same result. The candidate gets a copy of
each case's input with the same strides, so a report always shows the input
as generated.

A run is a fixed list of hand-made corner cases (ties, NaN, +-inf, negative
values next to padding, ceil_mode with padding, dilation, empty windows,
odd sizes, non-square and overlapping windows, N > 1 with C > 1, every
memory layout, float16/int8 planes larger than the dtype's exact integers),
run smallest first, then the scale cases (big inputs on the seams of
optimised kernels: tiles, tails, worker chunks, channels-last, large planes
and kernels; judged by :mod:`poolref.fast`, see ``docs/scale.md``), followed by a Hypothesis search (random cases, shrunk
to a minimal one on failure). When the environment variable ``CI`` is set
the search is derandomized, so a run is reproducible.

Hypothesis is needed (``pip install poolref[strategies]``); the package
imports it only when a search runs.

The package has one job per module: ``_declare`` (what a candidate
declares), ``_expect`` (what is correct), ``_check`` (the checks for one
case), ``_corners`` (the fixed corner cases), ``_search`` (the Hypothesis
search and the shrinker), ``_report`` (failure reports), ``_index`` (index
formats), ``_probe`` (capability probing), ``_infer`` (kinds of difference and the
named rules that explain them), ``_summary`` (the result, as text, JSON and JUnit
XML), ``_worker`` (running the candidate in a worker process, so that an exit, a
crash or a hang fails its case: ``check_max_pool(..., isolate=True)``),
``_boundary`` (the checks around one call, and what crosses the process
boundary: arrays with their exact strides, results, exceptions), ``_scale`` (the
scale cases: big inputs on the seams of optimised kernels), ``_ops`` (the run of the
adaptive and fractional checks, ``_adaptive`` and ``_fractional``, on the same pieces),
``_sequences`` (TensorFlow's self-drawn fractional boundaries) and ``_run``
(:func:`check_max_pool`, which ties them together).
"""

from __future__ import annotations

from ._adaptive import check_adaptive_max_pool
from ._corners import corner_cases
from ._declare import ALL_DTYPES, BUDGETS, FLOAT_DTYPES, Behaviour, Candidate, Support
from ._fractional import check_fractional_max_pool
from ._run import check_max_pool
from ._scale import ScaleSpec
from ._sequences import check_fractional_sequences
from ._summary import HARD_CORNERS, Difference, Summary

__all__ = [
    "ALL_DTYPES",
    "BUDGETS",
    "FLOAT_DTYPES",
    "HARD_CORNERS",
    "Behaviour",
    "Candidate",
    "Difference",
    "ScaleSpec",
    "Summary",
    "Support",
    "check_adaptive_max_pool",
    "check_fractional_max_pool",
    "check_fractional_sequences",
    "check_max_pool",
    "corner_cases",
]

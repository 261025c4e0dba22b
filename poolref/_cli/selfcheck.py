"""``poolref verify`` without a target: poolref's own implementations against the naive oracle.

``poolref.fast`` (functions and layer classes) and ``poolref.im2col`` (functions and the
tutorial layer) run in this process, one line each; the first disagreement ends the run.
``poolref.jit`` (the compiled functions) is checked too when numba is installed.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from types import ModuleType
from typing import TYPE_CHECKING

from .common import EXIT_FAIL, EXIT_PASS, UsageError, search_kwargs
from .output import Progress

if TYPE_CHECKING:
    from ..testing import Candidate


def _load(module: str) -> ModuleType:
    """``poolref.<module>``; an import problem is a usage error."""
    try:
        return importlib.import_module(f"poolref.{module}")
    except Exception as exc:  # noqa: BLE001
        msg = f"cannot import poolref.{module}: {type(exc).__name__}: {exc}"
        raise UsageError(msg) from None


def _implementations() -> list[Candidate]:
    """The candidates checked: poolref.fast and poolref.im2col, functions and layers (and jit)."""
    from .. import _backend, adapters, testing

    fast, im2col = _load("fast"), _load("im2col")
    jit = [adapters.poolref_module(_load("jit"))] if _backend.numba_available() else []
    return [
        adapters.poolref_module(fast),
        adapters.nn_layers(fast, name="poolref.fast.MaxPool1d/2d/3d layers"),
        adapters.poolref_module(im2col),
        adapters.layer(
            im2col.Maxpool,
            dtypes=testing.ALL_DTYPES,
            name="poolref.im2col.Maxpool (tutorial layer)",
        ),
        *jit,
    ]


#: The self-check's cap on one quick scale case: every quick recipe but the sparse planes above
#: 2^24, which cost poolref.im2col's NumPy passes seconds each (the self-check grew from 22 s to
#: 106 s with them); ``--max-elements 33554432`` or ``--profile thorough`` runs them.
SELF_MAX_ELEMENTS = 1 << 22


def _check_one(cand: Candidate, args: argparse.Namespace, width: int) -> int | None:
    """Check ``cand`` and print its line: the number of its cases, or ``None`` if it failed.

    A candidate with none of the ``--ndim`` ranks is skipped (0 cases, no line).
    """
    from .. import testing

    # the scale cases are judged by poolref.fast: they check the others against it
    scale = not args.no_scale and not cand.label.startswith("poolref.fast")
    progress = Progress(args.quiet, prefix=f"  {cand.label}: ", transient=True)
    ndims = (
        cand.support.ndims
        if args.ndim is None
        else tuple(n for n in args.ndim if n in cand.support.ndims)
    )
    if not ndims:
        return 0
    options = search_kwargs(args)
    if options["max_elements"] is None and options["budget"] in (None, "quick"):
        options["max_elements"] = SELF_MAX_ELEMENTS
    try:
        summary = testing.check_max_pool(
            cand, ndim=ndims, progress=progress, scale=scale, **options
        )
    except AssertionError as exc:
        progress.done()
        print(str(exc))
        print(f"FAIL: {cand.label} disagrees with poolref.naive")
        return None
    progress.done()
    n_scale = summary.scale.cases if scale else 0
    ranks = "/".join(f"{n}-D" for n in summary.ndims)
    print(
        f"  {cand.label:<{width}}  {ranks:<10} {summary.corner_cases:4d} corner + {n_scale:3d} scale + "
        f"{summary.examples:4d} random cases  ok  {summary.seconds:5.1f} s"
    )
    sys.stdout.flush()
    return summary.corner_cases + summary.examples + n_scale


def verify_self(args: argparse.Namespace) -> int:
    """``poolref verify`` without a target: poolref's implementations against the oracle."""
    candidates = _implementations()
    import hypothesis
    import numpy as np

    from .. import __version__

    print(
        f"poolref verify: poolref {__version__}'s implementations against the naive oracle "
        f"(numpy {np.__version__}, hypothesis {hypothesis.__version__})"
    )
    start = time.perf_counter()
    width = max(len(c.label) for c in candidates)
    total_cases = 0
    for cand in candidates:
        cases = _check_one(cand, args, width)
        if cases is None:
            return EXIT_FAIL
        total_cases += cases
    print(
        f"PASS: {len(candidates)} implementations agree with poolref.naive on {total_cases} cases "
        f"({time.perf_counter() - start:.1f} s)"
    )
    return EXIT_PASS

"""``poolref verify TARGET``: the target checked in a worker process, or in this one."""

from __future__ import annotations

import argparse
import functools
import sys
from typing import TYPE_CHECKING

from .common import EXIT_FAIL, EXIT_PASS, UsageError, search_kwargs
from .output import Progress, describe, profile_flags, write_results
from .target import candidate

if TYPE_CHECKING:
    from ..testing import Candidate


def verify_target(args: argparse.Namespace) -> int:
    """Check TARGET: in a worker process (the default) or, with ``--in-process``, in this one."""
    if getattr(args, "op", "max_pool") in ("adaptive", "fractional"):
        from .adaptive import verify_adaptive

        return verify_adaptive(args)
    if args.in_process:
        if args.timeout is not None:
            msg = "--timeout needs the worker process: drop --in-process"
            raise UsageError(msg)
        return _check_target(candidate(args), args)
    from ..testing import _worker

    # the worker builds the candidate: the recipe pickles by module name (poolref._cli.target)
    recipe = functools.partial(candidate, args)
    cand = None
    try:
        with _worker.isolated(recipe, timeout=_call_timeout(args)) as cand:
            return _check_target(cand, args)
    except _worker.WorkerError as exc:
        if cand is not None:
            raise
        original = exc.original  # raised by candidate in the worker: UsageError keeps its one line
        msg = (
            str(original)
            if type(original).__name__ == "UsageError"
            else f"{type(original).__name__}: {original}"
        )
        raise UsageError(msg) from None
    except _worker.TargetCrashed as exc:
        if cand is None:
            msg = f"cannot load TARGET {args.target!r}: {exc}"
            raise UsageError(msg) from None
        print(f"FAIL: {cand.label}: {exc.check} outside a case: {exc}")  # e.g. in Support.accepts
        return EXIT_FAIL


def _call_timeout(args: argparse.Namespace) -> float:
    """``--timeout``, else the named adapter's (``adapters.CALL_TIMEOUT``), else the worker's default."""
    from .. import adapters
    from ..testing import _worker

    return args.timeout or adapters.CALL_TIMEOUT.get(args.target, _worker.DEFAULT_TIMEOUT)


def _check_target(cand: Candidate, args: argparse.Namespace) -> int:
    """Run the harness on ``cand``, print the report and the verdict; the exit status."""
    from .. import testing

    progress = Progress(args.quiet)
    ndim = None if args.ndim is None else tuple(args.ndim)
    if not args.quiet:
        print(f"poolref verify: {cand.label} against poolref.naive")
        for line in describe(cand):
            print(line)
        sys.stdout.flush()
    try:
        summary = testing.check_max_pool(
            cand,
            ndim=ndim,
            progress=progress,
            behaviour=args.behaviour,
            strict=True if args.strict else (False if ":" in args.target else None),
            max_cases=args.max_cases,
            time_budget=args.time_budget,
            scale=not args.no_scale,
            **search_kwargs(args),
        )
    except AssertionError as exc:
        progress.done()
        print(str(exc))
        failed = getattr(exc, "summary", None)
        if failed is not None:
            print("\n" + str(failed))
        write_results(failed, args)
        found = (
            f"{len(failed.failed)} distinct difference(s)"
            if failed is not None
            else "a counterexample"
        )
        print(f"FAIL: {cand.label}: {found} (see above)")
        return EXIT_FAIL
    except (TypeError, ValueError) as exc:
        progress.done()
        raise UsageError(str(exc)) from None
    progress.done()
    write_results(summary, args)
    print(f"PASS: {summary}")
    if summary.profile and summary.profile != "pytorch (no difference)":
        print(f"  declare it: {profile_flags(summary.profile)}")
    return EXIT_PASS

"""``poolref verify --op adaptive|fractional TARGET``: the operations with their own calling convention.

TARGET is a named adapter (``torch``, ``poolref``; for ``adaptive`` also ``keras`` and
``keras-channels-last``, ``paddle``) or ``module:function`` (a forward
``f(x, output_size)`` for ``adaptive``, ``f(x, kernel_size, output_size, random_samples)`` for
``fractional``), with ``--backward module:function``. As for ``--op max_pool``, TARGET runs in
a worker process (``--in-process``: in this one), so a crash or a hang fails its case; the
declaration flags that apply (``--dtypes``, ``--backward-dtypes``, ``--no-indices``,
``--no-unbatched``, ``--strict``), ``--time-budget``, ``--timeout``, ``--seed``, ``--json`` and
``--junit-xml`` work the same way.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools

from .common import EXIT_FAIL, EXIT_PASS, UsageError
from .output import write_results
from .target import _resolve, _support_changes

#: The named targets of each operation.
NAMED = {
    "adaptive": ("torch", "poolref", "keras", "keras-channels-last", "paddle"),
    "fractional": ("torch", "poolref"),
}
#: The Support fields the operations use (the other declaration flags are refused).
_FIELDS = ("dtypes", "backward_dtypes", "indices", "unbatched")


def _poolref(op: str):
    from .. import adaptive, fractional

    if op == "adaptive":

        def forward(x, output_size):
            fn = getattr(adaptive, f"adaptive_max_pool{len(output_size)}d")
            return fn(x, output_size, True)

        def backward(grad_output, x, output_size):
            fn = getattr(adaptive, f"adaptive_max_pool{len(output_size)}d_backward")
            return fn(grad_output, x, output_size)

        return forward, backward

    def fforward(x, kernel_size, output_size, random_samples):
        fn = getattr(fractional, f"fractional_max_pool{len(output_size)}d")
        return fn(x, kernel_size, output_size, None, True, random_samples)

    def fbackward(grad_output, x, kernel_size, output_size, random_samples):
        fn = getattr(fractional, f"fractional_max_pool{len(output_size)}d_backward")
        return fn(grad_output, x, kernel_size, output_size, None, random_samples)

    return fforward, fbackward


def _named(op: str, target: str):
    from .. import adapters

    try:
        if target == "torch":
            return adapters.torch_adaptive() if op == "adaptive" else adapters.torch_fractional()
        if target == "paddle":
            return adapters.paddle_adaptive()
        return adapters.keras_adaptive(
            "channels_last" if target.endswith("last") else "channels_first"
        )
    except adapters.AdapterUnavailable as exc:
        raise UsageError(str(exc)) from None


def op_candidate(args: argparse.Namespace):
    """The :class:`~poolref.testing.Candidate` the command line describes (built in the worker)."""
    from .. import testing

    target = args.target or "poolref"
    if target == "poolref":
        forward, backward = _poolref(args.op)
    elif target in NAMED[args.op]:
        forward, backward = _named(args.op, target)
    elif ":" in target:
        forward, backward = _resolve(target, "TARGET"), None
        if not callable(forward):
            msg = f"TARGET {target!r} is a {type(forward).__name__}, not a function"
            raise UsageError(msg)
    else:
        msg = f"--op {args.op}: TARGET must be one of {', '.join(NAMED[args.op])} or module:function, got {target!r}"
        raise UsageError(msg)
    if args.backward:
        backward = _resolve(args.backward, "--backward")
    changes = _support_changes(args)
    other = sorted(set(changes) - set(_FIELDS))
    if other:
        msg = f"--op {args.op} takes no declaration of {', '.join(other)}"
        raise UsageError(msg)
    support = dataclasses.replace(testing.Support(), **changes)
    return testing.Candidate(forward, backward, support, name=target)


def _check(cand, args: argparse.Namespace):
    from .. import testing

    check = (
        testing.check_adaptive_max_pool
        if args.op == "adaptive"
        else testing.check_fractional_max_pool
    )
    examples = (
        args.examples if args.examples is not None else (500 if args.profile == "thorough" else 100)
    )
    return check(
        cand,
        ndims=None if args.ndim is None else tuple(args.ndim),
        max_examples=examples,
        corners=not args.no_corners,
        seed=args.seed,
        strict=True if args.strict else None,
        time_budget=args.time_budget,
        raise_on_failure=False,
    )


def _run(args: argparse.Namespace):
    if args.in_process:
        if args.timeout is not None:
            msg = "--timeout needs the worker process: drop --in-process"
            raise UsageError(msg)
        return _check(op_candidate(args), args)
    from ..testing import _worker

    cand = None
    try:
        recipe = functools.partial(op_candidate, args)
        with _worker.isolated(recipe, timeout=args.timeout or _worker.DEFAULT_TIMEOUT) as cand:
            return _check(cand, args)
    except _worker.WorkerError as exc:
        if cand is not None:
            raise
        original = exc.original
        text = (
            str(original)
            if type(original).__name__ == "UsageError"
            else f"{type(original).__name__}: {original}"
        )
        raise UsageError(text) from None
    except _worker.TargetCrashed as exc:
        msg = f"cannot load TARGET {args.target!r}: {exc}"
        raise UsageError(msg) from None


def verify_adaptive(args: argparse.Namespace) -> int:
    """Check an adaptive or fractional max pooling target; print the summary, the reports; the exit status."""
    try:
        summary = _run(args)
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    print(summary)
    if not args.quiet:
        for difference in summary.failed:
            print()
            print(difference.report)
    write_results(summary, args)
    print(summary.verdict)
    return EXIT_FAIL if summary.failed else EXIT_PASS

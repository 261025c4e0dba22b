"""``poolref verify --op adaptive TARGET``: :func:`poolref.testing.check_adaptive_max_pool` on TARGET.

TARGET is ``torch`` (the named adapter) or ``module:function`` (a forward ``f(x, output_size)``),
with ``--backward module:function``. Runs in this process (no worker isolation yet).
"""

from __future__ import annotations

import argparse

from .common import EXIT_FAIL, EXIT_PASS, UsageError
from .output import write_results
from .target import _resolve

NAMED = ("torch",)


def _target(args: argparse.Namespace):
    if args.target in (None, "poolref"):
        from .. import adaptive

        def forward(x, output_size):
            return getattr(adaptive, f"adaptive_max_pool{len(output_size)}d")(x, output_size, True)

        return "poolref", forward, None
    if args.target == "torch":
        from ..adapters import torch_adaptive

        return "torch", *torch_adaptive()
    if ":" not in args.target:
        msg = f"--op adaptive: TARGET must be one of {', '.join(NAMED)} or module:function, got {args.target!r}"
        raise UsageError(msg)
    backward = _resolve(args.backward, "--backward") if args.backward else None
    return args.target, _resolve(args.target, "TARGET"), backward


def verify_adaptive(args: argparse.Namespace) -> int:
    """Check an adaptive max pooling target; print the summary and the reports; the exit status."""
    from ..testing import check_adaptive_max_pool

    name, forward, backward = _target(args)
    examples = (
        args.examples if args.examples is not None else (500 if args.profile == "thorough" else 100)
    )
    ndims = (1, 2, 3) if args.ndim is None else tuple(args.ndim)
    summary = check_adaptive_max_pool(
        forward, backward, name=name, ndims=ndims, max_examples=examples, raise_on_failure=False
    )
    print(summary)
    if not args.quiet:
        for difference in summary.failed:
            print()
            print(difference.report)
    write_results(summary, args)
    print(summary.verdict)
    return EXIT_FAIL if summary.failed else EXIT_PASS

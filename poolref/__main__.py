"""The ``poolref`` command: ``poolref verify [TARGET]``.

``poolref verify`` (no target) checks poolref's own implementations
(``poolref.fast``, its layer classes, ``poolref.im2col`` and its tutorial
layer) against the naive loop oracle on corner cases and random 1-D/2-D/3-D
cases, and prints a short report.

``poolref verify TARGET`` checks someone else's max pooling:

* ``module:function``  a forward ``f(x, kernel_size, stride, padding, dilation,
  ceil_mode)`` returning the output or ``(output, indices)``; add
  ``--backward module:function`` for ``b(grad_output, x, kernel_size, stride,
  padding, dilation, ceil_mode)``. If the attribute is a
  :class:`poolref.testing.Candidate`, its declarations are used.
* ``module:Class``     a deepnet-style layer ``Class(X_dim, size, stride)`` with
  ``forward(X)`` and ``backward(dout) -> (dX, grads)``.
* a named adapter      ``torch``, ``torch-channels-last``, ``torch-cuda``, ``jax``,
  ``onnxruntime``, ``tensorflow``, ``mygrad``, ... (``poolref verify --list``
  shows them all and whether each framework is importable).

TARGET runs in a worker process (``poolref.testing._worker``): a call that
exits the process, dies of a signal (segfault, abort) or takes longer than
``--timeout`` seconds (default 60) fails the case that was running, and this
process always ends with its verdict. ``--in-process`` runs TARGET here
instead (no worker start, about a millisecond less per call; a crash or a
hang then ends or stalls the run). ``poolref verify`` without a target
checks poolref itself, in-process.

The parts (parser, target resolution, the run, the self-check, output) live in
``poolref._cli``; this module is the entry point, :func:`main`.

Exit status: 0 no counterexample, 1 counterexample found (a crash, an exit
or a timeout of TARGET included), 2 usage error (bad TARGET, a target that
cannot be called with the harness's arguments, import failure, an exit or
crash while importing TARGET, missing framework or Hypothesis).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence

from ._cli.common import EXIT_FAIL, EXIT_PASS, EXIT_USAGE, UsageError
from ._cli.database import check_database
from ._cli.parser import build_parser
from ._cli.selfcheck import verify_self
from ._cli.verify import verify_target

__all__ = ["EXIT_FAIL", "EXIT_PASS", "EXIT_USAGE", "UsageError", "main"]


def _list_adapters() -> int:
    """``poolref verify --list``: the named adapters, and whether each framework imports here."""
    from . import adapters

    print("named adapters (poolref verify NAME); 'ok': its framework is importable here:")
    for name, (_, description) in adapters.NAMED.items():
        ok, missing = adapters.importable(name)
        status = "ok" if ok else f"missing {', '.join(missing)}"
        print(f"  {name:<26} {status:<22} {description}")
    return EXIT_PASS


def _fuzz(args) -> int:
    from ._cli.fuzz import fuzz_target

    try:
        return fuzz_target(args)
    except UsageError as exc:
        print(f"poolref fuzz: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``poolref`` console script; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    if args.version:
        from . import __version__

        print(f"poolref {__version__}")
        return EXIT_PASS
    if args.command == "fuzz":
        return _fuzz(args)
    if args.command != "verify":
        parser.print_help()
        return EXIT_USAGE
    if args.ndim is not None:  # --ndim 1 --ndim 2,3 -> [1, 2, 3]
        args.ndim = list(dict.fromkeys(n for ranks in args.ndim for n in ranks))
    try:
        if args.list:
            return _list_adapters()
        if args.examples is not None and args.examples < 0:
            msg = f"--examples must be >= 0, got {args.examples}"
            raise UsageError(msg)
        if args.max_elements is not None and args.max_elements < 1:
            msg = f"--max-elements must be >= 1, got {args.max_elements}"
            raise UsageError(msg)
        if importlib.util.find_spec("hypothesis") is None:
            msg = (
                "poolref verify needs Hypothesis, which is not installed: "
                "pip install 'poolref[strategies]' (or pip install hypothesis)"
            )
            raise UsageError(msg)
        check_database(args)  # before a worker starts or any case runs
        if args.target is None and args.op == "max_pool":
            if args.backward:
                msg = "--backward needs a TARGET"
                raise UsageError(msg)
            if args.timeout is not None:
                msg = "--timeout needs a TARGET (poolref's own implementations run in this process)"
                raise UsageError(msg)
            return verify_self(args)
        return verify_target(args)
    except UsageError as exc:
        print(f"poolref verify: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("poolref verify: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

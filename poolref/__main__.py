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

Exit status: 0 no counterexample, 1 counterexample found (a crash, an exit
or a timeout of TARGET included), 2 usage error (bad TARGET, a target that
cannot be called with the harness's arguments, import failure, an exit or
crash while importing TARGET, missing framework or Hypothesis).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib
import importlib.util
import inspect
import os
import sys
import time

EXIT_PASS, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
_DEFAULT_TIMEOUT = (
    60.0  # poolref.testing._worker.DEFAULT_TIMEOUT (not imported: the module loads lazily)
)

_DECLARATION_FLAGS = {
    # flag dest -> Support field (False when the flag is given)
    "no_padding": "padding",
    "no_dilation": "dilation",
    "no_ceil_mode": "ceil_mode",
    "no_indices": "indices",
    "no_unbatched": "unbatched",
    "no_non_contiguous": "non_contiguous",
    "no_backward_dilation": "backward_dilation",
}


_VALUE_DOMAINS = ("any", "finite", "nonnegative", "positive")  # poolref.testing.Support.values
_BEHAVIOUR_DEST = {"padding": "padding_rule"}


def _behaviour_rules() -> dict:
    """The named rules (``poolref.testing._declare.BEHAVIOUR_RULES``): one flag per field."""
    from .testing._declare import BEHAVIOUR_RULES

    return BEHAVIOUR_RULES


class UsageError(Exception):
    """A problem with the command line or the environment (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (the usage is one ``--help`` away)."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _ranks(value: str) -> tuple[int, ...]:
    """``--ndim`` takes one value, ``2`` or ``1,2``: a space-separated list would swallow TARGET."""
    ranks = tuple(int(v) if v.strip() in ("1", "2", "3") else 0 for v in value.split(","))
    if 0 in ranks:
        msg = f"invalid choice: {value!r} (choose 1, 2 or 3, or several as 1,2)"
        raise argparse.ArgumentTypeError(msg)
    return ranks


def _seconds(value: str) -> float:
    seconds = float(value) if value.replace(".", "", 1).isdigit() else 0.0
    if not 0 < seconds < float("inf"):
        msg = f"must be a number of seconds > 0 such as 60 or 2.5, got {value!r}"
        raise argparse.ArgumentTypeError(msg)
    return seconds


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="poolref",
        description="Reference max pooling with PyTorch's semantics, and a checker for other implementations.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    verify = sub.add_parser(
        "verify",
        help="find the smallest input on which a max pooling is wrong",
        description=(
            "Check a max-pooling implementation against poolref's oracle: fixed corner cases first, "
            "then a Hypothesis search that shrinks any counterexample. Without TARGET, check "
            "poolref's own implementations. Exit status: 0 pass, 1 counterexample, 2 usage error."
        ),
        epilog=(
            "TARGET forms: module:function (forward f(x, kernel_size, stride, padding, dilation, "
            "ceil_mode) -> output or (output, indices)), module:Class (deepnet-style layer "
            "Class(X_dim, size, stride)), module:candidate (a poolref.testing.Candidate), or a "
            "named adapter (see --list). Declaration flags override what the target declares."
        ),
    )
    verify.add_argument(
        "target", nargs="?", metavar="TARGET", help="what to check (default: poolref itself)"
    )
    verify.add_argument(
        "--backward",
        metavar="MODULE:FUNCTION",
        help="backward b(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode)",
    )
    verify.add_argument(
        "--list",
        action="store_true",
        help="list the named adapters, with whether each framework is importable here, and exit",
    )
    run = verify.add_argument_group("budget")
    run.add_argument(
        "--ndim",
        type=_ranks,
        action="append",
        metavar="N[,N]",
        help="spatial ranks to check, e.g. 2 or 1,2 (default: every rank the target supports)",
    )
    run.add_argument(
        "--profile",
        choices=("quick", "thorough"),
        default="quick",
        help="Hypothesis budget per rank (default quick)",
    )
    run.add_argument(
        "--examples",
        type=int,
        metavar="N",
        help="Hypothesis examples per rank (overrides --profile; 0: corner cases only)",
    )
    run.add_argument(
        "--seed",
        type=int,
        help="seed for the Hypothesis search (default: random; derandomized when CI is set)",
    )
    run.add_argument("--no-corners", action="store_true", help="skip the fixed corner cases")
    run.add_argument(
        "--max-cases",
        type=int,
        metavar="N",
        help="cap on the cases of the run (the corner cases are sampled too)",
    )
    run.add_argument(
        "--time-budget",
        type=_seconds,
        metavar="SECONDS",
        help="start no new case after this many seconds",
    )
    run.add_argument(
        "--no-scale",
        action="store_true",
        help="skip the scale cases (big inputs on the seams of optimised kernels)",
    )
    run.add_argument(
        "--max-elements",
        type=int,
        metavar="N",
        help="most input elements of one scale case (default 4194304; thorough: 33554432)",
    )
    run.add_argument("-q", "--quiet", action="store_true", help="print only the verdict")
    out = verify.add_argument_group("results for CI")
    out.add_argument(
        "--json",
        metavar="FILE",
        help="write the full report (verdict, profile, differences with their cases) as JSON",
    )
    out.add_argument(
        "--junit-xml",
        metavar="FILE",
        help="write the result as JUnit XML (a test case per difference)",
    )
    iso = verify.add_argument_group(
        "isolation (TARGET runs in a worker process, so a crash or a hang fails its case)"
    )
    iso.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help=f"seconds one call of the target may take (default {_DEFAULT_TIMEOUT:g})",
    )
    iso.add_argument(
        "--in-process",
        action="store_true",
        help="run TARGET in this process: faster, but an exit, a crash or a hang ends the run",
    )
    sup = verify.add_argument_group("what the target supports (cases outside it are not generated)")
    sup.add_argument(
        "--dtypes", metavar="LIST", help="comma-separated input dtypes, e.g. float32,float64"
    )
    sup.add_argument(
        "--backward-dtypes", metavar="LIST", help="comma-separated dtypes for the backward"
    )
    sup.add_argument("--no-padding", action="store_true", help="no padding > 0")
    sup.add_argument("--no-dilation", action="store_true", help="no dilation > 1")
    sup.add_argument("--no-ceil-mode", action="store_true", help="no ceil_mode=True")
    sup.add_argument(
        "--no-indices", action="store_true", help="the forward returns only the output"
    )
    sup.add_argument("--no-unbatched", action="store_true", help="only (N, C, *spatial) input")
    sup.add_argument("--no-non-contiguous", action="store_true", help="only C-contiguous input")
    sup.add_argument(
        "--no-backward-dilation", action="store_true", help="no backward with dilation > 1"
    )
    sup.add_argument(
        "--square", action="store_true", help="only kernel_size and stride equal in every dimension"
    )
    sup.add_argument(
        "--exact-fit",
        action="store_true",
        help="only sizes the windows tile exactly: (L + 2p - eff) %% stride == 0",
    )
    sup.add_argument(
        "--same-stride",
        action="store_true",
        help="only one stride for every dimension (kernels may differ)",
    )
    sup.add_argument(
        "--values",
        choices=_VALUE_DOMAINS,
        help="the values it handles (generated within, never filtered)",
    )
    sup.add_argument(
        "--finite",
        action="store_const",
        const="finite",
        dest="values",
        help="no NaN or infinity (= --values finite)",
    )
    sup.add_argument(
        "--strict",
        action="store_true",
        help="a capability the target rejects is a failure, not 'not supported'",
    )
    beh = verify.add_argument_group(
        "implementation-defined behaviour it follows (default: PyTorch's)"
    )
    beh.add_argument(
        "--behaviour",
        choices=("pytorch", "auto"),
        default="pytorch",
        help="pytorch: a difference from PyTorch fails (the report names a rule that explains it); "
        "auto: a difference a named rule explains is accepted and printed as the target's profile",
    )
    for name, choices in _behaviour_rules().items():
        flag = "--padding-rule" if name == "padding" else "--" + name.replace("_", "-")
        beh.add_argument(
            flag,
            dest=_BEHAVIOUR_DEST.get(name, name),
            choices=[c for c in choices if c is not None],
        )
    return parser


# ----------------------------------------------------------------------------
# Resolving the target
# ----------------------------------------------------------------------------


def _resolve(spec: str, what: str):
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        msg = f"{what} {spec!r} must look like module:attribute"
        raise UsageError(msg)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # like `python -m`: modules in the current directory
    try:
        obj = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - report any import problem in one line
        msg = f"cannot import module {module_name!r} (from {what} {spec!r}): {type(exc).__name__}: {exc}"
        raise UsageError(msg) from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            msg = f"module {module_name!r} has no attribute {attr!r} (from {what} {spec!r})"
            raise UsageError(msg) from None
    return obj


def _check_signature(fn, call: str, what: str) -> None:
    """A usage error if ``fn`` cannot take the harness's positional arguments (``call``)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # builtins and some C functions have none: let the call decide
        return
    try:
        signature.bind(*range(call.count(",") + 1))
    except TypeError as exc:
        msg = f"{what} cannot be called as {call}: {exc} (its signature is {signature})"
        raise UsageError(msg) from None


def _check_signatures(cand, args) -> None:
    _check_signature(
        cand.forward,
        "f(x, kernel_size, stride, padding, dilation, ceil_mode)",
        f"TARGET {args.target!r}",
    )
    if args.backward:
        call = "b(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode)"
        _check_signature(cand.backward, call, f"--backward {args.backward!r}")


def _csv(value: str | None):
    return None if value is None else tuple(v.strip() for v in value.split(",") if v.strip())


def _candidate(args):
    from . import adapters, testing

    target = args.target
    if ":" not in target:
        if target not in adapters.NAMED:
            msg = (
                f"unknown TARGET {target!r}: use module:function, module:Class, or one of the "
                f"adapters {', '.join(adapters.NAMED)}"
            )
            raise UsageError(msg)
        try:
            cand = adapters.named(target)
        except adapters.AdapterUnavailable as exc:
            raise UsageError(str(exc)) from None
    else:
        obj = _resolve(target, "TARGET")
        if isinstance(obj, testing.Candidate):
            cand = obj
        elif isinstance(obj, type):
            _check_signature(obj, "Class(X_dim, size, stride)", f"TARGET {target!r}")
            cand = adapters.layer(obj)
        elif callable(obj):
            cand = testing.Candidate(obj, name=target)
        else:
            msg = f"TARGET {target!r} is a {type(obj).__name__}, not a function, class or Candidate"
            raise UsageError(msg)
    if args.backward:
        backward = _resolve(args.backward, "--backward")
        if not callable(backward):
            msg = f"--backward {args.backward!r} is not callable"
            raise UsageError(msg)
        cand = dataclasses.replace(cand, backward=backward)
    _check_signatures(cand, args)
    changes = {field: False for flag, field in _DECLARATION_FLAGS.items() if getattr(args, flag)}
    if args.square:
        changes["square"] = True
    if args.exact_fit:
        changes["exact_fit"] = True
    if args.same_stride:
        changes["same_stride"] = True
    if args.values is not None:
        changes["values"] = args.values
    if args.dtypes is not None:
        changes["dtypes"] = _csv(args.dtypes)
        if args.backward_dtypes is None:
            changes["backward_dtypes"] = tuple(
                d for d in changes["dtypes"] if d.startswith("float")
            )
    if args.backward_dtypes is not None:
        changes["backward_dtypes"] = _csv(args.backward_dtypes)
    behaviour = {
        name: getattr(args, _BEHAVIOUR_DEST.get(name, name))
        for name in _behaviour_rules()
        if getattr(args, _BEHAVIOUR_DEST.get(name, name)) is not None
    }
    try:
        if changes:
            cand = dataclasses.replace(cand, support=dataclasses.replace(cand.support, **changes))
        if behaviour:
            cand = dataclasses.replace(
                cand, behaviour=dataclasses.replace(cand.behaviour, **behaviour)
            )
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    return cand


# ----------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------


class _Progress:
    """Progress lines on stderr; counters overwrite each other on a terminal.

    When stderr is not a terminal (piped to a file or a CI log), a counter is printed as its own
    line every :attr:`EVERY` examples, so a slow run still shows it is alive.
    """

    EVERY = 100

    def __init__(self, quiet: bool, prefix: str = "  ", *, transient: bool = False):
        self.quiet = quiet
        self.prefix = prefix
        self.transient = transient
        self.tty = sys.stderr.isatty()
        self.pending = False

    def __call__(self, message: str):
        if self.quiet:
            return
        counter = self.transient or ("/" in message and "examples" in message)
        if counter and not self.tty and not self._every(message):
            return
        if self.tty:
            end = "" if counter else "\n"
            sys.stderr.write("\r\033[K" + self.prefix + message + end)
            self.pending = counter
        else:
            sys.stderr.write(self.prefix + message + "\n")
        sys.stderr.flush()

    def _every(self, message: str) -> bool:
        done = message.split("/")[0].split()[-1] if "/" in message else ""
        return done.isdigit() and int(done) % self.EVERY == 0

    def done(self):
        if self.pending:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self.pending = False


def _describe(cand) -> list[str]:
    from . import testing

    sup, beh = cand.support, cand.behaviour
    default = testing.Support()
    notes = []
    for f in dataclasses.fields(sup):
        if f.name in ("accepts",):
            continue
        value, base = getattr(sup, f.name), getattr(default, f.name)
        if value != base:
            notes.append(f"{f.name}={value!r}")
    if sup.accepts is not None:
        notes.append("accepts=<filter>")
    lines = [f"  support: {', '.join(notes) if notes else 'everything poolref does'}"]
    diff = beh.differences()
    lines.append(
        f"  behaviour: {', '.join(diff) if diff else 'PyTorch rules (ties: first; NaN: last NaN; plane indices)'}"
    )
    lines.append(f"  backward: {'checked' if cand.backward is not None else 'none'}")
    return lines


def _verify_target(args) -> int:
    """Check TARGET: in a worker process (the default) or, with ``--in-process``, in this one."""
    if args.in_process:
        if args.timeout is not None:
            msg = "--timeout needs the worker process: drop --in-process"
            raise UsageError(msg)
        return _check_target(_candidate(args), args)
    from .testing import _worker

    # by module name: run as `python -m poolref`, this function's module is __main__
    recipe = functools.partial(importlib.import_module("poolref.__main__")._candidate, args)
    cand = None
    try:
        with _worker.isolated(recipe, timeout=args.timeout or _worker.DEFAULT_TIMEOUT) as cand:
            return _check_target(cand, args)
    except _worker.WorkerError as exc:
        if cand is not None:
            raise
        original = exc.original  # raised by _candidate in the worker: UsageError keeps its one line
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


def _check_target(cand, args) -> int:
    from . import testing

    progress = _Progress(args.quiet)
    ndim = None if args.ndim is None else tuple(args.ndim)
    if not args.quiet:
        print(f"poolref verify: {cand.label} against poolref.naive")
        for line in _describe(cand):
            print(line)
        sys.stdout.flush()
    try:
        summary = testing.check_max_pool(
            cand,
            ndim=ndim,
            budget=args.profile,
            max_examples=args.examples,
            seed=args.seed,
            corners=not args.no_corners,
            progress=progress,
            behaviour=args.behaviour,
            strict=True if args.strict else (False if ":" in args.target else None),
            max_cases=args.max_cases,
            time_budget=args.time_budget,
            scale=not args.no_scale,
            max_elements=args.max_elements,
        )
    except AssertionError as exc:
        progress.done()
        print(str(exc))
        failed = getattr(exc, "summary", None)
        if failed is not None:
            print("\n" + str(failed))
        _write_results(failed, args)
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
    _write_results(summary, args)
    print(f"PASS: {summary}")
    if summary.profile and summary.profile != "pytorch (no difference)":
        print(f"  declare it: {_profile_flags(summary.profile)}")
    return EXIT_PASS


def _profile_flags(profile: str) -> str:
    """``nan=first signed_zero=any`` as the flags that declare it: ``--nan first --signed-zero any``."""
    flags = []
    for item in profile.split():
        name, _, value = item.partition("=")
        flag = "--padding-rule" if name == "padding" else "--" + name.replace("_", "-")
        flags.append(f"{flag} {value}")
    return " ".join(flags)


def _write_results(summary, args) -> None:
    if summary is None:
        return
    for path, text in ((args.json, summary.to_json), (args.junit_xml, summary.to_junit_xml)):
        if path:
            try:
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(text())
            except OSError as exc:
                print(f"poolref verify: cannot write {path}: {exc}", file=sys.stderr)


def _verify_self(args) -> int:
    """``poolref verify`` without a target: poolref's implementations against the oracle."""
    from . import adapters, testing

    def load(module: str):
        try:
            return importlib.import_module(f"poolref.{module}")
        except Exception as exc:  # noqa: BLE001
            msg = f"cannot import poolref.{module}: {type(exc).__name__}: {exc}"
            raise UsageError(msg) from None

    fast, im2col = load("fast"), load("im2col")
    candidates = [
        adapters.poolref_module(fast),
        adapters.nn_layers(fast, name="poolref.fast.MaxPool1d/2d/3d layers"),
        adapters.poolref_module(im2col),
        adapters.layer(
            im2col.Maxpool,
            dtypes=testing.ALL_DTYPES,
            name="poolref.im2col.Maxpool (tutorial layer)",
        ),
    ]
    examples = args.examples
    import hypothesis
    import numpy as np

    from . import __version__

    print(
        f"poolref verify: poolref {__version__}'s implementations against the naive oracle "
        f"(numpy {np.__version__}, hypothesis {hypothesis.__version__})"
    )
    start = time.perf_counter()
    width = max(len(c.label) for c in candidates)
    total_cases = 0
    for cand in candidates:
        # the scale cases are judged by poolref.fast: they check the others against it
        scale = not args.no_scale and not cand.label.startswith("poolref.fast")
        progress = _Progress(args.quiet, prefix=f"  {cand.label}: ", transient=True)
        ndims = (
            cand.support.ndims
            if args.ndim is None
            else tuple(n for n in args.ndim if n in cand.support.ndims)
        )
        if not ndims:
            continue
        try:
            summary = testing.check_max_pool(
                cand,
                ndim=ndims,
                budget=args.profile,
                max_examples=examples,
                seed=args.seed,
                corners=not args.no_corners,
                progress=progress,
                scale=scale,
                max_elements=args.max_elements,
            )
        except AssertionError as exc:
            progress.done()
            print(str(exc))
            print(f"FAIL: {cand.label} disagrees with poolref.naive")
            return EXIT_FAIL
        progress.done()
        total_cases += (
            summary.corner_cases
            + summary.examples
            + (n_scale := summary.scale.cases if scale else 0)
        )
        ranks = "/".join(f"{n}-D" for n in summary.ndims)
        print(
            f"  {cand.label:<{width}}  {ranks:<10} {summary.corner_cases:4d} corner + {n_scale:3d} scale + "
            f"{summary.examples:4d} random cases  ok  {summary.seconds:5.1f} s"
        )
        sys.stdout.flush()
    print(
        f"PASS: {len(candidates)} implementations agree with poolref.naive on {total_cases} cases "
        f"({time.perf_counter() - start:.1f} s)"
    )
    return EXIT_PASS


def _list_adapters() -> int:
    from . import adapters

    print("named adapters (poolref verify NAME); 'ok': its framework is importable here:")
    for name, (_, description) in adapters.NAMED.items():
        ok, missing = adapters.importable(name)
        status = "ok" if ok else f"missing {', '.join(missing)}"
        print(f"  {name:<26} {status:<22} {description}")
    return EXIT_PASS


def main(argv=None) -> int:
    """Entry point of the ``poolref`` console script; returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    if args.version:
        from . import __version__

        print(f"poolref {__version__}")
        return EXIT_PASS
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
        if args.target is None:
            if args.backward:
                msg = "--backward needs a TARGET"
                raise UsageError(msg)
            if args.timeout is not None:
                msg = "--timeout needs a TARGET (poolref's own implementations run in this process)"
                raise UsageError(msg)
            return _verify_self(args)
        return _verify_target(args)
    except UsageError as exc:
        print(f"poolref verify: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("poolref verify: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

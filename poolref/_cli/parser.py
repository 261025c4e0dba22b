"""The argument parser of ``poolref`` and ``poolref verify``.

The declaration flags mirror the fields of :class:`poolref.testing.Support`
(:data:`.common.DECLARATION_FLAGS`); the behaviour flags are generated from the rule catalogue
(:func:`.common.behaviour_rules`), one per rule. The order of the ``add_argument`` calls is the
order of ``--help``.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

from .common import (
    DEFAULT_TIMEOUT,
    EXIT_USAGE,
    VALUE_DOMAINS,
    behaviour_rules,
    rule_dest,
    rule_flag,
)
from .database import add_database_flags
from .fuzz import add_fuzz_parser


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (the usage is one ``--help`` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _ranks(value: str) -> tuple[int, ...]:
    """``--ndim`` takes one value, ``2`` or ``1,2``: a space-separated list would swallow TARGET."""
    ranks = tuple(int(v) if v.strip() in ("1", "2", "3") else 0 for v in value.split(","))
    if 0 in ranks:
        msg = f"invalid choice: {value!r} (choose 1, 2 or 3, or several as 1,2)"
        raise argparse.ArgumentTypeError(msg)
    return ranks


def _seconds(value: str) -> float:
    """A positive, finite number of seconds (``--timeout``, ``--time-budget``)."""
    seconds = float(value) if value.replace(".", "", 1).isdigit() else 0.0
    if not 0 < seconds < float("inf"):
        msg = f"must be a number of seconds > 0 such as 60 or 2.5, got {value!r}"
        raise argparse.ArgumentTypeError(msg)
    return seconds


def build_parser() -> argparse.ArgumentParser:
    """The parser of the ``poolref`` command, with its ``verify`` subcommand."""
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
    _add_target(verify)
    _add_budget(verify.add_argument_group("budget"))
    _add_results(verify.add_argument_group("results for CI"))
    add_database_flags(
        verify.add_argument_group("example database (counterexamples kept across runs)")
    )
    _add_isolation(
        verify.add_argument_group(
            "isolation (TARGET runs in a worker process, so a crash or a hang fails its case)"
        )
    )
    _add_support(
        verify.add_argument_group("what the target supports (cases outside it are not generated)")
    )
    _add_behaviour(
        verify.add_argument_group(
            "implementation-defined behaviour it follows (default: PyTorch's)"
        )
    )
    add_fuzz_parser(sub)
    return parser


def _add_target(verify: argparse.ArgumentParser) -> None:
    """What to check: TARGET, its backward, the operation, or the list of named adapters."""
    verify.add_argument(
        "target", nargs="?", metavar="TARGET", help="what to check (default: poolref itself)"
    )
    verify.add_argument(
        "--backward",
        metavar="MODULE:FUNCTION",
        help="backward b(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode)",
    )
    verify.add_argument(
        "--op",
        choices=("max_pool", "adaptive", "fractional"),
        default="max_pool",
        help="which operation TARGET computes (default max_pool; adaptive: f(x, output_size); "
        "fractional: f(x, kernel_size, output_size, random_samples))",
    )
    verify.add_argument(
        "--list",
        action="store_true",
        help="list the named adapters, with whether each framework is importable here, and exit",
    )


def _add_budget(run: argparse._ArgumentGroup) -> None:
    """How much to check: ranks, Hypothesis budget, corner and scale cases, caps."""
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
        help="most input elements of one scale case (default 33554432: the sparse planes above 2^24 fit)",
    )
    run.add_argument("-q", "--quiet", action="store_true", help="print only the verdict")


def _add_results(out: argparse._ArgumentGroup) -> None:
    """The report files for CI."""
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


def _add_isolation(iso: argparse._ArgumentGroup) -> None:
    """The worker process TARGET runs in."""
    iso.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help=f"seconds one call of the target may take (default {DEFAULT_TIMEOUT:g}; "
        "torch-compile: 900, a compile is part of a call)",
    )
    iso.add_argument(
        "--in-process",
        action="store_true",
        help="run TARGET in this process: faster, but an exit, a crash or a hang ends the run",
    )


def _add_support(sup: argparse._ArgumentGroup) -> None:
    """The declaration flags: what the target supports (the fields of ``Support``)."""
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
        choices=VALUE_DOMAINS,
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


def _add_behaviour(beh: argparse._ArgumentGroup) -> None:
    """``--behaviour`` and one flag per named rule of the catalogue."""
    beh.add_argument(
        "--behaviour",
        choices=("pytorch", "auto"),
        default="pytorch",
        help="pytorch: a difference from PyTorch fails (the report names a rule that explains it); "
        "auto: a difference a named rule explains is accepted and printed as the target's profile",
    )
    for name, choices in behaviour_rules().items():
        beh.add_argument(
            rule_flag(name),
            dest=rule_dest(name),
            choices=[c for c in choices if c is not None],
        )

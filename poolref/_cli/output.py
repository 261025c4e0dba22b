"""What ``poolref verify`` prints and writes besides the verdict.

Progress lines on stderr, the description of a target's declarations, the flags that declare a
measured behaviour profile, and the ``--json`` and ``--junit-xml`` files.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import TYPE_CHECKING

from .common import rule_flag

if TYPE_CHECKING:
    from ..testing import Candidate, Summary


class Progress:
    """Progress lines on stderr; counters overwrite each other on a terminal.

    When stderr is not a terminal (piped to a file or a CI log), a counter is printed as its own
    line every :attr:`EVERY` examples, so a slow run still shows it is alive.
    """

    EVERY = 100

    def __init__(self, quiet: bool, prefix: str = "  ", *, transient: bool = False) -> None:
        self.quiet = quiet
        self.prefix = prefix
        self.transient = transient
        self.tty = sys.stderr.isatty()
        self.pending = False

    def __call__(self, message: str) -> None:
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

    def done(self) -> None:
        """Clear a counter left on the terminal's last line."""
        if self.pending:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self.pending = False


def describe(cand: Candidate) -> list[str]:
    """The lines under ``poolref verify: TARGET``: its support, behaviour and backward."""
    from .. import testing

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


def profile_flags(profile: str) -> str:
    """``nan=first signed_zero=any`` as the flags that declare it: ``--nan first --signed-zero any``."""
    flags = []
    for item in profile.split():
        name, _, value = item.partition("=")
        flags.append(f"{rule_flag(name)} {value}")
    return " ".join(flags)


def write_results(summary: Summary | None, args: argparse.Namespace) -> None:
    """Write ``--json`` and ``--junit-xml`` (a path that cannot be written is a warning)."""
    if summary is None:
        return
    for path, text in ((args.json, summary.to_json), (args.junit_xml, summary.to_junit_xml)):
        if path:
            try:
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(text())
            except OSError as exc:
                print(f"poolref verify: cannot write {path}: {exc}", file=sys.stderr)

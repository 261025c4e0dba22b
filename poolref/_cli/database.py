"""``--database`` and ``--read-only`` of ``poolref verify`` (and ``poolref fuzz``): the flags, and
the check that the database can be used, made before the worker starts or any case runs."""

from __future__ import annotations

import argparse

from .common import UsageError


def add_database_flags(group: argparse._ArgumentGroup) -> None:
    """The flags of the example database group."""
    group.add_argument(
        "--database",
        metavar="DIR|redis://HOST:PORT[/DB]",
        help="keep every counterexample in this Hypothesis example database (a directory or a "
        "Redis URL) and replay the stored ones first",
    )
    group.add_argument(
        "--read-only",
        action="store_true",
        help="replay the database's counterexamples but save nothing (for CI)",
    )


def check_database(args: argparse.Namespace) -> None:
    """Raise :class:`UsageError` for a malformed or unreachable ``--database`` (or a lone ``--read-only``)."""
    database = getattr(args, "database", None)
    if database is None:
        if getattr(args, "read_only", False):
            msg = "--read-only needs --database DIR|redis://HOST:PORT[/DB]"
            raise UsageError(msg)
        return
    from ..testing._database import open_database

    try:
        open_database(database, read_only=args.read_only)
    except (ValueError, TypeError, ImportError) as exc:
        raise UsageError(
            str(exc)
            .replace("check_max_pool: database=", "--database ")
            .replace("read_only=True", "--read-only")
        ) from None

"""What the CLI's modules share: exit statuses, the usage error and the flag tables."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

EXIT_PASS, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
#: poolref.testing._worker.DEFAULT_TIMEOUT (not imported: the module loads lazily)
DEFAULT_TIMEOUT = 60.0

#: flag dest -> Support field (False when the flag is given)
DECLARATION_FLAGS: dict[str, str] = {
    "no_padding": "padding",
    "no_dilation": "dilation",
    "no_ceil_mode": "ceil_mode",
    "no_indices": "indices",
    "no_unbatched": "unbatched",
    "no_non_contiguous": "non_contiguous",
    "no_backward_dilation": "backward_dilation",
}

#: poolref.testing.Support.values
VALUE_DOMAINS = ("any", "finite", "nonnegative", "positive")
_BEHAVIOUR_DEST = {"padding": "padding_rule"}


class UsageError(Exception):
    """A problem with the command line or the environment (exit status 2)."""


def behaviour_rules() -> Mapping[str, tuple[str | None, ...]]:
    """The named rules (``poolref.testing._declare.BEHAVIOUR_RULES``): one flag per field."""
    from ..testing._declare import BEHAVIOUR_RULES

    return BEHAVIOUR_RULES


def rule_flag(name: str) -> str:
    """The flag of the behaviour rule ``name``: ``signed_zero`` -> ``--signed-zero``."""
    return "--padding-rule" if name == "padding" else "--" + name.replace("_", "-")


def rule_dest(name: str) -> str:
    """The attribute of the parsed arguments that holds the behaviour rule ``name``."""
    return _BEHAVIOUR_DEST.get(name, name)


def search_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The ``check_max_pool`` arguments every run of ``poolref verify`` takes from its flags."""
    return {
        "budget": args.profile,
        "max_examples": args.examples,
        "seed": args.seed,
        "corners": not args.no_corners,
        "max_elements": args.max_elements,
        "database": getattr(args, "database", None),
        "read_only": getattr(args, "read_only", False),
    }

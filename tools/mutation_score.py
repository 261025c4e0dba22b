"""Fail unless mutmut killed at least a given share of its mutants.

Reads ``mutants/mutmut-cicd-stats.json`` (written by ``mutmut export-cicd-stats``)
and applies the score of docs/mutation.md: killed / (total - skipped), where a
timeout, a survivor, a suspicious mutant and a mutant with no tests all count
as not killed. Usage: ``python tools/mutation_score.py [--min 0.95] [STATS]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stats", nargs="?", default="mutants/mutmut-cicd-stats.json")
    parser.add_argument(
        "--min", type=float, default=0.95, help="lowest acceptable score (default 0.95)"
    )
    args = parser.parse_args(argv)
    stats = json.loads(Path(args.stats).read_text())
    scored = stats["total"] - stats.get("skipped", 0)
    if scored <= 0:
        print(f"mutation score: no mutants were run ({stats})")
        return 1
    score = stats["killed"] / scored
    summary = ", ".join(f"{k} {v}" for k, v in stats.items())
    verdict = "ok" if score >= args.min else f"below the required {args.min:.1%}"
    print(f"mutation score: {stats['killed']}/{scored} = {score:.1%} ({summary}): {verdict}")
    return 0 if score >= args.min else 1


if __name__ == "__main__":
    sys.exit(main())

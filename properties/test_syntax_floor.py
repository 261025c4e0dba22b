"""The syntax floor: every .py file must parse on the oldest Python in ``requires-python`` (3.10).

``ast.parse(feature_version=(3, 10))`` does not reject 3.11 syntax such as a starred
index, so the 3.11+ forms this project could plausibly use are looked for directly.
CI also runs ``ruff check --target-version py310 --select E9`` (the complete check).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(
    p for d in ("poolref", "properties", "asv_bench", "tools") for p in (ROOT / d).rglob("*.py")
)


def _newer_than_310(source: str) -> list[str]:
    """Line numbers and forms of 3.11+ syntax: ``a[*b]`` / ``a[x, *b]`` and ``except*``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple):
            starred = any(isinstance(e, ast.Starred) for e in node.slice.elts)
            segment = ast.get_source_segment(source, node.slice) or ""
            if starred and not segment.startswith("("):  # x[(a, *b)] is valid 3.10
                found.append(f"line {node.lineno}: starred index")
        if type(node).__name__ == "TryStar":
            found.append(f"line {node.lineno}: except*")
    return found


@pytest.mark.skipif(
    sys.version_info < (3, 11), reason="on 3.10 ast.parse itself rejects 3.11 syntax"
)
def test_the_check_sees_a_starred_index():
    assert _newer_than_310("x[..., :0, *s]") == ["line 1: starred index"]
    assert _newer_than_310("x[(..., *s)]\nx[a, b]\nf(*s)") == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_parses_on_python_310(path):
    source = path.read_text(encoding="utf-8")
    ast.parse(source, feature_version=(3, 10))
    assert _newer_than_310(source) == []

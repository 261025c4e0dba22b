"""List functions longer than a limit (docstrings excluded) and modules longer than a limit.

    python tools/function_lengths.py [--max-function 60] [--max-module 500] PATH...

Exits 1 if any is over; used by properties/test_layout.py to keep the package readable.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path


def _docstring_lines(node: ast.AST) -> int:
    body = getattr(node, "body", [])
    first = body[0] if body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return first.end_lineno - first.lineno + 1
    return 0


def long_functions(path: Path, limit: int) -> list[tuple[str, int]]:
    """``(qualified name, lines)`` of every function in ``path`` over ``limit`` lines."""
    tree = ast.parse(path.read_text())
    found = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    length = child.end_lineno - child.lineno + 1 - _docstring_lines(child)
                    if length > limit:
                        found.append((name, length))
                visit(child, name + ".")

    visit(tree, "")
    return found


def module_lines(path: Path) -> int:
    return len(path.read_text().splitlines())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--max-function", type=int, default=60)
    parser.add_argument("--max-module", type=int, default=500)
    args = parser.parse_args(argv)
    bad = 0
    files = [
        p for root in args.paths for p in (sorted(root.rglob("*.py")) if root.is_dir() else [root])
    ]
    for path in files:
        if module_lines(path) > args.max_module:
            print(f"{path}: {module_lines(path)} lines (module limit {args.max_module})")
            bad += 1
        for name, length in long_functions(path, args.max_function):
            print(f"{path}: {name} is {length} lines (function limit {args.max_function})")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

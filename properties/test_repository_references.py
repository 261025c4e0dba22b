"""Every reference in the repository resolves inside it.

No tracked file may mention the design notes of the development machine
(they are not in the repository) or an absolute path on it, and every
relative link of a Markdown page must name a file that exists.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Built from pieces so that this file does not match itself.
_NOTES = "|".join(re.escape(name + ".md") for name in ("SEMANTICS", "ECOSYSTEM", "DESIGN", "STYLE"))
OUTSIDE = re.compile(
    rf"(?:{_NOTES})"  # notes kept outside the repository
    r"|\.\./shared"  # the folder they live in, relative to a checkout
    r"|(?<![\w.~/-])/"
    r"work(?:/|\b)"  # an absolute path on the development machine
)
# [text](target) links; the target's first character decides whether it is relative
MD_LINK = re.compile(r"\]\(([^)\s]+)\)")


def tracked_files() -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout (an sdist): the tracked files are unknown")
    return [ROOT / name for name in out.split("\0") if name]


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
        return None  # binary, or deleted in the working tree


def test_the_outside_pattern_catches_what_it_should():
    hits = [
        "see " + "SEMANTICS" + ".md §7",
        "(" + "ECOSYSTEM" + ".md §2)",
        "../" + "shared/notes.txt",
        "`/" + "work/shared/x`",
        "cd /" + "work",
    ]
    misses = ["https://example.org/work/x", "docs/work/x", "network/work", "homework/"]
    assert all(OUTSIDE.search(s) for s in hits), [s for s in hits if not OUTSIDE.search(s)]
    assert not any(OUTSIDE.search(s) for s in misses), [s for s in misses if OUTSIDE.search(s)]


def test_no_tracked_file_refers_to_files_outside_the_repository():
    found = []
    for path in tracked_files():
        text = _text(path)
        for lineno, line in enumerate((text or "").splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()[:100]}")
    assert found == [], "references to files outside the repository:\n" + "\n".join(found)


def test_relative_markdown_links_resolve():
    broken = []
    for path in tracked_files():
        if path.suffix != ".md" or (text := _text(path)) is None:
            continue
        for target in MD_LINK.findall(text):
            if re.match(r"^[a-z][a-z0-9+.-]*:|^#", target):  # a URL, or an anchor on the page
                continue
            file_part = target.split("#", 1)[0]
            if not (path.parent / file_part).exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert broken == [], "relative links to missing files:\n" + "\n".join(broken)

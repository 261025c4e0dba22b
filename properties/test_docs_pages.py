"""The documentation pages say what the code does (no Sphinx needed).

Every ``>>>`` example in ``docs/*.md`` runs as a doctest, the getting-started
walk-through gives the output it shows, and the API reference pages list
every public name of their module.
"""

from __future__ import annotations

import ast
import dataclasses
import doctest
import importlib
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
GETTING_STARTED = DOCS / "getting-started.md"
API_PAGES = {
    "poolref": "poolref.md",
    "poolref.im2col": "im2col.md",
    "poolref.naive": "naive.md",
    "poolref.testing": "testing.md",
    "poolref.adapters": "adapters.md",
    "poolref.strategies": "strategies.md",
}


@pytest.mark.parametrize(
    "page", [p for p in PAGES if ">>> " in p.read_text()], ids=lambda p: p.name
)
def test_examples_in_the_page_run(page):
    result = doctest.testfile(
        str(page),
        module_relative=False,
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
    )
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} example(s) of {page.name} failed (output above)"


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def _shown_runs(text: str) -> list[tuple[list[str], list[str]]]:
    """``(argv after 'poolref', shown output lines)`` of each ``$ poolref verify my_pool`` block."""
    runs = []
    for block in _blocks(text, "console"):
        first, *shown = block.splitlines()
        if first.startswith("$ poolref verify my_pool"):
            runs.append((first.split()[2:], [ln for ln in shown if ln.strip() != "..."]))
    return runs


def _same_line(shown: str, actual: str) -> bool:
    timing = r"\d+(\.\d+)? s\)"  # wall time varies from run to run
    return re.sub(timing, "T", shown.strip()) == re.sub(timing, "T", actual.strip())


def test_getting_started_walkthrough_gives_the_output_it_shows(tmp_path):
    pytest.importorskip("hypothesis")
    text = GETTING_STARTED.read_text()
    module_source = next(b for b in _blocks(text, "python") if "def my_pool(" in b)
    (tmp_path / "my_pool.py").write_text(module_source)
    runs = _shown_runs(text)
    assert [argv[-1] for argv in (r[0] for r in runs)] == ["--no-unbatched", "any"], runs
    env = {"PYTHONPATH": f"{tmp_path}:{ROOT}", "CI": "true", "PATH": "/usr/bin:/bin"}
    for (argv, shown), status in zip(runs, (1, 0)):
        proc = subprocess.run(
            [sys.executable, "-m", "poolref", *argv],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        out = (proc.stdout + proc.stderr).splitlines()
        assert proc.returncode == status, "\n".join(out)
        missing = [ln for ln in shown if not any(_same_line(ln, a) for a in out)]
        assert missing == [], "lines the page shows but the run did not print:\n" + "\n".join(
            missing
        )


def test_getting_started_pytest_snippet_passes(tmp_path, monkeypatch):
    pytest.importorskip("hypothesis")
    text = GETTING_STARTED.read_text()
    blocks = _blocks(text, "python")
    (tmp_path / "my_pool.py").write_text(next(b for b in blocks if "def my_pool(" in b))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "my_pool", raising=False)
    namespace: dict = {}
    exec(next(b for b in blocks if "def test_my_pool" in b), namespace)
    namespace["test_my_pool"]()


@pytest.mark.parametrize("module_name", sorted(API_PAGES))
def test_api_page_documents_every_public_name(module_name):
    module = importlib.import_module(module_name)
    public = [n for n in module.__all__ if not isinstance(getattr(module, n), types.ModuleType)]
    page = (DOCS / "api" / API_PAGES[module_name]).read_text()
    documented = set(re.findall(r"^\.\. auto(?:function|class|data):: (\w+)", page, flags=re.M))
    listed = set(re.findall(r"^   (\w+)$", page, flags=re.M))
    assert f".. automodule:: {module_name}\n" in page
    assert sorted(set(public) - documented) == [], f"{API_PAGES[module_name]} lacks these"
    assert sorted(set(public) - listed) == [], (
        f"the summary table of {API_PAGES[module_name]} lacks these"
    )


def _table_rows(text: str, heading: str) -> dict[str, str]:
    """``{first cell: whole row}`` of the first table after ``heading``, one key per `name` in it."""
    section = text[text.index(heading) :]
    rows = {}
    for line in section.splitlines()[2:]:
        if line.startswith("## "):
            break
        if line.startswith("| `"):
            first = line.split("|")[1]
            for name in re.findall(r"`(\w+)`", first):
                rows[name] = line
    return rows


def _allowed_values(field: str) -> tuple:
    from poolref.testing import Behaviour

    with pytest.raises(ValueError, match="must be one of") as info:
        Behaviour(**{field: "__not_a_rule__"})
    return ast.literal_eval(re.search(r"must be one of (\(.*?\)), got", str(info.value)).group(1))


def test_harness_page_lists_every_declaration_and_value():
    from poolref.testing import Behaviour, Support

    text = (DOCS / "harness.md").read_text()
    support = _table_rows(text, "## What it supports")
    assert sorted({f.name for f in dataclasses.fields(Support)} - set(support)) == []
    behaviour = _table_rows(text, "## Which rules it follows")
    assert sorted({f.name for f in dataclasses.fields(Behaviour)} - set(behaviour)) == []
    for name, row in behaviour.items():
        if name in ("index_dtype", "nan_backward"):
            continue  # any integer dtype name; the nan row's rules
        values = [v for v in _allowed_values(name) if v is not None]
        missing = [v for v in values if f'"{v}"' not in row]
        assert missing == [], f"the {name} row of harness.md lacks {missing}"


def test_every_flag_the_pages_name_exists():
    pytest.importorskip("hypothesis")
    help_text = subprocess.run(
        [sys.executable, "-m", "poolref", "verify", "--help"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    ).stdout  # fmt: skip
    known = set(re.findall(r"(--[a-z][a-z0-9-]*)", help_text))
    for page in ("harness.md", "getting-started.md"):
        named = set(re.findall(r"(--[a-z][a-z0-9-]*)", (DOCS / page).read_text()))
        assert sorted(named - known) == [], f"{page} names flags poolref verify does not have"


def _toctree_entries(page: Path) -> set[Path]:
    entries = set()
    for block in re.findall(r"```\{toctree\}\n(.*?)```", page.read_text(), flags=re.S):
        for line in block.splitlines():
            if line.strip() and not line.startswith(":"):
                target = re.sub(r"^.*<(.+)>$", r"\1", line.strip())
                entries.add((page.parent / f"{target}.md").resolve())
    return entries


def test_every_page_is_in_a_toctree():
    """Sphinx -W fails on a page no toctree lists: add a new page to index.md or a section page."""
    listed = set().union(*(_toctree_entries(p) for p in PAGES))
    orphans = [
        p.relative_to(DOCS).as_posix()
        for p in PAGES
        if p.name != "index.md" and p.resolve() not in listed
    ]
    assert orphans == []
    missing = [p.relative_to(DOCS).as_posix() for p in listed if not p.is_file()]
    assert missing == []

"""The package is ready for PyPI: license, metadata, a README that reads right there, full sdist.

The metadata and README checks always run. The checks of the built
distributions need ``POOLREF_DIST``, a folder holding the sdist and the wheel
of this checkout (``.ci/run`` builds them with ``python -m build`` and sets it).
"""

from __future__ import annotations

import os
import re
import tarfile
import zipfile
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
README = (ROOT / "README.md").read_text()
MD_LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_license_is_an_spdx_expression_with_its_file():
    assert PROJECT["license"] == "MIT"
    assert PROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert (
        text.startswith("MIT License\n") and "Permission is hereby granted, free of charge" in text
    )
    # PEP 639: a License classifier next to an SPDX expression is an error for setuptools
    assert not any(c.startswith("License ::") for c in PROJECT["classifiers"])


def test_metadata_has_urls_status_and_python_versions():
    urls = PROJECT["urls"]
    assert {"Homepage", "Documentation", "Source", "Issues", "Changelog"} <= set(urls)
    assert all(u.startswith("https://") for u in urls.values()), urls
    classifiers = PROJECT["classifiers"]
    assert sum(c.startswith("Development Status ::") for c in classifiers) == 1
    versions = sorted(
        int(c.rsplit(".", 1)[1])
        for c in classifiers
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    )
    minimum = int(re.fullmatch(r">=3\.(\d+)", PROJECT["requires-python"]).group(1))
    assert versions and versions[0] == minimum, (versions, PROJECT["requires-python"])
    assert versions == list(range(versions[0], versions[-1] + 1)), versions


def test_docs_extra_has_what_the_site_needs():
    docs = " ".join(PROJECT["optional-dependencies"]["docs"])
    for name in ("sphinx", "numpydoc", "pydata-sphinx-theme", "myst-parser", "beautifulsoup4"):
        assert name in docs
    # autodoc imports poolref.strategies and poolref.testing: without the strategies extra
    # (Hypothesis) `pip install -e ".[docs]"` and `sphinx -W` failed with 106 warnings
    missing = set(PROJECT["optional-dependencies"]["strategies"]) - set(
        PROJECT["optional-dependencies"]["docs"]
    )
    assert not missing, f"the docs extra lacks {missing}"


def test_readme_links_are_absolute_and_point_at_the_repository():
    """PyPI shows README.md without the repository around it: relative links break there."""
    links = MD_LINK.findall(README)
    assert links, "the README has no links"
    source = PROJECT["urls"]["Source"]
    relative = [u for u in links if not re.match(r"^https?://", u)]
    assert relative == [], f"relative links break on PyPI: {relative}"
    foreign = [u for u in links if not u.startswith(source)]
    assert foreign == [], f"links outside {source}: {foreign}"


def test_readme_has_the_pypi_install_line():
    assert 'pip install "poolref[strategies]"' in README


def _dist(pattern: str) -> Path:
    folder = os.environ.get("POOLREF_DIST")
    if not folder:
        pytest.skip("POOLREF_DIST is not set: .ci/run builds the distributions and runs this")
    found = sorted(Path(folder).glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {folder}, found {found}"
    return found[0]


def test_sdist_carries_the_tests_docs_benchmarks_and_license():
    sdist = _dist("poolref-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    tracked = {p.relative_to(ROOT).as_posix() for p in ROOT.glob("properties/*.py")}
    tracked |= {p.relative_to(ROOT).as_posix() for p in ROOT.glob("docs/**/*.md")}
    tracked |= {p.relative_to(ROOT).as_posix() for p in ROOT.glob("asv_bench/*.py")}
    tracked |= {
        "LICENSE",
        "README.md",
        "pyproject.toml",
        "docs/conf.py",
        "asv.conf.json",
        "poolref/py.typed",
    }
    assert sorted(tracked - names) == [], "missing from the sdist"
    junk = [
        n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.startswith("docs/_build")
    ]
    assert junk == []


def test_wheel_holds_the_package_and_the_license_only():
    wheel = _dist("poolref-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        metadata = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"poolref", next(t for t in tops if t.endswith(".dist-info"))}, tops
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "poolref/py.typed" in names and "poolref/testing/__init__.py" in names
    assert "License-Expression: MIT" in metadata and "License-File: LICENSE" in metadata
    assert "Project-URL: Source, " in metadata
    assert "Description-Content-Type: text/markdown" in metadata

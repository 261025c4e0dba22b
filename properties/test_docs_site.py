"""The documentation site builds with warnings as errors, and a real browser shows its pages.

Needs the docs extra (``pip install -e ".[docs]"``: Sphinx, numpydoc,
pydata-sphinx-theme, MyST) and Chromium. On a developer machine without them
these tests skip; when ``CI`` is set a missing tool is a failure. Set
``POOLREF_DOCS_HTML`` to an already built site (``python -m sphinx -W -b
html docs docs/_build/html``) to look at that one instead of building again.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IN_CI = bool(os.environ.get("CI"))
DOCS_PACKAGES = ("sphinx", "numpydoc", "pydata_sphinx_theme", "myst_parser", "bs4")
MAX_POOL2D_PARAMETERS = [
    "x", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices",
]  # fmt: skip
PAGES = [
    "index.html", "getting-started.html", "user-guide.html", "semantics.html", "harness.html",
    "behaviours.html", "api/index.html", "api/poolref.html", "api/testing.html",
    "benchmarks.html", "changelog.html", "development.html",
]  # fmt: skip


def _require(what: str, available: bool) -> None:
    if not available:
        if IN_CI:
            pytest.fail(f"{what} is missing, and CI must build and look at the site")
        pytest.skip(f"{what} is not installed")


def _chromium() -> str:
    found = next(
        filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None
    )
    _require("Chromium (apt-get install chromium)", found is not None)
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, str | None]:
    """The built site and Sphinx's warnings (None for ``POOLREF_DOCS_HTML``, built with -W already)."""
    missing = [m for m in DOCS_PACKAGES if importlib.util.find_spec(m) is None]
    _require(f"the docs extra ({', '.join(missing)})", not missing)
    if os.environ.get("POOLREF_DOCS_HTML"):
        return Path(os.environ["POOLREF_DOCS_HTML"]).resolve(), None
    out, work = tmp_path_factory.mktemp("html"), tmp_path_factory.mktemp("sphinx")
    # Not -W: the warnings are collected for their own test, and the pages
    # are still built for the others.
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "--keep-going",
        "-q",
        "-b",
        "html",
        "-w",
        str(work / "warnings"),
    ]
    proc = subprocess.run(
        [*command, "-d", str(work / "doctrees"), str(ROOT / "docs"), str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, f"sphinx failed:\n{proc.stderr[-6000:]}"
    return out, (work / "warnings").read_text()


@pytest.fixture(scope="module")
def site(built) -> Path:
    return built[0]


def test_site_builds_without_warnings(built):
    """What ``sphinx -W`` (CI) would turn into errors."""
    warnings = built[1]
    if warnings is None:
        pytest.skip(
            "POOLREF_DOCS_HTML: the site was built with sphinx -W, which failed on any warning"
        )
    assert warnings == "", f"Sphinx warned:\n{warnings[-6000:]}"


def _parameter_entries(html: str, function_id: str) -> list[str]:
    """Names of the top-level entries of a function's numpydoc "Parameters" list."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    signature = soup.find("dt", id=function_id)
    assert signature is not None, f"no entry with id {function_id!r}"
    body = signature.find_next_sibling("dd")
    field = next(
        (dt for dt in body.select("dl.field-list > dt") if dt.get_text().startswith("Parameters")),
        None,
    )
    assert field is not None, f"{function_id} has no Parameters section"
    entries = field.find_next_sibling("dd").find("dl", recursive=False)
    assert entries is not None, f"{function_id}'s Parameters section is not a list"
    return [
        dt.find("strong").get_text()
        for dt in entries.find_all("dt", recursive=False)
        if dt.find("strong")
    ]


def test_site_has_every_page(site):
    missing = [page for page in PAGES if not (site / page).is_file()]
    assert missing == []
    api = (site / "api" / "poolref.html").read_text()
    for name in ("max_pool1d", "max_pool2d_backward", "max_unpool3d", "MaxPool2d"):
        assert f'id="poolref.{name}"' in api, f"the API page does not document poolref.{name}"


def test_max_pool2d_lists_each_parameter_as_its_own_entry(site):
    html = (site / "api" / "poolref.html").read_text()
    assert _parameter_entries(html, "poolref.max_pool2d") == MAX_POOL2D_PARAMETERS


def _headless(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
        "--disable-background-networking", "--disable-component-update", "--hide-scrollbars",
        f"--user-data-dir={profile}",
    ]  # fmt: skip
    return subprocess.run([chromium, *flags, *args], capture_output=True, text=True, timeout=120)


def _png_facts(path: Path) -> tuple[int, int, float]:
    """Width, height, and the fraction of non-zero bytes in the filtered image data."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    idat, pos = b"", 8
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos : pos + 4]), data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    # PNG filters turn flat regions into zeros: a blank page is almost all zeros
    return width, height, 1 - raw.count(0) / len(raw)


def _screenshot(chromium: str, tmp_path: Path, url: str, name: str) -> Path:
    png = tmp_path / f"{name}.png"
    proc = _headless(chromium, tmp_path / f"profile-{name}", "--window-size=1280,1600",
                     f"--screenshot={png}", url)  # fmt: skip
    assert png.is_file(), (
        f"Chromium wrote no screenshot (exit {proc.returncode}):\n{proc.stderr[-2000:]}"
    )
    return png


def test_chromium_screenshots_show_rendered_pages(site, tmp_path):
    chromium = _chromium()
    # Chromium's headless screenshot of a URL with a #fragment comes out blank,
    # so the API page is framed, scrolled to max_pool2d, in a page of our own.
    frame = tmp_path / "api-max_pool2d.html"
    target = (site / "api" / "poolref.html").as_uri() + "#poolref.max_pool2d"
    frame.write_text(
        '<!DOCTYPE html><html><body style="margin:0">'
        f'<iframe src="{target}" style="border:0;width:1280px;height:1600px"></iframe></body></html>'
    )
    shots = {
        "getting-started": (site / "getting-started.html").as_uri(),
        "api-max_pool2d": frame.as_uri(),
    }
    for name, url in shots.items():
        png = _screenshot(chromium, tmp_path, url, name)
        width, height, ink = _png_facts(png)
        print(f"screenshot: {png} ({png.stat().st_size} bytes, ink {ink:.3f})")
        assert (width, height) == (1280, 1600), f"{name}: {width}x{height}"
        # measured: a blank page is ~9 KB with ink < 0.001; these pages ~250 KB with ink > 0.05
        assert png.stat().st_size > 40_000 and ink > 0.01, (
            f"{name}: the screenshot {png} looks blank"
        )


def test_chromium_dom_lists_each_parameter_of_max_pool2d(site, tmp_path):
    chromium = _chromium()
    proc = _headless(
        chromium, tmp_path / "profile", "--dump-dom", (site / "api" / "poolref.html").as_uri()
    )
    assert proc.returncode == 0 and "max_pool2d" in proc.stdout, proc.stderr[-2000:]
    assert _parameter_entries(proc.stdout, "poolref.max_pool2d") == MAX_POOL2D_PARAMETERS

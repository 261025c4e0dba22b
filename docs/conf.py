"""Sphinx configuration of the poolref documentation site.

Build (warnings are errors, as in CI)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The pages are Markdown (MyST); the API reference is generated from the
numpydoc docstrings by autodoc and autosummary.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document the checkout, installed or not

import poolref  # noqa: E402

project = "poolref"
author = "poolref maintainers"
copyright = "2026, poolref maintainers"
release = poolref.__version__
version = release

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**/.ipynb_checkpoints"]

# MyST: "#tensorflow"-style links to headings, and ``` {eval-rst} for directives.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

# autodoc + numpydoc: document what each module exports, in source order.
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc's "Parameters" sections carry the types
autosummary_generate = False  # tables only; the entries are documented on the same page
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "pydata_sphinx_theme"
html_title = f"poolref {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_static_path: list[str] = []
html_show_sourcelink = False
# Pages without sub-pages need no section navigation on the left.
html_sidebars = {name: [] for name in ("index", "getting-started", "benchmarks", "changelog")}

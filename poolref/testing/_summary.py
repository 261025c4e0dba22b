"""The result of a run: every distinct difference found, what the target does not support, the
profile of rules it follows, and what was covered; as text, a dict (JSON) and JUnit XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

#: Features the default budget must reach for a candidate that supports everything.
HARD_CORNERS = (
    "N > 1 and C > 1",
    "unbatched",
    "ties",
    "NaN",
    "+inf",
    "-inf",
    "all -inf window",
    "signed zeros",
    "negative values next to padding",
    "padding",
    "ceil_mode",
    "ceil_mode with padding",
    "dilation",
    "empty window",
    "odd sizes",
    "non-square window",
    "overlapping windows",
    "non-contiguous",
    "float16 plane > 2048",
    "8-bit plane > 256",
    "indices",
    "backward",
)


@dataclass
class Difference:
    """One distinct kind of difference, shrunk to its own smallest case.

    Parameters
    ----------
    kind : str
        The check and where it showed, e.g. ``"indices: NaN window"``.
    check : str
        The failing check (``"values"``, ``"indices"``, ``"gradient"`` ...).
    detail : str
        The first differing element, as one line.
    report : str
        The full report: case, window, expected and actual, reproduction.
    found_by : str
        Which corner case or search found it, with the seed of a random search.
    rule : str or None
        A named rule that explains it (``"nan='first'"``): the target follows a documented
        convention that is not PyTorch's. None for a difference no rule explains (a bug).
    failed : bool
        Whether it fails the run (always for bugs; for explained differences unless the
        behaviour is inferred with ``behaviour="auto"``).
    """

    kind: str
    check: str
    detail: str
    report: str
    found_by: str
    rule: str | None = None
    failed: bool = True

    def to_dict(self) -> dict[str, str | bool | None]:
        """Every field, JSON-ready."""
        return dict(self.__dict__)


@dataclass
class Summary:
    """What a :func:`check_max_pool` run did and found.

    Built by :func:`check_max_pool`; every argument is also an attribute of
    the same name.

    Parameters
    ----------
    name : str
        The candidate's label.
    ndims : tuple of int
        Spatial ranks checked.
    corner_cases : int
        Fixed corner cases run.
    examples : int
        Hypothesis examples run.
    features : dict of str to int
        Feature name -> number of cases (corner and Hypothesis) exercising it.
    not_covered : tuple of str
        Hard corners (:data:`HARD_CORNERS`) that no case reached (usually
        because the candidate does not support them).
    notes : dict of str to int
        Things skipped on purpose, with counts.
    seconds : float
        Wall time.
    seed : int or None
        The seed of the Hypothesis search (None when derandomized).
    differences : list of Difference
        Every distinct difference, most severe first (empty for a pass).
    unsupported : list of str
        Capabilities the target rejected when probed, with the exception.
    profile : str
        The rules the target follows where they differ from PyTorch's, as
        declarations to paste (``nan=first signed_zero=any``).
    scale : ScaleRun or None
        The scale cases (:mod:`poolref.testing._scale`): how many ran, the
        seams they exercised and what was skipped; None when ``scale=False``.
    """

    name: str
    ndims: tuple[int, ...]
    corner_cases: int = 0
    examples: int = 0
    features: dict[str, int] = field(default_factory=dict)
    not_covered: tuple[str, ...] = ()
    notes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    seed: int | None = None
    differences: list[Difference] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    profile: str = ""
    # a ScaleRun or None; typed Any until poolref/__main__.py narrows it before reading .cases
    scale: Any = None

    @property
    def failed(self) -> list[Difference]:
        """The differences that fail the run."""
        return [d for d in self.differences if d.failed]

    @property
    def verdict(self) -> str:
        """``"FAIL"`` if any difference fails the run, else ``"PASS"``."""
        return "FAIL" if self.failed else "PASS"

    def __str__(self) -> str:
        ranks = ", ".join(f"{n}-D" for n in self.ndims)
        head = (
            "no counterexample" if not self.failed else f"{len(self.failed)} distinct difference(s)"
        )
        lines = [
            f"{self.name}: {head} ({ranks}; {self.corner_cases} corner cases, "
            f"{self.examples} Hypothesis examples, {self.seconds:.1f} s)"
        ]
        if self.profile:
            lines.append(f"  profile: {self.profile}")
        covered = [f"{k} ({v})" for k, v in self.features.items() if k in HARD_CORNERS]
        if covered:
            lines.append("  covered: " + ", ".join(covered))
        if self.not_covered:
            lines.append("  not covered: " + ", ".join(self.not_covered))
        lines.extend(f"  not supported: {line}" for line in self.unsupported)
        lines.extend(f"  note: {note} ({count} cases)" for note, count in self.notes.items())
        if self.scale is not None:
            from ._scale import summary_lines

            lines.extend("  " + line for line in summary_lines(self.scale))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready."""
        return {
            "verdict": self.verdict,
            "name": self.name,
            "ndims": list(self.ndims),
            "corner_cases": self.corner_cases,
            "examples": self.examples,
            "seconds": round(self.seconds, 3),
            "seed": self.seed,
            "profile": self.profile,
            "unsupported": list(self.unsupported),
            "not_covered": list(self.not_covered),
            "features": dict(self.features),
            "notes": dict(self.notes),
            "differences": [d.to_dict() for d in self.differences],
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2, default=str)

    def to_junit_xml(self) -> str:
        """One ``<testsuite>``: a test case per difference, plus one that passes if none fails."""
        failed = self.failed
        suite = ET.Element(
            "testsuite",
            name=f"poolref verify {self.name}",
            tests=str(max(1, len(self.differences))),
            failures=str(len(failed)),
            errors="0",
            skipped="0",
            time=f"{self.seconds:.3f}",
        )
        for diff in self.differences:
            case = ET.SubElement(
                suite, "testcase", classname=f"poolref.{self.name}", name=diff.kind, time="0"
            )
            if diff.failed:
                node = ET.SubElement(case, "failure", message=diff.detail, type=diff.check)
                node.text = diff.report
            else:
                out = ET.SubElement(case, "system-out")
                out.text = f"explained by the rule {diff.rule}\n{diff.report}"
        if not self.differences:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"poolref.{self.name}",
                name="all checks",
                time=f"{self.seconds:.3f}",
            )
            out = ET.SubElement(case, "system-out")
            out.text = str(self)
        return ET.tostring(suite, encoding="unicode", xml_declaration=True)

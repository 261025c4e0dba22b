"""The README is part of the product: its example must run and its commands must be what CI runs."""

import doctest
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _bash_blocks(text: str) -> list[list[str]]:
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [
        [ln for ln in b.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        for b in blocks
    ]


def test_readme_example_runs_as_written():
    result = doctest.testfile(
        str(README), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.attempted > 0, "the README example was not found"
    assert result.failed == 0, f"{result.failed} README example line(s) failed"


def test_readme_first_two_commands_are_the_main_job_and_the_tests():
    first, second = _bash_blocks(README.read_text())[:2]
    assert len(first) == 1 and first[0].endswith("poolref verify"), first
    assert len(second) == 1 and "pytest" in second[0], second


def test_ci_runs_the_readme_commands_verbatim():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    for block in _bash_blocks(README.read_text())[:2]:
        for line in block:
            assert line in ci, f".ci/run does not run the README command {line!r}"

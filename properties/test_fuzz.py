"""``poolref fuzz``: the checks as HypoFuzz targets, sharing the example database with
``poolref verify`` (seconds: a bug HypoFuzz finds in a few seconds, then the run stops)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("hypofuzz")

HERE = os.path.dirname(os.path.abspath(__file__))


def poolref(*argv, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "poolref", *argv],
        cwd=HERE,  # TARGET broken:... imports from here
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": HERE},
    )


def test_fuzz_with_two_workers_stores_the_bug_and_verify_reports_it_first(tmp_path):
    db = str(tmp_path / "db")
    fuzz = poolref(
        "fuzz", "broken:nan_first_forward", "--workers", "2", "--database", db,
        "--no-dashboard", "--until-found", "--time-limit", "90", "--verify-flags", "--ndim 2",
    )  # fmt: skip
    assert fuzz.returncode == 1, fuzz.stdout + fuzz.stderr
    assert "1 stored counterexample(s) of broken:nan_first_forward" in fuzz.stdout
    verify = poolref(
        "verify", "broken:nan_first_forward", "--ndim", "2", "--database", db,
        "--no-corners", "--no-scale", "--examples", "0", "--in-process",
    )  # fmt: skip
    assert verify.returncode == 1, verify.stdout + verify.stderr
    assert "found by: database replay (1 of 1, key 'poolref:broken:nan_first_forward:" in (
        verify.stdout
    )


def test_the_written_module_is_a_hypothesis_test_pytest_collects(tmp_path):
    module = tmp_path / "test_generated.py"
    db = str(tmp_path / "db")
    wrote = poolref(
        "fuzz", "broken:correct_forward", "--database", db, "--write", str(module),
        "--verify-flags", "--ndim 1,2",
    )  # fmt: skip
    assert wrote.returncode == 0, wrote.stdout + wrote.stderr
    collect = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            str(module),
        ],  # fmt: skip
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "test_broken_correct_forward_1d" in collect.stdout, collect.stdout + collect.stderr
    assert "test_broken_correct_forward_2d" in collect.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--database", "redis://127.0.0.1:1"], "is unreachable"),
        (["--database", "db", "--workers", "0"], "--workers must be >= 1"),
        (["--database", "db", "--verify-flags", "--ndim 7"], "are not poolref verify's flags"),
    ],
)
def test_bad_fuzz_arguments_are_usage_errors(tmp_path, argv, message):
    bad = poolref("fuzz", "broken:correct_forward", *argv)
    assert bad.returncode == 2
    assert message in bad.stderr

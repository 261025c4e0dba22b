"""Isolation: a target that exits, crashes, hangs, returns a view of its input or reshapes it fails
its case, in a worker process (the CLI's default, ``check_max_pool(isolate=True)``) and, where the
process survives, in-process too; the worker keeps every input's memory layout."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import crashing_targets as ct
import numpy as np
import pytest

from poolref.arrays import LAYOUTS, with_layout
from poolref.testing import Candidate, check_max_pool
from poolref.testing._worker import TargetCrashed, isolated

HERE = Path(__file__).parent
ROOT = HERE.parent
ARGS = ((2,), (2,), (0,), (1,), False)


def verify(*argv):
    """``python -m poolref verify ...`` in a subprocess, from properties/ (so crashing_targets imports)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "poolref", "verify", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=HERE,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("target", "flags", "check", "case"),
    [
        ("exits_on_padding", (), "[target exited (status 0)]", r"padding=\([1-9],\)"),
        ("os_exits_on_dilation", (), "[target exited (status 0)]", r"dilation=\([2-9],\)"),
        ("segfaults_on_ceil_mode", (), "[target crashed (signal SIGSEGV)]", r"ceil_mode=True"),
        ("aborts_on_float16", (), "[target crashed (signal SIGABRT)]", r"x\.dtype=float16"),
        ("hangs_on_kernel_3", ("--timeout", "1"), "[timeout (1 s)]", r"kernel_size=\(3,\)"),
        (
            "returns_view_for_kernel_1",
            (),
            "[output aliases input]",
            r"kernel_size=\(1,\), stride=\(1,\)",
        ),
        (
            "reshapes_input",
            (),
            "[input modified]: the forward changed its input x in place: shape",
            r"\(N, C, spatial\)",
        ),
    ],
)
def test_the_cli_reports_a_crash_as_a_failure_of_its_case(target, flags, check, case):
    run = verify(f"crashing_targets:{target}", "--ndim", "1", "--examples", "0", *flags)
    assert run.returncode == 1, run.stdout + run.stderr
    assert check in run.stdout, run.stdout
    lines = run.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("  case: "))
    assert re.search(case, lines[at] + lines[at + 1]), (
        run.stdout
    )  # the case named is one that triggers it
    assert "reproduce:" in run.stdout
    assert run.stdout.rstrip().splitlines()[-1].startswith(f"FAIL: crashing_targets:{target}: ")


def test_an_exit_while_importing_the_target_is_a_one_line_usage_error():
    run = verify("crashing_at_import:forward", "--ndim", "1", "--examples", "0")
    assert run.returncode == 2, run.stdout + run.stderr
    assert "exited with status 0 while it was being loaded" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("target", "check"),
    [
        ("returns_view_for_kernel_1", "[output aliases input]"),
        ("reshapes_input", "[input modified]: the forward changed its input x in place: shape"),
        ("exits_on_padding", "[target exited (status 0)]"),  # sys.exit is an exception here
    ],
)
def test_in_process_a_view_a_reshape_or_sys_exit_fails_its_case(target, check):
    with pytest.raises(AssertionError) as info:
        check_max_pool(getattr(ct, target), ndim=1, max_examples=0)
    report = str(info.value)
    assert check in report and "case: max_pool1d" in report


def _reported_x(report: str) -> np.ndarray:
    line = next(line for line in report.splitlines() if line.startswith("  x = "))
    return eval(line.split("=", 1)[1], {"np": np})


@pytest.mark.parametrize("isolate", [False, True])
def test_a_modified_input_is_reported_with_the_input_as_generated(isolate):
    """The target writes zeros into x: in the worker that reaches the caller's array, and the
    report shows the case as generated (the target got a copy with the same strides)."""
    with pytest.raises(AssertionError) as info:
        check_max_pool(ct.writes_input, ndim=1, max_examples=0, isolate=isolate)
    report = str(info.value)
    assert "[input modified]" in report and "is now 0.0" in report
    assert np.any(_reported_x(report) != 0)


def test_isolation_keeps_the_memory_layout():
    """A target that reads memory as if C-contiguous is caught in a worker too (pickle alone
    would have handed it a C-contiguous copy)."""
    with pytest.raises(AssertionError) as info:
        check_max_pool(ct.reads_memory_as_c_order, ndim=1, max_examples=0, isolate=True)
    assert "[values]" in str(info.value) and "(non-contiguous)" in str(info.value)


@pytest.mark.parametrize("forked", [False, True], ids=["fresh interpreter", "fork"])
def test_the_worker_sees_the_same_strides_and_bytes(forked):
    forward = (
        ct.layout_seen if not forked else (lambda *a: ct.layout_seen(*a))
    )  # a lambda does not pickle
    base = np.arange(2 * 3 * 5, dtype=np.float32).reshape(2, 3, 5)
    with isolated(Candidate(forward), timeout=30) as proxy:
        for layout in LAYOUTS:
            x = with_layout(base, layout)
            strides, span = proxy.forward(x, *ARGS)
            assert tuple(strides) == x.strides, layout
            assert np.array_equal(span, ct.layout_seen(x, *ARGS)[1]), layout  # gaps included


def test_the_worker_restarts_after_a_crash_and_keeps_exception_types():
    x = np.arange(8.0).reshape(1, 2, 4)
    with isolated(Candidate(ct.segfaults_on_ceil_mode), timeout=30) as proxy:
        with pytest.raises(TargetCrashed) as info:
            proxy.forward(x, (2,), (2,), (0,), (1,), True)
        assert (info.value.kind, info.value.detail, info.value.check) == (
            "signal",
            "SIGSEGV",
            "target crashed (signal SIGSEGV)",
        )
        y, idx = proxy.forward(x, *ARGS)  # a fresh worker
        assert y.tolist() == [[[1.0, 3.0], [5.0, 7.0]]] and idx.dtype == np.int64
        assert proxy.label == "crashing_targets.segfaults_on_ceil_mode"
    with isolated(Candidate(ct.raises_value_error), timeout=30) as proxy:
        with pytest.raises(ValueError, match="expected a 4-D array, got 3-D") as info:
            proxy.forward(x, *ARGS)
        assert type(info.value).__name__ == "ValueError"


def test_timeout_needs_isolation_and_must_be_positive():
    with pytest.raises(ValueError, match="needs isolate=True"):
        check_max_pool(ct.correct, max_examples=0, timeout=5)
    with pytest.raises(ValueError, match="timeout=0"):
        check_max_pool(ct.correct, max_examples=0, isolate=True, timeout=0)


def test_isolation_adds_little_for_a_correct_target():
    """Same cases, same verdict; the worker costs its start plus about a millisecond a call."""
    start = time.perf_counter()
    inside = check_max_pool(ct.correct, ndim=1, max_examples=20, seed=1)
    middle = time.perf_counter()
    isolated_summary = check_max_pool(ct.correct, ndim=1, max_examples=20, seed=1, isolate=True)
    end = time.perf_counter()
    assert (isolated_summary.corner_cases, isolated_summary.examples) == (
        inside.corner_cases,
        inside.examples,
    )
    assert isolated_summary.features == inside.features
    calls = inside.corner_cases + inside.examples
    assert (end - middle) - (
        middle - start
    ) < 10 + 0.02 * calls  # start-up + 20 ms a call, generously


def test_a_crash_found_by_the_search_ends_it_without_shrinking():
    with pytest.raises(AssertionError) as info:
        check_max_pool(
            ct.segfaults_on_ceil_mode,
            ndim=1,
            corners=False,
            scale=False,
            max_examples=100,
            isolate=True,
        )
    report = str(info.value)
    assert "[target crashed (signal SIGSEGV)]" in report and "ceil_mode=True" in report
    assert "not shrunk (the target crashed) after" in report


def test_a_support_filter_that_does_not_pickle_runs_in_the_worker(capsys):
    """The CLI's process never imports TARGET: a Support(accepts=lambda ...) is called in the worker."""
    from poolref.__main__ import main

    code = main(
        [
            "verify",
            "crashing_targets:stride_2_only",
            "--ndim",
            "1",
            "--examples",
            "5",
            "--no-corners",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert (
        "accepts=<filter>" in out
        and "\nPASS: crashing_targets.stride_2_only: no counterexample" in out
    )

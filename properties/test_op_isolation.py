"""The adaptive and fractional checks reuse check_max_pool's worker isolation, capability probe
and time budget: a crashing, exiting or hanging target is reported, not fatal; a float32-only
target is "not supported" for the other dtypes, not failed; a declared dtype it rejects fails."""

from __future__ import annotations

import time

import op_targets
import pytest

from poolref.testing import Support, check_adaptive_max_pool, check_fractional_max_pool


def _one_rank(target, **kw):
    kw.setdefault("max_examples", 0)
    return check_adaptive_max_pool(
        target, ndims=(1,), dtypes=("float64",), raise_on_failure=False, **kw
    )


@pytest.mark.parametrize(
    ("target", "check"),
    [
        (op_targets.aborts, "target crashed (signal SIGABRT)"),
        (op_targets.exits, "target exited (status 0)"),
    ],
)
def test_a_crash_or_an_exit_fails_its_case_and_the_run_goes_on(target, check):
    s = _one_rank(target, isolate=True)
    assert [d.check for d in s.failed] == [check]
    assert "nan" in s.failed[0].found_by  # the triggering case: NaN with Out > In
    assert s.corner_cases == 36  # every corner case ran: the worker restarted after the crash


def test_a_crash_found_by_the_search_is_reported_unshrunk():
    s = check_fractional_max_pool(
        op_targets.fractional_aborts_on_kernel_1,
        ndims=(2,),
        dtypes=("float64",),
        isolate=True,
        corners=False,
        max_examples=30,
        raise_on_failure=False,
        seed=1,
    )
    assert [d.check for d in s.failed] == ["target crashed (signal SIGABRT)"]
    assert "not shrunk (the target crashed)" in s.failed[0].found_by


def test_sys_exit_in_process_fails_its_case_too():
    s = _one_rank(op_targets.exits)
    assert [d.check for d in s.failed] == ["target exited (status 0)"]


def test_a_hanging_target_times_out():
    start = time.perf_counter()
    s = _one_rank(op_targets.hangs, isolate=True, timeout=0.5)
    assert [d.check for d in s.failed] == ["timeout (0.5 s)"]
    assert "did not finish within 0.5 s" in s.failed[0].detail
    assert time.perf_counter() - start < 30


def test_timeout_needs_isolation():
    with pytest.raises(ValueError, match="needs isolate=True"):
        _one_rank(op_targets.adaptive, timeout=1)


def test_a_float32_only_target_is_probed_not_failed():
    s = check_adaptive_max_pool(op_targets.float32_only, ndims=(2,), max_examples=10)
    assert s.verdict == "PASS" and s.features.get("float32")
    assert len(s.unsupported) == 1 and "float64" in s.unsupported[0]
    assert "only float32 is implemented" in s.unsupported[0]
    s = check_fractional_max_pool(op_targets.fractional_float32_only, ndims=(2,), max_examples=5)
    assert s.verdict == "PASS" and "float16" in s.unsupported[0]


def test_a_declared_dtype_it_rejects_fails():
    s = check_adaptive_max_pool(
        op_targets.float32_only,
        support=Support(dtypes=("float32", "float64")),
        ndims=(2,),
        max_examples=0,
        raise_on_failure=False,
    )
    # declared: the probe's finding fails the run, and the float64 cases still run (and fail)
    assert [d.kind for d in s.failed] == ["unsupported: float64", "forward raised"]
    s = check_adaptive_max_pool(
        op_targets.float32_only, dtypes=("float32",), ndims=(2,), max_examples=0
    )
    assert s.verdict == "PASS" and not s.unsupported


def test_the_time_budget_stops_the_run():
    def slow(x, output_size):
        time.sleep(0.05)
        return op_targets.adaptive(x, output_size)

    s = check_adaptive_max_pool(slow, time_budget=0.3, max_examples=50)
    assert s.verdict == "PASS"
    assert s.notes.get("corner cases skipped: time budget", 0) > 0
    assert s.seconds < 5


def test_the_cli_isolates_the_target_by_default(capsys, monkeypatch):
    from poolref.__main__ import main

    monkeypatch.chdir(__file__.rsplit("/", 1)[0])
    argv = ["verify", "--op", "adaptive", "op_targets:aborts", "--examples", "0", "--ndim", "1"]
    assert main([*argv, "--dtypes", "float64"]) == 1
    out = capsys.readouterr().out
    assert "target crashed (signal SIGABRT)" in out and "FAIL" in out
    assert main(["verify", "--op", "adaptive", "op_targets:float32_only", "--examples", "5"]) == 0
    out = capsys.readouterr().out
    assert "not supported: float64, float16, int8" in out and "PASS" in out
    argv = ["verify", "--op", "adaptive", "op_targets:hangs", "--ndim", "1", "--examples", "0"]
    assert main([*argv, "--timeout", "0.5", "--dtypes", "float64"]) == 1
    assert "timeout (0.5 s)" in capsys.readouterr().out


@pytest.mark.slow
def test_keras_sigfpe_is_a_failure_of_its_case_not_of_the_run(capsys):
    """docs/findings.md K1: keras 3.15.1's adaptive_max_pool kills its process on float32 Out > In."""
    keras = pytest.importorskip("keras")
    pytest.importorskip("tensorflow")
    if keras.__version__ != "3.15.1" or keras.backend.backend() != "tensorflow":
        pytest.skip("the finding is recorded for keras 3.15.1 on the TensorFlow backend")
    from poolref.__main__ import main

    argv = ["verify", "--op", "adaptive", "keras", "--ndim", "1", "--examples", "0"]
    assert main([*argv, "--dtypes", "float32", "--no-indices", "--no-unbatched"]) == 1
    out = capsys.readouterr().out
    assert "[target crashed (signal SIGFPE)]" in out
    assert "found by: corner case distinct (1,) -> (3,)" in out  # about 50 s: TF loads per crash

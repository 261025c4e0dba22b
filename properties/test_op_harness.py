"""check_fractional_max_pool (and what it shares with check_adaptive_max_pool): it fails the broken
fractional pools, passes poolref's and torch's, and reports JSON/JUnit like check_max_pool."""

from __future__ import annotations

import json

import broken_fractional
import numpy as np
import op_targets
import pytest
from hypothesis import given, settings

import poolref
from poolref.strategies import fractional_cases
from poolref.testing import Support, check_fractional_max_pool


def _backward(g, x, kernel_size, output_size, random_samples):
    fn = getattr(poolref, f"fractional_max_pool{len(output_size)}d_backward")
    return fn(g, x, kernel_size, output_size, None, random_samples)


@pytest.mark.parametrize(
    "broken", [broken_fractional.round_intervals, broken_fractional.last_not_forced]
)
def test_fails_the_broken_fractional_pools(broken):
    summary = check_fractional_max_pool(broken, max_examples=10, raise_on_failure=False)
    assert summary.verdict == "FAIL"
    assert {d.check for d in summary.failed} >= {"values", "indices"}
    report = summary.failed[0].report
    assert "random_samples = np.array(" in report and "input positions" in report
    assert "reproduce: poolref.fractional_max_pool" in report
    data = json.loads(summary.to_json())
    assert data["verdict"] == "FAIL" and data["differences"]
    assert "<failure" in summary.to_junit_xml()
    with pytest.raises(AssertionError, match=r"\[values\]"):
        check_fractional_max_pool(broken, max_examples=0)


def test_passes_poolref_with_its_backward():
    summary = check_fractional_max_pool(op_targets.fractional, _backward, max_examples=10)
    assert summary.verdict == "PASS" and summary.corner_cases > 100 and summary.examples == 10
    assert {"backward", "indices", "NaN", "-inf", "ties", "unbatched", "signed zeros"} <= set(
        summary.features
    )
    assert summary.unsupported == []


def test_catches_a_wrong_gradient_a_view_and_modified_samples():
    def half(g, x, kernel_size, output_size, u):
        return _backward(g, x, kernel_size, output_size, u) / 2

    s = check_fractional_max_pool(
        op_targets.fractional, half, ndims=(2,), max_examples=0, raise_on_failure=False
    )
    assert [d.check for d in s.failed] == ["gradient"]

    def writes_samples(x, kernel_size, output_size, u):
        y = op_targets.fractional(x, kernel_size, output_size, u)
        u[...] = 0
        return y

    s = check_fractional_max_pool(
        writes_samples, ndims=(2,), max_examples=0, raise_on_failure=False
    )
    assert [d.check for d in s.failed] == ["input modified"]
    assert "random_samples" in s.failed[0].detail

    def no_indices(x, kernel_size, output_size, u):
        return op_targets.fractional(x, kernel_size, output_size, u)[0]

    s = check_fractional_max_pool(no_indices, ndims=(3,), max_examples=5)
    assert s.unsupported == ["indices (the forward returns the output only)"]
    declared = Support(indices=True, dtypes=("float64",))
    s = check_fractional_max_pool(
        no_indices, ndims=(3,), support=declared, max_examples=0, raise_on_failure=False
    )
    assert s.failed and s.failed[0].check == "unsupported"


def test_the_sign_of_a_zero_is_compared():
    def plus_zero(x, kernel_size, output_size, u):
        y, i = op_targets.fractional(x, kernel_size, output_size, u)
        y[y == 0] = 0  # every zero becomes +0.0
        return y, i

    s = check_fractional_max_pool(plus_zero, ndims=(2,), max_examples=0, raise_on_failure=False)
    assert [d.check for d in s.failed] == ["values"]
    assert "expected -0.0" in s.failed[0].detail and "signed zeros" in s.failed[0].found_by


def test_a_rank_that_rejects_the_full_span_is_probed_per_rank():
    def no_full_span_in_3d(x, kernel_size, output_size, u):
        if len(output_size) == 3 and any(
            o + k - 1 == n for o, k, n in zip(output_size, kernel_size, x.shape[-3:])
        ):
            msg = f"pool time {kernel_size[0]} too large"
            raise RuntimeError(msg)
        return op_targets.fractional(x, kernel_size, output_size, u)

    s = check_fractional_max_pool(no_full_span_in_3d, max_examples=30)
    assert s.verdict == "PASS"
    assert s.unsupported == [
        "output_size + kernel_size - 1 == input size (3-D) (forward raised RuntimeError: pool time 2 too large)"
    ]


@settings(max_examples=40, deadline=None)
@given(fractional_cases(max_side=5))
def test_the_strategy_draws_valid_cases(c):
    assert (
        c.random_samples.shape[-1] == c.nd
        and ((c.random_samples >= 0) & (c.random_samples < 1)).all()
    )
    assert c.random_samples.dtype == (c.x.dtype if c.x.dtype.kind == "f" else np.float64)
    for n, k, o in zip(c.x.shape[-c.nd :], c.kernel_size, c.output_size):
        assert o >= 1 and o + k - 1 <= n
    fn = getattr(poolref, f"fractional_max_pool{c.nd}d")
    y = fn(c.x, c.kernel_size, c.output_size, random_samples=c.random_samples)
    assert y.shape[-c.nd :] == c.output_size


@settings(max_examples=20, deadline=None)
@given(fractional_cases(full_span=False, ndims=(3,)))
def test_the_strategy_can_leave_out_the_full_span(c):
    assert all(o + k - 1 < n for n, k, o in zip(c.x.shape[-3:], c.kernel_size, c.output_size))


@pytest.mark.torch
@pytest.mark.slow
def test_passes_torch():
    pytest.importorskip("torch")
    from poolref.adapters import torch_fractional

    summary = check_fractional_max_pool(*torch_fractional(), name="torch", max_examples=20)
    assert summary.verdict == "PASS"
    # torch 2.13: the 3-D form rejects out + k - 1 == n, the 2-D form accepts it
    assert any("(3-D)" in line for line in summary.unsupported)
    assert not any("(2-D)" in line for line in summary.unsupported)


def test_verify_op_fractional(tmp_path, capsys, monkeypatch):
    from poolref.__main__ import main

    monkeypatch.chdir(__file__.rsplit("/", 1)[0])
    out, xml = tmp_path / "r.json", tmp_path / "r.xml"
    argv = ["verify", "--op", "fractional", "broken_fractional:round_intervals", "--examples", "5"]
    status = main([*argv, "--json", str(out), "--junit-xml", str(xml), "--in-process"])
    text = capsys.readouterr().out
    assert status == 1 and "FAIL" in text and "input positions" in text
    assert json.loads(out.read_text())["differences"] and "<failure" in xml.read_text()
    assert main(["verify", "--op", "fractional", "--examples", "5", "--ndim", "2"]) == 0
    assert "poolref: no counterexample (2-D;" in capsys.readouterr().out
    assert main(["verify", "--op", "fractional", "nonsense"]) == 2
    assert main(["verify", "--op", "fractional", "--no-padding"]) == 2
    assert "takes no declaration of padding" in capsys.readouterr().err

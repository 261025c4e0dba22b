"""``check_adaptive_max_pool``: it fails the broken adaptive pools and passes correct ones."""

from __future__ import annotations

import json

import broken_adaptive
import pytest

import poolref
from poolref.testing import check_adaptive_max_pool


def _poolref(x, output_size):
    return getattr(poolref, f"adaptive_max_pool{len(output_size)}d")(x, output_size, True)


def _poolref_backward(g, x, output_size):
    return getattr(poolref, f"adaptive_max_pool{len(output_size)}d_backward")(g, x, output_size)


@pytest.mark.parametrize("broken", [broken_adaptive.floor_end, broken_adaptive.first_width])
def test_fails_the_broken_pools(broken):
    summary = check_adaptive_max_pool(
        broken, name="broken", max_examples=20, raise_on_failure=False
    )
    assert summary.verdict == "FAIL"
    assert {d.check for d in summary.failed} >= {"values", "indices"}
    report = summary.failed[0].report
    assert "output_size = " in report and "input positions" in report
    data = json.loads(summary.to_json())
    assert data["differences"] and "testcase" in summary.to_junit_xml()
    with pytest.raises(AssertionError, match=r"\[values\]"):
        check_adaptive_max_pool(broken, max_examples=0)


def test_passes_poolref_itself():
    summary = check_adaptive_max_pool(_poolref, _poolref_backward, max_examples=20)
    assert summary.verdict == "PASS" and summary.corner_cases > 50 and summary.examples == 20


def test_catches_a_wrong_gradient_a_view_and_a_modified_input():
    def half_gradient(g, x, output_size):
        return _poolref_backward(g, x, output_size) / 2

    s = check_adaptive_max_pool(_poolref, half_gradient, max_examples=0, raise_on_failure=False)
    assert [d.check for d in s.failed] == ["gradient"]

    def view(x, output_size):
        return x if x.shape[2:] == tuple(output_size) else _poolref(x, output_size)

    s = check_adaptive_max_pool(view, ndims=(1,), max_examples=0, raise_on_failure=False)
    assert [d.check for d in s.failed] == ["output aliases input"]

    def modifies(x, output_size):
        y = _poolref(x, output_size)
        x[...] = 0
        return y

    s = check_adaptive_max_pool(modifies, ndims=(2,), max_examples=0, raise_on_failure=False)
    assert [d.check for d in s.failed] == ["input modified"]


@pytest.mark.torch
def test_passes_torch():
    pytest.importorskip("torch")
    from poolref.adapters import torch_adaptive

    summary = check_adaptive_max_pool(*torch_adaptive(), name="torch", max_examples=20)
    assert summary.verdict == "PASS"


def test_verify_op_adaptive(tmp_path, capsys, monkeypatch):
    from poolref.__main__ import main

    monkeypatch.chdir(__file__.rsplit("/", 1)[0])
    out = tmp_path / "r.json"
    status = main(
        [
            "verify",
            "--op",
            "adaptive",
            "broken_adaptive:floor_end",
            "--examples",
            "5",
            "--json",
            str(out),
            "--in-process",  # the output is the claim here (test_op_isolation.py: the worker)
        ]
    )
    text = capsys.readouterr().out
    assert status == 1 and "FAIL" in text and "input positions" in text
    assert json.loads(out.read_text())["differences"]
    assert (
        main(["verify", "--op", "adaptive", "--examples", "5", "--ndim", "1", "--in-process"]) == 0
    )
    assert "poolref: no counterexample (1-D;" in capsys.readouterr().out

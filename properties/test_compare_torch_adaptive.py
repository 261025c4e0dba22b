"""asv_bench/compare_torch_adaptive.py: a smoke run prints the table and finds torch's results equal."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.torch
def test_quick_run_prints_the_table_and_checks_equality(capsys, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.syspath_prepend(str(ROOT))
    sys.modules.pop("asv_bench.compare_torch_adaptive", None)
    from asv_bench import compare_torch_adaptive

    assert compare_torch_adaptive.main(["--quick", "--configs", "1d,3d", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "| 1-D 2x4x4096 -> 100 | fwd+idx |" in out and "| 3-D" in out and "DIFFERENT" not in out

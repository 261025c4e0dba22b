"""What a user's type checker sees: the real signatures of the public functions, and errors for
wrong argument types. Runs mypy and pyright when installed (``pip install mypy "pyright[nodejs]"``,
both in the ``test`` extra) and skips otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

USER_CODE = """\
import numpy as np
import poolref

x = np.zeros((1, 4, 4))
reveal_type(poolref.max_pool2d)
poolref.max_pool2d(x, kernel_size="two")
poolref.max_pool2d(x, 2, stride=(1, 2), padding=1, dilation=1, ceil_mode=True, return_indices=True)
"""
REVEAL_LINE, BAD_LINE = 5, 6
PARAMETERS = ("x", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")

#: ``pyright --verifytypes poolref --ignoreexternal`` must not fall below this (issue 8 asks for
#: 0.95; measured 1.0 once every public symbol was annotated).
COMPLETENESS_FLOOR = 0.95


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "MYPYPATH": str(ROOT)}


def _assert_signature(text: str) -> None:
    """``text`` shows every parameter by name, in order, with ``kernel_size``'s real type."""
    positions = [text.find(f"{name}:") for name in PARAMETERS]
    assert all(p >= 0 for p in positions), text
    assert positions == sorted(positions), text
    assert "kernel_size: int | tuple[int, ...]" in text, text


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory) -> str:
    pytest.importorskip("mypy", reason="mypy is not installed (pip install mypy)")
    folder = tmp_path_factory.mktemp("mypy")
    (folder / "user.py").write_text(USER_CODE)
    command = [sys.executable, "-m", "mypy", "--cache-dir", str(folder / "cache"), "user.py"]
    done = subprocess.run(
        command, cwd=folder, env=_env(), capture_output=True, text=True, timeout=600
    )
    return done.stdout + done.stderr


def test_mypy_reveals_the_real_signature_of_max_pool2d(mypy_output):
    reveal = [
        line for line in mypy_output.splitlines() if line.startswith(f"user.py:{REVEAL_LINE}:")
    ]
    assert len(reveal) == 1, mypy_output
    assert "Revealed type is" in reveal[0]
    _assert_signature(reveal[0])


def test_mypy_rejects_a_string_kernel_size_and_nothing_else(mypy_output):
    errors = [
        line
        for line in mypy_output.splitlines()
        if line.startswith("user.py:") and ": error:" in line
    ]
    assert len(errors) == 1, mypy_output
    assert errors[0].startswith(f"user.py:{BAD_LINE}:"), mypy_output
    assert '"kernel_size"' in errors[0] and "[arg-type]" in errors[0], mypy_output


def _pyright(args: list[str], cwd: Path) -> dict:
    pytest.importorskip(
        "pyright", reason='pyright is not installed (pip install "pyright[nodejs]")'
    )
    command = [
        sys.executable,
        "-m",
        "pyright",
        "--pythonpath",
        sys.executable,
        "--outputjson",
        *args,
    ]
    done = subprocess.run(command, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=600)
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def pyright_diagnostics(tmp_path_factory) -> list[dict]:
    folder = tmp_path_factory.mktemp("pyright")
    (folder / "user.py").write_text(USER_CODE)
    return _pyright(["user.py"], folder)["generalDiagnostics"]


def test_pyright_reveals_the_real_signature_of_max_pool2d(pyright_diagnostics):
    reveal = [d for d in pyright_diagnostics if d["range"]["start"]["line"] + 1 == REVEAL_LINE]
    assert len(reveal) == 1 and reveal[0]["severity"] == "information", pyright_diagnostics
    _assert_signature(reveal[0]["message"])


def test_pyright_rejects_a_string_kernel_size_and_nothing_else(pyright_diagnostics):
    errors = [d for d in pyright_diagnostics if d["severity"] == "error"]
    assert len(errors) == 1, errors
    assert errors[0]["range"]["start"]["line"] + 1 == BAD_LINE
    assert '"kernel_size"' in errors[0]["message"] or "kernel_size" in errors[0]["message"]


@pytest.fixture(scope="module")
def completeness(tmp_path_factory) -> float:
    report = _pyright(
        ["--verifytypes", "poolref", "--ignoreexternal"], tmp_path_factory.mktemp("verify")
    )
    return report["typeCompleteness"]["completenessScore"]


def test_type_completeness_is_at_least_95_percent(completeness):
    assert completeness >= COMPLETENESS_FLOOR

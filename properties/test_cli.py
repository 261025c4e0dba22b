"""``poolref verify``: exit status 0 (pass), 1 (counterexample), 2 (usage error), and its messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from poolref.__main__ import main

HERE = Path(__file__).parent


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_no_target_verifies_poolref_itself(capsys):
    code, out, err = run(capsys, "verify", "--examples", "3")
    assert code == 0, out + err
    assert "poolref.fast" in out and "poolref.im2col" in out and "Maxpool" in out
    from poolref import _backend

    jit = _backend.numba_available()  # poolref.jit is checked too where numba imports
    assert ("poolref.jit" in out) == jit
    n = 5 if jit else 4
    assert (
        out.rstrip()
        .splitlines()[-1]
        .startswith(f"PASS: {n} implementations agree with poolref.naive")
    )


def test_function_target_with_a_counterexample_exits_1(capsys):
    code, out, err = run(
        capsys,
        "verify",
        "broken:ties_last_forward",
        "--ndim",
        "2",
        "--examples",
        "0",
        "--no-scale",  # broken.py loops in Python: its scale cases took 2 minutes
    )
    assert code == 1
    assert "[indices]" in out and "reproduce:" in out
    assert out.rstrip().splitlines()[-1].startswith("FAIL: broken:ties_last_forward: ")


def test_function_target_that_is_correct_exits_0(capsys):
    code, out, err = run(
        capsys,
        "verify",
        "broken:correct_forward",
        "--backward",
        "broken:correct_backward",
        "--ndim",
        "1",
        "--examples",
        "5",
        "--no-scale",  # broken.py loops in Python: too slow for scale cases
    )
    assert code == 0, out
    assert "PASS:" in out and "backward: checked" in out and "scale:" not in out


def test_declaration_flags_reach_the_harness(capsys):
    code, out, _ = run(
        capsys,
        "verify",
        "broken:nan_first_forward",
        "--nan",
        "first",
        "--ndim",
        "2",
        "--examples",
        "5",
        "--no-scale",
    )
    assert code == 0, out
    assert "nan='first'" in out
    code, out, _ = run(
        capsys,
        "verify",
        "broken:correct_forward",
        "--no-indices",
        "--no-padding",
        "--dtypes",
        "float32,int8",
        "--ndim",
        "2",
        "--examples",
        "5",
        "--no-scale",
    )
    assert code == 0, out
    assert "padding=False" in out and "indices=False" in out and "dtypes=('float32', 'int8')" in out


def test_layer_class_target(capsys):
    code, out, _ = run(capsys, "verify", "poolref.im2col:Maxpool", "--examples", "5")
    assert code == 0, out
    assert "square=True" in out and "exact_fit=True" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["verify", "nosuch"], "unknown TARGET 'nosuch'"),
        (["verify", "no_such_module_xyz:f"], "cannot import module 'no_such_module_xyz'"),
        (["verify", "poolref.naive:no_such_function"], "has no attribute 'no_such_function'"),
        (["verify", "poolref:__version__"], "not a function, class or Candidate"),
        (
            ["verify", "broken:correct_forward", "--backward", "nocolon"],
            "must look like module:attribute",
        ),
        (["verify", "broken:correct_forward", "--dtypes", "complex64"], "complex64"),
        (["verify", "broken:correct_forward", "--examples", "-1"], "--examples must be >= 0"),
        (["verify", "--backward", "broken:correct_backward"], "--backward needs a TARGET"),
    ],
)
def test_usage_errors_exit_2_with_one_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_argparse_errors_exit_2(capsys):
    code, _, err = run(capsys, "verify", "--ndim", "4")
    assert code == 2 and "invalid choice" in err
    code, _, _ = run(capsys, "bogus")
    assert code == 2


def test_missing_torch_is_a_usage_error(capsys, monkeypatch):
    monkeypatch.setitem(
        sys.modules, "torch", None
    )  # import torch -> ImportError (in this process only)
    code, _, err = run(capsys, "verify", "torch", "--in-process")
    assert code == 2
    assert "the 'torch' adapter needs torch" in err and "pip install torch" in err
    assert len(err.strip().splitlines()) == 1


def test_missing_hypothesis_is_a_usage_error(capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "hypothesis" else real(name, *a),
    )
    code, _, err = run(capsys, "verify")
    assert code == 2
    assert "pip install 'poolref[strategies]'" in err


def test_list_and_version(capsys):
    code, out, _ = run(capsys, "verify", "--list")
    assert code == 0
    for name in ("torch", "torch-cuda", "torch-channels-last", "jax", "onnxruntime"):
        assert f"  {name} " in out
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("poolref ")


def test_torch_target_passes(capsys):
    pytest.importorskip("torch")
    code, out, err = run(capsys, "verify", "torch", "--examples", "10")
    assert code == 0, out
    assert "PASS: torch" in out


def test_torch_cuda_without_cuda_exits_2(capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    code, _, err = run(capsys, "verify", "torch-cuda")
    assert code == 2 and "torch.cuda.is_available() is False" in err


@pytest.mark.parametrize("name", ["jax", "onnxruntime"])
def test_other_framework_targets(capsys, name):
    pytest.importorskip(name)
    if name == "onnxruntime":
        pytest.importorskip("onnx")
    code, out, _ = run(capsys, "verify", name, "--ndim", "1", "--examples", "3", "--no-corners")
    assert code == 0, out


def test_console_entry_point_in_a_subprocess():
    """``python -m poolref`` runs the same main(); exit statuses come through."""
    env = {**os.environ, "PYTHONPATH": str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "poolref",
            "verify",
            "broken:zero_padding_forward",
            "--ndim",
            "1",
            "--examples",
            "0",
            "--no-scale",  # broken.py loops in Python: its scale cases took 2 minutes
            "-q",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "[values]" in bad.stdout
    usage = subprocess.run(
        [sys.executable, "-m", "poolref", "verify", "nosuch"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def test_ndim_before_target_does_not_swallow_it(capsys):
    code, out, err = run(
        capsys,
        "verify",
        "--ndim",
        "2",
        "broken:correct_forward",
        "--examples",
        "2",
        "--in-process",
        "--no-scale",  # broken.py loops in Python: with its scale cases this test took 7-10 minutes
    )
    assert code == 0, out + err
    assert "(2-D;" in out
    code, out, err = run(
        capsys,
        "verify",
        "--ndim",
        "1,2",
        "broken:correct_forward",
        "--examples",
        "0",
        "--in-process",
        "--no-scale",
    )
    assert code == 0 and "(1-D, 2-D;" in out, out + err


@pytest.mark.parametrize("in_process", [True, False], ids=["in-process", "worker"])
def test_a_target_with_the_wrong_signature_is_a_one_line_usage_error(capsys, in_process):
    argv = [
        "verify",
        "crashing_targets:two_arguments",
        "--ndim",
        "1",
        *(["--in-process"] if in_process else []),
    ]
    code, out, err = run(capsys, *argv)
    assert code == 2, out + err
    assert "cannot be called as f(x, kernel_size, stride, padding, dilation, ceil_mode)" in err
    assert len(err.strip().splitlines()) == 1 and "counterexample" not in out

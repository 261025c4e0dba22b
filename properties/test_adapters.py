"""The named framework adapters: lazy imports, one-line errors, --list, and the cheap frameworks' verdicts.

The framework tests skip when the framework is absent; .ci/run installs the
cheap ones (mygrad, onnx, mlx) and runs this file there.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from poolref import adapters
from poolref.__main__ import main
from poolref.testing import check_max_pool

#: adapter factory -> (the module whose absence it must report, the install hint it must give)
FACTORIES = {
    "tensorflow": (adapters.tensorflow, "tensorflow", "pip install tensorflow"),
    "tensorflow-argmax": (adapters.tensorflow_argmax, "tensorflow", "pip install tensorflow"),
    "keras": (adapters.keras, "keras", "pip install keras"),
    "mygrad": (adapters.mygrad, "mygrad", "pip install mygrad"),
    "mlx": (adapters.mlx, "mlx.core", "pip install 'mlx[cpu]'"),
    "tinygrad": (adapters.tinygrad, "tinygrad", "pip install tinygrad"),
    "onnx-reference": (adapters.onnx_reference, "onnx", "pip install onnx"),
    "paddle": (adapters.paddle, "paddle", "pip install paddlepaddle"),
}


def test_every_named_adapter_declares_what_it_imports():
    assert set(adapters.REQUIRES) == set(adapters.NAMED)
    for name, (module, *_rest) in ((n, f[1:]) for n, f in FACTORIES.items()):
        assert module.split(".")[0] in adapters.REQUIRES[name], name


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_missing_framework_is_a_one_line_error_naming_the_package(name, monkeypatch):
    factory, module, hint = FACTORIES[name]
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    with pytest.raises(adapters.AdapterUnavailable) as info:
        factory()
    message = str(info.value)
    assert "\n" not in message
    assert repr(name.split("-")[0]) in message or repr(name) in message
    assert hint in message


def test_cli_reports_a_missing_framework_as_a_usage_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "mygrad", None)  # seen by this process only
    assert main(["verify", "mygrad", "--in-process"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "pip install mygrad" in err


def test_list_shows_every_adapter_and_whether_it_is_importable(monkeypatch, capsys):
    absent = "poolref_no_such_framework"
    monkeypatch.setitem(adapters.REQUIRES, "mygrad", (absent,))
    assert main(["verify", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == set(adapters.NAMED)
    assert f"missing {absent}" in rows["mygrad"]
    assert rows["poolref-naive"].split()[1] == "ok"


def test_importable_does_not_import_the_framework():
    code = (
        "import sys; from poolref import adapters; "
        "[adapters.importable(n) for n in adapters.NAMED]; "
        "heavy = {'tensorflow', 'keras', 'mygrad', 'mlx', 'tinygrad', 'onnx', 'paddle', 'jax', 'torch'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_channel_layout_helpers_round_trip():
    from poolref.adapters._common import _batched, _to_first, _to_last, _unbatch

    x = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    assert _to_last(x).shape == (2, 4, 5, 3)
    assert _to_last(x)[1, 2, 3, 0] == x[1, 0, 2, 3]
    assert np.array_equal(_to_first(_to_last(x)), x)
    xb, batched = _batched(x[0], 2)
    assert not batched and xb.shape == (1, 3, 4, 5)
    assert _unbatch(xb, batched).shape == (3, 4, 5)


# ---------------------------------------------------------------------------
# The cheap frameworks (installed by .ci/run): their recorded verdicts
# ---------------------------------------------------------------------------


def test_mygrad_reads_out_of_bounds_for_a_transposed_column():
    pytest.importorskip("mygrad")
    cand = adapters.mygrad()
    x = np.array([[1.0, 2.0, 3.0]]).T  # shape (3, 1), strides (8, 24): "C-contiguous" to NumPy
    assert np.array_equal(cand.forward(x.copy(), (1,), (1,), (0,), (1,), False), x)
    assert not np.array_equal(cand.forward(x, (1,), (1,), (0,), (1,), False), x)  # mygrad bug


def test_mygrad_passes_on_copied_input():
    pytest.importorskip("mygrad")
    import dataclasses

    cand = adapters.mygrad()
    fwd, bwd = cand.forward, cand.backward
    copied = dataclasses.replace(
        cand,
        forward=lambda x, *a: fwd(x.copy(), *a),
        backward=lambda g, x, *a: bwd(g.copy(), x.copy(), *a),
    )
    check_max_pool(copied, ndim=2, max_examples=20)


def test_onnx_reference_stride_one_indices_are_plane_not_global():
    pytest.importorskip("onnx")
    cand = adapters.onnx_reference()
    x = np.array([[[-1.0, -9.0, 6.0], [-3.0, -2.0, 3.0]]])
    _, idx = cand.forward(x, (3,), (1,), (0,), (1,), False)
    assert idx.ravel().tolist() == [2, 2]  # ONNX's global format would be [2, 5]
    _, idx = cand.forward(x, (3,), (2,), (0,), (1,), False)  # the other code path
    assert idx.ravel().tolist() == [2, 5]


def test_mlx_pads_int8_with_zero():
    pytest.importorskip("mlx.core")
    cand = adapters.mlx()
    x = np.array([[[-127]]], dtype=np.int8)
    assert cand.forward(x, (2,), (1,), (1,), (1,), False).ravel().tolist() == [
        0,
        0,
    ]  # MLX bug: -127
    x32 = x.astype(np.int32)
    assert cand.forward(x32, (2,), (1,), (1,), (1,), False).ravel().tolist() == [-127, -127]


# ---------------------------------------------------------------------------
# tools/verify_frameworks.py: a changed verdict is a mismatch
# ---------------------------------------------------------------------------


def _tool():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "tools" / "verify_frameworks.py"
    spec = importlib.util.spec_from_file_location("verify_frameworks", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("status", "output", "ok"),
    [
        (1, "max pooling of mygrad is wrong [values]: ...\nFAIL: ...", True),  # the recorded bug
        (0, "PASS: mygrad: no counterexample", False),  # fixed upstream (or a blind poolref)
        (1, "max pooling of mygrad is wrong [gradient]: ...\nFAIL: ...", False),  # another failure
        (2, "poolref verify: error: ...", False),
    ],
)
def test_verify_frameworks_flags_any_verdict_but_the_recorded_one(monkeypatch, status, output, ok):
    tool = _tool()
    monkeypatch.setattr(tool, "_run", lambda *a, **k: (status, output, 0.5))
    line, _, _ = tool._verify(sys.executable, "mygrad", tool.FRAMEWORKS["mygrad"], 10)
    assert line.startswith("ok") == ok, line


def test_verify_frameworks_records_every_adapter_it_runs():
    tool = _tool()
    run = {a for fw in tool.FRAMEWORKS.values() for a in fw.adapters}
    assert run == set(tool.EXPECTED)
    assert run <= set(adapters.NAMED)

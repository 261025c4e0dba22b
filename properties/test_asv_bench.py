"""Meta-tests of the asv suite in asv_bench/ and of asv_bench/compare_torch.py.

asv itself does not notice a ``params``/``param_names`` length mismatch
(``asv check`` only counts the arguments of each method), and a benchmark that raises only shows up in a full
``asv run``. These tests import every benchmark module the way asv discovers
it, check each class's parameter grid and its declared holes
(``skip_for_params``), and run ``setup`` plus one call of every benchmark on
the first parameter combination that is not a hole (the grids list their
smallest values first).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import itertools
import math
import pkgutil
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if (
    importlib.util.find_spec("asv_bench") is None
):  # pytest puts properties/, not the root, on sys.path
    sys.path.insert(0, str(ROOT))

import asv_bench  # noqa: E402
from asv_bench import common, compare_torch  # noqa: E402

# asv_runner's name patterns (time_, timeraw_, mem_, peakmem_, track_)
BENCHMARK_NAME = re.compile(r"^(time|timeraw|mem|peakmem|track)_")

MODULES = sorted(name for _, name, _ in pkgutil.iter_modules(asv_bench.__path__, "asv_bench."))


def _benchmark_methods(cls) -> list[str]:
    return [n for n, f in inspect.getmembers(cls, inspect.isfunction) if BENCHMARK_NAME.match(n)]


def _benchmark_classes() -> list:
    classes = []
    for name in MODULES:
        module = importlib.import_module(name)
        for attr, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and not attr.startswith("_")
                and obj.__module__ == module.__name__
                and _benchmark_methods(obj)
            ):
                classes.append(obj)
    return classes


CLASSES = _benchmark_classes()


def _id(cls) -> str:
    return f"{cls.__module__.rsplit('.', 1)[-1]}.{cls.__name__}"


def test_suite_has_the_expected_modules_and_classes():
    names = {_id(c) for c in CLASSES}
    assert {
        "bench_forward.MaxPoolForward",
        "bench_backward.MaxPoolBackward",
        "bench_unpool.MaxUnpool",
        "bench_layer.MaxPoolLayer",
        "bench_naive.NaiveOracle",
        "bench_torch.TorchRatio",
    } <= names


@pytest.mark.parametrize("name", MODULES)
def test_no_module_level_benchmark_names_by_accident(name):
    """asv treats any public module-level ``time_*``/``track_*``... function as a benchmark."""
    module = importlib.import_module(name)
    accidental = [
        a for a, obj in vars(module).items() if inspect.isfunction(obj) and BENCHMARK_NAME.match(a)
    ]
    assert accidental == [], f"{name}: rename {accidental} (asv would run them)"


@pytest.mark.parametrize("cls", CLASSES, ids=_id)
def test_params_match_param_names_and_signatures(cls):
    params, names = cls.params, cls.param_names
    assert isinstance(params, list) and all(isinstance(p, list) and p for p in params), (
        f"{_id(cls)}.params={params!r} must be a list of non-empty lists"
    )
    assert len(params) == len(names), (
        f"{_id(cls)}: len(params)={len(params)} but param_names={names!r}"
    )
    for values in params:  # readable asv ids: strings and numbers only
        assert all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in values)
    extra = 1 if hasattr(cls, "setup_cache") else 0  # setup_cache's result comes first
    for method in ["setup", *_benchmark_methods(cls)]:
        arity = len(inspect.signature(getattr(cls, method)).parameters) - 1  # minus self
        assert arity == len(names) + extra, f"{_id(cls)}.{method} takes {arity} arguments"
    assert cls.timeout >= 60


def _holes(cls) -> set[tuple]:
    """The combinations ``skip_for_params`` declares; the same for every benchmark of the class."""
    declared = {
        m: set(getattr(getattr(cls, m), "skip_params", [])) for m in _benchmark_methods(cls)
    }
    first = next(iter(declared.values()))
    assert all(h == first for h in declared.values()), (
        f"{_id(cls)}: benchmarks declare different holes"
    )
    return first


@pytest.mark.parametrize("cls", CLASSES, ids=_id)
def test_benchmarks_run_on_first_runnable_combination(cls, monkeypatch):
    monkeypatch.setattr(common, "SMOKE", True)
    instance = cls()
    cache = (instance.setup_cache(),) if hasattr(cls, "setup_cache") else ()
    # asv passes a None cache to nobody, so setup() would get one argument too few
    assert None not in cache, f"{_id(cls)}.setup_cache must not return None"
    holes = _holes(cls)
    combo = next(c for c in itertools.product(*cls.params) if c not in holes)
    instance.setup(*cache, *combo)  # outside the holes, setup must not skip
    for method in _benchmark_methods(cls):
        try:
            result = getattr(instance, method)(*cache, *combo)
        except common.SkipNotImplemented:
            continue
        if method.startswith("track_"):
            assert isinstance(result, (int, float)) and math.isfinite(result) and result >= 0, (
                f"{_id(cls)}.{method}{combo} returned {result!r}"
            )
            unit = getattr(getattr(cls, method), "unit", getattr(cls, "unit", None))
            assert unit, f"{_id(cls)}.{method} needs a unit"
    if hasattr(instance, "teardown"):
        instance.teardown(*cache, *combo)


def _expected_holes(cls) -> set[tuple]:
    """Where the grid does not apply, restated: other dtypes than float32 in 2-D only; backward floats only."""
    if cls.__name__ == "PeakMemory":  # its own grid: the layer operation needs layer classes
        return {
            combo
            for combo in itertools.product(*cls.params)
            if combo[1] == "layer" and combo[0] not in common.LAYER_IMPLS
        }
    if "dtype" not in cls.param_names:
        return set()
    holes = set()
    for combo in itertools.product(*cls.params):
        values = dict(zip(cls.param_names, combo))
        if values["dtype"] != "float32" and values["ndim"] != 2:
            holes.add(combo)
        if cls.__name__ == "MaxPoolBackward" and values["dtype"] == "uint8":
            holes.add(combo)
        if cls.__name__ == "MaxPoolLayer" and values["impl"] == "im2col":  # no MaxPool{n}d there
            holes.add(combo)
    return holes


@pytest.mark.parametrize("cls", CLASSES, ids=_id)
def test_grid_holes_are_declared_with_skip_for_params(cls):
    holes = _holes(cls)
    assert holes == _expected_holes(cls)
    assert holes <= set(itertools.product(*cls.params)), "a hole outside the grid never matches"


def test_layer_holes_match_the_implementations():
    for impl in common.IMPLS:
        module = importlib.import_module(f"poolref.{impl}")
        has_layers = all(hasattr(module, f"MaxPool{n}d") for n in common.NDIMS)
        assert has_layers == (impl in common.LAYER_IMPLS), f"poolref.{impl}: update LAYER_IMPLS"


def _raises_not_implemented(tree) -> set[str]:
    """Names of the functions whose bodies ``raise NotImplementedError``."""
    found = set()
    for func in ast.walk(tree):
        if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(func):
                if isinstance(node, ast.Raise) and node.exc is not None:
                    target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                    if isinstance(target, ast.Name) and target.id == "NotImplementedError":
                        found.add(func.name)
    return found


def test_only_features_missing_from_old_commits_skip_in_setup():
    """Grid holes are declared, not raised: asv logs a line for every skip in setup."""
    raisers = set()
    for name in MODULES:
        if name.endswith(
            "compare_torch"
        ):  # a script, not benchmarks: its n/a cells explain themselves
            continue
        path = Path(importlib.import_module(name).__file__)
        raisers |= _raises_not_implemented(ast.parse(path.read_text()))
    assert raisers == {"impl_module", "impl_attr"}


def test_a_missing_submodule_skips_but_a_missing_poolref_fails(monkeypatch):
    with pytest.raises(NotImplementedError, match="poolref.nonexistent does not exist"):
        common.impl_module("nonexistent")

    def no_poolref(name):
        raise ModuleNotFoundError("No module named 'poolref'", name="poolref")

    monkeypatch.setattr(common.importlib, "import_module", no_poolref)
    with pytest.raises(
        ModuleNotFoundError, match="poolref"
    ):  # not a silent n/a for the whole suite
        common.impl_module("fast")


def test_inputs_are_seeded_read_only_and_sized_for_the_suite():
    for ndim in common.NDIMS:
        shape = common.input_shape(ndim)
        assert shape[:2] == common.BATCH
        assert 0.8 * common.ELEMENTS <= math.prod(shape) <= 1.25 * common.ELEMENTS
    a = common.make_input((2, 3, 4), "float32")
    assert not a.flags.writeable and a.dtype == "float32"
    assert (a == common.make_input((2, 3, 4), "float32", seed=0)).all()
    assert common.make_input((50,), "uint8").std() > 0


def test_compare_torch_adaptive_rows_come_with_the_flag(capsys):
    pytest.importorskip("torch")
    assert compare_torch.main(["--quick", "--configs", "tiny", "--impl", "fast", "--adaptive"]) == 0
    out = capsys.readouterr().out
    assert "## Adaptive max pooling" in out
    assert out.count("| equal |") >= 4, out  # every adaptive row checked against torch


def test_compare_torch_quick_prints_the_tables(capsys):
    assert (
        compare_torch.main(["--quick", "--configs", "tiny,1d", "--impl", "fast,im2col,naive"]) == 0
    )
    out = capsys.readouterr().out
    assert "| # | config | impl |" in out and "Absolute medians" in out
    for row in ("| | | fast |", "| | | im2col |", "| | | naive |"):
        assert row in out
    assert "Traceback" not in out
    assert "config 6, naive: skipped" in out  # the loop oracle only runs on the tiny input


def test_compare_torch_prints_na_for_a_missing_feature(capsys, monkeypatch):
    """An implementation without backward or layer classes gives n/a cells, not a traceback."""
    import types

    import poolref.naive

    partial = types.ModuleType("poolref.partial")
    partial.max_pool2d = poolref.naive.max_pool2d
    monkeypatch.setattr(compare_torch, "_load_impl", lambda name: partial)
    assert (
        compare_torch.main(["--quick", "--configs", "tiny", "--impl", "naive", "--repeat", "1"])
        == 0
    )
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| | | naive |"))
    assert "n/a" in row
    assert "poolref.partial has no max_pool2d_backward" in out


def test_compare_torch_config_selection():
    chosen = compare_torch.select_configs("1,tiny,3d")
    assert [n for n, _ in chosen] == [1, 4, 7]
    assert len(compare_torch.select_configs("all")) == len(compare_torch.CONFIGS) == 7
    with pytest.raises(SystemExit, match="unknown configuration"):
        compare_torch.select_configs("vgg16")
    vgg = compare_torch.CONFIGS[0]
    assert vgg.out_shape == (32, 64, 28, 28) and vgg.shrunk().shape == (2, 8, 56, 56)
    assert compare_torch.targets(compare_torch.CONFIGS[2])["bwd"] == 6.0


def test_without_torch_ratios_are_skipped_and_the_script_still_reports(capsys, monkeypatch):
    from asv_bench import bench_torch

    monkeypatch.setattr(bench_torch, "load_torch", lambda: None)
    monkeypatch.setattr(compare_torch, "load_torch", lambda: None)
    bench = bench_torch.TorchRatio()
    cache = bench.setup_cache()
    assert cache is not None  # else asv would call setup() without the cache argument
    bench.setup(cache, "fast", 2, "k2s2")
    with pytest.raises(common.SkipNotImplemented, match="torch could not be loaded"):
        bench.track_forward(cache, "fast", 2, "k2s2")
    assert (
        compare_torch.main(["--quick", "--configs", "tiny", "--impl", "fast", "--repeat", "1"]) == 0
    )
    out = capsys.readouterr().out
    assert "torch not installed" in out and "torch is not installed: no ratios" in out
    assert "Traceback" not in out


def test_torch_ratios_are_not_discovered_without_torch():
    """asv does not discover a benchmark marked ``skip_benchmark``: no skipped lines without torch."""
    from asv_bench import bench_torch

    missing = importlib.util.find_spec("torch") is None
    for method in _benchmark_methods(bench_torch.TorchRatio):
        assert getattr(getattr(bench_torch.TorchRatio, method), "skip_benchmark", False) == missing

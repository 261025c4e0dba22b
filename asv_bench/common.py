"""Shared pieces of the asv suite: the base class, the parameter grids, seeded inputs.

Grids are plain lists of strings and numbers, so asv shows readable ids such
as ``MaxPoolForward.time_forward('fast', 2, 'k3s2p1', 'float32')``. They are
the same on every commit. The holes of a grid (an integer dtype for
backward, a dtype other than float32 outside 2-D, layer classes of an
implementation that has none) are declared on each
benchmark with asv_runner's ``skip_for_params`` (:func:`holes`), so asv
neither sets them up nor logs them as skipped; they show as ``n/a``. Only an
implementation or feature missing from an old commit is skipped in ``setup``
(``NotImplementedError``), since that depends on the commit being measured.

Inputs have ``2**19`` elements, ``(8, 16) + (side,) * ndim``, so one call of
the vectorised implementations takes about 1-50 ms on a 2-core machine.

!!! Keep existing names and values stable: they key the stored history. Append only. !!!
"""

from __future__ import annotations

import importlib
import itertools
import os
from functools import lru_cache

import numpy as np

try:  # asv_runner is installed wherever asv runs benchmarks
    from asv_runner.benchmarks.mark import SkipNotImplemented, skip_benchmark_if, skip_for_params
except ImportError:  # pragma: no cover - plain Python without asv

    class SkipNotImplemented(NotImplementedError):
        """Skip this benchmark for these parameters (asv_runner's exception, stand-in)."""

    def skip_for_params(skip_params_list):
        """asv_runner's decorator, stand-in: record the parameter tuples to skip."""

        def mark(func):
            func.skip_params = skip_params_list
            return func

        return mark

    def skip_benchmark_if(condition):
        """asv_runner's decorator, stand-in: mark the benchmark as not to be discovered."""

        def mark(func):
            if condition:
                func.skip_benchmark = True
            return func

        return mark


IMPLS = ["fast", "im2col"]
NDIMS = [1, 2, 3]
#: name -> (kernel_size, stride, padding): non-overlapping, ResNet-stem-like, overlapping
CONFIGS = {"k2s2": (2, 2, 0), "k3s2p1": (3, 2, 1), "k3s1p1": (3, 1, 1)}
CONFIG_NAMES = list(CONFIGS)
DTYPES = ["float32", "float64", "uint8"]
FLOAT_DTYPES = ["float32", "float64"]
BATCH = (8, 16)
ELEMENTS = 2**19  # (8, 16, 4096), (8, 16, 64, 64), (8, 16, 16, 16, 16)

#: smoke mode (properties/test_asv_bench.py sets it): one-off measurements
#: such as TorchRatio.setup_cache do the least that still runs every code path
SMOKE = os.environ.get("POOLREF_BENCH_SMOKE", "") not in ("", "0")


class Benchmark:
    """Base class of every benchmark class here (shared asv attributes go here)."""

    timeout = 60


def input_shape(ndim: int) -> tuple:
    """``(8, 16, side, ...)`` with about ``ELEMENTS`` elements."""
    side = round((ELEMENTS / (BATCH[0] * BATCH[1])) ** (1 / ndim))
    return (*BATCH, *(side,) * ndim)


@lru_cache(maxsize=8)
def make_input(shape: tuple, dtype: str, seed: int = 0) -> np.ndarray:
    """Seeded, fully written (no lazy zero pages), read-only input array."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        x = rng.standard_normal(shape, dtype=np.float64).astype(dt)
    else:
        info = np.iinfo(dt)
        x = rng.integers(info.min, info.max, size=shape, dtype=dt, endpoint=True)
    x.setflags(write=False)
    return x


def pool_args(config: str) -> tuple:
    """``(kernel_size, stride, padding)`` of a config name."""
    return CONFIGS[config]


def impl_module(impl: str):
    """``poolref.<impl>``; skip (``NotImplementedError``) on commits that do not have it.

    Only the submodule may be missing: without ``poolref`` itself (not
    installed in the environment asv runs) the ``ImportError`` propagates and
    the benchmark fails, instead of the whole suite reading ``n/a``.
    """
    name = f"poolref.{impl}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        msg = f"{name} does not exist in this commit"
        raise NotImplementedError(msg) from None


def impl_attr(module, name: str):
    """``getattr(module, name)``, or skip when the implementation lacks that feature."""
    try:
        return getattr(module, name)
    except AttributeError:
        msg = f"{module.__name__} has no {name}"
        raise NotImplementedError(msg) from None


def outside_trimmed_grid(ndim: int, dtype: str) -> bool:
    """dtype effects are measured once, in 2-D: other dtypes than float32 only there."""
    return dtype != "float32" and ndim != 2


#: the implementations with the ``MaxPool{1,2,3}d`` layer classes (im2col has the tutorial's
#: ``Maxpool`` instead); properties/test_asv_bench.py checks this against the package
LAYER_IMPLS = ("fast",)


def lacks_layers(impl: str) -> bool:
    """The layer benchmarks apply to ``LAYER_IMPLS`` only."""
    return impl not in LAYER_IMPLS


def not_float(dtype: str) -> bool:
    """Backward exists for float dtypes only (docs/CONTRACT.md)."""
    return np.dtype(dtype).kind != "f"


def holes(params: list, param_names: list, *rules) -> list[tuple]:
    """The combinations of ``params`` for which any rule holds, for ``skip_for_params``.

    A rule is called with the values it names (its argument names are
    parameter names), e.g. ``outside_trimmed_grid(ndim=1, dtype="uint8")``.
    """
    found = []
    for combo in itertools.product(*params):
        values = dict(zip(param_names, combo))
        if any(rule(**{name: values[name] for name in _arguments(rule)}) for rule in rules):
            found.append(combo)
    return found


def _arguments(rule) -> tuple[str, ...]:
    code = rule.__code__
    return code.co_varnames[: code.co_argcount]


def skip_holes(params: list, param_names: list, *rules):
    """``skip_for_params(holes(...))``: the decorator for each benchmark of a class."""
    return skip_for_params(holes(params, param_names, *rules))

"""Shared pieces of the asv suite: the base class, the parameter grids, seeded inputs.

Grids are plain lists of strings and numbers, so asv shows readable ids such
as ``MaxPoolForward.time_forward('fast', 2, 'k3s2p1', 'float32')``. They are
the same on every commit; a combination that does not apply (an
implementation missing from an old commit, an integer dtype for backward, a
dtype other than float32 outside 2-D) is skipped by raising
``NotImplementedError`` in ``setup``, and shows as ``n/a``.

Inputs have ``2**19`` elements, ``(8, 16) + (side,) * ndim``, so one call of
the vectorised implementations takes about 1-50 ms on a 2-core machine.

!!! Keep existing names and values stable: they key the stored history. Append only. !!!
"""

from __future__ import annotations

import importlib
import os
from functools import lru_cache

import numpy as np

try:  # asv_runner is installed wherever asv runs benchmarks
    from asv_runner.benchmarks.mark import SkipNotImplemented
except ImportError:  # pragma: no cover - plain Python without asv

    class SkipNotImplemented(NotImplementedError):  # noqa: N818 - asv's name
        """Skip this benchmark for these parameters (asv_runner's exception, stand-in)."""


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
    """``poolref.<impl>``; skip (``NotImplementedError``) on commits that do not have it."""
    try:
        return importlib.import_module(f"poolref.{impl}")
    except ImportError as exc:
        msg = f"poolref.{impl} cannot be imported in this commit: {exc}"
        raise NotImplementedError(msg) from None


def impl_attr(module, name: str):
    """``getattr(module, name)``, or skip when the implementation lacks that feature."""
    try:
        return getattr(module, name)
    except AttributeError:
        msg = f"{module.__name__} has no {name}"
        raise NotImplementedError(msg) from None


def trim_grid(ndim: int, dtype: str) -> None:
    """Skip dtypes other than float32 outside 2-D: dtype effects are measured once, in 2-D."""
    if dtype != "float32" and ndim != 2:
        msg = f"dtype={dtype} is benchmarked for ndim=2 only (ndim={ndim})"
        raise NotImplementedError(msg)


def require_float(dtype: str, what: str) -> None:
    """Backward exists for float dtypes only (CONTRACT.md)."""
    if np.dtype(dtype).kind != "f":
        msg = f"{what} is defined for float dtypes only, not dtype={dtype}"
        raise NotImplementedError(msg)

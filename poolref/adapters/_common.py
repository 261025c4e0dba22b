"""What every adapter shares: the missing-framework error, lazy imports, small helpers."""

from __future__ import annotations

import importlib

from ..testing import Behaviour

#: PyTorch's rules (the default): ties -> first, NaN -> the last NaN, plane indices.
PYTORCH = Behaviour()


class AdapterUnavailable(ImportError):
    """The framework an adapter needs is missing (or, for CUDA, has no device)."""


def _import(module: str, adapter: str, hint: str):
    """``importlib.import_module(module)``, or :class:`AdapterUnavailable` with a one-line message."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        msg = f"the {adapter!r} adapter needs {module}, which cannot be imported ({first}); {hint}"
        raise AdapterUnavailable(msg) from None


def _c_strides(shape) -> tuple[int, ...]:
    """Canonical C-contiguous strides (in elements) for ``shape``."""
    strides, step = [], 1
    for n in reversed(tuple(shape)):
        strides.append(step)
        step *= max(int(n), 1)
    return tuple(reversed(strides))


def _source(factory: str, *args: str) -> str:
    """A Python expression that rebuilds a candidate (for reproduction snippets)."""
    return f"__import__('poolref.adapters').adapters.{factory}({', '.join(args)})"


def _batched(x, nd: int):
    """``(x as (N, C, *spatial), whether it was batched)``: unbatched input gets ``N = 1``."""
    batched = x.ndim == nd + 2
    return (x if batched else x[None]), batched


def _to_last(x):
    """``(N, C, *spatial)`` -> ``(N, *spatial, C)`` (a transposed view)."""
    return x.transpose(0, *range(2, x.ndim), 1)


def _to_first(x):
    """``(N, *spatial, C)`` -> ``(N, C, *spatial)`` (a transposed view)."""
    return x.transpose(0, x.ndim - 1, *range(1, x.ndim - 1))


def _unbatch(a, batched: bool):
    return a if batched else a[0]

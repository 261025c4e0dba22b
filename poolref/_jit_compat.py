"""numba for :mod:`poolref._jit_kernels` and :mod:`poolref._jit_cores`, or a pure-Python stand-in.

When numba imports, :func:`njit` is ``numba.njit``, :data:`prange` is ``numba.prange`` and the
thread functions are numba's. When it does not (:data:`PURE`), :func:`njit` gives the identity
decorator and :data:`prange` is ``range``: the kernels are then plain Python over NumPy scalars,
slow but with exactly the compiled results, so that the kernels and the cores can be tested (and
mutation-tested, docs/mutation.md) without numba. The parallel drivers then run their loops on
the calling thread; the thread count is only recorded, within the same limit as numba's.

Pure mode is internal: the public ``"jit"`` backend still needs numba
(:func:`poolref._backend.require_numba`). numba's own ``NUMBA_DISABLE_JIT=1`` keeps working as
well (numba then returns the Python functions itself). Which branch runs depends on whether
numba is installed, so this module is not mutation-tested (``do_not_mutate``).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def _import_numba() -> Any:
    """The numba module, or None when it does not import (a broken install counts as absent)."""
    try:
        return importlib.import_module("numba")
    except ImportError:
        return None


_numba: Any = _import_numba()

#: True when numba does not import: the kernels run as plain Python
PURE: bool = _numba is None


def _identity(function: F) -> F:
    return function


def njit(**options: Any) -> Callable[[F], F]:
    """``numba.njit(**options)``, or the identity decorator in pure mode."""
    return _identity if _numba is None else _numba.njit(**options)


#: the parallel loop of the parallel drivers: ``numba.prange``, or ``range`` in pure mode
prange: Any = range if _numba is None else _numba.prange


def _default_threads() -> int:
    """numba's default thread count: ``NUMBA_NUM_THREADS``, else the CPUs this process may use."""
    env = os.environ.get("NUMBA_NUM_THREADS")
    if env:
        return int(env)
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


_pure_threads = [1]  # pure mode: the recorded thread count (no thread is started)


def thread_limit() -> int:
    """The most threads a parallel driver may ask for (numba's ``NUMBA_NUM_THREADS``)."""
    if _numba is None:
        return _default_threads()
    return int(_numba.config.NUMBA_NUM_THREADS)


def get_num_threads() -> int:
    """``numba.get_num_threads()``, or pure mode's recorded count."""
    return _pure_threads[0] if _numba is None else int(_numba.get_num_threads())


def set_num_threads(n: int) -> None:
    """``numba.set_num_threads(n)``, or record ``n`` in pure mode (the same range check)."""
    if _numba is not None:
        _numba.set_num_threads(n)
        return
    if not 1 <= n <= thread_limit():
        msg = f"The number of threads must be between 1 and {thread_limit()}"
        raise ValueError(msg)
    _pure_threads[0] = n

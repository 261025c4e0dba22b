"""The backend switch behind ``poolref.max_pool*d``: the compiled path when numba is installed.

``poolref.max_pool*d``, their backward and unpool validate their arguments once (the shared
:mod:`poolref._api` wrapper) and then call the cores of the *active* backend:

``"jit"``
    :mod:`poolref.jit`'s compiled kernels (needs numba; float16 still takes the NumPy path).
``"numpy"``
    :mod:`poolref.fast`'s vectorised NumPy kernels.
``"auto"`` (the default)
    ``"jit"`` when numba can be imported, else ``"numpy"``.

The choice comes from :func:`backend` (a context manager, per thread and per asyncio task: a
:mod:`contextvars` variable), else from the ``POOLREF_BACKEND`` environment variable, else
``"auto"``. Nothing here imports numba at import time: the first call under ``"auto"`` or
``"jit"`` tries to, and :mod:`poolref._jit_cores` is imported on the first call that uses it.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import os
from collections.abc import Iterator

from . import _api, _fast_kernels

BACKENDS = ("auto", "jit", "numpy")

_CHOICE: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "poolref_backend", default=None
)
_THREADS: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "poolref_threads", default=None
)
_NUMBA: list[bool] = []  # [whether numba can be imported], filled on first use
_JIT_CORES: list = []  # [poolref._jit_cores], filled on first use


#: the variables read on every call, as os.environ's own (encoded) keys
_KEYS = {name: os.environ.encodekey(name) for name in ("POOLREF_BACKEND", "NUMBA_NUM_THREADS")}  # type: ignore[attr-defined]


def _getenv(name: str) -> str | None:
    """``os.environ.get(name)`` for the names in :data:`_KEYS`, read on every call.

    Every pooling call reads ``POOLREF_BACKEND`` and ``NUMBA_NUM_THREADS``; ``os.environ.get``
    encodes the key first, which cost as much as a small kernel. ``os.environ._data`` is the
    mapping ``os.environ`` itself reads (CPython and PyPy, every platform).
    """
    value = os.environ._data.get(_KEYS[name])  # type: ignore[attr-defined]
    return None if value is None else os.environ.decodevalue(value)  # type: ignore[attr-defined]


def _check_name(name, where: str) -> str:
    if name not in BACKENDS:
        msg = f"{where}={name!r} is not a backend; choose one of {', '.join(map(repr, BACKENDS))}"
        raise ValueError(msg)
    return name


def _check_threads(threads) -> int:
    if isinstance(threads, bool) or not isinstance(threads, int):
        msg = f"poolref.backend: threads must be an int, got threads={threads!r}"
        raise TypeError(msg)
    if threads < 1:
        msg = f"poolref.backend: threads must be >= 1, got threads={threads}"
        raise ValueError(msg)
    return threads


def numba_available() -> bool:
    """True if numba imports (tried once, on the first call that asks: not at ``import poolref``).

    A numba that is installed but fails to import (say, built for another NumPy) counts as absent.
    """
    if not _NUMBA:
        try:
            importlib.import_module("numba")
        except ImportError:
            _NUMBA.append(False)
        else:
            _NUMBA.append(True)
    return _NUMBA[0]


def requested() -> str:
    """The backend asked for: :func:`backend`'s, else ``POOLREF_BACKEND``, else ``"auto"``."""
    choice = _CHOICE.get()
    if choice is None:
        value = _getenv("POOLREF_BACKEND")
        choice = _check_name("auto" if value is None else value, "POOLREF_BACKEND")
    return choice


def active() -> str:
    """The backend the next call uses: ``"jit"`` or ``"numpy"``.

    Raises ``ImportError`` when ``"jit"`` is asked for and numba is not installed.
    """
    choice = requested()
    if choice == "numpy":
        return "numpy"
    if numba_available():
        return "jit"
    if choice == "jit":
        require_numba()
    return "numpy"


def require_numba() -> None:
    """Raise a clear ``ImportError`` unless numba is installed."""
    if not numba_available():
        msg = (
            "poolref: the 'jit' backend needs numba, which is not installed; "
            'pip install "poolref[jit]" (or use POOLREF_BACKEND=numpy)'
        )
        raise ImportError(msg)


def threads() -> int:
    """Threads for the jit kernels: :func:`backend`'s ``threads``, else ``NUMBA_NUM_THREADS``, else 1."""
    n = _THREADS.get()
    if n is not None:
        return n
    env = _getenv("NUMBA_NUM_THREADS")
    return int(env) if env else 1


@contextlib.contextmanager
def backend(name: str = "auto", threads: int | None = None) -> Iterator[None]:
    """Choose the backend (and the jit thread count) of ``poolref.max_pool*d`` inside a block.

    Parameters
    ----------
    name : {"auto", "jit", "numpy"}
        ``"jit"``: the compiled kernels of :mod:`poolref.jit` (needs numba); ``"numpy"``: those
        of :mod:`poolref.fast`; ``"auto"``: ``"jit"`` when numba is installed.
    threads : int, optional
        Threads for the jit kernels inside the block (parallel over independent planes; the
        results are identical for every count). Default: the enclosing setting, else the
        ``NUMBA_NUM_THREADS`` environment variable, else 1.

    Yields
    ------
    None
        The block runs with the choice; the previous one is restored on exit.

    Raises
    ------
    ValueError
        ``name`` is not a backend, or ``threads < 1``.
    TypeError
        ``threads`` is not an int.
    ImportError
        ``name="jit"`` and numba is not installed.

    Examples
    --------
    >>> import numpy as np, poolref
    >>> with poolref.backend("numpy"):
    ...     poolref.max_pool1d(np.array([[1.0, 3.0, 2.0, 0.0]]), 2)
    array([[3., 2.]])
    """
    _check_name(name, "poolref.backend: name")
    if threads is not None:
        _check_threads(threads)
    if name == "jit":
        require_numba()
    token = _CHOICE.set(name)
    thread_token = _THREADS.set(threads if threads is not None else _THREADS.get())
    try:
        yield
    finally:
        _THREADS.reset(thread_token)
        _CHOICE.reset(token)


def _jit_cores():
    if not _JIT_CORES:
        _JIT_CORES.append(importlib.import_module("poolref._jit_cores"))
    return _JIT_CORES[0]


def _forward(x, params, with_indices):
    if active() == "jit":
        return _jit_cores()._forward(x, params, with_indices)
    return _fast_kernels._forward(x, params, with_indices)


def _backward_from_input(grad_output, x, params):
    if active() == "jit":
        return _jit_cores()._backward_from_input(grad_output, x, params)
    return _fast_kernels._backward_from_input(grad_output, x, params)


def _backward_from_indices(grad_output, indices, input_shape, params):
    if active() == "jit":
        return _jit_cores()._backward_from_indices(grad_output, indices, input_shape, params)
    return _fast_kernels._backward_from_indices(grad_output, indices, input_shape, params)


def _unpool(y, indices, out_spatial):
    if active() == "jit":
        return _jit_cores()._unpool(y, indices, out_spatial)
    return _fast_kernels._unpool(y, indices, out_spatial)


def _checks_indices() -> bool:
    return active() == "jit"


#: The public functions of ``poolref`` (the top-level package): the active backend's cores.
public = _api.build(
    "poolref",
    "automatic: jit when numba is installed, else vectorised",
    forward=_forward,
    backward_from_input=_backward_from_input,
    backward_from_indices=_backward_from_indices,
    unpool=_unpool,
    checks_indices=_checks_indices,
)

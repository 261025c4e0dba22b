"""One call of the target under test, and what crosses a process boundary around it.

:func:`guarded_call` makes the checks that need the objects the target got (a
result that shares memory with an input, an input reshaped in place,
``sys.exit``); it runs where the target runs, in the harness's process or in a
worker (:mod:`poolref.testing._worker`). The rest moves arrays, results and
exceptions between the two processes: an array travels as the bytes it spans
plus its shape, strides and offset, so the worker's copy has the caller's exact
memory layout (pickle alone would make a Fortran-order, transposed, strided or
reversed input C-contiguous); an exception travels as its class name, builtin
base and message, so the caller never imports the target's modules.
"""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Callable

import numpy as np

__all__ = ["TargetCrashed", "TargetMisbehaved", "guarded_call", "same_layout_copy"]

_ROLE_ARRAYS = {"forward": ("x",), "backward": ("grad_output", "x"), "accepts": ("x",)}


class TargetCrashed(Exception):
    """The target ended its process or did not return in time.

    ``kind`` is ``"exit"`` (``sys.exit``/``os._exit``; ``detail`` is the exit
    status), ``"signal"`` (``detail`` is the signal's name, e.g. ``SIGSEGV``)
    or ``"timeout"`` (``detail`` is the limit in seconds). ``role`` names what
    was running: ``"forward"``, ``"backward"``, ``"support.accepts"`` or
    ``"load"`` (building the candidate in the worker, i.e. importing the target).
    """

    def __init__(self, kind: str, detail, role: str = "forward"):
        self.kind = kind
        self.detail = detail
        self.role = role
        super().__init__(self.explanation)

    @property
    def check(self) -> str:
        """Short name of the failure, e.g. ``target crashed (signal SIGSEGV)``."""
        if self.kind == "exit":
            return f"target exited (status {self.detail})"
        if self.kind == "signal":
            return f"target crashed (signal {self.detail})"
        return f"timeout ({self.detail:g} s)"

    @property
    def explanation(self) -> str:
        during = (
            "while it was being loaded (imported)"
            if self.role == "load"
            else f"during a call of its {self.role}"
        )
        if self.kind == "exit":
            return f"the target exited with status {self.detail} {during} (sys.exit or os._exit in the target)"
        if self.kind == "signal":
            return f"the target's process was killed by {self.detail} {during}"
        return (
            f"the target did not finish within {self.detail:g} s {during}; its process was killed"
        )


class TargetMisbehaved(Exception):
    """The target broke a rule the harness cannot see from a copy: ``check`` names it."""

    def __init__(self, check: str, detail: str):
        self.check = check
        self.detail = detail
        super().__init__(f"[{check}] {detail}")


# ============================================================================
# The checks that need the original objects (run where the target runs)
# ============================================================================


def _exit_status(code) -> int:
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def _as_array_or_none(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return None
    if isinstance(value, np.ndarray):
        return value
    try:
        return np.asarray(value)
    except Exception:  # noqa: BLE001 - the harness reports unconvertible outputs itself
        return None


def _shares_memory(a: np.ndarray, b: np.ndarray) -> bool:
    if not np.may_share_memory(a, b):
        return False
    too_hard = getattr(np, "exceptions", np).TooHardError
    try:
        return bool(np.shares_memory(a, b, max_work=10**6))  # type: ignore[arg-type]
    except too_hard:
        return True  # overlapping bounds and too costly to decide: assume it does


def _outputs(role: str, result) -> list:
    if isinstance(result, (tuple, list)):
        names = ("output", "indices") if role == "forward" and len(result) == 2 else None
        return [
            (names[i] if names else f"element {i} of the result", r) for i, r in enumerate(result)
        ]
    return [("output" if role == "forward" else "gradient", result)]


def guarded_call(fn: Callable, role: str, args: tuple):
    """``fn(*args)``, raising for what a copy of the inputs would hide.

    ``role`` is ``"forward"`` (``args[0]`` is ``x``) or ``"backward"``
    (``args[0]`` is ``grad_output``, ``args[1]`` is ``x``). Raises
    :class:`TargetCrashed` for ``sys.exit`` in the target and
    :class:`TargetMisbehaved` (``input modified``, ``grad_output modified``,
    ``output aliases input``, ``gradient aliases input``) when an input's
    shape, strides or dtype changed or a result shares memory with an input.
    Whatever else ``fn`` raises propagates.
    """
    inputs = [
        (name, a, (a.shape, a.strides, a.dtype))
        for name, a in zip(_ROLE_ARRAYS[role], args)
        if isinstance(a, np.ndarray)
    ]
    try:
        result = fn(*args)
    except SystemExit as exc:
        raise TargetCrashed("exit", _exit_status(exc.code), role) from None
    for name, a, (shape, strides, dtype) in inputs:
        if (a.shape, a.strides, a.dtype) != (shape, strides, dtype):
            check = "input modified" if name == "x" else f"{name} modified"
            raise TargetMisbehaved(
                check,
                f"the {role} changed its input {name} in place: shape {shape} with strides {strides} "
                f"({dtype}) became {a.shape} with strides {a.strides} ({a.dtype})",
            )
    for what, value in _outputs(role, result):
        out = _as_array_or_none(value)
        for name, a, _ in inputs:
            if out is not None and _shares_memory(out, a):
                check = "output aliases input" if role == "forward" else "gradient aliases input"
                raise TargetMisbehaved(
                    check,
                    f"the {role}'s {what} shares memory with its input {name} (a view, not a new array)",
                )
    return result


# ============================================================================
# Arrays across the process boundary, with their exact memory layout
# ============================================================================


def _extent(a: np.ndarray) -> tuple[int, int]:
    """Byte offsets (relative to ``a[0, ..., 0]``) of the lowest and one past the highest byte."""
    low = sum((n - 1) * s for n, s in zip(a.shape, a.strides) if s < 0)
    high = sum((n - 1) * s for n, s in zip(a.shape, a.strides) if s > 0) + a.itemsize
    return low, high


def _span_bytes(a: np.ndarray) -> np.ndarray:
    """Copy of every byte from ``a``'s lowest to its highest element (gaps included)."""
    low, high = _extent(a)
    lowest = a[
        tuple(slice(n - 1, None) if s < 0 else slice(0, 1) for n, s in zip(a.shape, a.strides))
    ]
    first_bytes = lowest.reshape(1).view(np.uint8)
    return np.lib.stride_tricks.as_strided(first_bytes, shape=(high - low,), strides=(1,)).copy()


@dataclasses.dataclass
class _Packed:
    """An array as the bytes it spans plus its shape, strides and offset."""

    raw: np.ndarray  # uint8
    dtype: np.dtype
    shape: tuple
    strides: tuple
    offset: int

    def unpack(self) -> np.ndarray:
        return np.ndarray(
            self.shape, self.dtype, buffer=self.raw, offset=self.offset, strides=self.strides
        )


def _pack(a):
    if not isinstance(a, np.ndarray) or a.size == 0 or a.dtype.hasobject:
        return a
    low, _ = _extent(a)
    return _Packed(_span_bytes(a), a.dtype, a.shape, a.strides, -low)


def same_layout_copy(a: np.ndarray) -> np.ndarray:
    """A copy of ``a`` with the same shape, strides and bytes in between (unlike ``copy(order="K")``)."""
    packed = _pack(a)
    return packed.unpack() if isinstance(packed, _Packed) else a.copy()


def _unpack(v):
    return v.unpack() if isinstance(v, _Packed) else v


# ============================================================================
# Results and exceptions across the process boundary
# ============================================================================


@dataclasses.dataclass
class _Unsendable:
    """Stands for a result the worker could not send; NumPy cannot convert it."""

    type_name: str
    message: str


def _sendable(value):
    """``value`` as plain data: arrays stay arrays, array-likes become arrays."""
    if value is None or isinstance(value, (bool, int, float, str, np.ndarray, np.generic)):
        return value
    if isinstance(value, (tuple, list)):
        return type(value)(_sendable(v) for v in value)
    try:
        converted = np.asarray(value)
        if not converted.dtype.hasobject:
            return converted
        pickle.dumps(converted)
        return converted
    except Exception as exc:  # noqa: BLE001
        return _Unsendable(type(value).__name__, f"{type(exc).__name__}: {exc}")


_PLACEHOLDERS: dict = {}


def _placeholder(info: _Unsendable):
    """An object with the result's type name that NumPy cannot convert (as the original)."""
    cls = _PLACEHOLDERS.get(info.type_name)
    if cls is None:

        def __array__(self, *args, **kwargs):
            raise TypeError(self.message)

        cls = type(info.type_name, (), {"__array__": __array__, "__module__": "target"})
        _PLACEHOLDERS[info.type_name] = cls
    obj = cls()
    obj.message = info.message
    return obj


def _received(value):
    if isinstance(value, _Unsendable):
        return _placeholder(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_received(v) for v in value)
    return value


def _exception_info(exc: BaseException) -> tuple:
    """(module, qualname, nearest builtin base, message) of an exception raised by the target."""
    cls = type(exc)
    base = next(b for b in cls.__mro__ if b.__module__ == "builtins")
    return cls.__module__, cls.__qualname__, base.__name__, str(exc)


_REMOTE_EXCEPTIONS: dict = {}


def _rebuilt_exception(info: tuple) -> Exception:
    """An exception with the original's class name, ``str`` and builtin base, without importing its module.

    ``type(exc).__name__`` and ``str(exc)`` read as the original's, and
    ``isinstance(exc, ValueError)`` holds when the original was a ValueError.
    """
    import builtins

    module, qualname, base_name, message = info
    key = (module, qualname, base_name)
    cls = _REMOTE_EXCEPTIONS.get(key)
    if cls is None:
        base = getattr(builtins, base_name, Exception)
        if not (isinstance(base, type) and issubclass(base, Exception)):
            base = Exception
        namespace = {
            "__module__": module,
            "__qualname__": qualname,
            "__str__": lambda self: self.args[0],
        }
        cls = type(qualname.rpartition(".")[2], (base,), namespace)
        _REMOTE_EXCEPTIONS[key] = cls
    exc = cls.__mro__[1].__new__(cls)  # type: ignore[call-overload]
    exc.args = (message,)
    return exc


def _same_bytes(a: np.ndarray, b: np.ndarray) -> bool:
    """Every element bit for bit (NaN payloads and signed zeros included)."""
    bits = np.dtype(f"V{a.itemsize}")
    return bool(np.array_equal(a.view(bits) if a.ndim else a, b.view(bits) if b.ndim else b))

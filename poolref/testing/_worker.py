"""Running the target in a worker process: exits, signals and timeouts become failures.

A target under test may ``sys.exit(0)``, ``os._exit(0)``, segfault, abort or
hang; in the harness's own process any of these ends the run (an exit with
status 0 even reads as a pass). :func:`isolated` runs the candidate in a
worker process instead and gives back a proxy :class:`~poolref.testing.Candidate`
whose ``forward``/``backward`` call into that worker. A call that ends the
worker raises :class:`TargetCrashed`; the harness reports it as a failure of
the case that was running.

The worker's copy of each input has the caller's exact memory layout, and
the checks that need the objects the target got (aliasing, reshaping) run in
the worker (:mod:`poolref.testing._boundary`); values written into an input
are copied back into the caller's array, so the harness's own "input
modified" check sees them as it would in-process.

The worker is started once and reused; after a crash or a timeout the next
call starts a fresh one. The target's standard output goes to standard error
so that it does not mix with the harness's report.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import multiprocessing
import os
import pickle
import signal
import sys
import traceback
from collections.abc import Iterator
from multiprocessing.connection import wait
from typing import Any

import numpy as np

from ._boundary import (
    _ROLE_ARRAYS,
    TargetCrashed,
    TargetMisbehaved,
    _exception_info,
    _exit_status,
    _pack,
    _Packed,
    _rebuilt_exception,
    _received,
    _same_bytes,
    _sendable,
    _unpack,
    guarded_call,
)

__all__ = ["DEFAULT_TIMEOUT", "TargetCrashed", "TargetMisbehaved", "WorkerError", "isolated"]

#: Seconds one call of the target may take before it counts as a hang.
DEFAULT_TIMEOUT = 60.0
#: Starting the worker (interpreter, NumPy, the target's import) may take at least this long.
MIN_START_TIMEOUT = 60.0


# ============================================================================
# The worker process
# ============================================================================


def _describe(cand) -> dict:
    """What the parent needs to build its proxy: the candidate without its callables."""
    callables = {}
    support = cand.support
    for f in dataclasses.fields(support):
        if callable(getattr(support, f.name)):
            callables[f.name] = True
            support = dataclasses.replace(support, **{f.name: None})
    identity = {}
    for role in ("forward", "backward"):
        fn = getattr(cand, role)
        if fn is not None:
            identity[role] = {
                a: getattr(fn, a, None) for a in ("__module__", "__qualname__", "__name__")
            }
    fields = {  # every other field that is plain data (the parent must not import the target's modules)
        f.name: getattr(cand, f.name)
        for f in dataclasses.fields(cand)
        if f.name not in ("forward", "backward", "support") and _plain(getattr(cand, f.name))
    }
    fields["name"] = cand.name or cand.label
    return {
        "fields": fields,
        "support": support,
        "support_callables": tuple(callables),
        "identity": identity,
    }


def _plain(value) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (tuple, list)):
        return all(_plain(v) for v in value)
    return dataclasses.is_dataclass(value) and type(value).__module__.startswith("poolref.")


def _build(payload):
    """The candidate inside the worker: unpickle the recipe (bytes) and call it unless it is one."""
    from . import Candidate

    recipe = pickle.loads(payload) if isinstance(payload, bytes) else payload
    cand = recipe if isinstance(recipe, Candidate) else recipe()
    if not isinstance(cand, Candidate):
        msg = f"the recipe built a {type(cand).__name__}, not a Candidate"
        raise TypeError(msg)
    return cand


def _serve_call(cand, role: str, packed: tuple):
    args = tuple(_unpack(v) for v in packed)
    if role in ("forward", "backward"):
        before = [(i, args[i].copy()) for i, v in enumerate(packed) if isinstance(v, _Packed)]
        result = guarded_call(getattr(cand, role), role, args)
        changed = [(i, _pack(args[i])) for i, copy in before if not _same_bytes(args[i], copy)]
        return ("ok", _sendable(result), changed)
    field = role.partition(".")[2]  # "support.accepts"
    return ("ok", bool(getattr(cand.support, field)(*args)), [])


def _child_main(conn, payload) -> None:
    """The worker's loop: build the candidate, then answer calls until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the harness's to handle
    with contextlib.suppress(OSError, AttributeError, ValueError):
        sys.stdout.flush()
        os.dup2(2, 1)  # the target's prints (C-level ones too) go to stderr, not into the report
        sys.stdout = sys.stderr
    try:
        cand = _build(payload)
        conn.send(("ready", _describe(cand)))
    except SystemExit as exc:
        conn.send(("crashed", "exit", _exit_status(exc.code)))
        return
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        conn.send(("failed", _exception_info(exc), traceback.format_exc(limit=-3)))
        return
    while True:
        try:
            role, packed = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        try:
            reply = _serve_call(cand, role, packed)
        except TargetCrashed as exc:
            reply = ("crashed", exc.kind, exc.detail)
        except TargetMisbehaved as exc:
            reply = ("misbehaved", exc.check, exc.detail)
        except Exception as exc:  # noqa: BLE001
            reply = ("raised", _exception_info(exc))
        conn.send(reply)


class WorkerError(RuntimeError):
    """The worker could not build the candidate (the recipe raised)."""

    def __init__(self, exc: Exception, trace: str):
        self.original = exc
        self.trace = trace
        super().__init__(f"{type(exc).__name__}: {exc}")


class _Spawned:
    """A fresh interpreter (``python -c``) that gets the parent's ``sys.path`` and the pickled recipe.

    Not ``multiprocessing``'s spawn: that re-runs the caller's main script in
    the worker, which a script without an ``if __name__ == "__main__"`` guard
    does not survive.
    """

    def __init__(self, payload: bytes):
        import socket
        import subprocess
        from multiprocessing.connection import Connection

        import poolref

        ours, theirs = socket.socketpair()
        for sock in (
            ours,
            theirs,
        ):  # a whole strided input in one write: fewer hand-overs between the processes
            for option in (socket.SO_SNDBUF, socket.SO_RCVBUF):
                sock.setsockopt(socket.SOL_SOCKET, option, 1 << 22)
        root = os.path.dirname(os.path.dirname(os.path.abspath(poolref.__file__)))
        code = (
            f"import sys; sys.path.insert(0, {root!r}); "
            f"from poolref.testing._worker import _spawned_main; _spawned_main({theirs.fileno()})"
        )
        self.popen = subprocess.Popen(
            [sys.executable, "-c", code],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=2,
        )
        theirs.close()
        self.conn = Connection(ours.detach())
        self.conn.send((list(sys.path), payload))

    def exitcode(self, wait: float):
        try:
            return self.popen.wait(wait)
        except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired: still running
            return None

    def kill(self) -> None:
        self.popen.kill()
        self.popen.wait()


class _Forked:
    """A ``fork`` of this process, for a candidate that does not pickle (it inherits it)."""

    def __init__(self, candidate):
        context = multiprocessing.get_context("fork")
        ours, theirs = context.Pipe()
        self.process = context.Process(
            target=_child_main, args=(theirs, candidate), name="poolref-target"
        )
        self.process.start()
        theirs.close()
        self.conn = ours

    def exitcode(self, wait: float):
        self.process.join(wait)
        return self.process.exitcode

    def kill(self) -> None:
        self.process.kill()
        self.process.join()


def _spawned_main(fd: int) -> None:
    """Entry point of a :class:`_Spawned` worker."""
    from multiprocessing.connection import Connection

    conn = Connection(fd)
    sys.path[:], payload = conn.recv()
    _child_main(conn, payload)


class _Worker:
    """One worker process running the candidate; restarted after a crash or a timeout."""

    def __init__(self, payload, timeout: float):
        self.payload = payload  # bytes: a fresh interpreter; else the object itself, by fork
        self.timeout = float(timeout)
        self.child: Any = None  # _Spawned or _Forked while a worker runs
        self.description: Any = None
        atexit.register(self.close)

    def start(self) -> dict:
        self.close()
        self.child = (
            _Spawned(self.payload) if isinstance(self.payload, bytes) else _Forked(self.payload)
        )
        reply = self._receive("load", max(self.timeout, MIN_START_TIMEOUT))
        if reply[0] == "failed":
            self.close()
            raise WorkerError(_rebuilt_exception(reply[1]), reply[2])
        if reply[0] == "crashed":
            self.close()
            raise TargetCrashed(reply[1], reply[2], "load")
        self.description = reply[1]
        return self.description

    def call(self, role: str, args: tuple):
        """``role(*args)`` in the worker; returns its result or raises what the target did."""
        if self.child is None or self.child.exitcode(0) is not None:
            self.start()
        packed = tuple(_pack(a) for a in args)
        try:
            self.child.conn.send((role, packed))
        except OSError:  # BrokenPipeError, ConnectionResetError: it died
            raise self._died(role) from None
        reply = self._receive(role, self.timeout)
        kind = reply[0]
        if kind == "ok":
            for i, after in reply[2]:
                _copy_back(args[i], after.unpack(), role, i)
            return _received(reply[1])
        if kind == "crashed":
            raise TargetCrashed(reply[1], reply[2], role)
        if kind == "misbehaved":
            raise TargetMisbehaved(reply[1], reply[2])
        raise _rebuilt_exception(reply[1])

    def _receive(self, role: str, timeout: float):
        if not wait([self.child.conn], timeout):
            self.close(grace=0)
            raise TargetCrashed("timeout", timeout, role)
        try:
            return self.child.conn.recv()
        except (EOFError, OSError):  # its end closed: it is gone
            raise self._died(role) from None

    def _died(self, role: str) -> TargetCrashed:
        code = self.child.exitcode(5)
        self.close()
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return TargetCrashed("signal", name, role)
        return TargetCrashed("exit", code, role)

    def close(self, grace: float = 1.0) -> None:
        """Stop the worker: it ends when its pipe closes; killed if still alive after ``grace`` seconds."""
        if self.child is None:
            return
        child, self.child = self.child, None
        child.conn.close()
        if child.exitcode(grace) is None:
            child.kill()


def _copy_back(original, after: np.ndarray, role: str, position: int) -> None:
    """Write into the caller's array what the target wrote into the worker's copy."""
    name = (
        _ROLE_ARRAYS[role][position]
        if position < len(_ROLE_ARRAYS[role])
        else f"argument {position}"
    )
    try:
        np.copyto(original, after)
    except (ValueError, TypeError):  # read-only: report it without the detail
        check = "input modified" if name == "x" else f"{name} modified"
        raise TargetMisbehaved(check, f"the {role} changed its input {name}") from None


class _Remote:
    """Stands in for the target's forward or backward: calls it in the worker.

    Carries the original's ``__module__``/``__qualname__``/``__name__`` so that
    labels and reproduction snippets name the target, not this proxy.
    """

    def __init__(self, worker: _Worker, role: str, identity: dict | None = None):
        self._worker = worker
        self._role = role
        for attr, value in (identity or {}).items():
            if value is not None:
                setattr(self, attr, value)

    def __call__(self, *args):
        return self._worker.call(self._role, args)


# ============================================================================
# The proxy candidate
# ============================================================================


def _check_timeout(timeout) -> float:
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not 0 < timeout < float("inf")
    ):
        msg = f"timeout must be a number of seconds > 0, got timeout={timeout!r}"
        raise ValueError(msg)
    return float(timeout)


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _payload(recipe):
    """What the worker gets: the pickled recipe (a fresh interpreter), or the candidate itself (a fork)."""
    from . import Candidate

    try:
        return pickle.dumps(recipe)
    except Exception as exc:  # noqa: BLE001 - closures, lambdas, local classes
        if isinstance(recipe, Candidate) and _can_fork():
            return recipe
        msg = f"cannot run {getattr(recipe, 'label', recipe)!r} in a worker process: it does not pickle ({exc})"
        raise TypeError(msg) from None


def _identity(fn) -> dict:
    return {a: getattr(fn, a, None) for a in ("__module__", "__qualname__", "__name__")}


def _proxy(recipe, worker: _Worker, description: dict):
    from . import Candidate

    if isinstance(recipe, Candidate):  # the parent has the original: keep all but the calls
        backward = (
            None
            if recipe.backward is None
            else _Remote(worker, "backward", _identity(recipe.backward))
        )
        return dataclasses.replace(
            recipe, forward=_Remote(worker, "forward", _identity(recipe.forward)), backward=backward
        )
    d = description
    remote = {name: _Remote(worker, f"support.{name}") for name in d["support_callables"]}
    backward = d["identity"].get("backward")
    return Candidate(
        _Remote(worker, "forward", d["identity"]["forward"]),
        None if backward is None else _Remote(worker, "backward", backward),
        dataclasses.replace(d["support"], **remote) if remote else d["support"],
        **d["fields"],
    )


@contextlib.contextmanager
def isolated(recipe, *, timeout: float = DEFAULT_TIMEOUT) -> Iterator:
    """A proxy :class:`~poolref.testing.Candidate` whose calls run in a worker process.

    ``recipe`` is either a :class:`~poolref.testing.Candidate` (sent to the
    worker by pickle and started with ``spawn``; one that does not pickle,
    e.g. with closures, is inherited through ``fork`` where the platform has
    it) or a picklable zero-argument callable that returns one inside the
    worker (the command line uses this, so its own process never imports the
    target). Each call may take ``timeout`` seconds; starting the worker may
    take ``max(timeout, MIN_START_TIMEOUT)``.

    The proxy's ``forward``/``backward`` raise :class:`TargetCrashed` when the
    target exits, dies of a signal or times out (the next call starts a fresh
    worker), :class:`TargetMisbehaved` for an aliased output or a reshaped
    input, and otherwise what the target raised (same class name, message and
    builtin base class). Leaving the ``with`` block stops the worker.

    Raises :class:`TargetCrashed` (role ``"load"``) if the
    worker dies while building the candidate, and :class:`WorkerError` if the
    recipe raised there.
    """
    from . import Candidate

    timeout = _check_timeout(timeout)
    worker = _Worker(_payload(recipe), timeout)
    try:
        try:
            description = worker.start()
        except WorkerError:
            if not (
                isinstance(recipe, Candidate) and isinstance(worker.payload, bytes) and _can_fork()
            ):
                raise
            # it pickled but does not unpickle in a fresh interpreter (defined in __main__?): inherit it
            worker.payload = recipe
            description = worker.start()
        yield _proxy(recipe, worker, description)
    finally:
        worker.close()
        atexit.unregister(worker.close)

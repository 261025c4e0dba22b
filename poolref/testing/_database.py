"""Counterexamples kept across runs in a Hypothesis example database.

``check_max_pool(..., database=...)`` saves every difference it finds, however it was found
(corner case, scale case, Hypothesis search), and replays the saved ones first in later runs.

* A small case (corner case or search) is stored as its parameters plus the bytes its input
  spans, with its shape, strides and offset (so a non-contiguous input replays with the same
  layout); a scale case as its :class:`~poolref.testing._scale_spec.ScaleSpec` fields (it
  rebuilds its input from a seed). Each value is a JSON header line followed by the raw bytes.
* Keys: ``poolref:<target>:<kind>`` holds the cases of one kind of difference (the kind names
  the check, e.g. ``values: NaN index``), and the index key ``poolref:<target>`` holds the kinds,
  because a database cannot list its keys. The search's own Hypothesis examples are stored by
  Hypothesis under the test's key, which includes ``poolref:<target>:search:<nd>-D``.
* The database: a directory (``DirectoryBasedExampleDatabase``), ``redis://host:port[/db]``
  (``hypothesis.extra.redis.RedisExampleDatabase``) or any ``ExampleDatabase``; ``read_only``
  wraps it in ``ReadOnlyDatabase``.
* Every access goes through :class:`_Guarded`: a database that fails mid-run (a Redis that went
  away) records the error instead of ending the run, so what was found is still reported, and
  the report says what could not be saved.
"""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import numpy as np

from ..arrays import PoolCase
from ._boundary import _pack, _Packed

_MAGIC = b"poolref-case-1\n"
#: How long Redis keeps a key no run has touched: the counterexamples are regression tests.
REDIS_EXPIRE = timedelta(days=3650)


def open_database(database: Any, *, read_only: bool = False):
    """The ``ExampleDatabase`` ``database`` names; raise ``ValueError`` before any case if it cannot be used."""
    from hypothesis.database import (
        DirectoryBasedExampleDatabase,
        ExampleDatabase,
        ReadOnlyDatabase,
    )

    if isinstance(database, ExampleDatabase):
        db = database
    elif isinstance(database, (str, os.PathLike)):
        text = os.fspath(database)
        if "://" in text:
            db = _redis(text)
        else:
            if os.path.exists(text) and not os.path.isdir(text):
                msg = f"check_max_pool: database={text!r} is not a directory"
                raise ValueError(msg)
            if read_only and not os.path.isdir(text):
                msg = f"check_max_pool: database={text!r} does not exist (read_only=True only reads it)"
                raise ValueError(msg)
            db = DirectoryBasedExampleDatabase(text)
    else:
        msg = (
            "check_max_pool: database must be a directory, 'redis://host:port[/db]' or a "
            f"hypothesis ExampleDatabase, got {type(database).__name__}"
        )
        raise TypeError(msg)
    return ReadOnlyDatabase(db) if read_only else db


def _redis(url: str):
    """``redis://host:port[/db]`` as a ``RedisExampleDatabase``, after a ping."""
    parsed = urlparse(url)
    path = parsed.path.strip("/")
    try:
        port = parsed.port
    except ValueError:
        port = -1
    if (
        parsed.scheme not in ("redis", "rediss")
        or not parsed.hostname
        or port == -1
        or not (path == "" or path.isdigit())
    ):
        msg = f"check_max_pool: database={url!r} is not a directory or a URL redis://host:port[/db]"
        raise ValueError(msg)
    try:
        import redis
        from hypothesis.extra.redis import RedisExampleDatabase
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry
    except ImportError:
        msg = f"check_max_pool: database={url!r} needs redis: pip install 'poolref[redis]'"
        raise ImportError(msg) from None
    client = redis.Redis(
        host=parsed.hostname,
        port=port or 6379,
        db=int(path or 0),
        password=parsed.password,
        ssl=parsed.scheme == "rediss",
        socket_connect_timeout=5,
        socket_timeout=10,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),  # a dead server fails in < 1 s
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        msg = f"check_max_pool: database={url!r} is unreachable: {exc}"
        raise ValueError(msg) from None
    return RedisExampleDatabase(client, expire_after=REDIS_EXPIRE)


def _guarded_class():
    from hypothesis.database import ExampleDatabase

    class _Guarded(ExampleDatabase):
        """Forwards to ``db``; an error is recorded in ``errors`` instead of raised."""

        def __init__(self, db, errors: list) -> None:
            super().__init__()
            self.db, self.errors = db, errors

        def _do(self, name: str, *args, default=None):
            if self.errors:  # it failed once (e.g. went away): not tried again in this run
                self.errors.append(f"{name}: skipped after the first error")
                return default
            try:
                result = getattr(self.db, name)(*args)
                return list(result) if name == "fetch" else result
            except Exception as exc:  # noqa: BLE001 - e.g. redis.ConnectionError mid-run
                self.errors.append(f"{name}: {type(exc).__name__}: {exc}")
                return default

        def save(self, key: bytes, value: bytes) -> None:
            self._do("save", key, value)

        def fetch(self, key: bytes):
            return iter(self._do("fetch", key, default=[]))

        def delete(self, key: bytes, value: bytes) -> None:
            self._do("delete", key, value)

        def move(self, src: bytes, dest: bytes, value: bytes) -> None:
            self._do("move", src, dest, value)

    return _Guarded


def encode_case(kind: str, case: PoolCase) -> bytes:
    """A small case as bytes: a JSON header (parameters, dtype, shape, strides, offset) and the bytes."""
    packed = _pack(case.x)
    header: dict[str, Any] = {"type": "case", "kind": kind, "params": _params(case)}
    if isinstance(packed, _Packed):
        header.update(
            dtype=packed.dtype.str, shape=packed.shape, strides=packed.strides, offset=packed.offset
        )
        raw = packed.raw.tobytes()
    else:  # an empty input
        header.update(dtype=case.x.dtype.str, shape=case.x.shape, strides=None, offset=0)
        raw = b""
    return _MAGIC + json.dumps(header).encode() + b"\n" + raw


def _params(case: PoolCase) -> list:
    return [list(p) for p in case[1:5]] + [bool(case.ceil_mode)]


def encode_scale(kind: str, spec) -> bytes:
    """A scale case as bytes: its spec's fields (the input is rebuilt from its seed)."""
    fields = dataclasses.asdict(spec)
    return _MAGIC + json.dumps({"type": "scale", "kind": kind, "spec": fields}).encode() + b"\n"


def decode(value: bytes):
    """``(kind, PoolCase or ScaleSpec)`` from :func:`encode_case`/:func:`encode_scale`, or None."""
    if not value.startswith(_MAGIC):
        return None
    head, _, raw = value[len(_MAGIC) :].partition(b"\n")
    try:
        header = json.loads(head)
        if header["type"] == "scale":
            from ._scale_spec import ScaleSpec

            fields: dict[str, Any] = {
                k: tuple(v) if isinstance(v, list) else v for k, v in header["spec"].items()
            }
            return header["kind"], ScaleSpec(**fields)
        dtype, shape = np.dtype(header["dtype"]), tuple(header["shape"])
        if header["strides"] is None:
            x = np.empty(shape, dtype)
        else:
            buffer = np.frombuffer(raw, np.uint8).copy()
            x = np.ndarray(
                shape, dtype, buffer=buffer, offset=header["offset"], strides=header["strides"]
            )
        k, s, p, d, ceil = header["params"]
        return header["kind"], PoolCase(x, tuple(k), tuple(s), tuple(p), tuple(d), bool(ceil))
    except (ValueError, KeyError, TypeError):
        return None


class Store:
    """One run's view of the database: the keys of one target, what was saved, the errors."""

    def __init__(self, database: Any, target: str, *, read_only: bool = False) -> None:
        self.url = database if isinstance(database, (str, os.PathLike)) else type(database).__name__
        self.errors: list[str] = []
        self.db = _guarded_class()(open_database(database, read_only=read_only), self.errors)
        self.read_only = read_only
        self.target = target
        self.saved = 0
        self.unsaved: list[str] = []

    def key(self, *parts: str) -> bytes:
        """``poolref:<target>[:<part>...]`` as bytes."""
        return ":".join(("poolref", self.target, *parts)).encode()

    def stored(self) -> list:
        """Every stored ``(kind, case or spec)`` of this target, in the order the kinds were saved."""
        found = []
        for kind in sorted(self.db.fetch(self.key())):
            for value in sorted(self.db.fetch(self.key(kind.decode()))):
                item = decode(value)
                if item is not None:
                    found.append(item)
        return found

    def save(self, kind: str, value: bytes) -> None:
        """Save one counterexample of ``kind`` (nothing in read-only mode)."""
        if self.read_only:
            return
        before = len(self.errors)
        self.db.save(self.key(), kind.encode())
        self.db.save(self.key(kind), value)
        if len(self.errors) > before:
            self.unsaved.append(kind)
        else:
            self.saved += 1

    def hypothesis_database(self):
        """The database for the search's Hypothesis settings (guarded, read-only if asked)."""
        return self.db

    def problem(self) -> str:
        """The line for the report when the database failed during the run, else ``""``."""
        if not self.errors:
            return ""
        lost = f"; not saved: {', '.join(self.unsaved)}" if self.unsaved else ""
        return (
            f"database {self.url!s} failed during the run ({self.errors[0]}; not used after "
            f"that){lost}; every counterexample found is still reported above"
        )


def replay(run, store: Store) -> None:
    """Check every stored counterexample of ``run``'s ranks first; record those that still fail."""
    from ._check import _check_case
    from ._corners import _valid_call
    from ._report import _Failure

    items = [(kind, c) for kind, c in store.stored() if c.nd in run.ndims]
    for i, (kind, item) in enumerate(items, 1):
        found_by = f"database replay ({i} of {len(items)}, key {store.key(kind).decode()!r})"
        if not isinstance(item, PoolCase):
            _replay_scale(run, kind, item, found_by)
            continue
        if not _valid_call(item.x, *item[1:]) or not run.cand.support.allows(item.x, *item[1:]):
            run.notes["database cases outside the support"] += 1
            continue
        try:
            _check_case(run.cand, item, run.notes)
        except _Failure as failure:
            run.record(item, failure, found_by, shrink=False)
    if items:
        run.say(f"database: {len(items)} stored counterexample(s) replayed")


def _replay_scale(run, kind: str, spec, found_by: str) -> None:
    from ._scale_check import ScaleFailure, _allowed, check_case, report

    x = spec.build() if spec.valid() else None
    if x is None or not _allowed(run.cand, spec, x):
        run.notes["database cases outside the support"] += 1
        return
    try:
        check_case(run.cand, spec, x)
    except ScaleFailure as failure:
        kind = run._small_kind(spec) or f"{failure.check}: scale case"
        if kind not in run.found:
            from ._summary import Difference

            text = report(run.cand, spec, failure, found_by)
            diff = Difference(kind, failure.check, failure.detail, text, found_by)
            run.found[kind] = (diff, None)
            run.say(f"difference: {kind}")

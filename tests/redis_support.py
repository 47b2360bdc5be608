"""A real `redis-server` for the tests of the shared state: started on a free port, without persistence.

Where `redis-server` is missing the tests that need it skip, saying how to get it; under CI (`MOCK_FINAPI_CI=1`,
where `.ci/run` installs it) they fail instead.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

MISSING = (
    "redis-server is not installed: the shared-state (Redis) tests need it "
    "(Debian/Ubuntu: `sudo apt-get install redis-server`; macOS: `brew install redis`)"
)
_prefixes = itertools.count()


def redis_server_path() -> str:
    """The `redis-server` command; skips the test without it (fails under CI)."""
    found = shutil.which("redis-server")
    if found is None:
        if os.environ.get("MOCK_FINAPI_CI") == "1":
            pytest.fail(MISSING + "; CI must have it", pytrace=False)
        pytest.skip(MISSING)
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """One `redis-server` process on a loopback port (stopped and started again by the outage tests)."""

    def __init__(self, command: str, folder: Path) -> None:
        self.command, self.folder, self.port = command, folder, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [self.command, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--dir", str(self.folder), "--loglevel", "warning"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"redis-server ended: {self.process.stderr.read()!r}") from None  # type: ignore[union-attr]
                time.sleep(0.02)
        raise RuntimeError("redis-server did not answer within 10 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            assert self.process.stderr is not None
            self.process.stderr.close()
            self.process = None


@contextmanager
def running_redis() -> Iterator[RedisServer]:
    command = redis_server_path()
    with tempfile.TemporaryDirectory(prefix="mock-finapi-redis-") as folder:
        server = RedisServer(command, Path(folder))
        server.start()
        try:
            yield server
        finally:
            server.stop()


def new_prefix() -> str:
    """A key prefix no other test of this process uses: one sandbox per test on a shared redis-server."""
    return f"test{os.getpid()}-{next(_prefixes)}"

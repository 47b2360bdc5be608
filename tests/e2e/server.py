"""Real `mock-finapi serve` processes for end-to-end tests: start on port 0, wait for the URL file, kill in `finally`.

Every wait is bounded and polled, never slept for. Output goes to files (a full pipe would stall the server), which
the tests read while the server runs: the server flushes stdout per line.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CLI = [sys.executable, "-m", "mock_finapi.cli"]
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
WAIT_TIMEOUT = 5.0
"""For things a running server does on its own (a log line, a reload)."""


def clean_env(**overrides: str) -> dict[str, str]:
    """The test's environment without MOCK_FINAPI_* settings of its own, plus `overrides`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_FINAPI_")}
    return env | overrides


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=START_TIMEOUT, env=env or clean_env(), check=False
    )


def poll(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def read_answer(sock: socket.socket) -> tuple[int, bytes]:
    """The status and body of the next HTTP/1.1 answer on a raw socket (its length from Content-Length)."""
    reader = sock.makefile("rb")
    status = int(reader.readline().split()[1])
    length = 0
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, reader.read(length)


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    url_file: Path
    stdout: Path
    stderr: Path

    def stdout_lines(self) -> list[str]:
        return self.stdout.read_text(encoding="utf-8").splitlines()

    def stderr_lines(self) -> list[str]:
        return self.stderr.read_text(encoding="utf-8").splitlines()

    def wait_for_stdout_lines(self, count: int) -> list[str]:
        """stdout once it has `count` lines (as they are written, not when the server stops)."""
        poll(lambda: len(self.stdout_lines()) >= count, WAIT_TIMEOUT, f"{count} lines on stdout")
        return self.stdout_lines()

    def wait_for_stderr(self, text: str) -> list[str]:
        """The stderr lines that contain `text`, once there is one."""
        poll(lambda: any(text in line for line in self.stderr_lines()), WAIT_TIMEOUT, f"{text!r} on stderr")
        return [line for line in self.stderr_lines() if text in line]

    def stop(self) -> int:
        """Stop with SIGTERM (a graceful stop, which flushes everything) and answer the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=STOP_TIMEOUT)


@dataclass(frozen=True)
class Launch:
    """One `serve` to start: its folder for the URL and output files, its arguments and environment."""

    folder: Path
    args: Sequence[str] = ()
    env: dict[str, str] | None = None
    url_file: bool = True


@contextmanager
def serving(tmp_path: Path, *args: str, env: dict[str, str] | None = None, url_file: bool = True) -> Iterator[Served]:
    """A `serve` process; ready once its URL file exists. Its files live in `tmp_path` (created if missing)."""
    with serving_all(Launch(tmp_path, args, env, url_file)) as (served,):
        yield served


@contextmanager
def serving_all(*launches: Launch) -> Iterator[list[Served]]:
    """Several `serve` processes started at once (they get ready side by side), each killed in the `finally`."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        started = [_start(launch, processes) for launch in launches]
        yield [_ready(*start) for start in started]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
        for process in processes:
            process.wait(timeout=STOP_TIMEOUT)


def _start(
    launch: Launch, processes: list[subprocess.Popen[bytes]]
) -> tuple[subprocess.Popen[bytes], Path, Path, Path]:
    launch.folder.mkdir(parents=True, exist_ok=True)
    file = launch.folder / "url.txt"
    stdout, stderr = launch.folder / "stdout.txt", launch.folder / "stderr.txt"
    argv = [*CLI, "serve", *(["--port", "0", "--url-file", str(file)] if launch.url_file else []), *launch.args]
    with stdout.open("wb") as out, stderr.open("wb") as err:
        processes.append(subprocess.Popen(argv, stdout=out, stderr=err, env=launch.env or clean_env()))
    if not launch.url_file:
        file = Path(launch.env["MOCK_FINAPI_URL_FILE"]) if launch.env else file
    return processes[-1], file, stdout, stderr


def _ready(process: subprocess.Popen[bytes], file: Path, stdout: Path, stderr: Path) -> Served:
    poll(lambda: file.exists() or process.poll() is not None, START_TIMEOUT, "the URL file")
    assert process.poll() is None, stderr.read_text()
    return Served(process, file.read_text(encoding="utf-8").strip(), file, stdout, stderr)

"""Start-up benchmark (issue 5, point 4): how soon mock-finapi answers 200 on GET /__admin/health.

    .venv/bin/python bench/startup.py [--runs 10] [--write]

Measures
- `mock-finapi serve --port 0 --url-file F`: from process start to the first 200 on /__admin/health (the URL is
  read from F as soon as it appears; health is then polled), for the default scenario (ten Faker users) and for
  expiring-tokens (no generated users);
- ThreadedServer, cold: a fresh Python process that imports mock_finapi.testing, builds the server (loading the
  scenario) and starts it, until the first 200; timed inside that process, so interpreter start-up is excluded;
- ThreadedServer, warm: another server in a process that already has one (what each pytest-xdist worker after
  the first import, or a script starting several servers, pays).

Prints a table; `--write` also writes it to bench/results/startup.txt (the committed result: without the flag no
tracked file changes). The goal (under one second for `serve`) is checked here, not in the test suite: timings
depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from processes_util import stop

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "startup.txt"
HEALTH = "/__admin/health"
TIMEOUT = 30.0
GOAL = 1.0
"""Seconds within which `serve` must answer health (issue 5)."""

COLD_THREADED = """
import time
t0 = time.perf_counter()
import httpx
from mock_finapi.testing import ThreadedServer
server = ThreadedServer(scenario="default").start()
with httpx.Client() as client:
    while client.get(server.url + "/__admin/health").status_code != 200:
        pass
print(time.perf_counter() - t0)
server.stop()
"""


def serve_command() -> list[str]:
    script = Path(sys.executable).with_name("mock-finapi")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mock_finapi.cli"]


def wait_healthy(url: str, deadline: float, alive: Callable[[], bool]) -> None:
    with httpx.Client(timeout=2.0) as client:
        while True:
            try:
                if client.get(url + HEALTH).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if not alive() or time.perf_counter() > deadline:
                raise RuntimeError(f"{url} did not become healthy")
            time.sleep(0.002)


def time_serve(scenario: str) -> float:
    """Seconds from spawning `mock-finapi serve` to its first 200 on health."""
    with tempfile.TemporaryDirectory() as work:
        url_file = Path(work) / "url"
        command = [*serve_command(), "serve", "--port", "0", "--url-file", str(url_file), "--scenario", scenario]
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        try:
            deadline = start + TIMEOUT
            while not url_file.exists() or not url_file.read_text().strip():
                if process.poll() is not None or time.perf_counter() > deadline:
                    raise RuntimeError(f"`serve --scenario {scenario}` wrote no URL (exit code {process.poll()})")
                time.sleep(0.002)
            wait_healthy(url_file.read_text().strip(), deadline, lambda: process.poll() is None)
            return time.perf_counter() - start
        finally:
            stop(process)


def time_threaded_cold() -> float:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", COLD_THREADED], capture_output=True, text=True, timeout=TIMEOUT, check=True
    )
    return float(result.stdout.strip())


def time_threaded_warm() -> float:
    from mock_finapi.testing import ThreadedServer

    start = time.perf_counter()
    server = ThreadedServer(scenario="default").start()
    try:
        wait_healthy(server.url, start + TIMEOUT, lambda: server.running)
        return time.perf_counter() - start
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--write", action="store_true", help=f"also write the table to {RESULTS}")
    args = parser.parse_args()
    runs = args.runs

    time_threaded_warm()  # the imports the warm case must not pay
    cases: list[tuple[str, Callable[[], float]]] = [
        ("serve --port 0 --url-file (default)", lambda: time_serve("default")),
        ("serve --port 0 --url-file (expiring-tokens)", lambda: time_serve("expiring-tokens")),
        ("ThreadedServer, cold process (default)", time_threaded_cold),
        ("ThreadedServer, warm (default)", time_threaded_warm),
    ]
    rows = []
    for name, measure in cases:
        samples = [measure() for _ in range(runs)]
        rows.append((name, statistics.median(samples), max(samples), min(samples)))

    width = max(len(name) for name, *_ in rows)
    lines = [
        f"mock-finapi start-up until the first 200 on {HEALTH}, {runs} runs each",
        f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs; PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}",
        "",
        f"{'case':<{width}}  {'median':>8}  {'max':>8}  {'min':>8}",
        *(
            f"{name:<{width}}  {med * 1000:>6.0f}ms  {top * 1000:>6.0f}ms  {low * 1000:>6.0f}ms"
            for name, med, top, low in rows
        ),
        "",
    ]
    serve_max = max(top for name, _, top, _ in rows if name.startswith("serve"))
    verdict = "met" if serve_max < GOAL else "MISSED"
    lines.append(f"goal: `serve` healthy in under {GOAL:g} s: {verdict} (worst run {serve_max * 1000:.0f} ms)")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text)
        print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the benchmark scripts share: stopping a server process they started, publishing a report, the latency probe."""

from __future__ import annotations

import subprocess
from pathlib import Path


def stop(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 10 s."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def publish(text: str, out: Path) -> None:
    """Print a report and write it to `out` (its folder made if missing)."""
    print(text, end="")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)


PROBE = """
import http.client, json, sys, time
host, port, token, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
conn = http.client.HTTPConnection(host, port, timeout=120)
headers = {"Authorization": "Bearer " + token}
samples = []
end = time.monotonic() + seconds
while time.monotonic() < end:
    start = time.monotonic()
    conn.request("GET", sys.argv[5], headers=headers)
    response = conn.getresponse()
    response.read()
    samples.append((start, time.monotonic() - start, response.status))
print(json.dumps(samples))
"""
"""A probe process (`python -c PROBE HOST PORT TOKEN SECONDS PATH`): GETs PATH with the bearer token on one keep-alive
connection for SECONDS and prints (start, duration, status) of each request as JSON (CLOCK_MONOTONIC, which the
benchmark's process shares)."""

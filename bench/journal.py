"""Journal benchmark (issue 16, point 3): the worst case of the journal's memory, and what reading it costs.

    .venv/bin/python bench/journal.py                  # both fills; writes bench/results/journal.txt
    .venv/bin/python bench/journal.py --fills max --reads 1

For each fill a fresh `mock-finapi serve --port 0 --log-format off` (the default journal: the last 1,000 requests
outside /__admin) is filled with `--journal-size` requests `POST /api/v2/users` (no credentials: answered 401, and
journaled like any other) over one keep-alive connection:

- max: a JSON body of exactly MAX_BODY_BYTES (1 MiB, the largest a request may carry: `{"values": "xxx…"}`). An entry
  keeps its first JOURNAL_BODY_BYTES (16 KiB) and marks it cut; its view shows `bodyTruncated` and no fields.
- nested: a JSON body of exactly 16 KiB, kept whole: `{"values": [[[…]]], [[[…]]], …]}`, arrays nested 60 deep
  (the JSON limit is 64) side by side. The view parses and masks it, and this shape costs the most per byte of all
  that were tried (zeros, empty objects or arrays, nesting 2, 8 or 60 deep): the largest entry that is shown whole.

Then, --reads times each: a full read `GET /__admin/requests` (no limit: every entry; a journal query takes no
default or maximum limit, the journal's size bounds it) and a `GET /__admin/requests?limit=1`, each timed from the
request to the last byte of the answer. Meanwhile a probe thread requests `GET /__admin/health` on a keep-alive
connection of its own; the longest health request that overlapped a read is how long the read kept the event loop
from serving anyone else.

Memory is the server process's: VmRSS of /proc/<pid>/status idle, after the fill and after each read, and VmHWM
(peak) during each read (reset before it by writing 5 to /proc/<pid>/clear_refs; where that is refused, the peak
since the server started is shown and marked so).
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from processes_util import publish, stop

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from mock_finapi.http.middleware import JOURNAL_BODY_BYTES  # noqa: E402
from mock_finapi.settings import MAX_BODY_BYTES  # noqa: E402

RESULTS = HERE / "results" / "journal.txt"
TIMEOUT = 600.0
FILLS = ("max", "nested")
NESTING = 60
PATH = "/api/v2/users"


def max_body() -> bytes:
    """A JSON object of exactly MAX_BODY_BYTES."""
    head, tail = b'{"values": "', b'"}'
    return head + b"x" * (MAX_BODY_BYTES - len(head) - len(tail)) + tail


def nested_body() -> bytes:
    """A JSON object of exactly JOURNAL_BODY_BYTES (kept whole): arrays nested NESTING deep, side by side."""
    head, tail = b'{"values": [', b"]}"
    item = b"[" * NESTING + b"]" * NESTING
    room = JOURNAL_BODY_BYTES - len(head) - len(tail)
    count = (room + 1) // (len(item) + 1)
    items = b",".join([item] * count)
    pad = room - len(items)  # spaces are JSON whitespace: the body is exactly JOURNAL_BODY_BYTES long
    return head + items + b" " * pad + tail


def status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current VmRSS (Linux: `5` to clear_refs); False where that is refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def mb(kb: float) -> str:
    return f"{kb / 1024:8.1f} MB"


def serve_command() -> list[str]:
    script = Path(sys.executable).with_name("mock-finapi")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mock_finapi.cli"]


def start_server(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    url_file = work / "url"
    command = [*serve_command(), "serve", "--port", "0", "--url-file", str(url_file), "--log-format", "off"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
    deadline = time.monotonic() + 30
    while not url_file.exists() or not url_file.read_text().strip():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"`mock-finapi serve` wrote no URL (exit code {process.poll()})")
        time.sleep(0.01)
    return process, url_file.read_text().strip()


def connect(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=TIMEOUT)


class Probe(threading.Thread):
    """GET /__admin/health in a loop on a connection of its own: (started, seconds) of each request."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.conn = connect(url)
        self.samples: list[tuple[float, float]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            start = time.monotonic()
            self.conn.request("GET", "/__admin/health")
            response = self.conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"health answered {response.status}")
            self.samples.append((start, time.monotonic() - start))
            time.sleep(0.001)

    def longest(self, start: float, end: float) -> float:
        """The longest health request that overlapped start..end."""
        return max((s for began, s in self.samples if began < end and began + s > start), default=0.0)


@dataclass
class Read:
    seconds: float
    size: int
    entries: int
    stall: float
    """The longest health request that overlapped the read."""
    rss_kb: int
    peak_kb: int
    peak_exact: bool
    """Whether `peak_kb` is the peak during the read (VmHWM reset before it) or since the server started."""
    truncated: bool
    """Whether the newest entry's view says its body was cut."""


@dataclass
class Fill:
    name: str
    body_bytes: int
    requests: int
    fill_seconds: float = 0.0
    idle: dict[str, int] = field(default_factory=dict)
    full: dict[str, int] = field(default_factory=dict)
    full_reads: list[Read] = field(default_factory=list)
    one_reads: list[Read] = field(default_factory=list)
    journal_bytes: int = 0


def read(conn: http.client.HTTPConnection, path: str, probe: Probe, pid: int) -> Read:
    exact = reset_peak(pid)
    time.sleep(0.05)  # a few probe requests before the read
    start = time.monotonic()
    conn.request("GET", path)
    response = conn.getresponse()
    data = response.read()
    end = time.monotonic()
    if response.status != 200:
        raise RuntimeError(f"GET {path} answered {response.status}: {data[:200]!r}")
    time.sleep(0.05)  # the probe's request in flight at the end finishes
    memory = status(pid)
    # not parsed here: parsing megabytes of nested arrays would hold this process's GIL (the probe's) for seconds
    entries, truncated = data.count(b'"requestId":'), b'"bodyTruncated":true' in data
    stall = probe.longest(start, end)
    return Read(end - start, len(data), entries, stall, memory["VmRSS"], memory["VmHWM"], exact, truncated)


def metric(conn: http.client.HTTPConnection, name: str) -> int:
    """A value of GET /__admin/metrics (0 when the server has no such metric)."""
    conn.request("GET", "/__admin/metrics")
    response = conn.getresponse()
    text = response.read().decode()
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


def run_fill(name: str, requests: int, reads: int) -> Fill:
    body = max_body() if name == "max" else nested_body()
    fill = Fill(name, len(body), requests)
    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_server(Path(tmp))
        try:
            time.sleep(0.5)
            fill.idle = status(process.pid)
            conn = connect(url)
            began = time.monotonic()
            for _ in range(requests):
                conn.request("POST", PATH, body=body, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                if response.status != 401:
                    raise RuntimeError(f"POST {PATH} answered {response.status}")
            fill.fill_seconds = time.monotonic() - began
            time.sleep(0.5)
            fill.full = status(process.pid)
            fill.journal_bytes = metric(conn, "mock_finapi_journal_bytes")
            probe = Probe(url)
            probe.start()
            for _ in range(reads):
                full = read(conn, "/__admin/requests", probe, process.pid)
                fill.full_reads.append(full)
                one = read(conn, "/__admin/requests?limit=1", probe, process.pid)
                fill.one_reads.append(one)
                print(
                    f"  {name}: full read {full.seconds * 1000:.0f} ms (health waited {full.stall * 1000:.0f} ms), "
                    f"limit=1 {one.seconds * 1000:.1f} ms; RSS {full.rss_kb / 1024:.1f} MB",
                    flush=True,
                )
            probe.done.set()
            probe.join()
            conn.close()
        finally:
            stop(process)
    return fill


def report(fill: Fill) -> list[str]:
    full, one = fill.full_reads, fill.one_reads
    worst = max(full, key=lambda r: r.seconds)
    peak = max(r.peak_kb for r in full)
    exact = all(r.peak_exact for r in full)
    peak_label = "peak during a full read (VmHWM)" if exact else "peak since start (VmHWM, not reset)"
    cut = full[0].truncated
    shown = "cut to 16 KiB, shown without fields (bodyTruncated)" if cut else "kept whole, parsed and masked"
    lines = [
        f"== {fill.name}: {fill.requests:,} requests with {fill.body_bytes:,}-byte JSON bodies ({shown}) ==",
        f"filled in {fill.fill_seconds:.1f} s; journal bodies held: {fill.journal_bytes:,} bytes "
        "(mock_finapi_journal_bytes)",
        "",
        f"RSS idle                              {mb(fill.idle['VmRSS'])}",
        f"RSS after the fill                    {mb(fill.full['VmRSS'])}",
        f"peak while filling (VmHWM)            {mb(fill.full['VmHWM'])}",
        f"RSS after the full reads              {' '.join(mb(r.rss_kb).strip() for r in full)}",
        f"{peak_label:<38}{mb(peak)}",
        "",
        f"{'read':<36} {'median':>10} {'worst':>10} {'answer':>10} {'entries':>8} {'health waited (worst)':>22}",
    ]
    for label, runs in ((f"GET /__admin/requests (x{len(full)})", full), (f"  ?limit=1 (x{len(one)})", one)):
        seconds = [r.seconds for r in runs]
        lines.append(
            f"{label:<36} {statistics.median(seconds) * 1000:>7.1f} ms {max(seconds) * 1000:>7.1f} ms "
            f"{runs[0].size / 1e6:>7.2f} MB {runs[0].entries:>8,} {max(r.stall for r in runs) * 1000:>19.1f} ms"
        )
    lines.append(f"slowest full read {worst.seconds * 1000:.0f} ms; RSS after it {worst.rss_kb / 1024:.1f} MB")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--fills", nargs="+", choices=FILLS, default=list(FILLS))
    parser.add_argument("--journal-size", type=int, default=1000, help="requests sent (the default journal: 1000)")
    parser.add_argument("--reads", type=int, default=3, help="full reads and limit=1 reads after each fill (3)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    load = os.getloadavg()[0]
    fills = [run_fill(name, args.journal_size, args.reads) for name in args.fills]
    lines = [
        "mock-finapi journal: the default journal full of the largest bodies, then reads (issue 16, point 3)",
        f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}; `mock-finapi serve --log-format off`, "
        "RSS of the server process",
        f"load average {load:.2f} before the run, {os.getloadavg()[0]:.2f} after (other work on the host lengthens "
        "the times)",
        "",
    ]
    for fill in fills:
        lines += [*report(fill), ""]
    publish("\n".join(lines), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

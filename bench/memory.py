"""Memory benchmark (issue 6, point 5): short-lived client tokens are purged, so resident memory stays flat.

    .venv/bin/python bench/memory.py                 # both modes
    .venv/bin/python bench/memory.py --direct        # service layer only: 1,000,000 tokens
    .venv/bin/python bench/memory.py --http          # a real `mock-finapi serve` over HTTP keep-alive: 100,000 tokens

Both modes use a scenario with one client whose access tokens live 60 virtual seconds, `tokens: {reuse: false}`
(each request mints a new token) and a frozen clock moved by hand: after every `--rate` tokens the clock advances one
second, so about 59-60 × rate tokens are alive at any time once the first minute has passed and every older one has
expired.

- direct: builds the emulator in this process as `mock-finapi serve` does (`create_app`, with the server modules
  imported, so the idle reading holds what a ready emulator holds, as in the http mode) and calls
  `world.tokens.grant(...)` and `world.clock.advance(...)`; RSS is this process's (VmRSS of /proc/self/status).
- http: starts `mock-finapi serve --port 0 --log-format off` on that scenario, requests tokens with
  `POST /api/v2/oauth/token` over one keep-alive connection and advances the clock with `POST /__admin/clock`; RSS is
  the server process's (VmRSS of /proc/<pid>/status), read before each checkpoint's GET /__admin/state/tokens,
  whose length is the server's len(store.tokens). The expiry heap is not visible over HTTP; "live" is counted from
  the server's answers (tokens whose `expires_in` has not run out on the virtual clock).

At each checkpoint it prints tokens issued, live tokens, the store's token dict and expiry heap sizes, the live
pymalloc blocks (direct mode), and RSS. The summary gives the idle RSS (emulator loaded and ready, before the first
token), the RSS once the live set has reached its steady size (one token lifetime in), the peak, peak/idle (issue 7:
at most 2), and the growth from steady state to the end: the flatness claim is that this growth stays near zero
however many tokens are issued. Writes bench/results/memory.txt (or --out), and with --json the summary numbers
(bench/run.py reads them).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from processes_util import stop

if TYPE_CHECKING:
    from mock_finapi.world import Sandbox

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "memory.txt"
LIFETIME = 60
CLIENT_ID = "8f92e604-b9b9-11ec-8422-0242ac120002"
CLIENT_SECRET = "8f92ea14-b9b9-11ec-8422-0242ac120002"
SCENARIO = f"""\
name: memory-bench
description: One client, 60-second client tokens, no reuse, a frozen clock (bench/memory.py).
seed: 6
clock:
  start: "2026-01-01T09:00:00+01:00"
  frozen: true
tokens:
  reuse: false
clients:
  - client_id: {CLIENT_ID}
    client_secret: {CLIENT_SECRET}
    mandator_id: 2c6b8f0e-7d42-4f1a-9a43-1f0c2d3e4a5b
    config:
      clientAccessTokensValidityPeriod: {LIFETIME}
users: []
"""
GRANT = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
TIMEOUT = 30.0
GOAL_RATIO = 2.0
"""Issue 7: resident memory after 1,000,000 tokens stays within twice the idle RSS."""


def rss_kb(pid: int | str = "self") -> int:
    """Resident set size (VmRSS) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def mb(kb: int) -> float:
    return kb / 1024


@dataclass
class Checkpoint:
    issued: int
    live: int
    rss_kb: int
    store_tokens: int | None = None
    expiry_entries: int | None = None
    grants: int | None = None
    blocks: int | None = None
    """sys.getallocatedblocks(): live pymalloc blocks, i.e. Python objects (direct mode)."""


@dataclass
class Run:
    mode: str
    tokens: int
    rate: int
    idle_kb: int = 0
    seconds: float = 0.0
    checkpoints: list[Checkpoint] = field(default_factory=list)
    after_expiry: Checkpoint | None = None

    @property
    def steady_live(self) -> int:
        return LIFETIME * self.rate

    @property
    def peak_kb(self) -> int:
        return max(c.rss_kb for c in self.checkpoints)

    def summary(self) -> dict[str, float | int | str]:
        """The numbers of the summary, for --json."""
        end = self.checkpoints[-1]
        return {
            "mode": self.mode,
            "tokens": self.tokens,
            "live": end.live,
            "idle_mb": round(mb(self.idle_kb), 1),
            "final_mb": round(mb(end.rss_kb), 1),
            "peak_mb": round(mb(self.peak_kb), 1),
            "peak_over_idle": round(self.peak_kb / self.idle_kb, 2),
        }

    def report(self) -> list[str]:
        direct = self.mode == "direct"
        head = f"{'issued':>10}  {'live':>8}  {'RSS MB':>8}  {'len(store.tokens)':>17}"
        if direct:
            head += f"  {'expiry_entries':>14}  {'grants':>6}  {'py blocks':>10}"
        rows = [*self.checkpoints, *([self.after_expiry] if self.after_expiry else [])]
        lines = [
            f"== {self.mode}: {self.tokens:,} client tokens, {LIFETIME} s lifetime, reuse off, "
            f"clock +1 s every {self.rate} tokens (steady state about {self.steady_live:,} live) ==",
            f"{self.tokens / self.seconds:,.0f} tokens/s over {self.seconds:.1f} s (real time)",
            "",
            head,
        ]
        for i, c in enumerate(rows):
            issued = f"{c.issued:>10,}" if i < len(self.checkpoints) else f"{'+61 s':>10}"
            line = f"{issued}  {c.live:>8,}  {mb(c.rss_kb):>8.1f}  {c.store_tokens or 0:>17,}"
            if direct:
                line += f"  {c.expiry_entries or 0:>14,}  {c.grants or 0:>6,}  {c.blocks or 0:>10,}"
            lines.append(line)
        peak = self.peak_kb
        steady = next((c for c in self.checkpoints if c.issued >= 2 * self.steady_live), self.checkpoints[-1])
        end = self.checkpoints[-1]
        summary = [
            ("idle RSS (emulator loaded, no token yet)", f"{mb(self.idle_kb):8.1f} MB"),
            (f"steady RSS (at {steady.issued:,} issued)", f"{mb(steady.rss_kb):8.1f} MB"),
            (f"final RSS (at {end.issued:,} issued)", f"{mb(end.rss_kb):8.1f} MB"),
            ("peak RSS", f"{mb(peak):8.1f} MB"),
            ("peak / idle", f"{peak / self.idle_kb:8.2f} (goal ≤ {GOAL_RATIO:g})"),
            (
                "growth steady -> final",
                f"{mb(end.rss_kb - steady.rss_kb):+8.1f} MB ({(end.rss_kb - steady.rss_kb) / steady.rss_kb:+.1%}) "
                f"over {end.issued - steady.issued:,} more tokens",
            ),
        ]
        width = max(len(label) for label, _ in summary)
        lines += ["", *(f"{label:<{width}}  {value}" for label, value in summary)]
        if direct:
            top_tokens = max(c.store_tokens or 0 for c in self.checkpoints)
            top_heap = max(c.expiry_entries or 0 for c in self.checkpoints)
            lines.append(f"largest len(store.tokens) {top_tokens:,}, largest expiry heap {top_heap:,}")
        return lines


def checkpoints(total: int, count: int) -> set[int]:
    return {total * i // count for i in range(1, count + 1)}


def emulator() -> Sandbox:
    """The emulator as `mock-finapi serve` holds it once ready, minus the socket: the app from `create_app` (the HTTP
    layer and the world) and the server modules `serve` runs it with, imported. Idle is measured after this, as the
    http mode measures a ready server: the world alone (about 10 MB less) is not what a running emulator holds."""
    import uvicorn.loops.uvloop  # noqa: F401  # the event loop `serve` runs on

    import mock_finapi.cli  # noqa: F401
    from mock_finapi.http.app import create_app
    from mock_finapi.http.protocol import http_protocol
    from mock_finapi.scenarios.loader import load_text
    from mock_finapi.settings import Settings

    http_protocol()  # imports uvicorn's httptools protocol, as `serve` does
    app = create_app(Settings(), scenario=load_text(SCENARIO, "bench/memory.py"))
    return app.sandbox


def run_direct(total: int, rate: int, count: int) -> Run:
    return asyncio.run(_direct(total, rate, count))


async def _direct(total: int, rate: int, count: int) -> Run:
    from mock_finapi.clock import ClockMove

    sandbox = emulator()
    world, store = sandbox.world, sandbox.store
    run = Run("direct", total, rate, idle_kb=rss_kb())
    marks = checkpoints(total, count)
    state = (await store.prepare()).clock
    now = state.time(0.0)  # the scenario's clock is frozen

    async def checkpoint(issued: int) -> Checkpoint:
        await store.purge_expired(now, 10**9)
        stats = await store.stats()
        point = Checkpoint(issued, stats.tokens, rss_kb(), stats.tokens, stats.expiry_index, stats.grants)
        point.blocks = sys.getallocatedblocks()
        return point

    start = time.perf_counter()
    for issued in range(1, total + 1):
        await world.tokens.grant(GRANT, now)
        if issued % rate == 0:
            now = (await store.move_clock(ClockMove(advance=1), 0.0)).time(0.0)
        if issued in marks:
            point = await checkpoint(issued)
            run.checkpoints.append(point)
            print(f"  direct {issued:>10,} issued  {point.live:>7,} live  {mb(point.rss_kb):7.1f} MB", flush=True)
    run.seconds = time.perf_counter() - start
    now = (await store.move_clock(ClockMove(advance=LIFETIME + 1), 0.0)).time(0.0)
    run.after_expiry = await checkpoint(total)
    return run


def serve_command() -> list[str]:
    script = Path(sys.executable).with_name("mock-finapi")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mock_finapi.cli"]


class Api:
    """One keep-alive HTTP/1.1 connection to the server."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=TIMEOUT)

    def post(self, path: str, body: str, content_type: str) -> tuple[int, bytes]:
        self.conn.request("POST", path, body=body, headers={"Content-Type": content_type})
        response = self.conn.getresponse()
        return response.status, response.read()

    def token(self) -> dict[str, object]:
        status, data = self.post("/api/v2/oauth/token", urlencode(GRANT), "application/x-www-form-urlencoded")
        if status != 200:
            raise RuntimeError(f"token request answered {status}: {data[:200]!r}")
        answer: dict[str, object] = json.loads(data)
        return answer

    def advance(self, seconds: int) -> None:
        status, data = self.post("/__admin/clock", json.dumps({"advance": seconds}), "application/json")
        if status != 200:
            raise RuntimeError(f"clock advance answered {status}: {data[:200]!r}")

    def store_tokens(self) -> int:
        """How many live tokens the server's store holds (GET /__admin/state/tokens purges first)."""
        self.conn.request("GET", "/__admin/state/tokens")
        response = self.conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"token state answered {response.status}: {data[:200]!r}")
        return len(json.loads(data)["tokens"])

    def close(self) -> None:
        self.conn.close()


def start_server(scenario: Path, work: Path) -> tuple[subprocess.Popen[bytes], str]:
    url_file = work / "url"
    command = [
        *serve_command(),
        *("serve", "--port", "0", "--url-file", str(url_file), "--scenario", str(scenario)),
        *("--log-format", "off", "--log-level", "warning"),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
    deadline = time.perf_counter() + TIMEOUT
    while not url_file.exists() or not url_file.read_text().strip():
        if process.poll() is not None or time.perf_counter() > deadline:
            process.kill()
            raise RuntimeError(f"`mock-finapi serve` wrote no URL (exit code {process.poll()})")
        time.sleep(0.01)
    return process, url_file.read_text().strip()


def run_http(total: int, rate: int, count: int) -> Run:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        scenario = work / "memory-bench.yaml"
        scenario.write_text(SCENARIO)
        process, url = start_server(scenario, work)
        try:
            api = Api(url)
            time.sleep(0.5)  # let start-up settle before the idle reading
            run = Run("http", total, rate, idle_kb=rss_kb(process.pid))
            marks = checkpoints(total, count)
            seconds = 0  # virtual seconds advanced so far
            expiries: list[int] = []  # per token: the virtual second its expiry falls on (monotone)
            start = time.perf_counter()
            for issued in range(1, total + 1):
                answer = api.token()
                expiries.append(seconds + int(str(answer["expires_in"])))
                if issued % rate == 0:
                    seconds += 1
                    api.advance(1)
                if issued in marks:
                    live = sum(1 for e in expiries[-2 * LIFETIME * rate :] if e > seconds)
                    point = Checkpoint(issued, live, rss_kb(process.pid))  # read before the state request
                    point.store_tokens = api.store_tokens()
                    run.checkpoints.append(point)
                    print(f"  http   {issued:>10,} issued  {live:>7,} live  {mb(point.rss_kb):7.1f} MB", flush=True)
            run.seconds = time.perf_counter() - start
            api.advance(LIFETIME + 1)
            api.token()  # a token request purges what has expired; this one token is alive afterwards
            run.after_expiry = Checkpoint(total, 1, rss_kb(process.pid))
            run.after_expiry.store_tokens = api.store_tokens()
            api.close()
            return run
        finally:
            stop(process)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--direct", action="store_true", help="only the service-layer run")
    parser.add_argument("--http", action="store_true", help="only the run through `mock-finapi serve`")
    parser.add_argument("--tokens", type=int, default=1_000_000, help="tokens in the direct run (1,000,000)")
    parser.add_argument("--http-tokens", type=int, default=100_000, help="tokens in the http run (100,000)")
    parser.add_argument("--rate", type=int, default=1000, help="tokens per virtual second, direct run (1000)")
    parser.add_argument("--http-rate", type=int, default=200, help="tokens per virtual second, http run (200)")
    parser.add_argument("--checkpoints", type=int, default=10)
    parser.add_argument("--out", type=Path, default=RESULTS, help="report file (bench/results/memory.txt)")
    parser.add_argument("--json", type=Path, help="also write each run's summary numbers to this file")
    args = parser.parse_args()
    both = args.direct == args.http

    runs: list[Run] = []
    if args.direct or both:
        runs.append(run_direct(args.tokens, args.rate, args.checkpoints))
    if args.http or both:
        runs.append(run_http(args.http_tokens, args.http_rate, args.checkpoints))

    lines = [
        "mock-finapi resident memory while issuing short-lived client tokens (issue 6, point 5)",
        f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        "",
    ]
    for run in runs:
        lines += [*run.report(), ""]
    text = "\n".join(lines)
    print(text, end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    if args.json is not None:
        args.json.write_text(json.dumps([run.summary() for run in runs], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Purge benchmark (issue 16, point 6): a clock jump that expires a million live tokens does not stall the server.

    .venv/bin/python bench/purge.py                  # 1,000,000 tokens; writes bench/results/purge.txt
    .venv/bin/python bench/purge.py --tokens 200000 --seconds 8

A `ThreadedServer` in this process (the emulator as `serve` runs it: uvicorn, uvloop, the sandbox's upkeep) serves
a scenario with two clients: `filler`, whose client tokens live an hour (`tokens: {reuse: false}`: each one is new),
and `reader`, whose client token never expires. The store is filled with `--tokens` live tokens of `filler` by its own
operation (`issue_client_token`, on the server's event loop, 5,000 per turn of the loop), then:

- wrk (`-t1 -c16`) requests `GET /api/v2/clientConfiguration` with `reader`'s token for `--seconds`: each request
  resolves a bearer token, the path that purges a few expired tokens on its way;
- a probe process requests the same on one keep-alive connection of its own and records when each request started
  and how long it took (CLOCK_MONOTONIC, which this process shares);
- one second in, `POST /__admin/clock {"advance": 3601}` expires every `filler` token at once.

Reported: wrk's p50, p99 and longest request over the whole run (across the jump), the probe's p99 and longest
request before the jump, in the ten seconds after it, and its longest request with when it started; how long after
the jump the store held no expired token any more (polled with `Store.stats`), and resident memory (VmRSS of this
process) idle, full, when the purge was done and at the end of the load. What blocked the event loop longest is
shown too: the sandbox's upkeep batches (`Store.purge_expired`, timed by wrapping the store's method) and Python's
full (generation 2) garbage collections (`gc.callbacks`), both with when they ran relative to the jump.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from processes_util import PROBE, publish

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from mock_finapi.settings import Capacity, Settings  # noqa: E402
from mock_finapi.testing import ThreadedServer  # noqa: E402
from mock_finapi.world import UPKEEP_BATCH  # noqa: E402

RESULTS = HERE / "results" / "purge.txt"
LIFETIME = 3600
SCENARIO = f"""\
name: purge-bench
description: A client whose tokens live an hour (no reuse) and one whose token never expires (bench/purge.py).
seed: 16
clock: {{start: "2026-01-01T09:00:00+01:00", frozen: true}}
tokens: {{reuse: false}}
clients:
  - {{client_id: filler, client_secret: filler-secret, mandator_id: m1,
     config: {{clientAccessTokensValidityPeriod: {LIFETIME}}}}}
  - {{client_id: reader, client_secret: reader-secret, mandator_id: m1,
     config: {{clientAccessTokensValidityPeriod: 0}}}}
users: []
"""
PATH = "/api/v2/clientConfiguration"
FILL_CHUNK = 100_000
"""Tokens filled per call on the server's loop."""


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Series:
    """Rows of floats in memory taken up front. What the benchmark records while the purge runs must not allocate
    Python objects that outlive it: a long-lived object lands in the allocator arenas the purge is emptying (pymalloc
    fills its fullest arenas first) and keeps each one from being given back; recording with a list of tuples made
    the purge look as if it returned 30 MB instead of 200."""

    def __init__(self, width: int, rows: int = 100_000) -> None:
        self.width, self.capacity, self.rows = width, rows, 0
        self.data = array("d", bytes(8 * width * rows))

    def add(self, *values: float) -> None:
        if self.rows < self.capacity:
            base = self.rows * self.width
            for offset in range(self.width):
                self.data[base + offset] = values[offset]
            self.rows += 1

    def __iter__(self) -> Iterator[tuple[float, ...]]:
        for row in range(self.rows):
            yield tuple(self.data[row * self.width : (row + 1) * self.width])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1_000_000, help="live tokens before the jump (1,000,000)")
    parser.add_argument("--seconds", type=float, default=12.0, help="load duration; the jump is 1 s in (12)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("bench/purge.py needs wrk (`apt-get install wrk`)")

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "purge-bench.yaml"
        scenario.write_text(SCENARIO)
        big = 2 * args.tokens + 100_000
        settings = Settings(scenario=str(scenario), capacity=Capacity(tokens=big))
        with ThreadedServer(settings) as server:
            return run(server, wrk, args, load_before)


def run(server: ThreadedServer, wrk: str, args: argparse.Namespace, load_before: float) -> int:
    store = server.app.sandbox.store
    client = httpx.Client(base_url=server.url, timeout=60)
    reader = client.post(
        "/api/v2/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "reader", "client_secret": "reader-secret"},
    ).json()["access_token"]
    time.sleep(0.5)
    idle = rss_kb()

    async def fill(count: int) -> None:
        from mock_finapi.state.protocol import TokenPolicy

        policy = TokenPolicy(reuse=False)
        now = (await store.prepare()).clock.time(server.world.clock.real())
        for start in range(0, count, 5000):
            for _ in range(min(5000, count - start)):
                await store.issue_client_token("filler", now, policy)
            await asyncio.sleep(0)

    began = time.perf_counter()
    for start in range(0, args.tokens, FILL_CHUNK):  # `_run` waits at most 10 s for one coroutine
        server._run(fill(min(FILL_CHUNK, args.tokens - start)))  # the store's own operation, on the server's loop
    fill_seconds = time.perf_counter() - began
    full = rss_kb()
    live = server._run(store.stats()).tokens
    print(f"filled {live:,} live tokens in {fill_seconds:.1f} s; RSS {full / 1024:.1f} MB", flush=True)

    host, port = server.url.removeprefix("http://").split(":")
    probe = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", PROBE, host, port, reader, str(args.seconds), PATH], stdout=subprocess.PIPE, text=True
    )
    load = subprocess.Popen(  # noqa: S603
        [
            wrk,
            "-t1",
            "-c16",
            f"-d{args.seconds:g}s",
            "--latency",
            "-s",
            str(HERE / "wrk" / "static.lua"),
            server.url + PATH,
            "--",
            "GET",
            "",
            f"Authorization: Bearer {reader}",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    batches = Series(3)  # upkeep batches: started, seconds, entries purged
    collections = Series(2)  # full garbage collections: started, seconds
    purge = store.purge_expired

    async def timed_purge(now: float, budget: int) -> int:
        began = time.monotonic()
        done = await purge(now, budget)
        batches.add(began, time.monotonic() - began, done)
        return done

    collecting = Series(1, rows=1)

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            collecting.rows = 0
            collecting.add(time.monotonic())
        elif collecting.rows:
            collections.add(collecting.data[0], time.monotonic() - collecting.data[0])

    store.purge_expired = timed_purge  # type: ignore[method-assign]  # what the upkeep calls (Sandbox.upkeep)
    gc.callbacks.append(on_gc)
    time.sleep(1.0)
    memory = Series(1)  # RSS in KiB every 0.1 s
    jumped = time.monotonic()
    answer = client.post("/__admin/clock", json={"advance": LIFETIME + 1})
    answer.raise_for_status()
    jump_seconds = time.monotonic() - jumped
    purged_after: float | None = None
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            memory.add(rss_kb())
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    while purged_after is None and time.monotonic() - jumped < 120:
        if server._run(store.stats()).tokens <= 1:  # reader's token is left
            purged_after = time.monotonic() - jumped
        else:
            time.sleep(0.05)
    at_purged = rss_kb()
    wrk_out, _ = load.communicate()
    probe_out, _ = probe.communicate()
    later = rss_kb()
    later_at = time.monotonic() - jumped
    stop.set()
    sampler.join()
    gc.callbacks.remove(on_gc)
    del store.purge_expired  # the store's own method again

    bench = next(line for line in wrk_out.splitlines() if line.startswith("BENCH")).split()
    hist = next(line for line in wrk_out.splitlines() if line.startswith("HIST")).split()[1:]
    requests, duration, p50, p99 = (float(x) for x in bench[1:5])
    errors = sum(int(x) for x in bench[5:])
    longest = max(int(pair.split(":")[0]) for pair in hist) if hist else 0
    samples = [(start - jumped, seconds, status) for start, seconds, status in json.loads(probe_out)]
    before = [s for start, s, _ in samples if start < 0]
    after = [s for start, s, _ in samples if 0 <= start < 10]
    worst = max(samples, key=lambda sample: sample[1])
    bad = sum(1 for _, _, status in samples if status != 200)
    peak_after = int(max((kb for (kb,) in memory), default=full))
    working = [(start - jumped, seconds, int(done)) for start, seconds, done in batches if done]
    slowest = max(working, key=lambda batch: batch[1], default=(0.0, 0.0, 0))
    durations = [seconds for _, seconds, _ in working]
    full_gcs = [(start - jumped, seconds) for start, seconds in collections]
    slowest_gc = max(full_gcs, key=lambda collection: collection[1], default=(0.0, 0.0))

    lines = [
        f"mock-finapi: a clock jump that expires {args.tokens:,} live tokens, under load (issue 16, point 6)",
        f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        f"load average {load_before:.2f} before the run, {os.getloadavg()[0]:.2f} after (other work on the host "
        "lengthens the longest requests)",
        "",
        f"filled {live:,} live client tokens in {fill_seconds:.1f} s (store operations on the server's loop)",
        f"POST /__admin/clock +{LIFETIME + 1} s answered in {jump_seconds * 1000:.1f} ms",
        f"store free of expired tokens {purged_after:.2f} s after the jump"
        if purged_after is not None
        else "store still held expired tokens 120 s after the jump",
        "",
        f"wrk -t1 -c16 {args.seconds:g} s across the jump, GET {PATH}: {requests / (duration / 1e6):,.0f} req/s, "
        f"p50 {p50 / 1000:.2f} ms, p99 {p99 / 1000:.2f} ms, longest {longest / 1000:.1f} ms, errors {errors}",
        f"probe (one connection, {len(samples):,} requests, {bad} not 200):",
        f"  before the jump        p50 {statistics.median(before) * 1000:7.2f} ms  "
        f"p99 {percentile(before, 99) * 1000:7.2f} ms  longest {max(before) * 1000:7.1f} ms",
        f"  10 s after the jump    p50 {statistics.median(after) * 1000:7.2f} ms  "
        f"p99 {percentile(after, 99) * 1000:7.2f} ms  longest {max(after) * 1000:7.1f} ms",
        f"  longest request        {worst[1] * 1000:.1f} ms, started {worst[0]:+.2f} s from the jump",
        "",
        f"upkeep (Store.purge_expired, up to {UPKEEP_BATCH:,} entries a call): {len(working):,} calls purged "
        f"{sum(done for _, _, done in working):,} entries, p50 {percentile(durations, 50) * 1000:.2f} ms, "
        f"p99 {percentile(durations, 99) * 1000:.2f} ms",
        f"  longest call           {slowest[1] * 1000:.1f} ms ({slowest[2]:,} entries), "
        f"started {slowest[0]:+.2f} s from the jump",
        f"full garbage collections from the start of the load: {len(full_gcs)}"
        + (
            f", longest {slowest_gc[1] * 1000:.1f} ms, started {slowest_gc[0]:+.2f} s from the jump" if full_gcs else ""
        ),
        "",
        f"RSS idle (before filling)     {idle / 1024:8.1f} MB",
        f"RSS full                      {full / 1024:8.1f} MB",
        f"RSS peak after the jump       {peak_after / 1024:8.1f} MB",
        f"RSS when the purge was done   {at_purged / 1024:8.1f} MB",
        f"RSS at the end of the load    {later / 1024:8.1f} MB ({later_at:.1f} s after the jump)",
        "",
    ]
    publish("\n".join(lines), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

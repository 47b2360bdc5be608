"""Snapshot benchmark (issue 20, point 6): a snapshot of 100,000 users and 1,000,000 tokens is written off the
event loop; how long it takes, how large it is, how long loading it takes and what it does to concurrent requests.

    .venv/bin/python bench/snapshot.py                   # 100,000 users, 1,000,000 tokens: about 2 minutes
    .venv/bin/python bench/snapshot.py --users 10000 --tokens 100000 --seconds 6 --out /tmp/snapshot.txt

A `ThreadedServer` in this process (the emulator as `serve` runs it: uvicorn, uvloop, the sandbox's upkeep) serves a
scenario with `--users` generated users (`users: [{generate: N, mandator_id: m1}]`) of the client `filler`, whose
tokens live an hour (`tokens: {reuse: false}`: each login and client token is new), and the client `reader`, whose
client token never expires. The store is filled by its own operations on the server's loop: `--logins` password
logins (each an access and a refresh token in a grant of its own; default one per user, in user order), then
client tokens of `filler` up to `--tokens` live tokens in all. Then:

1. on the idle server: `GET /__admin/snapshot` streamed to a file by a client process (time to the first and the
   last byte, the document's size), and the state file's path, `snapshots.write_file(path, await
   sandbox.snapshot())` (the write in a thread, as `StateFile.save` does it), timed on the server's loop;
2. wrk (`-t1 -c16`) requests `GET /api/v2/clientConfiguration` with `reader`'s token for `--seconds`, while a probe
   process does the same on one keep-alive connection recording when each request started and how long it took
   (CLOCK_MONOTONIC, which this process shares): once without a snapshot, once with one `GET /__admin/snapshot` and
   once with one state-file write, each started one second in;
3. `snapshots.load` of the downloaded document in a fresh process: the time of the read, of `orjson.loads` alone
   and of the whole load, resident memory before, at the peak and with the store loaded; then both again with the
   cycle collector paused, for comparison.

The report goes to bench/results/snapshot.txt (`--out`).

The part on the event loop is `Store.export` (timed by wrapping the store's method: the copies of the tables taken in
one step). The rest runs in a thread, but holds the GIL while it runs Python or orjson, so it competes with the event
loop all the same. Shown for each snapshot: Python's garbage collections meanwhile (`gc.callbacks`; one holds the
GIL, so it stops the event loop whichever thread runs it; `ThreadedServer` leaves this process's collector as
Python sets it, `serve` freezes what start-up built and makes full collections rarer,
`cli._tune_garbage_collector`), and how late a watch on the server's loop, sleeping 5 ms at a time, woke up (each
time 10 ms or more: the event loop could run nothing else meanwhile). Resident memory is this process's (the
server's): VmRSS, and VmHWM reset through `/proc/self/clear_refs` before each snapshot for its peak.
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
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from processes_util import PROBE, publish

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from mock_finapi import snapshots  # noqa: E402
from mock_finapi.settings import Capacity, Settings  # noqa: E402
from mock_finapi.state.image import Assemble  # noqa: E402
from mock_finapi.state.protocol import TokenPolicy  # noqa: E402
from mock_finapi.testing import ThreadedServer  # noqa: E402

T = TypeVar("T")
RESULTS = HERE / "results" / "snapshot.txt"
MANDATOR = "m1"
SCENARIO = """\
name: snapshot-bench
description: Generated users of a client whose tokens live an hour (no reuse), and a reader (bench/snapshot.py).
seed: 20
clock: {{start: "2026-01-01T09:00:00+01:00", frozen: true}}
tokens: {{reuse: false}}
clients:
  - {{client_id: filler, client_secret: filler-secret, mandator_id: {mandator},
     config: {{clientAccessTokensValidityPeriod: 3600, userAccessTokensValidityPeriod: 3600,
              refreshTokensValidityPeriod: 86400}}}}
  - {{client_id: reader, client_secret: reader-secret, mandator_id: {mandator},
     config: {{clientAccessTokensValidityPeriod: 0}}}}
users:
  - {{generate: {users}, mandator_id: {mandator}}}
"""
PATH = "/api/v2/clientConfiguration"
FILL_CHUNK = 50_000
"""Store operations per call on the server's loop (`ThreadedServer._run` waits at most 10 s for one)."""
TURN = 2_000
"""Store operations between two turns of the server's loop while filling."""
LONG = 900.0
"""Seconds a snapshot coroutine on the server's loop may take."""
LONG_COLLECTION = 0.010
"""Garbage collections listed one by one from this long (seconds)."""
TICK = 0.005
"""The event loop watch sleeps this long at a time (seconds) ..."""
STALL = 0.010
"""... and records each time it woke up this much later than asked."""
DOWNLOAD = """
import http.client, json, sys, time
host, port, path, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
conn = http.client.HTTPConnection(host, port, timeout=600)
start = time.monotonic()
conn.request("GET", path)
response = conn.getresponse()
first, size = None, 0
with open(out, "wb") as file:
    while True:
        piece = response.read1(1 << 20)
        if not piece:
            break
        if first is None:
            first = time.monotonic()
        file.write(piece)
        size += len(piece)
end = time.monotonic()
print(json.dumps({"start": start, "first": (first or end) - start, "last": end - start, "size": size,
                  "status": response.status}))
"""
LOAD = """
import asyncio, gc, json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import orjson
from mock_finapi import snapshots
from mock_finapi.settings import Capacity

def status(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)

path, tokens = Path(sys.argv[2]), int(sys.argv[3])
gc.collect()
idle = status("VmRSS")
began = time.perf_counter()
data = path.read_bytes()
read = time.perf_counter() - began
began = time.perf_counter()
document = orjson.loads(data)
parse = time.perf_counter() - began
del document
gc.collect()
Path("/proc/self/clear_refs").write_text("5")
began = time.perf_counter()
loaded = snapshots.load(data, capacity=Capacity(tokens=tokens, users=tokens))
load = time.perf_counter() - began
peak = status("VmHWM")
stats = asyncio.run(loaded.store.stats())
del data
gc.collect()
with_store = status("VmRSS")  # the store, without the document
del loaded
gc.collect()
data = path.read_bytes()
gc.disable()  # the same again with the cycle collector paused, for comparison
began = time.perf_counter()
document = orjson.loads(data)
parse_paused = time.perf_counter() - began
del document
began = time.perf_counter()
loaded = snapshots.load(data, capacity=Capacity(tokens=tokens, users=tokens))
load_paused = time.perf_counter() - began
print(json.dumps({"idle": idle, "read": read, "parse": parse, "load": load, "peak": peak,
                  "store": with_store, "parse_paused": parse_paused, "load_paused": load_paused,
                  "users": stats.users, "tokens": stats.tokens, "grants": stats.grants}))
"""


def status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field}")


def reset_peak() -> None:
    """VmHWM back to the current VmRSS (Linux: `clear_refs` 5)."""
    Path("/proc/self/clear_refs").write_text("5")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def mb(kb: float) -> str:
    return f"{kb / 1024:.1f} MB"


@dataclass
class Window:
    """One load run: wrk's summary and the probe's samples (start relative to the snapshot's start, seconds,
    status)."""

    requests: float
    duration: float
    p50: float
    p99: float
    longest: float
    errors: int
    samples: list[tuple[float, float, int]]
    stalls: list[tuple[float, float]]
    """The event loop watch's late wake-ups during the run: slept from (from the snapshot's start), late."""

    def wrk_line(self) -> str:
        return (
            f"{self.requests / (self.duration / 1e6):,.0f} req/s, p50 {self.p50 / 1000:.2f} ms, "
            f"p99 {self.p99 / 1000:.2f} ms, longest {self.longest / 1000:.1f} ms, errors {self.errors}"
        )

    def inside(self, start: float, end: float) -> list[tuple[float, float]]:
        """The probe's requests under way at some time in [start, end) (seconds from the snapshot's start): started,
        seconds."""
        return [(begun, seconds) for begun, seconds, _ in self.samples if begun < end and begun + seconds > start]

    def probe_line(self, start: float, end: float) -> str:
        inside = [seconds for _, seconds in self.inside(start, end)]
        if not inside:
            return "no request"
        return (
            f"{len(inside):6,} requests  p50 {statistics.median(inside) * 1000:6.2f} ms  "
            f"p99 {percentile(inside, 99) * 1000:7.2f} ms  longest {max(inside) * 1000:7.1f} ms"
        )

    def worst(self, start: float, end: float, count: int) -> list[tuple[float, float]]:
        """The `count` longest requests under way in [start, end): started, seconds."""
        return sorted(self.inside(start, end), key=lambda sample: sample[1], reverse=True)[:count]

    def bad(self) -> int:
        return sum(1 for _, _, status in self.samples if status != 200)


@dataclass
class Taken:
    """One snapshot: when it started (monotonic), its first byte and last byte after the start, its size, what the
    server spent on the event loop and in garbage collections, how late the event loop was, and resident memory."""

    started: float
    first: float
    last: float
    size: int
    exports: list[float]
    collections: list[tuple[float, float, int]]
    """Garbage collections from the start to the last byte: started (from the start), seconds, generation."""
    stalls: list[tuple[float, float]]
    """The event loop watch's late wake-ups from the start to the last byte: slept from (from the start), late."""
    peak_kb: int
    after_kb: int


class Bench:
    def __init__(self, server: ThreadedServer, wrk: str, args: argparse.Namespace, folder: Path) -> None:
        self.server, self.wrk, self.args, self.folder = server, wrk, args, folder
        self.sandbox = server.app.sandbox
        self.store = self.sandbox.store
        self.host, port = server.url.removeprefix("http://").split(":")
        self.port = int(port)
        self.exports: list[tuple[float, float]] = []  # Store.export calls: started (monotonic), seconds
        self.collections: list[tuple[float, float, int]] = []  # garbage collections: started, seconds, generation
        self._collecting = 0.0
        self.stalls: list[tuple[float, float]] = []  # the watch woke up late: slept from (monotonic), seconds late
        self._watching = False
        self.reader = ""

    # ------------------------------------------------------------------------------------------------ set-up

    def on_loop(self, coroutine: Coroutine[Any, Any, T], timeout: float = LONG) -> T:
        loop = self.server._loop
        assert loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout)

    def fill(self) -> tuple[int, int, float]:
        """`--logins` password logins of the generated users, then client tokens up to `--tokens`; answers the
        logins and client tokens made and the seconds taken."""
        store, args = self.store, self.args
        policy = TokenPolicy(reuse=False)
        clock = self.server.world.clock

        async def users() -> list[tuple[str, str]]:
            now = (await store.prepare()).clock.time(clock.real())
            return [(user.id, user.password) for user in await store.users(MANDATOR, now)]

        async def login(batch: list[tuple[str, str]]) -> None:
            now = (await store.prepare()).clock.time(clock.real())
            for i, (user_id, password) in enumerate(batch):
                answer = await store.login("filler", user_id, password, now, policy)
                if answer.outcome != "ok":
                    raise RuntimeError(f"login of {user_id}: {answer.outcome}")
                if i % TURN == TURN - 1:
                    await asyncio.sleep(0)

        async def client_tokens(count: int) -> None:
            now = (await store.prepare()).clock.time(clock.real())
            for i in range(count):
                await store.issue_client_token("filler", now, policy)
                if i % TURN == TURN - 1:
                    await asyncio.sleep(0)

        began = time.perf_counter()
        people = self.server._run(users())
        logins = min(args.logins, args.tokens // 2)
        for start in range(0, logins, FILL_CHUNK):
            chunk = range(start, min(logins, start + FILL_CHUNK))
            self.server._run(login([people[i % len(people)] for i in chunk]))
        clients = args.tokens - 2 * logins
        for start in range(0, clients, FILL_CHUNK):
            self.server._run(client_tokens(min(FILL_CHUNK, clients - start)))
        return logins, clients, time.perf_counter() - began

    def instrument(self) -> Callable[[], None]:
        """Time `Store.export` and full collections; answers what undoes it."""
        export = self.store.export

        async def timed_export(journal: bool) -> Assemble:
            began = time.monotonic()
            assemble = await export(journal)
            self.exports.append((began, time.monotonic() - began))
            return assemble

        def on_gc(phase: str, info: dict[str, Any]) -> None:
            if phase == "start":
                self._collecting = time.monotonic()
            elif self._collecting:
                seconds = time.monotonic() - self._collecting
                if len(self.collections) < 100_000:
                    self.collections.append((self._collecting, seconds, info["generation"]))
                self._collecting = 0.0

        async def watch() -> None:
            while self._watching:
                began = time.monotonic()
                await asyncio.sleep(TICK)
                late = time.monotonic() - began - TICK
                if late >= STALL and len(self.stalls) < 100_000:
                    self.stalls.append((began, late))

        self.store.export = timed_export  # type: ignore[method-assign]  # what Sandbox.snapshot calls
        gc.callbacks.append(on_gc)
        loop = self.server._loop
        assert loop is not None
        self._watching = True
        watching = asyncio.run_coroutine_threadsafe(watch(), loop)

        def undo() -> None:
            self._watching = False
            watching.result(10)
            gc.callbacks.remove(on_gc)
            del self.store.export  # the store's own method again

        return undo

    # ------------------------------------------------------------------------------------------------ snapshots

    def download(self) -> subprocess.Popen[str]:
        """`GET /__admin/snapshot` into a file by a client process (started now)."""
        return subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", DOWNLOAD, self.host, str(self.port), "/__admin/snapshot", str(self.document)],
            stdout=subprocess.PIPE,
            text=True,
        )

    @property
    def document(self) -> Path:
        return self.folder / "downloaded.json"

    def downloaded(self, process: subprocess.Popen[str]) -> Taken:
        out, _ = process.communicate()
        answer = json.loads(out)
        if answer["status"] != 200:
            raise RuntimeError(f"GET /__admin/snapshot answered {answer['status']}")
        return self.taken(answer["start"], answer["first"], answer["last"], answer["size"])

    def write_state_file(self) -> Taken:
        """`snapshots.write_file(path, await sandbox.snapshot())` as the state file writer does it: the snapshot
        taken on the server's loop, the document written by a thread."""
        path = self.folder / "state.json"
        first: list[float] = []

        async def save() -> tuple[float, float, int]:
            began = time.monotonic()
            pieces = await self.sandbox.snapshot(journal=True)

            def counted() -> Any:
                for piece in pieces:
                    if not first:
                        first.append(time.monotonic() - began)
                    yield piece

            size = await asyncio.to_thread(snapshots.write_file, path, counted())
            return began, time.monotonic() - began, size

        began, seconds, size = self.on_loop(save())
        return self.taken(began, first[0] if first else seconds, seconds, size)

    def taken(self, started: float, first: float, last: float, size: int) -> Taken:
        end = started + last
        exports = [seconds for began, seconds in self.exports if started <= began <= end]
        collections = [
            (began - started, seconds, generation)
            for began, seconds, generation in self.collections
            if started <= began <= end
        ]
        stalls = [(began - started, late) for began, late in self.stalls if started - TICK <= began <= end]
        peak, rss = status_kb("VmHWM"), status_kb("VmRSS")
        return Taken(started, first, last, size, exports, collections, stalls, peak, rss)

    def idle(self, kind: str) -> Taken:
        gc.collect()
        reset_peak()
        if kind == "GET":
            return self.downloaded(self.download())
        return self.write_state_file()

    def loaded(self, kind: str) -> tuple[Window, Taken | None]:
        """`--seconds` of wrk and the probe; one snapshot of `kind` (GET, file or none) one second in."""
        args = self.args
        gc.collect()
        probe = subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", PROBE, self.host, str(self.port), self.reader, str(args.seconds), PATH],
            stdout=subprocess.PIPE,
            text=True,
        )
        load = subprocess.Popen(  # noqa: S603
            [
                self.wrk,
                "-t1",
                "-c16",
                f"-d{args.seconds:g}s",
                "--latency",
                "-s",
                str(HERE / "wrk" / "static.lua"),
                self.server.url + PATH,
                "--",
                "GET",
                "",
                f"Authorization: Bearer {self.reader}",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        began = time.monotonic()
        time.sleep(1.0)
        reset_peak()
        taken: Taken | None = None
        if kind == "GET":
            taken = self.downloaded(self.download())
        elif kind == "file":
            taken = self.write_state_file()
        wrk_out, _ = load.communicate()
        probe_out, _ = probe.communicate()
        zero = taken.started if taken is not None else began + 1.0
        if taken is not None and taken.started + taken.last > began + args.seconds:
            print(f"warning: the {kind} snapshot outlasted the load ({taken.last:.1f} s): raise --seconds", flush=True)
        bench = next(line for line in wrk_out.splitlines() if line.startswith("BENCH")).split()
        hist = next(line for line in wrk_out.splitlines() if line.startswith("HIST")).split()[1:]
        requests, duration, p50, p99 = (float(x) for x in bench[1:5])
        longest = max(int(pair.split(":")[0]) for pair in hist) if hist else 0
        samples = [(start - zero, seconds, code) for start, seconds, code in json.loads(probe_out)]
        stalls = [(slept - zero, late) for slept, late in self.stalls if began <= slept <= began + args.seconds]
        window = Window(requests, duration, p50, p99, longest, sum(int(x) for x in bench[5:]), samples, stalls)
        return window, taken


def describe(name: str, taken: Taken, rss_before: int) -> list[str]:
    exports = ", ".join(f"{seconds * 1000:.1f} ms" for seconds in taken.exports) or "not seen"
    counts = [sum(1 for _, _, generation in taken.collections if generation == g) for g in range(3)]
    long = sorted((c for c in taken.collections if c[1] >= LONG_COLLECTION), key=lambda c: c[0])
    return [
        f"{name}: first byte {taken.first:.2f} s, last byte {taken.last:.2f} s, {taken.size:,} bytes "
        f"({taken.size / 1e6:.1f} MB, {taken.size / max(taken.last, 1e-9) / 1e6:.0f} MB/s)",
        f"  on the event loop (Store.export): {exports}",
        f"  garbage collections meanwhile: {counts[0]} young, {counts[1]} middle, {counts[2]} full, "
        f"{sum(seconds for _, seconds, _ in taken.collections) * 1000:.0f} ms in all; "
        f"{len(long)} of {LONG_COLLECTION * 1000:.0f} ms or more"
        + (": " if long else "")
        + ", ".join(f"{seconds * 1000:.0f} ms (generation {g}) at {began:+.2f} s" for began, seconds, g in long[:8])
        + (", ..." if len(long) > 8 else ""),
        f"  event loop late by {STALL * 1000:.0f} ms or more: {len(taken.stalls)} times, "
        f"{sum(late for _, late in taken.stalls) * 1000:.0f} ms in all"
        + (": " if taken.stalls else "")
        + ", ".join(f"{late * 1000:.0f} ms at {began:+.2f} s" for began, late in worst_stalls(taken.stalls))
        + (", ..." if len(taken.stalls) > 5 else ""),
        f"  RSS {mb(rss_before)} before, peak {mb(taken.peak_kb)} (+{mb(taken.peak_kb - rss_before)}), "
        f"{mb(taken.after_kb)} after",
    ]


def worst_stalls(stalls: list[tuple[float, float]], count: int = 5) -> list[tuple[float, float]]:
    """The `count` longest, in time order."""
    return sorted(sorted(stalls, key=lambda stall: stall[1], reverse=True)[:count])


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000, help="generated users (100,000, the scenario cap)")
    parser.add_argument("--tokens", type=int, default=1_000_000, help="live tokens in all (1,000,000)")
    parser.add_argument(
        "--logins", type=int, help="password logins (two tokens each) among the tokens (default: one per user)"
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="each load run; the snapshot is 1 s in (20)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.logins is None:
        args.logins = args.users
    if args.logins and not args.users:
        parser.error("--logins needs users (--users)")
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("bench/snapshot.py needs wrk (`apt-get install wrk`)")

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scenario = folder / "snapshot-bench.yaml"
        scenario.write_text(SCENARIO.format(users=args.users, mandator=MANDATOR))
        cap = args.tokens + 100_000
        settings = Settings(scenario=str(scenario), capacity=Capacity(tokens=cap))
        began = time.perf_counter()
        with ThreadedServer(settings) as server:
            built = time.perf_counter() - began
            return run(Bench(server, wrk, args, folder), built, load_before, cap)


def run(bench: Bench, built: float, load_before: float, cap: int) -> int:
    args, server, store = bench.args, bench.server, bench.store
    client = httpx.Client(base_url=server.url, timeout=60)
    bench.reader = client.post(
        "/api/v2/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "reader", "client_secret": "reader-secret"},
    ).json()["access_token"]
    idle_rss = status_kb("VmRSS")
    client.get("/__admin/snapshot").raise_for_status()  # warm-up before the tokens are made: the first snapshot
    bench.write_state_file()  # imports and starts threads, tens of milliseconds on the loop once
    logins, client_tokens, fill_seconds = bench.fill()
    stats = server._run(store.stats())
    gc.collect()
    full_rss = status_kb("VmRSS")
    print(
        f"{stats.users:,} users, {stats.tokens:,} live tokens ({logins:,} logins, {client_tokens:,} client tokens) "
        f"filled in {fill_seconds:.1f} s; RSS {mb(full_rss)}",
        flush=True,
    )
    undo = bench.instrument()
    try:
        get_idle = bench.idle("GET")
        print(*describe("GET idle", get_idle, full_rss), sep="\n", flush=True)
        file_idle = bench.idle("file")
        print(*describe("file idle", file_idle, full_rss), sep="\n", flush=True)
        quiet, _ = bench.loaded("none")
        print(f"load without a snapshot: {quiet.wrk_line()}", flush=True)
        get_window, get_loaded = bench.loaded("GET")
        assert get_loaded is not None
        print(f"load with GET /__admin/snapshot: {get_window.wrk_line()}", flush=True)
        file_window, file_loaded = bench.loaded("file")
        assert file_loaded is not None
        print(f"load with a state-file write: {file_window.wrk_line()}", flush=True)
    finally:
        undo()
    client.close()

    loading = subprocess.run(  # noqa: S603
        [sys.executable, "-c", LOAD, str(ROOT), str(bench.document), str(cap)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(loading.stdout)
    same = (loaded["users"], loaded["tokens"]) == (stats.users, stats.tokens)

    def probe_block(window: Window, taken: Taken | None) -> list[str]:
        lines = [f"  probe ({len(window.samples):,} requests, {window.bad()} not 200):"]
        if taken is None:
            lines.append(f"    whole run               {window.probe_line(-1e9, 1e9)}")
            late = ", ".join(f"{late * 1000:.0f} ms" for _, late in worst_stalls(window.stalls))
            lines.append(
                f"  event loop late by {STALL * 1000:.0f} ms or more: {len(window.stalls)} times"
                + (f", longest {late}" if late else "")
            )
            return lines
        end = taken.last
        lines += [
            f"    before the snapshot     {window.probe_line(-1e9, 0.0)}",
            f"    during it ({end:5.2f} s)    {window.probe_line(0.0, end)}",
            f"    after it                {window.probe_line(end, 1e9)}",
            "    (a request is counted in each part it overlaps)",
        ]
        worst = ", ".join(f"{seconds * 1000:.1f} ms at {begun:+.2f} s" for begun, seconds in window.worst(0.0, end, 3))
        lines.append(f"    longest during it       {worst or 'none'} (started, from the snapshot's start)")
        return lines

    lines = [
        f"mock-finapi: a snapshot of {stats.users:,} users and {stats.tokens:,} live tokens, idle and under load "
        "(issue 20, point 6)",
        f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs ({cpu_model()}), {platform.system()} {platform.release()}",
        f"load average {load_before:.2f} before the run, {os.getloadavg()[0]:.2f} after (other work on the host "
        "lengthens everything)",
        "",
        f"scenario with {args.users:,} generated users built in {built:.1f} s; {logins:,} password logins "
        f"({2 * logins:,} tokens in {logins:,} grants) and {client_tokens:,} client tokens made in "
        f"{fill_seconds:.1f} s (store operations on the server's loop)",
        f"store: {stats.users:,} users, {stats.tokens:,} live tokens, {stats.grants:,} grants, "
        f"{stats.journal_entries:,} journal entries",
        f"RSS {mb(idle_rss)} idle, {mb(full_rss)} full",
        "",
        "Idle server (nothing else requested):",
        *describe("GET /__admin/snapshot to a file (client process)", get_idle, full_rss),
        *describe(
            "state file: snapshots.write_file(path, await sandbox.snapshot()), fsync included", file_idle, full_rss
        ),
        "",
        f"Under load: wrk -t1 -c16 {args.seconds:g} s of GET {PATH} (reader's token) per run, one snapshot 1 s in:",
        f"no snapshot               wrk {quiet.wrk_line()}",
        *probe_block(quiet, None),
        f"GET /__admin/snapshot     wrk {get_window.wrk_line()}",
        *probe_block(get_window, get_loaded),
        *[f"  {line}" for line in describe("the snapshot", get_loaded, full_rss)],
        f"state-file write          wrk {file_window.wrk_line()}",
        *probe_block(file_window, file_loaded),
        *[f"  {line}" for line in describe("the snapshot", file_loaded, full_rss)],
        "",
        f"Loading the document ({get_idle.size / 1e6:.1f} MB) in a fresh process: read {loaded['read']:.2f} s, "
        f"orjson.loads alone {loaded['parse']:.2f} s, snapshots.load {loaded['load']:.2f} s "
        f"({'same' if same else 'NOT the same'} {loaded['users']:,} users and {loaded['tokens']:,} tokens, "
        f"{loaded['grants']:,} grants)",
        f"  RSS {mb(loaded['idle'])} before (modules imported), peak {mb(loaded['peak'])} while loading; "
        f"{mb(loaded['store'])} with the store and without the document",
        f"  with the cycle collector paused (gc.disable(), as world.build_state does): orjson.loads "
        f"{loaded['parse_paused']:.2f} s, snapshots.load {loaded['load_paused']:.2f} s",
        "",
    ]
    publish("\n".join(lines), args.out)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

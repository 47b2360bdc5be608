"""Bytes per live object (issue 16, point 7): what one more token, user, process or registered client costs.

    .venv/bin/python bench/objects.py               # 100,000 of each kind; writes bench/results/objects.txt
    .venv/bin/python bench/objects.py --count 20000 --kinds user process

Each kind is measured in a fresh Python process of its own: the emulator is built as `mock-finapi serve` builds it
(`create_app` on the scenario below, the server modules imported), then `--count` objects are made through the
services a request calls, on the store's own event loop, without HTTP (the journal, bounded, is not involved):

- client token: `POST /oauth/token` client_credentials with `tokens: {reuse: false}`: one live client token each;
- login: the password grant of a user of its own (made before the first reading): an access and a refresh token and
  their grant;
- user: `POST /users` with no body fields (a drawn UUID id and password, as finAPI's defaults);
- process: `POST /api/v1/processes` with one client reference: the process and its hidden user;
- registered client: a new client id authenticating under `clients: {auto_register: true}` (the client, its
  ClientConfiguration and its mandator), no token.

Per kind: RSS growth (VmRSS of /proc/self/status, after `gc.collect()`) over the count, and the bytes Python's
allocator holds for them (`sys.getallocatedblocks()` is not bytes, so tracemalloc's traced total is read instead, in
a second pass with tracing on). RSS includes what the allocators keep around; the traced figure is the objects
themselves. Capacity is raised above the count so no cap interferes.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from processes_util import publish

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "objects.txt"
TOP_LINES = 8
"""Source lines allocating the most, shown per kind with --top."""
KINDS = ("client token", "login", "user", "process", "registered client")
CLIENT_ID = "8f92e604-b9b9-11ec-8422-0242ac120002"
CLIENT_SECRET = "8f92ea14-b9b9-11ec-8422-0242ac120002"
SCENARIO = f"""\
name: objects-bench
description: One client, one-hour tokens, no reuse, a frozen clock, auto_register (bench/objects.py).
seed: 16
clock: {{start: "2026-01-01T09:00:00+01:00", frozen: true}}
tokens: {{reuse: false}}
clients:
  auto_register: true
  registered:
    - {{client_id: {CLIENT_ID}, client_secret: {CLIENT_SECRET}, mandator_id: 2c6b8f0e-7d42-4f1a-9a43-1f0c2d3e4a5b}}
processes: {{max_exchanges: 1000000000, validity_days: 3650}}
users: []
"""


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def measure(kind: str, count: int, traced: bool) -> dict[str, Any]:
    """Make `count` objects of `kind`; answers the growth of RSS (or of traced bytes) per object."""
    import uvicorn.loops.uvloop  # noqa: F401  # what `serve` runs on, imported before the first reading

    import mock_finapi.cli  # noqa: F401
    from mock_finapi.http.app import create_app
    from mock_finapi.http.protocol import http_protocol
    from mock_finapi.scenarios.loader import load_text
    from mock_finapi.settings import Capacity, Settings

    http_protocol()
    big = 10 * count + 1_000_000
    settings = Settings(capacity=Capacity(tokens=big, users=big, processes=big, clients=big))
    world = create_app(settings, scenario=load_text(SCENARIO, "bench/objects.py")).sandbox.world
    now = world.clock.now((await world.store.prepare()).clock)
    client = await world.tokens.authenticate_client(CLIENT_ID, CLIENT_SECRET)
    grant = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    users = []
    if kind == "login":  # the users exist before the first reading: only the logins are counted
        for i in range(count):
            users.append(await world.users.create(client, {"id": f"u{i}", "password": "password-1"}, now))
    # warm up each path once (imports, caches, the first allocation of every table), then read
    await world.users.create(client, {}, now)
    await world.processes.create_many(
        {
            "clientId": CLIENT_ID,
            "clientSecret": CLIENT_SECRET,
            "processId": "USER_ONLY",
            "clientReferences": [{"clientReference": "warm"}],
        },
        now,
    )
    await world.tokens.grant(grant, now)
    await world.tokens.authenticate_client("warm-up-client", "secret")
    gc.collect()
    if traced:
        tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0] if traced else rss_kb() * 1024
    start = time.perf_counter()
    for i in range(count):
        if kind == "client token":
            await world.tokens.grant(grant, now)
        elif kind == "login":
            params = {**grant, "grant_type": "password", "username": f"u{i}", "password": "password-1"}
            await world.tokens.grant(params, now)
        elif kind == "user":
            await world.users.create(client, {}, now)
        elif kind == "process":
            await world.processes.create_many(
                {
                    "clientId": CLIENT_ID,
                    "clientSecret": CLIENT_SECRET,
                    "processId": "USER_ONLY",
                    "clientReferences": [{"clientReference": f"ref-{i}"}],
                },
                now,
            )
        else:
            await world.tokens.authenticate_client(f"client-{i:08d}", f"secret-{i:08d}")
    seconds = time.perf_counter() - start
    gc.collect()
    after = tracemalloc.get_traced_memory()[0] if traced else rss_kb() * 1024
    top = []
    if traced:
        for stat in tracemalloc.take_snapshot().statistics("lineno")[:TOP_LINES]:
            frame = stat.traceback[0]
            top.append(f"{stat.size / count:7.1f} B  {Path(frame.filename).name}:{frame.lineno}")
    stats = await world.store.stats()
    return {
        "top": top,
        "kind": kind,
        "count": count,
        "bytes": (after - before) / count,
        "seconds": seconds,
        "stats": stats._asdict(),
        "rss_mb": rss_kb() / 1024,
    }


def child(kind: str, count: int, traced: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", kind, "--count", str(count), *(["--traced"] if traced else [])]
    done = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="objects of each kind (100,000)")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS), metavar="KIND")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--top", action="store_true", help=f"also show the {TOP_LINES} source lines allocating most")
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(HERE.parent))
        print(json.dumps(asyncio.run(measure(args.child, args.count, args.traced))))
        return 0

    rows = []
    for kind in args.kinds:
        rss = child(kind, args.count, traced=False)
        traced = child(kind, args.count, traced=True)
        rows.append((kind, rss, traced))
        print(f"  {kind:<18} {rss['bytes']:8.0f} B RSS  {traced['bytes']:8.0f} B traced", flush=True)
        if args.top:
            print("\n".join(f"    {line}" for line in traced["top"]), flush=True)
    lines = [
        f"mock-finapi bytes per live object (issue 16, point 7): {args.count:,} of each kind, through the services",
        f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        "",
        f"{'kind':<18}  {'RSS B/object':>12}  {'traced B/object':>15}  {'made/s':>9}  {'RSS after MB':>12}",
    ]
    for kind, rss, traced in rows:
        lines.append(
            f"{kind:<18}  {rss['bytes']:>12,.0f}  {traced['bytes']:>15,.0f}  {rss['count'] / rss['seconds']:>9,.0f}"
            f"  {rss['rss_mb']:>12.1f}"
        )
    lines += [
        "",
        "login: one password grant (an access and a refresh token and their grant); process: with its hidden user;",
        "registered client: a client accepted by auto_register, with its ClientConfiguration and mandator, no token.",
        "RSS: growth of the process's resident memory; traced: bytes Python allocated for them (tracemalloc).",
        "",
    ]
    publish("\n".join(lines), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Bank data benchmark (issue 18, point 9): a page of 500 transactions of a user with 100,000, against bare Starlette.

    .venv/bin/python bench/transactions.py            # about 2 minutes; writes bench/results/transactions.txt
    .venv/bin/python bench/transactions.py --duration 2 --rounds 2 --load-million 0   # smoke

1. Throughput: `mock-finapi serve --log-format off` on a scenario whose user has one account with 100,000 generated
   transactions, `GET /api/v2/transactions?view=bankView&perPage=500` with the user's token (wrk `-t1 -c16`, the
   server pinned to CPU 0 and wrk to CPU 1 as bench/run.py does), against bench/baseline_app.py answering the same
   path with the very bytes the emulator answered (bare Starlette, served by the same server module). Rounds
   alternate which runs first; the ratio is the median of the rounds' ratios (goal: at least 0.5). A second
   emulator target filters (`minAmount=-50&maxAmount=50&order=amount,desc`) to show a filtered, re-ordered page.
2. Memory per transaction: the server's VmRSS once ready with 100,000 transactions, minus the same scenario with
   none, over 100,000.
3. Load: seconds from spawning `serve` on a scenario with 1,000,000 transactions (one user, ten accounts of 100,000)
   to its first answer, and its VmRSS then.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import run
from processes_util import publish, stop

RESULTS = Path(__file__).resolve().parent / "results"
PAGE = "/api/v2/transactions?view=bankView&perPage=500"
FILTERED = "/api/v2/transactions?view=bankView&perPage=500&minAmount=-50&maxAmount=50&order=amount,desc"
GOAL = 0.5


def scenario(accounts: int, transactions: int) -> str:
    """The default client and its example user with one DEMO0001 connection of `accounts` checking accounts."""
    account = f"{{type: Checking, transactions: {transactions}}}"
    return f"""
name: bench-transactions
seed: 1
clock: {{start: "2026-01-01T09:00:00+01:00"}}
clients:
  - {{client_id: {run.CLIENT_ID}, client_secret: {run.CLIENT_SECRET}, mandator_id: bench}}
users:
  - id: username
    password: password
    bank_connections:
      - bank: 280001
        accounts: [{", ".join([account] * accounts)}]
"""


@contextmanager
def serving(work: Path, name: str, text: str, pin: bool) -> Iterator[run.Server]:
    """`mock-finapi serve` on a scenario, ready (it answered a token request) when entered."""
    path = work / f"{name}.yaml"
    path.write_text(text)
    with run.running(run.Target(name, name, "GET", PAGE, scenario=str(path)), pin, work) as server:
        yield server


@contextmanager
def baseline(work: Path, body: bytes, pin: bool) -> Iterator[run.Server]:
    body_file = work / "page.json"
    body_file.write_bytes(body)
    port = run.free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, str(run.HERE / "baseline_app.py"), "--port", str(port)]
    command += ["--get", PAGE.split("?")[0], "--body-file", str(body_file)]
    start = time.perf_counter()
    process = subprocess.Popen(run.pinned(run.SERVER_CPU, command, pin), stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        while True:
            try:
                if run.request(url, "GET", PAGE)[0] == 200:
                    break
            except OSError:
                time.sleep(0.01)
        yield run.Server(process, url, time.perf_counter() - start)
    finally:
        stop(process)


def page(server: run.Server, bearer: str, path: str) -> bytes:
    status, body = run.request(server.url, "GET", path, headers={"Authorization": f"Bearer {bearer}"})
    if status != 200:
        raise RuntimeError(f"{path} answered {status}: {body[:300]!r}")
    return body


def rss_mb(server: run.Server) -> float:
    return run.proc_status_kb(server.process.pid, "VmRSS") / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of each wrk run (default 5)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of baseline + emulator runs (default 5)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--load-million", type=int, default=1, help="0 skips the 1,000,000-transaction load")
    parser.add_argument("--out", type=Path, default=RESULTS / "transactions.txt")
    args = parser.parse_args()
    run.TIMEOUT = 600.0  # loading a million transactions takes longer than bench/run.py's servers
    wrk, pin = run.ensure_tools()
    load = run.Load(wrk, pin)
    lines = [f"# Bank data: {PAGE} with 100,000 transactions (bench/transactions.py)", ""]
    lines += [*run.machine((run.revision(), run.revision())), f"- load average: {run.loadavg()}", ""]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with serving(work, "empty", scenario(1, 0), pin) as server:
            empty_mb = rss_mb(server)
        with serving(work, "full", scenario(1, 100_000), pin) as server:
            full_mb, ready_s = rss_mb(server), server.startup_s
            bearer = run.fetch_token(server.url, run.PASSWORD_GRANT)
            body = page(server, bearer, PAGE)
            filtered = page(server, bearer, FILTERED)
            shown = json.loads(body)
            if len(shown["transactions"]) != 500 or shown["paging"]["totalCount"] != 100_000:
                raise RuntimeError(f"unexpected page: {shown['paging']}")
            headers = (f"Authorization: Bearer {bearer}",)
            emulator = run.Target("emulator", "emulator", "GET", PAGE, headers=headers)
            emulator_filtered = run.Target("filtered", "filtered", "GET", FILTERED, headers=headers)
            bare = run.Target("baseline", "baseline", "GET", PAGE)
            with baseline(work, body, pin) as base:
                samples: dict[str, list[float]] = {"baseline": [], "emulator": [], "filtered": []}
                ratios: list[float] = []
                for round_ in range(args.rounds):
                    order = [(bare, base), (emulator, server), (emulator_filtered, server)]
                    taken = {}
                    for target, where in order if round_ % 2 == 0 else order[::-1]:
                        sample = load.run(target, where, "", args.connections, args.duration)
                        if sample.errors:
                            raise RuntimeError(f"{target.key}: {sample.errors} errors")
                        taken[target.key] = sample.rps
                        samples[target.key].append(sample.rps)
                    ratios.append(taken["emulator"] / taken["baseline"])
                    print(f"  round {round_ + 1}: " + ", ".join(f"{k} {v:,.0f} req/s" for k, v in taken.items()))
        ratio = statistics.median(ratios)
        lines += [
            f"## Throughput (c={args.connections}, {args.rounds} rounds of {args.duration:g} s, median)",
            "",
            f"- baseline (bare Starlette, the same {len(body):,} bytes): "
            f"{statistics.median(samples['baseline']):,.0f} req/s",
            f"- emulator: {statistics.median(samples['emulator']):,.0f} req/s",
            f"- emulator, filtered and ordered by amount ({len(json.loads(filtered)['transactions'])} on the page): "
            f"{statistics.median(samples['filtered']):,.0f} req/s",
            f"- **ratio emulator / baseline: {ratio:.2f}** (rounds: {', '.join(f'{r:.2f}' for r in ratios)}; goal "
            f">= {GOAL}: {'met' if ratio >= GOAL else 'NOT met'})",
            "",
            "## Memory",
            "",
            f"- VmRSS ready: {empty_mb:.1f} MB without transactions, {full_mb:.1f} MB with 100,000 "
            f"(ready in {ready_s:.2f} s)",
            f"- **{(full_mb - empty_mb) * 1024 * 1024 / 100_000:,.0f} bytes per transaction**",
        ]
        if args.load_million:
            with serving(work, "million", scenario(10, 100_000), pin) as server:
                lines += [
                    "",
                    "## Load",
                    "",
                    f"- **a scenario with 1,000,000 transactions: ready in {server.startup_s:.1f} s**, "
                    f"VmRSS {rss_mb(server):,.0f} MB",
                ]
    publish("\n".join(lines) + "\n", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

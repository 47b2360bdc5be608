"""Bank data load (issue 18, point 9): how long `build_state` takes for a scenario with 1,000,000 transactions, and
the memory each transaction holds.

    .venv/bin/python bench/bank_load.py      # both shapes, about 1-2 minutes; writes bench/results/bank_load.txt
    .venv/bin/python bench/bank_load.py --transactions 100000

Each shape runs in a fresh process (so its RSS is its own): the scenario is loaded (`loader.load_text`), then
`world.build_state` builds its state, timed; RSS (VmRSS) is read before and after the build, and the same scenario
without bank data is built first so that its users do not count. Bytes per transaction = (RSS with bank data - RSS
without) / transactions: everything the bank data holds (transactions, accounts, connections, the store's indexes)
over the transactions.

- one-user: one user with one DEMO0001 connection of 10 checking accounts of N/10 generated transactions each.
- test-bank users: N/125 generated users, each with one DEMO0001 connection of the test banks' shape (2 Checking +
  1 Savings, 125 transactions).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from processes_util import publish

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "bank_load.txt"
SHAPES = ("one-user", "test-bank-users")
TEST_BANK_TRANSACTIONS = 125
HEADER = """\
name: bank-load
seed: 1
clock: {start: "2026-01-01T09:00:00+01:00", frozen: true}
clients:
  - {client_id: bench, client_secret: bench-secret, mandator_id: bench}
"""


def scenario(shape: str, transactions: int, bank_data: bool) -> str:
    if shape == "one-user":
        account = f"{{type: Checking, transactions: {transactions // 10}}}"
        connections = f"[{{bank: 280001, accounts: [{', '.join([account] * 10)}]}}]" if bank_data else "[]"
        return HEADER + f"users:\n  - {{id: username, password: password, bank_connections: {connections}}}\n"
    users = transactions // TEST_BANK_TRANSACTIONS
    connections = "[{bank: 280001}]" if bank_data else "[]"
    return HEADER + f"users:\n  - {{generate: {users}, bank_connections: {connections}}}\n"


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def measure(shape: str, transactions: int) -> dict[str, float]:
    """In this process: build the scenario without bank data, then with it; times and RSS."""
    from mock_finapi.scenarios import loader
    from mock_finapi.services import bankgen
    from mock_finapi.world import build_state

    generating = [0.0]
    generate = bankgen.connection

    def timed(*args: Any) -> Any:
        """bankgen.connection, its time added up: the rest of the build is the store's."""
        start = time.perf_counter()
        try:
            return generate(*args)
        finally:
            generating[0] += time.perf_counter() - start

    bankgen.connection = timed  # type: ignore[assignment]  # world.build_state calls it through the module
    results: dict[str, float] = {}
    kept = []  # both states stay alive: the second RSS reading includes the first's
    for bank_data in (False, True):
        start = time.perf_counter()
        parsed = loader.load_text(scenario(shape, transactions, bank_data), f"{shape}.yaml")
        loaded = time.perf_counter()
        before = rss_kb()
        kept.append(build_state(parsed, 1, 1_767_254_400.0, journal_size=1000))
        built = time.perf_counter()
        key = "bank" if bank_data else "plain"
        results[f"{key}_load_s"] = loaded - start
        results[f"{key}_build_s"] = built - loaded
        results[f"{key}_rss_kb"] = rss_kb() - before
    results["generate_s"] = generating[0]
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--shape", choices=SHAPES, help=argparse.SUPPRESS)  # the child process's
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.shape:
        print(json.dumps(measure(args.shape, args.transactions)))
        return 0
    lines = [
        f"mock-finapi bank data load: build_state of a scenario with {args.transactions:,} transactions (issue 18)",
        f"CPython {platform.python_version()} on {platform.machine()}, {len(os.sched_getaffinity(0))} "
        f"CPUs, {platform.system()} {platform.release()}",
        "",
        f"{'shape':<16} {'YAML s':>7} {'build s':>8} {'generating s':>13} {'RSS MB':>8} {'bytes/tx':>9} "
        f"{'users-only build s':>19}",
    ]
    for shape in SHAPES:
        command = [sys.executable, __file__, "--shape", shape, "--transactions", str(args.transactions)]
        done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=HERE.parent)  # noqa: S603
        result = json.loads(done.stdout)
        grown = (result["bank_rss_kb"] - result["plain_rss_kb"]) * 1024
        lines.append(
            f"{shape:<16} {result['bank_load_s']:>7.2f} {result['bank_build_s']:>8.2f} {result['generate_s']:>13.2f} "
            f"{result['bank_rss_kb'] / 1024:>8.1f} {grown / args.transactions:>9.0f} {result['plain_build_s']:>19.2f}"
        )
    lines += [
        "",
        "build s: world.build_state (users, generated bank data, the store's indexes), of which generating s in",
        "bankgen.connection (the rest: users and the store's load_connection); YAML s: loading and checking the",
        "scenario; RSS MB: what the build added; bytes/tx: RSS added by the bank data over the transactions (the same",
        "scenario's users without bank data subtracted).",
    ]
    publish("\n".join(lines) + "\n", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

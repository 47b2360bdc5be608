"""The store's transaction queries (issue 18, point 4): `MemoryStore.transactions` for a user with 100,000.

    .venv/bin/python bench/bank_store.py                 # about 20 s; writes bench/results/bank_store.txt
    .venv/bin/python bench/bank_store.py --transactions 20000 --calls 5

One user, one connection, three accounts sharing the transactions (seeded, about 90 days of booking dates, amounts
from -500.00 to +500.00, purposes and counterparts from small pools), added with `add_connection`. Each query is
called once first (it builds the indexes it uses: the time of that first call is reported too) and then `--calls`
times: milliseconds per call, median and fastest, store only (no HTTP, no JSON). Bytes per transaction are
tracemalloc's traced growth: the stored records with the ledgers, then what the two sorted indexes add once built.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import random
import statistics
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

from processes_util import publish

from mock_finapi.clock import ClockState
from mock_finapi.settings import Capacity
from mock_finapi.state.banking import (
    Account,
    AccountInterface,
    Connection,
    ConnectionInterface,
    NewAccount,
    Transaction,
    TransactionQuery,
)
from mock_finapi.state.memory import MemoryStore
from mock_finapi.state.models import User

RESULTS = Path(__file__).resolve().parent / "results" / "bank_store.txt"
T0 = 1_767_254_400.0
"""2026-01-01T09:00:00+01:00."""
LAST_DAY = date(2026, 1, 1)
PURPOSES = ["Miete", "Gehalt", "Kartenzahlung REWE", "Stadtwerke Strom Abschlag", "Netflix Abo", "Umbuchung Sparen"]
NAMES = ["Hausverwaltung Schmidt GmbH", "ACME Software AG", "REWE Markt", "Stadtwerke Musterstadt", "NETFLIX.COM"]


def transactions(count: int, rng: random.Random) -> list[Transaction]:
    made = []
    for n in range(count):
        booked = (LAST_DAY - timedelta(days=rng.randrange(90))).isoformat()
        name = rng.choice(NAMES)
        made.append(
            Transaction(
                0,
                0,
                booked,
                booked,
                booked,
                rng.randint(-50_000, 50_000),
                T0 - 86_400,
                purpose=f"{rng.choice(PURPOSES)} {n}",
                counterpart_name=name,
                counterpart_iban=f"DE{rng.randrange(10**20):020d}",
                counterpart_bic="BELADEBEXXX",
                type="Lastschrift",
            )
        )
    return made


def store_with(count: int) -> tuple[MemoryStore, float]:
    """A store whose user `alice` has `count` transactions, and the seconds adding them took."""
    store = MemoryStore(18, ClockState(frozen_at=T0), capacity=Capacity(transactions=count))
    store.load_user(User("m1", "alice", "pw", created_at=T0))
    rng = random.Random(18)
    per_account = [transactions(count // 3 + (k < count % 3), rng) for k in range(3)]
    interface = ConnectionInterface("XS2A", (("Onlinebanking-ID", "demo"), ("PIN", "demo")))
    connection = Connection(0, "m1", "alice", 280001, "Girokonto", (interface,), (), None, T0, T0, T0 + 3)
    accounts = [
        NewAccount(Account(0, 0, f"{k}", "Checking", (AccountInterface("XS2A"),)), tuple(made))
        for k, made in enumerate(per_account)
    ]
    started = time.perf_counter()
    asyncio.run(store.add_connection("m1", "alice", connection, accounts, T0))
    return store, time.perf_counter() - started


def traced_bytes(count: int) -> tuple[float, float]:
    """Bytes per transaction tracemalloc traces: stored (records, their strings, ledgers, table slots), and what the
    two sorted indexes add once built. The records given (id 0) are garbage once added: the store keeps copies."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    store, _ = store_with(count)
    gc.collect()
    stored = tracemalloc.get_traced_memory()[0]
    asyncio.run(store.transactions("m1", "alice", QUERIES["order by amount desc"], T0))
    asyncio.run(store.transactions("m1", "alice", QUERIES["bank booking dates, 30 of 90 days"], T0))
    gc.collect()
    indexed = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (stored - before) / count, (indexed - stored) / count


QUERIES = {
    "no filter, perPage 500": TransactionQuery(per_page=500),
    "account filter (1 of 3 accounts)": TransactionQuery(account_ids=(2_000_002,), per_page=500),
    "bank booking dates, 30 of 90 days": TransactionQuery(
        min_bank_booking_date="2025-11-01", max_bank_booking_date="2025-11-30", per_page=500
    ),
    "search 'stadtwerke'": TransactionQuery(search=("stadtwerke",), per_page=500),
    "order by amount desc": TransactionQuery(order=(("amount", False),), per_page=500),
    "order by amount desc, page 100": TransactionQuery(order=(("amount", False),), page=100, per_page=500),
    "amount -10.00..10.00, by date desc": TransactionQuery(
        min_amount=-1000, max_amount=1000, order=(("bankBookingDate", False),), per_page=500
    ),
}


async def time_queries(store: MemoryStore, calls: int) -> list[tuple[str, float, float, float, int]]:
    """Per query: the first call's ms, the median and fastest of `calls` more, and the total it selects."""
    rows = []
    for name, query in QUERIES.items():
        started = time.perf_counter()
        page = await store.transactions("m1", "alice", query, T0)
        first = (time.perf_counter() - started) * 1000
        times = []
        for _ in range(calls):
            started = time.perf_counter()
            await store.transactions("m1", "alice", query, T0)
            times.append((time.perf_counter() - started) * 1000)
        rows.append((name, first, statistics.median(times), min(times), page.total))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    store, took = store_with(args.transactions)
    rows = asyncio.run(time_queries(store, args.calls))
    load_after = os.getloadavg()[0]
    del store
    stored_bytes, index_bytes = traced_bytes(args.transactions)

    lines = [
        f"mock-finapi store: transactions() of one user with {args.transactions:,} transactions (bench/bank_store.py)",
        f"CPython {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}; "
        f"{args.calls} calls each; load average {load_before:.1f} before, {load_after:.1f} after",
        "",
        f"{'query':38} {'first ms':>9} {'median ms':>10} {'fastest ms':>11} {'selected':>9}",
    ]
    lines += [f"{n:38} {first:9.2f} {median:10.2f} {fast:11.2f} {total:9,}" for n, first, median, fast, total in rows]
    lines += [
        "",
        f"add_connection of all of them: {took:.2f} s. Traced bytes per transaction: {stored_bytes:,.0f} stored "
        f"(record, strings, ledgers, table slots), {index_bytes:,.0f} more once both sorted indexes are built.",
        "first ms: the first call, which builds the sorted index it needs (dates or amounts) if not built yet.",
        "",
    ]
    publish("\n".join(lines), args.out)


if __name__ == "__main__":
    main()

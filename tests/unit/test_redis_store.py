"""What only the Redis backend has (mock_finapi/state/redis_store.py), on a real redis-server: several stores on one
prefix serve one state, the log is folded into a base that replicas left behind reload, and the log only ever loads
the emulator's own records. (The Store protocol itself is tested on both backends in test_store_protocol.py.)"""

from __future__ import annotations

import os
import pickle
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from mock_finapi.randomness import IDS
from mock_finapi.state import redis_store
from mock_finapi.state.memory import MemoryStore
from mock_finapi.state.protocol import TokenPolicy
from mock_finapi.state.redis_store import RedisStore
from tests.redis_support import RedisServer, new_prefix
from tests.unit.test_store_protocol import T0, fresh_state

pytestmark = pytest.mark.anyio

FRESH = TokenPolicy(reuse=False)


@pytest.fixture
async def stores(redis_server: RedisServer) -> AsyncIterator[Callable[..., RedisStore]]:
    """Makes stores on one new prefix of the test process's redis-server (each seeded with its own state, which
    only the first to reach the empty prefix puts there); closes them after."""
    prefix, made = new_prefix(), []

    def make(state: MemoryStore | None = None) -> RedisStore:
        made.append(RedisStore(redis_server.url, prefix, state or fresh_state()))
        return made[-1]

    yield make
    for store in made:
        await store.close()


def raw(redis_server: RedisServer) -> Any:
    """A plain client of the server (Any: redis-py's annotations of its answers differ between its versions)."""
    return redis.Redis.from_url(redis_server.url)


async def test_a_second_store_on_the_prefix_joins_the_first_ones_state(stores: Callable[..., RedisStore]) -> None:
    first = stores()
    token = await first.issue_client_token("app", T0, FRESH)
    second = stores(fresh_state(seed=99))  # a joiner's own state is not served

    await second.prepare()

    assert token.value in {t.value for t in await second.tokens(T0)}
    assert await second.draw(IDS) == await first.draw(IDS) - 1  # one counter, in log order


async def test_a_resolve_is_a_read_only_while_it_changes_nothing(
    stores: Callable[..., RedisStore], redis_server: RedisServer
) -> None:
    """A live token resolves from the replica; an expired one is dropped through the log, so every replica drops it
    (a drop on one replica alone would leave the others listing the token)."""
    one, other = stores(), stores()
    token = await one.issue_client_token("short", T0, FRESH)  # 60 s
    await other.prepare()
    log = f"{one.prefix}:log"
    length = raw(redis_server).llen(log)

    bearer = await other.resolve(token.value, T0 + 30)
    assert bearer is not None
    assert bearer.token == token
    assert raw(redis_server).llen(log) == length  # nothing logged
    assert await one.resolve(token.value, T0 + 60.5) is None  # expired (its expiry second, 61, is not due yet)

    await other.prepare()
    assert await other.tokens(T0 + 30) == await one.tokens(T0 + 30) == []


async def test_the_log_is_folded_into_a_base_that_a_store_left_behind_reloads(
    stores: Callable[..., RedisStore], redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_store, "COMPACT_RATIO", 0)
    monkeypatch.setattr(redis_store, "COMPACT_MIN_BYTES", 1000)  # a fold every kilobyte of log
    writer, behind = stores(), stores()
    await behind.prepare()
    drawn = [await writer.draw(IDS) for _ in range(60)]  # a round trip, an entry each
    await folded(writer)

    meta = raw(redis_server).hgetall(f"{writer.prefix}:meta")
    assert int(meta[b"seq"]) > 0  # the log's start moved on
    assert raw(redis_server).llen(f"{writer.prefix}:log") < 60
    assert await behind.draw(IDS) == drawn[-1] + 1  # reloaded the base, then applied the rest
    joiner = stores()
    await joiner.prepare()
    assert await joiner.draw(IDS) == drawn[-1] + 2


async def test_the_log_is_folded_once_it_grew_by_the_ratio_of_the_bases_bytes(
    stores: Callable[..., RedisStore], redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_store, "COMPACT_RATIO", 2)
    monkeypatch.setattr(redis_store, "COMPACT_MIN_BYTES", 0)
    state = fresh_state()
    for second in range(200):  # a larger base: 200 tokens more than the scenario has
        await state.issue_client_token("app", T0 + second, FRESH)
    writer = stores(state)
    await writer.prepare()
    meta, client = f"{writer.prefix}:meta", raw(redis_server)
    base = client.strlen(f"{writer.prefix}:base")
    assert int(client.hget(meta, "limit") or 0) == 2 * base

    grown = [0]
    while client.hget(meta, "at") == b"0":
        await writer.draw(IDS)
        grown.append(int(client.hget(meta, "bytes") or 0))  # the fold on its way has not run: nothing yielded yet
        await folded(writer)

    assert grown[-2] < 2 * base <= grown[-1]  # folded by the entry that crossed the mark, not before
    assert client.hget(meta, "seq") == b"0"  # the log keeps the entries since the previous base
    assert int(client.hget(meta, "limit") or 0) == 2 * client.strlen(f"{writer.prefix}:base")


async def test_a_store_less_than_a_fold_behind_goes_on_without_loading_the_base(
    stores: Callable[..., RedisStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_store, "COMPACT_RATIO", 0)
    monkeypatch.setattr(redis_store, "COMPACT_MIN_BYTES", 1000)
    writer, behind = stores(), stores()
    await behind.prepare()
    drawn = await writer.draw(IDS)
    while writer._compaction is None:  # until the first fold
        drawn = await writer.draw(IDS)
    await folded(writer)
    loads: list[RedisStore] = []
    original = RedisStore._load

    async def load(store: RedisStore, client: Any) -> None:
        loads.append(store)
        await original(store, client)

    monkeypatch.setattr(RedisStore, "_load", load)

    assert await behind.draw(IDS) == drawn + 1
    assert loads == []


async def folded(store: RedisStore) -> None:
    """Wait for the fold on its way, if any."""
    if store._compaction is not None:
        await store._compaction


class _Hostile:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {self.marker}",)


async def test_a_log_entry_that_is_not_one_of_ours_is_skipped_and_never_run(
    stores: Callable[..., RedisStore], redis_server: RedisServer, tmp_path: Path
) -> None:
    store = stores()
    before = await store.draw(IDS)
    marker = tmp_path / "ran"
    log = f"{store.prefix}:log"
    raw(redis_server).rpush(log, pickle.dumps([("draw", (_Hostile(marker),), {})]), b"not a pickle")
    raw(redis_server).rpush(log, pickle.dumps([("system", ("true",), {}), ("draw", (IDS,), {})]))  # one of ours

    after = await store.draw(IDS)  # the round trip brings the three entries first
    joiner = stores()
    await joiner.prepare()

    assert not marker.exists()
    assert after == before + 2  # only the operation of ours among them drew
    assert await joiner.draw(IDS) == after + 1

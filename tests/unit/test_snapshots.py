"""The snapshot codec (snapshots.py) and the state image (state/image.py, `MemoryStore.export`/`from_image`), driven
through the Store protocol's operations as tests/unit/test_store_protocol.py drives stores.

`populated` builds a state with some of every record a snapshot holds: clients (one patched, one registered at run
time, a mandator admin), users (one with a failed login), deleted users of two mandators, client and user tokens with
their grants, processes, fault rules with counters, journal entries and callbacks with binary bodies, bank data with
an update waiting to land, web forms and tasks, the clock moved and the seeded source's positions.
"""

from __future__ import annotations

import dataclasses
import gc
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from mock_finapi import snapshots
from mock_finapi.clock import ClockMove
from mock_finapi.randomness import FAULTS, IDS, TOKENS
from mock_finapi.scenarios.loader import load_text
from mock_finapi.scenarios.schema import Scenario
from mock_finapi.services import client_config
from mock_finapi.settings import Capacity
from mock_finapi.state.banking import AccountUpdate, NewAccount, TransactionQuery
from mock_finapi.state.image import Assemble, Grant, ImageProblem, StateImage, check
from mock_finapi.state.memory import MemoryStore
from mock_finapi.state.models import Client, DeletedUser, Entry, JournalQuery, User
from mock_finapi.state.protocol import NewProcess, ProcessLimits, Store, TokenPolicy
from mock_finapi.state.webforms import CallbackAttempt
from mock_finapi.world import build_state
from tests.unit.test_store_banking import account, connection, tx, update
from tests.unit.test_store_protocol import rule
from tests.unit.test_store_webforms import form, task

pytestmark = pytest.mark.anyio

SEED = 20
REAL = 1_000.0
T0 = 1_767_254_400.0
"""2026-01-01 09:00 +01:00: the scenario's start, where its clock stands."""
SCENARIO = """
name: snapshot-unit
seed: 20
clock: {start: "2026-01-01T09:00:00+01:00", frozen: true}
clients:
  - {client_id: app, client_secret: app-secret, mandator_id: m1, config: {maxUserLoginAttempts: 3}}
  - {client_id: admin, client_secret: admin-secret, mandator_id: m1, role: mandator_admin}
  - {client_id: other, client_secret: other-secret, mandator_id: m2}
users:
  - {id: Alice, password: alice-password}
  - {id: bob, password: bob-password}
  - {id: dave, password: dave-password}
  - {id: erin, password: erin-password}
  - {id: carol, password: carol-password, mandator_id: m2}
"""
POLICY = TokenPolicy()
NO_REUSE = TokenPolicy(reuse=False)
LIMITS = ProcessLimits(max_exchanges=3)
BINARY = bytes(range(256))
"""A body no text encoding survives: only base64 does."""
NEWCOMER = Client("newcomer", "newcomer-secret", "app", "m3", client_config.default_config(mandator_admin=False), True)


def journal_entry(request_id: str, body: bytes | None = BINARY) -> Entry:
    return Entry(
        T0, 0.002, "POST", "/api/v2/users", b"a=1&b=%00", 201, request_id, "app", "m1", None, b"Bearer abc",
        b"application/octet-stream", body, body is not None,
    )  # fmt: skip


def callback(number: int) -> CallbackAttempt:
    return CallbackAttempt(
        T0 + number, "webForm.finalised", "https://example.com/cb", BINARY, None, "refused", 0.5, "m1"
    )


def scenario() -> Scenario:
    return load_text(SCENARIO, "/a/folder/snapshot-unit.yaml")


async def populated(journal_size: int = 100) -> MemoryStore:
    store = build_state(scenario(), SEED, REAL, journal_size=journal_size)
    await store.move_clock(ClockMove(advance=60), REAL)
    now = T0 + 60
    await store.issue_client_token("app", now, POLICY)
    alice = await store.login("app", "alice", "alice-password", now, POLICY)
    assert alice.refresh is not None
    assert await store.refresh("app", alice.refresh.value, now, POLICY) is not None
    await store.login("app", "bob", "bob-password", now, POLICY)
    await store.login("app", "bob", "wrong", now, POLICY)
    await store.register_client(NEWCOMER)
    await store.issue_client_token("newcomer", now, POLICY)
    await store.update_client_config("app", {"userAccessTokensValidityPeriod": 1800})
    await store.delete_user("m1", "dave", now)
    await store.delete_user("m2", "carol", now + 1)
    await store.delete_user("m1", "erin", now + 2)
    first, second = await store.create_processes(
        "app", [NewProcess("first", "USER_ONLY"), NewProcess("second", "USER_ONLY")], now, LIMITS
    )
    await store.exchange_process(first.token, False, now, LIMITS, POLICY)
    await store.exchange_process(second.token, True, now, LIMITS, POLICY)
    await store.add_fault(rule("twice", after=1, times=2))
    await store.add_fault(rule("coin", probability=0.5))
    for _ in range(3):
        await store.fire_fault(["twice", "coin"])
    await store.record(journal_entry("r1"))
    await store.record(journal_entry("r2", None))
    await store.record_callback(callback(1))
    added = await store.add_connection(
        "m1", "alice", connection(), [NewAccount(account(), (tx(1000), tx(-250, "2025-12-02")))], now
    )
    assert added is not None
    change = AccountUpdate(added.account_ids[0], 1500, "UPDATED", (tx(500, "2025-12-30"),))
    assert await store.schedule_updates("m1", "alice", [update(added.id, change)], now + 5, now) == "ok"
    await store.create_web_form(form("form-opened", created_at=now))
    await store.open_web_form("form-opened", now)
    await store.create_web_form(form("form-outcome", created_at=now, outcome_at=now + 300))
    bobs = await store.add_connection("m1", "bob", connection(), [NewAccount(account())], now)
    assert bobs is not None
    made = task("task-1", bobs.id, "bob", created_at=now, starts_at=now + 30, ends_at=now + 40)
    assert await store.create_task(made, now) == "ok"
    return store


def document(store_scenario: Scenario, assemble: Assemble) -> bytes:
    return b"".join(snapshots.chunks(store_scenario, SEED, assemble))


TAKEN_AT = re.compile(rb'"taken_at":"[^"]*"')


def without_taken_at(data: bytes) -> bytes:
    blanked, count = TAKEN_AT.subn(b'"taken_at":""', data, count=1)
    assert count == 1
    return blanked


# ---------------------------------------------------------------------------------------------------- round trips


async def test_chunks_load_chunks_is_byte_identical_but_taken_at() -> None:
    store = await populated()
    saved = document(scenario(), await store.export(True))
    loaded = snapshots.load(saved)
    again = document(loaded.scenario, await loaded.store.export(True))
    assert without_taken_at(again) == without_taken_at(saved)
    assert (loaded.scenario.name, loaded.scenario.text, loaded.seed) == ("snapshot-unit", SCENARIO, SEED)
    assert orjson.loads(saved)["scenario"]["source"] == "snapshot-unit.yaml"  # the file name, not the folder
    assert len(saved) > 10_000  # a real state was round-tripped, not an empty one


async def _positions(store: Store) -> list[int]:
    return [await store.draw(stream) for stream in (TOKENS, IDS, FAULTS, "banks")]


async def _bank_data(store: Store) -> Any:
    at = T0 + 60
    return (
        await store.connections("m1", "alice", None, at),
        await store.transactions("m1", "alice", TransactionQuery(), at),
        await store.transactions("m1", "alice", TransactionQuery(), at + 10),  # the update lands
        await store.bank_summary(None, at + 10),
    )


async def _grants(store: Store) -> Any:
    """Reuse hands out the current grant's tokens again; revoking a user revokes its grants' tokens."""
    at = T0 + 60
    again = await store.login("app", "alice", "alice-password", at, POLICY)
    await store.lock_user("m1", "alice")
    return again, await store.tokens(at)


async def _webforms(store: Store) -> Any:
    at = T0 + 60
    return (
        await store.web_forms("m1", "alice", False),
        await store.tasks("m1", "bob", False),
        await store.due_web_forms(at + 1200),
        await store.due_tasks(at + 35),
        await store.open_web_form("form-opened", at),
    )


async def _stats(store: Store) -> Any:
    """The sizes (but the expiry index's: the store being copied holds revoked tokens' stale entries, a rebuilt
    one none)."""
    return (await store.stats())._replace(expiry_index=0)


OBSERVED: dict[str, Callable[[Store], Awaitable[Any]]] = {
    "clock": lambda store: store.prepare(),
    "positions": _positions,
    "mandators": lambda store: store.mandators(),
    "clients": lambda store: store.clients(),
    "users": lambda store: store.users(None, T0 + 60),
    "deleted users": lambda store: store.mandator_users("m1", T0 + 60),
    "tokens": lambda store: store.tokens(T0 + 60),
    "grants": _grants,
    "processes": lambda store: store.processes(T0 + 60),
    "faults": lambda store: store.fault_counts(),
    "journal": lambda store: store.journal(JournalQuery()),
    "bank data": _bank_data,
    "web forms and tasks": _webforms,
    "callbacks": lambda store: store.callbacks(),
    "stats": _stats,
}


@pytest.mark.parametrize("observe", OBSERVED.values(), ids=OBSERVED.keys())
async def test_a_store_rebuilt_from_its_export_answers_alike(observe: Callable[[Store], Awaitable[Any]]) -> None:
    store = await populated()
    rebuilt = MemoryStore.from_image(SEED, (await store.export(True))(), journal_size=100)
    expected = await observe(store)
    assert expected  # something to compare
    assert await observe(rebuilt) == expected


async def test_an_export_leaves_out_what_happens_after_it() -> None:
    store = await populated()
    assemble = await store.export(True)
    await store.issue_client_token("other", T0 + 60, POLICY)
    await store.record(journal_entry("later"))
    image = assemble()
    assert "other" not in {token.client_id for token in image.tokens}
    assert image.journal is not None
    assert [entry.request_id for entry in image.journal] == ["r1", "r2"]
    assert (await store.export(False))().journal is None


async def test_a_smaller_journal_keeps_the_newest_entries() -> None:
    store = await populated()
    for number in range(3, 8):
        await store.record(journal_entry(f"r{number}"))
    saved = document(scenario(), await store.export(True))
    for smaller in (
        MemoryStore.from_image(SEED, (await store.export(True))(), journal_size=3),
        snapshots.load(saved, journal_size=3).store,
    ):
        assert [entry.request_id for entry in await smaller.journal(JournalQuery())] == ["r7", "r6", "r5"]


async def test_deleted_users_keep_their_global_order() -> None:
    """dave (m1), carol (m2), erin (m1) were deleted in that order; the newest deletions are kept over all
    mandators, and the next one forgets the oldest of whichever mandator."""
    store = await populated()
    image = (await store.export(True))()
    assert [(d.mandator_id, d.user_id) for d in image.deleted_users] == [
        ("m1", "dXXe"),
        ("m2", "cXXXl"),
        ("m1", "eXXn"),
    ]

    kept_two = MemoryStore.from_image(SEED, image, capacity=Capacity(deleted_users=2))
    assert [d.user_id for d in (await kept_two.mandator_users("m1", T0)).deleted] == ["eXXn"]
    assert [d.user_id for d in (await kept_two.mandator_users("m2", T0)).deleted] == ["cXXXl"]
    await kept_two.delete_user("m1", "bob", T0 + 100)  # forgets carol's (the oldest kept), not erin's
    assert [d.user_id for d in (await kept_two.mandator_users("m1", T0)).deleted] == ["eXXn", "bXb"]
    assert (await kept_two.mandator_users("m2", T0)).deleted == []


async def test_bytes_fields_survive_as_base64() -> None:
    store = await populated()
    saved = document(scenario(), await store.export(True))
    state = orjson.loads(saved)["state"]
    fields = orjson.loads(saved)["records"]["Entry"]
    assert state["journal"][0][
        fields.index("body")
    ] == "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v" + (
        "MDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+A"
        "gYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR"
        "0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w=="
    )
    loaded = snapshots.load(saved).store
    entries = await loaded.journal(JournalQuery())
    assert [(e.body, e.query_string, e.authorization, e.content_type) for e in entries] == [
        (None, b"a=1&b=%00", b"Bearer abc", b"application/octet-stream"),
        (BINARY, b"a=1&b=%00", b"Bearer abc", b"application/octet-stream"),
    ]
    assert [attempt.body for attempt in await loaded.callbacks()] == [BINARY]


async def test_a_default_configuration_becomes_the_shared_default_again() -> None:
    store = await populated()
    loaded = snapshots.load(document(scenario(), await store.export(True))).store
    clients = {client.client_id: client for client in await loaded.clients()}
    assert clients["newcomer"].config is client_config.default_config(mandator_admin=False)
    assert clients["newcomer"].registered is True
    assert clients["other"].config is client_config.default_config(mandator_admin=False)
    assert clients["admin"].config is client_config.default_config(mandator_admin=True)
    assert clients["app"].config["userAccessTokensValidityPeriod"] == 1800  # patched: its own
    assert clients["app"].config["maxUserLoginAttempts"] == 3


# ---------------------------------------------------------------------------------------------------- image.check


def _table(table: str, rows: list[Any]) -> dict[str, Any]:
    return {table: rows}


def _replaced(image: StateImage, table: str, rows: list[Any]) -> StateImage:
    return dataclasses.replace(image, **_table(table, rows))


def _with(**changes: Any) -> Callable[[StateImage], StateImage]:
    return lambda image: dataclasses.replace(image, **changes)


def _row(table: str, index: int, **changes: Any) -> Callable[[StateImage], StateImage]:
    """The image with one record of a table changed."""

    def change(image: StateImage) -> StateImage:
        rows = list(getattr(image, table))
        rows[index] = rows[index]._replace(**changes)
        return _replaced(image, table, rows)

    return change


def _appended(table: str, index: int, **changes: Any) -> Callable[[StateImage], StateImage]:
    """The image with a copy of one record appended to its table (changed)."""

    def change(image: StateImage) -> StateImage:
        rows = list(getattr(image, table))
        rows.append(rows[index]._replace(**changes))
        return _replaced(image, table, rows)

    return change


def _bank_row(index: int, table: str, row: int, **changes: Any) -> Callable[[StateImage], StateImage]:
    def change(image: StateImage) -> StateImage:
        banks = list(image.banks)
        rows = list(getattr(banks[index], table))
        rows[row] = rows[row]._replace(**changes)
        banks[index] = banks[index]._replace(**_table(table, rows))
        return dataclasses.replace(image, banks=banks)

    return change


def _bank_rows(index: int, table: str, rows: list[Any]) -> Callable[[StateImage], StateImage]:
    def change(image: StateImage) -> StateImage:
        banks = list(image.banks)
        banks[index] = banks[index]._replace(**_table(table, rows))
        return dataclasses.replace(image, banks=banks)

    return change


def _token(image: StateImage, user_id: str | None, refresh: bool = False) -> int:
    return next(i for i, t in enumerate(image.tokens) if t.user_id == user_id and t.is_refresh is refresh)


def _numbered(table: str, index: int, number: int) -> Callable[[StateImage], StateImage]:
    def change(image: StateImage) -> StateImage:
        rows = list(getattr(image, table))
        rows[index] = (number, rows[index][1])
        return _replaced(image, table, rows)

    return change


def _numbered_copy(table: str, index: int, number: int) -> Callable[[StateImage], StateImage]:
    """The image with a copy of a web form or task appended under another creation number."""

    def change(image: StateImage) -> StateImage:
        rows = list(getattr(image, table))
        return _replaced(image, table, [*rows, (number, rows[index][1])])

    return change


def _duplicate_token(image: StateImage) -> StateImage:
    return dataclasses.replace(image, tokens=[*image.tokens, image.tokens[0]], token_grants=[*image.token_grants, None])


def _duplicate_process(image: StateImage) -> StateImage:
    """A process whose token differs from another's in case only (process tokens are case-insensitive)."""
    first = image.processes[0]
    return dataclasses.replace(image, processes=[*image.processes, first._replace(token=first.token.upper())])


def _next_ids(*next_ids: int) -> Callable[[StateImage], StateImage]:
    """The image with other next ids (0: the image's)."""

    def change(image: StateImage) -> StateImage:
        connection, account, transaction = (n or m for n, m in zip(next_ids, image.next_ids, strict=True))
        return dataclasses.replace(image, next_ids=(connection, account, transaction))

    return change


def _refresh_twice(image: StateImage) -> StateImage:
    i = _token(image, "Alice", refresh=True)
    tokens = [*image.tokens, image.tokens[i]._replace(value="another-refresh")]
    return dataclasses.replace(image, tokens=tokens, token_grants=[*image.token_grants, image.token_grants[i]])


def _grant_without_token(image: StateImage) -> StateImage:
    return dataclasses.replace(image, grants=[*image.grants, Grant("app", "m1", "alice", False)])


def _client_token_of_a_user_token(image: StateImage) -> StateImage:
    return dataclasses.replace(image, client_tokens={"app": image.tokens[_token(image, "Alice")].value})


def _user_token_without_grant(image: StateImage) -> StateImage:
    grants = list(image.token_grants)
    grants[_token(image, "Alice")] = None
    return dataclasses.replace(image, token_grants=grants)


def _token_of_a_grant(image: StateImage, user: str, grant: int | None) -> StateImage:
    grants = list(image.token_grants)
    grants[_token(image, user)] = grant
    return dataclasses.replace(image, token_grants=grants)


def _second_current_grant(image: StateImage) -> StateImage:
    grant = image.grants[image.token_grants[_token(image, "Alice")] or 0]
    tokens = [*image.tokens, image.tokens[_token(image, "Alice")]._replace(value="another-access")]
    return dataclasses.replace(
        image, grants=[*image.grants, grant], tokens=tokens, token_grants=[*image.token_grants, len(image.grants)]
    )


# (name, change, where, problem); positions as `populated` makes them: tokens app's client token, alice's refresh
# and access token (grant 0), bob's access and refresh (grant 1), newcomer's client token; the first process's
# hidden user's token (grant 2).
PROBLEMS: list[tuple[str, Callable[[StateImage], StateImage], str, str]] = [
    ("duplicate client", _appended("clients", 0), "clients[4]", "'app' appears twice"),
    ("registered admin", _row("clients", 1, registered=True), "clients[1]", "a registered client is an app client"),
    ("duplicate user", _appended("users", 0, id="ALICE"), "users[4]", "'ALICE' appears twice"),
    ("tokens without grants", _with(token_grants=[]), "tokens", "each token needs its grant (null for a client token)"),
    ("duplicate token", _duplicate_token, "tokens[8]", "'aaf0…' appears twice"),
    ("grant of an unknown client", _row("grants", 0, client_id="nobody"), "grants[0]", "unknown client 'nobody'"),
    ("grant of an unknown user", _row("grants", 0, user_key="zed"), "grants[0]", "unknown user 'zed' of mandator 'm1'"),
    ("two current grants", _second_current_grant, "grants[4]", "a client has one current grant per user"),
    (
        "token of an unknown client",
        _row("tokens", 0, client_id="x"),
        "tokens[0]",
        "unknown client 'x' of mandator 'm1'",
    ),
    (
        "token of another mandator",
        _row("tokens", 0, mandator_id="m2"),
        "tokens[0]",
        "unknown client 'app' of mandator 'm2'",
    ),
    ("user token without grant", _user_token_without_grant, "tokens[2]", "a user token needs its grant"),
    ("no such grant", lambda image: _token_of_a_grant(image, "Alice", 9), "tokens[2]", "no grant 9"),
    (
        "another user's grant",
        lambda image: _token_of_a_grant(image, "Alice", 1),
        "tokens[2]",
        "is not of grant 1's client and user",
    ),
    ("two refresh tokens", _refresh_twice, "tokens[8]", "grant 0 has one refresh token"),
    ("grant without token", _grant_without_token, "grants[4]", "has no token"),
    ("client token", _client_token_of_a_user_token, "client_tokens.app", "is not a client token of that client"),
    ("duplicate process", _duplicate_process, "processes[2]", "'E5248296-DE29-42A2-9D20-7AB18B97F536' appears twice"),
    ("process of an unknown client", _row("processes", 1, client_id="x"), "processes[1]", "unknown client 'x'"),
    ("duplicate fault", _appended("faults", 1), "faults[2]", "'coin' appears twice"),
    ("bank of an unknown user", _row("banks", 0, user_key="zed"), "banks[0]", "unknown user 'zed' of mandator 'm1'"),
    ("duplicate bank", _appended("banks", 0), "banks[2]", "'alice' appears twice"),
    (
        "connection id twice",
        _bank_row(1, "connections", 0, id=1_000_001),
        "banks[1].connections[0]",
        "'1000001' appears twice",
    ),
    (
        "another user's connection",
        _bank_row(0, "connections", 0, user_key="bob"),
        "banks[0].connections",
        "connection 1000001 is another user's",
    ),
    (
        "connection id too high",
        _next_ids(1_000_001, 0, 0),
        "banks[0].connections",
        "connection 1000001 is not below the next id",
    ),
    (
        "account id too high",
        _next_ids(0, 2_000_001, 0),
        "banks[0].accounts",
        "account 2000001 is not in its connection",
    ),
    (
        "account of no connection",
        _bank_row(0, "accounts", 0, connection_id=7),
        "banks[0].accounts",
        "account 2000001 is not in its connection",
    ),
    (
        "account not named",
        _bank_row(0, "connections", 0, account_ids=()),
        "banks[0].accounts",
        "account 2000001 is not in its connection",
    ),
    ("account missing", _bank_rows(0, "accounts", []), "banks[0].connections", "name accounts the user does not have"),
    (
        "transaction of no account",
        _bank_row(0, "transactions", 1, account_id=7),
        "banks[0].transactions",
        "transaction 10000002 is not in its account",
    ),
    (
        "transaction id too high",
        _next_ids(0, 0, 10_000_002),
        "banks[0].transactions",
        "transaction 10000002 is not in its account",
    ),
    (
        "update of no connection",
        _bank_row(0, "pending", 0, connection_id=7),
        "banks[0].pending",
        "an update of connection 7 is not its",
    ),
    ("duplicate web form", _numbered_copy("web_forms", 0, 7), "web_forms[2]", "'form-opened' appears twice"),
    ("duplicate task", _numbered_copy("tasks", 0, 7), "tasks[1]", "'task-1' appears twice"),
    ("creation number twice", _numbered("tasks", 0, 1), "tasks[0]", "'creation number 1' appears twice"),
    ("next number too low", _with(next_number=2), "next_number", "is below a creation number in use"),
]
PROBLEM_IDS = [name for name, *_ in PROBLEMS]


@pytest.fixture
async def image() -> StateImage:
    return (await (await populated()).export(True))()


async def test_the_problems_start_from_a_sound_image(image: StateImage) -> None:
    check(image)
    assert [
        (t.client_id, t.user_id, t.is_refresh, g) for t, g in zip(image.tokens, image.token_grants, strict=True)
    ] == [
        ("app", None, False, None),
        ("app", "Alice", True, 0),
        ("app", "Alice", False, 0),
        ("app", "bob", False, 1),
        ("app", "bob", True, 1),
        ("newcomer", None, False, None),
        ("app", image.processes[0].user_id, False, 2),
        ("app", image.processes[1].user_id, False, 3),
    ]
    assert [user.id for user in image.users][:2] == ["Alice", "bob"]
    assert len(image.users) == 4  # and the processes' hidden users
    assert [(bank.user_key, len(bank.connections)) for bank in image.banks] == [("alice", 1), ("bob", 1)]
    assert ([n for n, _ in image.web_forms], [n for n, _ in image.tasks], image.next_number) == ([1, 2], [3], 3)


@pytest.mark.parametrize(("change", "where", "problem"), [p[1:] for p in PROBLEMS], ids=PROBLEM_IDS)
async def test_check_names_where_an_image_does_not_hold_together(
    image: StateImage, change: Callable[[StateImage], StateImage], where: str, problem: str
) -> None:
    with pytest.raises(ImageProblem) as raised:
        check(change(image))
    assert (raised.value.where, raised.value.problem) == (where, problem)
    with pytest.raises(ImageProblem):  # a store is never built from it
        MemoryStore.from_image(SEED, change(image))


async def test_load_names_the_documents_path_of_an_image_problem() -> None:
    saved = orjson.loads(document(scenario(), await (await populated()).export(True)))
    fields = saved["records"]["Transaction"]
    saved["state"]["bank"]["users"][0]["transactions"][1][fields.index("account_id")] = 7
    with pytest.raises(snapshots.SnapshotError) as raised:
        snapshots.load(orjson.dumps(saved))
    assert str(raised.value) == "state.bank.users[0].transactions: transaction 10000002 is not in its account"


# ---------------------------------------------------------------------------------------------------- reading


def _dumped(change: Callable[[dict[str, Any]], None]) -> Callable[[bytes], bytes]:
    def changed(data: bytes) -> bytes:
        loaded = orjson.loads(data)
        change(loaded)
        return orjson.dumps(loaded)

    return changed


def _set_state(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["state"].__setitem__(key, value)


def _form_field(d: dict[str, Any]) -> None:
    d["state"]["web_forms"][0][1][8][0] = "280001"  # request.bank_id


def _grant_column(d: dict[str, Any]) -> None:
    d["state"]["tokens"][1][-1] = -1


def _layout(d: dict[str, Any]) -> None:
    d["records"]["Token"] = d["records"]["Token"][:-1]


def _status(d: dict[str, Any]) -> None:
    d["state"]["web_forms"][0][1][5] = "DONE"


def _body(d: dict[str, Any]) -> None:
    d["state"]["journal"][0][12] = "not base64!"


def _transaction_field(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(d: dict[str, Any]) -> None:
        d["state"]["bank"]["users"][0]["transactions"][0][d["records"]["Transaction"].index(name)] = value

    return change


def _language(d: dict[str, Any]) -> None:
    d["state"]["web_forms"][0][1][d["records"]["WebForm"].index("page")][-1] = "fr"


def _bank(d: dict[str, Any]) -> None:
    d["state"]["bank"]["users"][0]["connections"][0][d["records"]["Connection"].index("bank_id")] = 999


READER_PROBLEMS = [
    ("nested record", _form_field, "state.web_forms[0][1].request.bank_id: must be a whole number or null"),
    ("grant column", _grant_column, "state.tokens[1].grant: must be a grant's position or null"),
    ("positions", _set_state("positions", {"tokens": -1}), "state.positions.tokens: must be a whole number >= 0"),
    ("literal", _status, "state.web_forms[0][1].status: must be one of NOT_YET_OPENED, IN_PROGRESS, COMPLETED, "),
    ("base64", _body, "state.journal[0].body: must be a base64 string"),
    ("next ids", lambda d: d["state"]["bank"].__setitem__("next_ids", [1, 2]), "state.bank.next_ids: must be an "),
    ("table", _set_state("users", {}), "state.users: missing, or not an array"),
    ("layout", _layout, "records.Token: the fields must be ['value', 'client_id', 'mandator_id', 'user_id', "),
    (
        "date",
        _transaction_field("bank_booking_date", "2026-02-30"),
        "state.bank.users[0].transactions[0].bank_booking_date: must be a date YYYY-MM-DD",
    ),
    (
        "date text",
        _transaction_field("value_date", "yesterday"),
        "state.bank.users[0].transactions[0].value_date: must be a date YYYY-MM-DD",
    ),
    ("page language", _language, "state.web_forms[0][1].page.language: must be one of en, de"),
    (
        "unknown bank",
        _bank,
        "state.bank.users[0].connections[0].bank_id: bank 999 is not one of the scenario's banks",
    ),
]


@pytest.mark.parametrize(("change", "problem"), [p[1:] for p in READER_PROBLEMS], ids=[p[0] for p in READER_PROBLEMS])
async def test_load_names_where_a_value_is_wrong(change: Callable[[dict[str, Any]], None], problem: str) -> None:
    saved = document(scenario(), await (await populated()).export(True))
    with pytest.raises(snapshots.SnapshotError) as raised:
        snapshots.load(_dumped(change)(saved))
    assert str(raised.value).startswith(problem), str(raised.value)


# ---------------------------------------------------------------------------------------------------- writing


def _pieces_of(pieces: list[bytes], table: str) -> list[int]:
    """The rows in each piece of a table's array (the pieces between its `[` and `]`)."""
    start = pieces.index(f',"{table}":'.encode())
    assert pieces[start + 1] == b"["
    end = pieces.index(b"]", start)
    return [len(orjson.loads(b"[" + piece.removeprefix(b",") + b"]")) for piece in pieces[start + 2 : end]]


async def test_pieces_hold_at_most_rows_per_chunk_records() -> None:
    rows = 2 * snapshots.ROWS_PER_CHUNK + 1
    store = await populated(journal_size=rows)
    for number in range(rows):
        await store.record(journal_entry(f"many-{number}", None))
        await store.issue_client_token("other", T0 + 60, NO_REUSE)
    pieces = list(snapshots.chunks(scenario(), SEED, await store.export(True)))
    assert _pieces_of(pieces, "journal") == [snapshots.ROWS_PER_CHUNK, snapshots.ROWS_PER_CHUNK, 1]
    tokens = rows + 8
    assert _pieces_of(pieces, "tokens") == [snapshots.ROWS_PER_CHUNK, snapshots.ROWS_PER_CHUNK, tokens - 4000]
    assert snapshots.load(b"".join(pieces)).store is not None


async def test_the_image_is_assembled_when_the_pieces_are_made_not_before() -> None:
    calls: list[str] = []
    assemble = await (await populated()).export(True)

    def counted(rest: Callable[[], None] = lambda: None) -> StateImage:
        calls.append("assemble")
        return assemble(rest)

    pieces = snapshots.chunks(scenario(), SEED, counted)
    assert calls == []
    assert next(pieces).startswith(b'{"kind":"mock-finapi snapshot","format":1,')
    assert calls == ["assemble"]


def _failing(after: int) -> Iterator[bytes]:
    yield b'{"kind":'
    if after:
        raise OSError("disk full")
    yield b"}"  # pragma: no cover


def test_write_file_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(b"old")
    assert snapshots.write_file(path, iter([b"new ", b"document"])) == 12
    assert path.read_bytes() == b"new document"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_write_file_that_fails_leaves_the_old_file_and_no_partial_one(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(b"old")
    with pytest.raises(OSError, match="disk full"):
        snapshots.write_file(path, _failing(1))
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


async def test_read_file_reads_what_write_file_wrote(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    store = await populated()
    snapshots.write_file(path, snapshots.chunks(scenario(), SEED, await store.export(True)))
    loaded = snapshots.read_file(path, journal_size=1)
    assert [entry.request_id for entry in await loaded.store.journal(JournalQuery())] == ["r2"]
    with pytest.raises(snapshots.SnapshotError, match=r"^cannot read .*missing\.json: No such file or directory$"):
        snapshots.read_file(tmp_path / "missing.json")


def test_records_name_every_field_in_order() -> None:
    assert snapshots.LAYOUTS["User"] == list(User._fields)
    assert snapshots.LAYOUTS["DeletedUser"] == list(DeletedUser._fields)
    assert snapshots.LAYOUTS["Token"][-1] == "grant"
    assert {"ImportRequest", "PageState", "TaskRequest", "ConnectionInterface", "AccountUpdate"} <= set(
        snapshots.LAYOUTS
    )


async def test_the_cycle_collector_rests_while_the_pieces_are_made_and_works_again_after() -> None:
    assert gc.isenabled()
    pieces = snapshots.chunks(scenario(), SEED, await (await populated()).export(True), paced=False)
    next(pieces)
    assert not gc.isenabled()
    list(pieces)
    assert gc.isenabled()
    abandoned = snapshots.chunks(scenario(), SEED, await (await populated()).export(True))
    next(abandoned)
    del abandoned  # a client that went away mid-download: the generator is dropped
    assert gc.isenabled()

"""The admin API's state views and instant edge cases without HTTP (services/views.py): masked, and acting on the
store."""

from __future__ import annotations

import pytest

from mock_finapi import errors
from mock_finapi.services import views
from mock_finapi.state.protocol import NewProcess, ProcessLimits, TokenPolicy
from tests.unit.support import make_world, now_of

pytestmark = pytest.mark.anyio

SCENARIO = """\
name: views
seed: 5
clock: {start: "2026-01-01T09:00:00+01:00", frozen: true}
clients:
  - {client_id: app, client_secret: app-secret, mandator_id: m1, config: {clientAccessTokensValidityPeriod: 600}}
  - {client_id: other, client_secret: other-secret, mandator_id: m2}
users:
  - {id: Alice, password: alice-password, email: alice@localhost.de, mandator_id: m1}
  - {id: alice, password: other-password, mandator_id: m2}
"""


async def test_users_lists_every_user_masked_with_its_state() -> None:
    world = make_world(SCENARIO)
    now = await now_of(world)
    await world.store.create_processes("app", [NewProcess("ref", "USER_ONLY")], now, ProcessLimits())
    listed = await views.users(world.store, "m1", now)
    assert listed[0] == {
        "mandatorId": "m1",
        "id": "Alice",
        "email": "alice@localhost.de",
        "phone": None,
        "isAutoUpdateEnabled": False,
        "verified": True,
        "locked": False,
        "failedLogins": 0,
        "processUser": False,
    }
    assert [(u["id"] != "Alice", u["processUser"]) for u in listed] == [(False, False), (True, True)]
    assert "password" not in str(listed)
    assert [u["mandatorId"] for u in await views.users(world.store, None, now)] == ["m1", "m1", "m2"]
    assert await views.users(world.store, "nobody", now) == []


async def test_tokens_show_the_first_characters_and_the_seconds_left() -> None:
    world = make_world(SCENARIO)
    now = await now_of(world)
    token = await world.store.issue_client_token("app", now, TokenPolicy())
    assert await views.tokens(world.store, now + 100) == [
        {
            "token": token.value[:4] + "…",
            "type": "access",
            "clientId": "app",
            "mandatorId": "m1",
            "userId": None,
            "expiresIn": 499,  # as the token endpoint counts it
        }
    ]
    assert await views.tokens(world.store, now + 600) == []


async def test_processes_show_masked_tokens_and_exchanges() -> None:
    world = make_world(SCENARIO)
    now = await now_of(world)
    [process] = await world.store.create_processes("app", [NewProcess("ref", "USER_ONLY")], now, ProcessLimits())
    await world.store.exchange_process(process.token, False, now, ProcessLimits(), TokenPolicy())
    assert await views.processes(world.store, now) == [
        {
            "processToken": process.token[:4] + "…",
            "clientReference": "ref",
            "processId": "USER_ONLY",
            "clientId": "app",
            "mandatorId": "m1",
            "userId": process.user_id,
            "exchanges": 1,
            "invalidated": False,
        }
    ]


async def test_expire_token_answers_it_masked_and_the_token_is_gone() -> None:
    world = make_world(SCENARIO)
    now = await now_of(world)
    token = await world.store.issue_client_token("app", now, TokenPolicy())
    assert await views.expire_token(world.store, token.value, now) == token.value[:4] + "…"
    assert await world.store.resolve(token.value, now) is None
    with pytest.raises(errors.UnknownEntity, match="No live token"):
        await views.expire_token(world.store, token.value, now)


async def test_lock_user_finds_the_user_case_insensitively_and_needs_the_mandator_when_ambiguous() -> None:
    world = make_world(SCENARIO)
    now = await now_of(world)
    with pytest.raises(errors.BadRequest, match="several mandators"):
        await views.lock_user(world.store, "ALICE", None, now)
    assert await views.lock_user(world.store, "ALICE", "m1", now) == ("Alice", "m1")
    locked = await world.store.user("m1", "alice", now)
    assert locked is not None
    assert locked.locked
    other = await world.store.user("m2", "alice", now)
    assert other is not None
    assert not other.locked
    with pytest.raises(errors.UnknownEntity):
        await views.lock_user(world.store, "nobody", None, now)

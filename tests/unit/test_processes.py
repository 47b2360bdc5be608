"""ProcessService on a World without HTTP: exchange limits, validity and user retention on the virtual clock,
custom limits, seeded processes and the validation of a scenario's `processes:` block."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from mock_finapi import errors
from mock_finapi.errors import ScenarioError
from mock_finapi.scenarios.loader import load_text
from mock_finapi.services.processes import DAY
from mock_finapi.state.models import Process, User
from mock_finapi.state.protocol import ProcessLimits
from mock_finapi.world import World
from tests.helpers import START
from tests.unit.support import advance, make_world, now_of

pytestmark = pytest.mark.anyio

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
HOUR = 3600
T0 = START.timestamp()
# `app` issues user tokens that never expire, so retention (not token expiry) is what ends them.
CLIENTS = """
clients:
  - {client_id: app, client_secret: app-secret, mandator_id: m1, config: {userAccessTokensValidityPeriod: 0}}
  - {client_id: short, client_secret: short-secret, mandator_id: m2, config: {userAccessTokensValidityPeriod: 120}}
  - {client_id: admin, client_secret: admin-secret, mandator_id: m1, role: mandator_admin}
"""
SCENARIO = f"""
name: unit-processes
seed: 5
clock: {{start: "2026-01-01T09:00:00+01:00", frozen: true}}
{CLIENTS}
"""
FRESH = "3f1c6a52-8d0e-4b7a-9c1d-2e5f6a7b8c9d"
LAST = "9b2d4e6f-1a3c-4e5f-8a7b-0c1d2e3f4a5b"
INVALIDATED = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
SEEDED = f"""{SCENARIO}
processes:
  seeded:
    - {{process_token: {FRESH}, client: app, client_reference: customer-fresh}}
    - {{process_token: {LAST}, client: short, exchanges: 9}}
    - {{process_token: {INVALIDATED}, client: app, client_reference: gone, invalidated: true}}
"""
SECRETS = {"app": "app-secret", "short": "short-secret", "admin": "admin-secret"}


@pytest.fixture
def world() -> World:
    return make_world(SCENARIO)


def body(*references: str, client_id: str = "app", **extra: Any) -> dict[str, Any]:
    return {
        "clientId": client_id,
        "clientSecret": SECRETS[client_id],
        "clientReferences": [{"clientReference": r} for r in references],
        "processId": "USER_ONLY",
        **extra,
    }


async def create(world: World, client_id: str = "app", reference: str = "ref") -> Process:
    """One process of the client, created now."""
    [process] = await world.processes.create_many(body(reference, client_id=client_id), await now_of(world))
    return process


async def exchange(world: World, token: str, invalidate: bool = False) -> str:
    return await world.processes.exchange(token, invalidate, await now_of(world))


async def stored(world: World, token: str) -> Process:
    """The process as the store holds it now (records never change: a new version replaces them)."""
    found = [p for p in await world.store.processes(await now_of(world)) if p.token.lower() == token.lower()]
    assert len(found) == 1
    return found[0]


async def hidden_user(world: World, process: Process) -> User | None:
    return await world.store.user(process.mandator_id, process.user_id, await now_of(world))


async def refused(world: World, token: str, invalidate: bool = False) -> errors.ApiError:
    with pytest.raises(errors.ApiError) as caught:
        await exchange(world, token, invalidate)
    return caught.value


async def assert_gone_410(world: World, token: str, message: str) -> None:
    error = await refused(world, token)
    assert (type(error), error.http_status, error.code, error.message) == (
        errors.IllegalEntityState,
        410,
        "ILLEGAL_ENTITY_STATE",
        message,
    )


async def hidden_user_alive(world: World, process: Process, access_token: str) -> bool:
    """Whether the hidden user and its access token still exist (resolving first, as a request would)."""
    try:
        bearer = await world.tokens.resolve(access_token, await now_of(world))
    except errors.InvalidToken:
        assert await hidden_user(world, process) is None
        return False
    user = await hidden_user(world, process)
    assert user is not None
    assert bearer.user == user
    return True


async def user_of_token(world: World, token: str) -> User | None:
    return (await world.tokens.resolve(token, await now_of(world))).user


# the exchange count
async def test_ten_exchanges_succeed_and_the_eleventh_is_410_naming_the_limit(world: World) -> None:
    process = await create(world)
    tokens = [await exchange(world, process.token) for _ in range(10)]
    assert len(set(tokens)) == 10
    user = await hidden_user(world, process)
    assert [await user_of_token(world, t) for t in tokens] == [user] * 10
    await assert_gone_410(world, process.token, "The process token was already exchanged 10 times")
    assert (await stored(world, process.token)).exchanges == 10


async def test_a_refused_exchange_does_not_count(world: World) -> None:
    process = await create(world)
    await exchange(world, process.token, invalidate=True)
    await refused(world, process.token)
    await refused(world, process.token)
    assert (await stored(world, process.token)).exchanges == 1


async def test_invalidate_true_makes_that_exchange_the_last(world: World) -> None:
    process = await create(world)
    await exchange(world, process.token)
    token = await exchange(world, process.token, invalidate=True)
    assert await user_of_token(world, token) == await hidden_user(world, process)  # the invalidating one answers
    await assert_gone_410(world, process.token, "The process token was invalidated by an earlier exchange")
    await assert_gone_410(world, process.token, "The process token was invalidated by an earlier exchange")


async def test_invalidate_defaults_to_false(world: World) -> None:
    process = await create(world)
    await exchange(world, process.token)
    await exchange(world, process.token, invalidate=False)
    await exchange(world, process.token)
    found = await stored(world, process.token)
    assert (found.exchanges, found.invalidated) == (3, False)


async def test_an_invalidated_process_that_is_also_over_its_validity_says_invalidated(world: World) -> None:
    process = await create(world)
    await exchange(world, process.token, invalidate=True)
    await advance(world, 8 * DAY)
    await assert_gone_410(world, process.token, "The process token was invalidated by an earlier exchange")


# the validity window
async def test_exchange_just_before_the_7_days_end_succeeds(world: World) -> None:
    process = await create(world)
    await advance(world, 7 * DAY - 0.001)
    assert await user_of_token(world, await exchange(world, process.token)) == await hidden_user(world, process)


@pytest.mark.parametrize("after", [0, 1, 30 * DAY], ids=["at-7-days", "a-second-later", "a-month-later"])
async def test_exchange_at_or_after_the_7_days_end_is_410_expired(world: World, after: float) -> None:
    process = await create(world)
    await advance(world, 7 * DAY + after)
    await assert_gone_410(world, process.token, "The process token expired 7 days after its creation")
    assert (await stored(world, process.token)).exchanges == 0


async def test_validity_counts_from_creation_not_from_the_last_exchange(world: World) -> None:
    await advance(world, DAY)
    process = await create(world)
    await advance(world, 6 * DAY)
    await exchange(world, process.token)
    await advance(world, DAY - 1)
    await exchange(world, process.token)
    await advance(world, 1)
    await assert_gone_410(world, process.token, "The process token expired 7 days after its creation")


# unknown tokens
@pytest.mark.parametrize("token", ["00000000-0000-4000-8000-000000000000", "not-a-token", "", "x" * 300])
async def test_unknown_or_malformed_token_is_404_unknown_entity(world: World, token: str) -> None:
    await create(world)
    error = await refused(world, token)
    assert (type(error), error.http_status, error.code) == (errors.UnknownEntity, 404, "UNKNOWN_ENTITY")
    assert error.message == f"No process with token '{token}'"


async def test_process_tokens_are_case_insensitive(world: World) -> None:
    process = await create(world)
    await exchange(world, process.token.upper())
    assert (await stored(world, process.token)).exchanges == 1


async def test_exchange_after_the_hidden_user_deleted_itself_is_410(world: World) -> None:
    process = await create(world)
    await exchange(world, process.token)
    user = await hidden_user(world, process)
    assert user is not None
    await world.users.delete(user, await now_of(world))
    await assert_gone_410(world, process.token, "The process's user was deleted")


async def test_exchange_is_refused_when_a_new_user_took_the_hidden_users_id(world: World) -> None:
    process = await create(world)
    user = await hidden_user(world, process)
    assert user is not None
    await world.users.delete(user, await now_of(world))
    client = await world.store.client("app")
    assert client is not None
    await world.users.create(client, {"id": process.user_id, "password": "taken-over"}, await now_of(world))
    await assert_gone_410(world, process.token, "The process's user was deleted")
    assert [t for t in await world.store.tokens(await now_of(world)) if t.user_id == process.user_id] == []


# retention: the hidden user and its tokens go `user_retention_days` after the process ends
Ending = Callable[[World, Process], Awaitable[tuple[str, float]]]


async def end_by_invalidation(world: World, process: Process) -> tuple[str, float]:
    await advance(world, HOUR)
    return await exchange(world, process.token, invalidate=True), await now_of(world)


async def end_by_exhaustion(world: World, process: Process) -> tuple[str, float]:
    first = await exchange(world, process.token)
    await advance(world, 2 * DAY)
    for _ in range(9):
        await exchange(world, process.token)
    return first, await now_of(world)


async def end_by_validity(world: World, process: Process) -> tuple[str, float]:
    await advance(world, 6 * DAY)
    return await exchange(world, process.token), process.created_at + 7 * DAY


ENDINGS = pytest.mark.parametrize(
    "end", [end_by_invalidation, end_by_exhaustion, end_by_validity], ids=["invalidated", "exhausted", "validity"]
)


@ENDINGS
async def test_hidden_user_and_tokens_live_until_retention_after_the_end(world: World, end: Ending) -> None:
    process = await create(world)
    token, ended = await end(world, process)
    await advance(world, ended + 3 * DAY - 1 - await now_of(world))
    assert await hidden_user_alive(world, process, token)


@ENDINGS
async def test_hidden_user_and_tokens_are_deleted_3_days_after_the_end(world: World, end: Ending) -> None:
    process = await create(world)
    token, ended = await end(world, process)
    await advance(world, ended + 3 * DAY - await now_of(world))
    with pytest.raises(errors.InvalidToken):
        await world.tokens.resolve(token, await now_of(world))
    assert await hidden_user(world, process) is None


@ENDINGS
async def test_after_retention_the_process_still_answers_410_not_404(world: World, end: Ending) -> None:
    process = await create(world)
    await end(world, process)
    await advance(world, 30 * DAY)
    error = await refused(world, process.token)
    assert (error.http_status, error.code) == (410, "ILLEGAL_ENTITY_STATE")


async def test_retention_of_a_never_exchanged_process_counts_from_its_validity_end(world: World) -> None:
    process = await create(world)
    user = await hidden_user(world, process)
    now = await advance(world, 10 * DAY - 1)
    await world.store.purge_expired(now, 100)
    assert await world.store.user("m1", process.user_id, now) == user
    now = await advance(world, 1)
    assert await world.store.purge_expired(now, 100) == 1
    assert [u.id for u in await world.store.users("m1", now)] == []


async def test_retention_deletes_only_the_hidden_user_of_that_process(world: World) -> None:
    ended, running = await create(world, reference="ended"), await create(world, reference="running")
    ended_token, _ = await end_by_invalidation(world, ended)
    running_token = await exchange(world, running.token)
    await advance(world, 3 * DAY)
    assert not await hidden_user_alive(world, ended, ended_token)
    assert await hidden_user_alive(world, running, running_token)


# custom limits
CUSTOM = f"""{SCENARIO}
processes:
  max_exchanges: 2
  validity_days: 0.5
  user_retention_days: 1
  allowed_process_ids: [USER_ONLY, KYC]
  redirect_url: "https://shop.example/back"
"""


async def test_scenario_limits_replace_the_defaults() -> None:
    world = make_world(CUSTOM)
    assert world.processes.limits == ProcessLimits(2, 0.5, 1, ("USER_ONLY", "KYC"), "https://shop.example/back")
    process = await create(world)
    await exchange(world, process.token)
    token = await exchange(world, process.token)
    await assert_gone_410(world, process.token, "The process token was already exchanged 2 times")
    await advance(world, DAY - 1)
    assert await hidden_user_alive(world, process, token)
    await advance(world, 1)
    assert not await hidden_user_alive(world, process, token)


async def test_fractional_validity_days_expire_on_the_second() -> None:
    world = make_world(CUSTOM)
    process = await create(world)
    await advance(world, 12 * HOUR - 1)
    await exchange(world, process.token)
    await advance(world, 1)
    await assert_gone_410(world, process.token, "The process token expired 0.5 days after its creation")


async def test_allowed_process_ids_come_from_the_scenario() -> None:
    world = make_world(CUSTOM)
    [made] = await world.processes.create_many(body("r", processId="KYC"), T0)
    assert made.process_id == "KYC"
    with pytest.raises(errors.IllegalFieldValue, match=r"^Unsupported processId 'OTHER' \(allowed: USER_ONLY, KYC\)$"):
        await world.processes.create_many(body("r", processId="OTHER"), T0)


async def test_by_default_only_user_only_is_allowed(world: World) -> None:
    with pytest.raises(errors.IllegalFieldValue, match=r"^Unsupported processId 'KYC' \(allowed: USER_ONLY\)$"):
        await world.processes.create_many(body("r", processId="KYC"), T0)


# the hidden user
async def test_hidden_user_is_verified_in_the_clients_mandator_with_generated_credentials(world: World) -> None:
    first, second = await create(world, "short"), await create(world, "short")
    users = []
    for process in (first, second):
        user = await hidden_user(world, process)
        assert user is not None
        assert (user.mandator_id, user.verified, user.locked, user.process_user) == ("m2", True, False, True)
        assert UUID.fullmatch(user.id)
        assert user.id == process.user_id
        assert re.fullmatch(r"[A-Za-z0-9]{16}", user.password)
        assert await world.store.user("m1", user.id, T0) is None
        users.append(user)
    assert (users[0].id, users[0].password) != (users[1].id, users[1].password)


async def test_hidden_user_tokens_live_for_the_clients_user_token_validity(world: World) -> None:
    process = await create(world, "short")
    token = await exchange(world, process.token)
    found = await world.tokens.resolve(token, T0)
    assert (found.client.client_id, found.token.is_refresh, found.token.user_id) == ("short", False, process.user_id)
    assert found.token.expires_in(T0) == 119
    now = await advance(world, 119)
    await world.tokens.resolve(token, now)
    now = await advance(world, 1)
    with pytest.raises(errors.InvalidToken):
        await world.tokens.resolve(token, now)


async def test_an_exchange_hands_out_no_refresh_token(world: World) -> None:
    process = await create(world, "short")
    token = await exchange(world, process.token)
    assert [(t.value, t.is_refresh) for t in await world.store.tokens(T0)] == [(token, False)]


async def test_a_changed_user_token_validity_applies_to_the_next_exchange(world: World) -> None:
    process = await create(world, "short")
    await world.store.update_client_config("short", {"userAccessTokensValidityPeriod": 600})
    token = await exchange(world, process.token)
    now = await advance(world, 599)
    await world.tokens.resolve(token, now)
    now = await advance(world, 1)
    with pytest.raises(errors.InvalidToken):
        await world.tokens.resolve(token, now)


async def test_exchanges_mint_new_tokens_and_keep_the_earlier_ones(world: World) -> None:
    process = await create(world)
    first = await exchange(world, process.token)
    second = await exchange(world, process.token)
    assert first != second
    user = await hidden_user(world, process)
    assert await user_of_token(world, first) == await user_of_token(world, second) == user


async def test_create_many_makes_one_process_per_reference_in_order(world: World) -> None:
    made = await world.processes.create_many(body("c", "a", "b", "a"), T0)
    assert [p.client_reference for p in made] == ["c", "a", "b", "a"]
    assert len({p.token for p in made}) == len({p.user_id for p in made}) == 4
    assert all(UUID.fullmatch(p.token) for p in made)
    assert [await stored(world, p.token) for p in made] == made
    expected = [("app", "m1", "USER_ONLY", T0)] * 4
    assert [(p.client_id, p.mandator_id, p.process_id, p.created_at) for p in made] == expected


async def test_a_mandator_admin_client_may_not_create_processes(world: World) -> None:
    with pytest.raises(errors.UnauthorizedAccess, match=r"^Mandator admin clients cannot call this service$"):
        await world.processes.create_many(body("r", client_id="admin"), T0)
    assert await world.store.processes(T0) == []


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"clientReferences": [{"clientReference": "ok"}, {}]}, errors.IllegalFieldValue),
        ({"clientReferences": []}, errors.IllegalFieldValue),
        ({"clientReferences": None}, errors.MissingField),
        ({"processId": None}, errors.MissingField),
        ({"clientSecret": "wrong"}, errors.InvalidClient),
        ({"clientSecret": 5}, errors.IllegalFieldValue),
        ({"clientId": ""}, errors.MissingField),
    ],
)
async def test_a_refused_request_creates_no_process_and_no_user(
    world: World, change: dict[str, Any], error: type[Exception]
) -> None:
    users_before = await world.store.users(None, T0)
    with pytest.raises(error):
        await world.processes.create_many({**body("ok"), **change}, T0)
    assert await world.store.processes(T0) == []
    assert await world.store.users(None, T0) == users_before


async def test_mandator_link_acts_for_the_mandators_first_app_client(world: World) -> None:
    process = await world.processes.for_mandator("m1", "web", T0)
    assert (process.client_id, process.client_reference, process.process_id) == ("app", "web", "USER_ONLY")
    with pytest.raises(errors.UnknownEntity, match=r"^No mandator with id 'm9'$"):
        await world.processes.for_mandator("m9", None, T0)


# determinism
async def fingerprint(world: World) -> list[tuple[str, str, str]]:
    made = await world.processes.create_many(body("a", "b"), T0)
    made.append(await world.processes.for_mandator("m2", None, T0))
    users = [await hidden_user(world, p) for p in made]
    return [(p.token, p.user_id, u.password) for p, u in zip(made, users, strict=True) if u is not None]


async def test_process_tokens_and_hidden_users_are_the_same_for_the_same_seed() -> None:
    first = await fingerprint(make_world(SCENARIO))
    assert len(first) == 3
    assert first == await fingerprint(make_world(SCENARIO))
    assert all(UUID.fullmatch(token) for token, _, _ in first)


async def test_a_different_seed_makes_different_process_tokens() -> None:
    assert await fingerprint(make_world(SCENARIO, seed=6)) != await fingerprint(make_world(SCENARIO))


# seeded processes
async def test_seeded_processes_exist_with_their_fixed_tokens_and_fields() -> None:
    world = make_world(SEEDED)
    fresh, last, gone = [await stored(world, token) for token in (FRESH, LAST, INVALIDATED)]
    assert [(p.token, p.client_id, p.client_reference, p.process_id) for p in (fresh, last, gone)] == [
        (FRESH, "app", "customer-fresh", "USER_ONLY"),
        (LAST, "short", None, "USER_ONLY"),
        (INVALIDATED, "app", "gone", "USER_ONLY"),
    ]
    assert [(p.exchanges, p.invalidated) for p in (fresh, last, gone)] == [(0, False), (9, False), (0, True)]
    users = [await hidden_user(world, p) for p in (fresh, last, gone)]
    assert [(u.mandator_id, u.verified) if u else None for u in users] == [("m1", True), ("m2", True), ("m1", True)]


async def test_seeded_fresh_process_exchanges_like_a_created_one() -> None:
    world = make_world(SEEDED)
    token = await exchange(world, FRESH)
    assert await user_of_token(world, token) == await hidden_user(world, await stored(world, FRESH))


async def test_seeded_exchanges_count_towards_the_limit() -> None:
    world = make_world(SEEDED)
    await exchange(world, LAST)
    await assert_gone_410(world, LAST, "The process token was already exchanged 10 times")


async def test_seeded_invalidated_process_refuses_every_exchange() -> None:
    world = make_world(SEEDED)
    await assert_gone_410(world, INVALIDATED, "The process token was invalidated by an earlier exchange")


async def test_seeded_ended_processes_lose_their_users_3_days_after_the_world_starts() -> None:
    world = make_world(SEEDED)
    gone, fresh = await stored(world, INVALIDATED), await stored(world, FRESH)
    gone_user, fresh_user = await hidden_user(world, gone), await hidden_user(world, fresh)
    now = await advance(world, 3 * DAY - 1)
    await world.store.purge_expired(now, 100)
    assert await world.store.user("m1", gone.user_id, now) == gone_user
    now = await advance(world, 1)
    await world.store.purge_expired(now, 100)
    assert await world.store.user("m1", gone.user_id, now) is None
    assert await world.store.user("m1", fresh.user_id, now) == fresh_user


async def test_seeded_tokens_do_not_depend_on_the_seed() -> None:
    assert (await stored(make_world(SEEDED, seed=99), FRESH)).client_reference == "customer-fresh"


# validation of the scenario's processes block: (case, block with `#!` on the line the error must name, path, words)
BROKEN = [
    ("unknown key", "  max_exchange: 3  #!", "processes.max_exchange", "did you mean 'max_exchanges'?"),
    ("negative max_exchanges", "  max_exchanges: -1  #!", "processes.max_exchanges", "not negative"),
    ("fractional max_exchanges", "  max_exchanges: 1.5  #!", "processes.max_exchanges", "must be an integer"),
    ("negative validity_days", "  validity_days: -0.5  #!", "processes.validity_days", "not negative"),
    ("NaN validity_days", "  validity_days: .nan  #!", "processes.validity_days", "must be a finite number"),
    ("infinite retention", "  user_retention_days: .inf  #!", "processes.user_retention_days", "a finite number"),
    ("validity_days as text", "  validity_days: week  #!", "processes.validity_days", "must be a number, not a string"),
    (
        "negative user_retention_days",
        "  user_retention_days: -3  #!",
        "processes.user_retention_days",
        "not negative",
    ),
    ("empty allowed ids", "  allowed_process_ids: []  #!", "processes.allowed_process_ids", "non-empty list"),
    ("relative redirect", "  redirect_url: /callback  #!", "processes.redirect_url", "absolute http(s) URL"),
    (
        "process token not a UUID",
        "  seeded:\n    - process_token: not-a-uuid  #!\n      client: app",
        "processes.seeded[0].process_token",
        "must be a UUID",
    ),
    (
        "unknown client",
        f"  seeded:\n    - process_token: {FRESH}\n      client: nobody  #!",
        "processes.seeded[0].client",
        "client_id of one of the scenario's app clients",
    ),
    (
        "process_id not allowed",
        f"  seeded:\n    - process_token: {FRESH}\n      client: app\n      process_id: KYC  #!",
        "processes.seeded[0].process_id",
        "must be one of allowed_process_ids (USER_ONLY)",
    ),
    (
        "negative exchanges",
        f"  seeded:\n    - process_token: {FRESH}\n      client: app\n      exchanges: -1  #!",
        "processes.seeded[0].exchanges",
        "must not be negative",
    ),
    (
        "unknown seeded key",
        f"  seeded:\n    - process_token: {FRESH}\n      client: app\n      token: x  #!",
        "processes.seeded[0].token",
        "unknown key",
    ),
    (
        "missing client",
        f"  seeded:\n    - process_token: {FRESH}  #!",
        "processes.seeded[0].client",
        "is required",
    ),
    (
        "duplicate token in another case",
        f"  seeded:\n    - {{process_token: {FRESH}, client: app}}\n"
        f"    - {{process_token: {FRESH.upper()}, client: app}}  #!",
        "processes.seeded[1].process_token",
        "duplicate process_token",
    ),
    ("seeded as mapping", "  seeded: {process_token: x}  #!", "processes.seeded", "must be a list"),
]


@pytest.mark.parametrize(("block", "path", "problem"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN])
def test_broken_processes_block_names_line_and_key_path(block: str, path: str, problem: str) -> None:
    text = f"name: t\n{CLIENTS.strip()}\nprocesses:\n{block}\n"
    with pytest.raises(ScenarioError) as caught:
        load_text(text, "broken.yaml")
    [line] = [n for n, content in enumerate(text.splitlines(), 1) if "#!" in content]
    assert (caught.value.source, caught.value.line, caught.value.path) == ("broken.yaml", line, path)
    assert problem in caught.value.problem


def test_processes_block_as_a_list_is_refused() -> None:
    with pytest.raises(ScenarioError, match=r"^s\.yaml:\d+: processes: must be a mapping, not a list$"):
        load_text(f"name: t\n{CLIENTS.strip()}\nprocesses: []\n", "s.yaml")


def test_missing_processes_block_gives_the_documented_defaults() -> None:
    limits = make_world(SCENARIO).processes.limits
    assert (limits.max_exchanges, limits.validity_days, limits.user_retention_days) == (10, 7, 3)
    assert (limits.allowed_process_ids, limits.redirect_url) == (("USER_ONLY",), "http://localhost:3000/callback")

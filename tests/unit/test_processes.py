"""ProcessService on a World without HTTP: exchange limits, validity and user retention on the virtual clock,
custom limits, seeded processes and the validation of a scenario's `processes:` block."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mock_finapi import errors
from mock_finapi.errors import ScenarioError
from mock_finapi.scenarios.loader import load_text
from mock_finapi.services import processes
from mock_finapi.services.processes import DAY
from mock_finapi.state.models import Process, User
from mock_finapi.world import World

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
HOUR = 3600
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


def make_world(text: str = SCENARIO, **kwargs: Any) -> World:
    return World(load_text(text, "unit-processes.yaml"), **kwargs)


@pytest.fixture
def world() -> World:
    return make_world()


def create(world: World, client_id: str = "app", reference: str | None = "ref") -> Process:
    return world.processes.create(world.store.clients[client_id], reference)


def body(*references: str, client_id: str = "app", secret: str = "app-secret", **extra: Any) -> dict[str, Any]:
    return {
        "clientId": client_id,
        "clientSecret": secret,
        "clientReferences": [{"clientReference": r} for r in references],
        "processId": "USER_ONLY",
        **extra,
    }


def refused(world: World, token: str, **kwargs: Any) -> errors.ApiError:
    with pytest.raises(errors.ApiError) as caught:
        world.processes.exchange(token, **kwargs)
    return caught.value


def assert_gone_410(world: World, token: str, message: str) -> None:
    error = refused(world, token)
    assert (type(error), error.http_status, error.code, error.message) == (
        errors.IllegalEntityState,
        410,
        "ILLEGAL_ENTITY_STATE",
        message,
    )


def hidden_user_alive(world: World, process: Process, access_token: str) -> bool:
    """Whether the hidden user and its access token still exist (resolving first: that runs the lazy purge)."""
    try:
        world.tokens.resolve(access_token)
    except errors.InvalidToken:
        assert world.store.user(process.user.mandator_id, process.user.id) is None
        return False
    assert world.store.user(process.user.mandator_id, process.user.id) is process.user
    return True


# the exchange count
def test_ten_exchanges_succeed_and_the_eleventh_is_410_naming_the_limit(world: World) -> None:
    process = create(world)
    tokens = [world.processes.exchange(process.token) for _ in range(10)]
    assert len(set(tokens)) == 10
    assert all(world.tokens.resolve(t).grant.user is process.user for t in tokens)
    assert_gone_410(world, process.token, "The process token was already exchanged 10 times")
    assert process.exchanges == 10


def test_a_refused_exchange_does_not_count(world: World) -> None:
    process = create(world)
    world.processes.exchange(process.token, invalidate=True)
    refused(world, process.token)
    refused(world, process.token)
    assert process.exchanges == 1


def test_invalidate_true_makes_that_exchange_the_last(world: World) -> None:
    process = create(world)
    world.processes.exchange(process.token)
    token = world.processes.exchange(process.token, invalidate=True)
    assert world.tokens.resolve(token).grant.user is process.user  # the invalidating exchange still answers
    assert_gone_410(world, process.token, "The process token was invalidated by an earlier exchange")
    assert_gone_410(world, process.token, "The process token was invalidated by an earlier exchange")


def test_invalidate_defaults_to_false(world: World) -> None:
    process = create(world)
    world.processes.exchange(process.token)
    world.processes.exchange(process.token, invalidate=False)
    world.processes.exchange(process.token)
    assert (process.exchanges, process.invalidated) == (3, False)


def test_an_invalidated_process_that_is_also_over_its_validity_says_invalidated(world: World) -> None:
    process = create(world)
    world.processes.exchange(process.token, invalidate=True)
    world.clock.advance(8 * DAY)
    assert_gone_410(world, process.token, "The process token was invalidated by an earlier exchange")


# the validity window
def test_exchange_just_before_the_7_days_end_succeeds(world: World) -> None:
    process = create(world)
    world.clock.advance(7 * DAY - 0.001)
    assert world.tokens.resolve(world.processes.exchange(process.token)).grant.user is process.user


@pytest.mark.parametrize("after", [0, 1, 30 * DAY], ids=["at-7-days", "a-second-later", "a-month-later"])
def test_exchange_at_or_after_the_7_days_end_is_410_expired(world: World, after: float) -> None:
    process = create(world)
    world.clock.advance(7 * DAY + after)
    assert_gone_410(world, process.token, "The process token expired 7 days after its creation")
    assert process.exchanges == 0


def test_validity_counts_from_creation_not_from_the_last_exchange(world: World) -> None:
    world.clock.advance(DAY)
    process = create(world)
    world.clock.advance(6 * DAY)
    world.processes.exchange(process.token)
    world.clock.advance(DAY - 1)
    world.processes.exchange(process.token)
    world.clock.advance(1)
    assert_gone_410(world, process.token, "The process token expired 7 days after its creation")


# unknown tokens
@pytest.mark.parametrize("token", ["00000000-0000-4000-8000-000000000000", "not-a-token", "", "x" * 300])
def test_unknown_or_malformed_token_is_404_unknown_entity(world: World, token: str) -> None:
    create(world)
    error = refused(world, token)
    assert (type(error), error.http_status, error.code) == (errors.UnknownEntity, 404, "UNKNOWN_ENTITY")
    assert error.message == f"No process with token '{token}'"


def test_process_tokens_are_case_insensitive(world: World) -> None:
    process = create(world)
    world.processes.exchange(process.token.upper())
    assert process.exchanges == 1


def test_exchange_after_the_hidden_user_deleted_itself_is_410(world: World) -> None:
    process = create(world)
    world.processes.exchange(process.token)
    world.users.delete(process.user)
    assert_gone_410(world, process.token, "The process's user was deleted")


def test_exchange_is_refused_when_a_new_user_took_the_hidden_users_id(world: World) -> None:
    process = create(world)
    world.users.delete(process.user)
    world.users.create(world.store.clients["app"], {"id": process.user.id, "password": "taken-over"})
    assert_gone_410(world, process.token, "The process's user was deleted")


# retention: the hidden user and its tokens go `user_retention_days` after the process ends
def end_by_invalidation(world: World, process: Process) -> tuple[str, float]:
    world.clock.advance(HOUR)
    return world.processes.exchange(process.token, invalidate=True), world.clock.time()


def end_by_exhaustion(world: World, process: Process) -> tuple[str, float]:
    first = world.processes.exchange(process.token)
    world.clock.advance(2 * DAY)
    for _ in range(9):
        world.processes.exchange(process.token)
    return first, world.clock.time()


def end_by_validity(world: World, process: Process) -> tuple[str, float]:
    world.clock.advance(6 * DAY)
    return world.processes.exchange(process.token), process.created_at + 7 * DAY


ENDINGS = pytest.mark.parametrize(
    "end", [end_by_invalidation, end_by_exhaustion, end_by_validity], ids=["invalidated", "exhausted", "validity"]
)


@ENDINGS
def test_hidden_user_and_tokens_live_until_retention_after_the_end(world: World, end: Any) -> None:
    process = create(world)
    token, ended = end(world, process)
    world.clock.advance(ended + 3 * DAY - 1 - world.clock.time())
    assert hidden_user_alive(world, process, token)


@ENDINGS
def test_hidden_user_and_tokens_are_deleted_3_days_after_the_end(world: World, end: Any) -> None:
    process = create(world)
    token, ended = end(world, process)
    world.clock.advance(ended + 3 * DAY - world.clock.time())
    with pytest.raises(errors.InvalidToken):
        world.tokens.resolve(token)
    assert world.store.user(process.user.mandator_id, process.user.id) is None


@ENDINGS
def test_after_retention_the_process_still_answers_410_not_404(world: World, end: Any) -> None:
    process = create(world)
    end(world, process)
    world.clock.advance(30 * DAY)
    error = refused(world, process.token)
    assert (error.http_status, error.code) == (410, "ILLEGAL_ENTITY_STATE")


def test_retention_of_a_never_exchanged_process_counts_from_its_validity_end(world: World) -> None:
    process = create(world)
    world.clock.advance(10 * DAY - 1)
    world.store.purge_expired(world.clock.time())
    assert world.store.user("m1", process.user.id) is process.user
    world.clock.advance(1)
    world.store.purge_expired(world.clock.time())
    assert world.store.user("m1", process.user.id) is None


def test_retention_deletes_only_the_hidden_user_of_that_process(world: World) -> None:
    ended, running = create(world, reference="ended"), create(world, reference="running")
    ended_token, _ = end_by_invalidation(world, ended)
    running_token = world.processes.exchange(running.token)
    world.clock.advance(3 * DAY)
    assert not hidden_user_alive(world, ended, ended_token)
    assert hidden_user_alive(world, running, running_token)


# custom limits
CUSTOM = f"""{SCENARIO}
processes:
  max_exchanges: 2
  validity_days: 0.5
  user_retention_days: 1
  allowed_process_ids: [USER_ONLY, KYC]
  redirect_url: "https://shop.example/back"
"""


def test_scenario_limits_replace_the_defaults() -> None:
    world = make_world(CUSTOM)
    assert world.processes.limits == processes.ProcessLimits(
        2, 0.5, 1, ("USER_ONLY", "KYC"), "https://shop.example/back"
    )
    process = create(world)
    world.processes.exchange(process.token)
    token = world.processes.exchange(process.token)
    assert_gone_410(world, process.token, "The process token was already exchanged 2 times")
    world.clock.advance(DAY - 1)
    assert hidden_user_alive(world, process, token)
    world.clock.advance(1)
    assert not hidden_user_alive(world, process, token)


def test_fractional_validity_days_expire_on_the_second() -> None:
    world = make_world(CUSTOM)
    process = create(world)
    world.clock.advance(12 * HOUR - 1)
    world.processes.exchange(process.token)
    world.clock.advance(1)
    assert_gone_410(world, process.token, "The process token expired 0.5 days after its creation")


def test_allowed_process_ids_come_from_the_scenario() -> None:
    world = make_world(CUSTOM)
    [made] = world.processes.create_many(body("r", processId="KYC"))
    assert made.process_id == "KYC"
    with pytest.raises(errors.IllegalFieldValue, match=r"^Unsupported processId 'OTHER' \(allowed: USER_ONLY, KYC\)$"):
        world.processes.create_many(body("r", processId="OTHER"))


def test_by_default_only_user_only_is_allowed(world: World) -> None:
    with pytest.raises(errors.IllegalFieldValue, match=r"^Unsupported processId 'KYC' \(allowed: USER_ONLY\)$"):
        world.processes.create_many(body("r", processId="KYC"))


# the hidden user
def test_hidden_user_is_verified_in_the_clients_mandator_with_generated_credentials(world: World) -> None:
    first, second = create(world, "short"), create(world, "short")
    for process in (first, second):
        user = process.user
        assert (user.mandator_id, user.verified, user.locked) == ("m2", True, False)
        assert UUID.fullmatch(user.id)
        assert re.fullmatch(r"[A-Za-z0-9]{16}", user.password)
        assert world.store.user("m2", user.id) is user
        assert world.store.user("m1", user.id) is None
    assert (first.user.id, first.user.password) != (second.user.id, second.user.password)


def test_hidden_user_tokens_live_for_the_clients_user_token_validity(world: World) -> None:
    process = create(world, "short")
    token = world.processes.exchange(process.token)
    found = world.tokens.resolve(token)
    assert (found.grant.client.client_id, found.is_refresh, found.grant.refresh) == ("short", False, None)
    world.clock.advance(119)
    world.tokens.resolve(token)
    world.clock.advance(1)
    with pytest.raises(errors.InvalidToken):
        world.tokens.resolve(token)


def test_a_changed_user_token_validity_applies_to_the_next_exchange(world: World) -> None:
    process = create(world, "short")
    world.store.clients["short"].config["userAccessTokensValidityPeriod"] = 600
    token = world.processes.exchange(process.token)
    world.clock.advance(599)
    world.tokens.resolve(token)
    world.clock.advance(1)
    with pytest.raises(errors.InvalidToken):
        world.tokens.resolve(token)


def test_exchanges_mint_new_tokens_and_keep_the_earlier_ones(world: World) -> None:
    process = create(world)
    first = world.processes.exchange(process.token)
    second = world.processes.exchange(process.token)
    assert first != second
    assert world.tokens.resolve(first).grant.user is world.tokens.resolve(second).grant.user is process.user


def test_create_many_makes_one_process_per_reference_in_order(world: World) -> None:
    made = world.processes.create_many(body("c", "a", "b", "a"))
    assert [p.client_reference for p in made] == ["c", "a", "b", "a"]
    assert len({p.token for p in made}) == len({p.user.id for p in made}) == 4
    assert all(world.store.process(p.token) is p and UUID.fullmatch(p.token) for p in made)


def test_a_mandator_admin_client_may_not_create_processes(world: World) -> None:
    with pytest.raises(errors.UnauthorizedAccess, match=r"^Mandator admin clients cannot call this service$"):
        world.processes.create_many(body("r", client_id="admin", secret="admin-secret"))
    assert world.store.processes == {}


def test_a_refused_request_creates_no_process_and_no_user(world: World) -> None:
    users_before = {k: set(m.users) for k, m in world.store.mandators.items()}
    with pytest.raises(errors.IllegalFieldValue):
        world.processes.create_many({**body("ok"), "clientReferences": [{"clientReference": "ok"}, {}]})
    assert world.store.processes == {}
    assert {k: set(m.users) for k, m in world.store.mandators.items()} == users_before


def test_mandator_link_acts_for_the_mandators_first_app_client(world: World) -> None:
    process = world.processes.for_mandator("m1", "web")
    assert (process.client.client_id, process.client_reference, process.process_id) == ("app", "web", "USER_ONLY")
    with pytest.raises(errors.UnknownEntity, match=r"^No mandator with id 'm9'$"):
        world.processes.for_mandator("m9", None)


# determinism
def fingerprint(world: World) -> list[tuple[str, str, str]]:
    made = world.processes.create_many(body("a", "b"))
    made.append(world.processes.for_mandator("m2", None))
    return [(p.token, p.user.id, p.user.password) for p in made]


def test_process_tokens_and_hidden_users_are_the_same_for_the_same_seed() -> None:
    first = fingerprint(make_world())
    assert first == fingerprint(make_world())
    assert all(UUID.fullmatch(token) for token, _, _ in first)


def test_a_different_seed_makes_different_process_tokens() -> None:
    assert fingerprint(make_world(seed=6)) != fingerprint(make_world())


# seeded processes
def seeded(world: World, token: str) -> Process:
    found = world.store.process(token)
    assert found is not None
    return found


def test_seeded_processes_exist_with_their_fixed_tokens_and_fields() -> None:
    world = make_world(SEEDED)
    fresh, last, gone = seeded(world, FRESH), seeded(world, LAST), seeded(world, INVALIDATED)
    assert [(p.token, p.client.client_id, p.client_reference, p.process_id) for p in (fresh, last, gone)] == [
        (FRESH, "app", "customer-fresh", "USER_ONLY"),
        (LAST, "short", None, "USER_ONLY"),
        (INVALIDATED, "app", "gone", "USER_ONLY"),
    ]
    assert [(p.exchanges, p.invalidated) for p in (fresh, last, gone)] == [(0, False), (9, False), (0, True)]
    assert all(isinstance(p.user, User) and p.user.verified for p in (fresh, last, gone))
    assert world.store.user("m2", last.user.id) is last.user


def test_seeded_fresh_process_exchanges_like_a_created_one() -> None:
    world = make_world(SEEDED)
    token = world.processes.exchange(FRESH)
    assert world.tokens.resolve(token).grant.user is seeded(world, FRESH).user


def test_seeded_exchanges_count_towards_the_limit() -> None:
    world = make_world(SEEDED)
    world.processes.exchange(LAST)
    assert_gone_410(world, LAST, "The process token was already exchanged 10 times")


def test_seeded_invalidated_process_refuses_every_exchange() -> None:
    world = make_world(SEEDED)
    assert_gone_410(world, INVALIDATED, "The process token was invalidated by an earlier exchange")


def test_seeded_ended_processes_lose_their_users_3_days_after_the_world_starts() -> None:
    world = make_world(SEEDED)
    gone, fresh = seeded(world, INVALIDATED), seeded(world, FRESH)
    world.clock.advance(3 * DAY - 1)
    world.store.purge_expired(world.clock.time())
    assert world.store.user("m1", gone.user.id) is gone.user
    world.clock.advance(1)
    world.store.purge_expired(world.clock.time())
    assert world.store.user("m1", gone.user.id) is None
    assert world.store.user("m1", fresh.user.id) is fresh.user


def test_seeded_tokens_do_not_depend_on_the_seed() -> None:
    assert seeded(make_world(SEEDED, seed=99), FRESH).client_reference == "customer-fresh"


# validation of the scenario's processes block: (case, block with `#!` on the line the error must name, path, words)
BROKEN = [
    ("unknown key", "  max_exchange: 3  #!", "processes.max_exchange", "did you mean 'max_exchanges'?"),
    ("negative max_exchanges", "  max_exchanges: -1  #!", "processes.max_exchanges", "not negative"),
    ("fractional max_exchanges", "  max_exchanges: 1.5  #!", "processes.max_exchanges", "must be an integer"),
    ("negative validity_days", "  validity_days: -0.5  #!", "processes.validity_days", "not negative"),
    ("NaN validity_days", "  validity_days: .nan  #!", "processes.validity_days", "must be a finite number"),
    ("infinite retention", "  user_retention_days: .inf  #!", "processes.user_retention_days", "a finite number"),
    ("validity_days as text", "  validity_days: week  #!", "processes.validity_days", "must be an integer or a"),
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
    limits = make_world().processes.limits
    assert (limits.max_exchanges, limits.validity_days, limits.user_retention_days) == (10, 7, 3)
    assert (limits.allowed_process_ids, limits.redirect_url) == (("USER_ONLY",), "http://localhost:3000/callback")

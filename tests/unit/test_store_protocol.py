"""The Store protocol (state/protocol.py), operation by operation: the suite every backend passes.

Each test gets a `store` of every backend in BACKENDS holding the state SCENARIO starts with (built by
`build_state`, handed to the backend with `replace`, as a sandbox does). A backend is added by naming it in BACKENDS
and making it in `serve`. Tests use only the protocol's operations (and `MemoryStore`s built from scenarios as the
fresh states `replace` and `reset_mandator` take), never a backend's internals.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from mock_finapi.clock import ClockMove, ClockState
from mock_finapi.randomness import FAULTS, IDS, TOKENS, Randomness
from mock_finapi.scenarios.loader import load_text
from mock_finapi.settings import Capacity
from mock_finapi.state.memory import MemoryStore
from mock_finapi.state.models import Client, DeletedUser, Entry, FaultRule, JournalQuery, Token, User
from mock_finapi.state.protocol import MandatorUsers, NewProcess, ProcessLimits, Store, TokenPolicy
from mock_finapi.state.redis_store import RedisStore
from mock_finapi.world import build_state
from tests.conftest import BACKENDS
from tests.helpers import START
from tests.redis_support import RedisServer, new_prefix

pytestmark = pytest.mark.anyio

SEED = 7
REAL = 1_000.0
"""The real time the state was built at (the clock is frozen, so it does not matter when it is read)."""
JOURNAL_SIZE = 50
T0 = START.timestamp()
DAY = 86_400
CENTURY = 100 * 365 * DAY
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
POLICY = TokenPolicy()
NO_REUSE = TokenPolicy(reuse=False)
LIMITS = ProcessLimits()
TWO_EXCHANGES = ProcessLimits(max_exchanges=2)
# m1: an admin client first (a mandator's link acts for its first *app* client), then app clients with the default
# lifetimes (app), short ones and a lockout after two wrong passwords (short), and tokens that never expire (forever).
SCENARIO = """
name: store-protocol
seed: 7
clock: {start: "2026-01-01T09:00:00+01:00", frozen: true}
clients:
  - {client_id: admin, client_secret: admin-secret, mandator_id: m1, role: mandator_admin}
  - {client_id: app, client_secret: app-secret, mandator_id: m1}
  - client_id: short
    client_secret: short-secret
    mandator_id: m1
    config: {clientAccessTokensValidityPeriod: 60, userAccessTokensValidityPeriod: 120,
             refreshTokensValidityPeriod: 300, maxUserLoginAttempts: 2}
  - client_id: forever
    client_secret: forever-secret
    mandator_id: m1
    config: {clientAccessTokensValidityPeriod: 0, userAccessTokensValidityPeriod: 0, refreshTokensValidityPeriod: 0,
             maxUserLoginAttempts: 0}
  - {client_id: other, client_secret: other-secret, mandator_id: m2}
users:
  - {id: Alice, password: alice-password, email: alice@example.de}
  - {id: pending, password: pending-password, verified: false}
  - {id: locked, password: locked-password, locked: true}
  - {id: bob, password: bob-password, mandator_id: m2}
"""


def fresh_state(seed: int = SEED, text: str = SCENARIO) -> MemoryStore:
    """The state the scenario starts with, as a sandbox builds it."""
    return build_state(load_text(text, "store-protocol.yaml"), seed, REAL, journal_size=JOURNAL_SIZE)


async def serve(backend: str, fresh: MemoryStore) -> Store:
    """A store of `backend` (`memory`, or the URL of a redis-server) holding `fresh`'s state."""
    store: Store
    if backend == "memory":
        store = MemoryStore(0, ClockState(), journal_size=1)
    elif backend.startswith("redis://"):
        store = RedisStore(backend, new_prefix(), MemoryStore(0, ClockState(), journal_size=1))
        _OPENED.append(store)
    else:
        raise AssertionError(f"no such backend: {backend}")
    await store.replace(fresh)
    return store


_OPENED: list[Store] = []


async def backend_of(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """`memory`, or the URL of this test process's redis-server; the stores `serve` opened are closed after."""
    if request.param == "memory":
        yield "memory"
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    try:
        yield server.url
    finally:
        while _OPENED:
            await _OPENED.pop().close()


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, anyio_backend: str) -> AsyncIterator[str]:
    async for name in backend_of(request):
        yield name


@pytest.fixture
async def store(backend: str, anyio_backend: str) -> Store:
    return await serve(backend, fresh_state())


# helpers
async def login(
    store: Store,
    username: str = "alice",
    password: str = "alice-password",
    *,
    client_id: str = "app",
    now: float = T0,
    policy: TokenPolicy = POLICY,
) -> tuple[Token, Token]:
    """A successful password grant: its access and refresh token."""
    done = await store.login(client_id, username, password, now, policy)
    assert done.outcome == "ok", done
    assert done.access is not None
    assert done.refresh is not None
    return done.access, done.refresh


async def alive(store: Store, token: Token | str, now: float = T0) -> bool:
    """Whether the (access or refresh) token is live at `now`."""
    value = token if isinstance(token, str) else token.value
    return value in {t.value for t in await store.tokens(now)}


async def user(store: Store, user_id: str, mandator_id: str = "m1", now: float = T0) -> User:
    found = await store.user(mandator_id, user_id, now)
    assert found is not None
    return found


async def client(store: Store, client_id: str) -> Client:
    found = await store.client(client_id)
    assert found is not None
    return found


def rule(name: str, *, after: int = 0, times: int | None = None, probability: float = 1.0) -> FaultRule:
    return FaultRule(name, after=after, times=times, probability=probability, status=503)


async def fire(store: Store, matching: Sequence[str], times: int) -> list[str | None]:
    fired = [await store.fire_fault(matching) for _ in range(times)]
    return [r.name if r else None for r in fired]


def entry(
    request_id: str,
    *,
    method: str = "GET",
    path: str = "/api/v2/users",
    status: int = 200,
    client_id: str | None = "app",
    mandator_id: str | None = "m1",
    fault: str | None = None,
) -> Entry:
    return Entry(T0, 0.001, method, path, b"", status, request_id, client_id, mandator_id, fault, None, None, None)


def ids(entries: Sequence[Entry]) -> list[str]:
    return [e.request_id for e in entries]


# per request: prepare, draw
async def test_prepare_answers_the_clock_and_the_fault_rules_in_force(store: Store) -> None:
    prelude = await store.prepare()
    assert prelude.clock.frozen
    assert prelude.clock.time(REAL + 3600) == T0
    assert prelude.faults == ()
    await store.add_fault(rule("first"))
    await store.add_fault(rule("second", times=1))
    assert (await store.prepare()).faults == (rule("first"), rule("second", times=1))


async def test_draw_reserves_consecutive_positions_of_each_stream_on_its_own(store: Store) -> None:
    assert [await store.draw("unit-a") for _ in range(3)] == [0, 1, 2]
    assert await store.draw("unit-b") == 0
    tokens = await store.draw(TOKENS)
    await store.issue_client_token("app", T0, NO_REUSE)  # a token takes the next position of its stream
    assert await store.draw(TOKENS) == tokens + 2
    assert await store.draw("unit-a") == 3


async def test_concurrent_draws_never_share_a_position(store: Store) -> None:
    start = await store.draw(IDS)
    drawn = await asyncio.gather(*(store.draw(IDS) for _ in range(50)))
    assert sorted(drawn) == list(range(start + 1, start + 51))


# clock
async def test_move_clock_answers_the_new_state_and_every_request_reads_it(store: Store) -> None:
    state = await store.move_clock(ClockMove(advance=60), REAL)
    assert (state.frozen, state.time(REAL + 5)) == (True, T0 + 60)
    assert (await store.prepare()).clock == state
    state = await store.move_clock(ClockMove(frozen=False), REAL + 10)
    assert (state.frozen, state.time(REAL + 15)) == (False, T0 + 65)
    state = await store.move_clock(ClockMove(set=T0, frozen=True), REAL + 20)
    assert ((await store.prepare()).clock, state.time(REAL + 99)) == (state, T0)


# clients
async def test_clients_are_found_by_id_and_listed_in_scenario_order(store: Store) -> None:
    app = await client(store, "app")
    assert (app.secret, app.role, app.mandator_id, app.registered) == ("app-secret", "app", "m1", False)
    assert app.config["userAccessTokensValidityPeriod"] == 3600
    assert (await client(store, "admin")).role == "mandator_admin"
    assert await store.client("nobody") is None
    assert [c.client_id for c in await store.clients()] == ["admin", "app", "short", "forever", "other"]
    assert sorted(await store.mandators()) == ["m1", "m2"]


async def test_register_client_adds_a_client_unless_its_id_exists(store: Store) -> None:
    newcomer = Client("newcomer", "new-secret", "app", "m3", {**(await client(store, "app")).config}, registered=True)
    assert await store.register_client(newcomer) == newcomer
    assert await store.client("newcomer") == newcomer
    assert "m3" in await store.mandators()
    impostor = Client("app", "other-secret", "app", "m9", {})
    assert await store.register_client(impostor) == await client(store, "app")
    assert (await client(store, "app")).secret == "app-secret"
    assert "m9" not in await store.mandators()


async def test_update_client_config_answers_the_new_version_and_keeps_other_fields(store: Store) -> None:
    before = await client(store, "app")
    updated = await store.update_client_config("app", {"userAccessTokensValidityPeriod": 600, "betaBanksEnabled": True})
    assert updated is not None
    assert updated.config == {**before.config, "userAccessTokensValidityPeriod": 600, "betaBanksEnabled": True}
    assert await store.client("app") == updated
    assert before.config["userAccessTokensValidityPeriod"] == 3600  # the record held before never changes
    assert await store.update_client_config("nobody", {"betaBanksEnabled": True}) is None


async def test_mandator_client_is_the_mandators_first_app_client(store: Store) -> None:
    assert (await client(store, "app")) == await store.mandator_client("m1")
    assert (await client(store, "other")) == await store.mandator_client("m2")
    assert await store.mandator_client("m9") is None
    await store.register_client(Client("boss", "s", "mandator_admin", "m3", {}))
    assert await store.mandator_client("m3") is None


# tokens: issue or reuse
async def test_a_client_token_is_reused_while_live_with_whole_seconds_left(store: Store) -> None:
    token = await store.issue_client_token("app", T0, POLICY)
    assert (token.client_id, token.mandator_id, token.user_id, token.is_refresh) == ("app", "m1", None, False)
    assert token.expires_at == T0 + 3600
    assert token.expires_in(T0) == 3599  # counted a moment after `now`, as finAPI shows a fresh token
    assert await store.issue_client_token("app", T0 + 10.5, POLICY) == token
    assert token.expires_in(T0 + 10.5) == 3589
    assert token.expires_in(T0 + 600) == 2999
    assert await store.issue_client_token("app", T0 + 3598.5, POLICY) == token
    assert token.expires_in(T0 + 3598.5) == 1


async def test_a_client_token_in_its_last_second_is_not_handed_out_again(store: Store) -> None:
    first = await store.issue_client_token("app", T0, POLICY)
    second = await store.issue_client_token("app", T0 + 3599, POLICY)  # its `expires_in` would read 0
    assert second.value != first.value
    assert second.expires_at == T0 + 3599 + 3600
    assert await alive(store, first, T0 + 3599.5)  # not revoked: it just ends
    assert await store.issue_client_token("app", T0 + 3599.75, POLICY) == second


async def test_without_reuse_every_client_token_is_new(store: Store) -> None:
    tokens = [await store.issue_client_token("app", T0, NO_REUSE) for _ in range(3)]
    assert len({t.value for t in tokens}) == 3
    assert [await alive(store, t) for t in tokens] == [True] * 3


async def test_clients_get_tokens_of_their_own(store: Store) -> None:
    mine = await store.issue_client_token("app", T0, POLICY)
    theirs = await store.issue_client_token("other", T0, POLICY)
    assert mine.value != theirs.value
    assert (theirs.client_id, theirs.mandator_id) == ("other", "m2")


async def test_lifetimes_come_from_the_client_configuration_and_0_never_expires(store: Store) -> None:
    short = await store.issue_client_token("short", T0, POLICY)
    access, refresh = await login(store, client_id="short")
    assert (short.expires_at, access.expires_at, refresh.expires_at) == (T0 + 60, T0 + 120, T0 + 300)
    forever = await store.issue_client_token("forever", T0, POLICY)
    access, refresh = await login(store, client_id="forever")
    assert (forever.expires_at, access.expires_at, refresh.expires_at) == (None, None, None)
    assert forever.expires_in(T0 + CENTURY) == 0
    assert await store.resolve(forever.value, T0 + CENTURY) is not None
    assert await store.resolve(access.value, T0 + CENTURY) is not None
    assert await alive(store, refresh, T0 + CENTURY)


async def test_a_lifetime_changed_in_the_configuration_applies_to_new_tokens_only(store: Store) -> None:
    old = await store.issue_client_token("app", T0, POLICY)
    await store.update_client_config("app", {"clientAccessTokensValidityPeriod": 60})
    assert await store.issue_client_token("app", T0, POLICY) == old
    assert (await store.issue_client_token("app", T0, NO_REUSE)).expires_at == T0 + 60


# tokens: the password grant
async def test_a_login_answers_the_user_and_an_access_and_a_refresh_token(store: Store) -> None:
    done = await store.login("app", "ALICE", "alice-password", T0, POLICY)
    assert (done.outcome, done.user) == ("ok", await user(store, "alice"))
    assert done.access is not None
    assert done.refresh is not None
    for token, is_refresh in ((done.access, False), (done.refresh, True)):
        assert (token.client_id, token.mandator_id, token.user_id) == ("app", "m1", "Alice")
        assert (token.is_refresh, token.expires_at) == (is_refresh, T0 + 3600)
    assert done.access.value != done.refresh.value


async def test_a_login_reuses_the_live_tokens_of_its_grant(store: Store) -> None:
    access, refresh = await login(store)
    assert await login(store, now=T0 + 10) == (access, refresh)
    other = await login(store, client_id="short")  # another client: a grant of its own
    assert {access.value, refresh.value}.isdisjoint({other[0].value, other[1].value})
    again = await login(store, policy=NO_REUSE)
    assert {access.value, refresh.value}.isdisjoint({again[0].value, again[1].value})
    assert await alive(store, access)


async def test_a_login_starts_a_new_grant_once_its_access_or_refresh_token_ended(store: Store) -> None:
    access, refresh = await login(store, client_id="short")  # access 120 s, refresh 300 s
    renewed = await login(store, client_id="short", now=T0 + 120)
    assert renewed[0].value != access.value
    assert renewed[1].value != refresh.value
    await store.update_client_config("short", {"userAccessTokensValidityPeriod": 3600})
    access, refresh = await login(store, client_id="short", policy=NO_REUSE, now=T0 + 200)
    again = await login(store, client_id="short", now=T0 + 500)  # the access token lives, its refresh token not
    assert again[0].value != access.value
    assert again[1].value != refresh.value


async def test_a_login_of_an_unknown_user_is_refused_without_a_user(store: Store) -> None:
    assert tuple(await store.login("app", "nobody", "whatever", T0, POLICY)) == ("unknown_user", None, None, None)
    assert tuple(await store.login("other", "alice", "alice-password", T0, POLICY)) == (
        "unknown_user",
        None,
        None,
        None,
    )


async def test_a_locked_user_is_refused_before_the_password_is_looked_at(store: Store) -> None:
    for password in ("locked-password", "wrong-password"):
        done = await store.login("app", "locked", password, T0, POLICY)
        assert (done.outcome, done.user, done.access, done.refresh) == (
            "locked",
            await user(store, "locked"),
            None,
            None,
        )
    assert (await user(store, "locked")).failed_logins == 0


async def test_a_wrong_password_is_counted_before_verification_is_looked_at(store: Store) -> None:
    done = await store.login("app", "pending", "wrong-password", T0, POLICY)
    assert (done.outcome, done.access, done.refresh) == ("bad_password", None, None)
    assert done.user == await user(store, "pending")
    assert done.user.failed_logins == 1
    done = await store.login("app", "pending", "pending-password", T0, POLICY)
    assert (done.outcome, done.access, done.refresh) == ("unverified", None, None)
    assert [t for t in await store.tokens(T0) if t.user_id == "pending"] == []


async def test_a_success_resets_the_count_of_wrong_passwords(store: Store) -> None:
    await store.login("app", "alice", "wrong", T0, POLICY)
    done = await store.login("app", "alice", "wrong", T0, POLICY)
    assert done.user is not None
    assert done.user.failed_logins == 2
    done = await store.login("app", "alice", "alice-password", T0, POLICY)
    assert done.user is not None
    assert done.user.failed_logins == 0
    assert (await user(store, "alice")).failed_logins == 0


async def test_max_user_login_attempts_wrong_passwords_lock_and_revoke_every_token_of_the_user(store: Store) -> None:
    mine, theirs, bobs = (
        await login(store),
        await login(store, client_id="forever"),
        await login(store, "bob", "bob-password", client_id="other"),
    )
    done = await store.login("short", "alice", "wrong", T0, POLICY)
    assert done.user is not None
    assert (done.outcome, done.user.failed_logins, done.user.locked) == ("bad_password", 1, False)
    assert await alive(store, mine[0])
    done = await store.login("short", "alice", "wrong", T0, POLICY)  # short locks at the second
    assert done.user is not None
    assert (done.outcome, done.user.failed_logins, done.user.locked) == ("bad_password", 2, True)
    assert done.user == await user(store, "alice")
    assert [await alive(store, t) for t in (*mine, *theirs)] == [False] * 4
    assert [await alive(store, t) for t in bobs] == [True] * 2
    assert (await store.login("app", "alice", "alice-password", T0, POLICY)).outcome == "locked"


async def test_max_user_login_attempts_0_never_locks(store: Store) -> None:
    for _ in range(10):
        done = await store.login("forever", "alice", "wrong", T0, POLICY)
        assert done.outcome == "bad_password"
    assert (await user(store, "alice")).failed_logins == 10
    assert not (await user(store, "alice")).locked
    await login(store, client_id="forever")


# tokens: refresh
async def test_a_refresh_mints_an_access_token_of_the_grant_and_retires_its_older_ones(store: Store) -> None:
    access, refresh = await login(store)
    other_grant = await login(store, policy=NO_REUSE)
    fresh = await store.refresh("app", refresh.value, T0 + 100, POLICY)
    assert fresh is not None
    assert (fresh.user_id, fresh.client_id, fresh.is_refresh, fresh.expires_at) == ("Alice", "app", False, T0 + 3700)
    assert fresh.value not in (access.value, refresh.value)
    assert not await alive(store, access, T0 + 100)
    assert await alive(store, refresh, T0 + 100)
    assert [await alive(store, t, T0 + 100) for t in other_grant] == [True, True]
    newer = await store.refresh("app", refresh.value, T0 + 200, POLICY)
    assert newer is not None
    assert newer.value != fresh.value
    assert not await alive(store, fresh, T0 + 200)
    await store.revoke("app", refresh.value, None, T0 + 200)  # the refresh token's grant holds the new token
    assert not await alive(store, newer, T0 + 200)
    assert [await alive(store, t, T0 + 200) for t in other_grant] == [True, True]


async def test_a_refresh_uses_the_lifetime_configured_when_it_mints(store: Store) -> None:
    _, refresh = await login(store)
    await store.update_client_config("app", {"userAccessTokensValidityPeriod": 0})
    fresh = await store.refresh("app", refresh.value, T0, POLICY)
    assert fresh is not None
    assert fresh.expires_at is None


async def test_a_refresh_is_refused_for_anything_but_a_live_refresh_token_of_the_client(store: Store) -> None:
    access, refresh = await login(store, client_id="short")
    assert await store.refresh("short", "unknown", T0, POLICY) is None
    assert await store.refresh("short", access.value, T0, POLICY) is None
    assert await store.refresh("app", refresh.value, T0, POLICY) is None
    assert [await alive(store, t) for t in (access, refresh)] == [True, True]  # refused refreshes retire nothing
    assert await store.refresh("short", refresh.value, T0 + 300, POLICY) is None


# tokens: resolve, revoke, expire
async def test_resolve_answers_a_live_access_token_with_its_client_and_user(store: Store) -> None:
    access, refresh = await login(store)
    bearer = await store.resolve(access.value, T0)
    assert bearer is not None
    assert (bearer.token, bearer.client, bearer.user) == (
        access,
        await client(store, "app"),
        await user(store, "alice"),
    )
    client_token = await store.issue_client_token("other", T0, POLICY)
    bearer = await store.resolve(client_token.value, T0)
    assert bearer is not None
    assert (bearer.token, bearer.client, bearer.user) == (client_token, await client(store, "other"), None)
    assert await store.resolve(refresh.value, T0) is None
    assert await store.resolve("unknown", T0) is None
    assert await store.resolve(access.value, T0 + 3599.99) is not None
    assert await store.resolve(access.value, T0 + 3600) is None


async def test_revoke_with_the_access_token_hint_revokes_only_that_access_token(store: Store) -> None:
    access, refresh = await login(store)
    await store.revoke("app", access.value, "access_token", T0)
    assert not await alive(store, access)
    assert await alive(store, refresh)
    assert await store.refresh("app", refresh.value, T0, POLICY) is not None


@pytest.mark.parametrize(("which", "hint"), [(0, None), (0, "refresh_token"), (1, None), (1, "access_token")])
async def test_revoke_otherwise_revokes_the_whole_grant_and_nothing_else(
    store: Store, which: int, hint: str | None
) -> None:
    grant = await login(store)
    others = [*await login(store, policy=NO_REUSE), *await login(store, client_id="short")]
    await store.revoke("app", grant[which].value, hint, T0)
    assert [await alive(store, t) for t in grant] == [False, False]
    assert [await alive(store, t) for t in others] == [True] * 4


async def test_revoke_leaves_tokens_of_other_clients_and_unknown_tokens_alone(store: Store) -> None:
    theirs = await login(store, "bob", "bob-password", client_id="other")
    client_token = await store.issue_client_token("other", T0, POLICY)
    for token in (*theirs, client_token):
        await store.revoke("app", token.value, None, T0)
    await store.revoke("app", "unknown", None, T0)
    assert [await alive(store, t) for t in (*theirs, client_token)] == [True] * 3
    await store.revoke("other", client_token.value, None, T0)
    assert not await alive(store, client_token)


async def test_expire_token_ends_one_live_token_and_its_grant_keeps_the_others(store: Store) -> None:
    access, refresh = await login(store)
    assert await store.expire_token(access.value, T0) == access
    assert await store.resolve(access.value, T0) is None
    assert await store.refresh("app", refresh.value, T0, POLICY) is not None
    assert await store.expire_token(access.value, T0) is None
    other_access, other_refresh = await login(store, client_id="short")
    assert await store.expire_token(other_refresh.value, T0) == other_refresh
    assert await store.resolve(other_access.value, T0) is not None
    assert await store.expire_token("unknown", T0) is None
    assert await store.expire_token(other_access.value, T0 + 120) is None  # it ended by itself


async def test_tokens_lists_the_live_access_and_refresh_tokens(store: Store) -> None:
    assert await store.tokens(T0) == []
    client_token = await store.issue_client_token("short", T0, POLICY)
    access, refresh = await login(store, client_id="short")
    assert sorted(await store.tokens(T0)) == sorted([client_token, access, refresh])
    assert sorted(await store.tokens(T0 + 60)) == sorted([access, refresh])
    assert await store.tokens(T0 + 300) == []


# users
async def test_create_user_adds_a_user_unless_its_id_exists_in_its_mandator_in_any_case(store: Store) -> None:
    carol = User("m1", "Carol", "carol-password", email="carol@example.de", created_at=T0)
    assert await store.create_user(carol)
    assert await store.user("m1", "CAROL", T0) == carol
    for taken in ("carol", "ALICE", "Alice"):
        assert not await store.create_user(User("m1", taken, "another-password"))
    assert (await user(store, "carol")).password == "carol-password"
    assert (await user(store, "alice")).password == "alice-password"
    assert await store.create_user(User("m2", "carol", "m2-password"))
    assert (await user(store, "Carol", "m2")).password == "m2-password"


async def test_concurrent_creations_of_one_id_create_it_once(store: Store) -> None:
    spellings = ["dave", "Dave", "DAVE", "dAvE"] * 5
    made = await asyncio.gather(*(store.create_user(User("m1", s, f"pw-{n:04d}")) for n, s in enumerate(spellings)))
    assert made.count(True) == 1
    [winner] = [s for s, ok in zip(spellings, made, strict=True) if ok]
    assert [u.id for u in await store.users("m1", T0) if u.key == "dave"] == [winner]


async def test_users_are_found_case_insensitively_in_their_mandator_only(store: Store) -> None:
    alice = await user(store, "aLiCe")
    assert (alice.id, alice.mandator_id, alice.email, alice.verified, alice.created_at) == (
        "Alice",
        "m1",
        "alice@example.de",
        True,
        T0,
    )
    assert await store.user("m2", "alice", T0) is None
    assert await store.user("m9", "alice", T0) is None
    assert sorted(u.id for u in await store.users("m1", T0)) == ["Alice", "locked", "pending"]
    assert sorted(u.id for u in await store.users(None, T0)) == ["Alice", "bob", "locked", "pending"]
    assert await store.users("m9", T0) == []


async def test_update_user_answers_the_new_version(store: Store) -> None:
    before = await user(store, "alice")
    updated = await store.update_user("m1", "ALICE", {"email": None, "phone": "+49 1", "is_auto_update_enabled": True})
    assert updated is not None
    assert updated == User("m1", "Alice", "alice-password", None, "+49 1", True, created_at=T0)
    assert await user(store, "alice") == updated
    assert before.email == "alice@example.de"
    assert await store.update_user("m2", "alice", {"email": None}) is None


async def test_verify_user_answers_the_user_as_it_was(store: Store) -> None:
    before = await store.verify_user("m1", "PENDING")
    assert before is not None
    assert before.verified is False
    assert (await user(store, "pending")).verified is True
    again = await store.verify_user("m1", "pending")
    assert again is not None
    assert again.verified is True
    assert await store.verify_user("m2", "pending") is None


async def test_delete_user_answers_it_and_revokes_every_token_of_it(store: Store) -> None:
    tokens = [*await login(store), *await login(store, client_id="short")]
    bobs = await login(store, "bob", "bob-password", client_id="other")
    alice = await user(store, "alice")
    assert await store.delete_user("m1", "ALICE", T0) == alice
    assert await store.user("m1", "alice", T0) is None
    assert [await alive(store, t) for t in tokens] == [False] * 4
    assert [await alive(store, t) for t in bobs] == [True] * 2
    assert await store.delete_user("m1", "alice", T0) is None
    assert (await store.login("app", "alice", "alice-password", T0, POLICY)).outcome == "unknown_user"


async def test_delete_user_unverified_only_keeps_a_verified_user(store: Store) -> None:
    tokens = await login(store)
    alice = await store.delete_user("m1", "alice", T0, unverified_only=True)
    assert alice == await user(store, "alice")
    assert [await alive(store, t) for t in tokens] == [True, True]
    pending = await store.delete_user("m1", "pending", T0, unverified_only=True)
    assert pending is not None
    assert pending.verified is False
    assert await store.user("m1", "pending", T0) is None
    assert await store.delete_user("m1", "pending", T0, unverified_only=True) is None


async def test_every_deletion_is_remembered_in_its_mandator_with_a_distorted_id(store: Store) -> None:
    await login(store, now=T0 + 60)
    await store.delete_user("m1", "ALICE", T0 + DAY)
    await store.delete_user("m1", "pending", T0 + 2 * DAY, unverified_only=True)
    await store.delete_user("m2", "bob", T0 + 3 * DAY)
    found = await store.mandator_users("m1", T0 + 3 * DAY)
    assert found.live == {"locked": await user(store, "locked", now=T0 + 3 * DAY)}
    assert found.deleted == [
        DeletedUser("m1", "AXXXe", T0, T0 + DAY, T0 + 60),
        DeletedUser("m1", "pXXXXXg", T0, T0 + 2 * DAY, None),
    ]
    assert (await store.mandator_users("m2", T0)).deleted == [DeletedUser("m2", "bXb", T0, T0 + 3 * DAY, None)]
    # what is not deleted is not remembered: a verified user kept by unverified_only, an unknown one
    assert await store.delete_user("m1", "locked", T0, unverified_only=True) is not None
    assert await store.delete_user("m1", "nobody", T0) is None
    assert len((await store.mandator_users("m1", T0)).deleted) == 2
    assert await store.mandator_users("m9", T0) == MandatorUsers({}, [])


async def test_delete_users_deletes_the_known_ones_once_in_one_step(store: Store) -> None:
    tokens = await login(store)
    bobs = await login(store, "bob", "bob-password", client_id="other")
    deleted = await store.delete_users("m1", ["ALICE", "nobody", "alice", "bob", "Locked"], T0 + 5)
    assert [u.id for u in deleted] == ["Alice", "locked"]
    assert [await alive(store, t) for t in tokens] == [False, False]
    assert [await alive(store, t) for t in bobs] == [True, True]  # another mandator's bob stays
    found = await store.mandator_users("m1", T0 + 5)
    assert [(key, u.id) for key, u in found.live.items()] == [("pending", "pending")]
    assert [(d.user_id, d.deleted_at, d.last_active_at) for d in found.deleted] == [
        ("AXXXe", T0 + 5, T0),
        ("lXXXXd", T0 + 5, None),
    ]
    assert await store.delete_users("m1", [], T0) == []


async def test_a_process_users_retention_is_remembered_when_it_was_due(store: Store) -> None:
    [process] = await store.create_processes("app", [NewProcess("r", "USER_ONLY")], T0, LIMITS)
    assert (await store.exchange_process(process.token, True, T0 + 60, LIMITS, POLICY)).outcome == "ok"
    hidden = await user(store, process.user_id, now=T0 + 60)
    assert (hidden.created_at, hidden.last_active_at) == (T0, T0 + 60)
    due = T0 + 60 + 3 * DAY
    assert process.user_id in (await store.mandator_users("m1", due - 1)).live  # a uuid: lower-case already
    found = await store.mandator_users("m1", due + DAY)  # read a day late: dated when it was due
    assert process.user_id not in found.live
    distorted = process.user_id[0] + "X" * 34 + process.user_id[-1]
    assert found.deleted == [DeletedUser("m1", distorted, T0, due, T0 + 60)]
    await store.purge_expired(due + DAY, 100)  # the purge does not remember it twice
    assert len((await store.mandator_users("m1", due + DAY)).deleted) == 1


async def test_a_purged_process_user_is_remembered(store: Store) -> None:
    [process] = await store.create_processes("app", [NewProcess("r", "USER_ONLY")], T0, LIMITS)
    due = T0 + 10 * DAY  # never exchanged: validity (7 days) plus retention (3)
    assert await store.purge_expired(due, 100) >= 1
    [deleted] = (await store.mandator_users("m1", due)).deleted
    assert (deleted.user_id, deleted.deleted_at) == (process.user_id[0] + "X" * 34 + process.user_id[-1], due)


async def test_logins_refreshes_and_exchanges_set_the_last_active_time(store: Store) -> None:
    assert (await user(store, "alice")).last_active_at is None
    assert (await store.login("app", "alice", "wrong", T0 + 10, POLICY)).outcome == "bad_password"
    assert (await user(store, "alice")).last_active_at is None
    assert (await store.login("app", "pending", "pending-password", T0 + 10, POLICY)).outcome == "unverified"
    assert (await user(store, "pending")).last_active_at is None
    _, refresh = await login(store, now=T0 + 20)
    assert (await user(store, "alice")).last_active_at == T0 + 20
    await login(store, now=T0 + 30)  # a reused grant is a login too
    assert (await user(store, "alice")).last_active_at == T0 + 30
    assert await store.refresh("app", refresh.value, T0 + 40, POLICY) is not None
    assert (await user(store, "alice")).last_active_at == T0 + 40


async def test_the_oldest_deletions_of_any_mandator_are_forgotten_beyond_the_capacity(backend: str) -> None:
    fresh = build_state(
        load_text(SCENARIO, "store-protocol.yaml"), SEED, REAL, journal_size=1, capacity=Capacity(deleted_users=2)
    )
    store = await serve(backend, fresh)
    await store.delete_user("m1", "alice", T0)
    await store.delete_user("m2", "bob", T0 + 1)
    await store.delete_users("m1", ["pending"], T0 + 2)
    assert [d.user_id for d in (await store.mandator_users("m1", T0 + 3)).deleted] == ["pXXXXXg"]
    assert [d.user_id for d in (await store.mandator_users("m2", T0 + 3)).deleted] == ["bXb"]
    await store.delete_user("m1", "locked", T0 + 3)
    assert [d.user_id for d in (await store.mandator_users("m1", T0 + 3)).deleted] == ["pXXXXXg", "lXXXXd"]
    assert (await store.mandator_users("m2", T0 + 3)).deleted == []


async def test_lock_user_locks_and_revokes_every_token_of_it(store: Store) -> None:
    tokens = [*await login(store), *await login(store, client_id="forever")]
    locked = await store.lock_user("m1", "ALICE")
    assert locked is not None
    assert (locked.id, locked.locked) == ("Alice", True)
    assert await user(store, "alice") == locked
    assert [await alive(store, t) for t in tokens] == [False] * 4
    assert (await store.login("app", "alice", "alice-password", T0, POLICY)).outcome == "locked"
    assert await store.lock_user("m2", "alice") is None


async def test_change_password_needs_the_pending_change_token(store: Store) -> None:
    tokens = await login(store)
    assert await store.change_password("m1", "alice", "any-token", "new-password") is False  # none pending
    await store.update_user(
        "m1", "alice", {"password_change_token": "change-token", "locked": True, "failed_logins": 3}
    )
    assert await store.change_password("m1", "alice", "wrong-token", "new-password") is False
    assert (await user(store, "alice")).password == "alice-password"
    assert [await alive(store, t) for t in tokens] == [True, True]
    assert await store.change_password("m1", "ALICE", "change-token", "new-password") is True
    alice = await user(store, "alice")
    assert (alice.password, alice.password_change_token, alice.locked, alice.failed_logins) == (
        "new-password",
        None,
        False,
        0,
    )
    assert [await alive(store, t) for t in tokens] == [False, False]
    assert await store.change_password("m1", "alice", "change-token", "third-password") is False
    assert await store.change_password("m2", "alice", "change-token", "new-password") is None
    await login(store, password="new-password")


# processes
async def test_create_processes_makes_a_hidden_verified_user_for_each_in_order(store: Store) -> None:
    given = "3f1c6a52-8d0e-4b7a-9c1d-2e5f6a7b8c9d"
    new = [NewProcess("first", "USER_ONLY"), NewProcess(None, "KYC", given, exchanges=4, invalidated=True)]
    made = await store.create_processes("app", new, T0, LIMITS)
    first, second = made
    assert (first.client_id, first.mandator_id, first.client_reference, first.process_id) == (
        "app",
        "m1",
        "first",
        "USER_ONLY",
    )
    assert (first.created_at, first.exchanges, first.invalidated) == (T0, 0, False)
    assert (second.token, second.client_reference, second.process_id) == (given, None, "KYC")
    assert (second.exchanges, second.invalidated) == (4, True)
    assert re.fullmatch(UUID, first.token)
    assert first.user_id != second.user_id
    assert await store.processes(T0) == made
    for process in made:
        hidden = await user(store, process.user_id)
        assert (hidden.mandator_id, hidden.verified, hidden.locked, hidden.process_user) == ("m1", True, False, True)
        assert hidden.created_at == T0
    # retention: after the end of validity, or at once for an ended process
    assert (await user(store, first.user_id)).delete_at == T0 + 7 * DAY + 3 * DAY
    assert (await user(store, second.user_id)).delete_at == T0 + 3 * DAY


async def test_an_exchange_answers_a_new_access_token_of_the_hidden_user_and_counts(store: Store) -> None:
    [process] = await store.create_processes("short", [NewProcess("r", "USER_ONLY")], T0, LIMITS)
    done = await store.exchange_process(process.token.upper(), False, T0 + 10, LIMITS, POLICY)
    assert done.outcome == "ok"
    assert done.access is not None
    access = done.access
    assert (access.client_id, access.mandator_id, access.user_id) == ("short", "m1", process.user_id)
    assert (access.is_refresh, access.expires_at) == (False, T0 + 10 + 120)
    bearer = await store.resolve(access.value, T0 + 10)
    assert bearer is not None
    assert bearer.user == await user(store, process.user_id, now=T0 + 10)
    again = await store.exchange_process(process.token, False, T0 + 10, LIMITS, POLICY)
    assert again.access is not None
    assert again.access.value != access.value
    assert await alive(store, access, T0 + 10)  # earlier exchanges keep their tokens
    assert [p.exchanges for p in await store.processes(T0)] == [2]
    assert [t.is_refresh for t in await store.tokens(T0 + 10)] == [False, False]


async def test_an_unknown_process_token_is_unknown(store: Store) -> None:
    await store.create_processes("app", [NewProcess("r", "USER_ONLY")], T0, LIMITS)
    assert tuple(await store.exchange_process("00000000-0000-4000-8000-000000000000", False, T0, LIMITS, POLICY)) == (
        "unknown",
        None,
    )


async def test_an_exchange_with_invalidate_is_the_last(store: Store) -> None:
    [process] = await store.create_processes("app", [NewProcess("r", "USER_ONLY")], T0, LIMITS)
    assert (await store.exchange_process(process.token, True, T0, LIMITS, POLICY)).outcome == "ok"
    assert tuple(await store.exchange_process(process.token, False, T0, LIMITS, POLICY)) == ("invalidated", None)
    [stored] = await store.processes(T0)
    assert (stored.exchanges, stored.invalidated) == (1, True)


async def test_exchanges_stop_at_the_limit_and_refusals_do_not_count(store: Store) -> None:
    [process] = await store.create_processes("app", [NewProcess("r", "USER_ONLY")], T0, TWO_EXCHANGES)
    outcomes = [
        (await store.exchange_process(process.token, False, T0, TWO_EXCHANGES, POLICY)).outcome for _ in range(4)
    ]
    assert outcomes == ["ok", "ok", "exhausted", "exhausted"]
    assert [p.exchanges for p in await store.processes(T0)] == [2]


async def test_a_process_expires_validity_days_after_its_creation(store: Store) -> None:
    [process] = await store.create_processes("app", [NewProcess("r", "USER_ONLY")], T0, LIMITS)
    end = T0 + 7 * DAY
    assert (await store.exchange_process(process.token, False, end - 0.001, LIMITS, POLICY)).outcome == "ok"
    assert tuple(await store.exchange_process(process.token, False, end, LIMITS, POLICY)) == ("expired", None)
    assert [p.exchanges for p in await store.processes(end)] == [1]


async def test_the_first_limit_that_holds_names_the_refusal(store: Store) -> None:
    """Invalidated before exhausted before expired before a gone user."""
    new = [NewProcess("a", "USER_ONLY", exchanges=2, invalidated=True), NewProcess("b", "USER_ONLY", exchanges=2)]
    invalidated, exhausted = await store.create_processes("app", new, T0, TWO_EXCHANGES)
    for process in (invalidated, exhausted):
        await store.delete_user("m1", process.user_id, T0)
    late = T0 + 30 * DAY
    assert (
        await store.exchange_process(invalidated.token, False, late, TWO_EXCHANGES, POLICY)
    ).outcome == "invalidated"
    assert (await store.exchange_process(exhausted.token, False, late, TWO_EXCHANGES, POLICY)).outcome == "exhausted"
    [expired] = await store.create_processes("app", [NewProcess("c", "USER_ONLY")], T0, LIMITS)
    await store.delete_user("m1", expired.user_id, T0)
    assert (await store.exchange_process(expired.token, False, T0 + 7 * DAY, LIMITS, POLICY)).outcome == "expired"


async def test_an_exchange_after_the_hidden_user_is_gone_says_so(store: Store) -> None:
    [process] = await store.create_processes("app", [NewProcess("r", "USER_ONLY")], T0, LIMITS)
    await store.delete_user("m1", process.user_id, T0)
    assert tuple(await store.exchange_process(process.token, False, T0, LIMITS, POLICY)) == ("user_gone", None)
    # a user created since under the hidden user's id is not the process's user
    assert await store.create_user(User("m1", process.user_id, "taken-over"))
    assert tuple(await store.exchange_process(process.token, False, T0, LIMITS, POLICY)) == ("user_gone", None)
    assert (await user(store, process.user_id)).delete_at is None
    assert [p.exchanges for p in await store.processes(T0)] == [0]


async def test_retention_deletes_the_hidden_user_and_its_tokens_after_the_process_ended(store: Store) -> None:
    ended, running = await store.create_processes(
        "forever", [NewProcess("ended", "USER_ONLY"), NewProcess("running", "USER_ONLY")], T0, LIMITS
    )
    t = T0 + 3600
    done = await store.exchange_process(ended.token, True, t, LIMITS, POLICY)
    kept = await store.exchange_process(running.token, False, t, LIMITS, POLICY)
    assert done.access is not None
    assert kept.access is not None
    assert (await user(store, ended.user_id, now=t)).delete_at == t + 3 * DAY
    due = t + 3 * DAY
    assert await store.resolve(done.access.value, due - 1) is not None
    assert await store.user("m1", ended.user_id, due - 1) is not None
    assert await store.resolve(done.access.value, due) is None
    assert await store.user("m1", ended.user_id, due) is None
    assert not await alive(store, done.access, due)
    assert await store.resolve(kept.access.value, due) is not None
    assert (await store.exchange_process(ended.token, False, due, LIMITS, POLICY)).outcome == "invalidated"
    assert len(await store.processes(due)) == 2  # processes stay: their tokens keep answering 410, not 404


async def test_a_never_exchanged_processs_user_goes_retention_days_after_its_validity(store: Store) -> None:
    [process] = await store.create_processes("app", [NewProcess("r", "USER_ONLY")], T0, LIMITS)
    due = T0 + 10 * DAY
    assert process.user_id in {u.id for u in await store.users("m1", due - 1)}
    assert process.user_id not in {u.id for u in await store.users("m1", due)}


async def test_each_exchange_moves_the_deletion_of_the_hidden_user(store: Store) -> None:
    limits = ProcessLimits(max_exchanges=3)
    [process] = await store.create_processes("app", [NewProcess("r", "USER_ONLY")], T0, limits)
    await store.exchange_process(process.token, False, T0 + DAY, limits, POLICY)
    assert (await user(store, process.user_id, now=T0 + DAY)).delete_at == T0 + 10 * DAY  # still running
    await store.exchange_process(process.token, False, T0 + DAY, limits, POLICY)
    await store.exchange_process(process.token, False, T0 + 2 * DAY, limits, POLICY)  # the last allowed one
    assert (await user(store, process.user_id, now=T0 + 2 * DAY)).delete_at == T0 + 5 * DAY
    assert await store.user("m1", process.user_id, T0 + 5 * DAY) is None


async def test_concurrent_exchanges_never_pass_the_limit(store: Store) -> None:
    limits = ProcessLimits(max_exchanges=3)
    [process] = await store.create_processes("app", [NewProcess("r", "USER_ONLY")], T0, limits)
    done = await asyncio.gather(*(store.exchange_process(process.token, False, T0, limits, POLICY) for _ in range(10)))
    assert sorted(d.outcome for d in done) == ["exhausted"] * 7 + ["ok"] * 3
    assert len({d.access.value for d in done if d.access is not None}) == 3


# faults
async def test_add_fault_appends_a_rule_unless_its_name_exists(store: Store) -> None:
    assert await store.add_fault(rule("a"))
    assert await store.add_fault(rule("b", after=1))
    assert not await store.add_fault(rule("a", times=1))
    counts = await store.fault_counts()
    assert [(c.rule, c.matched, c.fired) for c in counts] == [(rule("a"), 0, 0), (rule("b", after=1), 0, 0)]


async def test_fire_fault_counts_the_rules_it_reached_and_answers_the_first_that_fires(store: Store) -> None:
    for made in (rule("skips", after=1), rule("once", times=1), rule("always"), rule("elsewhere")):
        await store.add_fault(made)
    matching = ["skips", "once", "always", "nobody"]
    assert await fire(store, matching, 4) == ["once", "skips", "skips", "skips"]
    counts = {c.rule.name: (c.matched, c.fired) for c in await store.fault_counts()}
    assert counts == {"skips": (4, 3), "once": (1, 1), "always": (0, 0), "elsewhere": (0, 0)}
    assert await store.fire_fault([]) is None
    assert await store.fire_fault(["nobody"]) is None


async def test_after_and_times_shape_when_a_rule_fires(store: Store) -> None:
    await store.add_fault(rule("r", after=2, times=2))
    await store.add_fault(rule("next"))
    assert await fire(store, ["r", "next"], 6) == ["next", "next", "r", "r", "next", "next"]
    counts = {c.rule.name: (c.matched, c.fired) for c in await store.fault_counts()}
    assert counts == {"r": (6, 2), "next": (4, 4)}


async def test_probability_draws_from_the_seeded_source_once_the_schedule_lets_a_rule_fire(store: Store) -> None:
    await store.add_fault(rule("coin", after=3, probability=0.5))
    start = await store.draw(FAULTS)
    fired = await fire(store, ["coin"], 43)
    source = Randomness(SEED)
    expected = [None] * 3 + ["coin" if source.fraction(FAULTS, start + 1 + n) < 0.5 else None for n in range(40)]
    assert fired == expected
    assert 10 < fired.count("coin") < 30
    assert await store.draw(FAULTS) == start + 41  # the skipped matches drew nothing
    [count] = await store.fault_counts()
    assert (count.matched, count.fired) == (43, fired.count("coin"))


async def test_probability_0_never_fires_and_times_caps_a_probable_rule(store: Store) -> None:
    await store.add_fault(rule("never", probability=0.0))
    await store.add_fault(rule("capped", probability=0.9, times=2))
    fired = await fire(store, ["never", "capped"], 30)
    assert fired.count("capped") == 2
    assert fired.count("never") == 0
    counts = {c.rule.name: (c.matched, c.fired) for c in await store.fault_counts()}
    assert counts == {"never": (30, 0), "capped": (30, 2)}


async def test_concurrent_requests_fire_a_rule_at_most_times(store: Store) -> None:
    await store.add_fault(rule("r", times=3))
    fired = await asyncio.gather(*(store.fire_fault(["r"]) for _ in range(20)))
    assert sum(f is not None for f in fired) == 3
    assert [(c.matched, c.fired) for c in await store.fault_counts()] == [(20, 3)]


async def test_clear_faults_removes_every_rule_and_answers_how_many(store: Store) -> None:
    await store.add_fault(rule("a"))
    await store.add_fault(rule("b"))
    await store.fire_fault(["a"])
    assert await store.clear_faults() == 2
    assert (await store.fault_counts(), (await store.prepare()).faults) == ([], ())
    assert await store.fire_fault(["a"]) is None
    assert await store.clear_faults() == 0
    assert await store.add_fault(rule("a"))
    assert [(c.matched, c.fired) for c in await store.fault_counts()] == [(0, 0)]


# journal
async def record_all(store: Store) -> None:
    for made in (
        entry("r0", method="POST", path="/api/v2/oauth/token"),
        entry("r1", status=401, client_id=None, mandator_id=None),
        entry("r2", path="/api/v2/users/verify/x", fault="flaky", status=503),
        entry("r3", method="DELETE", client_id="other", mandator_id="m2"),
        entry("r4", method="POST", path="/api/v1/oauth/token", fault="flaky", status=503),
    ):
        await store.record(made)


async def test_the_journal_answers_entries_newest_first_as_recorded(store: Store) -> None:
    assert await store.journal(JournalQuery()) == []
    await record_all(store)
    everything = await store.journal(JournalQuery())
    assert ids(everything) == ["r4", "r3", "r2", "r1", "r0"]
    assert everything[-1] == entry("r0", method="POST", path="/api/v2/oauth/token")
    assert ids(await store.journal(JournalQuery(), 2)) == ["r4", "r3"]
    assert await store.journal(JournalQuery(), 0) == []
    assert ids(await store.journal(JournalQuery(), 99)) == ids(everything)


@pytest.mark.parametrize(
    ("query", "selected"),
    [
        (JournalQuery(method="post"), ["r4", "r0"]),
        (JournalQuery(path="/api/v2/users"), ["r3", "r1"]),
        (JournalQuery(path="*/oauth/token"), ["r4", "r0"]),
        (JournalQuery(path="/api/v2/users*"), ["r3", "r2", "r1"]),
        (JournalQuery(status=503), ["r4", "r2"]),
        (JournalQuery(client_id="app"), ["r4", "r2", "r0"]),
        (JournalQuery(mandator_id="m2"), ["r3"]),
        (JournalQuery(fault="flaky"), ["r4", "r2"]),
        (JournalQuery(method="POST", fault="flaky"), ["r4"]),
        (JournalQuery(method="GET", status=503, path="/api/v2/*"), ["r2"]),
        (JournalQuery(fault="other"), []),
    ],
)
async def test_a_journal_query_selects_entries_meeting_every_criterion(
    store: Store, query: JournalQuery, selected: list[str]
) -> None:
    await record_all(store)
    assert ids(await store.journal(query)) == selected
    assert ids(await store.journal(query, 1)) == selected[:1]
    assert await store.count_journal(query) == len(selected)


async def test_clear_journal_removes_the_selected_entries_and_keeps_the_others_in_order(store: Store) -> None:
    await record_all(store)
    assert await store.clear_journal(JournalQuery(fault="flaky")) == 2
    assert ids(await store.journal(JournalQuery())) == ["r3", "r1", "r0"]
    await store.record(entry("r5"))
    assert ids(await store.journal(JournalQuery())) == ["r5", "r3", "r1", "r0"]
    assert await store.clear_journal() == 4
    assert (await store.journal(JournalQuery()), await store.count_journal(JournalQuery())) == ([], 0)
    assert await store.clear_journal(JournalQuery()) == 0


async def test_the_journal_keeps_the_newest_entries_up_to_its_size(store: Store) -> None:
    for n in range(JOURNAL_SIZE + 5):
        await store.record(entry(f"r{n}"))
    kept = await store.journal(JournalQuery())
    assert len(kept) == await store.count_journal(JournalQuery()) == JOURNAL_SIZE
    assert (kept[0].request_id, kept[-1].request_id) == (f"r{JOURNAL_SIZE + 4}", "r5")


# upkeep
async def test_purge_expired_drops_at_most_its_budget_of_expired_tokens(store: Store) -> None:
    for _ in range(10):
        await store.issue_client_token("short", T0, NO_REUSE)  # 60 s
    assert await store.purge_expired(T0 + 59, 100) == 0
    assert len(await store.tokens(T0 + 59)) == 10
    assert [await store.purge_expired(T0 + 60, 4) for _ in range(4)] == [4, 4, 2, 0]
    assert await store.tokens(T0 + 60) == []


async def test_purge_expired_drops_due_user_deletions(store: Store) -> None:
    [process] = await store.create_processes("forever", [NewProcess("r", "USER_ONLY")], T0, LIMITS)
    done = await store.exchange_process(process.token, True, T0, LIMITS, POLICY)
    assert done.access is not None
    due = T0 + 3 * DAY
    assert await store.purge_expired(due - 1, 100) == 0
    assert await store.purge_expired(due, 100) == 1
    assert await store.user("m1", process.user_id, due) is None
    assert not await alive(store, done.access, due)
    assert await store.purge_expired(due, 100) == 0


async def test_stats_count_what_the_state_holds(store: Store) -> None:
    before = await store.stats()
    assert (before.clients, before.users, before.tokens, before.grants, before.processes) == (5, 4, 0, 0, 0)
    assert (before.journal_entries, before.journal_bytes) == (0, 0)
    await login(store)
    await store.issue_client_token("app", T0, POLICY)
    await store.create_processes("app", [NewProcess("r", "USER_ONLY")], T0, LIMITS)
    await store.record(entry("r0")._replace(body=b"12345"))
    after = await store.stats()
    assert (after.clients, after.users, after.tokens, after.grants, after.processes) == (5, 5, 3, 2, 1)
    assert (after.journal_entries, after.journal_bytes) == (1, 5)
    assert after.expiry_index >= 3


# whole-state operations
async def changed_everywhere(store: Store) -> dict[str, Token]:
    """Run-time changes in both mandators: users, tokens, a process, a config change, journal entries."""
    await store.create_user(User("m1", "carol", "carol-password"))
    await store.create_user(User("m2", "dave", "dave-password"))
    await store.update_client_config("app", {"userAccessTokensValidityPeriod": 60})
    await store.create_processes("app", [NewProcess("r", "USER_ONLY")], T0, LIMITS)
    alice, _ = await login(store)
    bob, _ = await login(store, "bob", "bob-password", client_id="other")
    await store.record(entry("m1-entry"))
    await store.record(entry("m2-entry", client_id="other", mandator_id="m2"))
    await store.record(entry("no-mandator", client_id=None, mandator_id=None))
    return {"alice": alice, "bob": bob}


async def test_reset_mandator_puts_back_one_mandators_slice_and_keeps_the_rest(store: Store) -> None:
    tokens = await changed_everywhere(store)
    clock = await store.move_clock(ClockMove(advance=3600), REAL)
    await store.add_fault(rule("kept"))
    assert await store.reset_mandator("m1", fresh_state())
    assert await store.user("m1", "carol", T0) is None
    assert (await client(store, "app")).config["userAccessTokensValidityPeriod"] == 3600
    assert await store.processes(T0) == []
    assert await store.resolve(tokens["alice"].value, T0) is None
    assert sorted(u.id for u in await store.users("m1", T0)) == ["Alice", "locked", "pending"]
    # the other mandator, the clock, the fault rules and entries of no mandator stay
    assert sorted(u.id for u in await store.users("m2", T0)) == ["bob", "dave"]
    assert await store.resolve(tokens["bob"].value, T0) is not None
    assert ids(await store.journal(JournalQuery())) == ["no-mandator", "m2-entry"]
    assert ((await store.prepare()).clock, [c.rule.name for c in await store.fault_counts()]) == (clock, ["kept"])
    await login(store)  # the mandator serves again


async def test_reset_mandator_of_a_mandator_neither_state_knows_changes_nothing(store: Store) -> None:
    await changed_everywhere(store)
    users, journal = await store.users(None, T0), await store.journal(JournalQuery())
    assert not await store.reset_mandator("m9", fresh_state())
    assert (await store.users(None, T0), await store.journal(JournalQuery())) == (users, journal)


async def test_reset_mandator_drops_a_mandator_that_only_the_run_knew(store: Store) -> None:
    await store.register_client(Client("newcomer", "s", "app", "m3", (await client(store, "app")).config, True))
    await store.create_user(User("m3", "erin", "erin-password"))
    assert await store.reset_mandator("m3", fresh_state())
    assert await store.client("newcomer") is None
    assert await store.users("m3", T0) == []
    assert await store.client("app") is not None


async def test_reset_mandator_forgets_that_mandators_deletions_only_and_replace_forgets_all(store: Store) -> None:
    await store.delete_user("m1", "alice", T0)
    await store.delete_user("m2", "bob", T0)
    assert await store.reset_mandator("m1", fresh_state())
    assert await store.mandator_users("m1", T0) == MandatorUsers(
        {name: await user(store, name) for name in ("alice", "pending", "locked")}, []
    )
    assert [d.user_id for d in (await store.mandator_users("m2", T0)).deleted] == ["bXb"]
    await store.delete_user("m1", "alice", T0 + 1)
    assert [d.user_id for d in (await store.mandator_users("m1", T0)).deleted] == ["AXXXe"]
    await store.replace(fresh_state())
    assert [(await store.mandator_users(m, T0)).deleted for m in ("m1", "m2")] == [[], []]


async def test_replace_puts_a_fresh_state_in_place_of_everything(store: Store, backend: str) -> None:
    await changed_everywhere(store)
    await store.move_clock(ClockMove(advance=3600), REAL)
    await store.add_fault(rule("gone"))
    fresh = fresh_state(seed=99, text=SCENARIO.replace("frozen: true", "frozen: false"))
    await store.replace(fresh)
    prelude = await store.prepare()
    assert (prelude.clock.frozen, prelude.clock.time(REAL + 5), prelude.faults) == (False, T0 + 5, ())
    assert sorted(u.id for u in await store.users(None, T0)) == ["Alice", "bob", "locked", "pending"]
    assert (await store.tokens(T0), await store.processes(T0), await store.journal(JournalQuery())) == ([], [], [])
    assert (await client(store, "app")).config["userAccessTokensValidityPeriod"] == 3600
    # the seeded source is the fresh state's: the same tokens as a store that started with it
    twin = await serve(backend, fresh_state(seed=99))
    minted = [await s.issue_client_token("app", T0, NO_REUSE) for s in (store, twin)]
    assert minted[0] == minted[1]


# determinism
async def run_of(store: Store) -> list[str]:
    """Values a fixed sequence of operations draws from the seeded source."""
    values = [(await store.issue_client_token("app", T0, NO_REUSE)).value]
    values += [t.value for t in await login(store, policy=NO_REUSE)]
    [process] = await store.create_processes("app", [NewProcess("r", "USER_ONLY")], T0, LIMITS)
    values += [process.token, process.user_id, (await user(store, process.user_id)).password]
    done = await store.exchange_process(process.token, False, T0, LIMITS, POLICY)
    assert done.access is not None
    return [*values, done.access.value]


async def test_the_same_seed_and_operations_give_the_same_values_and_another_seed_others(backend: str) -> None:
    runs = [await run_of(await serve(backend, fresh_state(seed))) for seed in (SEED, SEED, SEED + 1)]
    assert runs[0] == runs[1]
    assert set(runs[0]).isdisjoint(runs[2])


async def test_tokens_in_the_finapi_format_are_128_characters(store: Store) -> None:
    token = await store.issue_client_token("app", T0, TokenPolicy(format="finapi"))
    assert re.fullmatch(r"[A-Za-z0-9_]{128}", token.value)


# whole-state export (snapshots)
async def _observed(store: Store) -> list[object]:
    """What the store answers about its whole state."""
    prelude = await store.prepare()
    return [
        prelude,
        await store.clients(),
        await store.mandators(),
        await store.users(None, T0),
        await store.tokens(T0),
        await store.processes(T0),
        await store.fault_counts(),
        await store.journal(JournalQuery()),
        await store.mandator_users("m1", T0),
    ]


async def _next_values(store: Store) -> list[object]:
    """What the next operations answer: new tokens (drawn from the positions), reuse, a fault's counters."""
    fresh = await store.issue_client_token("app", T0, NO_REUSE)
    access, refresh = await login(store)
    renewed = await store.refresh("app", refresh.value, T0, POLICY)
    [process] = await store.create_processes("app", [NewProcess(None, "USER_ONLY")], T0, LIMITS)
    exchanged = await store.exchange_process(process.token, False, T0, LIMITS, POLICY)
    return [fresh, access, refresh, renewed, process, exchanged, await fire(store, ["twice"], 3)]


async def test_export_takes_the_state_in_one_step_and_a_store_rebuilt_from_it_goes_on_alike(
    store: Store, backend: str
) -> None:
    await store.move_clock(ClockMove(advance=60), REAL)
    await store.issue_client_token("app", T0, POLICY)
    _, refresh = await login(store)
    await store.refresh("app", refresh.value, T0, POLICY)
    await store.login("short", "pending", "wrong", T0, POLICY)
    await store.delete_user("m2", "bob", T0)
    await store.create_processes("app", [NewProcess("ref", "USER_ONLY")], T0, LIMITS)
    await store.add_fault(rule("twice", after=1, times=2))
    await fire(store, ["twice"], 2)
    await store.record(entry("r1"))
    assemble = await store.export(journal=True)
    await store.issue_client_token("app", T0, NO_REUSE)  # after the export: not in it
    await store.record(entry("r2"))
    rebuilt = await serve(backend, MemoryStore.from_image(SEED, assemble(), journal_size=JOURNAL_SIZE))
    again = await serve(backend, fresh_state())
    await again.replace(MemoryStore.from_image(SEED, assemble(), journal_size=JOURNAL_SIZE))
    assert ids(await rebuilt.journal(JournalQuery())) == ["r1"]
    assert await _observed(rebuilt) == await _observed(again)
    assert await _next_values(rebuilt) == await _next_values(again)
    without = MemoryStore.from_image(SEED, (await store.export(journal=False))(), journal_size=JOURNAL_SIZE)
    assert await without.journal(JournalQuery()) == []


def test_the_suite_exercises_every_operation_of_the_protocol() -> None:
    """This file, test_store_banking.py (the bank data operations) and test_store_webforms.py (web forms, tasks and
    callbacks), on the same backends."""
    operations = [name for name, _ in inspect.getmembers(Store, inspect.iscoroutinefunction)]
    assert len(operations) > 30
    here = Path(__file__)
    files = [here, here.with_name("test_store_banking.py"), here.with_name("test_store_webforms.py")]
    source = "".join(file.read_text(encoding="utf-8") for file in files)
    assert [name for name in operations if f".{name}(" not in source] == []

"""Concurrency without lost writes (issue 6, point 4), over a real socket.

A ThreadedServer serves on 127.0.0.1; an httpx.AsyncClient with a large connection pool fires the requests at once
with asyncio.gather, so the server really interleaves them. Afterwards the in-process world shows that the store's
cross-references still agree (no half-done write, no orphaned token or grant).
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from mock_finapi.services.processes import MSG_EXHAUSTED
from mock_finapi.state.store import Store
from mock_finapi.testing.server import ThreadedServer
from mock_finapi.world import World
from tests.helpers import CLIENT_CREDENTIALS, TOKEN_PATH, bearer, password_grant

T = TypeVar("T")
TIMEOUT = httpx.Timeout(20.0, connect=10.0, pool=20.0)
"""Per request; the whole burst takes well under a second, so only a hang reaches these."""
POOL = 10
"""Connections per client: a burst spreads over enough clients that every request has a connection of its own."""
FRESH_PROCESS = "3f1c6a52-8d0e-4b7a-9c1d-2e5f6a7b8c9d"
"""The giroident scenario's unused process token (10 exchanges allowed)."""


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedServer]:
    with ThreadedServer(scenario="default", seed=1) as served:
        yield served


@pytest.fixture
def world(server: ThreadedServer) -> World:
    return server.reset()


@pytest.fixture(autouse=True)
def _fast_httpcore(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpcore imports sniffio on every pool operation; anyio 4 no longer installs it, and a failed import is not
    cached, so each request searched sys.path a few times (seconds per burst). Under asyncio httpcore's fallback
    without sniffio is what it would detect anyway."""
    if importlib.util.find_spec("sniffio") is None:  # installed, it is imported once and all is well
        monkeypatch.setitem(sys.modules, "sniffio", None)


def burst(url: str, count: int, call: Callable[[httpx.AsyncClient, int], Awaitable[T]]) -> list[T]:
    """`call(client, i)` for i in range(count), all in flight at once; answers in call order.

    The calls share pooled clients of POOL connections each (httpcore's pool bookkeeping grows with the square of
    its waiting requests, so one huge pool would be slower than the server under test).
    """

    async def run() -> list[T]:
        limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
        clients = [
            # plain HTTP to 127.0.0.1: verify=False only spares each client loading the CA bundle (~0.1 s)
            httpx.AsyncClient(base_url=url, limits=limits, timeout=TIMEOUT, verify=False)  # noqa: S501
            for _ in range(-(-count // POOL))
        ]
        try:
            return list(await asyncio.gather(*(call(clients[i // POOL], i) for i in range(count))))
        finally:
            await asyncio.gather(*(client.aclose() for client in clients))

    return asyncio.run(run())


def client_token(url: str) -> str:
    response = httpx.post(url + TOKEN_PATH[2], data=CLIENT_CREDENTIALS, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["code"]
    return code


def assert_store_invariants(world: World) -> None:
    """Every cross-reference of the store agrees with its counterpart."""
    store: Store = world.store
    for value, token in store.tokens.items():
        assert token.value == value
        grant = token.grant
        if token.is_refresh:
            assert grant.refresh == value, f"refresh token {value} is not its grant's refresh token"
        else:
            assert value in grant.access, f"access token {value} is not in its grant's access list"
        if grant.user is not None:
            assert grant in grant.user.grants, f"the grant of token {value} is not in its user's grants"
            assert store.user(grant.user.mandator_id, grant.user.id) is grant.user, f"token {value} of a gone user"
        assert grant.client is store.clients[grant.client.client_id]
    for mandator_id, mandator in store.mandators.items():
        for key, user in mandator.users.items():
            assert key == user.key, f"user {user.id} filed under {key!r}"
            assert user.mandator_id == mandator_id
            for grant in user.grants:
                assert grant.user is user
                for value in [*grant.access, *([grant.refresh] if grant.refresh else [])]:
                    assert store.tokens[value].grant is grant, f"grant of {user.id} lists a token it does not own"
    for (client_id, user_key), grant in store.user_grants.items():
        assert grant.client.client_id == client_id
        assert grant.user is not None
        assert grant.user.key == user_key
        assert grant in grant.user.grants
    for client_id, grant in store.client_grants.items():
        assert grant.client.client_id == client_id
        assert grant.user is None
    limit = world.processes.limits.max_exchanges
    for key, process in store.processes.items():
        assert key == process.token.lower()
        assert 0 <= process.exchanges <= limit, f"process {process.token} exchanged {process.exchanges} times"


def test_200_concurrent_creations_of_one_user_id_make_exactly_one_user(server: ThreadedServer, world: World) -> None:
    headers = bearer(client_token(server.url))
    users_before = sum(len(m.users) for m in world.store.mandators.values())

    responses = burst(
        server.url,
        200,
        lambda client, i: client.post(
            "/api/v2/users", json={"id": "racer", "password": f"password-{i}"}, headers=headers
        ),
    )

    assert Counter(r.status_code for r in responses) == {201: 1, 422: 199}
    assert {error_code(r) for r in responses if r.status_code == 422} == {"ENTITY_EXISTS"}
    winner = next(r.json() for r in responses if r.status_code == 201)
    assert winner["id"] == "racer"
    stored = [u for m in world.store.mandators.values() for u in m.users.values() if u.key == "racer"]
    assert len(stored) == 1
    assert stored[0].password == winner["password"]  # the one write that won is the one that stayed
    assert sum(len(m.users) for m in world.store.mandators.values()) == users_before + 1
    assert_store_invariants(world)


def test_500_concurrent_password_grants_for_500_users_give_500_distinct_working_tokens(
    server: ThreadedServer, world: World
) -> None:
    # Created in-process, through the service POST /users calls: the burst under test is the token requests.
    client = world.store.clients[CLIENT_CREDENTIALS["client_id"]]
    ids = [f"user-{i:03d}" for i in range(500)]
    for i, user_id in enumerate(ids):
        world.users.create(client, {"id": user_id, "password": f"secret-{i}"})

    # tokens: {reuse: true} (the default scenario) hands a user's live token out again, but never another user's
    granted = burst(
        server.url, 500, lambda client, i: client.post(TOKEN_PATH[2], data=password_grant(ids[i], f"secret-{i}"))
    )

    assert Counter(r.status_code for r in granted) == {200: 500}
    access = [r.json()["access_token"] for r in granted]
    refresh = [r.json()["refresh_token"] for r in granted]
    assert len(set(access)) == 500
    assert len(set(refresh)) == 500
    assert not set(access) & set(refresh)
    answers = burst(server.url, 500, lambda client, i: client.get("/api/v2/users", headers=bearer(access[i])))
    assert Counter(r.status_code for r in answers) == {200: 500}
    assert [r.json()["id"] for r in answers] == ids
    for user_id, token in zip(ids, access, strict=True):
        user = world.store.tokens[token].grant.user
        assert user is not None
        assert user.id == user_id
        assert len(user.grants) == 1
    assert_store_invariants(world)


def test_concurrent_password_grants_for_one_user_share_one_grant_under_token_reuse(
    server: ThreadedServer, world: World
) -> None:
    assert world.tokens.settings.reuse

    granted = burst(server.url, 100, lambda client, _: client.post(TOKEN_PATH[2], data=password_grant()))

    assert Counter(r.status_code for r in granted) == {200: 100}
    assert len({(r.json()["access_token"], r.json()["refresh_token"]) for r in granted}) == 1
    user = world.store.user(world.scenario.clients[0].mandator_id, "username")
    assert user is not None
    assert len(user.grants) == 1
    assert_store_invariants(world)


def test_a_process_token_exchanged_50_times_at_once_succeeds_exactly_10_times() -> None:
    with ThreadedServer(scenario="giroident") as server:
        world = server.world
        assert world.processes.limits.max_exchanges == 10

        responses = burst(server.url, 50, lambda client, _: client.get(f"/api/v1/processes/{FRESH_PROCESS}"))

        assert Counter(r.status_code for r in responses) == {200: 10, 410: 40}
        refused: list[dict[str, Any]] = [r.json()["errors"][0] for r in responses if r.status_code == 410]
        assert {(e["code"], e["message"]) for e in refused} == {
            ("ILLEGAL_ENTITY_STATE", MSG_EXHAUSTED.format(limit=10))
        }
        tokens = [r.json()["accessToken"] for r in responses if r.status_code == 200]
        assert len(set(tokens)) == 10
        process = world.store.process(FRESH_PROCESS)
        assert process is not None
        assert process.exchanges == 10
        users = burst(server.url, 10, lambda client, i: client.get("/api/v2/users", headers=bearer(tokens[i])))
        assert {(r.status_code, r.json()["id"]) for r in users} == {(200, process.user.id)}
        assert len(process.user.grants) == 10
        assert_store_invariants(world)

"""Concurrency without lost writes (issue 6, point 4), over a real socket.

A ThreadedServer serves on 127.0.0.1; an httpx.AsyncClient with a large connection pool fires the requests at once
with asyncio.gather, so the server really interleaves them. Afterwards the state, as the admin API shows it (any
backend), agrees with itself and with the answers: no half-done write, no token of a gone user, no extra token or
grant, no process exchanged past its limit.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from mock_finapi.services.journal import mask_token
from mock_finapi.services.processes import MSG_EXHAUSTED
from mock_finapi.testing.server import ThreadedServer
from mock_finapi.world import World
from tests.helpers import CLIENT_CREDENTIALS, SCENARIO, TOKEN_PATH, bearer, password_grant

T = TypeVar("T")
TIMEOUT = httpx.Timeout(20.0, connect=10.0, pool=20.0)
"""Per request; the whole burst takes well under a second, so only a hang reaches these."""
POOL = 10
"""Connections per client: a burst spreads over enough clients that every request has a connection of its own."""
FRESH_PROCESS = "3f1c6a52-8d0e-4b7a-9c1d-2e5f6a7b8c9d"
"""The giroident scenario's unused process token (10 exchanges allowed)."""


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedServer]:
    with ThreadedServer(scenario=SCENARIO, seed=1) as served:
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


def masked(values: Iterable[str]) -> Counter[str]:
    """Token values as the admin API shows them (their first characters)."""
    return Counter(mask_token(value) for value in values)


def tokens_of(server: ThreadedServer, user_id: str) -> list[dict[str, Any]]:
    return [token for token in server.admin.tokens() if token["userId"] == user_id]


def assert_state_consistent(server: ThreadedServer) -> None:
    """Every reference between users, tokens and processes agrees with its counterpart."""
    world = server.world
    users = server.admin.users()
    tokens = server.admin.tokens()
    processes = server.admin.processes()
    keys = [(user["mandatorId"], user["id"].lower()) for user in users]
    assert len(keys) == len(set(keys)), "a user id twice in one mandator (ids are case-insensitive)"
    by_key = {(user["mandatorId"], user["id"].lower()): user for user in users}
    clients = {client.client_id: client.mandator_id for client in world.scenario.clients}
    for token in tokens:
        assert clients.get(token["clientId"]) == token["mandatorId"], f"token {token['token']} of an unknown client"
        if token["userId"] is None:
            assert token["type"] == "access", f"refresh token {token['token']} of no user"
        else:
            owner = by_key.get((token["mandatorId"], token["userId"].lower()))
            assert owner is not None, f"token {token['token']} of a gone user"
            assert owner["id"] == token["userId"]
    limit = world.processes.limits.max_exchanges
    for process in processes:
        assert 0 <= process["exchanges"] <= limit, f"process {process['processToken']} exchanged too often"
        user = by_key.get((process["mandatorId"], process["userId"].lower()))
        assert user is not None, f"process {process['processToken']} without its user"
        assert user["processUser"] is True


@pytest.mark.slow
def test_200_concurrent_creations_of_one_user_id_make_exactly_one_user(server: ThreadedServer, world: World) -> None:
    headers = bearer(client_token(server.url))
    users_before = len(server.admin.users())

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
    stored = [u for u in server.admin.users() if u["id"].lower() == "racer"]
    assert [u["id"] for u in stored] == ["racer"]
    assert len(server.admin.users()) == users_before + 1
    # the one write that won is the one that stayed: its password logs in, a losing one does not
    loser = next(f"password-{i}" for i in range(200) if f"password-{i}" != winner["password"])
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        assert http.post(TOKEN_PATH[2], data=password_grant("racer", winner["password"])).status_code == 200
        refused = http.post(TOKEN_PATH[2], data=password_grant("racer", loser))
        assert (refused.status_code, refused.json()["errors"][0]["message"]) == (400, "Bad user credentials")
    assert_state_consistent(server)


@pytest.mark.slow
def test_500_concurrent_password_grants_for_500_users_give_500_distinct_working_tokens(
    server: ThreadedServer, world: World
) -> None:
    headers = bearer(client_token(server.url))
    ids = [f"user-{i:03d}" for i in range(500)]
    created = burst(
        server.url,
        500,
        lambda client, i: client.post("/api/v2/users", json={"id": ids[i], "password": f"secret-{i}"}, headers=headers),
    )
    assert Counter(r.status_code for r in created) == {201: 500}

    # tokens: {reuse: true} (the suite's scenario) hands a user's live token out again, but never another user's
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
    # each user holds exactly the access and refresh token it was answered (one grant), and no other
    tokens = [token for token in server.admin.tokens() if token["userId"] in set(ids)]
    assert Counter((token["userId"], token["type"]) for token in tokens) == {
        (user_id, kind): 1 for user_id in ids for kind in ("access", "refresh")
    }
    assert masked(token["token"] for token in tokens) == masked([*access, *refresh])
    assert_state_consistent(server)


def test_concurrent_password_grants_for_one_user_share_one_grant_under_token_reuse(
    server: ThreadedServer, world: World
) -> None:
    assert world.scenario.tokens.reuse

    granted = burst(server.url, 100, lambda client, _: client.post(TOKEN_PATH[2], data=password_grant()))

    assert Counter(r.status_code for r in granted) == {200: 100}
    pairs = {(r.json()["access_token"], r.json()["refresh_token"]) for r in granted}
    assert len(pairs) == 1
    [(access, refresh)] = pairs
    tokens = tokens_of(server, "username")
    assert sorted(token["type"] for token in tokens) == ["access", "refresh"]  # one grant, nothing minted twice
    assert masked(token["token"] for token in tokens) == masked([access, refresh])
    assert_state_consistent(server)


def test_a_process_token_exchanged_50_times_at_once_succeeds_exactly_10_times() -> None:
    with ThreadedServer(scenario="giroident") as server:
        assert server.world.processes.limits.max_exchanges == 10

        responses = burst(server.url, 50, lambda client, _: client.get(f"/api/v1/processes/{FRESH_PROCESS}"))

        assert Counter(r.status_code for r in responses) == {200: 10, 410: 40}
        refused: list[dict[str, Any]] = [r.json()["errors"][0] for r in responses if r.status_code == 410]
        assert {(e["code"], e["message"]) for e in refused} == {
            ("ILLEGAL_ENTITY_STATE", MSG_EXHAUSTED.format(limit=10))
        }
        tokens = [r.json()["accessToken"] for r in responses if r.status_code == 200]
        assert len(set(tokens)) == 10
        [process] = [p for p in server.admin.processes() if p["clientReference"] == "customer-fresh"]
        assert process["processToken"] == mask_token(FRESH_PROCESS)
        assert process["exchanges"] == 10
        users = burst(server.url, 10, lambda client, i: client.get("/api/v2/users", headers=bearer(tokens[i])))
        assert {(r.status_code, r.json()["id"]) for r in users} == {(200, process["userId"])}
        held = tokens_of(server, process["userId"])
        assert [token["type"] for token in held] == ["access"] * 10  # one per exchange, none lost or doubled
        assert masked(token["token"] for token in held) == masked(tokens)
        assert_state_consistent(server)

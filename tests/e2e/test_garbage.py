"""Serving a request leaves no reference cycles behind.

Garbage that only the cycle collector frees piles up under load and is then freed in long collector pauses (they
were 20 ms at p99 when every request's scope referenced its own uvicorn cycle). Over a real socket, the stdlib
client (which itself leaves none), so whatever the collector finds came from the server.

Requests on one kept-alive connection must leave no garbage at all. A connection that closes may leave only what
asyncio's own selector transport leaves (a cycle through its read callback, the same without the emulator): nothing
of uvicorn's, Starlette's or the emulator's, so not the connection's protocol nor its last request (each request's
scope holds the connection's state, with the callable that breaks the connection for network faults).
"""

from __future__ import annotations

import gc
import http.client
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from mock_finapi.testing import AdminClient, ThreadedServer
from tests.helpers import CLIENT_CREDENTIALS, SCENARIO, password_grant

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
FAULTS: list[dict[str, Any]] = [
    {"name": "teapot", "match": {"path": "/faulted/respond"}, "respond": {"status": 418}},
    {"name": "cut-json", "match": {"path": "/faulted/malformed"}, "network": "malformed_json"},
    {"name": "slow", "match": {"path": "/faulted/delayed"}, "delay_ms": 1, "respond": {"status": 503}},
    {"name": "reset", "match": {"path": "/faulted/reset"}, "network": "connection_reset"},
    {"name": "no-answer", "match": {"path": "/faulted/empty"}, "network": "empty_response"},
]
EMULATOR_MODULES = ("mock_finapi", "uvicorn", "starlette", "httptools")
NO_ANSWER = 0


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedServer]:
    with ThreadedServer(scenario=SCENARIO) as served:
        # a client of its own, closed at once: a kept-alive one would be closed by the server's keep-alive timeout
        # during a later test on a busy machine, and the closed transport's cycle would count as that test's garbage
        with AdminClient(served.url) as admin:
            for rule in FAULTS:
                admin.add_fault(rule)
        yield served


@pytest.fixture(scope="module")
def connection(server: ThreadedServer) -> Iterator[http.client.HTTPConnection]:
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port)
    yield connection
    connection.close()


def call(connection: http.client.HTTPConnection, method: str, path: str, body: str = "", **headers: str) -> int:
    """The answer's status; NO_ANSWER when the server broke the connection instead."""
    try:
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        response.read()
    except (http.client.RemoteDisconnected, ConnectionError):  # unbound: a caught exception bound here is a cycle
        connection.close()
        return NO_ANSWER
    return response.status


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/api/v2/oauth/token", urlencode(CLIENT_CREDENTIALS), 200),
        ("POST", "/api/v2/oauth/token", urlencode(password_grant()), 200),
        ("POST", "/api/v2/oauth/token", urlencode({**CLIENT_CREDENTIALS, "client_secret": "wrong"}), 401),
        ("GET", "/api/v2/users", "", 401),
        ("GET", "/api/v2/nothing", "", 404),
        ("DELETE", "/api/v2/oauth/token", "", 405),
        ("GET", "/faulted/respond", "", 418),
        ("GET", "/faulted/malformed", "", 200),
        ("GET", "/faulted/delayed", "", 503),
    ],
)
def test_requests_leave_no_garbage_for_the_cycle_collector(
    connection: http.client.HTTPConnection, method: str, path: str, body: str, status: int
) -> None:
    for _ in range(5):  # caches and the journal's first entries
        assert call(connection, method, path, body, **FORM) == status
    gc.collect()
    gc.disable()
    try:
        for _ in range(100):
            assert call(connection, method, path, body, **FORM) == status
        gc.set_debug(gc.DEBUG_SAVEALL)
        unreachable = gc.collect()
        found = sorted({f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.garbage})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert unreachable == 0, found


def emulator_garbage(server: ThreadedServer, path: str, body: str, status: int, connections: int) -> list[str]:
    """The types of the emulator's objects the cycle collector finds after `connections` requests, each on a
    connection of its own that the client or the server closes."""
    url = urlsplit(server.url)

    def one() -> None:
        fresh = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port)
        try:
            assert call(fresh, "POST", path, body, **FORM) == status
        finally:
            fresh.close()

    for _ in range(3):
        one()
    server.admin.health()  # the server has seen the last connection go before the collector looks
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector finds is kept in gc.garbage instead of being freed
    try:
        for _ in range(connections):
            one()
        server.admin.health()
        gc.collect()
        found = [type(o) for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    return sorted(f"{t.__module__}.{t.__qualname__}" for t in found if t.__module__.startswith(EMULATOR_MODULES))


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/v2/oauth/token", urlencode(CLIENT_CREDENTIALS), 200),
        ("/api/v2/oauth/token", urlencode({**CLIENT_CREDENTIALS, "client_secret": "wrong"}), 401),
        ("/faulted/reset", "", NO_ANSWER),
        ("/faulted/empty", "", NO_ANSWER),
    ],
    ids=["answered", "refused", "connection-reset", "empty-response"],
)
def test_closed_connections_leave_neither_their_protocol_nor_their_last_request_to_the_collector(
    server: ThreadedServer, path: str, body: str, status: int
) -> None:
    assert emulator_garbage(server, path, body, status, connections=20) == []

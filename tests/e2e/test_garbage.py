"""Serving a request leaves no reference cycles behind.

Garbage that only the cycle collector frees piles up under load and is then freed in long collector pauses (they
were 20 ms at p99 when every request's scope referenced its own uvicorn cycle). Over a real socket, the stdlib
client (which itself leaves none), so whatever the collector finds came from the server.
"""

from __future__ import annotations

import gc
import http.client
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import pytest

from mock_finapi.testing import ThreadedServer
from tests.helpers import CLIENT_CREDENTIALS, password_grant

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def connection() -> Iterator[http.client.HTTPConnection]:
    with ThreadedServer() as server:
        url = urlsplit(server.url)
        connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port)
        yield connection
        connection.close()


def call(connection: http.client.HTTPConnection, method: str, path: str, body: str = "", **headers: str) -> int:
    connection.request(method, path, body, headers)
    response = connection.getresponse()
    response.read()
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
        unreachable = gc.collect()
    finally:
        gc.enable()
    assert unreachable == 0

"""A write is never lost across a reset (issue 16, point 11), over a real socket.

A request whose body is still arriving when `POST /__admin/reset` (or a scenario load) swaps the served world is
answered against the world it is recorded in: the one served once its body is complete. So what it answers is what
the state and the journal show afterwards.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from mock_finapi.testing import ThreadedServer
from tests.e2e.server import read_answer
from tests.helpers import CLIENT_CREDENTIALS, SCENARIO, TOKEN_PATH, password_grant

SETTLE = 0.2
"""Time for the server to read the head and the first half of the body before the reset (the outcome does not
depend on it: it only makes the test exercise the straddling case)."""


@pytest.fixture
def server() -> Iterator[ThreadedServer]:
    with ThreadedServer(scenario=SCENARIO) as served:
        yield served


def client_token(url: str) -> str:
    response = httpx.post(url + TOKEN_PATH[2], data=CLIENT_CREDENTIALS)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.mark.parametrize("admin_path", ["/__admin/reset", "/__admin/scenario"])
def test_a_user_created_by_a_request_straddling_a_reset_exists_afterwards(
    server: ThreadedServer, admin_path: str
) -> None:
    token = client_token(server.url)
    body = json.dumps({"id": "straddler", "password": "straddler-password"}).encode()
    head = (
        b"POST /api/v2/users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n" % (token.encode(), len(body))
    )
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=10) as sock:
        sock.sendall(head + body[:10])
        time.sleep(SETTLE)
        swap = {"json": {"name": SCENARIO}} if admin_path.endswith("scenario") else {}
        assert httpx.post(server.url + admin_path, **swap).status_code == 200  # type: ignore[arg-type]
        assert client_token(server.url) == token  # the fresh world is seeded alike: its first token is the same
        sock.sendall(body[10:])
        status, answer = read_answer(sock)
    assert status == 201, answer
    users = httpx.get(server.url + "/__admin/state/users").json()["users"]
    assert "straddler" in [user["id"] for user in users]
    journal = httpx.get(server.url + "/__admin/requests", params={"path": "/api/v2/users"}).json()
    assert [(entry["method"], entry["status"]) for entry in journal["requests"]] == [("POST", 201)]


def test_a_request_straddling_a_reset_with_a_token_only_the_old_world_had_is_401_and_recorded(
    server: ThreadedServer,
) -> None:
    client_token(server.url)
    login = httpx.post(server.url + TOKEN_PATH[2], data=password_grant())
    assert login.status_code == 200, login.text
    body = json.dumps({"email": "new@example.de"}).encode()
    head = (
        b"PATCH /api/v2/users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n" % (login.json()["access_token"].encode(), len(body))
    )
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=10) as sock:
        sock.sendall(head + body[:5])
        time.sleep(SETTLE)
        assert httpx.post(server.url + "/__admin/reset").status_code == 200
        sock.sendall(body[5:])
        status, answer = read_answer(sock)
    assert status == 401, answer
    journal = httpx.get(server.url + "/__admin/requests", params={"path": "/api/v2/users"}).json()
    assert [(entry["method"], entry["status"]) for entry in journal["requests"]] == [("PATCH", 401)]
    users = httpx.get(server.url + "/__admin/state/users").json()["users"]
    assert "new@example.de" not in [user.get("email") for user in users]

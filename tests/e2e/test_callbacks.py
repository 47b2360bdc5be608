"""Callbacks over real sockets: a running emulator (`ThreadedServer`) POSTs to local receivers on 127.0.0.1, http and
https (a self-signed certificate made with the `openssl` command line tool), and records each attempt in
`GET /__admin/callbacks`. Triggered through the public API: deleting a user tells every client of its mandator that
has a `userSynchronizationCallbackUrl`. The Web Form callbacks' end-to-end tests live with the Web Form API's."""

from __future__ import annotations

import asyncio
import gc
import socket
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_finapi.http.app import create_app
from mock_finapi.services.callbacks import STOP_GRACE
from mock_finapi.settings import Settings
from mock_finapi.testing import InProcessClient, ThreadedServer
from mock_finapi.testing.callbacks import CallbackReceiver, https_receiver, openssl_available
from tests.helpers import CLIENT_CREDENTIALS, MANDATOR_ADMIN_SCENARIO, TOKEN_PATH, bearer, password_grant

pytestmark = pytest.mark.slow

TIMEOUT = 10.0
MANDATOR = "2c6b8f0e-7d42-4f1a-9a43-1f0c2d3e4a5b"
ADMIN_CREDENTIALS = {
    "grant_type": "client_credentials",
    "client_id": "mandator-admin",
    "client_secret": "mandator-admin-secret",
}
OTHER_CREDENTIALS = {"grant_type": "client_credentials", "client_id": "other-app", "client_secret": "other-app-secret"}
ANSWERED_AT_ONCE = 0.5
"""Seconds a request that triggers a callback may take at most (the slow receivers below take far longer)."""
NEEDS_OPENSSL = pytest.mark.skipif(
    not openssl_available(), reason="the https receiver needs the openssl command line tool (apt-get install openssl)"
)


def serve(tmp_path: Path, callbacks: str | None = None) -> ThreadedServer:
    """The mandator-admin test scenario, with `webforms: {callbacks: <callbacks>}` when given."""
    text = Path(MANDATOR_ADMIN_SCENARIO).read_text(encoding="utf-8")
    if callbacks is not None:
        text += f"webforms:\n  callbacks: {callbacks}\n"
    path = tmp_path / "callbacks.yaml"
    path.write_text(text, encoding="utf-8")
    return ThreadedServer(scenario=str(path))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ThreadedServer]:
    with serve(tmp_path) as running:
        yield running


def token(server: ThreadedServer, data: dict[str, str]) -> str:
    response = httpx.post(server.url + TOKEN_PATH[2], data=data, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    value: str = response.json()["access_token"]
    return value


def set_sync_url(server: ThreadedServer, credentials: dict[str, str], url: str) -> None:
    response = httpx.patch(
        server.url + "/api/v2/clientConfiguration",
        json={"userSynchronizationCallbackUrl": url},
        headers=bearer(token(server, credentials)),
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    assert response.json()["userSynchronizationCallbackUrl"] == url


def delete_self(server: ThreadedServer, version: int = 2) -> float:
    """DELETE /api/v{version}/users as `username`; answers how long the answer took."""
    headers = bearer(token(server, password_grant()))
    started = time.monotonic()
    response = httpx.delete(f"{server.url}/api/v{version}/users", headers=headers, timeout=TIMEOUT)
    took = time.monotonic() - started
    assert response.status_code == 200, response.text
    return took


def recorded(server: ThreadedServer, count: int = 1, **params: Any) -> list[dict[str, Any]]:
    """`GET /__admin/callbacks` once it holds `count` attempts (polled, bounded)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        response = httpx.get(server.url + "/__admin/callbacks", params=params, timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        listed: list[dict[str, Any]] = response.json()["callbacks"]
        if len(listed) >= count or time.monotonic() > deadline:
            return listed
        time.sleep(0.02)


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A URL on 127.0.0.1 whose port is held by a socket that does not listen: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/sync"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A URL on 127.0.0.1 that takes connections and never answers (nobody accepts them from the backlog)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/sync"


# deleting users tells the mandator's clients
def test_deleting_oneself_tells_every_client_of_the_mandator(server: ThreadedServer) -> None:
    with CallbackReceiver() as app, CallbackReceiver() as admin, CallbackReceiver() as other:
        set_sync_url(server, CLIENT_CREDENTIALS, app.url + "/users/sync?source=mock")
        set_sync_url(server, ADMIN_CREDENTIALS, admin.url + "/sync")
        set_sync_url(server, OTHER_CREDENTIALS, other.url + "/sync")
        assert delete_self(server) < ANSWERED_AT_ONCE
        assert app.wait_for(userId="username") == {"userId": "username", "event": "DELETED"}
        assert admin.wait_for(userId="username") == {"userId": "username", "event": "DELETED"}
        [got] = app.received
        assert got.path == "/users/sync?source=mock"
        assert (got.headers["content-type"], got.headers["connection"]) == ("application/json", "close")
        listed = recorded(server, 2)
        assert other.received == []
    assert sorted(c["url"] for c in listed) == sorted([app.url + "/users/sync?source=mock", admin.url + "/sync"])
    for shown in listed:
        assert set(shown) == {"time", "kind", "url", "body", "status", "error", "durationMs", "mandatorId", "fault"}
        assert shown["time"].startswith("2026-01-01T09:00:")
        assert (shown["kind"], shown["body"], shown["status"], shown["error"]) == (
            "user.deleted",
            {"userId": "username", "event": "DELETED"},
            200,
            None,
        )
        assert (shown["mandatorId"], shown["fault"]) == (MANDATOR, None)
        assert 0 < shown["durationMs"] < 5000


def test_every_way_of_deleting_users_tells_the_sync_url(server: ThreadedServer) -> None:
    with CallbackReceiver() as receiver:
        set_sync_url(server, CLIENT_CREDENTIALS, receiver.url + "/sync")
        delete_self(server, version=1)
        assert receiver.wait_for(userId="username")["event"] == "DELETED"
        client = bearer(token(server, CLIENT_CREDENTIALS))
        response = httpx.delete(server.url + "/api/v2/users/pending", headers=client, timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        assert receiver.wait_for(userId="pending")["event"] == "DELETED"
        response = httpx.post(
            server.url + "/api/v2/mandatorAdmin/deleteUsers",
            json={"userIds": ["ALICE", "Bob", "nobody"]},
            headers=bearer(token(server, ADMIN_CREDENTIALS)),
            timeout=TIMEOUT,
        )
        assert response.status_code == 200, response.text
        assert response.json()["deletedUsers"] == ["alice", "Bob"]
        receiver.wait_for(userId="alice")
        receiver.wait_for(userId="Bob")
        assert len(recorded(server, 4)) == 4
        assert sorted(body["userId"] for body in receiver.bodies()) == ["Bob", "alice", "pending", "username"]


def test_a_refused_deletion_tells_nobody(server: ThreadedServer) -> None:
    with CallbackReceiver() as receiver:
        set_sync_url(server, CLIENT_CREDENTIALS, receiver.url + "/sync")
        client = bearer(token(server, CLIENT_CREDENTIALS))
        verified = httpx.delete(server.url + "/api/v2/users/alice", headers=client, timeout=TIMEOUT)
        assert verified.status_code == 422, verified.text
        unknown = httpx.delete(server.url + "/api/v2/users/nobody", headers=client, timeout=TIMEOUT)
        assert unknown.status_code == 404, unknown.text
        delete_self(server)  # a callback that does go out, so the wait below has something to wait for
        receiver.wait_for(userId="username")
    assert [c["body"]["userId"] for c in recorded(server)] == ["username"]


# the outbound journal
def test_the_outbound_journal_is_newest_first_limited_and_cleared(server: ThreadedServer) -> None:
    with CallbackReceiver() as receiver:
        set_sync_url(server, CLIENT_CREDENTIALS, receiver.url + "/sync")
        delete_self(server)
        receiver.wait_for(userId="username")
        client = bearer(token(server, CLIENT_CREDENTIALS))
        assert httpx.delete(server.url + "/api/v2/users/pending", headers=client, timeout=TIMEOUT).status_code == 200
        receiver.wait_for(userId="pending")
        listed = recorded(server, 2)
    assert [c["body"]["userId"] for c in listed] == ["pending", "username"]
    assert recorded(server, 1, limit=1) == listed[:1]
    bad = httpx.get(server.url + "/__admin/callbacks", params={"limit": "-1"}, timeout=TIMEOUT)
    assert bad.status_code == 400
    assert "limit" in bad.text
    cleared = httpx.delete(server.url + "/__admin/callbacks", timeout=TIMEOUT)
    assert (cleared.status_code, cleared.json()) == (200, {"deleted": 2})
    assert recorded(server, 0) == []


# receivers that fail
def test_a_receiver_that_is_down_is_recorded_and_blocks_nothing(server: ThreadedServer, refused_url: str) -> None:
    set_sync_url(server, CLIENT_CREDENTIALS, refused_url)
    assert delete_self(server) < ANSWERED_AT_ONCE
    [shown] = recorded(server)
    assert (shown["url"], shown["status"], shown["error"]) == (refused_url, None, "connection refused")


def test_a_receiver_that_never_answers_times_out(tmp_path: Path, silent_url: str) -> None:
    with serve(tmp_path, "{timeout: 1.5}") as server:
        set_sync_url(server, CLIENT_CREDENTIALS, silent_url)
        assert delete_self(server) < ANSWERED_AT_ONCE
        assert httpx.get(server.url + "/__admin/callbacks", timeout=TIMEOUT).json() == {"callbacks": []}
        [shown] = recorded(server)
    assert (shown["status"], shown["error"]) == (None, "timed out after 1.5 s")
    assert 1500 <= shown["durationMs"] < 3000


def test_a_receivers_error_status_is_recorded(server: ThreadedServer) -> None:
    with CallbackReceiver(status=503) as receiver:
        set_sync_url(server, CLIENT_CREDENTIALS, receiver.url + "/sync")
        delete_self(server)
        [shown] = recorded(server)
    assert (shown["status"], shown["error"]) == (503, None)
    assert len(receiver.received) == 1


# https
@NEEDS_OPENSSL
def test_an_https_receiver_with_a_self_signed_certificate_is_reached(server: ThreadedServer) -> None:
    with https_receiver() as receiver:
        assert receiver.url.startswith("https://127.0.0.1:")
        set_sync_url(server, CLIENT_CREDENTIALS, receiver.url + "/sync")
        delete_self(server)
        assert receiver.wait_for(userId="username") == {"userId": "username", "event": "DELETED"}
        [shown] = recorded(server)
    assert (shown["status"], shown["error"]) == (200, None)


@NEEDS_OPENSSL
def test_with_verify_tls_a_self_signed_certificate_fails(tmp_path: Path) -> None:
    with serve(tmp_path, "{verify_tls: true}") as server, https_receiver() as receiver:
        set_sync_url(server, CLIENT_CREDENTIALS, receiver.url + "/sync")
        assert delete_self(server) < ANSWERED_AT_ONCE
        [shown] = recorded(server)
        assert receiver.received == []
    assert shown["status"] is None
    assert shown["error"] == "TLS: certificate verify failed: self-signed certificate"


# outbound fault rules
def add_fault(server: ThreadedServer, rule: dict[str, Any]) -> None:
    response = httpx.post(server.url + "/__admin/faults", json=rule, timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    assert response.json()["match"]["callback"] is True


def test_an_outbound_delay_rule_delays_the_callback_not_the_request(server: ThreadedServer) -> None:
    add_fault(server, {"name": "slow-sync", "match": {"callback": True, "path": "/sync"}, "delay_ms": 800})
    with CallbackReceiver() as receiver:
        set_sync_url(server, CLIENT_CREDENTIALS, receiver.url + "/sync")
        started = time.monotonic()
        assert delete_self(server) < ANSWERED_AT_ONCE
        assert receiver.received == []
        receiver.wait_for(userId="username")
        assert time.monotonic() - started >= 0.8
        [shown] = recorded(server)
    assert (shown["status"], shown["fault"]) == (200, "slow-sync")
    assert shown["durationMs"] >= 800
    journal = httpx.get(server.url + "/__admin/requests", params={"method": "DELETE"}, timeout=TIMEOUT).json()
    assert [entry["fault"] for entry in journal["requests"]] == [None]  # the request itself was not touched


def test_outbound_failing_rules_fail_without_sending_and_count(server: ThreadedServer) -> None:
    add_fault(server, {"name": "sync-down", "match": {"callback": True, "path": "/sync*"}, "times": 1, "respond": {}})
    add_fault(
        server, {"name": "sync-reset", "match": {"callback": True, "path": "/other"}, "network": "connection_reset"}
    )
    with CallbackReceiver() as receiver:
        set_sync_url(server, CLIENT_CREDENTIALS, receiver.url + "/sync")
        set_sync_url(server, ADMIN_CREDENTIALS, receiver.url + "/other")
        delete_self(server)
        listed = recorded(server, 2)
        client = bearer(token(server, CLIENT_CREDENTIALS))
        assert httpx.delete(server.url + "/api/v2/users/pending", headers=client, timeout=TIMEOUT).status_code == 200
        receiver.wait_for(userId="pending")  # `times: 1` of sync-down is used up
    failed = {c["url"].rsplit("/", 1)[1]: (c["status"], c["error"], c["fault"]) for c in listed}
    assert failed == {
        "sync": (None, "injected fault 'sync-down'", "sync-down"),
        "other": (None, "injected fault 'sync-reset'", "sync-reset"),
    }
    assert [(r.path, r.body["userId"]) for r in receiver.received] == [("/sync", "pending")]
    counts = httpx.get(server.url + "/__admin/faults", timeout=TIMEOUT).json()["faults"]
    assert [(f["name"], f["matched"], f["fired"]) for f in counts] == [("sync-down", 2, 1), ("sync-reset", 2, 2)]


def test_inbound_rules_never_touch_callbacks(server: ThreadedServer) -> None:
    rule = {"name": "everything", "match": {"path": "/sync"}, "respond": {"status": 500}}
    assert httpx.post(server.url + "/__admin/faults", json=rule, timeout=TIMEOUT).status_code == 201
    with CallbackReceiver() as receiver:
        set_sync_url(server, CLIENT_CREDENTIALS, receiver.url + "/sync")
        delete_self(server)
        receiver.wait_for(userId="username")
    [shown] = recorded(server)
    assert (shown["status"], shown["fault"]) == (200, None)


def test_stopping_the_server_ends_a_delayed_callback(tmp_path: Path) -> None:
    server = serve(tmp_path).start()
    try:
        add_fault(server, {"name": "forever", "match": {"callback": True}, "delay_ms": 600_000})
        with CallbackReceiver() as receiver:
            set_sync_url(server, CLIENT_CREDENTIALS, receiver.url + "/sync")
            delete_self(server)
            time.sleep(0.1)
            started = time.monotonic()
            server.stop()
            assert time.monotonic() - started < 5
            assert receiver.received == []
        attempts = server._run(server.world.store.callbacks())
    finally:
        server.stop()
    assert [(a.status, a.error, a.fault) for a in attempts] == [(None, "not sent: the emulator stopped", "forever")]


def test_a_reset_ends_the_callbacks_on_their_way(server: ThreadedServer) -> None:
    add_fault(server, {"name": "slow-sync", "match": {"callback": True}, "delay_ms": 600})
    with CallbackReceiver() as receiver:
        set_sync_url(server, CLIENT_CREDENTIALS, receiver.url + "/sync")
        delete_self(server)
        assert httpx.post(server.url + "/__admin/reset", timeout=TIMEOUT).status_code == 200
        time.sleep(1.0)  # past the delay: nothing arrives, nothing is recorded in the new world
        assert receiver.received == []
    assert recorded(server, 0) == []


def test_closing_an_in_process_client_ends_a_callback_waiting_for_its_answer(silent_url: str) -> None:
    """The client's event loop ends with it: a callback still waiting for an answer gets the stop's grace, then is
    recorded as unanswered, and its connection is closed, not left to the garbage collector (ResourceWarning)."""
    app = create_app(Settings(scenario=MANDATOR_ADMIN_SCENARIO))
    with InProcessClient(app) as client:
        response = client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS)
        headers = bearer(response.json()["access_token"])
        patched = client.patch(
            "/api/v2/clientConfiguration", json={"userSynchronizationCallbackUrl": silent_url}, headers=headers
        )
        assert patched.status_code == 200, patched.text
        user = bearer(client.post(TOKEN_PATH[2], data=password_grant()).json()["access_token"])
        assert client.delete("/api/v2/users", headers=user).status_code == 200
        started = time.monotonic()
    took = time.monotonic() - started
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        gc.collect()
    attempts = asyncio.run(app.sandbox.store.callbacks())
    assert [(a.status, a.error) for a in attempts] == [(None, "no answer: the emulator stopped")]
    assert took < 3 * STOP_GRACE

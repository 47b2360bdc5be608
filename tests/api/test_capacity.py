"""Capacity (issue 16, point 7): the store keeps at most so many live tokens, users, processes and run-time clients
(`--max-tokens`, `--max-users`, `--max-processes`, `--max-clients`). What would go beyond is answered 503 with
finAPI's ErrorMessage naming the cap and its option, and changes nothing; room made by expiry or deletion is used
again."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mock_finapi import errors
from mock_finapi.http.app import create_app
from mock_finapi.settings import Capacity, Settings
from mock_finapi.testing.inprocess import InProcessClient
from tests.api.test_http_errors import assert_error
from tests.api.test_processes import PROCESSES, create_body
from tests.helpers import START, TOKEN_PATH, bearer, client_token, password_grant

NO_REUSE = """
name: no-reuse
clock: {start: "2026-01-01T09:00:00+01:00", frozen: true}
tokens: {reuse: false}
clients:
  - {client_id: app, client_secret: app-secret, mandator_id: m1}
"""
AUTO_REGISTER = """
name: auto-register
clients:
  auto_register: true
  registered:
    - {client_id: app, client_secret: app-secret, mandator_id: m1}
"""
APP = {"grant_type": "client_credentials", "client_id": "app", "client_secret": "app-secret"}


def full(limit: int, what: str, flag: str) -> str:
    return errors.MSG_CAPACITY.format(limit=limit, what=what, flag=flag)


def serve(capacity: Capacity, scenario: str = "default") -> InProcessClient:
    return InProcessClient(create_app(Settings(scenario=scenario, capacity=capacity), freeze_at=START))


def count(client: httpx.Client, kind: str) -> int:
    response = client.get(f"/__admin/state/{kind}")
    assert response.status_code == 200, response.text
    return len(response.json()[kind])


@pytest.fixture
def no_reuse(tmp_path: Path) -> str:
    path = tmp_path / "no-reuse.yaml"
    path.write_text(NO_REUSE, encoding="utf-8")
    return str(path)


@pytest.fixture
def auto_register(tmp_path: Path) -> str:
    path = tmp_path / "auto.yaml"
    path.write_text(AUTO_REGISTER, encoding="utf-8")
    return str(path)


def test_a_token_beyond_the_cap_is_503_and_expired_ones_make_room(no_reuse: str) -> None:
    with serve(Capacity(tokens=3), no_reuse) as client:
        issued = [client.post(TOKEN_PATH[2], data=APP) for _ in range(3)]
        assert [r.status_code for r in issued] == [200, 200, 200]
        refused = client.post(TOKEN_PATH[2], data=APP)
        assert_error(refused, 503, "UNEXPECTED_ERROR", full(3, "live tokens", "tokens"))
        assert count(client, "tokens") == 3
        for response in issued:  # the tokens there are still work
            headers = bearer(response.json()["access_token"])
            assert client.get("/api/v2/clientConfiguration", headers=headers).status_code == 200
        assert client.post("/__admin/clock", json={"advance": 3600}).status_code == 200
        assert client.post(TOKEN_PATH[2], data=APP).status_code == 200  # the expired ones made room


def test_a_user_beyond_the_cap_is_503_and_a_deleted_one_makes_room() -> None:
    with InProcessClient(create_app(Settings(), freeze_at=START)) as probe:
        preloaded = count(probe, "users")
    cap = preloaded + 1
    with serve(Capacity(users=cap)) as client:
        headers = bearer(client_token(client))
        first = {"id": "first", "password": "first-password"}
        assert client.post("/api/v2/users", json=first, headers=headers).status_code == 201
        refused = client.post("/api/v2/users", json={"id": "second"}, headers=headers)
        assert_error(refused, 503, "UNEXPECTED_ERROR", full(cap, "users", "users"))
        assert count(client, "users") == cap
        taken = client.post("/api/v2/users", json=first, headers=headers)
        assert taken.status_code == 422  # an id taken is still that, not a capacity error
        login = client.post(TOKEN_PATH[2], data=password_grant("first", "first-password"))
        deleted = client.delete("/api/v2/users", headers=bearer(login.json()["access_token"]))
        assert deleted.status_code == 200, deleted.text
        assert client.post("/api/v2/users", json={"id": "second"}, headers=headers).status_code == 201


def test_processes_beyond_the_cap_are_503_and_none_is_created() -> None:
    with serve(Capacity(processes=2)) as client:
        assert client.post(PROCESSES, json=create_body("a", "b")).status_code == 201
        refused = client.post(PROCESSES, json=create_body("c"))
        assert_error(refused, 503, "UNEXPECTED_ERROR", full(2, "processes", "processes"))
        assert count(client, "processes") == 2


def test_more_processes_than_the_cap_in_one_request_create_none() -> None:
    with serve(Capacity(processes=2)) as client:
        refused = client.post(PROCESSES, json=create_body("a", "b", "c"))
        assert_error(refused, 503, "UNEXPECTED_ERROR", full(2, "processes", "processes"))
        assert count(client, "processes") == 0


def test_a_client_registered_beyond_the_cap_is_503_and_known_clients_still_log_in(auto_register: str) -> None:
    with serve(Capacity(clients=1), auto_register) as client:
        new = {"grant_type": "client_credentials", "client_secret": "s"}
        assert client.post(TOKEN_PATH[2], data={**new, "client_id": "new-1"}).status_code == 200
        refused = client.post(TOKEN_PATH[2], data={**new, "client_id": "new-2"})
        assert_error(refused, 503, "UNEXPECTED_ERROR", full(1, "registered clients", "clients"))
        assert client.post(TOKEN_PATH[2], data={**new, "client_id": "new-1"}).status_code == 200
        assert client.post(TOKEN_PATH[2], data=APP).status_code == 200
        metrics = client.get("/__admin/metrics").text.splitlines()
        assert "mock_finapi_clients 2" in metrics


def test_web_forms_beyond_the_cap_are_503_and_deleting_one_makes_room() -> None:
    with serve(Capacity(web_forms=1), "default-with-user") as client:
        token = client.post(TOKEN_PATH[2], data=password_grant()).json()["access_token"]
        path = "/api/webForms/bankConnectionImport"
        made = client.post(path, json={"bank": {"id": 280001}}, headers=bearer(token))
        assert made.status_code == 201, made.text
        refused = client.post(path, json={}, headers=bearer(token))
        assert refused.status_code == 503
        assert refused.json() == {
            "code": "INTERNAL_SERVER_ERROR",
            "description": full(1, "web forms and tasks", "web-forms"),
            "timestamp": refused.json()["timestamp"],
            "endpoint": f"POST {path}",
        }
        assert client.delete(f"/api/webForms/{made.json()['id']}", headers=bearer(token)).status_code == 200
        assert client.post(path, json={}, headers=bearer(token)).status_code == 201

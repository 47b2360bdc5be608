"""Fault rules in-process: injected answers, X-Mock-Fault, delays, the admin API, the journal, what rules match on."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import pytest

from mock_finapi.clock import format_v1, format_v2
from mock_finapi.http.faults import NetworkFault
from tests.helpers import (
    CLIENT_CREDENTIALS,
    CLIENT_ID,
    CLIENT_SECRET,
    START,
    TOKEN_PATH,
    USERNAME,
    assert_token_answer,
    bearer,
    password_grant,
)

FAULTS = "/__admin/faults"
DELAY_MS = 250


def add_fault(client: httpx.Client, **rule: Any) -> dict[str, Any]:
    response = client.post(FAULTS, json=rule)
    assert response.status_code == 201, response.text
    view: dict[str, Any] = response.json()
    return view


def faults(client: httpx.Client) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = client.get(FAULTS).json()["faults"]
    return listed


def journal(client: httpx.Client, **params: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.get("/__admin/requests", params=params).json()["requests"]
    return found


def token_request(client: httpx.Client, version: int = 2) -> httpx.Response:
    return client.post(TOKEN_PATH[version], data=CLIENT_CREDENTIALS)


def user_token(client: httpx.Client) -> str:
    response = client.post(TOKEN_PATH[2], data=password_grant())
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


# respond
def test_respond_without_body_answers_a_v2_error_message_naming_the_rule(client: httpx.Client) -> None:
    add_fault(client, name="token-down", match={"path": "/api/v2/oauth/token"}, respond={"status": 503})
    response = token_request(client)
    assert response.status_code == 503
    assert response.headers["X-Mock-Fault"] == "token-down"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "errors": [{"message": "Injected fault 'token-down'", "code": "UNEXPECTED_ERROR", "type": "TECHNICAL"}],
        "date": format_v2(START),
        "requestId": response.headers["X-Request-Id"],
        "endpoint": "POST /api/v2/oauth/token",
        "authContext": "-",
        "bank": None,
    }


def test_respond_on_a_v1_path_answers_the_v1_error_message(client: httpx.Client) -> None:
    add_fault(client, name="v1-down", match={"path": "/oauth/token"}, respond={"status": 500})
    response = token_request(client, version=1)
    assert (response.status_code, response.headers["X-Mock-Fault"]) == (500, "v1-down")
    assert response.json() == {
        "errors": [
            {
                "message": "Injected fault 'v1-down'",
                "code": "UNEXPECTED_ERROR",
                "type": "TECHNICAL",
                "multiStepAuthentication": None,
            }
        ],
        "date": format_v1(START),
        "requestId": response.headers["X-Request-Id"],
        "endpoint": "POST /oauth/token",
        "authContext": "-",
        "bank": None,
    }


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, "BAD_REQUEST", "TECHNICAL"),
        (403, "UNAUTHORIZED_ACCESS", "BUSINESS"),
        (404, "UNKNOWN_ENTITY", "BUSINESS"),
        (422, "ILLEGAL_ENTITY_STATE", "BUSINESS"),
        (423, "LOCKED", "BUSINESS"),
        (500, "UNEXPECTED_ERROR", "TECHNICAL"),
        (502, "UNEXPECTED_ERROR", "TECHNICAL"),
    ],
)
def test_default_error_code_fits_the_status(client: httpx.Client, status: int, code: str, kind: str) -> None:
    add_fault(client, name="f", match={"path": "/api/v2/users"}, respond={"status": status})
    response = client.get("/api/v2/users")
    assert response.status_code == status
    assert response.json()["errors"] == [{"message": "Injected fault 'f'", "code": code, "type": kind}]


def test_respond_401_on_a_resource_answers_the_oauth_invalid_token_error(client: httpx.Client) -> None:
    add_fault(client, name="expired", match={"path": "/api/v2/users"}, respond={"status": 401})
    response = client.get("/api/v2/users", headers=bearer(user_token(client)))
    assert (response.status_code, response.headers["X-Mock-Fault"]) == (401, "expired")
    assert response.json() == {"error": "invalid_token", "error_description": "Injected fault 'expired'"}
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


@pytest.mark.parametrize("version", [1, 2])
def test_respond_401_on_the_token_endpoint_answers_invalid_client(client: httpx.Client, version: int) -> None:
    add_fault(client, name="bad-client", match={"path": "*/oauth/token"}, respond={"status": 401})
    response = token_request(client, version)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client", "error_description": "Bad client credentials"}


def test_respond_with_headers_adds_them_to_the_default_body(client: httpx.Client) -> None:
    add_fault(
        client, name="busy", match={"path": "*/oauth/token"}, respond={"status": 429, "headers": {"Retry-After": 7}}
    )
    response = token_request(client)
    assert (response.status_code, response.headers["Retry-After"]) == (429, "7")
    assert response.json()["errors"][0]["message"] == "Injected fault 'busy'"


@pytest.mark.parametrize(
    "body",
    [{"error": "custom", "detail": [1, 2]}, ["a", "list"], "just text", 0, False, {"big": 2**70, "ü": "ß"}],
    ids=repr,
)
def test_respond_with_a_body_answers_it_verbatim_with_the_headers(client: httpx.Client, body: Any) -> None:
    add_fault(
        client,
        name="custom",
        match={"path": "/api/v2/users"},
        respond={"status": 418, "headers": {"X-Extra": "yes"}, "body": body},
    )
    response = client.get("/api/v2/users")
    assert (response.status_code, response.headers["X-Extra"], response.headers["X-Mock-Fault"]) == (
        418,
        "yes",
        "custom",
    )
    assert response.headers["content-type"] == "application/json"
    assert response.json() == body


def test_respond_204_answers_without_a_body(client: httpx.Client) -> None:
    add_fault(client, name="nothing", match={"path": "/api/v2/users"}, respond={"status": 204})
    response = client.get("/api/v2/users")
    assert (response.status_code, response.content, response.headers["X-Mock-Fault"]) == (204, b"", "nothing")


def test_a_faulted_request_never_reaches_the_handler(client: httpx.Client) -> None:
    add_fault(client, name="refuse-create", match={"method": "POST", "path": "/api/v2/users"}, respond={"status": 500})
    created = client.post(
        "/api/v2/users", json={"id": "ghost", "password": "secret123"}, headers=bearer(_client(client))
    )
    assert created.status_code == 500
    users = client.get("/__admin/state/users").json()["users"]
    assert "ghost" not in [u["id"] for u in users]


def _client(client: httpx.Client) -> str:
    """A client token fetched before any token rule exists."""
    response = token_request(client)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


# X-Mock-Fault
def test_only_responses_a_rule_touched_carry_x_mock_fault(client: httpx.Client) -> None:
    add_fault(client, name="second-token", match={"path": "/api/v2/oauth/token"}, after=1, times=1, respond={})
    first, second, third = (token_request(client) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (200, 503, 200)
    assert "X-Mock-Fault" not in first.headers
    assert second.headers["X-Mock-Fault"] == "second-token"
    assert "X-Mock-Fault" not in third.headers
    assert "X-Mock-Fault" not in token_request(client, version=1).headers


def test_x_mock_fault_survives_a_handlers_own_error(client: httpx.Client) -> None:
    """A delay-only rule lets the handler answer: its error answers still say a rule touched them."""
    add_fault(client, name="slow-users", match={"path": "/api/v2/users"}, delay_ms=1)
    response = client.get("/api/v2/users")
    assert (response.status_code, response.headers["X-Mock-Fault"]) == (401, "slow-users")


# delay
def test_delay_only_rule_delays_the_real_answer_and_marks_it(client: httpx.Client) -> None:
    add_fault(client, name="slow-token", match={"path": "/api/v2/oauth/token"}, delay_ms=DELAY_MS)
    started = time.perf_counter()
    response = token_request(client)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert set(response.json()) == {"access_token", "token_type", "expires_in", "scope"}
    assert response.headers["X-Mock-Fault"] == "slow-token"
    assert elapsed >= DELAY_MS / 1000 * 0.9, elapsed


def test_delay_with_respond_waits_then_answers_the_fault(client: httpx.Client) -> None:
    add_fault(
        client, name="slow-fail", match={"path": "/api/v2/oauth/token"}, delay_ms=DELAY_MS, respond={"status": 502}
    )
    started = time.perf_counter()
    response = token_request(client)
    elapsed = time.perf_counter() - started
    assert (response.status_code, response.headers["X-Mock-Fault"]) == (502, "slow-fail")
    assert elapsed >= DELAY_MS / 1000 * 0.9, elapsed


def test_a_request_the_delay_rule_does_not_match_is_not_delayed(client: httpx.Client) -> None:
    add_fault(client, name="slow-users", match={"path": "/api/v2/users"}, delay_ms=DELAY_MS)
    started = time.perf_counter()
    response = token_request(client)
    assert (time.perf_counter() - started) < DELAY_MS / 1000
    assert "X-Mock-Fault" not in response.headers


# admin API
def test_admin_rule_applies_to_the_next_request_and_delete_removes_it(client: httpx.Client) -> None:
    assert token_request(client).status_code == 200
    view = add_fault(client, name="now", match={"method": "post", "path": "*/oauth/token"}, respond={"status": 503})
    assert view == {
        "name": "now",
        "match": {"method": "POST", "path": "*/oauth/token"},
        "after": 0,
        "times": None,
        "probability": 1.0,
        "delay_ms": 0,
        "respond": {"status": 503, "headers": {}, "body": None},
    }
    assert token_request(client).status_code == 503
    assert faults(client) == [{**view, "matched": 1, "fired": 1}]
    deleted = client.delete(FAULTS)
    assert (deleted.status_code, deleted.json()) == (200, {"deleted": 1})
    assert faults(client) == []
    response = token_request(client)
    assert response.status_code == 200
    assert "X-Mock-Fault" not in response.headers


def test_admin_rule_counters_follow_its_schedule(client: httpx.Client) -> None:
    add_fault(client, name="twice", match={"path": "*/oauth/token"}, after=1, times=2, respond={})
    statuses = [token_request(client).status_code for _ in range(5)]
    assert statuses == [200, 503, 503, 200, 200]
    [view] = faults(client)
    assert (view["matched"], view["fired"]) == (5, 2)


def test_admin_rule_without_a_name_gets_one(client: httpx.Client) -> None:
    view = add_fault(client, match={"path": "/api/v2/users"}, respond={"status": 500})
    assert view["name"]
    assert client.get("/api/v2/users").headers["X-Mock-Fault"] == view["name"]


@pytest.mark.parametrize(
    ("rule", "key"),
    [
        ({"match": {"path": "/a"}}, "a rule needs an action"),
        ({"respond": {"status": 99}}, "respond.status"),
        ({"network": "timeout"}, "network"),
        ({"match": {"method": 1}, "delay_ms": 5}, "match.method"),
        ({"typo": 1, "delay_ms": 5}, "typo"),
    ],
)
def test_admin_refuses_an_invalid_rule_with_400_naming_the_key(
    client: httpx.Client, rule: dict[str, Any], key: str
) -> None:
    response = client.post(FAULTS, json=rule)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "ILLEGAL_FIELD_VALUE"
    assert error["message"].startswith(key)
    assert faults(client) == []


def test_admin_refuses_a_second_rule_with_the_same_name(client: httpx.Client) -> None:
    add_fault(client, name="once", delay_ms=1)
    response = client.post(FAULTS, json={"name": "once", "respond": {}})
    assert response.status_code == 400
    assert "once" in response.json()["errors"][0]["message"]
    assert [f["name"] for f in faults(client)] == ["once"]


def test_rules_never_touch_the_admin_api(client: httpx.Client) -> None:
    add_fault(client, name="everything", match={"path": "*"}, respond={"status": 500})
    assert client.get("/api/v2/users").status_code == 500
    listed = client.get(FAULTS)
    assert (listed.status_code, "X-Mock-Fault" in listed.headers) == (200, False)
    assert client.delete(FAULTS).json() == {"deleted": 1}


def test_reset_drops_rules_added_at_run_time(client: httpx.Client) -> None:
    add_fault(client, name="temporary", match={"path": "*/oauth/token"}, respond={})
    assert client.post("/__admin/reset").status_code == 200
    assert faults(client) == []
    assert token_request(client).status_code == 200


# journal
def test_faulted_requests_appear_in_the_journal_with_the_rule_name(client: httpx.Client) -> None:
    add_fault(client, name="flaky", match={"path": "/api/v2/oauth/token"}, times=1, respond={"status": 503})
    add_fault(client, name="slow", match={"path": "/api/v2/users"}, delay_ms=1)
    token_request(client)
    token_request(client)
    client.get("/api/v2/users")
    entries = journal(client)
    assert [(e["path"], e["status"], e["fault"]) for e in entries] == [
        ("/api/v2/users", 401, "slow"),
        ("/api/v2/oauth/token", 200, None),
        ("/api/v2/oauth/token", 503, "flaky"),
    ]
    assert [e["status"] for e in journal(client, fault="flaky")] == [503]
    count = client.post("/__admin/requests/count", json={"fault": "slow"}).json()
    assert count == {"count": 1}


# network faults in-process (no socket: the client sees an exception)
@pytest.mark.parametrize("kind", ["connection_reset", "empty_response"])
def test_network_fault_in_process_raises_in_the_client_and_the_app_keeps_serving(
    client: httpx.Client, kind: str
) -> None:
    add_fault(client, name=kind, match={"path": "/api/v2/oauth/token"}, times=1, network=kind)
    with pytest.raises(NetworkFault, match=kind) as caught:
        token_request(client)
    assert isinstance(caught.value, ConnectionError)
    [entry] = journal(client, fault=kind)
    assert (entry["path"], entry["status"]) == ("/api/v2/oauth/token", 0)
    assert_token_answer(token_request(client))


def test_malformed_json_answers_200_with_a_body_that_does_not_parse(client: httpx.Client) -> None:
    add_fault(client, name="garbled", match={"path": "/api/v2/oauth/token"}, network="malformed_json")
    response = token_request(client)
    assert (response.status_code, response.headers["X-Mock-Fault"]) == (200, "garbled")
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(response.content))
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert journal(client, fault="garbled")[0]["status"] == 200


# what a rule matches on, from the request
def test_form_fields_match_the_grant_type(client: httpx.Client) -> None:
    add_fault(client, name="no-login", match={"fields": {"grant_type": "password"}}, respond={"status": 503})
    refused = client.post(TOKEN_PATH[2], data=password_grant())
    assert (refused.status_code, refused.headers["X-Mock-Fault"]) == (503, "no-login")
    served = token_request(client)
    assert_token_answer(served)
    assert "X-Mock-Fault" not in served.headers


def test_json_fields_match_string_and_boolean_values(client: httpx.Client) -> None:
    ct = _client(client)
    add_fault(
        client,
        name="no-victim",
        match={"path": "/api/v2/users", "fields": {"id": "victim", "isAutoUpdateEnabled": False}},
        respond={"status": 422},
    )
    victim = {"id": "victim", "password": "secret123", "isAutoUpdateEnabled": False}
    refused = client.post("/api/v2/users", json=victim, headers=bearer(ct))
    assert (refused.status_code, refused.headers["X-Mock-Fault"]) == (422, "no-victim")
    other = {"id": "other", "password": "secret123", "isAutoUpdateEnabled": False}
    created = client.post("/api/v2/users", json=other, headers=bearer(ct))
    assert (created.status_code, created.json()) == (201, {**other, "email": None, "phone": None})
    without_flag = {"id": "victim", "password": "secret123"}
    created = client.post("/api/v2/users", json=without_flag, headers=bearer(ct))
    expected = {**without_flag, "email": None, "phone": None, "isAutoUpdateEnabled": False}
    assert (created.status_code, created.json()) == (201, expected)


def test_query_fields_match(client: httpx.Client) -> None:
    ct = _client(client)
    add_fault(client, name="status-down", match={"fields": {"userId": "username"}}, respond={"status": 500})
    path = "/api/v2/users/verificationStatus"
    assert client.get(path, params={"userId": "username"}, headers=bearer(ct)).status_code == 500
    assert client.get(path, params={"userId": "other"}, headers=bearer(ct)).status_code == 404


def test_method_matches_the_overridden_method(client: httpx.Client) -> None:
    add_fault(client, name="no-delete", match={"method": "DELETE", "path": "/api/v2/users"}, respond={"status": 500})
    token = user_token(client)
    assert (
        client.post("/api/v2/users", headers={**bearer(token), "X-HTTP-Method-Override": "DELETE"}).status_code == 500
    )
    me = client.get("/api/v2/users", headers=bearer(token))
    assert (me.status_code, me.json()) == (200, USERNAME)


def assert_faulted_or_served(response: httpx.Response, faulted: bool) -> None:
    """503 by the rule `client`, or the real token answer without the rule's mark."""
    if faulted:
        assert (response.status_code, response.headers["X-Mock-Fault"]) == (503, "client")
    else:
        assert "X-Mock-Fault" not in response.headers
        assert_token_answer(response)


@pytest.mark.parametrize(("client_id", "faulted"), [(CLIENT_ID, True), ("someone-else", False)])
def test_client_id_matches_the_client_id_in_the_body(client: httpx.Client, client_id: str, faulted: bool) -> None:
    add_fault(client, name="client", match={"client_id": client_id}, respond={"status": 503})
    assert_faulted_or_served(token_request(client), faulted)


@pytest.mark.parametrize(("client_id", "faulted"), [(CLIENT_ID, True), ("someone-else", False)])
def test_client_id_matches_http_basic_credentials(client: httpx.Client, client_id: str, faulted: bool) -> None:
    add_fault(client, name="client", match={"client_id": client_id}, respond={"status": 503})
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    response = client.post(
        TOKEN_PATH[2], data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert_faulted_or_served(response, faulted)


@pytest.mark.parametrize(("client_id", "faulted"), [(CLIENT_ID, True), ("someone-else", False)])
def test_client_id_matches_the_client_of_the_bearer_token(client: httpx.Client, client_id: str, faulted: bool) -> None:
    token = user_token(client)
    add_fault(client, name="client", match={"path": "/api/v2/users", "client_id": client_id}, respond={"status": 503})
    me = client.get("/api/v2/users", headers=bearer(token))
    if faulted:
        assert (me.status_code, me.headers["X-Mock-Fault"]) == (503, "client")
    else:
        assert (me.status_code, me.json(), me.headers.get("X-Mock-Fault")) == (200, USERNAME, None)
    assert client.get("/api/v2/users", headers=bearer("unknown-token")).status_code == 401

"""Each built-in QA scenario proves what its description claims (in-process, on the fixtures' frozen clock).

Tests are named `test_<scenario>_...` (dashes as underscores): the last test checks that every built-in scenario
has at least one here (finAPI's guide, run on `default` end to end, is tests/api/test_guide.py).
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mock_finapi import errors
from mock_finapi.clock import format_v1
from mock_finapi.scenarios import loader
from mock_finapi.services import processes
from mock_finapi.services.faults import FaultRequest, matches
from mock_finapi.services.webforms import ERROR_MESSAGES
from mock_finapi.state.models import FaultRule
from mock_finapi.testing.callbacks import CallbackReceiver
from tests.helpers import (
    CLIENT_CREDENTIALS,
    GUIDE_USER,
    TOKEN_PATH,
    AdminClock,
    bearer,
    client_token,
    error_codes,
    password_grant,
    user_tokens,
)


def scenario(name: str) -> pytest.MarkDecorator:
    """Serve this built-in scenario to the test (overrides the `scenario_name` fixture)."""
    return pytest.mark.parametrize("scenario_name", [name])


def advance(client: httpx.Client, seconds: float) -> None:
    response = client.post("/__admin/clock", json={"advance": seconds})
    assert response.status_code == 200, response.text


def login(client: httpx.Client, username: str, password: str = "password", version: int = 2) -> httpx.Response:
    return client.post(TOKEN_PATH[version], data=password_grant(username, password))


def assert_error(response: httpx.Response, status: int, code: str, message: str) -> None:
    assert response.status_code == status, response.text
    [error] = response.json()["errors"]
    assert (error["code"], error["message"]) == (code, message)


def refresh(client: httpx.Client, refresh_token: str) -> httpx.Response:
    data = {**CLIENT_CREDENTIALS, "grant_type": "refresh_token", "refresh_token": refresh_token}
    return client.post(TOKEN_PATH[2], data=data)


def change_password(client: httpx.Client, user_id: str, password: str) -> None:
    headers = bearer(client_token(client))
    requested = client.post("/api/v2/users/requestPasswordChange", json={"userId": user_id}, headers=headers)
    assert requested.status_code == 200, requested.text
    body = {"userId": user_id, "password": password, "passwordChangeToken": requested.json()["passwordChangeToken"]}
    executed = client.post("/api/v2/users/executePasswordChange", json=body, headers=headers)
    assert executed.status_code == 200, executed.text


# default and default-with-user


def state_users(client: httpx.Client) -> list[str]:
    response = client.get("/__admin/state/users")
    assert response.status_code == 200, response.text
    return [user["id"] for user in response.json()["users"]]


@scenario("default")
def test_default_has_no_user_so_the_guides_user_can_be_created(client: httpx.Client) -> None:
    assert state_users(client) == []
    assert_error(login(client, "username"), 400, "BAD_REQUEST", errors.MSG_BAD_USER)
    created = client.post("/api/v2/users", json=GUIDE_USER, headers=bearer(client_token(client)))
    assert (created.status_code, created.json()) == (201, GUIDE_USER)
    assert login(client, "username").status_code == 200


@scenario("default-with-user")
def test_default_with_user_logs_username_in_at_once_and_refuses_to_create_it_again(client: httpx.Client) -> None:
    assert state_users(client) == ["username"]
    me = client.get("/api/v2/users", headers=bearer(user_tokens(client)["access_token"]))
    assert (me.status_code, me.json()) == (200, {**GUIDE_USER, "password": "XXXXX"})
    again = client.post("/api/v2/users", json=GUIDE_USER, headers=bearer(client_token(client)))
    assert_error(again, 422, "ENTITY_EXISTS", errors.MSG_USER_EXISTS.format(user="username"))


# bank-data
def bank_data(client: httpx.Client, path: str, **params: Any) -> Any:
    response = client.get(path, params=params, headers=bearer(user_tokens(client)["access_token"]))
    assert response.status_code == 200, response.text
    return response.json()


@scenario("bank-data")
def test_bank_data_username_has_a_generated_test_bank_connection_of_two_checking_and_one_savings_account(
    client: httpx.Client,
) -> None:
    test_bank, _ = bank_data(client, "/api/v2/bankConnections")["connections"]
    assert (test_bank["bank"]["id"], test_bank["name"], test_bank["updateStatus"]) == (
        280001,
        "finAPI Test Bank",
        "READY",
    )
    accounts = bank_data(client, "/api/v2/accounts", bankConnectionIds=test_bank["id"])["accounts"]
    assert [(a["accountName"], a["accountType"]) for a in accounts] == [
        ("Girokonto", "Checking"),
        ("Haushaltskonto", "Checking"),
        ("Tagesgeld", "Savings"),
    ]
    for account in accounts:
        page = bank_data(client, "/api/v2/transactions", view="bankView", accountIds=account["id"], perPage=500)
        assert page["paging"]["totalCount"] >= 20
        assert page["balance"] == account["balance"]  # the balance is the sum of its transactions
        assert min(t["bankBookingDate"] for t in page["transactions"]) >= "2025-10-04"  # the last 90 days


@scenario("bank-data")
def test_bank_data_sparkasse_connection_failed_its_last_update_and_its_consent_expires_in_a_day(
    client: httpx.Client,
) -> None:
    _, sparkasse = bank_data(client, "/api/v2/bankConnections")["connections"]
    [interface] = sparkasse["interfaces"]
    assert (sparkasse["bank"]["id"], sparkasse["name"], interface["bankingInterface"]) == (
        10050000,
        "Sparkasse (QA)",
        "XS2A",
    )
    update = interface["lastManualUpdate"]
    assert (update["result"], update["errorMessage"], update["errorType"]) == (
        "BANK_SERVER_REJECTION",
        "Zugangsdaten falsch",
        "BUSINESS",
    )
    assert interface["aisConsent"]["expiresAt"] == "2026-01-02T09:00:00.000+01:00"
    giro, savings = bank_data(client, "/api/v2/accounts", bankConnectionIds=sparkasse["id"])["accounts"]
    assert (giro["balance"], giro["overdraftLimit"], giro["availableFunds"]) == (-250.0, 1000.0, 750.0)
    assert (savings["accountName"], savings["balance"]) == ("Tagesgeld", 0.0)
    empty = bank_data(client, "/api/v2/transactions", view="bankView", accountIds=savings["id"])
    assert (empty["transactions"], empty["paging"]["totalCount"]) == ([], 0)


# expiring-tokens
@scenario("expiring-tokens")
def test_expiring_tokens_issue_60_second_client_user_and_refresh_tokens(client: httpx.Client) -> None:
    assert client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS).json()["expires_in"] == 59  # counted as finAPI does
    user = login(client, "username").json()
    assert user["expires_in"] == 59
    assert "refresh_token" in user
    assert refresh(client, user["refresh_token"]).json()["expires_in"] == 59


@scenario("expiring-tokens")
def test_expiring_tokens_user_token_works_for_60_s_then_is_401(client: httpx.Client) -> None:
    token = user_tokens(client)["access_token"]
    advance(client, 59)
    assert client.get("/api/v2/users", headers=bearer(token)).status_code == 200
    advance(client, 2)
    expired = client.get("/api/v2/users", headers=bearer(token))
    assert expired.status_code == 401
    assert expired.json()["error"] == "invalid_token"


@scenario("expiring-tokens")
def test_expiring_tokens_client_token_is_401_after_61_s(client: httpx.Client) -> None:
    token = client_token(client)
    advance(client, 61)
    response = client.post("/api/v2/users", json={"id": "late", "password": "secret123"}, headers=bearer(token))
    assert (response.status_code, response.json()["error"]) == (401, "invalid_token")


@scenario("expiring-tokens")
def test_expiring_tokens_refresh_token_works_for_60_s_then_is_refused(client: httpx.Client) -> None:
    early = user_tokens(client)["refresh_token"]
    late = user_tokens(client)["refresh_token"]
    advance(client, 59)
    assert refresh(client, early).status_code == 200
    advance(client, 2)
    assert_error(refresh(client, late), 400, "BAD_REQUEST", errors.MSG_BAD_REFRESH)


# flaky-token-endpoint
FLAKY = "token-endpoint-unavailable"


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert (response.headers["Retry-After"], response.headers["X-Mock-Fault"]) == ("1", FLAKY)
    assert error_codes(response) == ["UNEXPECTED_ERROR"]


@scenario("flaky-token-endpoint")
def test_flaky_token_endpoint_answers_503_with_retry_after_twice_then_heals(client: httpx.Client) -> None:
    assert_unavailable(client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS))
    assert_unavailable(client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS))
    for _ in range(3):
        healed = client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS)
        assert healed.status_code == 200, healed.text
        assert "X-Mock-Fault" not in healed.headers
    assert client.post("/__admin/requests/count", json={"fault": FLAKY}).json() == {"count": 2}


@scenario("flaky-token-endpoint")
def test_flaky_token_endpoint_counts_v1_and_v2_and_every_grant_together(client: httpx.Client) -> None:
    assert_unavailable(login(client, "username", version=1))
    assert_unavailable(client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS))
    assert login(client, "username", version=1).status_code == 200
    assert login(client, "username", version=2).status_code == 200


@scenario("flaky-token-endpoint")
def test_flaky_token_endpoint_leaves_other_endpoints_alone(client: httpx.Client) -> None:
    response = client.get("/api/v2/users")
    assert response.status_code == 401
    assert "X-Mock-Fault" not in response.headers
    assert_unavailable(client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS))  # still its first failure


@scenario("flaky-token-endpoint")
def test_flaky_token_endpoint_fails_twice_again_after_a_reset(client: httpx.Client) -> None:
    for _ in range(3):
        client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS)
    assert client.post("/__admin/reset").status_code == 200
    assert_unavailable(client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS))
    assert_unavailable(client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS))
    assert client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS).status_code == 200


# slow-bank (only one request is really waited for: the 300 ms one)
@scenario("slow-bank")
def test_slow_bank_delays_tokens_1500_ms_and_users_calls_300_ms_without_changing_answers(client: httpx.Client) -> None:
    rules = {rule["name"]: rule for rule in client.get("/__admin/faults").json()["faults"]}
    assert rules == {
        "slow-token": _delay_only("slow-token", {"method": "POST", "path": "*/oauth/token"}, 1500),
        "slow-users": _delay_only("slow-users", {"path": "/api/v*/users*"}, 300),
    }


def _delay_only(name: str, match: dict[str, str], delay_ms: int) -> dict[str, Any]:
    return {
        "name": name,
        "match": match,
        "after": 0,
        "times": None,
        "probability": 1.0,
        "delay_ms": delay_ms,
        "matched": 0,
        "fired": 0,
    }


def test_slow_bank_rules_match_every_token_and_users_path() -> None:
    """On the scenario's rules themselves: over HTTP each match would cost the rule's real delay."""
    token, users = loader.load("slow-bank").faults

    def hit(rule: FaultRule, method: str, path: str) -> bool:
        return matches(rule, FaultRequest(method, path, {}, None))

    for path in ("/api/v2/oauth/token", "/oauth/token"):
        assert hit(token, "POST", path)
    assert not hit(token, "POST", "/api/v2/oauth/revoke")
    for method, path in (("GET", "/api/v2/users"), ("POST", "/api/v1/users"), ("POST", "/api/v2/users/verify/x")):
        assert hit(users, method, path)
    assert not hit(users, "GET", "/api/v2/clientConfiguration")


@scenario("slow-bank")
def test_slow_bank_users_call_takes_at_least_300_ms_and_says_so(client: httpx.Client) -> None:
    started = time.perf_counter()
    response = client.get("/api/v1/users")
    elapsed = time.perf_counter() - started
    assert (response.status_code, response.headers["X-Mock-Fault"]) == (401, "slow-users")
    assert elapsed >= 0.29, elapsed


# locked-user
@scenario("locked-user")
@pytest.mark.parametrize("version", [1, 2])
def test_locked_user_login_is_423_locked(client: httpx.Client, version: int) -> None:
    assert_error(login(client, "locked", version=version), 423, "LOCKED", errors.MSG_USER_LOCKED.format(user="locked"))


@scenario("locked-user")
def test_locked_user_username_locks_after_3_wrong_passwords(client: httpx.Client) -> None:
    for _ in range(3):
        assert_error(login(client, "username", "wrong-password"), 400, "BAD_REQUEST", errors.MSG_BAD_USER)
    locked = login(client, "username")
    assert_error(locked, 423, "LOCKED", errors.MSG_USER_LOCKED.format(user="username"))


@scenario("locked-user")
@pytest.mark.parametrize("user", ["locked", "username"])
def test_locked_user_password_change_unlocks(client: httpx.Client, user: str) -> None:
    if user == "username":
        for _ in range(3):
            login(client, user, "wrong-password")
    assert login(client, user).status_code == 423
    change_password(client, user, "new-password-1")
    fresh = login(client, user, "new-password-1")
    assert fresh.status_code == 200, fresh.text
    me = client.get("/api/v2/users", headers=bearer(fresh.json()["access_token"]))
    assert (me.status_code, me.json()["id"]) == (200, user)
    assert_error(login(client, user, "password"), 400, "BAD_REQUEST", errors.MSG_BAD_USER)


# exhausted-process
EXHAUSTED = "0b4e7c1a-2f3d-4e5a-8b6c-7d8e9f0a1b2c"
LAST_EXCHANGE = "e2c3d4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f"
MSG_EXHAUSTED = processes.MSG_EXHAUSTED.format(limit=10)


def exchange(client: httpx.Client, token: str) -> httpx.Response:
    return client.get(f"/api/v1/processes/{token}")


@scenario("exhausted-process")
def test_exhausted_process_token_is_410_illegal_entity_state(client: httpx.Client, clock: AdminClock) -> None:
    for _ in range(2):
        response = exchange(client, EXHAUSTED)
        assert_error(response, 410, "ILLEGAL_ENTITY_STATE", MSG_EXHAUSTED)
        assert response.json()["date"] == format_v1(clock.now())


@scenario("exhausted-process")
def test_exhausted_process_last_exchange_token_succeeds_exactly_once(client: httpx.Client) -> None:
    first = exchange(client, LAST_EXCHANGE)
    assert first.status_code == 200, first.text
    me = client.get("/api/v2/users", headers=bearer(first.json()["accessToken"]))
    assert me.status_code == 200, me.text
    assert_error(exchange(client, LAST_EXCHANGE), 410, "ILLEGAL_ENTITY_STATE", MSG_EXHAUSTED)


@scenario("exhausted-process")
def test_exhausted_process_state_shows_10_and_9_exchanges(client: httpx.Client) -> None:
    seen = {p["clientReference"]: p["exchanges"] for p in client.get("/__admin/state/processes").json()["processes"]}
    assert seen == {"exhausted": 10, "last-exchange": 9}


# strict-verification
@scenario("strict-verification")
def test_strict_verification_pending_user_is_403_until_verified(client: httpx.Client) -> None:
    message = errors.MSG_USER_NOT_VERIFIED.format(user="pending")
    assert_error(login(client, "pending"), 403, "USER_NOT_VERIFIED", message)
    assert_error(login(client, "pending", version=1), 403, "USER_NOT_VERIFIED", message)
    verified = client.post("/api/v2/users/verify/pending", headers=bearer(client_token(client)))
    assert verified.status_code == 200, verified.text
    assert login(client, "pending").status_code == 200


@scenario("strict-verification")
def test_strict_verification_users_created_through_the_api_start_unverified(client: httpx.Client) -> None:
    headers = bearer(client_token(client))
    created = client.post("/api/v2/users", json={"id": "newbie", "password": "secret123"}, headers=headers)
    assert created.status_code == 201, created.text
    status = client.get("/api/v2/users/verificationStatus", params={"userId": "newbie"}, headers=headers)
    assert status.json() == {"userId": "newbie", "isUserVerified": False}
    message = errors.MSG_USER_NOT_VERIFIED.format(user="newbie")
    assert_error(login(client, "newbie", "secret123"), 403, "USER_NOT_VERIFIED", message)
    assert client.post("/api/v2/users/verify/newbie", headers=headers).status_code == 200
    assert login(client, "newbie", "secret123").status_code == 200


@scenario("strict-verification")
def test_strict_verification_keeps_the_scenarios_verified_user_working(client: httpx.Client) -> None:
    assert login(client, "username").status_code == 200
    configuration = client.get("/api/v2/clientConfiguration", headers=bearer(client_token(client)))
    assert configuration.json()["isUserAutoVerificationEnabled"] is False


# giroident (its seeded tokens are tested in depth in tests/api/test_processes.py)
GIRO_FRESH = "3f1c6a52-8d0e-4b7a-9c1d-2e5f6a7b8c9d"
GIRO_LAST = "9b2d4e6f-1a3c-4e5f-8a7b-0c1d2e3f4a5b"
GIRO_INVALIDATED = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"


@scenario("giroident")
def test_giroident_seeds_a_fresh_a_last_exchange_and_an_invalidated_process(client: httpx.Client) -> None:
    assert exchange(client, GIRO_FRESH).status_code == 200
    assert exchange(client, GIRO_FRESH).status_code == 200
    assert exchange(client, GIRO_LAST).status_code == 200
    assert_error(exchange(client, GIRO_LAST), 410, "ILLEGAL_ENTITY_STATE", MSG_EXHAUSTED)
    assert_error(exchange(client, GIRO_INVALIDATED), 410, "ILLEGAL_ENTITY_STATE", processes.MSG_INVALIDATED)


@scenario("giroident")
def test_giroident_processes_stay_valid_for_7_days(client: httpx.Client) -> None:
    advance(client, 7 * 86_400 - 1)
    assert exchange(client, GIRO_FRESH).status_code == 200
    advance(client, 2)
    expired = processes.MSG_EXPIRED.format(days=7)
    assert_error(exchange(client, GIRO_FRESH), 410, "ILLEGAL_ENTITY_STATE", expired)


# Web Form 2.0: webform-expires, webform-bank-error, task-needs-user, callback-receiver-down
@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    """A local http receiver: these scenarios allow http:// callbacks."""
    with CallbackReceiver() as r:
        yield r


def import_form(client: httpx.Client, token: str, callback_url: str, **body: Any) -> dict[str, Any]:
    body = {"bank": {"id": 280001}, "callbacks": {"finalised": callback_url}, **body}
    created = client.post("/api/webForms/bankConnectionImport", json=body, headers=bearer(token))
    assert created.status_code == 201, created.text
    form: dict[str, Any] = created.json()
    return form


def web_form(client: httpx.Client, token: str, web_form_id: str) -> dict[str, Any]:
    response = client.get(f"/api/webForms/{web_form_id}", headers=bearer(token))
    assert response.status_code == 200, response.text
    form: dict[str, Any] = response.json()
    return form


@scenario("webform-expires")
def test_webform_expires_a_form_nobody_finishes_expires_after_20_minutes_and_calls_back(
    client: httpx.Client, receiver: CallbackReceiver
) -> None:
    token = user_tokens(client)["access_token"]
    form = import_form(client, token, f"{receiver.url}/finalised")
    assert form["expiresAt"] == "2026-01-01T08:20:00.000+0000"
    advance(client, 20 * 60 - 1)
    assert web_form(client, token, form["id"])["status"] == "NOT_YET_OPENED"
    advance(client, 1)
    assert web_form(client, token, form["id"])["status"] == "EXPIRED"
    assert receiver.wait_for(webFormId=form["id"]) == {"webFormId": form["id"], "status": "EXPIRED"}
    assert web_form(client, token, form["id"])["payload"] == {"bankConnectionId": None}


@scenario("webform-expires")
def test_webform_expires_an_opened_form_expires_too(client: httpx.Client) -> None:
    token = user_tokens(client)["access_token"]
    form = import_form(client, token, "http://localhost:9/finalised")  # http and a dotless host: allowed here
    page = client.get(f"/wf/{form['id']}")
    assert page.status_code == 200
    assert web_form(client, token, form["id"])["status"] == "IN_PROGRESS"
    advance(client, 20 * 60)
    assert web_form(client, token, form["id"])["status"] == "EXPIRED"


@scenario("webform-bank-error")
def test_webform_bank_error_every_form_ends_with_bank_server_rejection_after_5_seconds(
    client: httpx.Client, receiver: CallbackReceiver
) -> None:
    token = user_tokens(client)["access_token"]
    form = import_form(client, token, receiver.url)
    advance(client, 4)
    assert web_form(client, token, form["id"])["status"] == "NOT_YET_OPENED"
    advance(client, 1)
    done = web_form(client, token, form["id"])
    assert (done["status"], done["payload"]) == (
        "COMPLETED_WITH_ERROR",
        {
            "bankConnectionId": None,
            "errorCode": "BANK_SERVER_REJECTION",
            "errorMessage": ERROR_MESSAGES["BANK_SERVER_REJECTION"],
        },
    )
    assert receiver.wait_for(webFormId=form["id"])["status"] == "COMPLETED_WITH_ERROR"
    connections = client.get("/api/v2/bankConnections", headers=bearer(token)).json()
    assert connections == {"connections": []}


@scenario("task-needs-user")
def test_task_needs_user_a_background_update_ends_web_form_required_with_its_update_form(
    client: httpx.Client, receiver: CallbackReceiver
) -> None:
    token = user_tokens(client)["access_token"]
    [connection] = client.get("/api/v2/bankConnections", headers=bearer(token)).json()["connections"]
    assert (connection["bank"]["blz"], connection["name"]) == ("DEMO0001", "finAPI Test Bank")
    body = {"bankConnectionId": connection["id"], "callbacks": {"webFormRequired": receiver.url}}
    created = client.post("/api/tasks/backgroundUpdate", json=body, headers=bearer(token))
    assert (created.status_code, created.json()["status"]) == (201, "NOT_YET_STARTED"), created.text
    advance(client, 60)
    task = client.get(f"/api/tasks/{created.json()['id']}", headers=bearer(token)).json()
    form = task["payload"]["webForm"]
    assert (task["status"], form["status"]) == ("WEB_FORM_REQUIRED", "NOT_YET_OPENED")
    assert form["url"] == f"http://mock-finapi/wf/{form['id']}"
    update_form = web_form(client, token, form["id"])
    assert (update_form["type"], update_form["payload"]) == ("BANK_CONNECTION_UPDATE", {"bankConnectionId": None})
    callback = receiver.wait_for(taskId=task["id"])
    assert (callback["status"], callback["webForm"]["id"]) == ("WEB_FORM_REQUIRED", form["id"])


@scenario("callback-receiver-down")
def test_callback_receiver_down_the_failed_callback_is_recorded_and_the_form_completes(client: httpx.Client) -> None:
    token = user_tokens(client)["access_token"]
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/callback"
    form = import_form(client, token, closed)
    advance(client, 5)
    done = web_form(client, token, form["id"])
    assert done["status"] == "COMPLETED"
    connection_id = done["payload"]["bankConnectionId"]
    assert client.get(f"/api/v2/bankConnections/{connection_id}", headers=bearer(token)).status_code == 200
    deadline = time.monotonic() + 5
    while not (attempts := client.get("/__admin/callbacks").json()["callbacks"]) and time.monotonic() < deadline:
        time.sleep(0.01)
    [attempt] = attempts
    assert {k: attempt[k] for k in ("kind", "url", "body", "status", "error")} == {
        "kind": "webForm.finalised",
        "url": closed,
        "body": {"webFormId": form["id"], "status": "COMPLETED"},
        "status": None,
        "error": "connection refused",
    }


def test_every_builtin_scenario_has_a_test_here() -> None:
    module = sys.modules[__name__]
    tested = {name for name in dir(module) if name.startswith("test_")}
    for name in loader.builtin_names():
        prefix = "test_" + name.replace("-", "_") + "_"
        assert any(test.startswith(prefix) for test in tested), f"built-in scenario {name} has no test"

"""The no-browser path of Web Form 2.0 (issue 19, WEBFORM.md §7.15): `POST /__admin/webForms/{id}/complete` finishes
a form as its user would in the page (the same state changes in Access, the same `finalised` callback), and the
read-only views `GET /__admin/state/webForms` and `/__admin/state/tasks`.

Served: `webform-expires` (default-with-user; nothing finishes a form by itself; http callbacks allowed), on the
suite's frozen clock."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mock_finapi import errors
from mock_finapi.http.routes.admin import MSG_ADMIN_TOKEN
from mock_finapi.services.webforms import ERROR_MESSAGES, MSG_FINAL, MSG_FORM_BANK, MSG_UNKNOWN_WEB_FORM
from mock_finapi.testing.callbacks import CallbackReceiver
from tests.api.admin_helpers import (
    MANDATOR,
    NOW,
    TWO_MANDATORS,
    assert_error,
    assert_illegal,
    assert_unknown,
    emulator,
    login,
    move_clock,
    ok,
)
from tests.helpers import bearer, user_tokens

VIEW = "/__admin/state/webForms"
TEST_BANK, REDIRECT_BANK = 280001, 280002
CREATED = "2026-01-01T08:00:00.000+0000"
EXPIRES = "2026-01-01T08:20:00.000+0000"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture
def scenario_name() -> str:
    return "webform-expires"


@pytest.fixture
def token(client: httpx.Client) -> str:
    """username's user access token."""
    return user_tokens(client)["access_token"]


def create(client: httpx.Client, token: str, **body: Any) -> dict[str, Any]:
    form: dict[str, Any] = ok(client.post("/api/webForms/bankConnectionImport", json=body, headers=bearer(token)), 201)
    return form


def complete(client: httpx.Client, web_form_id: str, body: Any) -> httpx.Response:
    return client.post(f"/__admin/webForms/{web_form_id}/complete", json=body)


def get_form(client: httpx.Client, token: str, web_form_id: str) -> dict[str, Any]:
    form: dict[str, Any] = ok(client.get(f"/api/webForms/{web_form_id}", headers=bearer(token)))
    return form


def accounts(client: httpx.Client, token: str, connection_id: int) -> list[dict[str, Any]]:
    params = {"bankConnectionIds": connection_id}
    found: list[dict[str, Any]] = ok(client.get("/api/v2/accounts", params=params, headers=bearer(token)))["accounts"]
    return found


def web_form(form_id: str, status: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A form of the suite's scenario created at its start, as the Web Form API shows it."""
    return {
        "id": form_id,
        "url": f"http://mock-finapi/wf/{form_id}",
        "createdAt": CREATED,
        "expiresAt": EXPIRES,
        "type": "BANK_CONNECTION_IMPORT",
        "status": status,
        "payload": payload,
    }


# ---------------------------------------------------------------------------------------------------- complete


def test_completing_answers_the_form_as_the_web_form_api_shows_it(client: httpx.Client, token: str) -> None:
    form = create(client, token, bank={"id": TEST_BANK})

    done = ok(complete(client, form["id"], {"status": "COMPLETED"}))

    connection_id = done["payload"]["bankConnectionId"]
    assert isinstance(connection_id, int)
    assert done == web_form(form["id"], "COMPLETED", {"bankConnectionId": connection_id})
    assert get_form(client, token, form["id"]) == done


def test_a_completed_import_is_a_test_bank_connection_with_accounts_and_transactions_in_access(
    client: httpx.Client, token: str
) -> None:
    form = create(client, token, bank={"id": TEST_BANK}, bankConnectionName="Mein Girokonto")
    connection_id = ok(complete(client, form["id"], {"status": "COMPLETED"}))["payload"]["bankConnectionId"]

    connection = ok(client.get(f"/api/v2/bankConnections/{connection_id}", headers=bearer(token)))
    assert (connection["bank"]["id"], connection["name"]) == (TEST_BANK, "Mein Girokonto")
    assert [(a["accountName"], a["accountType"]) for a in accounts(client, token, connection_id)] == [
        ("Girokonto", "Checking"),
        ("Haushaltskonto", "Checking"),
        ("Tagesgeld", "Savings"),
    ]
    ids = connection["accountIds"]
    page = ok(client.get("/api/v2/transactions", params={"view": "bankView", "accountIds": ids}, headers=bearer(token)))
    assert page["paging"]["totalCount"] >= 60


def test_account_types_keep_only_the_accounts_the_user_picked(client: httpx.Client, token: str) -> None:
    form = create(client, token, bank={"id": TEST_BANK})

    done = ok(complete(client, form["id"], {"status": "COMPLETED", "accountTypes": ["SAVINGS"]}))

    picked = accounts(client, token, done["payload"]["bankConnectionId"])
    assert [(a["accountName"], a["accountType"]) for a in picked] == [("Tagesgeld", "Savings")]


def test_the_admin_picks_the_bank_of_a_form_that_names_none(client: httpx.Client, token: str) -> None:
    form = create(client, token)

    done = ok(complete(client, form["id"], {"status": "COMPLETED", "bankId": REDIRECT_BANK}))

    connection_id = done["payload"]["bankConnectionId"]
    connection = ok(client.get(f"/api/v2/bankConnections/{connection_id}", headers=bearer(token)))
    assert connection["bank"]["id"] == REDIRECT_BANK


def test_another_bank_than_the_forms_is_refused_and_the_form_stays_open(client: httpx.Client, token: str) -> None:
    form = create(client, token, bank={"id": TEST_BANK})

    refused = complete(client, form["id"], {"status": "COMPLETED", "bankId": REDIRECT_BANK})

    assert_illegal(refused, MSG_FORM_BANK.format(bank=TEST_BANK, picked=REDIRECT_BANK))
    assert get_form(client, token, form["id"])["status"] == "NOT_YET_OPENED"


def test_completed_with_error_is_a_bank_server_rejection_unless_said_otherwise(
    client: httpx.Client, token: str
) -> None:
    rejected = create(client, token, bank={"id": TEST_BANK})
    no_accounts = create(client, token, bank={"id": TEST_BANK})

    first = ok(complete(client, rejected["id"], {"status": "COMPLETED_WITH_ERROR"}))
    second = complete(client, no_accounts["id"], {"status": "COMPLETED_WITH_ERROR", "errorCode": "INTERRUPTED"})

    assert first == web_form(
        rejected["id"],
        "COMPLETED_WITH_ERROR",
        {
            "bankConnectionId": None,
            "errorCode": "BANK_SERVER_REJECTION",
            "errorMessage": ERROR_MESSAGES["BANK_SERVER_REJECTION"],
        },
    )
    assert ok(second)["payload"] == {
        "bankConnectionId": None,
        "errorCode": "INTERRUPTED",
        "errorMessage": ERROR_MESSAGES["INTERRUPTED"],
    }
    assert ok(client.get("/__admin/state/bankConnections"))["bankConnections"] == []


@pytest.mark.parametrize("status", ["ABORTED", "EXPIRED"])
def test_aborted_and_expired_forms_create_no_connection(client: httpx.Client, token: str, status: str) -> None:
    form = create(client, token, bank={"id": TEST_BANK})

    done = ok(complete(client, form["id"], {"status": status}))

    assert done == web_form(form["id"], status, {"bankConnectionId": None})
    assert ok(client.get("/__admin/state/bankConnections"))["bankConnections"] == []


def test_a_form_opened_in_the_page_can_be_completed_too(client: httpx.Client, token: str) -> None:
    form = create(client, token, bank={"id": TEST_BANK})
    client.get(f"/wf/{form['id']}")  # the user opens the URL, then leaves it to the test

    assert get_form(client, token, form["id"])["status"] == "IN_PROGRESS"
    assert ok(complete(client, form["id"], {"status": "ABORTED"}))["status"] == "ABORTED"


def test_a_final_form_is_422_and_keeps_its_status(client: httpx.Client, token: str) -> None:
    form = create(client, token, bank={"id": TEST_BANK})
    done = ok(complete(client, form["id"], {"status": "COMPLETED"}))

    again = complete(client, form["id"], {"status": "ABORTED"})

    message = MSG_FINAL.format(id=form["id"], status="COMPLETED")
    assert_error(again, 422, "ILLEGAL_ENTITY_STATE", "BUSINESS", message)
    assert get_form(client, token, form["id"]) == done
    assert len(ok(client.get("/__admin/state/bankConnections"))["bankConnections"]) == 1


def test_a_form_whose_20_minutes_have_passed_is_expired_already(client: httpx.Client, token: str) -> None:
    form = create(client, token, bank={"id": TEST_BANK})
    move_clock(client, advance=20 * 60)

    late = complete(client, form["id"], {"status": "COMPLETED"})

    message = MSG_FINAL.format(id=form["id"], status="EXPIRED")
    assert_error(late, 422, "ILLEGAL_ENTITY_STATE", "BUSINESS", message, date="2026-01-01T09:20:00.000+01:00")
    assert get_form(client, token, form["id"])["status"] == "EXPIRED"


def test_a_form_one_second_before_its_expiry_can_be_completed(client: httpx.Client, token: str) -> None:
    form = create(client, token, bank={"id": TEST_BANK})
    move_clock(client, advance=20 * 60 - 1)

    assert ok(complete(client, form["id"], {"status": "COMPLETED"}))["status"] == "COMPLETED"


def test_an_unknown_web_form_is_404(client: httpx.Client) -> None:
    missing = "0b6e5f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b"
    assert_unknown(complete(client, missing, {"status": "COMPLETED"}), MSG_UNKNOWN_WEB_FORM.format(id=missing))


def test_a_deleted_web_form_is_404(client: httpx.Client, token: str) -> None:
    form = create(client, token)
    assert client.delete(f"/api/webForms/{form['id']}", headers=bearer(token)).status_code == 200

    assert_unknown(complete(client, form["id"], {"status": "COMPLETED"}), MSG_UNKNOWN_WEB_FORM.format(id=form["id"]))


ALLOWED = "allowed: status, errorCode, bankId, accountTypes"
ERROR_CODES = (
    "BANK_SERVER_REJECTION, ENTITY_EXISTS, INTERNAL_ERROR, INTERRUPTED, INVALID_TOKEN, MANDATOR_MISCONFIGURATION, "
    "NO_ACCOUNTS_FOR_TYPE_LIST, UNDETERMINED_BANK or UNEXPECTED_ACCESS_RESPONSE"
)
TYPES = "CHECKING, SAVINGS, CREDIT_CARD, SECURITY, LOAN, MEMBERSHIP, BAUSPAREN"
STATUSES = "COMPLETED, COMPLETED_WITH_ERROR, ABORTED or EXPIRED"
BAD_BODIES = [
    ("no status", {}, "status: is required"),
    ("a status in lower case", {"status": "completed"}, f"status: must be {STATUSES}"),
    ("a status of an open form", {"status": "IN_PROGRESS"}, f"status: must be {STATUSES}"),
    ("a status as a number", {"status": 1}, "status: must be a string, not an integer"),
    ("a misspelt key", {"status": "COMPLETED", "bankid": 1}, f"bankid: unknown key (did you mean 'bankId'? {ALLOWED})"),
    (
        "an error code of a completed form",
        {"status": "COMPLETED", "errorCode": "BANK_SERVER_REJECTION"},
        "errorCode: only a COMPLETED_WITH_ERROR outcome has an error code",
    ),
    (
        "an unknown error code",
        {"status": "COMPLETED_WITH_ERROR", "errorCode": "WRONG_PIN"},
        f"errorCode: must be one of {ERROR_CODES}",
    ),
    (
        "a bank of an aborted form",
        {"status": "ABORTED", "bankId": TEST_BANK},
        "bankId: only a COMPLETED form has a bank and accounts the user picked",
    ),
    (
        "account types of a failed form",
        {"status": "COMPLETED_WITH_ERROR", "accountTypes": ["CHECKING"]},
        "accountTypes: only a COMPLETED form has a bank and accounts the user picked",
    ),
    ("a bank id as text", {"status": "COMPLETED", "bankId": "280001"}, "bankId: must be an integer, not a string"),
    ("a bank id of 0", {"status": "COMPLETED", "bankId": 0}, f"bankId: must be a bank id between 1 and {2**63 - 1}"),
    (
        "Access's account type names",
        {"status": "COMPLETED", "accountTypes": ["Checking"]},
        f"accountTypes: must be a non-empty list of account types, each once ({TYPES})",
    ),
    (
        "no account types",
        {"status": "COMPLETED", "accountTypes": []},
        f"accountTypes: must be a non-empty list of account types, each once ({TYPES})",
    ),
    (
        "an account type twice",
        {"status": "COMPLETED", "accountTypes": ["SAVINGS", "SAVINGS"]},
        f"accountTypes: must be a non-empty list of account types, each once ({TYPES})",
    ),
]


@pytest.mark.parametrize(("body", "message"), [c[1:] for c in BAD_BODIES], ids=[c[0] for c in BAD_BODIES])
def test_a_bad_body_is_400_naming_the_key_and_changes_nothing(
    client: httpx.Client, token: str, body: Any, message: str
) -> None:
    form = create(client, token, bank={"id": TEST_BANK})

    assert_illegal(complete(client, form["id"], body), message)
    assert get_form(client, token, form["id"])["status"] == "NOT_YET_OPENED"


def test_no_body_broken_json_and_a_list_are_400(client: httpx.Client, token: str) -> None:
    form = create(client, token)
    path = f"/__admin/webForms/{form['id']}/complete"

    assert_error(client.post(path), 400, "BAD_REQUEST", "TECHNICAL", errors.MSG_BODY_MISSING)
    assert_error(client.post(path, content=b"{"), 400, "BAD_REQUEST", "TECHNICAL", errors.MSG_MALFORMED_JSON)
    assert_error(client.post(path, json=["COMPLETED"]), 400, "BAD_REQUEST", "TECHNICAL", errors.MSG_JSON_OBJECT)


def test_bad_input_is_400_before_an_unknown_form_is_404(client: httpx.Client) -> None:
    assert_illegal(complete(client, "no-such-form", {"status": "DONE"}), f"status: must be {STATUSES}")


# ---------------------------------------------------------------------------------------------------- callbacks


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as r:
        yield r


def recorded_callbacks(client: httpx.Client, count: int) -> list[dict[str, Any]]:
    """The outbound journal once it holds `count` attempts (they are sent in the background)."""
    deadline = time.monotonic() + 5
    while True:
        found: list[dict[str, Any]] = ok(client.get("/__admin/callbacks"))["callbacks"]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.01)


@pytest.mark.parametrize("status", ["COMPLETED", "COMPLETED_WITH_ERROR", "ABORTED", "EXPIRED"])
def test_completing_sends_the_forms_finalised_callback(
    client: httpx.Client, token: str, receiver: CallbackReceiver, status: str
) -> None:
    form = create(client, token, bank={"id": TEST_BANK}, callbacks={"finalised": f"{receiver.url}/cb?state=7"})

    ok(complete(client, form["id"], {"status": status}))

    assert receiver.wait_for(webFormId=form["id"]) == {"webFormId": form["id"], "status": status}
    [callback] = receiver.received
    assert (callback.path, callback.headers["content-type"]) == ("/cb?state=7", "application/json")
    [attempt] = recorded_callbacks(client, 1)
    assert {k: attempt[k] for k in ("kind", "url", "body", "status", "error", "mandatorId")} == {
        "kind": "webForm.finalised",
        "url": f"{receiver.url}/cb?state=7",
        "body": {"webFormId": form["id"], "status": status},
        "status": 200,
        "error": None,
        "mandatorId": MANDATOR,
    }


def test_a_refused_completion_sends_no_callback(client: httpx.Client, token: str, receiver: CallbackReceiver) -> None:
    form = create(client, token, bank={"id": TEST_BANK}, callbacks={"finalised": receiver.url})
    ok(complete(client, form["id"], {"status": "ABORTED"}))
    receiver.wait_for(webFormId=form["id"])

    assert complete(client, form["id"], {"status": "COMPLETED"}).status_code == 422

    time.sleep(0.2)
    assert len(receiver.received) == 1
    assert len(recorded_callbacks(client, 1)) == 1


# ---------------------------------------------------------------------------------------------------- views


def test_the_web_forms_view_shows_every_form_oldest_first_with_its_result(client: httpx.Client, token: str) -> None:
    first = create(client, token, bank={"id": TEST_BANK}, accountTypes=["CHECKING"])
    move_clock(client, advance=60)
    second = create(client, token, callbacks={"finalised": "http://127.0.0.1:9/cb"})
    connection_id = ok(complete(client, first["id"], {"status": "COMPLETED"}))["payload"]["bankConnectionId"]
    ok(complete(client, second["id"], {"status": "COMPLETED_WITH_ERROR", "errorCode": "UNDETERMINED_BANK"}))

    assert ok(client.get(VIEW)) == {
        "webForms": [
            {
                "id": first["id"],
                "mandatorId": MANDATOR,
                "userId": "username",
                "type": "BANK_CONNECTION_IMPORT",
                "status": "COMPLETED",
                "url": f"http://mock-finapi/wf/{first['id']}",
                "createdAt": NOW,
                "expiresAt": "2026-01-01T09:20:00.000+01:00",
                "opened": False,
                "bankId": TEST_BANK,
                "accountTypes": ["CHECKING"],
                "callbackUrl": None,
                "bankConnectionId": connection_id,
                "errorCode": None,
                "taskId": None,
            },
            {
                "id": second["id"],
                "mandatorId": MANDATOR,
                "userId": "username",
                "type": "BANK_CONNECTION_IMPORT",
                "status": "COMPLETED_WITH_ERROR",
                "url": f"http://mock-finapi/wf/{second['id']}",
                "createdAt": "2026-01-01T09:01:00.000+01:00",
                "expiresAt": "2026-01-01T09:21:00.000+01:00",
                "opened": False,
                "bankId": None,
                "accountTypes": None,
                "callbackUrl": "http://127.0.0.1:9/cb",
                "bankConnectionId": None,
                "errorCode": "UNDETERMINED_BANK",
                "taskId": None,
            },
        ]
    }


def test_the_web_forms_view_shows_expiry_as_soon_as_the_clock_passes_it(client: httpx.Client, token: str) -> None:
    create(client, token)
    assert [f["status"] for f in ok(client.get(VIEW))["webForms"]] == ["NOT_YET_OPENED"]
    move_clock(client, advance=20 * 60)

    assert [f["status"] for f in ok(client.get(VIEW))["webForms"]] == ["EXPIRED"]


def test_the_web_forms_view_uses_the_public_url() -> None:
    with emulator(scenario="webform-expires", public_url="https://webform.example.com/") as client:
        form = create(client, user_tokens(client)["access_token"])
        [shown] = ok(client.get(VIEW))["webForms"]
        assert shown["url"] == form["url"] == f"https://webform.example.com/wf/{form['id']}"
        done = ok(complete(client, form["id"], {"status": "ABORTED"}))
        assert done["url"] == form["url"]


def test_the_views_filter_by_mandator() -> None:
    with emulator(scenario=TWO_MANDATORS) as client:
        alice = ok(login(client, "a", "alice", "alice-password"))["access_token"]
        bob = ok(login(client, "b", "bob", "bob-password"))["access_token"]
        alices, bobs = create(client, alice), create(client, bob)

        assert [f["id"] for f in ok(client.get(VIEW))["webForms"]] == [alices["id"], bobs["id"]]
        shown = ok(client.get(VIEW, params={"mandator": "mandator-b"}))["webForms"]
        assert [(f["id"], f["mandatorId"], f["userId"]) for f in shown] == [(bobs["id"], "mandator-b", "bob")]
        assert ok(client.get(VIEW, params={"mandator": "nobody"})) == {"webForms": []}
        assert ok(client.get("/__admin/state/tasks", params={"mandator": "mandator-a"})) == {"tasks": []}


def test_a_deleted_users_forms_leave_the_view(client: httpx.Client, token: str) -> None:
    create(client, token)
    assert client.delete("/api/v2/users", headers=bearer(token)).status_code == 200

    assert ok(client.get(VIEW)) == {"webForms": []}


def test_no_web_forms_and_no_tasks_at_the_start(client: httpx.Client) -> None:
    assert ok(client.get(VIEW)) == {"webForms": []}
    assert ok(client.get("/__admin/state/tasks")) == {"tasks": []}


# ---------------------------------------------------------------------------------------------------- tasks


@pytest.mark.parametrize("scenario_name", ["task-needs-user"])
def test_the_tasks_view_and_completing_a_tasks_update_form(client: httpx.Client, token: str) -> None:
    [connection] = ok(client.get("/__admin/state/bankConnections"))["bankConnections"]
    body = {"bankConnectionId": connection["id"]}
    task = ok(client.post("/api/tasks/backgroundUpdate", json=body, headers=bearer(token)), 201)
    [queued] = ok(client.get("/__admin/state/tasks"))["tasks"]
    assert queued == {
        "id": task["id"],
        "mandatorId": MANDATOR,
        "userId": "username",
        "type": "BANK_CONNECTION_UPDATE",
        "status": "NOT_YET_STARTED",
        "createdAt": NOW,
        "bankConnectionId": connection["id"],
        "webFormId": None,
        "errorCode": None,
    }
    move_clock(client, advance=60)  # the task ran: it needs the user

    [needs_user] = ok(client.get("/__admin/state/tasks"))["tasks"]
    assert needs_user["status"] == "WEB_FORM_REQUIRED"
    update_form = next(f for f in ok(client.get(VIEW))["webForms"] if f["id"] == needs_user["webFormId"])
    assert (update_form["type"], update_form["taskId"], update_form["bankId"]) == (
        "BANK_CONNECTION_UPDATE",
        task["id"],
        TEST_BANK,
    )

    done = ok(complete(client, update_form["id"], {"status": "COMPLETED"}))

    assert (done["type"], done["status"], done["payload"]) == (
        "BANK_CONNECTION_UPDATE",
        "COMPLETED",
        {"bankConnectionId": connection["id"]},
    )
    shown = ok(client.get(f"/api/v2/bankConnections/{connection['id']}", headers=bearer(token)))
    assert shown["interfaces"][0]["lastManualUpdate"]["result"] == "OK"
    assert ok(client.get(f"/api/tasks/{task['id']}", headers=bearer(token)))["payload"]["webForm"] == {
        "id": update_form["id"],
        "url": update_form["url"],
        "status": "COMPLETED",
    }


# ---------------------------------------------------------------------------------------------------- guard

MINE = [
    ("GET", VIEW),
    ("GET", "/__admin/state/tasks"),
    ("POST", "/__admin/webForms/0b6e5f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b/complete"),
]


@pytest.mark.parametrize(("method", "path"), MINE)
def test_the_admin_token_guards_them_and_no_admin_hides_them(method: str, path: str) -> None:
    with emulator(admin_token="admin-secret") as client:
        response = client.request(method, path, json={"status": "COMPLETED"})
        assert response.status_code == 401
        assert response.json() == {"error": "invalid_token", "error_description": MSG_ADMIN_TOKEN}
        allowed = client.request(method, path, json={"status": "COMPLETED"}, headers=bearer("admin-secret"))
        assert allowed.status_code == (404 if method == "POST" else 200)
    with emulator(admin=False) as client:
        hidden = client.request(method, path, json={"status": "COMPLETED"})
        assert_unknown(hidden, errors.MSG_NO_ENDPOINT.format(method=method, path=path))

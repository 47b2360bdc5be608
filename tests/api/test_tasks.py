"""The Web Form 2.0 API's background update tasks (WEBFORM.md §2.5, §4, §7.16): `POST /api/tasks/backgroundUpdate`
with every field and validation rule, get/list, the statuses over virtual time (NOT_YET_STARTED, IN_PROGRESS after
1 second, final after 3), COMPLETED or WEB_FORM_REQUIRED by the rule or a scenario's `webforms.task_outcome`, the
update web form and its status in the task, `lastManualUpdate` in Access, 423 LOCKED while a connection is busy, and
the task callbacks.

Served: tests/scenarios/webforms.yaml, clock frozen at 2026-01-01 09:00 +01:00 (08:00 UTC). username's connections:
DEMO0001 over XS2A with a consent (COMPLETED by the rule), DEMO0001 over FINTS_SERVER (COMPLETED: no consent needed),
DEMO0002 whose consent expired (WEB_FORM_REQUIRED), a scenario bank's still updating for 60 seconds (423).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_finapi.testing.callbacks import CallbackReceiver
from tests.api.webform_helpers import (
    ACCOUNT_TYPES,
    BASE,
    BUSY_CONNECTION,
    EXPIRED_CONSENT_CONNECTION,
    FINAPI_URL_RULE,
    FINTS_CONNECTION,
    RID,
    SCENARIO,
    TASKS,
    XS2A_CONNECTION,
    assert_error,
    assert_invalid,
    complete,
    created,
    get_form,
    headers,
    new_form,
    ok,
    stamp,
    token,
    wait_for_callbacks,
    web_form,
)
from tests.helpers import AdminClock


@pytest.fixture
def scenario_name() -> str:
    return SCENARIO


@pytest.fixture
def user(client: httpx.Client) -> str:
    return token(client, "username")


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as found:
        yield found


def new_task(client: httpx.Client, user_token: str, connection: int = XS2A_CONNECTION, **fields: Any) -> dict[str, Any]:
    return created(client.post(TASKS, json={"bankConnectionId": connection, **fields}, headers=headers(user_token)))


def get_task(client: httpx.Client, user_token: str, task_id: str) -> dict[str, Any]:
    body: dict[str, Any] = ok(client.get(f"/api/tasks/{task_id}", headers=headers(user_token)))
    return body


def task(
    task_id: str, status: str, connection: int = XS2A_CONNECTION, at: float = 0.0, **payload: Any
) -> dict[str, Any]:
    return {
        "id": task_id,
        "createdAt": stamp(at),
        "type": "BANK_CONNECTION_UPDATE",
        "status": status,
        "payload": {"bankConnectionId": connection, **payload},
    }


def connection_of(client: httpx.Client, user_token: str, connection: int) -> dict[str, Any]:
    body: dict[str, Any] = ok(client.get(f"/api/v2/bankConnections/{connection}", headers=headers(user_token)))
    return body


# ---------------------------------------------------------------------------------------------------- lifecycle


def test_a_task_is_201_not_yet_started_then_in_progress_then_completed(
    client: httpx.Client, user: str, clock: AdminClock
) -> None:
    response = client.post(TASKS, json={"bankConnectionId": XS2A_CONNECTION}, headers=headers(user))
    body = created(response)
    assert response.headers["content-type"] == "application/json"
    assert body == task(body["id"], "NOT_YET_STARTED")
    assert connection_of(client, user, XS2A_CONNECTION)["updateStatus"] == "IN_PROGRESS"
    clock.advance(0.999)
    assert get_task(client, user, body["id"]) == task(body["id"], "NOT_YET_STARTED")
    clock.advance(0.001)
    assert get_task(client, user, body["id"]) == task(body["id"], "IN_PROGRESS")
    clock.advance(1.999)
    assert get_task(client, user, body["id"]) == task(body["id"], "IN_PROGRESS")
    assert connection_of(client, user, XS2A_CONNECTION)["updateStatus"] == "IN_PROGRESS"
    clock.advance(0.001)
    assert get_task(client, user, body["id"]) == task(body["id"], "COMPLETED")
    connection = connection_of(client, user, XS2A_CONNECTION)
    assert connection["updateStatus"] == "READY"
    assert connection["interfaces"][0]["lastManualUpdate"] == {
        "result": "OK",
        "errorMessage": None,
        "errorType": None,
        "timestamp": "2026-01-01T09:00:03.000+01:00",
    }
    clock.advance(3600)
    assert get_task(client, token(client), body["id"]) == task(body["id"], "COMPLETED")


def test_a_clock_jump_past_the_run_ends_the_task_at_once(client: httpx.Client, user: str, clock: AdminClock) -> None:
    body = new_task(client, user, FINTS_CONNECTION)
    clock.advance(600)
    assert get_task(client, user, body["id"]) == task(body["id"], "COMPLETED", FINTS_CONNECTION)
    timestamp = connection_of(client, user, FINTS_CONNECTION)["interfaces"][0]["lastManualUpdate"]["timestamp"]
    assert timestamp == "2026-01-01T09:00:03.000+01:00"  # when the run ended, not when it was looked at


def test_an_expired_consent_needs_the_user_an_update_web_form(
    client: httpx.Client, user: str, clock: AdminClock
) -> None:
    body = new_task(client, user, EXPIRED_CONSENT_CONNECTION)
    before = connection_of(client, user, EXPIRED_CONSENT_CONNECTION)["interfaces"][0]["lastManualUpdate"]
    clock.advance(3)
    found = get_task(client, user, body["id"])
    form_id = found["payload"]["webForm"]["id"]
    info = {"id": form_id, "url": f"{BASE}/wf/{form_id}", "status": "NOT_YET_OPENED"}
    assert found == task(body["id"], "WEB_FORM_REQUIRED", EXPIRED_CONSENT_CONNECTION, webForm=info)
    update_form = web_form(form_id, created_at=3, type="BANK_CONNECTION_UPDATE")
    assert get_form(client, user, form_id) == update_form
    assert ok(client.get("/api/webForms", headers=headers(user)))["items"] == [update_form]
    connection = connection_of(client, user, EXPIRED_CONSENT_CONNECTION)
    assert connection["updateStatus"] == "READY"
    assert connection["interfaces"][0]["lastManualUpdate"] == before  # no update ran without the user


def test_the_update_forms_status_shows_in_the_task_and_completing_it_updates_the_connection(
    client: httpx.Client, user: str, clock: AdminClock
) -> None:
    body = new_task(client, user, EXPIRED_CONSENT_CONNECTION)
    clock.advance(3)
    form_id = get_task(client, user, body["id"])["payload"]["webForm"]["id"]
    assert client.get(f"/wf/{form_id}").status_code == 200  # the user opens it
    assert get_task(client, user, body["id"])["payload"]["webForm"]["status"] == "IN_PROGRESS"
    clock.advance(60)
    done = web_form(
        form_id,
        status="COMPLETED",
        created_at=3,
        type="BANK_CONNECTION_UPDATE",
        bankConnectionId=EXPIRED_CONSENT_CONNECTION,
    )
    assert ok(complete(client, form_id)) == done
    assert get_form(client, user, form_id) == done
    info = {"id": form_id, "url": f"{BASE}/wf/{form_id}", "status": "COMPLETED"}
    assert get_task(client, user, body["id"]) == task(
        body["id"], "WEB_FORM_REQUIRED", EXPIRED_CONSENT_CONNECTION, webForm=info
    )
    update = connection_of(client, user, EXPIRED_CONSENT_CONNECTION)["interfaces"][0]["lastManualUpdate"]
    assert (update["result"], update["timestamp"]) == ("OK", "2026-01-01T09:01:03.000+01:00")
    connections = ok(client.get("/api/v2/bankConnections", headers=headers(user)))["connections"]
    assert len(connections) == 4  # an update form imports nothing


def test_an_update_form_that_fails_records_the_failed_update(
    client: httpx.Client, user: str, clock: AdminClock
) -> None:
    body = new_task(client, user, EXPIRED_CONSENT_CONNECTION)
    clock.advance(3)
    form_id = get_task(client, user, body["id"])["payload"]["webForm"]["id"]
    failed = ok(complete(client, form_id, "COMPLETED_WITH_ERROR"))
    assert failed["payload"] == {
        "bankConnectionId": EXPIRED_CONSENT_CONNECTION,
        "errorCode": "BANK_SERVER_REJECTION",
        "errorMessage": "The bank rejected the login: the credentials are wrong",
    }
    update = connection_of(client, user, EXPIRED_CONSENT_CONNECTION)["interfaces"][0]["lastManualUpdate"]
    assert update == {
        "result": "BANK_SERVER_REJECTION",
        "errorMessage": "The bank rejected the login: the credentials are wrong",
        "errorType": "BUSINESS",
        "timestamp": "2026-01-01T09:00:03.000+01:00",
    }


@pytest.mark.parametrize("status", ["ABORTED", "EXPIRED"])
def test_an_update_form_left_unfinished_changes_nothing_in_access(
    client: httpx.Client, user: str, clock: AdminClock, status: str
) -> None:
    body = new_task(client, user, EXPIRED_CONSENT_CONNECTION)
    clock.advance(3)
    before = connection_of(client, user, EXPIRED_CONSENT_CONNECTION)["interfaces"]
    form_id = get_task(client, user, body["id"])["payload"]["webForm"]["id"]
    if status == "EXPIRED":
        clock.advance(1200)
    else:
        ok(complete(client, form_id, status))
    assert get_form(client, user, form_id)["payload"] == {"bankConnectionId": None}
    assert get_task(client, user, body["id"])["payload"]["webForm"]["status"] == status
    assert connection_of(client, user, EXPIRED_CONSENT_CONNECTION)["interfaces"] == before


def test_a_deleted_update_form_shows_as_null(client: httpx.Client, user: str, clock: AdminClock) -> None:
    body = new_task(client, user, EXPIRED_CONSENT_CONNECTION)
    clock.advance(3)
    form_id = get_task(client, user, body["id"])["payload"]["webForm"]["id"]
    assert client.delete(f"/api/webForms/{form_id}", headers=headers(user)).status_code == 200
    assert get_task(client, user, body["id"])["payload"] == {
        "bankConnectionId": EXPIRED_CONSENT_CONNECTION,
        "webForm": None,
    }


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"manageSavedSettings": ["CREDENTIALS"]}, "WEB_FORM_REQUIRED"),
        ({"manageSavedSettings": ["DEFAULT_TWO_STEP_PROCEDURE"]}, "WEB_FORM_REQUIRED"),
        ({"manageSavedSettings": []}, "COMPLETED"),
        ({"importNewAccountsMode": "FORCED"}, "WEB_FORM_REQUIRED"),
        ({"importNewAccountsMode": "CONDITIONAL"}, "COMPLETED"),
        ({"importNewAccountsMode": "SKIP"}, "COMPLETED"),
        ({"importNewAccounts": True}, "COMPLETED"),
        ({"allowedInterfaces": ["FINTS_SERVER"]}, "WEB_FORM_REQUIRED"),
        ({"allowedInterfaces": ["XS2A"]}, "COMPLETED"),
        ({"accountTypes": ["CHECKING"], "skipPositionsDownload": True, "loadOwnerData": True}, "COMPLETED"),
    ],
)
def test_the_task_needs_the_user_when_its_fields_say_so(
    client: httpx.Client, user: str, clock: AdminClock, fields: dict[str, Any], status: str
) -> None:
    body = new_task(client, user, XS2A_CONNECTION, **fields)
    clock.advance(3)
    assert get_task(client, user, body["id"])["status"] == status


def test_a_consent_expiring_before_the_run_ends_needs_the_user(
    client: httpx.Client, user: str, clock: AdminClock
) -> None:
    clock.advance(90 * 86_400 - 2)  # the XS2A connection's consent ends 90 days after the start
    fresh = token(client)
    body = new_task(client, fresh, XS2A_CONNECTION)
    clock.advance(3)
    assert get_task(client, fresh, body["id"])["status"] == "WEB_FORM_REQUIRED"


def test_a_scenario_can_make_every_task_fail(client: httpx.Client, user: str, clock: AdminClock) -> None:
    text = Path(SCENARIO).read_text("utf-8").replace("webforms:\n", "webforms:\n  task_outcome: COMPLETED_WITH_ERROR\n")
    assert ok(client.post("/__admin/scenario", json={"yaml": text}))
    user = token(client)
    body = new_task(client, user, XS2A_CONNECTION)
    clock.advance(3)
    assert get_task(client, user, body["id"]) == task(
        body["id"], "COMPLETED_WITH_ERROR", errorCode="BANK_SERVER_REJECTION"
    )
    update = connection_of(client, user, XS2A_CONNECTION)["interfaces"][0]["lastManualUpdate"]
    assert (update["result"], update["errorType"]) == ("BANK_SERVER_REJECTION", "BUSINESS")


@pytest.mark.parametrize("outcome", ["WEB_FORM_REQUIRED", "COMPLETED"])
def test_a_scenario_can_force_the_other_outcome(client: httpx.Client, clock: AdminClock, outcome: str) -> None:
    text = Path(SCENARIO).read_text("utf-8").replace("webforms:\n", f"webforms:\n  task_outcome: {outcome}\n")
    assert ok(client.post("/__admin/scenario", json={"yaml": text}))
    user = token(client)
    connection = XS2A_CONNECTION if outcome == "WEB_FORM_REQUIRED" else EXPIRED_CONSENT_CONNECTION
    body = new_task(client, user, connection)
    clock.advance(3)
    assert get_task(client, user, body["id"])["status"] == outcome


# ---------------------------------------------------------------------------------------------------- 423, 404


def test_a_busy_connection_is_423_locked(client: httpx.Client, user: str, clock: AdminClock) -> None:
    description = f"Bank connection with id '{BUSY_CONNECTION}' is locked: an import or update is running"
    response = client.post(TASKS, json={"bankConnectionId": BUSY_CONNECTION}, headers=headers(user))
    assert_error(response, 423, "LOCKED", description)
    clock.advance(60)
    new_task(client, user, BUSY_CONNECTION)


def test_a_running_task_locks_its_connection_until_its_end(client: httpx.Client, user: str, clock: AdminClock) -> None:
    new_task(client, user, XS2A_CONNECTION)
    description = f"Bank connection with id '{XS2A_CONNECTION}' is locked: an import or update is running"
    for _ in range(2):
        response = client.post(TASKS, json={"bankConnectionId": XS2A_CONNECTION}, headers=headers(user))
        assert_error(response, 423, "LOCKED", description, at=clock.time() - START_SECONDS)
        clock.advance(1.5)
    second = new_task(client, user, XS2A_CONNECTION)
    assert second["createdAt"] == stamp(3)
    assert client.delete(f"/api/v2/bankConnections/{XS2A_CONNECTION}", headers=headers(user)).status_code == 423


START_SECONDS = 1_767_254_400.0
"""The scenario's start (2026-01-01T08:00:00Z) in epoch seconds."""


def test_a_mock_batch_update_locks_the_connection(client: httpx.Client, user: str, clock: AdminClock) -> None:
    mock = {"mockBankConnectionUpdates": [{"bankConnectionId": FINTS_CONNECTION, "bankingInterface": "FINTS_SERVER"}]}
    assert client.post("/api/v2/tests/mockBatchUpdate", json=mock, headers=headers(user)).status_code == 200
    response = client.post(TASKS, json={"bankConnectionId": FINTS_CONNECTION}, headers=headers(user))
    description = f"Bank connection with id '{FINTS_CONNECTION}' is locked: an import or update is running"
    assert_error(response, 423, "LOCKED", description)
    clock.advance(5)
    new_task(client, user, FINTS_CONNECTION)


def test_a_connection_being_imported_by_a_web_form_is_locked(client: httpx.Client, clock: AdminClock) -> None:
    alice = token(client, "alice")
    form = new_form(client, alice, {"bank": {"id": 280001}})
    connection = ok(complete(client, form["id"]))["payload"]["bankConnectionId"]
    response = client.post(TASKS, json={"bankConnectionId": connection}, headers=headers(alice))
    assert response.json()["code"] == "LOCKED"
    clock.advance(5)
    body = new_task(client, alice, connection)
    clock.advance(3)
    assert get_task(client, alice, body["id"]) == task(body["id"], "COMPLETED", connection, at=5)


def test_an_unknown_or_another_users_connection_is_404(client: httpx.Client, user: str) -> None:
    for who, connection in ((user, 42), (token(client, "alice"), XS2A_CONNECTION)):
        response = client.post(TASKS, json={"bankConnectionId": connection}, headers=headers(who))
        assert_error(response, 404, "NOT_FOUND", f"Bank connection with id '{connection}' not found")


def test_a_profile_id_is_404(client: httpx.Client, user: str) -> None:
    profile = "0b6e5f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b"
    body = {"bankConnectionId": XS2A_CONNECTION, "profileId": profile}
    assert_error(
        client.post(TASKS, json=body, headers=headers(user)), 404, "NOT_FOUND", f"Profile with id '{profile}' not found"
    )


def test_the_redirect_url_follows_the_mandators_license(client: httpx.Client, user: str) -> None:
    body = {"bankConnectionId": XS2A_CONNECTION, "redirectUrl": "https://app.example.com/back"}
    description = "redirectUrl must not be given: the mandator is not licensed (mandatorLicense UNLICENSED)"
    assert_error(client.post(TASKS, json=body, headers=headers(user)), 422, "INVALID_REDIRECT_URL", description)


def test_a_task_belongs_to_its_user(client: httpx.Client, user: str) -> None:
    body = new_task(client, user)
    alice = token(client, "alice")
    for task_id in (body["id"], "0b6e5f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b"):
        response = client.get(f"/api/tasks/{task_id}", headers=headers(alice))
        assert_error(response, 404, "NOT_FOUND", f"Task with id '{task_id}' not found")
    assert ok(client.get("/api/tasks", headers=headers(alice)))["items"] == []


# ---------------------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        ({}, [("bankConnectionId", "must not be null")]),
        ({"bankConnectionId": None}, [("bankConnectionId", "must not be null")]),
        ({"bankConnectionIds": [XS2A_CONNECTION]}, [("bankConnectionId", "must not be null")]),
        ({"bankConnectionId": str(XS2A_CONNECTION)}, [("bankConnectionId", "must be an integer")]),
        ({"bankConnectionId": 1.5}, [("bankConnectionId", "must be an integer")]),
        ({"bankConnectionId": 2**63}, [("bankConnectionId", f"must be between {-(2**63)} and {2**63 - 1}")]),
        ({"importNewAccounts": "yes"}, [("importNewAccounts", "must be a boolean")]),
        ({"importNewAccountsMode": "ALL"}, [("importNewAccountsMode", "must be one of: SKIP, CONDITIONAL, FORCED")]),
        ({"accountTypes": ["CHECKING", "CHECKING"]}, [("accountTypes", "must not contain duplicates")]),
        ({"accountTypes": ["GIRO"]}, [("accountTypes[0]", f"must be one of: {ACCOUNT_TYPES}")]),
        ({"allowedInterfaces": "XS2A"}, [("allowedInterfaces", "must be an array")]),
        (
            {"skipBalancesDownload": True},
            [("skipBalancesDownload", "may only be true when skipPositionsDownload is true")],
        ),
        ({"loadOwnerData": "false"}, [("loadOwnerData", "must be a boolean")]),
        (
            {"manageSavedSettings": ["PIN"]},
            [("manageSavedSettings[0]", "must be one of: CREDENTIALS, DEFAULT_TWO_STEP_PROCEDURE")],
        ),
        (
            {"manageSavedSettings": ["CREDENTIALS", "CREDENTIALS"]},
            [("manageSavedSettings", "must not contain duplicates")],
        ),
        ({"callbacks": []}, [("callbacks", "must be an object")]),
        (
            {"callbacks": {"webFormRequired": "ftp://a.example.com"}},
            [("callbacks.webFormRequired", "must be an http or https URL with a host name")],
        ),
        ({"callbacks": {"finalised": 7}}, [("callbacks.finalised", "must be a string")]),
        ({"profileId": "p"}, [("profileId", "size must be 36")]),
        ({"redirectUrl": "http://a.example.com"}, [("redirectUrl", FINAPI_URL_RULE)]),
        ({"userMetadata": "x"}, [("userMetadata", "must be an object")]),
        (
            {"userMetadata": {"deviceOs": "Linux"}},
            [("userMetadata.ipAddress", "must not be null"), ("userMetadata.userAgent", "must not be null")],
        ),
        (
            {"userMetadata": {"ipAddress": "1" * 65, "deviceOs": 1, "userAgent": "u" * 1025}},
            [
                ("userMetadata.ipAddress", "size must be between 0 and 64"),
                ("userMetadata.deviceOs", "must be a string"),
                ("userMetadata.userAgent", "size must be between 0 and 1024"),
            ],
        ),
    ],
)
def test_a_bad_field_is_400_naming_it(
    client: httpx.Client, user: str, body: dict[str, Any], problems: list[tuple[str, str]]
) -> None:
    given = (
        body
        if "bankConnectionId" in body or "bankConnectionIds" in body or not body
        else {
            "bankConnectionId": XS2A_CONNECTION,
            **body,
        }
    )
    assert_invalid(client.post(TASKS, json=given, headers=headers(user)), *problems)


def test_valid_user_metadata_and_every_field_are_201(client: httpx.Client, user: str) -> None:
    body = new_task(
        client,
        user,
        XS2A_CONNECTION,
        importNewAccounts=False,
        importNewAccountsMode=None,
        accountTypes=["CHECKING", "SAVINGS"],
        allowedInterfaces=["XS2A", "XS2A"],
        skipBalancesDownload=True,
        skipPositionsDownload=True,
        loadOwnerData=False,
        manageSavedSettings=None,
        callbacks={"finalised": "https://app.example.com/t", "webFormRequired": None},
        profileId=None,
        redirectUrl=None,
        userMetadata={"ipAddress": "127.0.0.1", "deviceOs": "", "userAgent": "curl/8"},
        somethingElse=1,
    )
    assert body["status"] == "NOT_YET_STARTED"


def test_a_body_that_is_no_json_object_is_400(client: httpx.Client, user: str) -> None:
    for content, message in ((b"{", "must be valid JSON"), (b"[1]", "must be a JSON object")):
        response = client.post(TASKS, content=content, headers={**headers(user), "Content-Type": "application/json"})
        assert_invalid(response, ("body", message))
    assert_invalid(client.post(TASKS, headers=headers(user)), ("bankConnectionId", "must not be null"))


# ---------------------------------------------------------------------------------------------------- list


def test_tasks_are_listed_in_creation_order_paged(client: httpx.Client, user: str, clock: AdminClock) -> None:
    first = new_task(client, user, XS2A_CONNECTION)
    clock.advance(1)
    second = new_task(client, user, FINTS_CONNECTION)
    listed = ok(client.get("/api/tasks", headers=headers(user)))
    assert listed == {
        "items": [task(first["id"], "IN_PROGRESS"), task(second["id"], "NOT_YET_STARTED", FINTS_CONNECTION, at=1)],
        "paging": {"page": 1, "perPage": 20, "pageCount": 1, "totalCount": 2},
    }
    backwards = ok(client.get("/api/tasks?order=createdAt,desc&perPage=1", headers=headers(user)))
    assert [t["id"] for t in backwards["items"]] == [second["id"]]
    assert backwards["paging"] == {"page": 1, "perPage": 1, "pageCount": 2, "totalCount": 2}
    assert_invalid(
        client.get("/api/tasks?order=status&perPage=0", headers=headers(user)),
        ("order", "must be createdAt, createdAt,asc or createdAt,desc"),
        ("perPage", "must be between 1 and 500"),
        at=1,
    )


# ---------------------------------------------------------------------------------------------------- callbacks


def test_a_completed_task_sends_finalised_without_web_form(
    client: httpx.Client, user: str, clock: AdminClock, receiver: CallbackReceiver
) -> None:
    callbacks = {"finalised": f"{receiver.url}/finalised", "webFormRequired": f"{receiver.url}/required"}
    body = new_task(client, user, XS2A_CONNECTION, callbacks=callbacks)
    clock.advance(3)
    ok(client.get("/api/webForms", headers=headers(user)))
    assert receiver.wait_for(taskId=body["id"]) == {"taskId": body["id"], "status": "COMPLETED"}
    [callback] = receiver.received
    assert (callback.path, callback.headers["content-type"]) == ("/finalised", "application/json")
    assert [(a["kind"], a["status"]) for a in wait_for_callbacks(client, 1)] == [("task.finalised", 200)]


def test_a_task_needing_the_user_sends_web_form_required_with_its_form(
    client: httpx.Client, user: str, clock: AdminClock, receiver: CallbackReceiver
) -> None:
    callbacks = {"finalised": f"{receiver.url}/finalised", "webFormRequired": f"{receiver.url}/required"}
    body = new_task(client, user, EXPIRED_CONSENT_CONNECTION, callbacks=callbacks)
    clock.advance(3)
    ok(client.get("/api/webForms", headers=headers(user)))
    received = receiver.wait_for(taskId=body["id"])
    form_id = received["webForm"]["id"]
    assert received == {
        "taskId": body["id"],
        "status": "WEB_FORM_REQUIRED",
        "webForm": {"id": form_id, "url": f"{BASE}/wf/{form_id}", "status": "NOT_YET_OPENED"},
    }
    ok(complete(client, form_id))  # nothing is sent when the update form finishes (decided)
    clock.advance(60)
    ok(client.get("/api/tasks", headers=headers(user)))
    assert [(c.path, c.body["status"]) for c in receiver.received] == [("/required", "WEB_FORM_REQUIRED")]
    assert [a["kind"] for a in wait_for_callbacks(client, 1)] == ["task.webFormRequired"]


def test_the_request_id_is_echoed(client: httpx.Client, user: str) -> None:
    response = client.post(TASKS, json={"bankConnectionId": XS2A_CONNECTION}, headers=headers(user))
    assert response.headers["X-Request-Id"] == RID

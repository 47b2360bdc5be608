"""Users on /api/v2/users and /api/v1/users (FINAPI.md §4): exact statuses, bodies and headers on both versions."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_finapi import errors
from tests.helpers import (
    CLIENT_CREDENTIALS,
    CLIENT_ID,
    CLIENT_SECRET,
    TOKEN_PATH,
    USERNAME,
    AdminClock,
    assert_error_message,
    bearer,
    client_token,
    password_grant,
    user_tokens,
)

MANDATOR = "2c6b8f0e-7d42-4f1a-9a43-1f0c2d3e4a5b"
CLIENT_CONTEXT = f"{MANDATOR}/{CLIENT_ID}"
USER_CONTEXT = f"{CLIENT_CONTEXT}/username"
RID = "users-test-request"
MANUAL_VERIFICATION = str(Path(__file__).resolve().parent.parent / "scenarios" / "manual_verification.yaml")
VERSIONS = pytest.mark.parametrize("v", [2, 1], ids=["v2", "v1"])
ID_RULE = "'id' must be 1 to 36 characters of [a-zA-Z0-9-_.+@]"
PASSWORD_RULE = "'password' must be a string of 6 to 128 characters"
BATCH_UPDATE_ON = f"""\
name: batch-update-on
description: The default scenario with the client's automatic batch update on.
seed: 1
clock: {{start: "2026-01-01T09:00:00+01:00", frozen: true}}
clients:
  - client_id: {CLIENT_ID}
    client_secret: {CLIENT_SECRET}
    mandator_id: {MANDATOR}
    config: {{isAutomaticBatchUpdateEnabled: true}}
users:
  - {{id: username, password: password, email: email@localhost.de, phone: "+49 99 999999-999"}}
"""


def users(v: int, suffix: str = "") -> str:
    return f"/api/v{v}/users{suffix}"


def h(token: str, **extra: str) -> dict[str, str]:
    return {**bearer(token), "X-Request-Id": RID, **extra}


def assert_error(
    response: httpx.Response, status: int, code: str, type_: str, message: str, auth: str = CLIENT_CONTEXT
) -> None:
    assert_error_message(response, status, code, type_, message, auth=auth, request_id=RID)


def assert_invalid_token(response: httpx.Response, token: str) -> None:
    description = errors.MSG_INVALID_TOKEN.format(token=token)
    assert (response.status_code, response.headers["X-Request-Id"]) == (401, RID)
    assert response.headers["WWW-Authenticate"] == f'Bearer error="invalid_token", error_description="{description}"'
    assert response.json() == {"error": "invalid_token", "error_description": description}


def assert_token_error(response: httpx.Response, status: int, code: str, message: str) -> None:
    """A token endpoint refusal (its full shape is pinned by the OAuth tests)."""
    assert (response.status_code, response.json()["errors"][0]["code"]) == (status, code)
    assert response.json()["errors"][0]["message"] == message


def assert_empty_200(response: httpx.Response) -> None:
    assert (response.status_code, response.content, response.headers["X-Request-Id"]) == (200, b"", RID)


def create(client: httpx.Client, body: dict[str, Any], v: int = 2) -> httpx.Response:
    return client.post(users(v), json=body, headers=h(client_token(client)))


def grant(client: httpx.Client, username: str, password: str) -> httpx.Response:
    return client.post(TOKEN_PATH[2], data=password_grant(username, password), headers={"X-Request-Id": RID})


def refresh(client: httpx.Client, refresh_token: str) -> httpx.Response:
    data = {**CLIENT_CREDENTIALS, "grant_type": "refresh_token", "refresh_token": refresh_token}
    return client.post(TOKEN_PATH[2], data=data, headers={"X-Request-Id": RID})


def change_password(client: httpx.Client, user_id: str, password: str, v: int = 2) -> httpx.Response:
    ct = client_token(client)
    requested = client.post(users(v, "/requestPasswordChange"), json={"userId": user_id}, headers=h(ct))
    assert requested.status_code == 200, requested.text
    body = {"userId": user_id, "password": password, "passwordChangeToken": requested.json()["passwordChangeToken"]}
    return client.post(users(v, "/executePasswordChange"), json=body, headers=h(ct))


# create
@VERSIONS
def test_create_answers_201_with_plain_password_null_contacts_and_auto_update_off(client: httpx.Client, v: int) -> None:
    response = create(client, {"id": "alice", "password": "alice-secret"}, v)
    assert (response.status_code, response.headers["X-Request-Id"]) == (201, RID)
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {
        "id": "alice",
        "password": "alice-secret",
        "email": None,
        "phone": None,
        "isAutoUpdateEnabled": False,
    }


@pytest.fixture
def batch_update_on(client: httpx.Client) -> None:
    """isAutoUpdateEnabled needs the client's automatic batch update, which is off by default (as in finAPI) and
    cannot be PATCHed: the default scenario with it on is served instead (loaded through the admin API)."""
    response = client.post("/__admin/scenario", json={"yaml": BATCH_UPDATE_ON})
    assert (response.status_code, response.json()) == (200, {"status": "ok", "scenario": "batch-update-on"})


@VERSIONS
@pytest.mark.usefixtures("batch_update_on")
def test_create_echoes_email_phone_and_auto_update(client: httpx.Client, v: int) -> None:
    body = {
        "id": "bob",
        "password": "bob-secret",
        "email": "bob@example.de",
        "phone": "+49 30 1234",
        "isAutoUpdateEnabled": True,
    }
    response = create(client, body, v)
    assert (response.status_code, response.json()) == (201, body)


@VERSIONS
def test_create_treats_null_fields_as_omitted(client: httpx.Client, v: int) -> None:
    body = {"id": "carol", "password": "carol-secret", "email": None, "phone": None, "isAutoUpdateEnabled": None}
    response = create(client, body, v)
    assert (response.status_code, response.json()) == (201, {**body, "isAutoUpdateEnabled": False})


@VERSIONS
def test_create_without_id_and_password_generates_a_uuid_id_and_a_working_password(
    client: httpx.Client, v: int
) -> None:
    first, second = create(client, {}, v), create(client, {"email": "gen@example.de"}, v)
    assert (first.status_code, second.status_code) == (201, 201)
    made = first.json()
    assert str(uuid.UUID(made["id"])) == made["id"]
    assert 6 <= len(made["password"]) <= 128
    assert made["id"] != second.json()["id"]
    assert made["password"] != second.json()["password"]
    assert grant(client, made["id"], made["password"]).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"id": "a"},
        {"id": "aZ09-_.+@" + "x" * 27},
        {"password": "x" * 6},
        {"password": "p" * 128},
        {"email": "e" * 310 + "@localhost"},
        {"email": "jürgen.müller@example.de"},
        {"phone": "+49 (0) 30 123-456" + "0" * 32},
        {"phone": "x"},
    ],
    ids=[
        "id-1",
        "id-36-all-symbols",
        "password-6",
        "password-128",
        "email-320",
        "email-umlauts",
        "phone-50",
        "phone-1",
    ],
)
def test_create_accepts_values_at_the_limits(client: httpx.Client, body: dict[str, Any]) -> None:
    response = create(client, body)
    assert response.status_code == 201, response.text
    assert {k: response.json()[k] for k in body} == body


INVALID_CREATE = [
    ("id-empty", {"id": ""}, ID_RULE),
    ("id-37", {"id": "a" * 37}, ID_RULE),
    ("id-space", {"id": "a b"}, ID_RULE),
    ("id-umlaut", {"id": "jürgen"}, ID_RULE),
    ("id-slash", {"id": "a/b"}, ID_RULE),
    ("id-number", {"id": 12345}, ID_RULE),
    ("password-5", {"password": "12345"}, PASSWORD_RULE),
    ("password-129", {"password": "p" * 129}, PASSWORD_RULE),
    ("password-number", {"password": 123456}, PASSWORD_RULE),
    ("email-empty", {"email": ""}, "'email' must be 1 to 320 characters long"),
    ("email-321", {"email": "e" * 321}, "'email' must be 1 to 320 characters long"),
    ("email-angle", {"email": "<a@b.de>"}, "'email' contains characters finAPI does not allow"),
    ("email-number", {"email": 5}, "'email' must be a string"),
    ("phone-51", {"phone": "1" * 51}, "'phone' must be 1 to 50 characters long"),
    ("phone-slash", {"phone": "030/1234"}, "'phone' contains characters finAPI does not allow"),
    ("phone-list", {"phone": ["+49"]}, "'phone' must be a string"),
    ("auto-update-string", {"isAutoUpdateEnabled": "true"}, "'isAutoUpdateEnabled' must be a boolean"),
    ("auto-update-number", {"isAutoUpdateEnabled": 1}, "'isAutoUpdateEnabled' must be a boolean"),
]


@VERSIONS
@pytest.mark.parametrize(("body", "message"), [c[1:] for c in INVALID_CREATE], ids=[c[0] for c in INVALID_CREATE])
def test_create_rejects_an_illegal_field_with_400_naming_it(
    client: httpx.Client, v: int, body: dict[str, Any], message: str
) -> None:
    assert_error(create(client, body, v), 400, "ILLEGAL_FIELD_VALUE", "TECHNICAL", message)


def test_create_that_fails_validation_stores_nothing(client: httpx.Client) -> None:
    assert create(client, {"id": "dave", "password": "short"}).status_code == 400
    created = create(client, {"id": "dave", "password": "long-enough"})
    assert (created.status_code, created.json()["id"], created.json()["password"]) == (201, "dave", "long-enough")


@VERSIONS
@pytest.mark.parametrize("user_id", ["username", "USERNAME", "UserName"])
def test_create_with_an_existing_id_in_any_case_is_422_entity_exists(
    client: httpx.Client, v: int, user_id: str
) -> None:
    response = create(client, {"id": user_id, "password": "another-password"}, v)
    assert_error(response, 422, "ENTITY_EXISTS", "BUSINESS", errors.MSG_USER_EXISTS.format(user=user_id))
    assert grant(client, "username", "password").status_code == 200


def test_create_refuses_a_form_body_with_415(client: httpx.Client) -> None:
    response = client.post(users(2), data={"id": "erin"}, headers=h(client_token(client)))
    message = errors.MSG_MEDIA_TYPE.format(
        content_type="application/x-www-form-urlencoded", expected="application/json"
    )
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE", "TECHNICAL", message)


def test_user_ids_are_case_insensitive_but_keep_their_spelling(client: httpx.Client) -> None:
    assert create(client, {"id": "Frank.Miller", "password": "frank-secret"}).status_code == 201
    tokens = grant(client, "FRANK.MILLER", "frank-secret").json()
    assert client.get(users(2), headers=h(tokens["access_token"])).json()["id"] == "Frank.Miller"
    status = client.get(
        users(2, "/verificationStatus"), params={"userId": "frank.miller"}, headers=h(client_token(client))
    )
    assert status.json() == {"userId": "Frank.Miller", "isUserVerified": True}


# get, patch and delete self
@VERSIONS
def test_get_self_answers_the_user_with_a_masked_password(client: httpx.Client, v: int) -> None:
    response = client.get(users(v), headers=h(user_tokens(client)["access_token"]))
    assert (response.status_code, response.headers["X-Request-Id"], response.json()) == (200, RID, USERNAME)


@VERSIONS
def test_auto_update_is_422_while_the_clients_batch_update_is_off(client: httpx.Client, v: int) -> None:
    created = create(client, {"id": "dora", "isAutoUpdateEnabled": True}, v)
    assert_error(created, 422, "ILLEGAL_ENTITY_STATE", "BUSINESS", errors.MSG_AUTO_UPDATE_DISABLED, auth=CLIENT_CONTEXT)
    patched = client.patch(users(v), json={"isAutoUpdateEnabled": True}, headers=h(user_tokens(client)["access_token"]))
    assert_error(patched, 422, "ILLEGAL_ENTITY_STATE", "BUSINESS", errors.MSG_AUTO_UPDATE_DISABLED, auth=USER_CONTEXT)


@VERSIONS
@pytest.mark.usefixtures("batch_update_on")
def test_patch_self_changes_the_given_fields_and_keeps_the_rest(client: httpx.Client, v: int) -> None:
    token = user_tokens(client)["access_token"]
    response = client.patch(users(v), json={"email": "new@example.de", "isAutoUpdateEnabled": True}, headers=h(token))
    expected = {**USERNAME, "email": "new@example.de", "isAutoUpdateEnabled": True}
    assert (response.status_code, response.json()) == (200, expected)
    assert client.get(users(v), headers=h(token)).json() == expected


@VERSIONS
def test_patch_self_keeps_null_fields_and_clears_empty_strings(client: httpx.Client, v: int) -> None:
    token = user_tokens(client)["access_token"]
    response = client.patch(users(v), json={"email": None, "phone": "", "isAutoUpdateEnabled": False}, headers=h(token))
    assert (response.status_code, response.json()) == (200, {**USERNAME, "phone": None})
    cleared = client.patch(users(v), json={"email": ""}, headers=h(token))
    assert cleared.json() == {**USERNAME, "phone": None, "email": None}


@VERSIONS
@pytest.mark.parametrize("body", [{}, {"email": None, "phone": None, "isAutoUpdateEnabled": None}, {"id": "other"}])
def test_patch_self_without_a_non_null_field_is_400(client: httpx.Client, v: int, body: dict[str, Any]) -> None:
    response = client.patch(users(v), json=body, headers=h(user_tokens(client)["access_token"]))
    assert_error(response, 400, "BAD_REQUEST", "TECHNICAL", errors.MSG_NOTHING_TO_UPDATE, auth=USER_CONTEXT)


INVALID_PATCH = [
    ("email-321", {"email": "e" * 321}, "'email' must be 0 to 320 characters long"),
    ("email-number", {"email": 5}, "'email' must be a string"),
    ("phone-51", {"phone": "1" * 51}, "'phone' must be 0 to 50 characters long"),
    ("phone-angle", {"phone": "<1>"}, "'phone' contains characters finAPI does not allow"),
    ("auto-update-string", {"isAutoUpdateEnabled": "yes"}, "'isAutoUpdateEnabled' must be a boolean"),
]


@VERSIONS
@pytest.mark.parametrize(("body", "message"), [c[1:] for c in INVALID_PATCH], ids=[c[0] for c in INVALID_PATCH])
def test_patch_self_rejects_an_illegal_field_with_400_and_changes_nothing(
    client: httpx.Client, v: int, body: dict[str, Any], message: str
) -> None:
    token = user_tokens(client)["access_token"]
    response = client.patch(users(v), json={"email": "changed@example.de", **body}, headers=h(token))
    assert_error(response, 400, "ILLEGAL_FIELD_VALUE", "TECHNICAL", message, auth=USER_CONTEXT)
    assert client.get(users(v), headers=h(token)).json() == USERNAME


@VERSIONS
def test_delete_self_answers_200_empty_revokes_the_tokens_and_frees_the_id(client: httpx.Client, v: int) -> None:
    assert create(client, {"id": "gina", "password": "gina-secret"}).status_code == 201
    tokens = user_tokens(client, "gina", "gina-secret")
    assert_empty_200(client.delete(users(v), headers=h(tokens["access_token"])))
    assert_invalid_token(client.get(users(v), headers=h(tokens["access_token"])), tokens["access_token"])
    assert_token_error(refresh(client, tokens["refresh_token"]), 400, "BAD_REQUEST", errors.MSG_BAD_REFRESH)
    assert_token_error(grant(client, "gina", "gina-secret"), 400, "BAD_REQUEST", errors.MSG_BAD_USER)
    recreated = create(client, {"id": "GINA"}, v)
    assert (recreated.status_code, recreated.json()["id"]) == (201, "GINA")


@VERSIONS
def test_method_override_patch_on_post_edits_self(client: httpx.Client, v: int) -> None:
    token = user_tokens(client)["access_token"]
    response = client.post(users(v), json={"phone": "+49 1"}, headers=h(token, **{"X-HTTP-Method-Override": "PATCH"}))
    assert (response.status_code, response.json()) == (200, {**USERNAME, "phone": "+49 1"})


@VERSIONS
def test_method_override_delete_on_post_deletes_self(client: httpx.Client, v: int) -> None:
    token = user_tokens(client)["access_token"]
    assert_empty_200(client.post(users(v), headers=h(token, **{"X-HTTP-Method-Override": "delete"})))
    assert_invalid_token(client.get(users(v), headers=h(token)), token)
    assert create(client, {"id": "username", "password": "password"}).status_code == 201


# delete by id, verification status
@VERSIONS
def test_delete_of_a_verified_user_by_id_is_422_and_keeps_the_user(client: httpx.Client, v: int) -> None:
    response = client.delete(users(v, "/USERNAME"), headers=h(client_token(client)))
    assert_error(
        response, 422, "USER_ALREADY_VERIFIED", "BUSINESS", errors.MSG_USER_ALREADY_VERIFIED.format(user="username")
    )
    assert grant(client, "username", "password").status_code == 200


@VERSIONS
@pytest.mark.parametrize(("method", "suffix"), [("DELETE", "/nobody"), ("POST", "/verify/nobody")])
def test_unknown_user_id_is_404_unknown_entity(client: httpx.Client, v: int, method: str, suffix: str) -> None:
    response = client.request(method, users(v, suffix), headers=h(client_token(client)))
    assert_error(response, 404, "UNKNOWN_ENTITY", "BUSINESS", errors.MSG_UNKNOWN_USER.format(user="nobody"))


@VERSIONS
def test_verification_status_of_an_unknown_user_is_404(client: httpx.Client, v: int) -> None:
    response = client.get(users(v, "/verificationStatus"), params={"userId": "nobody"}, headers=h(client_token(client)))
    assert_error(response, 404, "UNKNOWN_ENTITY", "BUSINESS", errors.MSG_UNKNOWN_USER.format(user="nobody"))


@VERSIONS
@pytest.mark.parametrize("query", ["", "?userId="])
def test_verification_status_without_user_id_is_400_missing_field(client: httpx.Client, v: int, query: str) -> None:
    response = client.get(users(v, "/verificationStatus" + query), headers=h(client_token(client)))
    assert_error(response, 400, "MISSING_FIELD", "TECHNICAL", errors.MSG_MISSING_FIELD.format(field="userId"))


# password change
@VERSIONS
def test_request_password_change_answers_user_email_and_a_uuid_token(client: httpx.Client, v: int) -> None:
    response = client.post(
        users(v, "/requestPasswordChange"), json={"userId": "USERNAME"}, headers=h(client_token(client))
    )
    assert (response.status_code, response.headers["X-Request-Id"]) == (200, RID)
    body = response.json()
    change_token = body.pop("passwordChangeToken")
    assert body == {"userId": "username", "userEmail": "email@localhost.de"}
    assert len(change_token) == 36
    assert str(uuid.UUID(change_token)) == change_token


def test_request_password_change_of_a_user_without_email_answers_null_email(client: httpx.Client) -> None:
    assert create(client, {"id": "hank"}).status_code == 201
    response = client.post(users(2, "/requestPasswordChange"), json={"userId": "hank"}, headers=h(client_token(client)))
    assert (response.json()["userId"], response.json()["userEmail"]) == ("hank", None)


@VERSIONS
@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        ({}, 400, "MISSING_FIELD", errors.MSG_MISSING_FIELD.format(field="userId")),
        ({"userId": "a b"}, 400, "ILLEGAL_FIELD_VALUE", "'userId' must be 1 to 36 characters of [a-zA-Z0-9-_.+@]"),
        ({"userId": "nobody"}, 404, "UNKNOWN_ENTITY", errors.MSG_UNKNOWN_USER.format(user="nobody")),
    ],
    ids=["missing", "illegal", "unknown"],
)
def test_request_password_change_errors(
    client: httpx.Client, v: int, body: dict[str, Any], status: int, code: str, message: str
) -> None:
    response = client.post(users(v, "/requestPasswordChange"), json=body, headers=h(client_token(client)))
    assert_error(response, status, code, "BUSINESS" if status == 404 else "TECHNICAL", message)


@VERSIONS
def test_execute_password_change_sets_the_password_and_revokes_every_token(client: httpx.Client, v: int) -> None:
    tokens = user_tokens(client)
    refreshed = refresh(client, tokens["refresh_token"]).json()["access_token"]
    response = change_password(client, "username", "brand-new-password", v)
    assert_empty_200(response)
    assert_invalid_token(client.get(users(v), headers=h(refreshed)), refreshed)
    assert_token_error(refresh(client, tokens["refresh_token"]), 400, "BAD_REQUEST", errors.MSG_BAD_REFRESH)
    assert_token_error(grant(client, "username", "password"), 400, "BAD_REQUEST", errors.MSG_BAD_USER)
    new = grant(client, "username", "brand-new-password")
    assert new.status_code == 200
    assert new.json()["access_token"] not in (tokens["access_token"], refreshed)
    assert client.get(users(v), headers=h(new.json()["access_token"])).json() == USERNAME


def test_execute_password_change_unlocks_a_locked_user(client: httpx.Client) -> None:
    for _ in range(3):  # maxUserLoginAttempts: 3 in the default scenario
        assert grant(client, "username", "wrong-password").status_code == 400
    locked = grant(client, "username", "password")
    assert_token_error(locked, 423, "LOCKED", errors.MSG_USER_LOCKED.format(user="username"))
    assert_empty_200(change_password(client, "username", "unlocked-password"))
    assert grant(client, "username", "unlocked-password").status_code == 200


def test_execute_password_change_resets_the_failed_login_counter(client: httpx.Client) -> None:
    for _ in range(2):
        assert grant(client, "username", "wrong-password").status_code == 400
    assert_empty_200(change_password(client, "username", "fresh-password"))
    assert grant(client, "username", "wrong-password").status_code == 400
    assert grant(client, "username", "fresh-password").status_code == 200


@VERSIONS
def test_execute_password_change_with_a_wrong_token_is_400_and_keeps_the_password(client: httpx.Client, v: int) -> None:
    ct = client_token(client)
    issued = client.post(users(v, "/requestPasswordChange"), json={"userId": "username"}, headers=h(ct)).json()
    wrong = str(uuid.UUID(int=uuid.UUID(issued["passwordChangeToken"]).int ^ 1))
    body = {"userId": "username", "password": "hijacked-password", "passwordChangeToken": wrong}
    response = client.post(users(v, "/executePasswordChange"), json=body, headers=h(ct))
    assert_error(response, 400, "BAD_REQUEST", "TECHNICAL", errors.MSG_BAD_PASSWORD_TOKEN)
    assert grant(client, "username", "password").status_code == 200


def test_password_change_token_works_once(client: httpx.Client) -> None:
    ct = client_token(client)
    issued = client.post(users(2, "/requestPasswordChange"), json={"userId": "username"}, headers=h(ct)).json()
    body = {"userId": "username", "password": "first-password", "passwordChangeToken": issued["passwordChangeToken"]}
    assert_empty_200(client.post(users(2, "/executePasswordChange"), json=body, headers=h(ct)))
    again = client.post(users(2, "/executePasswordChange"), json={**body, "password": "second-password"}, headers=h(ct))
    assert_error(again, 400, "BAD_REQUEST", "TECHNICAL", errors.MSG_BAD_PASSWORD_TOKEN)
    assert grant(client, "username", "first-password").status_code == 200


def test_a_new_password_change_request_invalidates_the_previous_token(client: httpx.Client) -> None:
    ct = client_token(client)
    path = users(2, "/requestPasswordChange")
    first, second = (client.post(path, json={"userId": "username"}, headers=h(ct)).json() for _ in range(2))
    body = {"userId": "username", "password": "newer-password"}
    stale = client.post(
        users(2, "/executePasswordChange"),
        json={**body, "passwordChangeToken": first["passwordChangeToken"]},
        headers=h(ct),
    )
    assert stale.status_code == 400
    fresh = {**body, "passwordChangeToken": second["passwordChangeToken"]}
    assert_empty_200(client.post(users(2, "/executePasswordChange"), json=fresh, headers=h(ct)))


GOOD_CHANGE = {"userId": "username", "password": "valid-password", "passwordChangeToken": str(uuid.UUID(int=7))}
INVALID_EXECUTE = [
    ("no-user", {"userId": None}, 400, "MISSING_FIELD", errors.MSG_MISSING_FIELD.format(field="userId")),
    ("no-password", {"password": None}, 400, "MISSING_FIELD", errors.MSG_MISSING_FIELD.format(field="password")),
    (
        "no-token",
        {"passwordChangeToken": None},
        400,
        "MISSING_FIELD",
        errors.MSG_MISSING_FIELD.format(field="passwordChangeToken"),
    ),
    ("short-password", {"password": "12345"}, 400, "ILLEGAL_FIELD_VALUE", PASSWORD_RULE),
    (
        "token-not-uuid",
        {"passwordChangeToken": "X" * 36},
        400,
        "ILLEGAL_FIELD_VALUE",
        "'passwordChangeToken' must be a 36-character UUID",
    ),
    (
        "token-35",
        {"passwordChangeToken": "a" * 35},
        400,
        "ILLEGAL_FIELD_VALUE",
        "'passwordChangeToken' must be a 36-character UUID",
    ),
    ("no-request", {}, 400, "BAD_REQUEST", errors.MSG_BAD_PASSWORD_TOKEN),
    ("unknown-user", {"userId": "nobody"}, 404, "UNKNOWN_ENTITY", errors.MSG_UNKNOWN_USER.format(user="nobody")),
]


@VERSIONS
@pytest.mark.parametrize(
    ("change", "status", "code", "message"), [c[1:] for c in INVALID_EXECUTE], ids=[c[0] for c in INVALID_EXECUTE]
)
def test_execute_password_change_errors(
    client: httpx.Client, v: int, change: dict[str, Any], status: int, code: str, message: str
) -> None:
    body = {k: val for k, val in {**GOOD_CHANGE, **change}.items() if val is not None}
    response = client.post(users(v, "/executePasswordChange"), json=body, headers=h(client_token(client)))
    type_ = "BUSINESS" if status == 404 else "TECHNICAL"
    assert_error(response, status, code, type_, message)
    assert grant(client, "username", "password").status_code == 200


# roles
CLIENT_ENDPOINTS = [
    ("POST", "", {"id": "ivy"}),
    ("DELETE", "/username", None),
    ("POST", "/verify/username", None),
    ("GET", "/verificationStatus?userId=username", None),
    ("POST", "/requestPasswordChange", {"userId": "username"}),
    ("POST", "/executePasswordChange", GOOD_CHANGE),
]
USER_ENDPOINTS = [("GET", "", None), ("PATCH", "", {"email": "x@example.de"}), ("DELETE", "", None)]


def call(client: httpx.Client, v: int, endpoint: tuple[str, str, Any], token: str | None) -> httpx.Response:
    method, suffix, body = endpoint
    headers = h(token) if token else {"X-Request-Id": RID}
    return client.request(method, users(v, suffix), json=body, headers=headers)


@VERSIONS
@pytest.mark.parametrize("endpoint", CLIENT_ENDPOINTS, ids=lambda e: f"{e[0]} {e[1]}")
def test_a_user_token_on_a_client_endpoint_is_403(client: httpx.Client, v: int, endpoint: tuple[str, str, Any]) -> None:
    response = call(client, v, endpoint, user_tokens(client)["access_token"])
    assert_error(response, 403, "UNAUTHORIZED_ACCESS", "BUSINESS", errors.MSG_ROLE_CLIENT, auth=USER_CONTEXT)


@VERSIONS
@pytest.mark.parametrize("endpoint", USER_ENDPOINTS, ids=lambda e: e[0])
def test_a_client_token_on_a_user_endpoint_is_403(client: httpx.Client, v: int, endpoint: tuple[str, str, Any]) -> None:
    response = call(client, v, endpoint, client_token(client))
    assert_error(response, 403, "UNAUTHORIZED_ACCESS", "BUSINESS", errors.MSG_ROLE_USER)


@pytest.mark.parametrize("endpoint", CLIENT_ENDPOINTS + USER_ENDPOINTS, ids=lambda e: f"{e[0]} {e[1]}")
def test_every_users_endpoint_without_a_token_is_401(client: httpx.Client, endpoint: tuple[str, str, Any]) -> None:
    response = call(client, 2, endpoint, None)
    assert (response.status_code, response.headers["X-Request-Id"]) == (401, RID)
    assert response.json() == {"error": "invalid_token", "error_description": errors.MSG_MISSING_TOKEN}


def test_an_expired_user_token_is_401(client: httpx.Client, clock: AdminClock) -> None:
    token = user_tokens(client)["access_token"]
    clock.advance(3600)
    assert_invalid_token(client.get(users(2), headers=h(token)), token)


class TestWithManualVerification:
    """isUserAutoVerificationEnabled: false: created users start unverified and cannot log in until verified."""

    @pytest.fixture
    def scenario_name(self) -> str:
        return MANUAL_VERIFICATION

    @staticmethod
    def token_of(client: httpx.Client, client_id: str, secret: str) -> str:
        data = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        response = client.post(TOKEN_PATH[2], data=data)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    @VERSIONS
    def test_created_user_is_unverified_and_its_password_grant_is_403(self, client: httpx.Client, v: int) -> None:
        assert create(client, {"id": "jack", "password": "jack-secret"}, v).status_code == 201
        status = client.get(users(v, "/verificationStatus"), params={"userId": "jack"}, headers=h(client_token(client)))
        assert (status.status_code, status.json()) == (200, {"userId": "jack", "isUserVerified": False})
        message = errors.MSG_USER_NOT_VERIFIED.format(user="jack")
        assert_token_error(grant(client, "jack", "jack-secret"), 403, "USER_NOT_VERIFIED", message)

    @VERSIONS
    def test_verify_answers_200_empty_and_lets_the_user_log_in(self, client: httpx.Client, v: int) -> None:
        ct = client_token(client)
        assert_empty_200(client.post(users(v, "/verify/PENDING"), headers=h(ct)))
        status = client.get(users(v, "/verificationStatus"), params={"userId": "pending"}, headers=h(ct))
        assert status.json() == {"userId": "pending", "isUserVerified": True}
        assert grant(client, "pending", "pending-password").status_code == 200

    @VERSIONS
    def test_verify_of_a_verified_user_is_422_user_already_verified(self, client: httpx.Client, v: int) -> None:
        ct = client_token(client)
        assert_empty_200(client.post(users(v, "/verify/pending"), headers=h(ct)))
        again = client.post(users(v, "/verify/pending"), headers=h(ct))
        assert_error(
            again, 422, "USER_ALREADY_VERIFIED", "BUSINESS", errors.MSG_USER_ALREADY_VERIFIED.format(user="pending")
        )

    @VERSIONS
    def test_delete_of_an_unverified_user_answers_200_empty_and_removes_it(self, client: httpx.Client, v: int) -> None:
        ct = client_token(client)
        assert_empty_200(client.delete(users(v, "/Pending"), headers=h(ct)))
        gone = client.get(users(v, "/verificationStatus"), params={"userId": "pending"}, headers=h(ct))
        assert_error(gone, 404, "UNKNOWN_ENTITY", "BUSINESS", errors.MSG_UNKNOWN_USER.format(user="pending"))
        assert create(client, {"id": "pending"}, v).status_code == 201

    def test_method_override_delete_on_post_deletes_an_unverified_user(self, client: httpx.Client) -> None:
        ct = client_token(client)
        assert_empty_200(client.post(users(2, "/pending"), headers=h(ct, **{"X-HTTP-Method-Override": "DELETE"})))
        assert (
            client.get(users(2, "/verificationStatus"), params={"userId": "pending"}, headers=h(ct)).status_code == 404
        )

    @VERSIONS
    def test_request_password_change_of_an_unverified_user_is_422(self, client: httpx.Client, v: int) -> None:
        response = client.post(
            users(v, "/requestPasswordChange"), json={"userId": "pending"}, headers=h(client_token(client))
        )
        assert_error(
            response, 422, "USER_NOT_VERIFIED", "BUSINESS", errors.MSG_USER_NOT_VERIFIED.format(user="pending")
        )

    def test_password_change_unlocks_a_user_locked_by_the_scenario(self, client: httpx.Client) -> None:
        assert grant(client, "locked", "locked-password").status_code == 423
        assert_empty_200(change_password(client, "locked", "unlocked-password"))
        assert grant(client, "locked", "unlocked-password").status_code == 200

    def test_password_change_revokes_the_users_tokens_of_every_client(self, client: httpx.Client) -> None:
        mine = user_tokens(client)["access_token"]
        data = {**password_grant(), "client_id": "second-client", "client_secret": "second-secret"}
        theirs = client.post(TOKEN_PATH[2], data=data).json()["access_token"]
        assert client.get(users(2), headers=h(theirs)).status_code == 200
        assert_empty_200(change_password(client, "username", "changed-password"))
        assert_invalid_token(client.get(users(2), headers=h(mine)), mine)
        assert_invalid_token(client.get(users(2), headers=h(theirs)), theirs)

    @pytest.mark.parametrize(
        ("method", "suffix", "body"),
        [
            ("DELETE", "/stranger", None),
            ("POST", "/verify/stranger", None),
            ("GET", "/verificationStatus?userId=stranger", None),
            ("POST", "/requestPasswordChange", {"userId": "stranger"}),
        ],
    )
    def test_users_of_another_mandator_are_unknown(
        self, client: httpx.Client, method: str, suffix: str, body: Any
    ) -> None:
        response = client.request(method, users(2, suffix), json=body, headers=h(client_token(client)))
        assert_error(response, 404, "UNKNOWN_ENTITY", "BUSINESS", errors.MSG_UNKNOWN_USER.format(user="stranger"))

    @pytest.mark.parametrize("endpoint", CLIENT_ENDPOINTS, ids=lambda e: f"{e[0]} {e[1]}")
    def test_a_mandator_admin_client_cannot_manage_users(
        self, client: httpx.Client, endpoint: tuple[str, str, Any]
    ) -> None:
        response = call(client, 2, endpoint, self.token_of(client, "admin-client", "admin-secret"))
        assert_error(
            response, 403, "UNAUTHORIZED_ACCESS", "BUSINESS", errors.MSG_ROLE_APP, auth=f"{MANDATOR}/admin-client"
        )

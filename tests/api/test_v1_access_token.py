"""Access v1's deprecated `access_token` query parameter (issue 17, point 9): on every v1 bearer-protected operation it
authenticates as `Authorization: Bearer` does; the header counts when both are sent; v2 ignores it; the journal shows
it masked and the request log never writes it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_finapi import errors
from mock_finapi.http import request_log
from tests.api.admin_helpers import MANDATOR, emulator, journal, masked, ok
from tests.helpers import (
    CLIENT_ID,
    MANDATOR_ADMIN_SCENARIO,
    TOKEN_PATH,
    assert_error_message,
    bearer,
    client_token,
    password_grant,
)

SCENARIO = MANDATOR_ADMIN_SCENARIO
RID = "v1-access-token-test"
# Every v1 operation that takes a bearer token, with a request whose answer does not change the state: the token it
# needs (client, user or mandator admin), the query and the JSON or form body.
V1_OPERATIONS: list[tuple[str, str, str, dict[str, str], Any]] = [
    ("POST", "/oauth/revoke", "client", {"token": "no-such-token"}, None),
    ("POST", "/api/v1/users", "client", {}, {"id": "not an id"}),
    ("GET", "/api/v1/users", "user", {}, None),
    ("PATCH", "/api/v1/users", "user", {}, {}),
    ("DELETE", "/api/v1/users", "client", {}, None),
    ("DELETE", "/api/v1/users/{userId}", "client", {}, None),
    ("POST", "/api/v1/users/verify/{userId}", "client", {}, None),
    ("GET", "/api/v1/users/verificationStatus", "client", {"userId": "username"}, None),
    ("POST", "/api/v1/users/requestPasswordChange", "client", {}, {"userId": "nobody"}),
    ("POST", "/api/v1/users/executePasswordChange", "client", {}, {"userId": "username"}),
    ("GET", "/api/v1/clientConfiguration", "client", {}, None),
    ("PATCH", "/api/v1/clientConfiguration", "client", {}, {"refreshTokensValidityPeriod": 1}),
    ("GET", "/api/v1/mandatorAdmin/getUserList", "admin", {"perPage": "2"}, None),
    ("POST", "/api/v1/mandatorAdmin/deleteUsers", "admin", {}, {"userIds": ["nobody"]}),
]
PATH_VALUES = {"{userId}": "username"}
ME = {"id": "username", "password": "XXXXX", "email": None, "phone": None, "isAutoUpdateEnabled": False}
"""The scenario's `username` as `GET /users` answers it."""
OPERATION_IDS = [f"{method} {path}" for method, path, *_ in V1_OPERATIONS]


@pytest.fixture
def scenario_name() -> str:
    return SCENARIO


def token_for(client: httpx.Client, kind: str) -> str:
    if kind == "user":
        response = client.post(TOKEN_PATH[2], data=password_grant())
    elif kind == "admin":
        credentials = {"client_id": "mandator-admin", "client_secret": "mandator-admin-secret"}
        response = client.post(TOKEN_PATH[2], data={"grant_type": "client_credentials", **credentials})
    else:
        return client_token(client)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def send(
    client: httpx.Client,
    operation: tuple[str, str, str, dict[str, str], Any],
    *,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    path: str | None = None,
) -> httpx.Response:
    method, template, _, params, body = operation
    url = path or template
    for name, value in PATH_VALUES.items():
        url = url.replace(name, value)
    if url.endswith("/revoke"):  # v1's revoke takes its parameters in the query string
        return client.post(url, params={**params, **(query or {})}, headers={"X-Request-Id": RID, **(headers or {})})
    kwargs: dict[str, Any] = {"json": body} if body is not None else {}
    return client.request(
        method, url, params={**params, **(query or {})}, headers={"X-Request-Id": RID, **(headers or {})}, **kwargs
    )


def test_the_table_holds_every_v1_operation_that_takes_a_bearer_token(client: httpx.Client) -> None:
    document = ok(client.get("/openapi.json"))
    protected = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        if path.startswith(("/oauth/", "/api/v1/"))
        for method, operation in item.items()
        if {"bearer": []} in operation.get("security", [])
    }
    assert protected == {(method, path) for method, path, *_ in V1_OPERATIONS}
    query_scheme = document["components"]["securitySchemes"]["v1AccessToken"]
    assert (query_scheme["type"], query_scheme["in"], query_scheme["name"]) == ("apiKey", "query", "access_token")


@pytest.mark.parametrize("operation", V1_OPERATIONS, ids=OPERATION_IDS)
def test_every_v1_operation_answers_the_query_parameter_as_the_header_and_its_v2_twin_ignores_it(
    client: httpx.Client, operation: tuple[str, str, str, dict[str, str], Any]
) -> None:
    token = token_for(client, operation[2])
    by_header = send(client, operation, headers=bearer(token))
    by_query = send(client, operation, query={"access_token": token})
    assert by_query.status_code != 401, by_query.text
    assert (by_query.status_code, by_query.content) == (by_header.status_code, by_header.content)
    v2_path = operation[1].replace("/oauth/", "/api/v2/oauth/").replace("/api/v1/", "/api/v2/")
    v2 = send(client, operation, query={"access_token": token}, path=v2_path)
    assert (v2.status_code, v2.headers["X-Request-Id"]) == (401, RID)
    assert v2.json() == {"error": "invalid_token", "error_description": errors.MSG_MISSING_TOKEN}


def test_a_user_token_in_the_query_reads_the_user_and_a_client_token_creates_one(client: httpx.Client) -> None:
    me = client.get("/api/v1/users", params={"access_token": token_for(client, "user")})
    assert (me.status_code, me.json()) == (200, ME)
    body = {"id": "query-user", "password": "query-password"}
    created = client.post("/api/v1/users", params={"access_token": client_token(client)}, json=body)
    assert (created.status_code, created.json()) == (
        201,
        {**body, "email": None, "phone": None, "isAutoUpdateEnabled": False},
    )


def test_the_query_parameter_deletes_the_user_and_revokes_tokens(client: httpx.Client) -> None:
    user = token_for(client, "user")
    revoked = client.post("/oauth/revoke", params={"access_token": client_token(client), "token": user})
    assert (revoked.status_code, revoked.content) == (200, b"")
    assert client.get("/api/v1/users", headers=bearer(user)).status_code == 401
    user = token_for(client, "user")
    assert client.delete("/api/v1/users", params={"access_token": user}).status_code == 200
    assert client.post(TOKEN_PATH[2], data=password_grant()).status_code == 400  # gone


def test_roles_hold_for_the_query_parameter(client: httpx.Client) -> None:
    user = token_for(client, "user")
    response = client.get("/api/v1/clientConfiguration", params={"access_token": user}, headers={"X-Request-Id": RID})
    context = f"{MANDATOR}/{CLIENT_ID}/username"
    assert_error_message(
        response, 403, "UNAUTHORIZED_ACCESS", "BUSINESS", errors.MSG_ROLE_CLIENT, auth=context, request_id=RID
    )


def test_the_header_counts_when_both_are_sent(client: httpx.Client) -> None:
    user = token_for(client, "user")
    alone = client.get("/api/v1/users", params={"access_token": user})
    assert (alone.status_code, alone.json()) == (200, ME)
    both = client.get("/api/v1/users", params={"access_token": "not-a-token"}, headers=bearer(user))
    assert (both.status_code, both.json()) == (200, ME)
    bad_header = client.get("/api/v1/users", params={"access_token": user}, headers=bearer("bad-header-token"))
    description = errors.MSG_INVALID_TOKEN.format(token="bad-header-token")
    assert (bad_header.status_code, bad_header.json()) == (
        401,
        {"error": "invalid_token", "error_description": description},
    )


def test_an_unknown_or_empty_query_token_is_401(client: httpx.Client) -> None:
    unknown = client.get("/api/v1/users", params={"access_token": "unknown-token"}, headers={"X-Request-Id": RID})
    description = errors.MSG_INVALID_TOKEN.format(token="unknown-token")
    assert (unknown.status_code, unknown.headers["X-Request-Id"]) == (401, RID)
    assert unknown.headers["WWW-Authenticate"] == f'Bearer error="invalid_token", error_description="{description}"'
    assert unknown.json() == {"error": "invalid_token", "error_description": description}
    empty = client.get("/api/v1/users", params={"access_token": ""})
    assert (empty.status_code, empty.json()) == (
        401,
        {"error": "invalid_token", "error_description": errors.MSG_MISSING_TOKEN},
    )


def test_an_expired_query_token_is_401(client: httpx.Client) -> None:
    user = token_for(client, "user")
    assert client.get("/api/v1/users", params={"access_token": user}).status_code == 200
    ok(client.post(f"/__admin/tokens/{user}/expire"))
    response = client.get("/api/v1/users", params={"access_token": user})
    assert (response.status_code, response.json()["error"]) == (401, "invalid_token")


def test_the_journal_shows_the_query_token_masked_and_names_its_client(client: httpx.Client) -> None:
    user = token_for(client, "user")
    assert client.get("/api/v1/users", params={"access_token": user, "x": "1"}).status_code == 200
    [entry] = journal(client, path="/api/v1/users")
    assert entry["query"] == {"access_token": masked(user), "x": "1"}
    assert (entry["clientId"], entry["mandatorId"], entry["authorization"]) == (CLIENT_ID, MANDATOR, None)
    assert user not in client.get("/__admin/requests").text


def test_a_fault_rule_for_a_client_matches_a_request_authenticated_by_the_query_token(client: httpx.Client) -> None:
    rule = {"name": "client", "match": {"path": "/api/v1/users", "client_id": CLIENT_ID}, "respond": {"status": 503}}
    assert client.post("/__admin/faults", json=rule).status_code == 201
    response = client.get("/api/v1/users", params={"access_token": token_for(client, "user")})
    assert (response.status_code, response.headers["X-Mock-Fault"]) == (503, "client")


def test_the_request_log_never_writes_the_query_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(request_log, "INTERVAL", 3600.0)  # the lines are written when the client closes
    with emulator(scenario=SCENARIO, request_log="text") as client:
        user = token_for(client, "user")
        assert client.get("/api/v1/users", params={"access_token": user}).status_code == 200
        assert client.get("/api/v1/users", params={"access_token": "unknown-token"}).status_code == 401
    out = capsys.readouterr().out
    assert "GET /api/v1/users 200 " in out
    assert "GET /api/v1/users 401 " in out
    assert (user in out, "unknown-token" in out, "access_token" in out) == (False, False, False)


@pytest.mark.parametrize("value", ["Ā-token", "line\nbreak", "nul\x00", 'quote"and\\backslash'])
def test_a_query_token_of_any_characters_is_named_in_the_401_and_its_header_stays_valid(
    client: httpx.Client, value: str
) -> None:
    """A header brings a token as latin-1 bytes without controls; the query string can bring any character (sent
    percent-encoded): the body names it as sent, the WWW-Authenticate header writes what a header cannot carry as
    `?`."""
    response = client.get("/api/v1/users", params={"access_token": value})
    description = errors.MSG_INVALID_TOKEN.format(token=value)
    assert (response.status_code, response.json()) == (
        401,
        {"error": "invalid_token", "error_description": description},
    )
    shown = "".join(c if c == "\t" or " " <= c <= "~" or "\x80" <= c <= "\xff" else "?" for c in description)
    quoted = shown.replace("\\", "\\\\").replace('"', '\\"')
    assert response.headers["WWW-Authenticate"] == f'Bearer error="invalid_token", error_description="{quoted}"'

"""The Process Controller over HTTP (FINAPI.md §7, issue 3): every status with its exact body."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from mock_finapi import errors
from mock_finapi.clock import format_v1
from mock_finapi.services import processes
from tests.helpers import CLIENT_ID, CLIENT_SECRET, AdminClock, bearer, client_token

MANDATOR = "2c6b8f0e-7d42-4f1a-9a43-1f0c2d3e4a5b"
PROCESSES = "/api/v1/processes"
RID = "processes-test-request"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
DAY = 86_400
UNKNOWN_TOKEN = "00000000-0000-4000-8000-000000000000"
# giroident's seeded processes
FRESH = "3f1c6a52-8d0e-4b7a-9c1d-2e5f6a7b8c9d"
LAST = "9b2d4e6f-1a3c-4e5f-8a7b-0c1d2e3f4a5b"
INVALIDATED = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
GIROIDENT = pytest.mark.parametrize("scenario_name", ["giroident"])
H = {"X-Request-Id": RID}


def create_body(*references: str, **changes: Any) -> dict[str, Any]:
    return {
        "clientId": CLIENT_ID,
        "clientSecret": CLIENT_SECRET,
        "clientReferences": [{"clientReference": r} for r in references],
        "processId": "USER_ONLY",
        **changes,
    }


def create(client: httpx.Client, *references: str) -> list[str]:
    response = client.post(PROCESSES, json=create_body(*references), headers=H)
    assert response.status_code == 201, response.text
    return [p["processToken"] for p in response.json()["processes"]]


def exchange(client: httpx.Client, token: str, query: str = "") -> httpx.Response:
    return client.get(f"{PROCESSES}/{token}{query}", headers=H)


def access_token(client: httpx.Client, token: str, query: str = "") -> str:
    response = exchange(client, token, query)
    assert response.status_code == 200, response.text
    value: str = response.json()["accessToken"]
    return value


def state_processes(client: httpx.Client) -> list[dict[str, Any]]:
    response = client.get("/__admin/state/processes")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["processes"]
    return found


def process_of(client: httpx.Client, token: str) -> dict[str, Any]:
    """The admin view of the process with this token (the view shows a token's first four characters only)."""
    found = [p for p in state_processes(client) if p["processToken"] == token[:4] + "…"]
    assert len(found) == 1, found
    return found[0]


def assert_error(response: httpx.Response, status: int, code: str, type_: str, message: str, clock: AdminClock) -> None:
    """The complete ErrorMessage of an /api/v1 path: anonymous, v1 date format, v1's multiStepAuthentication."""
    assert (response.status_code, response.headers["X-Request-Id"]) == (status, RID)
    assert response.json() == {
        "errors": [{"message": message, "code": code, "type": type_, "multiStepAuthentication": None}],
        "date": format_v1(clock.now()),
        "requestId": RID,
        "endpoint": f"{response.request.method} {response.request.url.path}",
        "authContext": "-",
        "bank": None,
    }


def assert_410(response: httpx.Response, message: str, clock: AdminClock) -> None:
    assert_error(response, 410, "ILLEGAL_ENTITY_STATE", "BUSINESS", message, clock)


def assert_invalid_token(response: httpx.Response, token: str) -> None:
    description = errors.MSG_INVALID_TOKEN.format(token=token)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == f'Bearer error="invalid_token", error_description="{description}"'
    assert response.json() == {"error": "invalid_token", "error_description": description}


def hidden_user_body(client: httpx.Client, token: str) -> dict[str, Any]:
    return {
        "id": process_of(client, token)["userId"],
        "password": "XXXXX",
        "email": None,
        "phone": None,
        "isAutoUpdateEnabled": False,
    }


# create
def test_create_answers_201_with_one_process_per_reference_in_request_order(client: httpx.Client) -> None:
    response = client.post(PROCESSES, json=create_body("customer-2", "customer-1", "customer-3"), headers=H)
    assert (response.status_code, response.headers["X-Request-Id"]) == (201, RID)
    assert response.headers["Content-Type"] == "application/json"
    made = response.json()["processes"]
    tokens = [p["processToken"] for p in made]
    assert response.json() == {
        "processes": [
            {"clientReference": "customer-2", "processToken": tokens[0]},
            {"clientReference": "customer-1", "processToken": tokens[1]},
            {"clientReference": "customer-3", "processToken": tokens[2]},
        ]
    }
    assert all(UUID.fullmatch(t) for t in tokens)
    assert len(set(tokens)) == 3
    assert [process_of(client, t)["clientReference"] for t in tokens] == ["customer-2", "customer-1", "customer-3"]


def test_create_accepts_100_references(client: httpx.Client) -> None:
    assert len(create(client, *(f"r{i}" for i in range(100)))) == 100


def test_create_keeps_repeated_references_as_separate_processes(client: httpx.Client) -> None:
    first, second = create(client, "same", "same")
    assert first != second


@pytest.mark.parametrize(
    "credentials",
    [
        {"clientSecret": "wrong-secret"},
        {"clientId": "unknown-client"},
        {"clientSecret": CLIENT_SECRET.upper()},
    ],
    ids=["wrong-secret", "unknown-client", "secret-in-other-case"],
)
def test_create_with_bad_client_credentials_is_401_invalid_client(
    client: httpx.Client, credentials: dict[str, str]
) -> None:
    response = client.post(PROCESSES, json=create_body("r", **credentials), headers=H)
    assert (response.status_code, response.headers["X-Request-Id"]) == (401, RID)
    assert response.json() == {"error": "invalid_client", "error_description": "Bad client credentials"}
    assert state_processes(client) == []


@pytest.mark.parametrize("field", ["clientId", "clientSecret"])
@pytest.mark.parametrize("value", [None, ""], ids=["null", "empty"])
def test_create_without_client_credentials_is_400_missing_field_like_the_token_endpoint(
    client: httpx.Client, clock: AdminClock, field: str, value: str | None
) -> None:
    response = client.post(PROCESSES, json=create_body("r", **{field: value}), headers=H)
    assert_error(response, 400, "MISSING_FIELD", "TECHNICAL", f"Missing required field '{field}'", clock)


def test_create_with_a_non_string_client_id_is_400_illegal_field_value(client: httpx.Client, clock: AdminClock) -> None:
    response = client.post(PROCESSES, json=create_body("r", clientId=42), headers=H)
    assert_error(response, 400, "ILLEGAL_FIELD_VALUE", "TECHNICAL", "'clientId' must be a string", clock)


@pytest.mark.parametrize("process_id", ["KYC", "user_only", "", 1, ["USER_ONLY"]])
def test_create_with_an_unknown_process_id_is_400(client: httpx.Client, clock: AdminClock, process_id: Any) -> None:
    response = client.post(PROCESSES, json=create_body("r", processId=process_id), headers=H)
    message = f"Unsupported processId '{process_id}' (allowed: USER_ONLY)"
    assert_error(response, 400, "ILLEGAL_FIELD_VALUE", "TECHNICAL", message, clock)
    assert state_processes(client) == []


def test_create_without_process_id_is_400_missing_field(client: httpx.Client, clock: AdminClock) -> None:
    body = create_body("r")
    del body["processId"]
    response = client.post(PROCESSES, json=body, headers=H)
    assert_error(response, 400, "MISSING_FIELD", "TECHNICAL", "Missing required field 'processId'", clock)


@pytest.mark.parametrize(
    "references",
    [
        [],
        [{"clientReference": f"r{i}"} for i in range(101)],
        [{"clientReference": ""}],
        [{"clientReference": 5}],
        [{"clientReference": None}],
        [{"clientReference": "ok"}, {}],
        ["customer"],
        "customer",
        {"clientReference": "customer"},
    ],
    ids=["none", "101", "empty-string", "number", "null", "one-missing", "bare-string", "string", "object"],
)
def test_create_with_bad_client_references_is_400_and_creates_nothing(
    client: httpx.Client, clock: AdminClock, references: Any
) -> None:
    response = client.post(PROCESSES, json=create_body(clientReferences=references), headers=H)
    assert_error(response, 400, "ILLEGAL_FIELD_VALUE", "TECHNICAL", processes.MSG_REFERENCES, clock)
    assert state_processes(client) == []


def test_create_without_client_references_is_400_missing_field(client: httpx.Client, clock: AdminClock) -> None:
    body = create_body()
    del body["clientReferences"]
    response = client.post(PROCESSES, json=body, headers=H)
    assert_error(response, 400, "MISSING_FIELD", "TECHNICAL", "Missing required field 'clientReferences'", clock)


def test_create_without_a_body_is_400(client: httpx.Client, clock: AdminClock) -> None:
    response = client.post(PROCESSES, headers=H)
    assert_error(response, 400, "BAD_REQUEST", "TECHNICAL", errors.MSG_BODY_MISSING, clock)


def test_bad_credentials_are_reported_before_a_bad_process_id(client: httpx.Client) -> None:
    response = client.post(PROCESSES, json=create_body("r", clientSecret="wrong", processId="KYC"), headers=H)
    assert response.status_code == 401


def test_create_needs_no_authorization_header_and_ignores_a_bearer_token(client: httpx.Client) -> None:
    response = client.post(PROCESSES, json=create_body("r"), headers={**H, **bearer(client_token(client))})
    assert response.status_code == 201
    [process] = response.json()["processes"]
    assert process["clientReference"] == "r"
    assert UUID.fullmatch(process["processToken"])


# exchange
def test_exchange_answers_200_with_an_access_token_and_needs_no_auth_header(client: httpx.Client) -> None:
    [token] = create(client, "r")
    response = exchange(client, token)
    assert (response.status_code, response.headers["X-Request-Id"]) == (200, RID)
    assert "authorization" not in response.request.headers
    assert response.json() == {"accessToken": response.json()["accessToken"]}
    assert UUID.fullmatch(response.json()["accessToken"])


@pytest.mark.parametrize("version", [2, 1])
def test_exchanged_token_is_a_user_token_of_the_hidden_user(client: httpx.Client, version: int) -> None:
    [token] = create(client, "r")
    me = client.get(f"/api/v{version}/users", headers=bearer(access_token(client, token, "?invalidate=true")))
    assert (me.status_code, me.json()) == (200, hidden_user_body(client, token))
    assert UUID.fullmatch(me.json()["id"])


def test_exchanged_token_works_on_the_other_user_endpoints(client: httpx.Client) -> None:
    [token] = create(client, "r")
    user_token = access_token(client, token)
    patched = client.patch("/api/v2/users", json={"email": "hidden@example.de"}, headers=bearer(user_token))
    assert (patched.status_code, patched.json()) == (
        200,
        {**hidden_user_body(client, token), "email": "hidden@example.de"},
    )
    deleted = client.delete("/api/v1/users", headers=bearer(user_token))
    assert (deleted.status_code, deleted.content) == (200, b"")
    assert_invalid_token(client.get("/api/v2/users", headers=bearer(user_token)), user_token)


def test_exchanged_token_is_refused_on_client_endpoints(client: httpx.Client) -> None:
    [token] = create(client, "r")
    response = client.get("/api/v2/clientConfiguration", headers=bearer(access_token(client, token)))
    assert (response.status_code, response.json()["errors"][0]["code"]) == (403, "UNAUTHORIZED_ACCESS")


def test_exchanged_token_expires_after_the_clients_user_token_validity(client: httpx.Client, clock: AdminClock) -> None:
    [token] = create(client, "r")
    user_token = access_token(client, token)
    clock.advance(3599)
    assert client.get("/api/v2/users", headers=bearer(user_token)).status_code == 200
    clock.advance(1)
    assert_invalid_token(client.get("/api/v2/users", headers=bearer(user_token)), user_token)


def test_exchange_uses_the_patched_user_token_validity(client: httpx.Client, clock: AdminClock) -> None:
    ct = client_token(client)
    patched = client.patch(
        "/api/v2/clientConfiguration", json={"userAccessTokensValidityPeriod": 60}, headers=bearer(ct)
    )
    assert patched.status_code == 200, patched.text
    [token] = create(client, "r")
    user_token = access_token(client, token)
    clock.advance(59)
    assert client.get("/api/v2/users", headers=bearer(user_token)).status_code == 200
    clock.advance(1)
    assert_invalid_token(client.get("/api/v2/users", headers=bearer(user_token)), user_token)


@pytest.mark.parametrize("query", ["", "?invalidate=false", "?invalidate=FALSE"], ids=["default", "false", "FALSE"])
def test_exchange_without_invalidate_true_leaves_the_process_usable(client: httpx.Client, query: str) -> None:
    [token] = create(client, "r")
    first, second = access_token(client, token, query), access_token(client, token, query)
    assert first != second


@pytest.mark.parametrize("query", ["?invalidate=true", "?invalidate=True"])
def test_exchange_after_invalidate_true_is_410(client: httpx.Client, clock: AdminClock, query: str) -> None:
    [token] = create(client, "r")
    access_token(client, token, query)
    assert_410(exchange(client, token), processes.MSG_INVALIDATED, clock)
    assert_410(exchange(client, token, "?invalidate=true"), processes.MSG_INVALIDATED, clock)


def test_invalidate_with_another_value_is_400_and_does_not_count(client: httpx.Client, clock: AdminClock) -> None:
    [token] = create(client, "r")
    response = exchange(client, token, "?invalidate=yes")
    assert_error(response, 400, "ILLEGAL_FIELD_VALUE", "TECHNICAL", "'invalidate' must be true or false", clock)
    assert process_of(client, token)["exchanges"] == 0


def test_eleventh_exchange_is_410_naming_the_limit(client: httpx.Client, clock: AdminClock) -> None:
    [token] = create(client, "r")
    tokens = {access_token(client, token) for _ in range(10)}
    assert len(tokens) == 10
    assert_410(exchange(client, token), "The process token was already exchanged 10 times", clock)


def test_exchange_after_the_validity_window_is_410(client: httpx.Client, clock: AdminClock) -> None:
    [token] = create(client, "r")
    clock.advance(7 * DAY - 1)
    access_token(client, token)
    clock.advance(1)
    assert_410(exchange(client, token), "The process token expired 7 days after its creation", clock)


@pytest.mark.parametrize("token", [UNKNOWN_TOKEN, "not-a-token", "3f1c6a52"])
def test_unknown_or_malformed_process_token_is_404_unknown_entity(
    client: httpx.Client, clock: AdminClock, token: str
) -> None:
    create(client, "r")
    response = exchange(client, token)
    assert_error(response, 404, "UNKNOWN_ENTITY", "BUSINESS", f"No process with token '{token}'", clock)


def test_process_token_in_upper_case_exchanges(client: httpx.Client) -> None:
    [token] = create(client, "r")
    assert UUID.fullmatch(access_token(client, token.upper()))
    assert process_of(client, token)["exchanges"] == 1


def test_after_retention_the_access_token_answers_401(client: httpx.Client, clock: AdminClock) -> None:
    patched = client.patch(  # tokens that never expire: only the retention can end this one
        "/api/v2/clientConfiguration", json={"userAccessTokensValidityPeriod": 0}, headers=bearer(client_token(client))
    )
    assert patched.status_code == 200, patched.text
    [token] = create(client, "r")
    user_token = access_token(client, token, "?invalidate=true")
    clock.advance(3 * DAY - 1)
    assert client.get("/api/v2/users", headers=bearer(user_token)).status_code == 200
    clock.advance(1)
    assert_invalid_token(client.get("/api/v2/users", headers=bearer(user_token)), user_token)
    assert_invalid_token(client.get("/api/v1/users", headers=bearer(user_token)), user_token)
    assert_410(exchange(client, token), processes.MSG_INVALIDATED, clock)


def test_exchange_path_allows_only_get(client: httpx.Client, clock: AdminClock) -> None:
    [token] = create(client, "r")
    response = client.post(f"{PROCESSES}/{token}", headers=H)
    assert_error(response, 405, "METHOD_NOT_ALLOWED", "TECHNICAL", "Request method 'POST' is not supported", clock)
    assert response.headers["Allow"] == "GET, HEAD"


# seeded processes (giroident)
@GIROIDENT
def test_giroident_fresh_seeded_token_exchanges_for_a_user_token(client: httpx.Client) -> None:
    me = client.get("/api/v2/users", headers=bearer(access_token(client, FRESH)))
    assert (me.status_code, me.json()) == (200, hidden_user_body(client, FRESH))
    assert process_of(client, FRESH)["clientReference"] == "customer-fresh"


@GIROIDENT
def test_giroident_seeded_token_with_nine_exchanges_has_one_left(client: httpx.Client, clock: AdminClock) -> None:
    access_token(client, LAST)
    assert_410(exchange(client, LAST), "The process token was already exchanged 10 times", clock)


@GIROIDENT
def test_giroident_seeded_invalidated_token_is_410(client: httpx.Client, clock: AdminClock) -> None:
    assert_410(exchange(client, INVALIDATED), processes.MSG_INVALIDATED, clock)


# mandator links
def test_post_link_without_a_body_answers_201_with_a_process_token_that_exchanges(client: httpx.Client) -> None:
    response = client.post(f"{PROCESSES}/{MANDATOR}/link", headers=H)
    assert (response.status_code, response.headers["X-Request-Id"]) == (201, RID)
    token = response.json()["processToken"]
    assert response.json() == {"processToken": token}
    assert UUID.fullmatch(token)
    process = process_of(client, token)
    assert (process["clientId"], process["clientReference"], process["processId"]) == (CLIENT_ID, None, "USER_ONLY")
    me = client.get("/api/v2/users", headers=bearer(access_token(client, token)))
    assert (me.status_code, me.json()) == (200, hidden_user_body(client, token))


def test_post_link_with_a_json_body_keeps_the_client_reference(client: httpx.Client) -> None:
    response = client.post(f"{PROCESSES}/{MANDATOR}/link", json={"clientReference": "web-42"}, headers=H)
    assert response.status_code == 201
    token = response.json()["processToken"]
    assert response.json() == {"processToken": token}
    assert process_of(client, token)["clientReference"] == "web-42"
    access_token(client, token)


def test_post_link_with_a_non_string_client_reference_is_400(client: httpx.Client, clock: AdminClock) -> None:
    response = client.post(f"{PROCESSES}/{MANDATOR}/link", json={"clientReference": 7}, headers=H)
    assert_error(response, 400, "ILLEGAL_FIELD_VALUE", "TECHNICAL", "'clientReference' must be a string", clock)


def test_get_link_redirects_302_with_the_process_token(client: httpx.Client) -> None:
    response = client.get(f"{PROCESSES}/{MANDATOR}/link", params={"clientReference": "x"}, headers=H)
    assert (response.status_code, response.content) == (302, b"")
    location = response.headers["Location"]
    match = re.fullmatch(r"http://localhost:3000/callback\?processToken=(.+)", location)
    assert match
    assert UUID.fullmatch(match[1])
    assert process_of(client, match[1])["clientReference"] == "x"
    access_token(client, match[1])


@GIROIDENT
def test_get_link_keeps_the_redirect_urls_existing_query(client: httpx.Client) -> None:
    response = client.get(f"{PROCESSES}/{MANDATOR}/link?clientReference=x", headers=H)
    assert response.status_code == 302
    location = response.headers["Location"]
    match = re.fullmatch(r"http://localhost:3000/giroident/callback\?source=finapi&processToken=(.+)", location)
    assert match
    assert UUID.fullmatch(match[1])
    access_token(client, match[1])


REDIRECT_SCENARIO = f"""
name: redirect
seed: 1
clients:
  - {{client_id: {CLIENT_ID}, client_secret: {CLIENT_SECRET}, mandator_id: {MANDATOR}}}
processes:
  redirect_url: "https://shop.example/back?flag&next=%2Fhome%3Fa%3Db&name=J%C3%BCrgen#done"
"""


def test_get_link_appends_to_the_query_byte_for_byte_and_keeps_the_fragment(client: httpx.Client) -> None:
    loaded = client.post("/__admin/scenario", json={"yaml": REDIRECT_SCENARIO})
    assert (loaded.status_code, loaded.json()) == (200, {"status": "ok", "scenario": "redirect"})
    response = client.get(f"{PROCESSES}/{MANDATOR}/link")
    assert response.status_code == 302
    location = response.headers["Location"]
    pattern = r"https://shop\.example/back\?flag&next=%2Fhome%3Fa%3Db&name=J%C3%BCrgen&processToken=(.+)#done"
    match = re.fullmatch(pattern, location)
    assert match, location
    assert UUID.fullmatch(match[1])


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("mandator", ["00000000-0000-4000-8000-000000000000", "not-a-mandator"])
def test_link_for_an_unknown_mandator_is_404(
    client: httpx.Client, clock: AdminClock, method: str, mandator: str
) -> None:
    response = client.request(method, f"{PROCESSES}/{mandator}/link", headers=H)
    assert_error(response, 404, "UNKNOWN_ENTITY", "BUSINESS", f"No mandator with id '{mandator}'", clock)


# dates
def test_process_errors_use_the_v1_date_format(client: httpx.Client, clock: AdminClock) -> None:
    clock.advance(DAY + 3723.456)
    response = exchange(client, UNKNOWN_TOKEN)
    assert response.json()["date"] == "2026-01-02 10:02:03.456"

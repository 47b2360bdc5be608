"""The OAuth surface (FINAPI.md §2, §3, §6): token endpoint, revoke and bearer authorization, v1 and v2 paths."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_finapi.errors import (
    MSG_BAD_CLIENT,
    MSG_BAD_REFRESH,
    MSG_BAD_USER,
    MSG_GRANT_NOT_ALLOWED,
    MSG_INVALID_TOKEN,
    MSG_MISSING_FIELD,
    MSG_MISSING_TOKEN,
    MSG_ROLE_APP,
    MSG_ROLE_CLIENT,
    MSG_ROLE_USER,
    MSG_UNSUPPORTED_GRANT,
    MSG_USER_LOCKED,
    MSG_USER_NOT_VERIFIED,
)
from tests.helpers import (
    CLIENT_CREDENTIALS,
    CLIENT_ID,
    CLIENT_SECRET,
    SCENARIO,
    TOKEN_PATH,
    AdminClock,
    bearer,
    client_token,
    password_grant,
    user_tokens,
)

REVOKE_PATH = {1: "/oauth/revoke", 2: "/api/v2/oauth/revoke"}
CONFIG = "/api/v2/clientConfiguration"
ALICE_PASSWORD = "secret123"
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
MANDATOR = "2c6b8f0e-7d42-4f1a-9a43-1f0c2d3e4a5b"
MANDATOR_ADMIN = {**CLIENT_CREDENTIALS, "client_id": "mandator-admin", "client_secret": "mandator-admin-secret"}
UUID_TOKEN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
FINAPI_TOKEN = re.compile(r"[A-Za-z0-9_]{128}")
YEAR = 365 * 86_400

versions = pytest.mark.parametrize("version", [1, 2])
# Both paths take the parameters from the form body or, as the v1.64 SDK sends them, from the query string.
placements = pytest.mark.parametrize(("version", "place"), [(2, "data"), (2, "params"), (1, "data"), (1, "params")])
# tests/scenarios/oauth-edge-cases.yaml: finapi-format tokens, no reuse, auto-verification off, an unverified user,
# a mandator admin client.
edge_cases = pytest.mark.parametrize("scenario_name", ["oauth-edge-cases"], indirect=True)


@pytest.fixture
def scenario_name(request: pytest.FixtureRequest) -> str:
    """The suite's scenario (the default one plus finAPI's example user), or a file of tests/scenarios named through
    `edge_cases`."""
    name: str | None = getattr(request, "param", None)
    return SCENARIO if name is None else str(SCENARIOS / f"{name}.yaml")


# requests
def post_token(client: httpx.Client, params: dict[str, str], version: int = 2, place: str = "data") -> httpx.Response:
    if place == "params":
        return client.post(TOKEN_PATH[version], params=params)
    return client.post(TOKEN_PATH[version], data=params)


def refresh_grant(refresh_token: str) -> dict[str, str]:
    return {**CLIENT_CREDENTIALS, "grant_type": "refresh_token", "refresh_token": refresh_token}


def revoke(
    client: httpx.Client, client_bearer: str, token: str, hint: str | None = None, version: int = 2
) -> httpx.Response:
    """v2 sends a form body, v1 the query string (FINAPI.md §3)."""
    params = {"token": token, **({"token_type_hint": hint} if hint else {})}
    if version == 2:
        return client.post(REVOKE_PATH[version], headers=bearer(client_bearer), data=params)
    return client.post(REVOKE_PATH[version], headers=bearer(client_bearer), params=params)


def me(client: httpx.Client, token: str) -> httpx.Response:
    return client.get("/api/v2/users", headers=bearer(token))


def config_status(client: httpx.Client, token: str) -> int:
    return client.get(CONFIG, headers=bearer(token)).status_code


def patch_config(client: httpx.Client, token: str, **changes: int) -> None:
    response = client.patch(CONFIG, json=changes, headers=bearer(token))
    assert response.status_code == 200, response.text


def create_user(client: httpx.Client, admin: str, user_id: str, password: str = ALICE_PASSWORD) -> None:
    response = client.post("/api/v2/users", json={"id": user_id, "password": password}, headers=bearer(admin))
    assert response.status_code == 201, response.text


# assertions
def assert_token_json(
    response: httpx.Response, *, expires_in: int, refresh: bool, pattern: re.Pattern[str] = UUID_TOKEN
) -> dict[str, Any]:
    """200 with exactly finAPI's token JSON (refresh_token only when asked for), not cacheable, with a request id."""
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    expected = {"access_token": body.get("access_token"), "token_type": "bearer", "expires_in": expires_in}
    expected |= {"scope": "all", **({"refresh_token": body.get("refresh_token")} if refresh else {})}
    assert body == expected
    assert pattern.fullmatch(body["access_token"])
    if refresh:
        assert pattern.fullmatch(body["refresh_token"])
        assert body["refresh_token"] != body["access_token"]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-request-id"].startswith("selfgen-")
    return body


def assert_error(response: httpx.Response, status: int, code: str, message: str, kind: str = "TECHNICAL") -> None:
    """finAPI's ErrorMessage with exactly one error."""
    assert response.status_code == status, response.text
    body = response.json()
    assert [{k: e[k] for k in ("message", "code", "type")} for e in body["errors"]] == [
        {"message": message, "code": code, "type": kind}
    ]
    assert body["requestId"] == response.headers["x-request-id"]


def assert_invalid_token(response: httpx.Response, description: str) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == {"error": "invalid_token", "error_description": description}
    assert response.headers["www-authenticate"] == f'Bearer error="invalid_token", error_description="{description}"'
    assert response.headers["x-request-id"]


def assert_revoked(client: httpx.Client, token: str, path: str = "/api/v2/users") -> None:
    """The token answers 401 invalid_token (on a user endpoint, or a client one with `path=CONFIG`)."""
    assert_invalid_token(client.get(path, headers=bearer(token)), MSG_INVALID_TOKEN.format(token=token))


# the three grants
@placements
def test_client_credentials_grant_answers_bearer_token_without_refresh_token(
    client: httpx.Client, version: int, place: str
) -> None:
    body = assert_token_json(post_token(client, CLIENT_CREDENTIALS, version, place), expires_in=3599, refresh=False)
    assert config_status(client, body["access_token"]) == 200


@placements
def test_password_grant_answers_access_and_refresh_token(client: httpx.Client, version: int, place: str) -> None:
    body = assert_token_json(post_token(client, password_grant(), version, place), expires_in=3599, refresh=True)
    assert me(client, body["access_token"]).json()["id"] == "username"


@placements
def test_refresh_grant_answers_new_access_token_and_retires_the_old_one(
    client: httpx.Client, clock: AdminClock, version: int, place: str
) -> None:
    first = user_tokens(client)
    clock.advance(600)
    refreshed = post_token(client, refresh_grant(first["refresh_token"]), version, place)
    second = assert_token_json(refreshed, expires_in=3599, refresh=False)["access_token"]
    assert second != first["access_token"]
    assert_revoked(client, first["access_token"])
    assert me(client, second).status_code == 200
    # the refresh token stays usable, and each refresh retires the access token before it
    third = assert_token_json(post_token(client, refresh_grant(first["refresh_token"])), expires_in=3599, refresh=False)
    assert_revoked(client, second)
    assert me(client, third["access_token"]).status_code == 200


def test_password_grant_after_refresh_returns_the_refreshed_token(client: httpx.Client) -> None:
    first = user_tokens(client)
    refreshed = post_token(client, refresh_grant(first["refresh_token"])).json()["access_token"]
    assert user_tokens(client) == {**first, "access_token": refreshed}


def test_password_grant_matches_user_id_case_insensitively(client: httpx.Client) -> None:
    body = assert_token_json(post_token(client, password_grant("USERNAME")), expires_in=3599, refresh=True)
    assert me(client, body["access_token"]).json()["id"] == "username"


@versions
@pytest.mark.parametrize(
    "grant",
    [{"grant_type": "client_credentials"}, {"grant_type": "password", "username": "username", "password": "password"}],
    ids=["client_credentials", "password"],
)
def test_http_basic_client_authentication_works_on_token_endpoint(
    client: httpx.Client, version: int, grant: dict[str, str]
) -> None:
    response = client.post(TOKEN_PATH[version], data=grant, auth=(CLIENT_ID, CLIENT_SECRET))
    assert_token_json(response, expires_in=3599, refresh=grant["grant_type"] == "password")


# reuse and token format
@pytest.mark.parametrize("grant", [CLIENT_CREDENTIALS, password_grant()], ids=["client_credentials", "password"])
def test_same_credentials_get_same_token_back_with_expires_in_counting_down(
    client: httpx.Client, clock: AdminClock, grant: dict[str, str]
) -> None:
    first = post_token(client, grant).json()
    assert first["expires_in"] == 3599  # as finAPI shows a fresh one-hour token: whole seconds, a moment after issue
    clock.advance(100.5)
    again = post_token(client, grant, version=1, place="params")
    assert again.json() == {**first, "expires_in": 3499}
    assert again.headers["cache-control"] == "no-store"
    clock.advance(499.5)  # 600 s after issue
    assert post_token(client, grant).json() == {**first, "expires_in": 2999}


def test_expired_token_is_replaced_by_a_new_one(client: httpx.Client, clock: AdminClock) -> None:
    first = client_token(client)
    clock.advance(3600)
    second = assert_token_json(post_token(client, CLIENT_CREDENTIALS), expires_in=3599, refresh=False)["access_token"]
    assert second != first
    assert_revoked(client, first, CONFIG)


def test_token_in_its_last_second_is_not_handed_out_again(client: httpx.Client, clock: AdminClock) -> None:
    """A reused token would read `expires_in: 0`, which means "never expires"; a fresh token is minted instead."""
    first = client_token(client)
    clock.advance(3598)
    assert post_token(client, CLIENT_CREDENTIALS).json() == {
        "access_token": first,
        "token_type": "bearer",
        "expires_in": 1,
        "scope": "all",
    }
    clock.advance(1)  # one second left: counted a moment later, that reads 0
    fresh = assert_token_json(post_token(client, CLIENT_CREDENTIALS), expires_in=3599, refresh=False)
    assert fresh["access_token"] != first
    assert config_status(client, first) == 200  # the old one still lives out its last second


@edge_cases
def test_reuse_off_mints_new_tokens_and_keeps_the_earlier_ones_valid(client: httpx.Client) -> None:
    first, second = (client_token(client) for _ in range(2))
    assert first != second
    assert config_status(client, first) == config_status(client, second) == 200
    one, two = user_tokens(client), user_tokens(client)
    assert one["access_token"] != two["access_token"]
    assert one["refresh_token"] != two["refresh_token"]
    assert me(client, one["access_token"]).status_code == me(client, two["access_token"]).status_code == 200


@edge_cases
@versions
def test_finapi_token_format_is_128_word_characters(client: httpx.Client, version: int) -> None:
    response = post_token(client, CLIENT_CREDENTIALS, version)
    assert_token_json(response, expires_in=3599, refresh=False, pattern=FINAPI_TOKEN)
    response = post_token(client, password_grant(), version)
    user = assert_token_json(response, expires_in=3599, refresh=True, pattern=FINAPI_TOKEN)
    refreshed = post_token(client, refresh_grant(user["refresh_token"]), version)
    assert_token_json(refreshed, expires_in=3599, refresh=False, pattern=FINAPI_TOKEN)


# lifetimes
def test_patched_user_lifetimes_apply_to_new_tokens_only(client: httpx.Client, clock: AdminClock) -> None:
    admin = client_token(client)
    old = user_tokens(client)
    patch_config(client, admin, userAccessTokensValidityPeriod=120, refreshTokensValidityPeriod=300)
    create_user(client, admin, "alice")
    new = assert_token_json(post_token(client, password_grant("alice", ALICE_PASSWORD)), expires_in=119, refresh=True)
    assert user_tokens(client) == old  # reused, with the lifetime it was minted with
    clock.advance(119)
    assert me(client, new["access_token"]).status_code == 200
    clock.advance(1)
    assert_revoked(client, new["access_token"])
    assert me(client, old["access_token"]).status_code == 200
    assert_token_json(post_token(client, refresh_grant(new["refresh_token"])), expires_in=119, refresh=False)
    clock.advance(180)
    assert_error(post_token(client, refresh_grant(new["refresh_token"])), 400, "BAD_REQUEST", MSG_BAD_REFRESH)
    assert_token_json(post_token(client, refresh_grant(old["refresh_token"])), expires_in=119, refresh=False)


def test_patched_client_lifetime_applies_to_new_client_tokens_only(client: httpx.Client, clock: AdminClock) -> None:
    old = client_token(client)
    patch_config(client, old, clientAccessTokensValidityPeriod=600)
    assert post_token(client, CLIENT_CREDENTIALS).json()["expires_in"] == 3599  # the old token, reused
    assert revoke(client, old, old).status_code == 200
    new = assert_token_json(post_token(client, CLIENT_CREDENTIALS), expires_in=599, refresh=False)["access_token"]
    clock.advance(600)
    assert_revoked(client, new, CONFIG)


def test_zero_lifetime_tokens_never_expire(client: httpx.Client, clock: AdminClock) -> None:
    old = client_token(client)
    patch_config(
        client, old, userAccessTokensValidityPeriod=0, refreshTokensValidityPeriod=0, clientAccessTokensValidityPeriod=0
    )
    revoke(client, old, old)
    admin = assert_token_json(post_token(client, CLIENT_CREDENTIALS), expires_in=0, refresh=False)["access_token"]
    user = assert_token_json(post_token(client, password_grant()), expires_in=0, refresh=True)
    clock.advance(YEAR)
    assert config_status(client, admin) == 200
    assert me(client, user["access_token"]).status_code == 200
    assert user_tokens(client) == user
    assert_token_json(post_token(client, refresh_grant(user["refresh_token"])), expires_in=0, refresh=False)


@pytest.mark.parametrize("path", ["/api/v2/users", "/api/v1/users"])
def test_user_token_works_for_its_lifetime_then_answers_401_invalid_token(
    client: httpx.Client, clock: AdminClock, path: str
) -> None:
    token = user_tokens(client)["access_token"]
    clock.advance(3599)
    assert client.get(path, headers=bearer(token)).status_code == 200
    clock.advance(1)
    assert_invalid_token(client.get(path, headers=bearer(token)), MSG_INVALID_TOKEN.format(token=token))


# token endpoint errors
BAD_CLIENTS: dict[str, tuple[dict[str, str], dict[str, Any]]] = {
    "wrong secret": ({**CLIENT_CREDENTIALS, "client_secret": "wrong"}, {}),
    "unknown client": ({**CLIENT_CREDENTIALS, "client_id": "unknown"}, {}),
    "client id as secret": ({**CLIENT_CREDENTIALS, "client_secret": CLIENT_ID}, {}),
    "password grant, wrong secret": ({**password_grant(), "client_secret": "wrong"}, {}),
    "refresh grant, wrong secret": ({**refresh_grant("x"), "client_secret": "wrong"}, {}),
    "basic, wrong secret": ({"grant_type": "client_credentials"}, {"auth": (CLIENT_ID, "wrong")}),
    "basic, not base64": ({"grant_type": "client_credentials"}, {"headers": {"Authorization": "Basic %%%"}}),
}


@versions
@pytest.mark.parametrize(("params", "extra"), BAD_CLIENTS.values(), ids=BAD_CLIENTS)
def test_bad_client_credentials_answer_401_invalid_client(
    client: httpx.Client, version: int, params: dict[str, str], extra: dict[str, Any]
) -> None:
    response = client.post(TOKEN_PATH[version], data=params, **extra)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client", "error_description": MSG_BAD_CLIENT}
    assert response.headers["x-request-id"]


MISSING = [
    (CLIENT_CREDENTIALS, "grant_type"),
    (CLIENT_CREDENTIALS, "client_id"),
    (CLIENT_CREDENTIALS, "client_secret"),
    (password_grant(), "username"),
    (password_grant(), "password"),
    (refresh_grant("x"), "refresh_token"),
]


@versions
@pytest.mark.parametrize(("params", "field"), MISSING, ids=[f for _, f in MISSING])
@pytest.mark.parametrize("blank", [False, True], ids=["absent", "empty"])
def test_missing_token_parameter_answers_400_missing_field(
    client: httpx.Client, version: int, params: dict[str, str], field: str, blank: bool
) -> None:
    sent = {**params, field: ""} if blank else {k: v for k, v in params.items() if k != field}
    assert_error(post_token(client, sent, version), 400, "MISSING_FIELD", MSG_MISSING_FIELD.format(field=field))


@versions
@pytest.mark.parametrize("grant_type", ["authorization_code", "implicit", "CLIENT_CREDENTIALS"])
def test_unsupported_grant_type_answers_400(client: httpx.Client, version: int, grant_type: str) -> None:
    response = post_token(client, {**CLIENT_CREDENTIALS, "grant_type": grant_type}, version)
    assert_error(response, 400, "BAD_REQUEST", MSG_UNSUPPORTED_GRANT.format(grant=grant_type))


@versions
@pytest.mark.parametrize(
    ("username", "password"), [("username", "wrong-password"), ("username", "PASSWORD"), ("nobody", "password")]
)
def test_bad_user_credentials_answer_400(client: httpx.Client, version: int, username: str, password: str) -> None:
    assert_error(post_token(client, password_grant(username, password), version), 400, "BAD_REQUEST", MSG_BAD_USER)


@versions
@pytest.mark.parametrize("kind", ["unknown", "access token", "expired", "revoked"])
def test_bad_refresh_token_answers_400(client: httpx.Client, clock: AdminClock, version: int, kind: str) -> None:
    tokens = user_tokens(client)
    value = {"unknown": "no-such-token", "access token": tokens["access_token"]}.get(kind, tokens["refresh_token"])
    if kind == "expired":
        clock.advance(3600)
    elif kind == "revoked":
        assert revoke(client, client_token(client), value, "refresh_token").status_code == 200
    assert_error(post_token(client, refresh_grant(value), version), 400, "BAD_REQUEST", MSG_BAD_REFRESH)


@edge_cases
@versions
def test_unverified_user_gets_403_user_not_verified(client: httpx.Client, version: int) -> None:
    response = post_token(client, password_grant("unverified"), version)
    assert_error(response, 403, "USER_NOT_VERIFIED", MSG_USER_NOT_VERIFIED.format(user="unverified"), "BUSINESS")
    # a wrong password is still just bad credentials: the 403 does not tell strangers the user exists
    assert_error(post_token(client, password_grant("unverified", "wrong"), version), 400, "BAD_REQUEST", MSG_BAD_USER)


@edge_cases
def test_user_created_without_auto_verification_logs_in_once_verified(client: httpx.Client) -> None:
    admin = client_token(client)
    create_user(client, admin, "alice")
    response = post_token(client, password_grant("alice", ALICE_PASSWORD))
    assert_error(response, 403, "USER_NOT_VERIFIED", MSG_USER_NOT_VERIFIED.format(user="alice"), "BUSINESS")
    assert client.post("/api/v2/users/verify/alice", headers=bearer(admin)).status_code == 200
    response = post_token(client, password_grant("alice", ALICE_PASSWORD))
    assert_token_json(response, expires_in=3599, refresh=True, pattern=FINAPI_TOKEN)


@versions
def test_wrong_password_three_times_locks_user_and_revokes_tokens(client: httpx.Client, version: int) -> None:
    tokens = user_tokens(client)
    for attempt in range(3):
        assert me(client, tokens["access_token"]).status_code == 200, f"revoked before attempt {attempt + 1}"
        assert_error(post_token(client, password_grant(password="wrong"), version), 400, "BAD_REQUEST", MSG_BAD_USER)
    locked = post_token(client, password_grant(), version)
    assert_error(locked, 423, "LOCKED", MSG_USER_LOCKED.format(user="username"), "BUSINESS")
    assert_revoked(client, tokens["access_token"])
    assert_error(post_token(client, refresh_grant(tokens["refresh_token"])), 400, "BAD_REQUEST", MSG_BAD_REFRESH)


def test_successful_login_resets_the_failed_password_count(client: httpx.Client) -> None:
    for _ in range(3):
        for _ in range(2):
            assert post_token(client, password_grant(password="wrong")).status_code == 400
        user_tokens(client)


def test_bad_client_credentials_do_not_count_as_failed_user_logins(client: httpx.Client) -> None:
    for _ in range(5):
        assert post_token(client, {**password_grant(password="wrong"), "client_secret": "wrong"}).status_code == 401
    user_tokens(client)


@edge_cases
def test_mandator_admin_client_gets_client_token_but_no_user_tokens_and_no_user_management(
    client: httpx.Client,
) -> None:
    response = post_token(client, MANDATOR_ADMIN)
    token = assert_token_json(response, expires_in=3599, refresh=False, pattern=FINAPI_TOKEN)["access_token"]
    for grant in ("password", "refresh_token"):
        params = {**MANDATOR_ADMIN, "grant_type": grant, "username": "username", "password": "password"}
        response = post_token(client, {**params, "refresh_token": "x"})
        assert_error(response, 403, "UNAUTHORIZED_ACCESS", MSG_GRANT_NOT_ALLOWED.format(grant=grant), "BUSINESS")
    for path in ("/api/v2/users", "/api/v1/users"):
        response = client.post(path, json={"id": "alice"}, headers=bearer(token))
        assert_error(response, 403, "UNAUTHORIZED_ACCESS", MSG_ROLE_APP, "BUSINESS")


# revoke
@versions
def test_revoke_with_access_token_hint_revokes_only_that_token(client: httpx.Client, version: int) -> None:
    admin, tokens = client_token(client), user_tokens(client)
    response = revoke(client, admin, tokens["access_token"], "access_token", version)
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["x-request-id"]
    assert_revoked(client, tokens["access_token"])
    refreshed = post_token(client, refresh_grant(tokens["refresh_token"])).json()["access_token"]
    assert me(client, refreshed).status_code == 200
    assert config_status(client, admin) == 200


@versions
def test_revoke_with_refresh_token_hint_revokes_the_grants_refresh_and_access_tokens(
    client: httpx.Client, version: int
) -> None:
    admin, tokens = client_token(client), user_tokens(client)
    create_user(client, admin, "alice")
    other = user_tokens(client, "alice", ALICE_PASSWORD)
    refreshed = post_token(client, refresh_grant(tokens["refresh_token"])).json()["access_token"]
    response = revoke(client, admin, tokens["refresh_token"], "refresh_token", version)
    assert (response.status_code, response.content) == (200, b"")
    assert_revoked(client, refreshed)
    assert_error(post_token(client, refresh_grant(tokens["refresh_token"])), 400, "BAD_REQUEST", MSG_BAD_REFRESH)
    assert me(client, other["access_token"]).status_code == 200
    assert config_status(client, admin) == 200
    assert user_tokens(client)["refresh_token"] != tokens["refresh_token"]  # a new login starts a new grant


@versions
@pytest.mark.parametrize("which", ["access_token", "refresh_token"])
def test_revoke_without_hint_revokes_the_whole_grant(client: httpx.Client, version: int, which: str) -> None:
    admin, tokens = client_token(client), user_tokens(client)
    response = revoke(client, admin, tokens[which], None, version)
    assert (response.status_code, response.content) == (200, b"")
    assert_revoked(client, tokens["access_token"])
    assert_error(post_token(client, refresh_grant(tokens["refresh_token"])), 400, "BAD_REQUEST", MSG_BAD_REFRESH)


@versions
def test_revoking_the_client_token_ends_it_and_the_next_grant_mints_another(client: httpx.Client, version: int) -> None:
    admin = client_token(client)
    assert revoke(client, admin, admin, "access_token", version).status_code == 200
    assert_revoked(client, admin, CONFIG)
    assert client_token(client) != admin


@versions
@pytest.mark.parametrize("hint", [None, "access_token", "refresh_token"])
def test_revoke_of_unknown_token_answers_200_with_empty_body(
    client: httpx.Client, version: int, hint: str | None
) -> None:
    admin = client_token(client)
    response = revoke(client, admin, "no-such-token", hint, version)
    assert (response.status_code, response.content) == (200, b"")
    assert config_status(client, admin) == 200


@versions
def test_revoke_with_user_bearer_answers_403_and_revokes_nothing(client: httpx.Client, version: int) -> None:
    tokens = user_tokens(client)
    response = revoke(client, tokens["access_token"], tokens["refresh_token"], None, version)
    assert_error(response, 403, "UNAUTHORIZED_ACCESS", MSG_ROLE_CLIENT, "BUSINESS")
    assert me(client, tokens["access_token"]).status_code == 200


@versions
def test_revoke_without_bearer_answers_401_invalid_token(client: httpx.Client, version: int) -> None:
    tokens = user_tokens(client)
    response = client.post(REVOKE_PATH[version], params={"token": tokens["access_token"]})
    assert_invalid_token(response, MSG_MISSING_TOKEN)
    assert me(client, tokens["access_token"]).status_code == 200


@versions
def test_revoke_without_token_parameter_answers_400_missing_field(client: httpx.Client, version: int) -> None:
    response = client.post(REVOKE_PATH[version], headers=bearer(client_token(client)))
    assert_error(response, 400, "MISSING_FIELD", MSG_MISSING_FIELD.format(field="token"))


def test_revoke_with_unknown_hint_answers_400_and_revokes_nothing(client: httpx.Client) -> None:
    admin, tokens = client_token(client), user_tokens(client)
    response = revoke(client, admin, tokens["access_token"], "id_token")
    assert_error(response, 400, "ILLEGAL_FIELD_VALUE", "'token_type_hint' must be one of access_token, refresh_token")
    assert me(client, tokens["access_token"]).status_code == 200


# authorization
ENDPOINTS = {
    "GET /api/v2/users": "user",
    "GET /api/v1/users": "user",
    "POST /api/v2/users": "client",
    "GET /api/v1/clientConfiguration": "client",
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "kind", ["missing", "basic scheme", "empty bearer", "unknown", "expired", "revoked", "refresh"]
)
def test_bad_bearer_answers_401_invalid_token(
    client: httpx.Client, clock: AdminClock, endpoint: str, kind: str
) -> None:
    method, path = endpoint.split()
    admin, tokens = client_token(client), user_tokens(client)
    value = tokens["access_token"] if ENDPOINTS[endpoint] == "user" else admin
    if kind == "expired":
        clock.advance(3600)
    elif kind == "revoked":
        assert revoke(client, admin, value, "access_token").status_code == 200
    elif kind == "unknown":
        value = "no-such-token"
    elif kind == "refresh":
        value = tokens["refresh_token"]
    headers = {
        "missing": {},
        "basic scheme": {"Authorization": "Basic " + CLIENT_ID},
        "empty bearer": {"Authorization": "Bearer  "},
    }.get(kind, bearer(value))
    description = MSG_MISSING_TOKEN if kind in ("missing", "basic scheme", "empty bearer") else None
    response = client.request(method, path, headers=headers, json={"id": "alice"} if method == "POST" else None)
    assert_invalid_token(response, description or MSG_INVALID_TOKEN.format(token=value))


CLIENT_ENDPOINTS = [
    ("POST", "/users", {"id": "alice"}),
    ("GET", "/clientConfiguration", None),
    ("GET", "/users/verificationStatus?userId=username", None),
    ("POST", "/users/verify/username", None),
]
USER_ENDPOINTS = [("GET", "/users", None), ("PATCH", "/users", {"email": "x@example.org"}), ("DELETE", "/users", None)]


@versions
@pytest.mark.parametrize(("method", "path", "json"), CLIENT_ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in CLIENT_ENDPOINTS])
def test_user_token_on_client_endpoint_answers_403_unauthorized_access(
    client: httpx.Client, version: int, method: str, path: str, json: dict[str, str] | None
) -> None:
    token = user_tokens(client)["access_token"]
    response = client.request(method, f"/api/v{version}{path}", headers=bearer(token), json=json)
    assert_error(response, 403, "UNAUTHORIZED_ACCESS", MSG_ROLE_CLIENT, "BUSINESS")
    assert response.json()["authContext"] == f"{MANDATOR}/{CLIENT_ID}/username"


@versions
@pytest.mark.parametrize(("method", "path", "json"), USER_ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in USER_ENDPOINTS])
def test_client_token_on_user_endpoint_answers_403_unauthorized_access(
    client: httpx.Client, version: int, method: str, path: str, json: dict[str, str] | None
) -> None:
    response = client.request(method, f"/api/v{version}{path}", headers=bearer(client_token(client)), json=json)
    assert_error(response, 403, "UNAUTHORIZED_ACCESS", MSG_ROLE_USER, "BUSINESS")
    assert response.json()["authContext"] == f"{MANDATOR}/{CLIENT_ID}"
    assert me(client, user_tokens(client)["access_token"]).json()["email"] == "email@localhost.de"

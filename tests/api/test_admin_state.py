"""`/__admin/state/*` views and the instant edge cases: expire a token, lock a user."""

from __future__ import annotations

from typing import Any

import httpx

from mock_finapi import errors
from tests.api import admin_helpers
from tests.api.admin_helpers import (
    MANDATOR,
    assert_bad_request,
    assert_error,
    assert_invalid_token,
    assert_unknown,
    create_process,
    login,
    masked,
    move_clock,
    ok,
    side_token,
    state,
)
from tests.helpers import CLIENT_CREDENTIALS, TOKEN_PATH, bearer, client_token, password_grant, user_tokens

two = admin_helpers.two  # the two-mandators fixture, served to the tests here


# state views
def test_state_users_lists_every_user_of_every_mandator(two: httpx.Client) -> None:
    def user(mandator: str, user_id: str, email: str | None = None, **changes: Any) -> dict[str, Any]:
        view = {
            "mandatorId": mandator,
            "id": user_id,
            "email": email,
            "phone": None,
            "isAutoUpdateEnabled": False,
            "verified": True,
            "locked": False,
            "failedLogins": 0,
            "processUser": False,
        }
        return {**view, **changes}

    assert state(two, "users") == [
        user("mandator-a", "alice", "alice@example.de"),
        user("mandator-a", "shared"),
        user("mandator-b", "bob"),
        user("mandator-b", "shared"),
    ]
    assert login(two, "b", "bob", "wrong").status_code == 400
    ok(two.post("/__admin/users/shared/lock", params={"mandator": "mandator-b"}))
    create_process(two, "client-b", "secret-b", "ref-b")
    [process] = state(two, "processes")

    assert state(two, "users", mandator="mandator-b") == [
        user("mandator-b", "bob", failedLogins=1),
        user("mandator-b", "shared", locked=True),
        user("mandator-b", process["userId"], processUser=True),
    ]


def test_state_users_of_an_unknown_mandator_is_empty(two: httpx.Client) -> None:
    assert state(two, "users", mandator="mandator-z") == []


def test_state_tokens_lists_live_tokens_masked_with_their_remaining_lifetime(two: httpx.Client) -> None:
    tokens = ok(login(two, "a", "alice", "alice-password"))
    client_b = side_token(two, "b")

    assert state(two, "tokens") == [
        {
            "token": masked(tokens["access_token"]),
            "type": "access",
            "clientId": "client-a",
            "mandatorId": "mandator-a",
            "userId": "alice",
            "expiresIn": 3599,  # as the token endpoint answered
        },
        {
            "token": masked(tokens["refresh_token"]),
            "type": "refresh",
            "clientId": "client-a",
            "mandatorId": "mandator-a",
            "userId": "alice",
            "expiresIn": 7199,
        },
        {
            "token": masked(client_b),
            "type": "access",
            "clientId": "client-b",
            "mandatorId": "mandator-b",
            "userId": None,
            "expiresIn": 3599,
        },
    ]
    move_clock(two, advance=3600)
    assert [(t["type"], t["expiresIn"]) for t in state(two, "tokens")] == [("refresh", 3599)]


def test_state_processes_lists_processes_masked_with_their_exchanges(two: httpx.Client) -> None:
    token = create_process(two, "client-a", "secret-a", "ref-a")
    [hidden] = [u["id"] for u in state(two, "users") if u["processUser"]]
    view = {
        "processToken": masked(token),
        "clientReference": "ref-a",
        "processId": "USER_ONLY",
        "clientId": "client-a",
        "mandatorId": "mandator-a",
        "userId": hidden,
        "exchanges": 0,
        "invalidated": False,
    }
    assert state(two, "processes") == [view]

    ok(two.get(f"/api/v1/processes/{token}", params={"invalidate": "true"}))

    assert state(two, "processes") == [{**view, "exchanges": 1, "invalidated": True}]


# instant edge cases: expire a token, lock a user
def test_expire_token_answers_the_masked_token_and_the_token_stops_working(client: httpx.Client) -> None:
    tokens = user_tokens(client)
    access = tokens["access_token"]

    assert ok(client.post(f"/__admin/tokens/{access}/expire")) == {"expired": masked(access)}

    assert_invalid_token(client.get("/api/v2/users", headers=bearer(access)), access)
    assert [t["type"] for t in state(client, "tokens")] == ["refresh"]
    refresh = {**CLIENT_CREDENTIALS, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    assert client.post(TOKEN_PATH[2], data=refresh).status_code == 200  # only that token went


def test_expire_refresh_token_makes_the_refresh_grant_fail(client: httpx.Client) -> None:
    tokens = user_tokens(client)

    ok(client.post(f"/__admin/tokens/{tokens['refresh_token']}/expire"))

    refresh = {**CLIENT_CREDENTIALS, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    refused = client.post(TOKEN_PATH[2], data=refresh)
    assert (refused.status_code, refused.json()["errors"][0]["message"]) == (400, errors.MSG_BAD_REFRESH)
    assert client.get("/api/v2/users", headers=bearer(tokens["access_token"])).status_code == 200


def test_expire_of_an_unknown_token_is_404(client: httpx.Client) -> None:
    assert_unknown(client.post("/__admin/tokens/no-such-token/expire"), "No live token 'no-s…'")


def test_expire_of_an_already_expired_token_is_404(client: httpx.Client) -> None:
    access = client_token(client)
    ok(client.post(f"/__admin/tokens/{access}/expire"))
    assert_unknown(client.post(f"/__admin/tokens/{access}/expire"), f"No live token '{masked(access)}'")


def test_expire_of_a_token_past_its_lifetime_is_404(client: httpx.Client) -> None:
    access = client_token(client)
    move_clock(client, advance=3600)
    response = client.post(f"/__admin/tokens/{access}/expire")
    message = f"No live token '{masked(access)}'"
    assert_error(response, 404, "UNKNOWN_ENTITY", "BUSINESS", message, "2026-01-01T10:00:00.000+01:00")


def test_lock_user_locks_it_revokes_its_tokens_and_the_password_grant_answers_423(client: httpx.Client) -> None:
    tokens = user_tokens(client)

    assert ok(client.post("/__admin/users/username/lock")) == {"locked": "username", "mandatorId": MANDATOR}

    assert_invalid_token(client.get("/api/v2/users", headers=bearer(tokens["access_token"])), tokens["access_token"])
    refused = client.post(TOKEN_PATH[2], data=password_grant())
    assert refused.status_code == 423
    assert refused.json()["errors"][0] == {
        "message": errors.MSG_USER_LOCKED.format(user="username"),
        "code": "LOCKED",
        "type": "BUSINESS",
    }
    assert [u["locked"] for u in state(client, "users") if u["id"] == "username"] == [True]


def test_lock_user_finds_the_user_case_insensitively(client: httpx.Client) -> None:
    assert ok(client.post("/__admin/users/UserName/lock")) == {"locked": "username", "mandatorId": MANDATOR}


def test_lock_of_an_unknown_user_is_404(client: httpx.Client) -> None:
    assert_unknown(client.post("/__admin/users/nobody/lock"), errors.MSG_UNKNOWN_USER.format(user="nobody"))


def test_lock_of_a_user_id_several_mandators_hold_needs_the_mandator(two: httpx.Client) -> None:
    assert_bad_request(
        two.post("/__admin/users/shared/lock"), "User 'shared' exists in several mandators: add ?mandator="
    )

    assert ok(two.post("/__admin/users/shared/lock", params={"mandator": "mandator-b"})) == {
        "locked": "shared",
        "mandatorId": "mandator-b",
    }
    assert login(two, "a", "shared", "shared-password-a").status_code == 200
    assert login(two, "b", "shared", "shared-password-b").status_code == 423


def test_lock_in_a_mandator_without_that_user_is_404(two: httpx.Client) -> None:
    response = two.post("/__admin/users/alice/lock", params={"mandator": "mandator-b"})
    assert_unknown(response, errors.MSG_UNKNOWN_USER.format(user="alice"))

"""Mandator administration (issue 17, point 8): GET /api/v2|v1/mandatorAdmin/getUserList and POST
/api/v2|v1/mandatorAdmin/deleteUsers (Access v1 1.151.1), for mandator admin clients only: exact statuses and bodies.

The scenario (tests/scenarios/mandator-admin.yaml) starts 2026-01-01 09:00 +01:00 with username, alice, Bob (locked)
and pending (unverified) in the first mandator, stranger in the other; every client token lives one hour.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_finapi import errors
from mock_finapi.http.app import create_app
from mock_finapi.settings import Capacity, Settings
from mock_finapi.testing.inprocess import InProcessClient
from tests.api.admin_helpers import MANDATOR, create_process
from tests.helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    MANDATOR_ADMIN_SCENARIO,
    START,
    TOKEN_PATH,
    AdminClock,
    assert_error_message,
    bearer,
    client_token,
    password_grant,
)

SCENARIO = MANDATOR_ADMIN_SCENARIO
ADMIN = ("mandator-admin", "mandator-admin-secret")
OTHER_ADMIN = ("other-admin", "other-admin-secret")
ADMIN_CONTEXT = f"{MANDATOR}/mandator-admin"
RID = "mandator-admin-test"
DAY = 86_400
VERSIONS = pytest.mark.parametrize("v", [2, 1], ids=["v2", "v1"])
ENDPOINTS = pytest.mark.parametrize(
    ("method", "name", "body"),
    [("GET", "getUserList", None), ("POST", "deleteUsers", {"userIds": ["alice"]})],
    ids=["getUserList", "deleteUsers"],
)
ALL = ["alice", "Bob", "pending", "username"]


@pytest.fixture
def scenario_name() -> str:
    return SCENARIO


def path(v: int, name: str) -> str:
    return f"/api/v{v}/mandatorAdmin/{name}"


def token_of(client: httpx.Client, credentials: tuple[str, str] = ADMIN) -> str:
    data = {"grant_type": "client_credentials", "client_id": credentials[0], "client_secret": credentials[1]}
    response = client.post(TOKEN_PATH[2], data=data)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def user_token(client: httpx.Client, username: str, password: str) -> str:
    response = client.post(TOKEN_PATH[2], data=password_grant(username, password))
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def h(token: str) -> dict[str, str]:
    return {**bearer(token), "X-Request-Id": RID}


def user_list(
    client: httpx.Client, v: int, params: dict[str, Any], credentials: tuple[str, str] = ADMIN
) -> httpx.Response:
    return client.get(path(v, "getUserList"), params=params, headers=h(token_of(client, credentials)))


def listed(client: httpx.Client, v: int, *, credentials: tuple[str, str] = ADMIN, **params: Any) -> dict[str, Any]:
    response = user_list(client, v, params, credentials)
    assert (response.status_code, response.headers["X-Request-Id"]) == (200, RID), response.text
    body: dict[str, Any] = response.json()
    return body


def ids(client: httpx.Client, v: int, **params: Any) -> list[str]:
    return [user["userId"] for user in listed(client, v, **params)["users"]]


def delete_users(client: httpx.Client, v: int, user_ids: Any, credentials: tuple[str, str] = ADMIN) -> httpx.Response:
    return client.post(path(v, "deleteUsers"), json={"userIds": user_ids}, headers=h(token_of(client, credentials)))


def info(
    user_id: str,
    *,
    registered: str = "2026-01-01",
    deleted: str | None = None,
    active: str | None = None,
    locked: bool = False,
    stats: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A UserInfo as finAPI's v1 model has it: every field, no bank connections."""
    return {
        "userId": user_id,
        "registrationDate": registered,
        "deletionDate": deleted,
        "lastActiveDate": active,
        "bankConnectionCount": 0,
        "latestBankConnectionImportDate": None,
        "latestBankConnectionDeletionDate": None,
        "monthlyStats": stats,
        "isLocked": locked,
    }


def paging(page: int, per_page: int, page_count: int, total: int) -> dict[str, int]:
    return {"page": page, "perPage": per_page, "pageCount": page_count, "totalCount": total}


def month(value: str) -> dict[str, Any]:
    return {"month": value, "minBankConnectionCount": 0, "maxBankConnectionCount": 0}


def assert_error(response: httpx.Response, status: int, code: str, type_: str, message: str, auth: str) -> None:
    assert_error_message(response, status, code, type_, message, auth=auth, request_id=RID)


# getUserList
@VERSIONS
def test_get_user_list_answers_every_user_of_the_mandator_ordered_by_user_id(client: httpx.Client, v: int) -> None:
    response = user_list(client, v, {})
    assert (response.status_code, response.headers["Content-Type"]) == (200, "application/json")
    assert response.json() == {
        "users": [info("alice"), info("Bob", locked=True), info("pending"), info("username")],
        "paging": paging(1, 20, 1, 4),
    }


@VERSIONS
def test_a_login_or_refresh_sets_the_last_active_date_and_a_new_user_its_registration_date(
    client: httpx.Client, clock: AdminClock, v: int
) -> None:
    clock.advance(DAY)  # 2026-01-02 09:00
    user_token(client, "alice", "alice-password")
    carol = {"id": "carol", "password": "carol-password"}
    assert client.post(f"/api/v{v}/users", json=carol, headers=bearer(client_token(client))).status_code == 201
    clock.advance(14.5 * 3600)  # 23:30
    refresh_token = client.post(TOKEN_PATH[2], data=password_grant("carol", "carol-password")).json()["refresh_token"]
    clock.advance(50 * 60)  # 2026-01-03 00:20
    refresh = {**password_grant(), "grant_type": "refresh_token", "refresh_token": refresh_token}
    assert client.post(TOKEN_PATH[2], data=refresh).status_code == 200
    assert listed(client, v)["users"] == [
        info("alice", active="2026-01-02"),
        info("Bob", locked=True),
        info("carol", registered="2026-01-02", active="2026-01-03"),
        info("pending"),
        info("username"),
    ]


@VERSIONS
def test_the_admin_of_another_mandator_sees_and_deletes_only_its_own_users(client: httpx.Client, v: int) -> None:
    assert listed(client, v, credentials=OTHER_ADMIN) == {"users": [info("stranger")], "paging": paging(1, 20, 1, 1)}
    response = delete_users(client, v, ["alice", "stranger"], OTHER_ADMIN)
    assert (response.status_code, response.json()) == (200, {"deletedUsers": ["stranger"], "nonDeletedUsers": []})
    assert ids(client, v) == ALL
    assert listed(client, v, credentials=OTHER_ADMIN)["users"] == [info("sXXXXXXr", deleted="2026-01-01")]


# roles
@VERSIONS
@ENDPOINTS
def test_an_app_clients_token_is_403_unauthorized_access(
    client: httpx.Client, v: int, method: str, name: str, body: Any
) -> None:
    response = client.request(method, path(v, name), json=body, headers=h(client_token(client)))
    message = errors.MSG_ROLE_MANDATOR_ADMIN
    assert_error(response, 403, "UNAUTHORIZED_ACCESS", "BUSINESS", message, f"{MANDATOR}/{CLIENT_ID}")
    assert ids(client, v) == ALL


@VERSIONS
@ENDPOINTS
def test_a_user_token_is_403_unauthorized_access(
    client: httpx.Client, v: int, method: str, name: str, body: Any
) -> None:
    token = user_token(client, "username", "password")
    response = client.request(method, path(v, name), json=body, headers=h(token))
    message = errors.MSG_ROLE_MANDATOR_ADMIN
    assert_error(response, 403, "UNAUTHORIZED_ACCESS", "BUSINESS", message, f"{MANDATOR}/{CLIENT_ID}/username")


@VERSIONS
@ENDPOINTS
def test_without_a_token_it_is_401_and_with_an_unknown_one_too(
    client: httpx.Client, v: int, method: str, name: str, body: Any
) -> None:
    response = client.request(method, path(v, name), json=body, headers={"X-Request-Id": RID})
    assert (response.status_code, response.headers["X-Request-Id"]) == (401, RID)
    assert response.json() == {"error": "invalid_token", "error_description": errors.MSG_MISSING_TOKEN}
    response = client.request(method, path(v, name), json=body, headers=h("unknown-token"))
    description = errors.MSG_INVALID_TOKEN.format(token="unknown-token")
    assert (response.status_code, response.json()) == (
        401,
        {"error": "invalid_token", "error_description": description},
    )


# deleteUsers
@VERSIONS
def test_delete_users_deletes_known_users_once_in_ascending_order_and_leaves_unknown_ids_out(
    client: httpx.Client, clock: AdminClock, v: int
) -> None:
    user_token(client, "alice", "alice-password")
    clock.advance(2 * DAY)
    response = delete_users(client, v, ["pending", "ALICE", "nobody", "alice", "Bob", "", "x" * 500])
    assert (response.status_code, response.headers["X-Request-Id"]) == (200, RID)
    assert response.json() == {"deletedUsers": ["alice", "Bob", "pending"], "nonDeletedUsers": []}
    assert listed(client, v)["users"] == [
        info("aXXXe", deleted="2026-01-03", active="2026-01-01"),
        info("BXb", deleted="2026-01-03"),  # a deleted user is never locked
        info("pXXXXXg", deleted="2026-01-03"),
        info("username"),
    ]
    again = delete_users(client, v, ["alice", "aXXXe"])
    assert (again.status_code, again.json()) == (200, {"deletedUsers": [], "nonDeletedUsers": []})


@VERSIONS
def test_a_deleted_users_tokens_stop_working_and_it_cannot_log_in(client: httpx.Client, v: int) -> None:
    grant = client.post(TOKEN_PATH[2], data=password_grant("alice", "alice-password")).json()
    assert client.get(f"/api/v{v}/users", headers=bearer(grant["access_token"])).status_code == 200
    assert delete_users(client, v, ["alice"]).json() == {"deletedUsers": ["alice"], "nonDeletedUsers": []}
    me = client.get(f"/api/v{v}/users", headers=bearer(grant["access_token"]))
    description = errors.MSG_INVALID_TOKEN.format(token=grant["access_token"])
    assert (me.status_code, me.json()) == (401, {"error": "invalid_token", "error_description": description})
    refresh = {**password_grant(), "grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}
    assert client.post(TOKEN_PATH[2], data=refresh).status_code == 400
    login = client.post(TOKEN_PATH[2], data=password_grant("alice", "alice-password"))
    assert (login.status_code, login.json()["errors"][0]["message"]) == (400, errors.MSG_BAD_USER)


@VERSIONS
def test_delete_users_takes_an_empty_list_and_at_most_1000_ids(client: httpx.Client, v: int) -> None:
    empty = delete_users(client, v, [])
    assert (empty.status_code, empty.json()) == (200, {"deletedUsers": [], "nonDeletedUsers": []})
    most = delete_users(client, v, ["alice", *(f"user-{n}" for n in range(999))])
    assert (most.status_code, most.json()) == (200, {"deletedUsers": ["alice"], "nonDeletedUsers": []})
    too_many = delete_users(client, v, ["username", *(f"user-{n}" for n in range(1000))])
    message = errors.MSG_TOO_MANY_IDS.format(limit=1000)
    assert_error(too_many, 400, "TOO_MANY_IDS", "BUSINESS", message, ADMIN_CONTEXT)
    assert ids(client, v) == ["aXXXe", "Bob", "pending", "username"]


@VERSIONS
@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({}, "MISSING_FIELD", "Missing required field 'userIds'"),
        ({"userIds": None}, "MISSING_FIELD", "Missing required field 'userIds'"),
        ({"userIds": "alice"}, "ILLEGAL_FIELD_VALUE", "'userIds' must be a list of strings"),
        ({"userIds": ["alice", 1]}, "ILLEGAL_FIELD_VALUE", "'userIds' must be a list of strings"),
        ([], "BAD_REQUEST", errors.MSG_JSON_OBJECT),
    ],
    ids=["absent", "null", "a string", "a number in the list", "an array"],
)
def test_delete_users_refuses_a_body_without_a_list_of_user_ids(
    client: httpx.Client, v: int, body: Any, code: str, message: str
) -> None:
    response = client.post(path(v, "deleteUsers"), json=body, headers=h(token_of(client)))
    assert_error(response, 400, code, "TECHNICAL", message, ADMIN_CONTEXT)
    assert ids(client, v) == ALL


# every deletion is remembered
@VERSIONS
def test_deleting_a_user_any_way_is_remembered_with_its_dates(client: httpx.Client, clock: AdminClock, v: int) -> None:
    clock.advance(14.5 * 3600)  # 2026-01-01 23:30
    usernames = user_token(client, "username", "password")
    clock.advance(50 * 60)  # 2026-01-02 00:20
    assert client.delete(f"/api/v{v}/users", headers=bearer(usernames)).status_code == 200  # itself
    clock.advance(DAY)
    assert client.delete(f"/api/v{v}/users/pending", headers=bearer(client_token(client))).status_code == 200
    clock.advance(DAY)
    assert delete_users(client, v, ["alice"]).status_code == 200
    assert listed(client, v, isDeleted="true") == {
        "users": [
            info("aXXXe", deleted="2026-01-04"),
            info("pXXXXXg", deleted="2026-01-03"),
            info("uXXXXXXe", deleted="2026-01-02", active="2026-01-01"),
        ],
        "paging": paging(1, 20, 1, 3),
    }


def test_a_process_users_retention_is_remembered_as_its_deletion(client: httpx.Client, clock: AdminClock) -> None:
    process_token = create_process(client, CLIENT_ID, CLIENT_SECRET, "ref")
    clock.advance(DAY)
    exchanged = client.get(f"/api/v1/processes/{process_token}", params={"invalidate": "true"})
    assert exchanged.status_code == 200, exchanged.text
    [hidden] = [user for user in listed(client, 2)["users"] if user["userId"] not in ALL]
    assert hidden == info(hidden["userId"], active="2026-01-02")
    clock.advance(3 * DAY - 1)  # retention: three days after the exchange that ended the process
    assert ids(client, 2, isDeleted="false") == sorted([*ALL, hidden["userId"]], key=str.lower)
    clock.advance(1)
    distorted = hidden["userId"][0] + "X" * 34 + hidden["userId"][-1]
    assert listed(client, 2, isDeleted="true")["users"] == [info(distorted, deleted="2026-01-05", active="2026-01-02")]
    assert ids(client, 2, isDeleted="false") == ALL


def test_a_reset_forgets_the_deleted_users(client: httpx.Client) -> None:
    assert delete_users(client, 2, ["alice"]).status_code == 200
    assert client.post("/__admin/reset").status_code == 200
    assert ids(client, 2) == ALL


def test_the_oldest_deletions_are_forgotten_beyond_the_deleted_users_capacity() -> None:
    settings = Settings(scenario=SCENARIO, capacity=Capacity(deleted_users=2))
    with InProcessClient(create_app(settings, freeze_at=START)) as client:
        for user_id in ("alice", "Bob", "pending"):
            assert delete_users(client, 2, [user_id]).json()["deletedUsers"] == [user_id]
        assert ids(client, 2) == ["BXb", "pXXXXXg", "username"]


# filters
@pytest.fixture
def history(client: httpx.Client, clock: AdminClock) -> None:
    """alice logs in on 01-01; on 01-03 carol is created, username logs in and pending is deleted; on 01-05 alice is
    deleted. Bob stays locked."""
    user_token(client, "alice", "alice-password")
    clock.advance(2 * DAY)
    created = client.post(
        "/api/v2/users", json={"id": "carol", "password": "carol-password"}, headers=bearer(client_token(client))
    )
    assert created.status_code == 201, created.text
    user_token(client, "username", "password")
    assert delete_users(client, 2, ["pending"]).status_code == 200
    clock.advance(2 * DAY)
    assert delete_users(client, 2, ["alice"]).status_code == 200


@VERSIONS
@pytest.mark.usefixtures("history")
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["aXXXe", "Bob", "carol", "pXXXXXg", "username"]),
        ({"isDeleted": "true"}, ["aXXXe", "pXXXXXg"]),
        ({"isDeleted": "false"}, ["Bob", "carol", "username"]),
        ({"isLocked": "true"}, ["Bob"]),
        ({"isLocked": "false"}, ["aXXXe", "carol", "pXXXXXg", "username"]),
        ({"userId": "USERNAME"}, ["username"]),
        ({"userId": "alice"}, []),  # deleted: its id is no longer known
        ({"userId": "aXXXe"}, []),
        ({"minRegistrationDate": "2026-01-02"}, ["carol"]),
        ({"maxRegistrationDate": "2026-01-01"}, ["aXXXe", "Bob", "pXXXXXg", "username"]),
        ({"minDeletionDate": "2026-01-04"}, ["aXXXe"]),
        ({"maxDeletionDate": "2026-01-03"}, ["Bob", "carol", "pXXXXXg", "username"]),
        ({"minLastActiveDate": "2026-01-02"}, ["username"]),
        ({"maxLastActiveDate": "2026-01-01"}, ["aXXXe", "Bob", "carol", "pXXXXXg"]),
        ({"minLastActiveDate": "2026-01-01", "maxLastActiveDate": "2026-01-01"}, ["aXXXe"]),
        (
            {"minRegistrationDate": "2026-01-01", "maxRegistrationDate": "2026-01-01", "isDeleted": "false"},
            ["Bob", "username"],
        ),
        ({"isDeleted": "TRUE", "userId": "", "order": ""}, ["aXXXe", "pXXXXXg"]),
        ({"order": "userId,desc"}, ["username", "pXXXXXg", "carol", "Bob", "aXXXe"]),
        ({"order": "userId,ASC"}, ["aXXXe", "Bob", "carol", "pXXXXXg", "username"]),
        ({"order": ["userId,desc", "userId"]}, ["username", "pXXXXXg", "carol", "Bob", "aXXXe"]),
        ({"minBankConnectionCountInMonthlyStats": "1"}, ["aXXXe", "Bob", "carol", "pXXXXXg", "username"]),
    ],
    ids=lambda value: "&".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else None,
)
def test_filters_and_order(client: httpx.Client, v: int, params: dict[str, Any], expected: list[str]) -> None:
    body = listed(client, v, **params)
    assert [user["userId"] for user in body["users"]] == expected
    assert body["paging"] == paging(1, 20, 1 if expected else 0, len(expected))


# paging
@VERSIONS
def test_pages_of_per_page_users(client: httpx.Client, v: int) -> None:
    assert listed(client, v, perPage=3) == {
        "users": [info("alice"), info("Bob", locked=True), info("pending")],
        "paging": paging(1, 3, 2, 4),
    }
    assert listed(client, v, perPage=3, page=2) == {"users": [info("username")], "paging": paging(2, 3, 2, 4)}
    assert listed(client, v, perPage=3, page=3) == {"users": [], "paging": paging(3, 3, 2, 4)}
    assert listed(client, v, perPage=500, page=1)["paging"] == paging(1, 500, 1, 4)
    assert listed(client, v, isLocked="true", userId="alice") == {"users": [], "paging": paging(1, 20, 0, 0)}


@VERSIONS
@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        ({"perPage": "0"}, "ILLEGAL_PAGE_SIZE", "'perPage' must be between 1 and 500"),
        ({"perPage": "501"}, "ILLEGAL_PAGE_SIZE", "'perPage' must be between 1 and 500"),
        ({"page": "0"}, "ILLEGAL_FIELD_VALUE", "'page' must be at least 1"),
        ({"page": "abc"}, "BAD_REQUEST", "'page' must be an integer"),
        ({"perPage": "1.5"}, "BAD_REQUEST", "'perPage' must be an integer"),
        ({"page": "2147483648"}, "BAD_REQUEST", "'page' must be an integer"),
        ({"isDeleted": "maybe"}, "BAD_REQUEST", "'isDeleted' must be true or false"),
        ({"isLocked": "2"}, "BAD_REQUEST", "'isLocked' must be true or false"),
        ({"includeMonthlyStats": "yes please"}, "BAD_REQUEST", "'includeMonthlyStats' must be true or false"),
        (
            {"minBankConnectionCountInMonthlyStats": "many"},
            "BAD_REQUEST",
            "'minBankConnectionCountInMonthlyStats' must be an integer",
        ),
        (
            {"minRegistrationDate": "2026-13-01"},
            "ILLEGAL_FIELD_VALUE",
            "'minRegistrationDate' must be a date in the format 'YYYY-MM-DD'",
        ),
        (
            {"maxDeletionDate": "01.01.2026"},
            "ILLEGAL_FIELD_VALUE",
            "'maxDeletionDate' must be a date in the format 'YYYY-MM-DD'",
        ),
        (
            {"minLastActiveDate": "2026-1-1"},
            "ILLEGAL_FIELD_VALUE",
            "'minLastActiveDate' must be a date in the format 'YYYY-MM-DD'",
        ),
        (
            {"monthlyStatsStartDate": "2026-1"},
            "ILLEGAL_FIELD_VALUE",
            "'monthlyStatsStartDate' must be a month in the format 'YYYY-MM'",
        ),
        (
            {"monthlyStatsEndDate": "2026-00"},
            "ILLEGAL_FIELD_VALUE",
            "'monthlyStatsEndDate' must be a month in the format 'YYYY-MM'",
        ),
        ({"order": "email"}, "ILLEGAL_FIELD_VALUE", "'order' must be 'userId', 'userId,asc' or 'userId,desc'"),
        ({"order": "userId,up"}, "ILLEGAL_FIELD_VALUE", "'order' must be 'userId', 'userId,asc' or 'userId,desc'"),
    ],
    ids=lambda value: "&".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else None,
)
def test_invalid_criteria_are_400(
    client: httpx.Client, v: int, params: dict[str, str], code: str, message: str
) -> None:
    assert_error(user_list(client, v, params), 400, code, "TECHNICAL", message, ADMIN_CONTEXT)


# monthly stats
@VERSIONS
def test_monthly_stats_cover_each_month_of_the_user_latest_first(
    client: httpx.Client, clock: AdminClock, v: int
) -> None:
    clock.advance(31 * DAY)  # 2026-02-01
    assert delete_users(client, v, ["alice"]).status_code == 200
    clock.advance(45 * DAY)  # 2026-03-18
    months = [month("2026-03"), month("2026-02"), month("2026-01")]
    body = listed(client, v, includeMonthlyStats="true", isLocked="false")
    assert body["users"] == [
        info("aXXXe", deleted="2026-02-01", stats=months[1:]),  # up to the month of its deletion
        info("pending", stats=months),
        info("username", stats=months),
    ]
    assert [
        u["monthlyStats"]
        for u in listed(client, v, includeMonthlyStats="true", monthlyStatsStartDate="2026-02")["users"]
    ] == [
        months[1:2],
        months[:2],
        months[:2],
        months[:2],
    ]
    assert listed(client, v, includeMonthlyStats="true", monthlyStatsEndDate="2026-01", userId="username")["users"] == [
        info("username", stats=months[2:])
    ]
    before = listed(
        client, v, includeMonthlyStats="true", monthlyStatsStartDate="2025-06", monthlyStatsEndDate="2025-12"
    )
    assert [user["monthlyStats"] for user in before["users"]] == [[], [], [], []]
    # no user ever had a bank connection
    none = listed(client, v, includeMonthlyStats="true", minBankConnectionCountInMonthlyStats="1")
    assert none == {"users": [], "paging": paging(1, 20, 0, 0)}
    assert len(listed(client, v, includeMonthlyStats="false", minBankConnectionCountInMonthlyStats="1")["users"]) == 4


def test_monthly_stats_show_at_most_the_latest_120_months(client: httpx.Client, clock: AdminClock) -> None:
    clock.advance(20 * 366 * DAY)  # 2046
    [stats] = [user["monthlyStats"] for user in listed(client, 1, includeMonthlyStats="true", userId="alice")["users"]]
    assert (len(stats), stats[0]["month"], stats[-1]["month"]) == (120, "2046-01", "2036-02")


CROWD = f"""\
name: crowd
seed: 4
clock: {{start: "2026-01-01T09:00:00+01:00"}}
clients:
  - {{client_id: {CLIENT_ID}, client_secret: {CLIENT_SECRET}, mandator_id: {MANDATOR}}}
  - {{client_id: mandator-admin, client_secret: mandator-admin-secret, role: mandator_admin, mandator_id: {MANDATOR}}}
users:
  - generate: 300
"""


@pytest.mark.parametrize("order", ["userId,asc", "userId,desc"])
def test_every_page_is_a_slice_of_the_whole_order(client: httpx.Client, order: str) -> None:
    response = client.post("/__admin/scenario", json={"yaml": CROWD})
    assert response.status_code == 200, response.text
    assert delete_users(client, 2, ids(client, 2, perPage=500)[::7]).status_code == 200
    whole = ids(client, 2, perPage=500, order=order)
    assert len(whole) == 300
    assert whole == sorted(whole, key=str.lower, reverse=order.endswith("desc"))
    pages = [ids(client, 2, perPage=7, page=page, order=order) for page in range(1, 44)]
    assert [user_id for page in pages for user_id in page] == whole
    assert ids(client, 2, perPage=10, page=3, order=order) == whole[20:30]


def test_a_live_user_comes_before_a_deleted_one_of_the_same_id_and_deleted_ones_in_order(client: httpx.Client) -> None:
    assert delete_users(client, 2, ["alice"]).status_code == 200
    for user_id in ("axxxe", "amole"):  # amole: deleted as aXXXe too
        created = client.post("/api/v2/users", json={"id": user_id}, headers=bearer(client_token(client)))
        assert created.status_code == 201, created.text
    assert delete_users(client, 2, ["amole"]).status_code == 200
    assert ids(client, 2, isLocked="false") == ["axxxe", "aXXXe", "aXXXe", "pending", "username"]
    assert ids(client, 2, isLocked="false", order="userId,desc") == ["username", "pending", "axxxe", "aXXXe", "aXXXe"]

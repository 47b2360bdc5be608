"""`--no-admin` and `--admin-token`: which admin endpoints answer, and to whom."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_finapi import __version__, errors
from mock_finapi.http.routes.admin import MSG_ADMIN_TOKEN
from tests.api.admin_helpers import (
    GUARDED,
    GUARDED_IDS,
    MANDATOR,
    NOW,
    assert_error,
    assert_invalid_token,
    assert_unknown,
    emulator,
    ok,
)
from tests.helpers import bearer

# What each guarded endpoint answers (GUARDED's status) on the default scenario, called without a body.
ANSWERS: dict[str, Any] = {
    "GET /__admin/version": {"version": __version__, "scenario": "default", "seed": 1},
    "POST /__admin/reset": {"reset": "all", "scenario": "default"},
    "GET /__admin/clock": {"now": NOW, "frozen": True},
    "POST /__admin/clock": ("BAD_REQUEST", "TECHNICAL", errors.MSG_BODY_MISSING),
    "GET /__admin/requests": {"requests": []},
    "DELETE /__admin/requests": {"deleted": 0},
    "POST /__admin/requests/count": {"count": 0},
    "GET /__admin/state/users": {
        "users": [
            {
                "mandatorId": MANDATOR,
                "id": "username",
                "email": "email@localhost.de",
                "phone": "+49 99 999999-999",
                "isAutoUpdateEnabled": False,
                "verified": True,
                "locked": False,
                "failedLogins": 0,
                "processUser": False,
            }
        ]
    },
    "GET /__admin/state/tokens": {"tokens": []},
    "GET /__admin/state/processes": {"processes": []},
    "POST /__admin/tokens/some-token/expire": ("UNKNOWN_ENTITY", "BUSINESS", "No live token 'some…'"),
    "POST /__admin/users/username/lock": {"locked": "username", "mandatorId": MANDATOR},
    "POST /__admin/scenario": ("BAD_REQUEST", "TECHNICAL", errors.MSG_BODY_MISSING),
    "GET /__admin/faults": {"faults": []},
    "POST /__admin/faults": ("BAD_REQUEST", "TECHNICAL", errors.MSG_BODY_MISSING),
    "DELETE /__admin/faults": {"deleted": 0},
}
assert set(ANSWERS) == set(GUARDED_IDS)


def assert_answer(response: httpx.Response, status: int) -> None:
    """The status and the complete body that GUARDED and ANSWERS name for the request's endpoint."""
    expected = ANSWERS[f"{response.request.method} {response.request.url.path}"]
    if isinstance(expected, tuple):
        assert_error(response, status, *expected)
    else:
        assert ok(response, status) == expected


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, _ in GUARDED], ids=GUARDED_IDS)
def test_without_admin_every_admin_endpoint_is_404(method: str, path: str) -> None:
    with emulator(admin=False) as client:
        response = client.request(method, path)
        assert_unknown(response, errors.MSG_NO_ENDPOINT.format(method=method, path=path))


def test_without_admin_health_still_answers() -> None:
    with emulator(admin=False) as client:
        assert ok(client.get("/__admin/health")) == {"status": "ok", "scenario": "default"}


@pytest.mark.parametrize(("method", "path", "status"), GUARDED, ids=GUARDED_IDS)
def test_admin_endpoints_answer_without_a_token_when_none_is_set(
    client: httpx.Client, method: str, path: str, status: int
) -> None:
    assert_answer(client.request(method, path), status)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong", "Bearer", "Bearer t2", "Basic dDp0", "t"],
    ids=["none", "wrong", "empty", "longer", "basic", "no-scheme"],
)
@pytest.mark.parametrize(("method", "path", "status"), GUARDED, ids=GUARDED_IDS)
def test_with_an_admin_token_a_missing_or_wrong_bearer_is_401(
    method: str, path: str, status: int, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    with emulator(admin_token="t") as client:
        response = client.request(method, path, headers=headers)
        assert response.status_code == 401
        assert response.json() == {"error": "invalid_token", "error_description": MSG_ADMIN_TOKEN}
        assert (
            response.headers["WWW-Authenticate"]
            == f'Bearer error="invalid_token", error_description="{MSG_ADMIN_TOKEN}"'
        )


@pytest.mark.parametrize(("method", "path", "status"), GUARDED, ids=GUARDED_IDS)
def test_with_an_admin_token_the_right_bearer_is_let_through(method: str, path: str, status: int) -> None:
    with emulator(admin_token="t") as client:
        assert_answer(client.request(method, path, headers={"Authorization": "bearer t"}), status)


def test_with_an_admin_token_a_refused_call_changes_nothing() -> None:
    with emulator(admin_token="t") as client:
        assert client.post("/__admin/clock", json={"advance": 60}).status_code == 401
        assert ok(client.get("/__admin/clock", headers=bearer("t"))) == {"now": NOW, "frozen": True}


def test_with_an_admin_token_health_stays_open() -> None:
    with emulator(admin_token="t") as client:
        assert ok(client.get("/__admin/health")) == {"status": "ok", "scenario": "default"}


def test_the_admin_token_does_not_open_the_finapi_endpoints() -> None:
    with emulator(admin_token="t") as client:
        assert_invalid_token(client.get("/api/v2/users", headers=bearer("t")), "t")

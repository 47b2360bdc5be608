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
from tests.helpers import CLIENT_CREDENTIALS, SCENARIO, bearer

# What each guarded endpoint answers (GUARDED's status) on the suite's scenario, called without a body.
ANSWERS: dict[str, Any] = {
    "GET /__admin/version": {"version": __version__, "scenario": SCENARIO, "seed": 1},
    "POST /__admin/reset": {"reset": "all", "scenario": SCENARIO},
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
    "GET /__admin/metrics": "# HELP mock_finapi_requests_total ",  # the start of a text answer
}
assert set(ANSWERS) == set(GUARDED_IDS)


def assert_answer(response: httpx.Response, status: int) -> None:
    """The status and the complete body that GUARDED and ANSWERS name for the request's endpoint."""
    expected = ANSWERS[f"{response.request.method} {response.request.url.path}"]
    if isinstance(expected, str):
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
        assert response.text.startswith(expected)
    elif isinstance(expected, tuple):
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
        assert ok(client.get("/__admin/health")) == {"status": "ok", "scenario": SCENARIO}


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
        assert ok(client.get("/__admin/health")) == {"status": "ok", "scenario": SCENARIO}


def test_the_admin_token_does_not_open_the_finapi_endpoints() -> None:
    with emulator(admin_token="t") as client:
        assert_invalid_token(client.get("/api/v2/users", headers=bearer("t")), "t")


# ------------------------------------------------------------------------------ Host (DNS rebinding) and Origin
LOOPBACK = ("localhost", "127.0.0.1", "::1")
"""What `serve` and ThreadedServer allow while they listen on 127.0.0.1 (in-process clients send `mock-finapi`)."""
EVIL = "https://evil.example"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v2/users"), ("POST", "/api/v2/oauth/token"), ("GET", "/__admin/health"), ("POST", "/__admin/reset")],
)
@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "localhost.evil.example", "127.0.0.1.nip.io"])
def test_a_host_that_is_not_allowed_is_refused_403_naming_it_and_the_option(method: str, path: str, host: str) -> None:
    with emulator(allowed_hosts=LOOPBACK) as client:
        response = client.request(method, path, headers={"Host": host})
        name = host.partition(":")[0]
        message = (
            f"Host '{name}' is not allowed: a server listening on loopback answers loopback names only "
            "(add others with --allow-host)"
        )
        assert_error(response, 403, "UNAUTHORIZED_ACCESS", "BUSINESS", message)


def test_a_refused_host_changes_nothing() -> None:
    with emulator(allowed_hosts=LOOPBACK) as client:
        refused = client.post("/__admin/clock", json={"advance": 60}, headers={"Host": "evil.example"})
        assert refused.status_code == 403
        assert ok(client.get("/__admin/clock", headers={"Host": "localhost"})) == {"now": NOW, "frozen": True}


@pytest.mark.parametrize(
    "host", ["localhost", "LocalHost:8080", "localhost.:80", "127.0.0.1:1", "[::1]:8080", "[::1]", "mock.test:80"]
)
def test_loopback_names_and_added_ones_are_served_with_any_port(host: str) -> None:
    with emulator(allowed_hosts=(*LOOPBACK, "mock.test")) as client:
        assert ok(client.get("/__admin/health", headers={"Host": host})) == {"status": "ok", "scenario": SCENARIO}


def test_without_allowed_hosts_any_host_is_served(client: httpx.Client) -> None:
    """What a server on another address than loopback does (`--host 0.0.0.0`, the container)."""
    assert ok(client.get("/__admin/health", headers={"Host": "evil.example"}))["status"] == "ok"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/__admin/reset"),
        ("POST", "/__admin/clock"),
        ("DELETE", "/__admin/requests"),
        ("POST", "/__admin/scenario"),
        ("DELETE", "/__admin/faults"),
        ("POST", "/__admin/faults"),
        ("POST", "/__admin/users/username/lock"),
    ],
)
@pytest.mark.parametrize("origin", [EVIL, "null", "http://mock-finapi.evil.example", "http://localhost"])
def test_a_state_changing_admin_request_from_another_origin_is_refused_403(
    client: httpx.Client, method: str, path: str, origin: str
) -> None:
    response = client.request(method, path, headers={"Origin": origin})
    message = f"Origin '{origin}' is not this server's: the admin API refuses changes from other sites' pages"
    assert_error(response, 403, "UNAUTHORIZED_ACCESS", "BUSINESS", message)


def test_a_cross_site_admin_request_changes_nothing_even_with_the_admin_token() -> None:
    with emulator(admin_token="t") as client:
        refused = client.post("/__admin/clock", json={"advance": 60}, headers={"Origin": EVIL, **bearer("t")})
        assert refused.status_code == 403
        assert ok(client.get("/__admin/clock", headers=bearer("t"))) == {"now": NOW, "frozen": True}


def test_same_origin_pages_and_reads_from_any_origin_are_served(client: httpx.Client) -> None:
    own = client.post("/__admin/clock", json={"advance": 60}, headers={"Origin": "http://mock-finapi"})
    assert ok(own) == {"now": "2026-01-01T09:01:00.000+01:00", "frozen": True}
    assert ok(client.get("/__admin/clock", headers={"Origin": EVIL}))["now"] == "2026-01-01T09:01:00.000+01:00"
    assert ok(client.get("/__admin/requests", headers={"Origin": EVIL})) == {"requests": []}


def test_the_finapi_endpoints_take_requests_from_any_origin(client: httpx.Client) -> None:
    response = client.post("/api/v2/oauth/token", data=CLIENT_CREDENTIALS, headers={"Origin": EVIL})
    assert response.status_code == 200, response.text

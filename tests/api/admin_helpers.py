"""What the admin API tests (tests/api/test_admin_*.py) share: constants, an emulator on other settings, the
two-mandators fixture and assertions on exact admin bodies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_finapi import errors
from mock_finapi.clock import Clock
from mock_finapi.http.app import create_app
from mock_finapi.settings import Settings
from mock_finapi.testing.inprocess import InProcessClient
from tests.helpers import SCENARIO, START, TOKEN_PATH

MANDATOR = "2c6b8f0e-7d42-4f1a-9a43-1f0c2d3e4a5b"
NOW = "2026-01-01T09:00:00.000+01:00"
TWO_MANDATORS = str(Path(__file__).resolve().parent.parent / "scenarios" / "two-mandators.yaml")
CREDENTIALS = {"a": ("client-a", "secret-a"), "b": ("client-b", "secret-b")}
INLINE_SCENARIO = """\
name: inline
seed: 5
clock:
  start: "2030-05-05T12:00:00+02:00"
  frozen: true
clients:
  - client_id: inline-client
    client_secret: inline-secret
users:
  - {id: carol, password: carol-password}
"""
# Every guarded endpoint, with what it answers to a correct (or no needed) admin token and no body.
GUARDED = [
    ("GET", "/__admin/version", 200),
    ("POST", "/__admin/reset", 200),
    ("GET", "/__admin/clock", 200),
    ("POST", "/__admin/clock", 400),
    ("GET", "/__admin/requests", 200),
    ("DELETE", "/__admin/requests", 200),
    ("POST", "/__admin/requests/count", 200),
    ("GET", "/__admin/state/users", 200),
    ("GET", "/__admin/state/tokens", 200),
    ("GET", "/__admin/state/processes", 200),
    ("POST", "/__admin/tokens/some-token/expire", 404),
    ("POST", "/__admin/users/username/lock", 200),
    ("POST", "/__admin/scenario", 400),
    ("GET", "/__admin/faults", 200),
    ("POST", "/__admin/faults", 400),
    ("DELETE", "/__admin/faults", 200),
    ("GET", "/__admin/metrics", 200),
]
GUARDED_IDS = [f"{method} {path}" for method, path, _ in GUARDED]


@contextmanager
def emulator(clock: Clock | None = None, **settings: Any) -> Iterator[InProcessClient]:
    """An emulator on other settings (scenario: the suite's, unless given), its clock frozen at the start of the
    scenarios used here; `clock` is the real-time source (default: the real time)."""
    settings.setdefault("scenario", SCENARIO)
    with InProcessClient(create_app(Settings(**settings), clock=clock, freeze_at=START)) as client:
        yield client


@pytest.fixture
def two() -> Iterator[InProcessClient]:
    """The two-mandators scenario: client-a/alice in mandator-a, client-b/bob in mandator-b, `shared` in both."""
    with emulator(scenario=TWO_MANDATORS) as client:
        yield client


def assert_error(response: httpx.Response, status: int, code: str, type_: str, message: str, date: str = NOW) -> None:
    """The complete finAPI ErrorMessage of an admin (or other v2) endpoint."""
    assert response.status_code == status, response.text
    assert response.json() == {
        "errors": [{"message": message, "code": code, "type": type_}],
        "date": date,
        "requestId": response.headers["X-Request-Id"],
        "endpoint": f"{response.request.method} {response.request.url.path}",
        "authContext": "-",
        "bank": None,
    }


def assert_bad_request(response: httpx.Response, message: str) -> None:
    assert_error(response, 400, "BAD_REQUEST", "TECHNICAL", message)


def assert_illegal(response: httpx.Response, message: str) -> None:
    assert_error(response, 400, "ILLEGAL_FIELD_VALUE", "TECHNICAL", message)


def assert_unknown(response: httpx.Response, message: str) -> None:
    assert_error(response, 404, "UNKNOWN_ENTITY", "BUSINESS", message)


def assert_invalid_token(response: httpx.Response, token: str) -> None:
    description = errors.MSG_INVALID_TOKEN.format(token=token)
    assert response.status_code == 401, response.text
    assert response.json() == {"error": "invalid_token", "error_description": description}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def journal(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    """The journal's entries, newest first, without `durationMs` (checked here, but it is real time)."""
    entries: list[dict[str, Any]] = ok(client.get("/__admin/requests", params=params))["requests"]
    for entry in entries:
        duration = entry.pop("durationMs")
        assert isinstance(duration, float | int)
        assert duration >= 0
        assert round(duration, 3) == duration  # whole microseconds
    return entries


def request_ids(client: httpx.Client, **params: Any) -> list[str]:
    return [entry["requestId"] for entry in journal(client, **params)]


def masked(token: str) -> str:
    return token[:4] + "…"


def rid(value: str) -> dict[str, str]:
    return {"X-Request-Id": value}


def login(client: httpx.Client, side: str, username: str, password: str) -> httpx.Response:
    client_id, secret = CREDENTIALS[side]
    data = {"grant_type": "password", "client_id": client_id, "client_secret": secret}
    return client.post(TOKEN_PATH[2], data={**data, "username": username, "password": password})


def side_token(client: httpx.Client, side: str) -> str:
    client_id, secret = CREDENTIALS[side]
    data = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    token: str = ok(client.post(TOKEN_PATH[2], data=data))["access_token"]
    return token


def create_process(client: httpx.Client, client_id: str, secret: str, reference: str) -> str:
    body = {
        "clientId": client_id,
        "clientSecret": secret,
        "processId": "USER_ONLY",
        "clientReferences": [{"clientReference": reference}],
    }
    token: str = ok(client.post("/api/v1/processes", json=body), 201)["processes"][0]["processToken"]
    return token


def state(client: httpx.Client, view: str, **params: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(client.get(f"/__admin/state/{view}", params=params))[view]
    return found


def move_clock(client: httpx.Client, **change: Any) -> dict[str, Any]:
    body: dict[str, Any] = ok(client.post("/__admin/clock", json=change))
    return body

"""Constants and small helpers the tests share."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from mock_finapi.clock import parse_rfc3339

SCENARIO = "default-with-user"
"""What the `client` fixture serves: the default scenario plus finAPI's example user `username`/`password`, whom
most tests log in as (`default` itself has no user, so finAPI's guide can create it: tests/api/test_guide.py)."""
CLIENT_ID = "8f92e604-b9b9-11ec-8422-0242ac120002"
CLIENT_SECRET = "8f92ea14-b9b9-11ec-8422-0242ac120002"
START = parse_rfc3339("2026-01-01T09:00:00+01:00")
CLIENT_CREDENTIALS = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
TOKEN_PATH = {1: "/oauth/token", 2: "/api/v2/oauth/token"}
GUIDE_USER = {
    "id": "username",
    "password": "password",
    "email": "email@localhost.de",
    "phone": "+49 99 999999-999",
    "isAutoUpdateEnabled": False,
}
"""The user finAPI's getting-started guide creates (the body of its `POST /users`; the response shows the same)."""
MANDATOR_ADMIN_SCENARIO = str(Path(__file__).resolve().parent / "scenarios" / "mandator-admin.yaml")


def client_token(client: httpx.Client, version: int = 2) -> str:
    response = client.post(TOKEN_PATH[version], data=CLIENT_CREDENTIALS)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def password_grant(username: str = "username", password: str = "password") -> dict[str, str]:
    return {**CLIENT_CREDENTIALS, "grant_type": "password", "username": username, "password": password}


def user_tokens(client: httpx.Client, username: str = "username", password: str = "password") -> dict[str, str]:
    response = client.post(TOKEN_PATH[2], data=password_grant(username, password))
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_token_answer(response: httpx.Response, *, refresh: bool = False) -> dict[str, Any]:
    """200 with finAPI's token JSON (the values as issued): a refresh token only when one is expected."""
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    expected = {"access_token": body.get("access_token"), "token_type": "bearer", "expires_in": body.get("expires_in")}
    expected |= {"scope": "all", **({"refresh_token": body.get("refresh_token")} if refresh else {})}
    assert body == expected
    assert isinstance(body["access_token"], str)
    assert body["access_token"]
    assert isinstance(body["expires_in"], int)
    return body


USERNAME = {
    "id": "username",
    "password": "XXXXX",
    "email": "email@localhost.de",
    "phone": "+49 99 999999-999",
    "isAutoUpdateEnabled": False,
}
"""finAPI's example user (the `default-with-user` scenario's) as `GET /users` answers it."""


def error_codes(response: httpx.Response) -> list[str]:
    return [e["code"] for e in response.json()["errors"]]


ERROR_DATE = {1: "2026-01-01 09:00:00.000", 2: "2026-01-01T09:00:00.000+01:00"}
"""The error `date` of each API version at the frozen test clock's start."""


def assert_error_message(
    response: httpx.Response, status: int, code: str, type_: str, message: str, *, auth: str, request_id: str
) -> None:
    """The complete finAPI ErrorMessage, in the date format of the request's API version."""
    path = response.request.url.path
    v = 1 if path.startswith(("/api/v1/", "/oauth/")) else 2
    detail: dict[str, Any] = {"message": message, "code": code, "type": type_}
    if v == 1:
        detail["multiStepAuthentication"] = None
    assert (response.status_code, response.headers["X-Request-Id"]) == (status, request_id)
    assert response.json() == {
        "errors": [detail],
        "date": ERROR_DATE[v],
        "requestId": request_id,
        "endpoint": f"{response.request.method} {path}",
        "authContext": auth,
        "bank": None,
    }


class AdminClock:
    """The served virtual clock, read and moved through the admin API (any backend, any host)."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def _move(self, **change: Any) -> dict[str, Any]:
        response = self.client.post("/__admin/clock", json=change)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def advance(self, seconds: float) -> None:
        self._move(advance=seconds)

    def set(self, when: datetime) -> None:
        self._move(set=when.isoformat())

    def freeze(self, frozen: bool) -> None:
        self._move(frozen=frozen)

    def now(self) -> datetime:
        return parse_rfc3339(self.client.get("/__admin/clock").json()["now"])

    def time(self) -> float:
        return self.now().timestamp()

"""What the Web Form 2.0 API tests (tests/api/test_webforms.py, test_tasks.py) share: the scenario
tests/scenarios/webforms.yaml (clock frozen at 2026-01-01 09:00 +01:00 = 08:00 UTC), its ids and tokens, and the
wire shapes written out from WEBFORM.md (not from the emulator's code).

Connection ids are numbered over all users: username's four from 1,000,001 in the scenario's order, so the first one
a web form imports (anybody's) is 1,000,005.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import CLIENT_ID, CLIENT_SECRET, bearer

SCENARIO = str(Path(__file__).resolve().parent.parent / "scenarios" / "webforms.yaml")
RID = "webform-test"
BASE = "http://mock-finapi"
"""The InProcessClient's base URL: web form URLs start with it (no public URL set)."""
START_UTC = "2026-01-01T08:00:00.000+0000"
"""The scenario's start in the Web Form API's timestamp format."""
XS2A_CONNECTION, FINTS_CONNECTION, EXPIRED_CONSENT_CONNECTION, BUSY_CONNECTION = range(1_000_001, 1_000_005)
FIRST_IMPORTED = 1_000_005
PASSWORDS = {"username": "password", "alice": "alice-password"}
CLIENTS = {"username": (CLIENT_ID, CLIENT_SECRET), "alice": (CLIENT_ID, CLIENT_SECRET)}
CLIENTS |= {"lic": ("licensed", "licensed-secret"), "off": ("no-webforms", "no-webforms-secret")}
PASSWORDS |= {"lic": "lic-password", "off": "off-password"}
IMPORT = "/api/webForms/bankConnectionImport"
TASKS = "/api/tasks/backgroundUpdate"
UUID_LENGTH = 36
ACCOUNT_TYPES = "BAUSPAREN, CHECKING, CREDIT_CARD, LOAN, MEMBERSHIP, SAVINGS, SECURITY"
"""The Web Form API's account types, as a validation message lists them."""
FINAPI_URL_RULE = "must be an https URL with a dotted host name (finAPI's URL pattern)"


def token(client: httpx.Client, user: str = "username") -> str:
    client_id, secret = CLIENTS[user]
    data = {
        "grant_type": "password",
        "client_id": client_id,
        "client_secret": secret,
        "username": user,
        "password": PASSWORDS[user],
    }
    response = client.post("/api/v2/oauth/token", data=data)
    assert response.status_code == 200, response.text
    value: str = response.json()["access_token"]
    return value


def client_token(client: httpx.Client) -> str:
    data = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    response = client.post("/api/v2/oauth/token", data=data)
    assert response.status_code == 200, response.text
    value: str = response.json()["access_token"]
    return value


def headers(user_token: str) -> dict[str, str]:
    return {**bearer(user_token), "X-Request-Id": RID}


def stamp(seconds: float = 0.0) -> str:
    """The Web Form API's timestamp `seconds` after the scenario's start (whole milliseconds)."""
    whole = int(seconds)
    millis = round((seconds - whole) * 1000)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"2026-01-01T{8 + hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}+0000"


def assert_error(
    response: httpx.Response, status: int, code: str, description: str, *, at: float = 0.0, rid: str = RID
) -> None:
    """The Web Form API's complete `Error`, stamped `at` seconds after the start."""
    assert (response.status_code, response.headers["X-Request-Id"]) == (status, rid), response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "code": code,
        "description": description,
        "timestamp": stamp(at),
        "endpoint": f"{response.request.method} {response.request.url.path}",
    }


def assert_invalid(response: httpx.Response, *problems: tuple[str, str], at: float = 0.0, rid: str = RID) -> None:
    """The Web Form API's complete `ValidationError`: one (field, message) per bad field, in this order."""
    assert (response.status_code, response.headers["X-Request-Id"]) == (400, rid), response.text
    assert response.json() == {
        "errors": [{"field": field, "message": message} for field, message in problems],
        "timestamp": stamp(at),
        "endpoint": f"{response.request.method} {response.request.url.path}",
    }


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    assert response.headers["X-Request-Id"] == RID
    body: dict[str, Any] = response.json()
    assert len(body["id"]) == UUID_LENGTH
    return body


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def web_form(
    form_id: str, *, status: str = "NOT_YET_OPENED", created_at: float = 0.0, **payload: Any
) -> dict[str, Any]:
    """A bank connection import form as the API shows it; `payload` defaults to `{"bankConnectionId": null}`."""
    return {
        "id": form_id,
        "url": f"{BASE}/wf/{form_id}",
        "createdAt": stamp(created_at),
        "expiresAt": stamp(created_at + 1200),
        "type": payload.pop("type", "BANK_CONNECTION_IMPORT"),
        "status": status,
        "payload": {"bankConnectionId": None, **payload},
    }


def new_form(client: httpx.Client, user_token: str, body: Any = None) -> dict[str, Any]:
    response = client.post(IMPORT, json={} if body is None else body, headers=headers(user_token))
    return created(response)


def complete(client: httpx.Client, form_id: str, status: str = "COMPLETED", **extra: Any) -> httpx.Response:
    """Finish a form through the admin API, as the page would."""
    return client.post(f"/__admin/webForms/{form_id}/complete", json={"status": status, **extra})


def get_form(client: httpx.Client, user_token: str, form_id: str) -> dict[str, Any]:
    body: dict[str, Any] = ok(client.get(f"/api/webForms/{form_id}", headers=headers(user_token)))
    return body


def wait_for_callbacks(client: httpx.Client, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    """The callbacks the emulator tried (`GET /__admin/callbacks`, oldest first) once there are `count`."""
    deadline = time.monotonic() + timeout
    while True:
        found: list[dict[str, Any]] = ok(client.get("/__admin/callbacks"))["callbacks"]
        if len(found) >= count or time.monotonic() > deadline:
            return list(reversed(found))
        time.sleep(0.02)

"""finAPI's getting-started guide, run as written against the emulator with no scenario chosen (issue 17).

The guide ("Getting Started - Authorization as a Process or User", FINAPI.md's sources) gets a client token, creates
the user `username`/`password`, gets that user's token, and obtains a user token through the Process Controller.
Its requests are sent here verbatim and each answer is checked whole: what the guide shows, where it shows one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mock_finapi.http.app import create_app
from mock_finapi.settings import Settings
from mock_finapi.testing.inprocess import InProcessClient
from tests.helpers import CLIENT_ID, CLIENT_SECRET, GUIDE_USER, START, bearer

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@pytest.fixture
def client() -> Iterator[InProcessClient]:
    """The emulator as `mock-finapi serve` starts without options (the `default` scenario), its clock frozen."""
    with InProcessClient(create_app(Settings(), freeze_at=START)) as served:
        yield served


def token_answer(response: httpx.Response, *, refresh: bool) -> dict[str, Any]:
    """The guide's token JSON with `"expires_in": 3599` (a refresh token too for the password grant, FINAPI.md §3)."""
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    expected = {"access_token": body.get("access_token"), "token_type": "bearer", "expires_in": 3599, "scope": "all"}
    if refresh:
        expected["refresh_token"] = body.get("refresh_token")
    assert body == expected
    assert UUID.fullmatch(body["access_token"])
    return body


def test_the_guide_runs_as_written_on_the_default_scenario(client: httpx.Client) -> None:
    assert client.get("/__admin/health").json() == {"status": "ok", "scenario": "default"}

    # 1. authorize the client
    client_credentials = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    client_token = token_answer(client.post("/api/v2/oauth/token", data=client_credentials), refresh=False)

    # 2. create the user: 201, the body echoed with the password in plain text
    created = client.post("/api/v2/users", json=GUIDE_USER, headers=bearer(client_token["access_token"]))
    assert (created.status_code, created.json()) == (201, GUIDE_USER)

    # 3. authorize the user
    password_grant = {**client_credentials, "grant_type": "password", "username": "username", "password": "password"}
    user_token = token_answer(client.post("/api/v2/oauth/token", data=password_grant), refresh=True)
    me = client.get("/api/v2/users", headers=bearer(user_token["access_token"]))
    assert (me.status_code, me.json()) == (200, {**GUIDE_USER, "password": "XXXXX"})

    # 4. authorize as a process: create one, exchange its token (invalidate=true) for a user's access token
    process = {
        "clientId": CLIENT_ID,
        "clientSecret": CLIENT_SECRET,
        "clientReferences": [{"clientReference": "customer-4711"}],
        "processId": "USER_ONLY",
    }
    created_process = client.post("/api/v1/processes", json=process)
    assert created_process.status_code == 201, created_process.text
    [answer] = created_process.json()["processes"]
    assert (answer["clientReference"], bool(UUID.fullmatch(answer["processToken"]))) == ("customer-4711", True)
    exchanged = client.get(f"/api/v1/processes/{answer['processToken']}?invalidate=true")
    assert (exchanged.status_code, list(exchanged.json())) == (200, ["accessToken"])
    hidden = client.get("/api/v2/users", headers=bearer(exchanged.json()["accessToken"]))
    assert hidden.status_code == 200, hidden.text
    assert hidden.json()["id"] != "username"  # the process's own user, whose credentials the controller keeps


def test_running_the_guide_again_needs_a_reset_in_between(client: httpx.Client) -> None:
    """The user exists once created (422 ENTITY_EXISTS, as in finAPI); a reset brings the empty default back."""
    data = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}

    def create() -> httpx.Response:
        headers = bearer(client.post("/api/v2/oauth/token", data=data).json()["access_token"])
        return client.post("/api/v2/users", json=GUIDE_USER, headers=headers)

    assert create().status_code == 201
    again = create()
    assert (again.status_code, [e["code"] for e in again.json()["errors"]]) == (422, ["ENTITY_EXISTS"])
    assert client.post("/__admin/reset").status_code == 200
    assert (create().status_code, client.get("/__admin/health").json()["scenario"]) == (201, "default")

"""The control plane under /__admin (issue 4): every endpoint with its exact body, masking, the guard and --no-admin."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mock_finapi import __version__, errors
from mock_finapi.clock import Clock
from mock_finapi.http import request_log
from mock_finapi.http.app import create_app
from mock_finapi.http.routes.admin import MSG_ADMIN_TOKEN
from mock_finapi.settings import Settings
from mock_finapi.testing.inprocess import InProcessClient
from tests.helpers import (
    CLIENT_CREDENTIALS,
    CLIENT_ID,
    CLIENT_SECRET,
    START,
    TOKEN_PATH,
    bearer,
    client_token,
    password_grant,
    user_tokens,
)

MANDATOR = "2c6b8f0e-7d42-4f1a-9a43-1f0c2d3e4a5b"
NOW = "2026-01-01T09:00:00.000+01:00"
TWO_MANDATORS = str(Path(__file__).resolve().parent.parent / "scenarios" / "two-mandators.yaml")
CREDENTIALS = {"a": ("client-a", "secret-a"), "b": ("client-b", "secret-b")}
GIVE_CLOCK = "Give 'set' (RFC 3339), 'advance' (seconds) and/or 'frozen' (boolean)"
BAD_ADVANCE = "'advance' must be a number of seconds between -1e+10 and 1e+10"
CLOCK_RANGE = "The clock must stay between 1970 and 9000"
GIVE_SCENARIO = "Give exactly one of 'name', 'path' or 'yaml' (a string)"
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
]
GUARDED_IDS = [f"{method} {path}" for method, path, _ in GUARDED]


@contextmanager
def emulator(clock: Clock | None = None, **settings: Any) -> Iterator[InProcessClient]:
    """An emulator on other settings, on `clock` or one frozen at the start of the scenarios used here."""
    with InProcessClient(create_app(Settings(**settings), clock=clock or Clock(START, frozen=True))) as client:
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


# health and version
def test_health_answers_ok_with_the_served_scenario(client: httpx.Client) -> None:
    assert ok(client.get("/__admin/health")) == {"status": "ok", "scenario": "default"}


def test_version_answers_package_version_scenario_and_seed(client: httpx.Client) -> None:
    assert ok(client.get("/__admin/version")) == {"version": __version__, "scenario": "default", "seed": 1}


def test_version_reports_the_seed_given_in_the_settings() -> None:
    with emulator(seed=99) as client:
        assert ok(client.get("/__admin/version"))["seed"] == 99


# reset
def test_reset_answers_what_it_reset(client: httpx.Client) -> None:
    assert ok(client.post("/__admin/reset")) == {"reset": "all", "scenario": "default"}


def test_reset_removes_users_created_through_the_api(client: httpx.Client) -> None:
    ok(
        client.post(
            "/api/v2/users", json={"id": "alice", "password": "alice-pw"}, headers=bearer(client_token(client))
        ),
        201,
    )
    assert ok(client.post(TOKEN_PATH[2], data=password_grant("alice", "alice-pw")))["access_token"]

    ok(client.post("/__admin/reset"))

    gone = client.post(TOKEN_PATH[2], data=password_grant("alice", "alice-pw"))
    assert (gone.status_code, gone.json()["errors"][0]["message"]) == (400, errors.MSG_BAD_USER)
    assert "alice" not in [user["id"] for user in state(client, "users")]
    assert "username" in [user["id"] for user in state(client, "users")]


def test_reset_makes_every_token_invalid(client: httpx.Client) -> None:
    client_access = client_token(client)
    tokens = user_tokens(client)

    ok(client.post("/__admin/reset"))

    assert state(client, "tokens") == []
    assert_invalid_token(client.get("/api/v2/clientConfiguration", headers=bearer(client_access)), client_access)
    assert_invalid_token(client.get("/api/v2/users", headers=bearer(tokens["access_token"])), tokens["access_token"])
    refresh = {**CLIENT_CREDENTIALS, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    refused = client.post(TOKEN_PATH[2], data=refresh)
    assert (refused.status_code, refused.json()["errors"][0]["message"]) == (400, errors.MSG_BAD_REFRESH)


def test_reset_puts_the_clock_back_to_the_scenario_start_and_frozen_state(two: httpx.Client) -> None:
    move_clock(two, advance=86_400, frozen=False)

    ok(two.post("/__admin/reset"))

    assert ok(two.get("/__admin/clock")) == {"now": NOW, "frozen": True}


def test_reset_of_a_real_time_scenario_puts_the_clock_back_to_the_real_time(client: httpx.Client) -> None:
    real_time = INLINE_SCENARIO.replace('  start: "2030-05-05T12:00:00+02:00"\n  frozen: true\n', "  frozen: true\n")
    ok(client.post("/__admin/scenario", json={"yaml": real_time}))
    move_clock(client, advance=10 * 86_400)

    ok(client.post("/__admin/reset"))

    now = datetime.fromisoformat(ok(client.get("/__admin/clock"))["now"])
    assert abs((now - datetime.now(UTC)).total_seconds()) < 60


def test_reset_clears_runtime_faults(client: httpx.Client) -> None:
    ok(client.post("/__admin/faults", json={"match": {"path": "/api/v2/users"}, "respond": {"status": 503}}), 201)

    ok(client.post("/__admin/reset"))

    assert ok(client.get("/__admin/faults")) == {"faults": []}
    assert client.get("/api/v2/users").status_code == 401


def test_reset_brings_the_scenario_faults_back_with_fresh_counters() -> None:
    with emulator(scenario="flaky-token-endpoint") as client:
        statuses = [client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS).status_code for _ in range(3)]
        ok(client.post("/__admin/reset"))
        again = [client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS).status_code for _ in range(3)]
    assert statuses == again == [503, 503, 200]


def test_reset_empties_the_journal(client: httpx.Client) -> None:
    client_token(client)
    assert len(journal(client)) == 1

    ok(client.post("/__admin/reset"))

    assert journal(client) == []


def test_reset_keeps_the_journal_size() -> None:
    with emulator(journal_size=2) as client:
        ok(client.post("/__admin/reset"))
        for n in range(3):
            client.get("/api/v2/nothing", headers=rid(f"r{n}"))
        assert request_ids(client) == ["r2", "r1"]


def test_reset_keeps_a_scenario_loaded_at_run_time(client: httpx.Client) -> None:
    ok(client.post("/__admin/scenario", json={"yaml": INLINE_SCENARIO}))

    assert ok(client.post("/__admin/reset")) == {"reset": "all", "scenario": "inline"}
    assert ok(client.get("/__admin/clock")) == {"now": "2030-05-05T11:00:00.000+01:00", "frozen": True}


# reset of one mandator
def test_reset_of_one_mandator_resets_only_its_users_tokens_processes_and_journal(two: httpx.Client) -> None:
    made: dict[str, dict[str, str]] = {}
    for side, (client_id, secret) in CREDENTIALS.items():
        token = side_token(two, side)
        ok(
            two.post("/api/v2/users", json={"id": f"new-{side}", "password": f"new-{side}-pw"}, headers=bearer(token)),
            201,
        )
        user = "alice" if side == "a" else "bob"
        access = ok(login(two, side, user, f"{user}-password"))["access_token"]
        process = create_process(two, client_id, secret, f"ref-{side}")
        ok(two.post("/__admin/users/shared/lock", params={"mandator": f"mandator-{side}"}))
        made[side] = {"client": token, "access": access, "process": process}
    journal_b = journal(two, mandator="mandator-b")
    assert journal_b
    assert journal(two, mandator="mandator-a")

    assert ok(two.post("/__admin/reset", params={"mandator": "mandator-a"})) == {
        "reset": "mandator-a",
        "scenario": "two-mandators",
    }

    # mandator-a: back to the scenario
    assert journal(two, mandator="mandator-a") == []
    assert journal(two, mandator="mandator-b") == journal_b
    assert [p["clientId"] for p in state(two, "processes")] == ["client-b"]
    assert {t["mandatorId"] for t in state(two, "tokens")} == {"mandator-b"}
    assert [u["id"] for u in state(two, "users", mandator="mandator-a")] == ["alice", "shared"]
    assert_invalid_token(two.get("/api/v2/users", headers=bearer(made["a"]["access"])), made["a"]["access"])
    assert login(two, "a", "new-a", "new-a-pw").status_code == 400
    assert login(two, "a", "shared", "shared-password-a").status_code == 200
    assert two.get(f"/api/v1/processes/{made['a']['process']}").status_code == 404
    # mandator-b: untouched
    assert ok(two.get("/api/v2/users", headers=bearer(made["b"]["access"])))["id"] == "bob"
    assert login(two, "b", "new-b", "new-b-pw").status_code == 200
    assert login(two, "b", "shared", "shared-password-b").status_code == 423
    assert two.get(f"/api/v1/processes/{made['b']['process']}").status_code == 200
    assert ok(two.get("/api/v2/clientConfiguration", headers=bearer(made["b"]["client"])))


def test_reset_of_one_mandator_leaves_the_clock_alone(two: httpx.Client) -> None:
    move_clock(two, advance=60)

    ok(two.post("/__admin/reset", params={"mandator": "mandator-a"}))

    assert ok(two.get("/__admin/clock")) == {"now": "2026-01-01T09:01:00.000+01:00", "frozen": True}


def test_reset_of_an_unknown_mandator_is_404_and_changes_nothing(two: httpx.Client) -> None:
    access = ok(login(two, "a", "alice", "alice-password"))["access_token"]

    assert_unknown(two.post("/__admin/reset", params={"mandator": "mandator-z"}), "No mandator with id 'mandator-z'")

    assert ok(two.get("/api/v2/users", headers=bearer(access)))["id"] == "alice"


# clock
def test_clock_answers_now_and_frozen(client: httpx.Client) -> None:
    assert ok(client.get("/__admin/clock")) == {"now": NOW, "frozen": True}


@pytest.mark.parametrize(
    ("change", "now"),
    [
        ({"advance": 90}, "2026-01-01T09:01:30.000+01:00"),
        ({"advance": 0.25}, "2026-01-01T09:00:00.250+01:00"),
        ({"advance": -3600}, "2026-01-01T08:00:00.000+01:00"),
        ({"set": "2026-06-01T12:00:00Z"}, "2026-06-01T13:00:00.000+01:00"),
        ({"set": "2026-06-01T12:00:00"}, "2026-06-01T13:00:00.000+01:00"),
        ({"set": "2026-06-01T12:00:00.123+02:00"}, "2026-06-01T11:00:00.123+01:00"),
        ({"set": "2026-03-01T00:00:00+01:00", "advance": 60}, "2026-03-01T00:01:00.000+01:00"),
    ],
    ids=["advance", "advance-fraction", "advance-back", "set-z", "set-no-offset-is-utc", "set-offset", "set-advance"],
)
def test_clock_post_moves_the_clock_and_answers_the_new_time(
    client: httpx.Client, change: dict[str, Any], now: str
) -> None:
    assert move_clock(client, **change) == {"now": now, "frozen": True}
    assert ok(client.get("/__admin/clock")) == {"now": now, "frozen": True}


def test_clock_advances_add_up(client: httpx.Client) -> None:
    move_clock(client, advance=30)
    assert move_clock(client, advance=30) == {"now": "2026-01-01T09:01:00.000+01:00", "frozen": True}


def test_clock_runs_with_real_time_once_unfrozen_and_stands_once_frozen() -> None:
    real = [100.0]
    with emulator(clock=Clock(START, frozen=True, monotonic=lambda: real[0])) as client:
        assert move_clock(client, frozen=False) == {"now": NOW, "frozen": False}
        real[0] += 5
        assert ok(client.get("/__admin/clock")) == {"now": "2026-01-01T09:00:05.000+01:00", "frozen": False}
        assert move_clock(client, frozen=True) == {"now": "2026-01-01T09:00:05.000+01:00", "frozen": True}
        real[0] += 5
        assert ok(client.get("/__admin/clock")) == {"now": "2026-01-01T09:00:05.000+01:00", "frozen": True}


def test_clock_set_on_a_running_clock_runs_on_from_there() -> None:
    real = [0.0]
    with emulator(clock=Clock(START, monotonic=lambda: real[0])) as client:
        real[0] += 100
        move_clock(client, set="2026-02-01T00:00:00+01:00")
        real[0] += 2
        assert ok(client.get("/__admin/clock")) == {"now": "2026-02-01T00:00:02.000+01:00", "frozen": False}


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        ("{}", "BAD_REQUEST", GIVE_CLOCK),
        ('{"tick": 1}', "BAD_REQUEST", GIVE_CLOCK),
        ('{"advance": 60, "tick": 1}', "BAD_REQUEST", GIVE_CLOCK),
        ('{"advance": "60"}', "ILLEGAL_FIELD_VALUE", BAD_ADVANCE),
        ('{"advance": true}', "ILLEGAL_FIELD_VALUE", BAD_ADVANCE),
        ('{"advance": NaN}', "ILLEGAL_FIELD_VALUE", BAD_ADVANCE),
        ('{"advance": Infinity}', "ILLEGAL_FIELD_VALUE", BAD_ADVANCE),
        ('{"advance": 1e10}', "ILLEGAL_FIELD_VALUE", BAD_ADVANCE),
        ('{"advance": -2e9}', "ILLEGAL_FIELD_VALUE", CLOCK_RANGE),
        ('{"set": "tomorrow"}', "ILLEGAL_FIELD_VALUE", "'set' must be an RFC 3339 timestamp"),
        ('{"set": 20260101}', "ILLEGAL_FIELD_VALUE", "'set' must be an RFC 3339 timestamp"),
        ('{"set": "9999-12-31T23:59:59Z"}', "ILLEGAL_FIELD_VALUE", CLOCK_RANGE),
        ('{"set": "1969-12-31T23:59:59Z"}', "ILLEGAL_FIELD_VALUE", CLOCK_RANGE),
        ('{"set": "8999-12-31T23:00:00Z", "advance": 3600}', "ILLEGAL_FIELD_VALUE", CLOCK_RANGE),
        ('{"frozen": "yes"}', "ILLEGAL_FIELD_VALUE", "'frozen' must be a boolean"),
        ('{"set": "2026-06-01T00:00:00Z", "advance": "x"}', "ILLEGAL_FIELD_VALUE", BAD_ADVANCE),
        ('{"advance": 60, "frozen": 0}', "ILLEGAL_FIELD_VALUE", "'frozen' must be a boolean"),
        ("", "BAD_REQUEST", errors.MSG_BODY_MISSING),
        ("advance=60", "BAD_REQUEST", errors.MSG_MALFORMED_JSON),
        ("[60]", "BAD_REQUEST", errors.MSG_JSON_OBJECT),
    ],
    ids=[
        "empty-object",
        "unknown-key",
        "unknown-key-beside-known",
        "advance-string",
        "advance-boolean",
        "advance-nan",
        "advance-infinity",
        "advance-too-far",
        "advance-before-1970",
        "set-not-a-date",
        "set-number",
        "set-after-9000",
        "set-before-1970",
        "set-advance-after-9000",
        "frozen-string",
        "valid-set-bad-advance",
        "valid-advance-bad-frozen",
        "no-body",
        "form-body",
        "array",
    ],
)
def test_clock_post_refuses_bad_input_with_400_and_leaves_the_clock_alone(
    client: httpx.Client, content: str, code: str, message: str
) -> None:
    response = client.post("/__admin/clock", content=content, headers={"Content-Type": "application/json"})

    assert_error(response, 400, code, "TECHNICAL", message)
    assert ok(client.get("/__admin/clock")) == {"now": NOW, "frozen": True}


def test_clock_takes_json_without_a_content_type_as_curl_d_sends_it(client: httpx.Client) -> None:
    response = client.post("/__admin/clock", content='{"advance": 60}', headers={"Content-Type": "text/plain"})
    assert ok(response) == {"now": "2026-01-01T09:01:00.000+01:00", "frozen": True}


def test_token_expiry_follows_the_clock(client: httpx.Client) -> None:
    tokens = user_tokens(client)
    headers = bearer(tokens["access_token"])

    move_clock(client, advance=3599)
    assert client.get("/api/v2/users", headers=headers).status_code == 200
    assert [t["expiresIn"] for t in state(client, "tokens")] == [1, 1]

    move_clock(client, advance=1)
    assert_invalid_token(client.get("/api/v2/users", headers=headers), tokens["access_token"])
    refresh = {**CLIENT_CREDENTIALS, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    refused = client.post(TOKEN_PATH[2], data=refresh)
    assert (refused.status_code, refused.json()["errors"][0]["message"]) == (400, errors.MSG_BAD_REFRESH)
    assert state(client, "tokens") == []


def test_a_clock_set_past_the_lifetime_expires_tokens_too(client: httpx.Client) -> None:
    access = client_token(client)
    move_clock(client, set="2026-01-01T10:00:00+01:00")
    assert_invalid_token(client.get("/api/v2/clientConfiguration", headers=bearer(access)), access)


@pytest.mark.parametrize(
    ("path", "date"),
    [("/api/v2/nothing", "2026-07-15T10:20:30.456+01:00"), ("/api/v1/nothing", "2026-07-15 10:20:30.456")],
)
def test_error_dates_and_journal_times_follow_the_clock(client: httpx.Client, path: str, date: str) -> None:
    move_clock(client, set="2026-07-15T10:20:30.456+01:00")

    response = client.get(path)

    assert (response.status_code, response.json()["date"]) == (404, date)
    assert journal(client)[0]["time"] == "2026-07-15T10:20:30.456+01:00"


def test_journal_times_are_the_clock_when_each_request_ended_however_it_moved_since() -> None:
    real = [0.0]  # the clock's real-time source: it also times the requests
    with emulator(clock=Clock(START, monotonic=lambda: real[0])) as client:
        for at in (2.0, 7.5):
            real[0] = at
            assert client.get("/api/v2/nothing").status_code == 404
        move_clock(client, advance=3600)
        real[0] = 100.0
        entries = ok(client.get("/__admin/requests"))["requests"]
    assert [(e["time"], e["durationMs"]) for e in entries] == [
        ("2026-01-01T09:00:07.500+01:00", 0.0),
        ("2026-01-01T09:00:02.000+01:00", 0.0),
    ]


def test_admin_error_dates_follow_the_clock(client: httpx.Client) -> None:
    move_clock(client, advance=86_400)
    response = client.post("/__admin/clock", json={"advance": "x"})
    assert_error(response, 400, "ILLEGAL_FIELD_VALUE", "TECHNICAL", BAD_ADVANCE, "2026-01-02T09:00:00.000+01:00")


# journal
def test_journal_lists_requests_newest_first_with_their_masked_details(client: httpx.Client) -> None:
    access = ok(client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS, headers=rid("first")))["access_token"]
    client.get("/api/v2/clientConfiguration", headers={**bearer(access), **rid("second")})
    client.get("/api/v1/nothing", params={"q": "1"}, headers=rid("third"))

    assert journal(client) == [
        {
            "time": NOW,
            "method": "GET",
            "path": "/api/v1/nothing",
            "query": {"q": "1"},
            "status": 404,
            "requestId": "third",
            "clientId": None,
            "mandatorId": None,
            "fault": None,
            "authorization": None,
            "body": None,
        },
        {
            "time": NOW,
            "method": "GET",
            "path": "/api/v2/clientConfiguration",
            "query": {},
            "status": 200,
            "requestId": "second",
            "clientId": CLIENT_ID,
            "mandatorId": MANDATOR,
            "fault": None,
            "authorization": f"Bearer {masked(access)}",
            "body": None,
        },
        {
            "time": NOW,
            "method": "POST",
            "path": "/api/v2/oauth/token",
            "query": {},
            "status": 200,
            "requestId": "first",
            "clientId": CLIENT_ID,
            "mandatorId": MANDATOR,
            "fault": None,
            "authorization": None,
            "body": {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": "***"},
        },
    ]


@pytest.fixture
def filled(client: httpx.Client) -> httpx.Client:
    """A journal of six requests of every kind the filters tell apart (oldest first: cc … faulted)."""
    ok(
        client.post(
            "/__admin/faults", json={"name": "boom", "match": {"path": "/api/v2/users"}, "respond": {"status": 503}}
        ),
        201,
    )
    access = ok(client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS, headers=rid("cc")))["access_token"]
    client.post(TOKEN_PATH[2], data=password_grant("username", "wrong"), headers=rid("bad-password"))
    client.get("/api/v2/clientConfiguration", headers={**bearer(access), **rid("config")})
    client.get("/api/v1/clientConfiguration", headers={**bearer(access), **rid("v1-config")})
    client.get("/api/v2/nothing", headers=rid("unknown"))
    client.get("/api/v2/users", headers=rid("faulted"))
    return client


ALL = ["faulted", "unknown", "v1-config", "config", "bad-password", "cc"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ALL),
        ({"method": "GET"}, ["faulted", "unknown", "v1-config", "config"]),
        ({"method": "post"}, ["bad-password", "cc"]),
        ({"path": "/api/v2/clientConfiguration"}, ["config"]),
        ({"path": "/api/v2"}, []),
        ({"path": "/api/*/clientConfiguration"}, ["v1-config", "config"]),
        ({"path": "/api/v?/*"}, ALL),
        ({"path": "*/oauth/token"}, ["bad-password", "cc"]),
        ({"status": "404"}, ["unknown"]),
        ({"status": "200", "method": "POST"}, ["cc"]),
        ({"clientId": CLIENT_ID}, ["v1-config", "config", "bad-password", "cc"]),
        ({"clientId": "someone-else"}, []),
        ({"mandator": MANDATOR}, ["v1-config", "config", "bad-password", "cc"]),
        ({"fault": "boom"}, ["faulted"]),
        ({"limit": "2"}, ["faulted", "unknown"]),
        ({"limit": "1", "method": "POST"}, ["bad-password"]),
        ({"limit": "0"}, []),
        ({"limit": "100"}, ALL),
    ],
    ids=[
        "all",
        "method",
        "method-lower-case",
        "path-exact",
        "path-exact-is-no-prefix",
        "path-glob",
        "path-glob-question-mark",
        "path-glob-both-versions",
        "status",
        "status-and-method",
        "client",
        "other-client",
        "mandator",
        "fault",
        "limit",
        "limit-after-filter",
        "limit-zero",
        "limit-beyond",
    ],
)
def test_journal_filters_select_the_matching_requests(
    filled: httpx.Client, params: dict[str, str], expected: list[str]
) -> None:
    assert request_ids(filled, **params) == expected


def test_journal_records_the_fault_that_answered(filled: httpx.Client) -> None:
    entry = journal(filled, fault="boom")[0]
    assert (entry["path"], entry["status"], entry["fault"]) == ("/api/v2/users", 503, "boom")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("clientid=x", "Unknown matcher field 'clientid' (allowed: method, path, status, clientId, mandator, fault)"),
        ("status=ok", "'status' must be an HTTP status code"),
        ("status=²", "'status' must be an HTTP status code"),
        ("limit=-1", "'limit' must be a non-negative integer"),
        ("limit=1.5", "'limit' must be a non-negative integer"),
        ("limit=²", "'limit' must be a non-negative integer"),
    ],
)
def test_journal_refuses_bad_filters_with_400(client: httpx.Client, query: str, message: str) -> None:
    assert_illegal(client.get(f"/__admin/requests?{query}"), message)


@pytest.mark.parametrize(
    ("matcher", "count"),
    [
        ({}, 6),
        ({"path": "/api/*/clientConfiguration"}, 2),
        ({"status": 404}, 1),
        ({"status": "503", "fault": "boom"}, 1),
        ({"method": "POST", "clientId": CLIENT_ID, "mandator": MANDATOR}, 2),
        ({"method": "DELETE"}, 0),
    ],
    ids=["everything", "glob", "status-number", "status-string", "several", "none"],
)
def test_requests_count_counts_what_the_matcher_selects(
    filled: httpx.Client, matcher: dict[str, Any], count: int
) -> None:
    assert ok(filled.post("/__admin/requests/count", json=matcher)) == {"count": count}


def test_requests_count_without_a_body_counts_everything(filled: httpx.Client) -> None:
    assert ok(filled.post("/__admin/requests/count")) == {"count": 6}


@pytest.mark.parametrize(
    ("matcher", "message"),
    [
        ({"limit": 1}, "Unknown matcher field 'limit' (allowed: method, path, status, clientId, mandator, fault)"),
        ({"status": True}, "'status' must be an HTTP status code"),
        ({"status": 200.5}, "'status' must be an HTTP status code"),
        ({"path": ["/api/v2/users"]}, "method, path, clientId, mandator and fault must be strings"),
    ],
)
def test_requests_count_refuses_a_bad_matcher_with_400(
    client: httpx.Client, matcher: dict[str, Any], message: str
) -> None:
    assert_illegal(client.post("/__admin/requests/count", json=matcher), message)


def test_delete_requests_clears_the_journal(filled: httpx.Client) -> None:
    assert ok(filled.delete("/__admin/requests")) == {"deleted": 6}
    assert journal(filled) == []
    assert ok(filled.delete("/__admin/requests")) == {"deleted": 0}


def test_delete_requests_with_a_filter_clears_only_the_matching_entries(filled: httpx.Client) -> None:
    assert ok(filled.delete("/__admin/requests", params={"path": "*/clientConfiguration"})) == {"deleted": 2}
    assert request_ids(filled) == ["faulted", "unknown", "bad-password", "cc"]


def test_journal_records_again_after_a_delete(filled: httpx.Client) -> None:
    ok(filled.delete("/__admin/requests"))
    filled.get("/api/v2/nothing", headers=rid("after"))
    assert request_ids(filled) == ["after"]


def test_journal_is_a_ring_buffer_of_journal_size_entries() -> None:
    with emulator(journal_size=3) as client:
        for n in range(5):
            client.get("/api/v2/nothing", headers=rid(f"r{n}"))
        assert request_ids(client) == ["r4", "r3", "r2"]
        assert ok(client.post("/__admin/requests/count")) == {"count": 3}


def test_journal_size_zero_records_nothing() -> None:
    with emulator(journal_size=0) as client:
        client.get("/api/v2/nothing")
        assert journal(client) == []


def test_admin_calls_are_not_journaled(client: httpx.Client) -> None:
    for method, path, _ in GUARDED:
        client.request(method, path)
    client.get("/__admin/health")
    client.get("/__admin/nothing")
    client.post("/__admin/clock", json={"advance": 1})

    assert journal(client) == []


# masking
ALICE_PASSWORD = "Alice-Pa55word!"
NEW_PASSWORD = "Brand-New-Pa55word?"


def test_journal_and_state_views_hold_no_password_client_secret_or_full_token(
    app: Starlette, client: httpx.Client
) -> None:
    secrets = {"client secret": CLIENT_SECRET, "password": ALICE_PASSWORD, "new password": NEW_PASSWORD}
    # client credentials, then a user created with a password
    ct = client_token(client)
    secrets["client token"] = ct
    body = {"id": "alice", "password": ALICE_PASSWORD, "email": "alice@example.de"}
    ok(client.post("/api/v2/users", json=body, headers=bearer(ct)), 201)
    # password change: the token comes back in a response and goes out in the next request
    requested = ok(client.post("/api/v2/users/requestPasswordChange", json={"userId": "alice"}, headers=bearer(ct)))
    secrets["password change token"] = requested["passwordChangeToken"]
    change = {"userId": "alice", "password": NEW_PASSWORD, "passwordChangeToken": requested["passwordChangeToken"]}
    assert client.post("/api/v2/users/executePasswordChange", json=change, headers=bearer(ct)).status_code == 200
    # password grant, refresh, a v1 password grant in the query string and client credentials over HTTP Basic
    grant = ok(client.post(TOKEN_PATH[2], data=password_grant("alice", NEW_PASSWORD)))
    secrets |= {"access token": grant["access_token"], "refresh token": grant["refresh_token"]}
    refresh = {**CLIENT_CREDENTIALS, "grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}
    secrets["refreshed access token"] = ok(client.post(TOKEN_PATH[2], data=refresh))["access_token"]
    v1 = ok(client.post(TOKEN_PATH[1], params=password_grant("alice", NEW_PASSWORD)))
    secrets |= {"v1 access token": v1["access_token"], "v1 refresh token": v1["refresh_token"]}
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    secrets["basic credentials"] = basic
    ok(
        client.post(
            TOKEN_PATH[2], data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
        )
    )
    assert ok(client.get("/api/v2/users", headers=bearer(secrets["refreshed access token"])))["id"] == "alice"
    # a process and its exchange (the token is in the path), and the exchanged token in use
    process_token = create_process(client, CLIENT_ID, CLIENT_SECRET, "ref-1")
    secrets["process token"] = process_token
    secrets["exchanged token"] = ok(client.get(f"/api/v1/processes/{process_token}"))["accessToken"]
    assert client.get("/api/v2/users", headers=bearer(secrets["exchanged token"])).status_code == 200
    # what the store holds besides: every password and secret of the world (but finAPI's "password" user, whose
    # password is also a field name), every live token, every process token
    world = app.state.world
    for m in world.store.mandators.values():
        secrets |= {f"password of {u.id}": u.password for u in m.users.values() if u.id != "username"}
    secrets |= {f"token {n}": value for n, value in enumerate(world.store.tokens)}
    views = {view: client.get(f"/__admin/state/{view}").text for view in ("users", "tokens", "processes")}
    assert len(state(client, "tokens")) == 4  # client, refreshed user access and its refresh, exchanged
    # revocation: the token to revoke in the form body (v2) and in the query string (v1)
    assert (
        client.post("/api/v2/oauth/revoke", data={"token": grant["refresh_token"]}, headers=bearer(ct)).status_code
        == 200
    )
    revoke_query = {"token": secrets["exchanged token"], "token_type_hint": "access_token"}
    assert (
        client.post(TOKEN_PATH[1].replace("token", "revoke"), params=revoke_query, headers=bearer(ct)).status_code
        == 200
    )
    views["requests"] = client.get("/__admin/requests").text

    for view, text in views.items():
        leaked = [name for name, secret in secrets.items() if secret in text]
        assert leaked == [], f"{view} shows {leaked}"
    # … while the journal still tells QA what was sent
    by_path = {entry["path"]: entry for entry in reversed(journal(client))}  # the newest of each path
    assert by_path["/api/v2/users/executePasswordChange"]["body"] == {
        "userId": "alice",
        "password": "***",
        "passwordChangeToken": masked(requested["passwordChangeToken"]),
    }
    assert by_path["/oauth/token"]["query"] == {**password_grant("alice", "***"), "client_secret": "***"}
    assert by_path["/oauth/revoke"]["query"] == {
        "token": masked(secrets["exchanged token"]),
        "token_type_hint": "access_token",
    }
    assert f"/api/v1/processes/{masked(process_token)}" in by_path
    assert journal(client, path="/api/v1/processes")[0]["body"]["clientSecret"] == "***"
    basic_entry = journal(client, path="/api/v2/oauth/token")
    assert [e["authorization"] for e in basic_entry].count("Basic ***") == 1


def test_journal_masks_secrets_under_any_key_spelling_and_depth(client: httpx.Client) -> None:
    body = {
        "id": "visible",
        "oldPassword": "old-secret-1",
        "newPassword": "new-secret-2",
        "nested": {"clientSecret": "nested-secret-3", "note": "visible"},
        "list": [{"refresh_token": "abcdefgh-refresh"}, "visible"],
        "accessToken": ["list-held-token"],
        "processToken": 12345678,
        "password": None,
    }
    # the process endpoint reads any JSON body before it refuses it, so the journal holds all of it
    client.post("/api/v1/processes", json=body, headers={"Authorization": "bare-token-without-scheme"})

    [entry] = journal(client)
    assert entry["body"] == {
        "id": "visible",
        "oldPassword": "***",
        "newPassword": "***",
        "nested": {"clientSecret": "***", "note": "visible"},
        "list": [{"refresh_token": "abcd…"}, "visible"],
        "accessToken": "***",
        "processToken": "***",
        "password": None,
    }
    assert entry["authorization"] == "bare…"


PROCESS_TOKEN = "3f1c6a52-8d0e-4b7a-9c1d-2e5f6a7b8c9d"


@pytest.mark.parametrize(
    ("method", "path", "journaled"),
    [
        ("GET", f"/api/v1/processes/{PROCESS_TOKEN}", "/api/v1/processes/3f1c…"),
        ("GET", f"/api/v1/processes/{PROCESS_TOKEN}/", "/api/v1/processes/3f1c…/"),
        ("GET", f"/api/v1/processes/{PROCESS_TOKEN}/exchange", "/api/v1/processes/3f1c…/exchange"),
        ("POST", f"/api/v1/processes/{MANDATOR}/link", f"/api/v1/processes/{MANDATOR}/link"),
        ("POST", "/api/v1/processes", "/api/v1/processes"),
    ],
    ids=["exchange", "trailing-slash", "mistaken-suffix", "link-keeps-the-mandator", "create"],
)
def test_journal_masks_process_tokens_in_paths_but_not_mandator_ids(
    client: httpx.Client, method: str, path: str, journaled: str
) -> None:
    client.request(method, path)
    assert [entry["path"] for entry in journal(client)] == [journaled]


def test_journal_shows_the_masked_body_of_a_request_refused_before_its_handler_read_it(client: httpx.Client) -> None:
    body = {"id": "alice", "password": ALICE_PASSWORD, "email": "alice@example.de"}
    assert client.post("/api/v2/users", json=body).status_code == 401  # no bearer token: refused at once

    [entry] = journal(client)
    assert (entry["status"], entry["body"]) == (401, {"id": "alice", "password": "***", "email": "alice@example.de"})


def test_journal_shows_the_first_of_repeated_form_fields_as_the_token_endpoint_takes_it(client: httpx.Client) -> None:
    form = f"grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}&client_id=other"
    ok(client.post(TOKEN_PATH[2], content=form, headers={"Content-Type": "application/x-www-form-urlencoded"}))

    [entry] = journal(client)
    assert (entry["clientId"], entry["body"]["client_id"]) == (CLIENT_ID, CLIENT_ID)


def test_request_log_masks_tokens_in_admin_and_process_paths(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(request_log, "INTERVAL", 3600.0)  # all but the first line are written when the client closes
    with emulator(request_log="text") as client:
        access = client_token(client)
        ok(client.post(f"/__admin/tokens/{access}/expire"))
        process_token = create_process(client, CLIENT_ID, CLIENT_SECRET, "ref")
        client.get(f"/api/v1/processes/{process_token}")
    out = capsys.readouterr().out
    assert f"POST /__admin/tokens/{masked(access)}/expire 200" in out
    assert f"GET /api/v1/processes/{masked(process_token)} 200" in out
    assert access not in out
    assert process_token not in out


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
            "expiresIn": 3600,
        },
        {
            "token": masked(tokens["refresh_token"]),
            "type": "refresh",
            "clientId": "client-a",
            "mandatorId": "mandator-a",
            "userId": "alice",
            "expiresIn": 7200,
        },
        {
            "token": masked(client_b),
            "type": "access",
            "clientId": "client-b",
            "mandatorId": "mandator-b",
            "userId": None,
            "expiresIn": 3600,
        },
    ]
    move_clock(two, advance=3600)
    assert [(t["type"], t["expiresIn"]) for t in state(two, "tokens")] == [("refresh", 3600)]


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


# scenario swap
def test_scenario_by_name_is_served_from_the_next_request_on(client: httpx.Client) -> None:
    ok(
        client.post(
            "/api/v2/users", json={"id": "alice", "password": "alice-pw"}, headers=bearer(client_token(client))
        ),
        201,
    )

    assert ok(client.post("/__admin/scenario", json={"name": "expiring-tokens"})) == {
        "status": "ok",
        "scenario": "expiring-tokens",
    }

    assert ok(client.get("/__admin/health")) == {"status": "ok", "scenario": "expiring-tokens"}
    assert ok(client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS))["expires_in"] == 60
    assert client.post(TOKEN_PATH[2], data=password_grant("alice", "alice-pw")).status_code == 400


def test_scenario_from_yaml_is_served_with_its_clients_users_and_clock(client: httpx.Client) -> None:
    assert ok(client.post("/__admin/scenario", json={"yaml": INLINE_SCENARIO})) == {
        "status": "ok",
        "scenario": "inline",
    }

    data = {"grant_type": "password", "client_id": "inline-client", "client_secret": "inline-secret"}
    assert (
        client.post(TOKEN_PATH[2], data={**data, "username": "carol", "password": "carol-password"}).status_code == 200
    )
    assert client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS).status_code == 401
    assert ok(client.get("/__admin/clock")) == {"now": "2030-05-05T11:00:00.000+01:00", "frozen": True}


@pytest.mark.parametrize("absolute", [False, True], ids=["relative", "absolute"])
def test_scenario_from_a_path_in_a_scenario_dir_is_served(tmp_path: Path, absolute: bool) -> None:
    (tmp_path / "custom.yaml").write_text(INLINE_SCENARIO, encoding="utf-8")
    path = str(tmp_path / "custom.yaml") if absolute else "custom.yaml"
    with emulator(scenario_dirs=(str(tmp_path),)) as client:
        assert ok(client.post("/__admin/scenario", json={"path": path})) == {"status": "ok", "scenario": "inline"}
        assert ok(client.get("/__admin/health"))["scenario"] == "inline"


def test_scenario_from_a_path_next_to_the_served_scenario_is_allowed(client: httpx.Client) -> None:
    two_mandators = Path(TWO_MANDATORS)
    with emulator(scenario=str(two_mandators.parent / "manual_verification.yaml")) as other:
        response = other.post("/__admin/scenario", json={"path": str(two_mandators)})
        assert ok(response) == {"status": "ok", "scenario": "two-mandators"}


def test_a_bad_scenario_is_refused_with_file_and_line_and_the_old_one_keeps_serving(client: httpx.Client) -> None:
    ct = client_token(client)
    broken = INLINE_SCENARIO.replace("    client_secret: inline-secret", "    client_secrett: inline-secret")

    response = client.post("/__admin/scenario", json={"yaml": broken})

    assert_bad_request(
        response,
        "<admin>:8: clients[0].client_secrett: unknown key (did you mean 'client_secret'? "
        "allowed: client_id, client_secret, role, mandator_id, config)",
    )
    assert ok(client.get("/__admin/health")) == {"status": "ok", "scenario": "default"}
    assert client.get("/api/v2/clientConfiguration", headers=bearer(ct)).status_code == 200


def test_a_bad_yaml_syntax_is_refused_with_its_line(client: httpx.Client) -> None:
    response = client.post("/__admin/scenario", json={"yaml": "name: x\nclients: [\n"})

    message = response.json()["errors"][0]["message"]
    assert message.startswith("<admin>:3: ")
    assert_bad_request(response, message)
    assert ok(client.get("/__admin/health"))["scenario"] == "default"


@pytest.mark.parametrize("value", ["a\u0000b.yaml", "x" * 5000], ids=["nul-byte", "name-too-long"])
def test_scenario_paths_the_file_system_cannot_take_are_refused_with_400(tmp_path: Path, value: str) -> None:
    with emulator(scenario_dirs=(str(tmp_path),)) as client:
        response = client.post("/__admin/scenario", json={"path": value})
        assert_bad_request(response, f"'{value}' is not a usable file path")


def test_a_bad_scenario_file_is_refused_naming_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(INLINE_SCENARIO.replace("seed: 5", "seed: five"), encoding="utf-8")
    with emulator(scenario_dirs=(str(tmp_path),)) as client:
        response = client.post("/__admin/scenario", json={"path": str(bad)})
        assert_bad_request(response, f"{bad}:2: seed: must be an integer, not a string")
        assert ok(client.get("/__admin/health"))["scenario"] == "default"


def test_scenario_paths_outside_the_scenario_dirs_are_refused(tmp_path: Path) -> None:
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    (outside / "valid.yaml").write_text(INLINE_SCENARIO, encoding="utf-8")
    (allowed / "link.yaml").symlink_to(outside / "valid.yaml")
    refused = ["../../etc/passwd", "/etc/passwd", "../outside/valid.yaml", str(outside / "valid.yaml"), "link.yaml", ""]
    with emulator(scenario_dirs=(str(allowed),)) as client:
        for value in refused:
            response = client.post("/__admin/scenario", json={"path": value})
            message = f"'{value}' is outside the scenario directories (add one with --scenario-dir)"
            assert_bad_request(response, message)
        assert ok(client.get("/__admin/health"))["scenario"] == "default"


def test_scenario_of_an_unknown_name_is_404(client: httpx.Client) -> None:
    assert_unknown(client.post("/__admin/scenario", json={"name": "nope"}), "No built-in scenario 'nope'")


def test_scenario_name_is_a_built_in_name_not_a_path(client: httpx.Client) -> None:
    assert_unknown(
        client.post("/__admin/scenario", json={"name": TWO_MANDATORS}), f"No built-in scenario '{TWO_MANDATORS}'"
    )


def test_scenario_of_a_missing_file_in_a_scenario_dir_is_404(tmp_path: Path) -> None:
    with emulator(scenario_dirs=(str(tmp_path),)) as client:
        assert_unknown(
            client.post("/__admin/scenario", json={"path": "missing.yaml"}), "No scenario file 'missing.yaml'"
        )


@pytest.mark.parametrize(
    "body",
    [{}, {"name": "default", "yaml": INLINE_SCENARIO}, {"name": 5}, {"file": "default"}],
    ids=["nothing", "two-sources", "not-a-string", "unknown-key"],
)
def test_scenario_needs_exactly_one_source(client: httpx.Client, body: dict[str, Any]) -> None:
    assert_bad_request(client.post("/__admin/scenario", json=body), GIVE_SCENARIO)


# faults
RULE = {
    "name": "users-down",
    "match": {"method": "get", "path": "/api/v2/users"},
    "times": 1,
    "respond": {"status": 503, "headers": {"Retry-After": "2"}},
}
RULE_VIEW = {
    "name": "users-down",
    "match": {"method": "GET", "path": "/api/v2/users"},
    "after": 0,
    "times": 1,
    "probability": 1.0,
    "delay_ms": 0,
    "respond": {"status": 503, "headers": {"Retry-After": "2"}, "body": None},
}


def test_add_fault_answers_201_with_the_rule_and_the_rule_fires(client: httpx.Client) -> None:
    assert ok(client.post("/__admin/faults", json=RULE), 201) == RULE_VIEW

    faulted = client.get("/api/v2/users")
    assert (faulted.status_code, faulted.headers["X-Mock-Fault"], faulted.headers["Retry-After"]) == (
        503,
        "users-down",
        "2",
    )
    assert client.get("/api/v2/users").status_code == 401  # times: 1

    assert ok(client.get("/__admin/faults")) == {"faults": [{**RULE_VIEW, "matched": 2, "fired": 1}]}


def test_list_faults_shows_the_scenario_rules() -> None:
    with emulator(scenario="flaky-token-endpoint") as client:
        client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS)
        assert ok(client.get("/__admin/faults")) == {
            "faults": [
                {
                    "name": "token-endpoint-unavailable",
                    "match": {"method": "POST", "path": "*/oauth/token"},
                    "after": 0,
                    "times": 2,
                    "probability": 1.0,
                    "delay_ms": 0,
                    "respond": {"status": 503, "headers": {"Retry-After": "1"}, "body": None},
                    "matched": 1,
                    "fired": 1,
                }
            ]
        }


def test_delete_faults_removes_every_rule_and_requests_heal(client: httpx.Client) -> None:
    ok(client.post("/__admin/faults", json={**RULE, "times": None}), 201)
    ok(client.post("/__admin/faults", json={"name": "slow", "delay_ms": 1}), 201)
    assert client.get("/api/v2/users").status_code == 503

    assert ok(client.delete("/__admin/faults")) == {"deleted": 2}

    assert ok(client.get("/__admin/faults")) == {"faults": []}
    healed = client.get("/api/v2/users")
    assert (healed.status_code, "X-Mock-Fault" in healed.headers) == (401, False)


def test_rules_without_a_name_get_the_first_free_admin_name(client: httpx.Client) -> None:
    action = {"delay_ms": 1}
    assert ok(client.post("/__admin/faults", json=action), 201)["name"] == "admin-1"
    assert ok(client.post("/__admin/faults", json={**action, "name": "admin-3"}), 201)["name"] == "admin-3"
    assert ok(client.post("/__admin/faults", json=action), 201)["name"] == "admin-4"
    assert ok(client.post("/__admin/faults", json={**action, "name": "admin-6"}), 201)["name"] == "admin-6"
    assert ok(client.post("/__admin/faults", json=action), 201)["name"] == "admin-5"
    assert ok(client.post("/__admin/faults", json=action), 201)["name"] == "admin-7"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"match": {"method": 5}, "delay_ms": 1}, "match.method: must be str"),
        ({"match": {"host": "x"}, "delay_ms": 1}, "match.host: unknown key (allowed: method, path, fields, client_id)"),
        ({"respond": {"status": 99}}, "respond.status: must be an HTTP status between 200 and 599"),
        ({"network": "meteor"}, "network: must be one of connection_reset, empty_response, malformed_json"),
        ({"delay_ms": -1}, "delay_ms: must be between 0 and 600000"),
        ({"probability": 2, "delay_ms": 1}, "probability: must be between 0 and 1"),
        ({"times": "twice", "delay_ms": 1}, "times: must be int"),
        (
            {"bogus": 1},
            "bogus: unknown key (allowed: name, match, after, times, probability, respond, delay_ms, network)",
        ),
        ({"name": "idle"}, "a rule needs an action: respond, delay_ms or network"),
    ],
    ids=["type", "unknown-match-key", "status", "network", "delay", "probability", "times", "unknown-key", "no-action"],
)
def test_add_fault_refuses_an_invalid_rule_with_400_naming_the_key(
    client: httpx.Client, rule: dict[str, Any], message: str
) -> None:
    assert_illegal(client.post("/__admin/faults", json=rule), message)
    assert ok(client.get("/__admin/faults")) == {"faults": []}


def test_add_fault_refuses_a_duplicate_name_with_400(client: httpx.Client) -> None:
    ok(client.post("/__admin/faults", json=RULE), 201)

    assert_illegal(client.post("/__admin/faults", json=RULE), "name: a rule named 'users-down' exists already")

    assert len(ok(client.get("/__admin/faults"))["faults"]) == 1


def test_add_fault_refuses_a_body_that_is_no_json_object(client: httpx.Client) -> None:
    assert_bad_request(client.post("/__admin/faults", json=[RULE]), errors.MSG_JSON_OBJECT)


# --no-admin and --admin-token
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
    assert client.request(method, path).status_code == status


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
        assert client.request(method, path, headers={"Authorization": "bearer t"}).status_code == status


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

"""`/__admin/clock`: reading and moving the virtual clock, and what follows it (expiry, dates)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_finapi import errors
from mock_finapi.clock import Clock
from tests.api.admin_helpers import NOW, assert_error, assert_invalid_token, emulator, journal, move_clock, ok, state
from tests.helpers import CLIENT_CREDENTIALS, TOKEN_PATH, bearer, client_token, user_tokens

GIVE_CLOCK = "give 'set' (RFC 3339), 'advance' (seconds) and/or 'frozen' (boolean)"
BAD_ADVANCE = "advance: must be a number of seconds between -1e+10 and 1e+10"
ADVANCE_NUMBER = "advance: must be a number, not "
CLOCK_RANGE = "the clock must stay between 1970 and 9000"
UNKNOWN_KEY = "tick: unknown key (allowed: set, advance, frozen)"


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
    with emulator(clock=Clock(real=lambda: real[0])) as client:
        assert move_clock(client, frozen=False) == {"now": NOW, "frozen": False}
        real[0] += 5
        assert ok(client.get("/__admin/clock")) == {"now": "2026-01-01T09:00:05.000+01:00", "frozen": False}
        assert move_clock(client, frozen=True) == {"now": "2026-01-01T09:00:05.000+01:00", "frozen": True}
        real[0] += 5
        assert ok(client.get("/__admin/clock")) == {"now": "2026-01-01T09:00:05.000+01:00", "frozen": True}


def test_clock_set_on_a_running_clock_runs_on_from_there() -> None:
    real = [0.0]
    with emulator(clock=Clock(real=lambda: real[0])) as client:
        assert move_clock(client, frozen=False) == {"now": NOW, "frozen": False}
        real[0] += 100
        move_clock(client, set="2026-02-01T00:00:00+01:00")
        real[0] += 2
        assert ok(client.get("/__admin/clock")) == {"now": "2026-02-01T00:00:02.000+01:00", "frozen": False}


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        ("{}", "ILLEGAL_FIELD_VALUE", GIVE_CLOCK),
        ('{"tick": 1}', "ILLEGAL_FIELD_VALUE", UNKNOWN_KEY),
        ('{"advance": 60, "tick": 1}', "ILLEGAL_FIELD_VALUE", UNKNOWN_KEY),
        ('{"advance": "60"}', "ILLEGAL_FIELD_VALUE", ADVANCE_NUMBER + "a string"),
        ('{"advance": true}', "ILLEGAL_FIELD_VALUE", ADVANCE_NUMBER + "a boolean"),
        ('{"advance": NaN}', "BAD_REQUEST", errors.MSG_MALFORMED_JSON),  # not JSON (RFC 8259)
        ('{"advance": Infinity}', "BAD_REQUEST", errors.MSG_MALFORMED_JSON),
        ('{"advance": 1e10}', "ILLEGAL_FIELD_VALUE", BAD_ADVANCE),
        ('{"advance": -2e9}', "ILLEGAL_FIELD_VALUE", CLOCK_RANGE),
        ('{"set": "tomorrow"}', "ILLEGAL_FIELD_VALUE", "set: must be an RFC 3339 timestamp"),
        ('{"set": 20260101}', "ILLEGAL_FIELD_VALUE", "set: must be a string, not an integer"),
        ('{"set": "9999-12-31T23:59:59Z"}', "ILLEGAL_FIELD_VALUE", CLOCK_RANGE),
        ('{"set": "1969-12-31T23:59:59Z"}', "ILLEGAL_FIELD_VALUE", CLOCK_RANGE),
        ('{"set": "8999-12-31T23:00:00Z", "advance": 3600}', "ILLEGAL_FIELD_VALUE", CLOCK_RANGE),
        ('{"frozen": "yes"}', "ILLEGAL_FIELD_VALUE", "frozen: must be a boolean, not a string"),
        ('{"set": "2026-06-01T00:00:00Z", "advance": "x"}', "ILLEGAL_FIELD_VALUE", ADVANCE_NUMBER + "a string"),
        ('{"advance": 60, "frozen": 0}', "ILLEGAL_FIELD_VALUE", "frozen: must be a boolean, not an integer"),
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

    move_clock(client, advance=3598)
    assert [t["expiresIn"] for t in state(client, "tokens")] == [1, 1]
    move_clock(client, advance=1)
    assert client.get("/api/v2/users", headers=headers).status_code == 200
    assert [t["expiresIn"] for t in state(client, "tokens")] == [0, 0]  # live, in their last second

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
    with emulator(clock=Clock(real=lambda: real[0])) as client:
        move_clock(client, frozen=False)  # runs from the start (admin calls are not journaled)
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
    message = ADVANCE_NUMBER + "a string"
    assert_error(response, 400, "ILLEGAL_FIELD_VALUE", "TECHNICAL", message, "2026-01-02T09:00:00.000+01:00")

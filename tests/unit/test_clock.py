"""The virtual clock: a pure, immutable state (`ClockState`) read against a real-time source (`Clock`), moved by
tests and the admin API, never waited for."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from mock_finapi.clock import (
    EARLIEST,
    FINAPI_TZ,
    LATEST,
    Clock,
    ClockMove,
    ClockState,
    format_v1,
    format_v2,
    parse_day,
    parse_rfc3339,
    starting,
    to_datetime,
)
from mock_finapi.services import clock_moves
from mock_finapi.state.memory import MemoryStore
from mock_finapi.validation import Invalid
from tests.helpers import START

pytestmark = pytest.mark.anyio

REAL = 1000.0
"""A reading of the real-time source."""
S = START.timestamp()
BOTH = pytest.mark.parametrize("frozen", [True, False], ids=["frozen", "running"])


def test_frozen_clock_stands_still_while_real_time_passes() -> None:
    state = starting(START, True, REAL)
    assert state.frozen
    assert state.time(REAL) == state.time(REAL + 3600) == S
    assert to_datetime(state.time(REAL + 3600)) == START


def test_running_clock_follows_real_time_from_its_start() -> None:
    state = starting(START, False, REAL)
    assert not state.frozen
    assert (state.time(REAL), state.time(REAL + 2.5)) == (S, S + 2.5)


@BOTH
def test_clock_without_start_begins_at_the_real_time(frozen: bool) -> None:
    state = starting(None, frozen, REAL)
    assert state.time(REAL) == REAL
    assert state.time(REAL + 10) == REAL + (0 if frozen else 10)


def test_a_fresh_state_runs_with_the_real_time() -> None:
    assert ClockState() == ClockState(0.0, None)
    assert ClockState().time(REAL) == REAL


@BOTH
def test_a_kept_state_and_reading_give_the_time_the_clock_answered_then(frozen: bool) -> None:
    state = starting(START, frozen, REAL).advance(60, REAL)
    reading = REAL + 2.5
    then = state.time(reading)
    moved = state.advance(3600, reading + 10)
    assert state.time(reading) == then == S + (60 if frozen else 62.5)
    assert moved.time(reading + 10) == then + 3600 + (0 if frozen else 10)


@BOTH
def test_advance_moves_the_clock_forward_without_waiting(frozen: bool) -> None:
    state = starting(START, frozen, REAL).advance(3599.5, REAL)
    assert state.time(REAL) == S + 3599.5
    state = state.advance(-0.5, REAL)
    assert state.time(REAL) == S + 3599
    assert state.frozen is frozen


@BOTH
def test_set_jumps_to_the_given_moment_and_keeps_the_frozen_state(frozen: bool) -> None:
    target = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
    state = starting(START, frozen, REAL).set(target.timestamp(), REAL + 50)
    assert to_datetime(state.time(REAL + 50)) == target
    assert state.time(REAL + 60) == target.timestamp() + (0 if frozen else 10)
    assert state.frozen is frozen


def test_freeze_stops_the_clock_where_it_stands_and_unfreeze_runs_on_from_there() -> None:
    state = starting(START, False, REAL).freeze(True, REAL + 5)
    assert state.frozen
    assert state.time(REAL + 105) == S + 5
    state = state.freeze(False, REAL + 105)
    assert not state.frozen
    assert state.time(REAL + 106) == S + 6


def test_freezing_a_frozen_clock_changes_nothing() -> None:
    state = starting(START, True, REAL)
    assert state.freeze(True, REAL + 100) == state
    assert state.time(REAL + 100) == S


def test_unfreezing_a_running_clock_changes_nothing() -> None:
    state = starting(START, False, REAL)
    assert state.freeze(False, REAL + 100).time(REAL + 200) == state.time(REAL + 200)


@BOTH
def test_moves_answer_new_states_and_leave_the_old_one_as_it_was(frozen: bool) -> None:
    state = starting(START, frozen, REAL)
    before = tuple(state)
    state.advance(60, REAL)
    state.set(0.0, REAL)
    state.freeze(not frozen, REAL)
    assert tuple(state) == before
    assert state.time(REAL) == S


@pytest.mark.parametrize(
    ("move", "expected"),
    [
        (ClockMove(), (S, False)),
        (ClockMove(set=S + 600), (S + 600, False)),
        (ClockMove(advance=-30), (S - 30, False)),
        (ClockMove(frozen=True), (S, True)),
        (ClockMove(set=S + 600, advance=60), (S + 660, False)),  # set, then advance
        (ClockMove(set=S + 600, advance=60, frozen=True), (S + 660, True)),
    ],
)
def test_a_clock_move_applies_set_then_advance_then_frozen(move: ClockMove, expected: tuple[float, bool]) -> None:
    state = move.apply(starting(START, False, REAL), REAL)
    assert (state.time(REAL), state.frozen) == expected


def test_the_clock_reads_a_state_against_its_real_time_source() -> None:
    readings = iter([REAL, REAL + 2.5])
    clock = Clock(lambda: next(readings))
    state = starting(START, False, REAL)
    assert (clock.now(state), clock.now(state)) == (S, S + 2.5)


def test_the_default_real_time_source_is_the_hosts() -> None:
    before = time.time()
    reading = Clock().real()
    assert before <= reading <= time.time()


def test_times_are_shown_in_finapi_time_zone() -> None:
    now = to_datetime(datetime(2026, 1, 1, 8, 0, tzinfo=UTC).timestamp())
    assert now.utcoffset() == timedelta(hours=1)
    assert (now.hour, now.tzinfo) == (9, FINAPI_TZ)


# moving the clock through the admin API's rules (services/clock_moves.py)
@pytest.mark.parametrize(
    ("params", "move"),
    [
        ({"set": "2030-06-01T12:00:00Z"}, ClockMove(set=datetime(2030, 6, 1, 12, tzinfo=UTC).timestamp())),
        ({"advance": 90}, ClockMove(advance=90)),
        ({"advance": -0.5}, ClockMove(advance=-0.5)),
        ({"frozen": False}, ClockMove(frozen=False)),
        ({"advance": 60, "frozen": True, "set": None}, ClockMove(advance=60, frozen=True)),
    ],
)
def test_parse_move_reads_set_advance_and_frozen(params: dict[str, Any], move: ClockMove) -> None:
    assert clock_moves.parse_move(params) == move


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "give 'set' (RFC 3339), 'advance' (seconds) and/or 'frozen' (boolean)"),
        ({"advance": "60"}, "advance: must be a number, not a string"),
        ({"advance": True}, "advance: must be a number, not a boolean"),
        ({"advance": 1e10}, "advance: must be a number of seconds between -1e+10 and 1e+10"),
        ({"advance": float("nan")}, "advance: must be a number of seconds between -1e+10 and 1e+10"),
        ({"set": "tomorrow"}, "set: must be an RFC 3339 timestamp"),
        ({"set": 1767254400}, "set: must be a string, not an integer"),
        ({"frozen": "yes"}, "frozen: must be a boolean, not a string"),
        ({"speed": 2}, "speed: unknown key (allowed: set, advance, frozen)"),
        ([], "must be a mapping, not a list"),
    ],
)
def test_parse_move_refuses_what_it_cannot_apply(params: Any, message: str) -> None:
    with pytest.raises(Invalid) as caught:
        clock_moves.parse_move(params)
    assert str(caught.value) == message


async def test_a_move_is_applied_to_the_stores_clock() -> None:
    store = MemoryStore(1, starting(START, True, REAL))
    clock = Clock(lambda: REAL)
    current = (await store.prepare()).clock
    state = await clock_moves.move(store, clock, ClockMove(advance=60, frozen=False), current)
    assert ((await store.prepare()).clock, state.frozen, clock.now(state)) == (state, False, S + 60)


@pytest.mark.parametrize(
    "move",
    [
        ClockMove(set=LATEST.timestamp()),
        ClockMove(set=EARLIEST.timestamp() - 1),
        ClockMove(advance=-(S - EARLIEST.timestamp()) - 1),
        ClockMove(set=LATEST.timestamp() - 10, advance=10),
    ],
)
async def test_a_move_that_would_leave_the_renderable_years_changes_nothing(move: ClockMove) -> None:
    store = MemoryStore(1, starting(START, True, REAL))
    current = (await store.prepare()).clock
    with pytest.raises(Invalid, match=r"^the clock must stay between 1970 and 9000$"):
        await clock_moves.move(store, Clock(lambda: REAL), move, current)
    assert (await store.prepare()).clock == current


async def test_the_renderable_years_include_both_ends_but_the_last_instant() -> None:
    store = MemoryStore(1, starting(START, True, REAL))
    clock = Clock(lambda: REAL)
    for target in (EARLIEST.timestamp(), LATEST.timestamp() - 0.001):
        state = await clock_moves.move(store, clock, ClockMove(set=target), (await store.prepare()).clock)
        assert clock.now(state) == target
        assert format_v2(to_datetime(target))  # renders


@pytest.mark.parametrize(
    ("when", "v1", "v2"),
    [
        (
            datetime(2020, 11, 19, 16, 54, 6, 854000, FINAPI_TZ),
            "2020-11-19 16:54:06.854",
            "2020-11-19T16:54:06.854+01:00",
        ),
        (datetime(2026, 1, 1, 9, 0, tzinfo=FINAPI_TZ), "2026-01-01 09:00:00.000", "2026-01-01T09:00:00.000+01:00"),
        (datetime(2026, 1, 1, 9, 0, 0, 999999, FINAPI_TZ), "2026-01-01 09:00:00.999", "2026-01-01T09:00:00.999+01:00"),
    ],
)
def test_v1_and_v2_date_formats_match_finapi_examples(when: datetime, v1: str, v2: str) -> None:
    assert format_v1(when) == v1
    assert format_v2(when) == v2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-01T09:00:00+01:00", datetime(2026, 1, 1, 8, 0, tzinfo=UTC)),
        ("2026-01-01T08:00:00Z", datetime(2026, 1, 1, 8, 0, tzinfo=UTC)),
        ("2026-01-01T08:00:00", datetime(2026, 1, 1, 8, 0, tzinfo=UTC)),
        ("2026-01-01T09:00:00.250+01:00", datetime(2026, 1, 1, 8, 0, 0, 250000, tzinfo=UTC)),
    ],
)
def test_parse_rfc3339_reads_offsets_and_takes_a_missing_one_as_utc(text: str, expected: datetime) -> None:
    parsed = parse_rfc3339(text)
    assert parsed == expected
    assert parsed.tzinfo is not None


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01T00:00:00Z", "Z"])
def test_parse_rfc3339_refuses_what_is_no_timestamp(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_rfc3339(text)


def test_parse_day_takes_yyyy_mm_dd_only() -> None:
    assert parse_day("2026-01-02") == date(2026, 1, 2)
    for text in ("2026-02-30", "20260102", "2026-W01-5", "2026-1-2", "yesterday", "", "2026-01-02T00:00"):
        with pytest.raises(ValueError, match=r"isoformat|day"):
            parse_day(text)

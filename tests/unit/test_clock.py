"""The virtual clock: moved by tests, never waited for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mock_finapi.clock import FINAPI_TZ, Clock, format_v1, format_v2, parse_rfc3339, virtual_time
from tests.helpers import START


class FakeMonotonic:
    """Real time that a test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def real() -> FakeMonotonic:
    return FakeMonotonic()


def test_frozen_clock_stands_still_while_real_time_passes(real: FakeMonotonic) -> None:
    clock = Clock(START, frozen=True, monotonic=real)
    real.now += 3600
    assert clock.time() == START.timestamp()
    assert clock.now() == START


def test_running_clock_follows_real_time_from_its_start(real: FakeMonotonic) -> None:
    clock = Clock(START, monotonic=real)
    real.now += 2.5
    assert clock.time() == START.timestamp() + 2.5


@pytest.mark.parametrize("frozen", [False, True])
def test_a_kept_state_and_reading_give_the_time_the_clock_answered_then(real: FakeMonotonic, frozen: bool) -> None:
    clock = Clock(START, frozen=frozen, monotonic=real)
    clock.advance(60)
    real.now += 2.5
    state, reading, then = clock.state, clock.monotonic(), clock.time()
    clock.advance(3600)
    real.now += 10
    assert virtual_time(state, reading) == then == START.timestamp() + (60 if frozen else 62.5)


def test_clock_without_start_begins_at_the_real_time() -> None:
    before = datetime.now(UTC).timestamp()
    assert before - 1 <= Clock().time() <= datetime.now(UTC).timestamp() + 1


@pytest.mark.parametrize("frozen", [True, False])
def test_advance_moves_the_clock_forward_without_waiting(real: FakeMonotonic, frozen: bool) -> None:
    clock = Clock(START, frozen=frozen, monotonic=real)
    clock.advance(3599.5)
    assert clock.time() == START.timestamp() + 3599.5
    clock.advance(-0.5)
    assert clock.time() == START.timestamp() + 3599


@pytest.mark.parametrize("frozen", [True, False])
def test_set_jumps_to_the_given_moment_and_keeps_the_frozen_state(real: FakeMonotonic, frozen: bool) -> None:
    clock = Clock(START, frozen=frozen, monotonic=real)
    real.now += 50
    target = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
    clock.set(target)
    assert clock.now() == target
    real.now += 10
    assert clock.time() == target.timestamp() + (0 if frozen else 10)
    assert clock.frozen is frozen


def test_freeze_stops_the_clock_where_it_stands_and_unfreeze_runs_on_from_there(real: FakeMonotonic) -> None:
    clock = Clock(START, monotonic=real)
    real.now += 5
    clock.freeze(True)
    assert clock.frozen
    real.now += 100
    assert clock.time() == START.timestamp() + 5
    clock.freeze(False)
    assert not clock.frozen
    real.now += 1
    assert clock.time() == START.timestamp() + 6


def test_freezing_a_frozen_clock_changes_nothing(real: FakeMonotonic) -> None:
    clock = Clock(START, frozen=True, monotonic=real)
    clock.freeze(True)
    real.now += 100
    assert clock.time() == START.timestamp()


def test_now_is_in_finapi_time_zone() -> None:
    now = Clock(datetime(2026, 1, 1, 8, 0, tzinfo=UTC), frozen=True).now()
    assert now.utcoffset() == timedelta(hours=1)
    assert (now.hour, now.tzinfo) == (9, FINAPI_TZ)


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

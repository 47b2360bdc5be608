"""The virtual clock: the only place mock-finapi reads the time.

The clock's state (`ClockState`) is part of the emulator's state (the store keeps it, so several workers share it):
an `offset` from the real time while the clock runs, or the instant it stands still at (`frozen_at`). Every expiry
(tokens, processes, web forms) compares against the virtual time; tests and the admin API move the clock instead of
sleeping. `Clock` is the real-time source the state is read against; tests may pass a fake one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import NamedTuple

# finAPI's servers answer in German time; +01:00 matches the examples in the docs (no DST games in a mock).
FINAPI_TZ = timezone(timedelta(hours=1))
# The virtual clock stays where datetime can render every date, however far a test moves it.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


class ClockState(NamedTuple):
    """Virtual time = real time + `offset` while running; `frozen_at` while frozen (then `offset` is unused)."""

    offset: float = 0.0
    frozen_at: float | None = None

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None

    def time(self, real: float) -> float:
        """The virtual time (epoch seconds) when the real time is `real`."""
        return self.frozen_at if self.frozen_at is not None else real + self.offset

    def set(self, when: float, real: float) -> ClockState:
        """Jump to `when`; a running clock runs on from there."""
        return ClockState(self.offset, when) if self.frozen else ClockState(when - real)

    def advance(self, seconds: float, real: float) -> ClockState:
        return self.set(self.time(real) + seconds, real)

    def freeze(self, frozen: bool, real: float) -> ClockState:
        """Stop (True) or restart (False) the clock where it stands."""
        now = self.time(real)
        return ClockState(self.offset, now) if frozen else ClockState(now - real)


def starting(start: datetime | None, frozen: bool, real: float) -> ClockState:
    """The state of a clock that reads `start` (default: the real time) now."""
    state = ClockState()
    if start is not None:
        state = state.set(start.timestamp(), real)
    return state.freeze(frozen, real)


class Clock:
    """The real-time source virtual time runs by (`time.time`: the same in every process of a host)."""

    def __init__(self, real: Callable[[], float] = time.time) -> None:
        self.real = real

    def now(self, state: ClockState) -> float:
        return state.time(self.real())


class ClockMove(NamedTuple):
    """A move of the clock, applied in this order: `set` (epoch seconds), `advance` (seconds), `frozen`."""

    set: float | None = None
    advance: float | None = None
    frozen: bool | None = None

    def apply(self, state: ClockState, real: float) -> ClockState:
        if self.set is not None:
            state = state.set(self.set, real)
        if self.advance is not None:
            state = state.advance(self.advance, real)
        if self.frozen is not None:
            state = state.freeze(self.frozen, real)
        return state


class Pacer:
    """Real-time pacing of a long job in a thread: `rest()` sleeps as long as the job worked since the last rest.

    A thread running Python code holds the GIL the event loop needs to serve requests; resting half the time leaves
    the loop its turns (a snapshot writer's effect on requests, bench/snapshot.py), at the price of a job that takes
    twice as long."""

    def __init__(self) -> None:
        self.since = time.perf_counter()

    def rest(self) -> None:
        time.sleep(time.perf_counter() - self.since)
        self.since = time.perf_counter()


def no_rest() -> None:
    """A job's rest when it need not let anything else run: none."""


def wall_clock() -> datetime:
    """The real time: where a real-time scenario starts, and when log lines are written (they describe the host)."""
    return datetime.now(UTC)


def to_datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, FINAPI_TZ)


def format_v2(when: datetime) -> str:
    """RFC 3339 with millis and offset, as Access v2 writes dates: 2020-11-19T16:54:06.854+01:00."""
    return when.isoformat(timespec="milliseconds")


def format_v1(when: datetime) -> str:
    """Access v1's date format: 2020-11-19 16:54:06.854."""
    return when.strftime("%Y-%m-%d %H:%M:%S.") + f"{when.microsecond // 1000:03d}"


def parse_day(text: str) -> date:
    """A day written `YYYY-MM-DD`, as finAPI takes and writes days. Raises ValueError for anything else: impossible
    days (2026-02-30) and the other ISO 8601 spellings `date.fromisoformat` takes (20260102, 2026-W01-5)."""
    day = date.fromisoformat(text)
    if day.isoformat() != text:
        raise ValueError(f"not a day YYYY-MM-DD: {text!r}")
    return day


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp; a missing offset means UTC. Raises ValueError."""
    when = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)

"""The virtual clock: the only place mock-finapi reads the time.

Every expiry (tokens, refresh tokens, later processes) compares against `Clock.time()`. A clock starts at the
scenario's `clock.start` (or the real time) and then runs with real time, unless frozen. Tests and the admin API
move it with `advance()` and `set()` instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

# finAPI's servers answer in German time; +01:00 matches the examples in the docs (no DST games in a mock).
FINAPI_TZ = timezone(timedelta(hours=1))


ClockState = tuple[float, float, bool]
"""`(base, anchor, frozen)`: the virtual time is `base` while frozen, else `base` plus the real seconds since
`anchor`."""


class Clock:
    """Virtual time: `start` (default: now) plus the real time elapsed since, or standing still while frozen.

    `monotonic` is the real-time source; tests may pass a fake one. Readers take no lock: the state is one tuple,
    replaced whole, so a reader never sees a new base with an old anchor.
    """

    def __init__(
        self,
        start: datetime | None = None,
        *,
        frozen: bool = False,
        monotonic: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._lock = threading.Lock()
        self.monotonic = monotonic
        """Real seconds: what the clock runs by, and what requests are timed by (`virtual_time` of the two readings)."""
        base = start.timestamp() if start is not None else time.time()
        self.state: ClockState = (base, monotonic(), frozen)
        """Replaced whole on every change, never changed in place."""

    def time(self) -> float:
        """Virtual seconds since the epoch."""
        base, anchor, frozen = self.state
        return base if frozen else base + (self.monotonic() - anchor)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), FINAPI_TZ)

    @property
    def frozen(self) -> bool:
        return self.state[2]

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or back, with a negative number) without waiting."""
        with self._lock:
            base, anchor, frozen = self.state
            self.state = (base + seconds, anchor, frozen)

    def set(self, when: datetime) -> None:
        """Jump to `when`; a running clock runs on from there."""
        with self._lock:
            self.state = (when.timestamp(), self.monotonic(), self.state[2])

    def freeze(self, frozen: bool) -> None:
        """Stop (True) or restart (False) the clock where it stands."""
        with self._lock:
            if frozen != self.state[2]:
                self.state = (self.time(), self.monotonic(), frozen)


def virtual_time(state: ClockState, real: float) -> float:
    """The virtual time at the real instant `real` (a reading of `Clock.monotonic`) while the clock was in `state`: what
    `Clock.time()` answered then. (A request keeps the two readings, which cost less than that call.)"""
    base, anchor, frozen = state
    return base if frozen else base + (real - anchor)


def wall_clock() -> datetime:
    """The real time: where a real-time scenario starts, and when log lines are written (they describe the host)."""
    return datetime.now(UTC)


def format_v2(when: datetime) -> str:
    """RFC 3339 with millis and offset, as Access v2 writes dates: 2020-11-19T16:54:06.854+01:00."""
    return when.isoformat(timespec="milliseconds")


def format_v1(when: datetime) -> str:
    """Access v1's date format: 2020-11-19 16:54:06.854."""
    return when.strftime("%Y-%m-%d %H:%M:%S.") + f"{when.microsecond // 1000:03d}"


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp; a missing offset means UTC. Raises ValueError."""
    when = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)

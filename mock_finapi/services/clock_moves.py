"""Moving the virtual clock (`POST /__admin/clock`): `{"set": RFC 3339}`, `{"advance": seconds}`, `{"frozen": bool}`.

Everything is checked before anything is applied, and the clock stays between the years a scenario's `clock.start`
may name (where every date can still be rendered), so a refused move leaves the clock as it was.
"""

from __future__ import annotations

from typing import Any

from mock_finapi.clock import EARLIEST, LATEST, Clock, ClockMove, ClockState, parse_rfc3339
from mock_finapi.state.protocol import Store
from mock_finapi.validation import Fields, Invalid

MOVE_KEYS = ("set", "advance", "frozen")
MAX_ADVANCE = 1e10
"""Seconds one move may advance (about 317 years either way)."""


def parse_move(params: Any) -> ClockMove:
    """A ClockMove from the admin API's JSON; raises `Invalid`."""
    fields = Fields(params, "", MOVE_KEYS)
    if not params:
        raise Invalid("", "give 'set' (RFC 3339), 'advance' (seconds) and/or 'frozen' (boolean)")
    when = fields.take("set", str, None)
    seconds = fields.take("advance", (int, float), None)
    frozen = fields.take("frozen", bool, None)
    target = None
    if when is not None:
        try:
            target = parse_rfc3339(when).timestamp()
        except ValueError:
            raise fields.invalid("set", "must be an RFC 3339 timestamp") from None
    if seconds is not None and not -MAX_ADVANCE < seconds < MAX_ADVANCE:
        raise fields.invalid("advance", f"must be a number of seconds between {-MAX_ADVANCE:g} and {MAX_ADVANCE:g}")
    return ClockMove(target, seconds, frozen)


async def move(store: Store, clock: Clock, change: ClockMove, current: ClockState) -> ClockState:
    """Apply `change` unless it would leave the clock outside EARLIEST..LATEST (`Invalid`); answers the new state."""
    real = clock.real()
    landing = change.apply(current, real).time(real)
    if not EARLIEST.timestamp() <= landing < LATEST.timestamp():
        raise Invalid("", f"the clock must stay between {EARLIEST.year} and {LATEST.year}")
    return await store.move_clock(change, real)

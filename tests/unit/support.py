"""Worlds for the unit tests: a scenario's state in a MemoryStore, on a real-time source that stands still, so the
virtual time moves only when a test moves the store's clock (`advance`)."""

from __future__ import annotations

from mock_finapi.clock import Clock, ClockMove
from mock_finapi.scenarios.loader import load_text
from mock_finapi.scenarios.schema import Scenario
from mock_finapi.world import World, build_state, resolve_seed

REAL = 1_000.0
"""The real time, for ever (`Clock(real=...)` of every unit world)."""
JOURNAL_SIZE = 100


def world_of(scenario: Scenario, *, seed: int | None = None) -> World:
    """The world of a scenario (its seed unless `seed` overrides it), in a MemoryStore of its own."""
    chosen = resolve_seed(scenario, seed)
    store = build_state(scenario, chosen, REAL, journal_size=JOURNAL_SIZE)
    return World(scenario, chosen, store, Clock(lambda: REAL))


def make_world(text: str, *, seed: int | None = None, source: str = "unit.yaml") -> World:
    """The world of a scenario given as YAML."""
    return world_of(load_text(text, source), seed=seed)


async def now_of(world: World) -> float:
    """The world's virtual time (epoch seconds), as a request would read it."""
    return world.clock.now((await world.store.prepare()).clock)


async def advance(world: World, seconds: float) -> float:
    """Move the world's clock by `seconds`; answers the new virtual time."""
    state = await world.store.move_clock(ClockMove(advance=seconds), REAL)
    return world.clock.now(state)

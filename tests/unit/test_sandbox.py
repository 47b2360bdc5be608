"""The sandbox without HTTP: swapping worlds (reset, scenario loads, one mandator's reset), building a world's state,
the delay that ends when serving stops, and the folders scenario files may come from."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mock_finapi import errors
from mock_finapi.clock import Clock, ClockMove, parse_rfc3339
from mock_finapi.scenarios import loader
from mock_finapi.scenarios.loader import load_text
from mock_finapi.settings import Settings
from mock_finapi.state.models import Client, FaultRule, User
from mock_finapi.world import Sandbox, allowed_scenario_path, build_state

pytestmark = pytest.mark.anyio

REAL = 1_000.0
TWO = """\
name: two
seed: 3
clock: {start: "2026-01-01T09:00:00+01:00", frozen: true}
clients:
  - {client_id: a, client_secret: sa, mandator_id: ma}
  - {client_id: b, client_secret: sb, mandator_id: mb}
users:
  - {id: alice, password: password-a, mandator_id: ma}
  - {id: bob, password: password-b, mandator_id: mb}
faults:
  - {name: slow, match: {path: /x}, delay_ms: 5}
"""
OTHER = """\
name: other
seed: 9
clock: {start: "2030-05-05T12:00:00+02:00", frozen: true}
clients:
  - {client_id: c, client_secret: sc}
"""


def sandbox(text: str = TWO, **settings: object) -> Sandbox:
    return Sandbox.start(Settings(**settings), load_text(text, "unit.yaml"), clock=Clock(lambda: REAL))  # type: ignore[arg-type]


async def user_ids(box: Sandbox) -> list[str]:
    now = (await box.store.prepare()).clock.time(REAL)
    return sorted(u.id for u in await box.store.users(None, now))


def test_build_state_holds_the_scenarios_clients_users_faults_and_clock() -> None:
    scenario = load_text(TWO, "unit.yaml")
    store = build_state(scenario, 3, REAL, journal_size=10)
    state = asyncio.run(store.prepare())
    assert state.clock.time(REAL) == parse_rfc3339("2026-01-01T09:00:00+01:00").timestamp()
    assert state.clock.frozen
    assert [rule.name for rule in state.faults] == ["slow"]
    client = asyncio.run(store.client("a"))
    assert client is not None
    assert client[:4] == Client("a", "sa", "app", "ma", {})[:4]
    assert asyncio.run(store.user("mb", "BOB", 0.0)) == User(
        "mb", "bob", "password-b", created_at=state.clock.time(REAL)
    )


def test_freeze_at_starts_the_clock_there_frozen() -> None:
    when = parse_rfc3339("2027-02-03T04:05:06+00:00")
    store = build_state(load_text(OTHER, "unit.yaml"), 9, REAL, journal_size=10, freeze_at=when)
    clock = asyncio.run(store.prepare()).clock
    assert (clock.time(REAL), clock.time(REAL + 100), clock.frozen) == (when.timestamp(), when.timestamp(), True)


async def test_reset_serves_the_scenario_afresh_in_the_same_store() -> None:
    box = sandbox()
    store, first = box.store, box.world
    await store.create_user(User("ma", "carol", "password-c"))
    await store.move_clock(ClockMove(advance=3600), REAL)
    await store.clear_faults()
    world = await box.reset()
    assert (box.world, box.store, world.store) == (world, store, store)
    assert world is not first
    assert (world.scenario, world.seed) == (first.scenario, first.seed)
    assert await user_ids(box) == ["alice", "bob"]
    prelude = await store.prepare()
    assert prelude.clock.time(REAL) == parse_rfc3339("2026-01-01T09:00:00+01:00").timestamp()
    assert [rule.name for rule in prelude.faults] == ["slow"]


async def test_swap_serves_another_scenario_with_its_own_seed_unless_the_settings_name_one() -> None:
    box = sandbox()
    world = await box.swap(load_text(OTHER, "other.yaml"))
    assert (world.scenario.name, world.seed) == ("other", 9)
    assert await box.store.client("a") is None
    assert await box.store.client("c") is not None
    fixed = sandbox(seed=42)
    assert (await fixed.swap(load_text(OTHER, "other.yaml"))).seed == 42
    assert (await fixed.swap(load_text(OTHER, "other.yaml"), seed=7)).seed == 7


async def test_a_swap_answers_requests_of_the_old_world_until_it_is_in() -> None:
    """The new state is built off the event loop: the loop keeps running while a big scenario is built."""
    box = sandbox()
    big = OTHER.replace("clients:", "users:\n  - {generate: 3000}\nclients:")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await box.swap(load_text(big, "big.yaml"))
    task.cancel()
    assert ticks > 10
    assert len(await user_ids(box)) == 3000


async def test_reset_of_one_mandator_puts_back_its_slice_only() -> None:
    box = sandbox()
    await box.store.create_user(User("ma", "carol", "password-c"))
    await box.store.create_user(User("mb", "dave", "password-d"))
    await box.store.move_clock(ClockMove(advance=60), REAL)
    assert await box.reset_mandator("ma")
    assert await user_ids(box) == ["alice", "bob", "dave"]
    assert (await box.store.prepare()).clock.time(REAL) == parse_rfc3339("2026-01-01T09:01:00+01:00").timestamp()
    assert not await box.reset_mandator("nobody")
    assert await user_ids(box) == ["alice", "bob", "dave"]


async def test_delay_waits_unless_serving_stops() -> None:
    box = sandbox()
    assert await box.delay(0.01) is True
    waiting = asyncio.create_task(box.delay(60))
    await asyncio.sleep(0)
    box.stopping.set()
    assert await asyncio.wait_for(waiting, 1) is False


def test_scenario_roots_are_the_dirs_the_builtins_and_the_served_files_folder(tmp_path: Path) -> None:
    served = tmp_path / "served" / "mine.yaml"
    served.parent.mkdir()
    served.write_text(OTHER)
    extra = tmp_path / "extra"
    box = Sandbox.start(Settings(scenario_dirs=(str(extra),)), loader.load(str(served)), clock=Clock(lambda: REAL))
    assert box.scenario_roots() == [extra.resolve(), loader.builtin_dir().resolve(), served.parent.resolve()]


def test_allowed_scenario_paths_stay_inside_the_roots(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "a.yaml").write_text(OTHER)
    (outside / "b.yaml").write_text(OTHER)
    (root / "link.yaml").symlink_to(outside / "b.yaml")
    roots = [root.resolve()]
    assert allowed_scenario_path("a.yaml", roots) == (root / "a.yaml").resolve()
    assert allowed_scenario_path(str(root / "a.yaml"), roots) == (root / "a.yaml").resolve()
    for refused in (str(outside / "b.yaml"), "../outside/b.yaml", "link.yaml", ""):
        with pytest.raises(errors.BadRequest, match="outside the scenario directories"):
            allowed_scenario_path(refused, roots)
    with pytest.raises(errors.BadRequest, match="not a usable file path"):
        allowed_scenario_path("a\0.yaml", roots)


def test_a_fault_rule_of_the_scenario_is_what_the_prelude_carries() -> None:
    store = build_state(load_text(TWO, "unit.yaml"), 3, REAL, journal_size=10)
    assert asyncio.run(store.prepare()).faults == (FaultRule(name="slow", path="/x", delay_ms=5),)

"""`serve --reload`: watch the scenario file and swap a valid change in atomically; report and ignore a broken one."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mock_finapi.errors import ScenarioError
from mock_finapi.http.routes.admin import swap
from mock_finapi.scenarios import loader
from mock_finapi.scenarios.schema import GenerateUsers, Scenario
from mock_finapi.settings import Settings

log = logging.getLogger("mock_finapi")


def summary(old: Scenario, new: Scenario) -> str:
    """A one-line diff of what changed between two scenarios."""
    facts = {
        "name": (old.name, new.name),
        "clients": (len(old.clients), len(new.clients)),
        "users": (_user_count(old), _user_count(new)),
        "faults": (len(old.faults), len(new.faults)),
        "seeded processes": (len(old.processes.seeded), len(new.processes.seeded)),
        "seed": (old.seed, new.seed),
    }
    changes = [f"{label} {a}→{b}" for label, (a, b) in facts.items() if a != b]
    return ", ".join(changes) or "same shape, other values"


def _user_count(scenario: Scenario) -> int:
    return sum(u.count if isinstance(u, GenerateUsers) else 1 for u in scenario.users)


def reload_once(app_state: Any, path: Path, settings: Settings) -> bool:
    """Load `path` and serve it; False (and the old scenario keeps serving) when it does not validate."""
    try:
        scenario = loader.load(str(path))
    except ScenarioError as exc:
        log.error("scenario change ignored: %s", exc)
        return False
    old = app_state.world.scenario
    swap(app_state, scenario, settings)
    log.info("scenario reloaded (state reset): %s", summary(old, scenario))
    return True


async def watch(app_state: Any, path: Path, settings: Settings) -> None:
    """Reload on every change of `path` until cancelled."""
    from watchfiles import awatch

    async for _ in awatch(path, debounce=100, step=20):
        reload_once(app_state, path, settings)

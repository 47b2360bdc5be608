"""`serve --reload`: watch the scenario file and swap a valid change in atomically; report and ignore a broken one.

The file is read every POLL_SECONDS and its text compared, not watched with inotify: that sees writes in place,
editors and tools that write a new file and rename it over the old one (vim, `sed -i`, `mv`), symlink swaps
(Kubernetes ConfigMaps) and bind mounts whose events do not reach a container alike, and it needs no extra package.
A new text is acted upon once two looks in a row find it (so a half-written file is not reported). A text that is
the one being served changes nothing (no reset), a broken text is reported once, and each reload is logged on one
line that names what changed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from mock_finapi.errors import ScenarioError
from mock_finapi.scenarios import loader
from mock_finapi.scenarios.schema import ClientSpec, GenerateUsers, Scenario, UserSpec
from mock_finapi.services.journal import mask_token
from mock_finapi.world import Sandbox

log = logging.getLogger("mock_finapi")
POLL_SECONDS = 0.1
"""How often `--reload` reads the file; a change is served within two looks."""
MAX_LISTED = 5
"""Items named per section of the summary; the rest are counted."""
_SECRET_FIELDS = frozenset({"client_secret", "password"})
_CONTROL = {code: f"\\x{code:02x}" for code in (*range(32), 127)}


def summary(old: Scenario, new: Scenario) -> str:
    """A one-line diff of what changed between two scenarios, e.g. `users: +bob; clients: ~c (config.X 3600→60)`.

    Secrets (client secrets, passwords) are named as changed, never shown; process tokens are shortened.
    """
    parts = [
        f"{label} {_show(getattr(old, label))}→{_show(getattr(new, label))}"
        for label in ("name", "seed")
        if getattr(old, label) != getattr(new, label)
    ]
    if old.description != new.description:
        parts.append("description")
    parts += _field_changes("clock", old.clock, new.clock)
    parts += _field_changes("tokens", old.tokens, new.tokens)
    parts += _field_changes("processes", old.processes, new.processes, skip=("seeded",))
    parts += _keyed(
        "clients", {c.client_id: c for c in old.clients}, {c.client_id: c for c in new.clients}, _client_changes
    )
    parts += _keyed("users", _explicit_users(old), _explicit_users(new), _record_changes)
    generated = (_generated_count(old), _generated_count(new))
    if generated[0] != generated[1]:
        parts.append(f"generated users {generated[0]}→{generated[1]}")
    parts += _keyed(
        "faults", {f.name: f for f in old.faults}, {f.name: f for f in new.faults}, lambda a, b: _names(a, b)
    )
    parts += _keyed(
        "seeded processes",
        {mask_token(p.process_token): p for p in old.processes.seeded},
        {mask_token(p.process_token): p for p in new.processes.seeded},
        _record_changes,
    )
    return "; ".join(parts) or "no effective change"


def _show(value: Any) -> str:
    return str(value).translate(_CONTROL)


def _field_changes(section: str, old: Any, new: Any, skip: tuple[str, ...] = ()) -> list[str]:
    return [
        f"{section}.{f.name} {_show(getattr(old, f.name))}→{_show(getattr(new, f.name))}"
        for f in dataclasses.fields(old)
        if f.name not in skip and getattr(old, f.name) != getattr(new, f.name)
    ]


def _names(old: Any, new: Any) -> list[str]:
    """The fields of two records of one dataclass that differ, by name only."""
    return [f.name for f in dataclasses.fields(old) if getattr(old, f.name) != getattr(new, f.name)]


def _record_changes(old: Any, new: Any) -> list[str]:
    """Changed fields with their values, except secrets, which are only named."""
    return [
        name if name in _SECRET_FIELDS else f"{name} {_show(getattr(old, name))}→{_show(getattr(new, name))}"
        for name in _names(old, new)
    ]


def _client_changes(old: ClientSpec, new: ClientSpec) -> list[str]:
    changes = [c for c in _record_changes(old, new) if not c.startswith("config ")]
    for key in sorted(old.config.keys() | new.config.keys()):
        a, b = old.config.get(key, "default"), new.config.get(key, "default")
        if a != b:
            changes.append(f"config.{key} {_show(a)}→{_show(b)}")
    return changes


def _explicit_users(scenario: Scenario) -> dict[str, UserSpec]:
    users = [u for u in scenario.users if isinstance(u, UserSpec)]
    several = len({u.mandator_id for u in users}) > 1
    return {(f"{u.mandator_id}/{u.id}" if several else u.id): u for u in users}


def _generated_count(scenario: Scenario) -> int:
    return sum(u.count for u in scenario.users if isinstance(u, GenerateUsers))


def _keyed(
    section: str, old: Mapping[str, Any], new: Mapping[str, Any], changes: Callable[[Any, Any], list[str]]
) -> list[str]:
    """`section: +added, -removed, ~changed (what)`, or nothing when the section is the same."""
    items = [f"+{_show(key)}" for key in new if key not in old]
    items += [f"-{_show(key)}" for key in old if key not in new]
    for key in old.keys() & new.keys():
        if old[key] != new[key]:
            what = changes(old[key], new[key])
            items.append(f"~{_show(key)}" + (f" ({', '.join(what)})" if what else ""))
    return [f"{section}: {_listed(items)}"] if items else []


def _listed(items: Iterable[str]) -> str:
    items = list(items)
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f", … ({len(items) - MAX_LISTED} more)" if len(items) > MAX_LISTED else "")


def load(ref: str) -> tuple[Path, str, Scenario]:
    """The file a scenario reference names, its text and the scenario it holds (raises ScenarioError)."""
    path = loader.resolve(ref)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(path), None, "", f"cannot read: {exc}") from None
    return path, text, loader.load_text(text, str(path))


@dataclasses.dataclass(frozen=True)
class _Unreadable:
    problem: str


class Reloader:
    """Looks at one scenario file and serves each new valid version of it; reports each broken one once."""

    def __init__(self, sandbox: Sandbox, path: Path, served_text: str) -> None:
        self.sandbox, self.path = sandbox, path
        self.served = served_text
        """The text of the scenario being served."""
        self.seen: str | _Unreadable = served_text
        """The last content acted upon (served, refused or unreadable): seeing it again does nothing."""
        self.pending: str | _Unreadable | None = None
        """New content seen once: it is acted upon when the next look finds it unchanged (the writer is done)."""

    async def check(self) -> bool:
        """One look at the file; True when a new scenario was swapped in. Reading, parsing, validating, building and
        summarizing all run off the event loop (a large scenario takes seconds), so requests go on being answered."""
        content = await asyncio.to_thread(self._read)
        if content == self.seen:
            self.pending = None
            return False
        if content != self.pending:
            self.pending = content
            return False
        self.pending, self.seen = None, content
        if isinstance(content, _Unreadable):
            self._ignored(content.problem)
            return False
        if content == self.served:
            log.info("scenario file %s is back to the served version: nothing to reload", _show(self.path))
            return False
        try:
            scenario = await asyncio.to_thread(loader.load_text, content, str(self.path))
        except ScenarioError as exc:
            self._ignored(str(exc))
            return False
        old = self.sandbox.world.scenario
        await self.sandbox.swap(scenario)
        self.served = content
        changes = await asyncio.to_thread(summary, old, scenario)  # compares every listed user: not on the loop
        log.info("scenario reloaded from %s (state reset): %s", _show(self.path), changes)
        return True

    def _read(self) -> str | _Unreadable:
        try:
            return self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return _Unreadable(f"{self.path}: cannot read: {exc}")

    def _ignored(self, problem: str) -> None:
        served = self.sandbox.world.scenario.name
        log.error("scenario change ignored, still serving %s: %s", _show(served), _show(problem))


async def watch(reloader: Reloader, interval: float = POLL_SECONDS) -> None:
    """Look at the file every `interval` seconds until cancelled."""
    while True:
        await asyncio.sleep(interval)
        try:
            await reloader.check()
        except Exception:  # e.g. a scenario that validates but cannot be built: keep serving, keep watching
            log.exception("reloading %s failed; still serving the previous scenario", _show(reloader.path))

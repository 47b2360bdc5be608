"""Run-time settings shared by the CLI, the app factory and the test harness."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    scenario: str = "default"
    """A built-in scenario name or a path to a YAML file."""
    seed: int | None = None
    """Overrides the scenario's seed; None keeps it (or draws a fresh one when the scenario has none)."""
    max_body_bytes: int = MAX_BODY_BYTES
    admin: bool = True
    """False: every /__admin endpoint but health answers 404."""
    admin_token: str | None = None
    """When set, /__admin endpoints but health need `Authorization: Bearer <admin_token>`."""
    journal_size: int = 1000
    request_log: Literal["off", "text", "json"] = "off"
    """One line per request on stdout (the CLI turns it on)."""
    scenario_dirs: tuple[str, ...] = ()
    """Where `POST /__admin/scenario {"path"}` may read files, besides the built-ins and the served file's folder."""

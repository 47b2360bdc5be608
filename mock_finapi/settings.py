"""Run-time settings shared by the CLI, the app factory and the test harness."""

from __future__ import annotations

from dataclasses import dataclass

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

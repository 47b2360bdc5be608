"""The typed form of a scenario, as `loader.py` produces it after strict validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mock_finapi.state.models import FaultRule, Role
from mock_finapi.state.protocol import ProcessLimits


@dataclass(frozen=True)
class ClockSpec:
    start: datetime | None = None
    """None: the clock starts at the real time."""
    frozen: bool = False


@dataclass(frozen=True)
class TokenSpec:
    format: str = "uuid"
    reuse: bool = True


@dataclass(frozen=True)
class ClientSpec:
    client_id: str
    client_secret: str
    mandator_id: str
    role: Role = "app"
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UserSpec:
    id: str
    password: str
    mandator_id: str
    email: str | None = None
    phone: str | None = None
    is_auto_update_enabled: bool = False
    verified: bool = True
    locked: bool = False


@dataclass(frozen=True)
class GenerateUsers:
    """`{generate: N}`: N users made with Faker from the scenario's seed."""

    count: int
    mandator_id: str
    verified: bool = True


@dataclass(frozen=True)
class SeededProcess:
    """A process that exists from the start, with a fixed token a QA ticket can name."""

    process_token: str
    client_id: str
    client_reference: str | None = None
    process_id: str = "USER_ONLY"
    exchanges: int = 0
    invalidated: bool = False


@dataclass(frozen=True)
class ProcessesSpec:
    """The Process Controller's limits (FINAPI.md §7, decided) and pre-created processes."""

    limits: ProcessLimits = field(default_factory=ProcessLimits)
    seeded: tuple[SeededProcess, ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    source: str
    description: str = ""
    seed: int | None = None
    clock: ClockSpec = ClockSpec()
    tokens: TokenSpec = TokenSpec()
    clients: tuple[ClientSpec, ...] = ()
    users: tuple[UserSpec | GenerateUsers, ...] = ()
    processes: ProcessesSpec = ProcessesSpec()
    faults: tuple[FaultRule, ...] = ()
    auto_register: bool = False
    """`clients: {auto_register: true}`: unknown client id/secret pairs are accepted on first use."""

"""The data: plain dataclasses, no rules and no HTTP.

Mandator → users; clients belong to a mandator; a Grant is one authorization (a client_credentials token, a
password login with its refresh token and the access tokens minted from it, or a process exchange); Tokens point at
their grant; a Process owns a hidden user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["app", "mandator_admin"]


@dataclass(eq=False)
class Client:
    client_id: str
    secret: str
    role: Role
    mandator_id: str
    config: dict[str, Any]
    """The ClientConfiguration, keyed by finAPI's field names (v2 and v1-only ones)."""


@dataclass(eq=False)
class User:
    id: str
    password: str
    mandator_id: str
    email: str | None = None
    phone: str | None = None
    is_auto_update_enabled: bool = False
    verified: bool = True
    locked: bool = False
    failed_logins: int = 0
    password_change_token: str | None = None
    created_at: float = 0.0
    delete_at: float | None = None
    """When the store deletes the user by itself (the hidden users of processes); None: never."""
    grants: set[Grant] = field(default_factory=set)

    @property
    def key(self) -> str:
        """User ids are case-insensitive in finAPI."""
        return self.id.lower()


@dataclass(eq=False, slots=True)  # one per token when reuse is off: no instance dict, 40 bytes less each
class Grant:
    client: Client
    user: User | None
    access: list[str] = field(default_factory=list)
    """Values of its access tokens, oldest first: the last is the current one."""
    refresh: str | None = None


@dataclass(eq=False, slots=True)
class Token:
    value: str
    grant: Grant
    is_refresh: bool
    expires_at: float | None
    """Virtual epoch seconds; None means the token never expires (validity period 0)."""

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at


@dataclass(eq=False)
class Process:
    """A Process Controller process: its token exchanges for access tokens of its hidden user."""

    token: str
    client: Client
    client_reference: str | None
    process_id: str
    user: User
    created_at: float
    exchanges: int = 0
    invalidated: bool = False


@dataclass(eq=False)
class Mandator:
    id: str
    users: dict[str, User] = field(default_factory=dict)
    """Keyed by `User.key` (the lower-cased id)."""

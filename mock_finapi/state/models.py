"""The records of the state: immutable values, no rules and no HTTP.

A store hands these out and takes them in; changing one means asking the store for a new version (`Store`), so a
record held by a request can never change under it, and a backend across a network can hold them as plain data.
Records made per request are NamedTuples: built about four times faster than frozen dataclasses.

Mandator → clients (each with its ClientConfiguration) and users; a token belongs to a grant (one authorization: a
client_credentials token, a password login with its refresh token and the access tokens minted from it, or a process
exchange) of a client and, for user tokens, a user; a Process owns a hidden user.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    from mock_finapi.scenarios.schema import Scenario

Role = Literal["app", "mandator_admin"]


class Client(NamedTuple):
    client_id: str
    secret: str
    role: Role
    mandator_id: str
    config: Mapping[str, Any]
    """The ClientConfiguration, keyed by finAPI's field names (v2 and v1-only ones). Never changed in place."""
    registered: bool = False
    """Accepted on first use (`clients: {auto_register: true}`), not part of the scenario."""


class User(NamedTuple):
    mandator_id: str
    id: str
    password: str
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
    process_user: bool = False
    last_active_at: float | None = None
    """When the user last got an access token (a password or refresh grant, a process exchange); None: never."""

    @property
    def key(self) -> str:
        """User ids are case-insensitive in finAPI."""
        return self.id.lower()


class DeletedUser(NamedTuple):
    """What a mandator keeps of a deleted user (`GET /mandatorAdmin/getUserList`): finAPI no longer has the original
    id, only a distorted one (`distorted_id`)."""

    mandator_id: str
    user_id: str
    """Distorted: `user` shows as `uXXr`."""
    created_at: float
    deleted_at: float
    last_active_at: float | None = None


def distorted_id(user_id: str) -> str:
    """A deleted user's id as finAPI shows it: its first and last character with an `X` for each one between
    (`user` → `uXXr`, finAPI's example); an id of one or two characters is all `X`s (decided)."""
    if len(user_id) <= 2:
        return "X" * len(user_id)
    return user_id[0] + "X" * (len(user_id) - 2) + user_id[-1]


MOMENT = 0.001
"""How long after `now` a token's seconds left are counted: finAPI answers `expires_in: 3599` for a token it has just
issued with a lifetime of 3600 seconds."""


class Token(NamedTuple):
    """An access or refresh token as the store hands it out."""

    value: str
    client_id: str
    mandator_id: str
    user_id: str | None
    """None for a client token."""
    is_refresh: bool
    expires_at: float | None
    """Virtual epoch seconds; None means the token never expires (validity period 0)."""

    def expires_in(self, now: float) -> int:
        """Whole seconds left, counted a moment after `now` as finAPI shows them (a fresh one-hour token answers
        3599, FINAPI.md §3); 0 for a token that never expires (decided) and for one in its last second."""
        return 0 if self.expires_at is None else max(0, int(self.expires_at - now - MOMENT))


class Bearer(NamedTuple):
    """What a live access token authenticates: its client and, for a user token, the user."""

    token: Token
    client: Client
    user: User | None


class Process(NamedTuple):
    """A Process Controller process: its token exchanges for access tokens of its hidden user."""

    token: str
    client_id: str
    mandator_id: str
    client_reference: str | None
    process_id: str
    user_id: str
    created_at: float
    exchanges: int = 0
    invalidated: bool = False


@dataclass(frozen=True, slots=True)
class FaultRule:
    """A fault rule as validated (`services/faults.py` parses, matches and shows them)."""

    name: str
    method: str | None = None
    path: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    client_id: str | None = None
    after: int = 0
    times: int | None = None
    probability: float = 1.0
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    delay_ms: int = 0
    network: str | None = None
    callback: bool = False
    """An outbound rule: it acts on the callbacks the emulator sends (`services/callbacks.py`), never on requests."""

    @property
    def needs_body(self) -> bool:
        """Matching it needs the request's fields or client."""
        return not self.callback and (bool(self.fields) or self.client_id is not None)


class FaultCount(NamedTuple):
    """A rule with its counters: requests that reached it and matched, and the times it acted."""

    rule: FaultRule
    matched: int = 0
    fired: int = 0


class Entry(NamedTuple):
    """One request in the journal, as it came in and how it was answered; masked when read (services/journal.py)."""

    time: float
    """Virtual epoch seconds when the request ended."""
    duration: float
    """Real seconds it took."""
    method: str
    path: str
    query_string: bytes
    status: int
    """0: no answer was sent."""
    request_id: str
    client_id: str | None
    mandator_id: str | None
    fault: str | None
    authorization: bytes | None
    content_type: bytes | None
    body: bytes | None
    """At most a fixed prefix of the body (`truncated` says whether more was sent)."""
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class JournalQuery:
    """Which journal entries a read, count or clear selects; every given criterion must hold."""

    method: str | None = None
    path: str | None = None
    """Exact, or a glob when it holds `*`, `?` or `[`."""
    status: int | None = None
    client_id: str | None = None
    mandator_id: str | None = None
    fault: str | None = None

    def selects(self, entry: Entry) -> bool:
        return (
            (self.method is None or entry.method == self.method.upper())
            and (self.path is None or path_matches(self.path, entry.path))
            and (self.status is None or entry.status == self.status)
            and (self.client_id is None or entry.client_id == self.client_id)
            and (self.mandator_id is None or entry.mandator_id == self.mandator_id)
            and (self.fault is None or entry.fault == self.fault)
        )


def path_matches(pattern: str, path: str) -> bool:
    """An exact path, or a glob with `*`, `?` and `[...]` (fnmatch, case-sensitive)."""
    if any(c in pattern for c in "*?["):
        return _glob(pattern)(path) is not None
    return pattern == path


@functools.lru_cache(maxsize=256)
def _glob(pattern: str) -> Callable[[str], re.Match[str] | None]:
    """A glob compiled as `fnmatch.fnmatchcase` compiles it, in a cache of its own: fnmatch's keeps 32,768 patterns,
    which filter strings from clients (journal queries) would fill and never give back."""
    return re.compile(fnmatch.translate(pattern)).match


class Origin(NamedTuple):
    """What a state was built from: the scenario served and its seed (part of the state, so that every process
    sharing a state serves the same scenario)."""

    scenario: Scenario
    seed: int

"""Run-time settings shared by the CLI, the app factory and the test harness."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple
from urllib.parse import urlsplit, urlunsplit

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
MAX_BODY_BYTES = 1024 * 1024
MEMORY = "memory"
"""The default state backend: the state lives in the serving process."""
DEFAULT_STATE_PREFIX = "mock-finapi"
MAX_SNAPSHOT_BYTES = 1024 * 1024 * 1024
"""What `POST /__admin/snapshot` takes at most (a million tokens make about 110 MB; `serve --snapshot` reads any
size)."""


class Capacity(NamedTuple):
    """What a store keeps at most: growth beyond is refused with a finAPI-shaped error, never a crash."""

    tokens: int = 1_000_000
    users: int = 1_000_000
    processes: int = 200_000
    clients: int = 10_000
    """Clients registered at run time (`clients: {auto_register: true}`)."""
    transactions: int = 2_000_000
    """Transactions of all users together (a scenario's, web-form imports', mock batch updates')."""
    web_forms: int = 100_000
    """Web forms and background update tasks of all users together (deleting a user deletes its own)."""
    deleted_users: int = 100_000
    """Deleted users remembered for `mandatorAdmin/getUserList` (all mandators together): beyond it the oldest
    deletion is forgotten, so a deletion is never refused."""


DEFAULT_CAPACITY = Capacity()


@dataclass(frozen=True)
class Settings:
    scenario: str = "default"
    """A built-in scenario name or a path to a YAML file."""
    seed: int | None = None
    """Overrides the scenario's seed; None keeps it (or draws a fresh one when the scenario has none)."""
    max_body_bytes: int = MAX_BODY_BYTES
    max_snapshot_bytes: int = MAX_SNAPSHOT_BYTES
    """The body limit of `POST /__admin/snapshot` (an admin with the token, when one is set)."""
    admin: bool = True
    """False: every /__admin endpoint but health answers 404."""
    admin_token: str | None = None
    """When set, /__admin endpoints but health need `Authorization: Bearer <admin_token>`."""
    journal_size: int = 1000
    request_log: Literal["off", "text", "json"] = "off"
    """One line per request on stdout (the CLI turns it on)."""
    scenario_dirs: tuple[str, ...] = ()
    """Where `POST /__admin/scenario {"path"}` may read files, besides the built-ins and the served file's folder."""
    allowed_hosts: tuple[str, ...] | None = None
    """The `Host` names requests may carry (against DNS rebinding, while the server listens on loopback); None: any."""
    head_timeout: float = 10.0
    """Seconds a connection may take to send a complete request head before it is closed."""
    capacity: Capacity = DEFAULT_CAPACITY
    """What the store keeps at most (live tokens, users, processes, run-time clients)."""
    state: str = MEMORY
    """Where the state lives: `memory` (this process) or a Redis URL (`redis://HOST:PORT/DB`, `rediss://`,
    `unix://`) that several workers and replicas share (state/redis_store.py)."""
    state_prefix: str = DEFAULT_STATE_PREFIX
    """The prefix of the state's keys in Redis: sandboxes with different prefixes share one Redis apart."""
    public_url: str | None = None
    """The base URL web form `url`s point at (`--public-url`, behind a proxy or in a container); None: the
    request's own scheme, host and port."""


def shown_state(url: str) -> str:
    """A state URL as messages show it: its password as `***`."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = f"{parts.username}:" if parts.username else ":"
    return urlunsplit(parts._replace(netloc=f"{user}***@{host}"))

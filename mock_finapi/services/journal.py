"""The request journal: a bounded ring buffer of what the system under test sent, with secrets masked.

What anyone reads of it is masked, so no password, client secret or full token ever leaves it: secrets become `***`,
tokens keep their first four characters (`abcd…`) so that QA can still tell them apart. An entry is recorded as the
request came (the middleware's own references: recording is on every request's path and must cost next to nothing)
and masked when it is first read; until it leaves the ring, the unmasked request stays in the server's memory only.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import functools
import itertools
import json
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from urllib.parse import parse_qsl

from mock_finapi.clock import FINAPI_TZ, ClockState, format_v2, virtual_time
from mock_finapi.state.models import Client
from mock_finapi.state.store import Store

SECRET_WORDS = ("password", "secret")
"""A key holding one of these (any case: `password`, `newPassword`, `client_secret`) is a secret."""
TOKEN_SUFFIX = "token"
"""A key ending so (any case: `token`, `refresh_token`, `passwordChangeToken`) holds a token."""
MASK = "***"
_PLAIN, _SECRET, _TOKEN = range(3)
_SCALARS = (str, int, float, type(None))
# Path segments that are credentials: the process token of an exchange, the token of an admin expiry.
_PROCESS_PREFIX = "/api/v1/processes/"
_EXPIRE_PREFIX, _EXPIRE_SUFFIX = "/__admin/tokens/", "/expire"
TOKEN_PATHS = (_PROCESS_PREFIX, _EXPIRE_PREFIX)
"""Where paths that `mask_path` masks begin."""


def mask_token(value: str) -> str:
    return value[:4] + "…" if len(value) > 4 else MASK


@functools.lru_cache(maxsize=1024)  # the same few field names on every request
def _kind(key: str) -> int:
    lowered = key.lower()
    if lowered.endswith(TOKEN_SUFFIX):
        return _TOKEN
    return _SECRET if any(word in lowered for word in SECRET_WORDS) else _PLAIN


def mask_value(key: str, value: Any) -> Any:
    """A token keeps a prefix to tell it apart; a secret, or anything but a string under a token key, goes whole.
    `null` stays `null` (it hides nothing, and QA may need to see that a field was sent empty)."""
    if value is None:
        return None
    kind = _kind(key)
    if kind == _TOKEN:
        return mask_token(value) if isinstance(value, str) else MASK
    if kind == _SECRET:
        return MASK
    return _mask_nested(value)


def _mask_nested(value: Any) -> Any:
    if isinstance(value, Mapping):
        return mask_fields(value)
    if isinstance(value, list):
        return [_mask_nested(v) for v in value]
    return value


def mask_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    masked: dict[str, Any] = {}
    for key, value in fields.items():  # plain scalars (most fields) are taken as they are, without a further call
        plain = _kind(key) == _PLAIN and isinstance(value, _SCALARS)
        masked[key] = value if plain else mask_value(key, value)
    return masked


def mask_path(path: str) -> str:
    """Tokens in paths keep only their first characters: `/api/v1/processes/<token>[/…]` (an exchange, where the
    token is the credential; only `/api/v1/processes/<mandatorId>/link` holds no token) and
    `/__admin/tokens/<token>/expire` (which the request log writes)."""
    if path.startswith(_PROCESS_PREFIX):
        token, slash, rest = path[len(_PROCESS_PREFIX) :].partition("/")
        if token and rest != "link":
            return _PROCESS_PREFIX + mask_token(token) + slash + rest
    if path.startswith(_EXPIRE_PREFIX) and path.endswith(_EXPIRE_SUFFIX):
        token = path[len(_EXPIRE_PREFIX) : -len(_EXPIRE_SUFFIX)]
        if token:
            return _EXPIRE_PREFIX + mask_token(token) + _EXPIRE_SUFFIX
    return path


def mask_authorization(value: str | None) -> str | None:
    """`Bearer abcd…`, `Basic ***`; a header without a scheme is a bare credential and is masked whole."""
    if value is None:
        return None
    scheme, _, credentials = value.strip().partition(" ")
    if not credentials:
        return mask_token(scheme)
    return f"{scheme} {mask_token(credentials.strip()) if scheme.lower() == 'bearer' else MASK}"


def body_fields(content_type: str, body: bytes | None) -> dict[str, Any] | None:
    """The fields of a form or JSON object body (None when there is none or it does not parse)."""
    if not body:
        return None
    media_type = content_type.split(";", 1)[0].strip().lower()
    try:
        if media_type == "application/x-www-form-urlencoded":
            fields: dict[str, Any] = {}
            for key, value in parse_qsl(body.decode("utf-8"), keep_blank_values=True):
                fields.setdefault(key, value)  # the first of repeated keys, as the token endpoint takes it
            return fields
        if media_type == "application/json":
            data = json.loads(body)
            return data if isinstance(data, dict) else None
    except (ValueError, RecursionError):
        return None
    return None


Entry = tuple[
    ClockState,
    float,
    float,
    str,
    str,
    bytes,
    int,
    str,
    str | None,
    str | None,
    bytes | None,
    bytes | None,
    bytes | None,
]
"""One request as it came in and how it was answered, held as the middleware had it (a plain tuple: recording is on
every request's path); masked and resolved (time, client, mandator) when it is first read (`view`). Its `FIELDS`:

- `clock`, `started`, `ended`: the clock's state when the request ended and the clock's real-time readings
  (`Clock.monotonic`) when it started and ended: its virtual time (`virtual_time`) and real duration;
- `method`, `path`, `query_string`, `status` (0: no answer was sent), `request_id`;
- `client_id`: the client that authenticated, or that its bearer token belongs to; else found in the body or Basic
  credentials when read; `fault`: the name of the rule that touched it;
- `authorization`, `content_type`, `body`: as sent (masked when read).
"""
FIELDS = (
    "clock",
    "started",
    "ended",
    "method",
    "path",
    "query_string",
    "status",
    "request_id",
    "client_id",
    "fault",
    "authorization",
    "content_type",
    "body",
)


def view(entry: Entry, clients: Mapping[str, Client]) -> dict[str, Any]:
    """An entry as the admin API shows it, every secret masked; `clients` resolves its client and mandator."""
    clock, started, ended, method, path, query_string, status, request_id, client_id, fault, auth, ctype, body = entry
    fields = body_fields(ctype.decode("latin-1") if ctype else "", body)
    authorization = auth.decode("latin-1") if auth is not None else None
    client_id = client_id or client_of(fields or {}, authorization or "")
    client = clients.get(client_id) if client_id is not None else None
    query = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    return {
        "time": format_v2(datetime.fromtimestamp(virtual_time(clock, ended), FINAPI_TZ)),
        "method": method,
        "path": mask_path(path),
        "query": mask_fields(query),
        "status": status,
        "durationMs": round((ended - started) * 1000, 3),
        "requestId": request_id,
        "clientId": client.client_id if client else None,
        "mandatorId": client.mandator_id if client else None,
        "fault": fault,
        "authorization": mask_authorization(authorization),
        "body": mask_fields(fields) if fields else None,
    }


def client_of(fields: Mapping[str, Any], authorization: str) -> str | None:
    """The client id a request names: `client_id`/`clientId` in its fields, or its HTTP Basic credentials."""
    for key in ("client_id", "clientId"):
        if isinstance(fields.get(key), str):
            return str(fields[key])
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


@dataclass(frozen=True)
class Matcher:
    """Which entries a journal query or count selects; every given criterion must hold."""

    method: str | None = None
    path: str | None = None
    """Exact, or a glob when it holds `*`, `?` or `[`."""
    status: int | None = None
    client_id: str | None = None
    mandator_id: str | None = None
    fault: str | None = None

    def __call__(self, view: Mapping[str, Any]) -> bool:
        """Whether an entry's view (`Entry.view`) is selected."""
        return (
            (self.method is None or view["method"] == self.method.upper())
            and (self.path is None or path_matches(self.path, view["path"]))
            and (self.status is None or view["status"] == self.status)
            and (self.client_id is None or view["clientId"] == self.client_id)
            and (self.mandator_id is None or view["mandatorId"] == self.mandator_id)
            and (self.fault is None or view["fault"] == self.fault)
        )


def path_matches(pattern: str, path: str) -> bool:
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(path, pattern)
    return pattern == path


class Journal:
    """The newest `size` entries; `store` resolves their clients when they are read.

    Entries are recorded as they come (`Entry`) and replaced by their masked views when first read: the entries older
    than the newest read are views, the newer ones still raw."""

    def __init__(self, size: int, store: Store) -> None:
        self._entries: deque[Entry | dict[str, Any]] = deque(maxlen=size)
        self._store = store
        self.size = size
        self.record: Callable[[Entry], None] = self._entries.append
        """Adds an entry (the deque's own method: no call in Python on a request's path)."""

    def _views(self) -> list[dict[str, Any]]:
        """Every entry's view, oldest first (the raw entries become views now)."""
        entries = self._entries
        raw: list[Entry] = []
        for entry in reversed(entries):
            if isinstance(entry, dict):
                break
            raw.append(entry)
        if raw:
            clients = self._store.clients
            views = [view(entry, clients) for entry in reversed(raw)]
            for _ in raw:
                entries.pop()
            entries.extend(views)
        return cast(list[dict[str, Any]], list(entries))  # all views now

    def find(self, matcher: Matcher, limit: int | None = None) -> list[dict[str, Any]]:
        """The views of the matching entries, newest first."""
        found = (view for view in reversed(self._views()) if matcher(view))
        return list(itertools.islice(found, limit))

    def count(self, matcher: Matcher) -> int:
        return sum(1 for view in self._views() if matcher(view))

    def clear(self, matcher: Matcher | None = None) -> int:
        """Remove the matching entries (all without a matcher); answers how many went."""
        views = self._views()
        kept = [] if matcher is None else [view for view in views if not matcher(view)]
        self._entries.clear()
        self._entries.extend(kept)
        return len(views) - len(kept)

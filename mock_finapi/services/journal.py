"""The request journal: a bounded ring buffer of what the system under test sent, with secrets masked.

Entries are masked when they are written, so no password, client secret or full token is ever held: secrets become
`***`, tokens keep their first four characters (`abcd…`) so that QA can still tell them apart.
"""

from __future__ import annotations

import fnmatch
import functools
import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from mock_finapi.clock import FINAPI_TZ, format_v2

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
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        if media_type == "application/json":
            data = json.loads(body)
            return data if isinstance(data, dict) else None
    except (ValueError, RecursionError):
        return None
    return None


@dataclass(slots=True)
class Entry:
    time: float
    """Virtual epoch seconds (formatted only when the entry is read)."""
    method: str
    path: str
    query: dict[str, str]
    status: int
    duration_ms: float
    request_id: str
    client_id: str | None = None
    mandator_id: str | None = None
    fault: str | None = None
    authorization: str | None = None
    body: dict[str, Any] | None = field(default=None)

    def view(self) -> dict[str, Any]:
        return {
            "time": format_v2(datetime.fromtimestamp(self.time, FINAPI_TZ)),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "durationMs": self.duration_ms,
            "requestId": self.request_id,
            "clientId": self.client_id,
            "mandatorId": self.mandator_id,
            "fault": self.fault,
            "authorization": self.authorization,
            "body": self.body,
        }


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

    def __call__(self, entry: Entry) -> bool:
        return (
            (self.method is None or entry.method == self.method.upper())
            and (self.path is None or path_matches(self.path, entry.path))
            and (self.status is None or entry.status == self.status)
            and (self.client_id is None or entry.client_id == self.client_id)
            and (self.mandator_id is None or entry.mandator_id == self.mandator_id)
            and (self.fault is None or entry.fault == self.fault)
        )


def path_matches(pattern: str, path: str) -> bool:
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(path, pattern)
    return pattern == path


class Journal:
    def __init__(self, size: int) -> None:
        self._entries: deque[Entry] = deque(maxlen=size)

    @property
    def size(self) -> int:
        return self._entries.maxlen or 0

    def record(self, entry: Entry) -> None:
        if self._entries.maxlen:
            self._entries.append(entry)

    def find(self, matcher: Matcher, limit: int | None = None) -> list[Entry]:
        """Matching entries, newest first."""
        found: list[Entry] = []
        for entry in reversed(self._entries):
            if limit is not None and len(found) >= limit:
                break
            if matcher(entry):
                found.append(entry)
        return found

    def count(self, matcher: Matcher) -> int:
        return sum(1 for entry in self._entries if matcher(entry))

    def clear(self, matcher: Matcher | None = None) -> int:
        """Remove the matching entries (all without a matcher); answers how many went."""
        before = len(self._entries)
        kept = [] if matcher is None else [e for e in self._entries if not matcher(e)]
        self._entries.clear()
        self._entries.extend(kept)
        return before - len(kept)

"""The request journal's views: what the admin API shows of a recorded request (`Entry`), with secrets masked.

What anyone reads of the journal is masked, so no password, client secret or full token ever leaves it: secrets
become `***`, tokens keep their first four characters (`abcd…`) so that QA can still tell them apart. An entry keeps
the request as it came (recording is on every request's path and must cost next to nothing) and is masked when read.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from mock_finapi import bodies
from mock_finapi.clock import format_v2, to_datetime
from mock_finapi.credentials import parse_authorization
from mock_finapi.state.models import Entry, JournalQuery
from mock_finapi.validation import Fields, Invalid

SECRET_WORDS = ("password", "secret")
"""A key holding one of these (any case: `password`, `newPassword`, `client_secret`) is a secret."""
SECRET_KEYS = frozenset({"fintsproductregistrationnumber"})
"""Keys (any case) that are secrets besides: v1's FinTS product registration number (finAPI shows it as `XXXXX`)."""
TOKEN_SUFFIX = "token"
"""A key ending so (any case: `token`, `refresh_token`, `passwordChangeToken`) holds a token."""
MASK = "***"
MAX_DEPTH = bodies.MAX_JSON_DEPTH
"""Masking goes no deeper (what a body can hold); a value nested deeper is masked whole."""
_PLAIN, _SECRET, _TOKEN = range(3)
_SCALARS = (str, int, float, type(None))
# Path segments that are credentials, however the path is spelt (any case, repeated slashes, any API version): the
# segment after `processes` (a process token; only `…/processes/<mandatorId>/link` holds none) and the one after
# `tokens` (`/__admin/tokens/<token>/expire`, which the request log writes).
_TOKEN_HINT = re.compile(r"/(?:processes|tokens)/", re.IGNORECASE)
_TOKEN_SEGMENT = re.compile(r"(/(processes|tokens)/+)([^/]+)", re.IGNORECASE)
_NOT_A_TOKEN = {"processes": "link", "tokens": "expire"}


def may_hold_token(path: str) -> bool:
    """Whether `mask_path` may change `path` (a quick check for the request log's lines)."""
    return _TOKEN_HINT.search(path) is not None


def mask_token(value: str) -> str:
    return value[:4] + "…" if len(value) > 4 else MASK


@functools.lru_cache(maxsize=1024)  # the same few field names on every request
def _kind(key: str) -> int:
    lowered = key.lower()
    if lowered.endswith(TOKEN_SUFFIX):
        return _TOKEN
    secret = lowered in SECRET_KEYS or any(word in lowered for word in SECRET_WORDS)
    return _SECRET if secret else _PLAIN


def mask_value(key: str, value: Any, depth: int = 1) -> Any:
    """A token keeps a prefix to tell it apart; a secret, or anything but a string under a token key, goes whole.
    `null` stays `null` (it hides nothing, and QA may need to see that a field was sent empty). `depth`: how deep
    `value` is nested; an object or array deeper than `MAX_DEPTH` is masked whole (masking never recurses further)."""
    if value is None:
        return None
    kind = _kind(key)
    if kind == _TOKEN:
        return mask_token(value) if isinstance(value, str) else MASK
    if kind == _SECRET:
        return MASK
    return _mask_nested(value, depth)


def _mask_nested(value: Any, depth: int) -> Any:
    if isinstance(value, dict):  # parsed JSON: a dict (an ABC check would cost a microsecond a value)
        return mask_fields(value, depth) if depth <= MAX_DEPTH else MASK
    if isinstance(value, list):
        return _mask_list(value, depth) if depth <= MAX_DEPTH else MASK
    return value


def _mask_list(values: list[Any], depth: int) -> list[Any]:
    """`values` itself while masking changes none of its items (no copy of arrays without objects in them, which
    deeply nested bodies are made of), else a copy with the masked items."""
    for index, value in enumerate(values):
        if isinstance(value, dict | list):
            masked = _mask_nested(value, depth + 1)
            if masked is not value:
                return [*values[:index], masked, *(_mask_nested(v, depth + 1) for v in values[index + 1 :])]
    return values


def mask_fields(fields: Mapping[str, Any], depth: int = 1) -> dict[str, Any]:
    """`fields` (an object nested `depth` deep) with every secret masked."""
    masked: dict[str, Any] = {}
    for key, value in fields.items():  # plain scalars (most fields) are taken as they are, without a further call
        plain = _kind(key) == _PLAIN and isinstance(value, _SCALARS)
        masked[key] = value if plain else mask_value(key, value, depth + 1)
    return masked


def mask_path(path: str) -> str:
    """Tokens in paths keep only their first characters: the segment after `processes` (`/api/v1/processes/<token>`,
    an exchange, where the token is the credential) and after `tokens` (`/__admin/tokens/<token>/expire`, which the
    request log writes), in any case, after any slashes and under any version: what a client sends to a wrong
    spelling of a path is a credential as well. `/api/v1/processes/<mandatorId>/link` keeps its mandator id."""
    if _TOKEN_HINT.search(path) is None:
        return path
    return _TOKEN_SEGMENT.sub(_masked_segment, path)


def _masked_segment(match: re.Match[str]) -> str:
    before, token = match[1], match[3]
    kind = "tokens" if match[2][0] in "tT" else "processes"  # not .lower(): IGNORECASE also takes `proceſſes`
    rest = match.string[match.end() :]
    if (kind == "processes" and rest == "/link") or (token == _NOT_A_TOKEN[kind] and not rest):
        return match[0]  # `…/processes/<mandatorId>/link`, or no token at all (`/__admin/tokens//expire`)
    return before + mask_token(token)


def mask_authorization(value: str | None) -> str | None:
    """`Bearer abcd…`, `Basic ***`; a header without a scheme is a bare credential and is masked whole."""
    if value is None:
        return None
    authorization = parse_authorization(value)
    if authorization.credentials == "":  # nothing after the first word: the word is a credential
        return mask_token(authorization.scheme)
    bearer = authorization.bearer
    return f"{authorization.scheme} {mask_token(bearer) if bearer else MASK}"


def view(entry: Entry) -> dict[str, Any]:
    """An entry as the admin API shows it, every secret masked. A body the journal cut (`bodyTruncated`) shows no
    fields: a cut JSON does not parse, and a cut form may end in half a key that masking would not know."""
    content_type = entry.content_type.decode("latin-1") if entry.content_type else ""
    fields = None if entry.truncated else bodies.fields(content_type, entry.body)
    query = bodies.query(entry.query_string)
    shown = {
        "time": format_v2(to_datetime(entry.time)),
        "method": entry.method,
        "path": mask_path(entry.path),
        "query": mask_fields(query),
        "status": entry.status,
        "durationMs": round(entry.duration * 1000, 3),
        "requestId": entry.request_id,
        "clientId": entry.client_id,
        "mandatorId": entry.mandator_id,
        "fault": entry.fault,
        "authorization": mask_authorization(entry.authorization.decode("latin-1") if entry.authorization else None),
        "body": mask_fields(fields) if fields else None,
    }
    if entry.truncated:
        shown["bodyTruncated"] = True
    return shown


def named_client(fields: Mapping[str, Any], authorization: str) -> str | None:
    """The client id a request names: `client_id`/`clientId` in its fields, or its HTTP Basic credentials."""
    for key in ("client_id", "clientId"):
        if isinstance(fields.get(key), str):
            return str(fields[key])
    basic = parse_authorization(authorization).basic
    return basic[0] if basic else None


QUERY_KEYS = ("method", "path", "status", "clientId", "mandator", "fault")
MAX_FILTER = 400
"""Longest filter text (a path glob, say) a journal query takes."""
_DIGITS = re.compile(r"[0-9]{1,9}")


def parse_query(params: Mapping[str, Any]) -> JournalQuery:
    """A journal query from query parameters or a JSON object; an unknown criterion is refused, not ignored (a
    misspelt filter would otherwise select everything). Raises `Invalid`."""
    fields = Fields(dict(params), "", QUERY_KEYS)
    status = fields.data.get("status")
    if isinstance(status, str) and _DIGITS.fullmatch(status):
        fields.data["status"] = int(status)
    texts = {}
    for key in ("method", "path", "clientId", "mandator", "fault"):
        value = fields.take(key, str, None)
        if value is not None and len(value) > MAX_FILTER:
            raise fields.invalid(key, f"must be at most {MAX_FILTER} characters")
        texts[key] = value
    return JournalQuery(
        texts["method"],
        texts["path"],
        fields.take("status", int, None),
        texts["clientId"],
        texts["mandator"],
        texts["fault"],
    )


def parse_limit(value: str | None) -> int | None:
    if value is not None and not _DIGITS.fullmatch(value):
        raise Invalid("limit", "must be a non-negative integer")
    return int(value) if value is not None else None

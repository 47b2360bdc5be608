"""Request bodies: size limit, content type, JSON and urlencoded parsing, all failing in finAPI's shape.

Forms are parsed with `urllib.parse.parse_qsl` straight from the bytes: no multipart parser on the hot path.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect, Request

from mock_finapi import errors

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


async def read(request: Request) -> bytes:
    """The whole body, refused with 413 as soon as it is known to exceed the limit."""
    limit: int = request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise errors.PayloadTooLarge(errors.MSG_BODY_TOO_LARGE.format(limit=limit))
    chunks, size, more = [], 0, True
    while more:  # straight from `receive`: cheaper than Request.stream() on the hot path
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise errors.PayloadTooLarge(errors.MSG_BODY_TOO_LARGE.format(limit=limit))
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _require_media_type(request: Request, expected: str) -> None:
    media_type = _media_type(request)
    if media_type != expected:
        message = errors.MSG_MEDIA_TYPE.format(content_type=media_type or "(none)", expected=expected)
        raise errors.UnsupportedMediaType(message)


async def json_object(request: Request, *, required: bool = True, any_type: bool = False) -> dict[str, Any]:
    """The JSON object in the body; an empty body is a 400, or `{}` when the body is optional.

    `any_type` skips the Content-Type check (the admin API takes JSON from `curl -d` as it comes).
    """
    raw = await read(request)
    if not raw.strip():
        if required:
            raise errors.BadRequest(errors.MSG_BODY_MISSING)
        return {}
    if not any_type:
        _require_media_type(request, JSON)
    try:
        # Strict UTF-8 (RFC 8259), a BOM tolerated: json.loads(bytes) would also take UTF-16/32 and CESU-8 surrogates.
        data = json.loads(raw.decode("utf-8-sig"))
        if _SURROGATE_ESCAPE.search(raw):
            # "\ud800" decodes to a lone surrogate that no response can encode: refuse it here, not with a 500 later
            json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError):  # UnicodeError is a ValueError; deep nesting a RecursionError
        raise errors.BadRequest(errors.MSG_MALFORMED_JSON) from None
    if not isinstance(data, dict):
        raise errors.BadRequest(errors.MSG_JSON_OBJECT)
    request.scope["state"]["fields"] = data  # the journal records these instead of parsing the body again
    return data


async def form_params(request: Request) -> dict[str, str]:
    """Parameters from the urlencoded body and the query string (body first; the first of repeated keys wins)."""
    raw = await read(request)
    params: dict[str, str] = {}
    if raw:
        _require_media_type(request, FORM)
        try:
            pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True, errors="strict")
        except ValueError:  # also UnicodeDecodeError
            raise errors.BadRequest(errors.MSG_MALFORMED_FORM) from None
        for key, value in pairs:
            params.setdefault(key, value)
        request.scope["state"]["fields"] = dict(params)  # the journal records these instead of parsing again
    if request.scope["query_string"]:
        for key, value in request.query_params.multi_items():
            params.setdefault(key, value)
    return params

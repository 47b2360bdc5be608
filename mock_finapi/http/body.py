"""Request bodies: size limit, content type, JSON and urlencoded parsing, all failing in finAPI's shape.

Forms are split directly (or with `urllib.parse.parse_qsl` when they hold escapes): no multipart parser.
"""

from __future__ import annotations

import json
import operator
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from mock_finapi import errors
from mock_finapi.http import render

FORM = "application/x-www-form-urlencoded"
_FORM_HEADER = FORM.encode()
_split_field = operator.methodcaller("split", "=", 1)
JSON = "application/json"
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def read(request: Request) -> bytes:
    """The whole body, read by the middleware before the handler runs; 413 when it exceeds the limit."""
    body: bytes | None = request.scope["state"]["body"]
    if body is None:
        limit = request.app.state.settings.max_body_bytes
        raise errors.PayloadTooLarge(errors.MSG_BODY_TOO_LARGE.format(limit=limit))
    return body


def _media_type(request: Request) -> str:
    return render.header(request, b"content-type").split(";", 1)[0].strip().lower()


def _require_media_type(request: Request, expected: str) -> None:
    media_type = _media_type(request)
    if media_type != expected:
        message = errors.MSG_MEDIA_TYPE.format(content_type=media_type or "(none)", expected=expected)
        raise errors.UnsupportedMediaType(message)


def json_object(request: Request, *, required: bool = True, any_type: bool = False) -> dict[str, Any]:
    """The JSON object in the body; an empty body is a 400, or `{}` when the body is optional.

    `any_type` skips the Content-Type check (the admin API takes JSON from `curl -d` as it comes).
    """
    raw = read(request)
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
    return data


def form_params(request: Request) -> dict[str, str]:
    """Parameters from the urlencoded body and the query string (body first; the first of repeated keys wins)."""
    raw = read(request)
    params: dict[str, str] = {}
    if raw:
        if request.scope["state"]["headers"].get(b"content-type") != _FORM_HEADER:  # the usual one, or look closer
            _require_media_type(request, FORM)
        try:
            params = _form_fields(raw.decode("utf-8"))
        except ValueError:  # also UnicodeDecodeError
            raise errors.BadRequest(errors.MSG_MALFORMED_FORM) from None
    if request.scope["query_string"]:
        for key, value in request.query_params.multi_items():
            params.setdefault(key, value)
    return params


def _form_fields(text: str) -> dict[str, str]:
    """`parse_qsl(text, keep_blank_values=True, strict_parsing=True)` as a dict whose repeated keys keep their first
    value; a body with nothing to unquote (most are) is split without a Python loop. Raises ValueError for a field
    without `=` (`a=1&b`, `a=1&&b=2`) or bad percent-encoding."""
    if "%" in text or "+" in text:
        return dict(reversed(parse_qsl(text, keep_blank_values=True, strict_parsing=True, errors="strict")))
    return dict(map(_split_field, reversed(text.split("&"))))  # ValueError: a field without "="

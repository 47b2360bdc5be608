"""Request bodies over HTTP: the size limit, the content type, and finAPI's errors for what does not parse (the
parsing itself is `bodies.py`, shared with the journal and fault matching)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from mock_finapi import bodies, errors
from mock_finapi.http.context import RequestContext, context

_FORM = bodies.FORM.encode()


def read(ctx: RequestContext) -> bytes:
    """The whole body, read by the middleware before the handler runs; 413 when it exceeded the limit."""
    if ctx.body is None:
        limit = ctx.sandbox.settings.max_body_bytes
        raise errors.PayloadTooLarge(errors.MSG_BODY_TOO_LARGE.format(limit=limit))
    return ctx.body


def _require_media_type(ctx: RequestContext, expected: str) -> None:
    media_type = bodies.media_type(ctx.header(b"content-type"))
    if media_type != expected:
        message = errors.MSG_MEDIA_TYPE.format(content_type=media_type or "(none)", expected=expected)
        raise errors.UnsupportedMediaType(message)


def json_object(request: Request, *, required: bool = True, any_type: bool = False) -> dict[str, Any]:
    """The JSON object in the body; an empty body is a 400, or `{}` when the body is optional.

    `any_type` skips the Content-Type check (the admin API takes JSON from `curl -d` as it comes).
    """
    ctx = context(request)
    raw = read(ctx)
    if not raw.strip():
        if required:
            raise errors.BadRequest(errors.MSG_BODY_MISSING)
        return {}
    if not any_type:
        _require_media_type(ctx, bodies.JSON)
    try:
        data = bodies.parse_json(raw)
    except (ValueError, RecursionError):  # UnicodeError is a ValueError
        raise errors.BadRequest(errors.MSG_MALFORMED_JSON) from None
    if not isinstance(data, dict):
        raise errors.BadRequest(errors.MSG_JSON_OBJECT)
    return data


def form_params(request: Request) -> dict[str, str]:
    """Parameters from the urlencoded body and the query string (body first; the first of repeated keys wins)."""
    ctx = context(request)
    raw = read(ctx)
    params: dict[str, str] = {}
    if raw:
        if ctx.headers.get(b"content-type") != _FORM:  # the usual one, or look closer
            _require_media_type(ctx, bodies.FORM)
        try:
            params = bodies.parse_form(raw.decode("utf-8"))
        except ValueError:  # also UnicodeDecodeError
            raise errors.BadRequest(errors.MSG_MALFORMED_FORM) from None
    if request.scope["query_string"]:
        params = {**bodies.query(request.scope["query_string"]), **params}
    return params

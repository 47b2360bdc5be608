"""POST /api/v2/oauth/token|revoke and their Access v1 twins /oauth/token|revoke."""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request
from starlette.responses import Response

from mock_finapi import errors
from mock_finapi.http import auth, body, render
from mock_finapi.http.routes import route


async def token(request: Request) -> Response:
    params = body.form_params(request)
    _basic_client(request, params)
    return render.token(render.world(request).tokens.grant(params))


async def revoke(request: Request) -> Response:
    client = auth.client(request)
    params = body.form_params(request)
    if not params.get("token"):
        raise errors.MissingField("token")
    render.world(request).tokens.revoke(client, params["token"], params.get("token_type_hint") or None)
    return render.empty()


def _basic_client(request: Request, params: dict[str, str]) -> None:
    """OAuth's client_secret_basic: client credentials in an `Authorization: Basic` header, as Spring accepts."""
    if "client_id" in params:
        return
    scheme, _, encoded = render.header(request, b"authorization").partition(" ")
    if scheme.lower() != "basic":
        return
    try:
        client_id, _, secret = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise errors.InvalidClient() from None
    params.setdefault("client_id", client_id)
    params.setdefault("client_secret", secret)


routes = [
    route(f"{prefix}/{name}", POST=endpoint)
    for prefix in ("/api/v2/oauth", "/oauth")
    for name, endpoint in (("token", token), ("revoke", revoke))
]

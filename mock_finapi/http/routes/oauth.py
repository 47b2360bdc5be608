"""POST /api/v2/oauth/token|revoke and their Access v1 twins /oauth/token|revoke."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_finapi import errors
from mock_finapi.credentials import parse_authorization
from mock_finapi.http import auth, body, render
from mock_finapi.http.context import context
from mock_finapi.http.routes import route


async def token(request: Request) -> Response:
    ctx = context(request)
    params = body.form_params(request)
    if "client_id" not in params:  # OAuth's client_secret_basic: the credentials as HTTP Basic (Spring takes it)
        authorization = parse_authorization(ctx.header(b"authorization"))
        if authorization.scheme.lower() == "basic":
            if authorization.basic is None:
                raise errors.InvalidClient()
            params.setdefault("client_id", authorization.basic[0])
            params.setdefault("client_secret", authorization.basic[1])
    ctx.client_id = params.get("client_id")
    client, issued = await ctx.world.tokens.grant(params, ctx.now)
    ctx.authenticated(client)
    return render.token(issued)


async def revoke(request: Request) -> Response:
    ctx = context(request)
    client = await auth.client(request)
    params = body.form_params(request)
    if not params.get("token"):
        raise errors.MissingField("token")
    await ctx.world.tokens.revoke(client, params["token"], params.get("token_type_hint") or None, ctx.now)
    return render.empty()


routes = [
    route(f"{prefix}/{name}", POST=endpoint)
    for prefix in ("/api/v2/oauth", "/oauth")
    for name, endpoint in (("token", token), ("revoke", revoke))
]

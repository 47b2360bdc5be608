"""GET /api/v2|v1/mandatorAdmin/getUserList and POST /api/v2|v1/mandatorAdmin/deleteUsers: the mandator admin
client's view of its mandator's users (services/mandator_admin.py)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from mock_finapi.http import auth, body, render
from mock_finapi.http.context import context
from mock_finapi.http.routes import route
from mock_finapi.services import mandator_admin


async def get_user_list(request: Request) -> Response:
    ctx = context(request)
    client = await auth.mandator_admin(request)
    pairs = parse_qsl(request.scope["query_string"].decode("latin-1"), keep_blank_values=True)
    query = mandator_admin.parse_query(pairs)
    return render.JSON(await ctx.world.mandator_admin.user_list(client, query, ctx.now))


async def delete_users(request: Request) -> Response:
    ctx = context(request)
    client = await auth.mandator_admin(request)
    return render.JSON(await ctx.world.mandator_admin.delete_users(client, body.json_object(request), ctx.now))


routes = [
    r
    for prefix in ("/api/v2/mandatorAdmin", "/api/v1/mandatorAdmin")
    for r in (route(f"{prefix}/getUserList", GET=get_user_list), route(f"{prefix}/deleteUsers", POST=delete_users))
]

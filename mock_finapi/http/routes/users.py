"""/users: identical under /api/v2 and /api/v1 (FINAPI.md §4)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_finapi import errors
from mock_finapi.http import auth, body, render
from mock_finapi.http.context import context
from mock_finapi.http.routes import route


async def create(request: Request) -> Response:
    ctx = context(request)
    client = await auth.app_client(request)
    user = await ctx.world.users.create(client, body.json_object(request), ctx.now)
    return render.user(user, status=201, masked=False)


async def get_self(request: Request) -> Response:
    user, _ = await auth.user(request)
    return render.user(user)


async def edit_self(request: Request) -> Response:
    user, client = await auth.user(request)
    return render.user(await context(request).world.users.update(client, user, body.json_object(request)))


async def delete_self(request: Request) -> Response:
    user, _ = await auth.user(request)
    ctx = context(request)
    await ctx.world.users.delete(user, ctx.now)
    return render.empty()


async def delete_unverified(request: Request) -> Response:
    ctx = context(request)
    client = await auth.app_client(request)
    await ctx.world.users.delete_unverified(client, request.path_params["userId"], ctx.now)
    return render.empty()


async def verify(request: Request) -> Response:
    ctx = context(request)
    client = await auth.app_client(request)
    await ctx.world.users.verify(client, request.path_params["userId"], ctx.now)
    return render.empty()


async def verification_status(request: Request) -> Response:
    ctx = context(request)
    client = await auth.app_client(request)
    user_id = request.query_params.get("userId")
    if not user_id:
        raise errors.MissingField("userId")
    user = await ctx.world.users.find(client, user_id, ctx.now)
    return render.JSON({"userId": user.id, "isUserVerified": user.verified})


async def request_password_change(request: Request) -> Response:
    ctx = context(request)
    client = await auth.app_client(request)
    user, change_token = await ctx.world.users.request_password_change(client, body.json_object(request), ctx.now)
    return render.JSON({"userId": user.id, "userEmail": user.email, "passwordChangeToken": change_token})


async def execute_password_change(request: Request) -> Response:
    ctx = context(request)
    client = await auth.app_client(request)
    await ctx.world.users.execute_password_change(client, body.json_object(request), ctx.now)
    return render.empty()


routes = [
    r
    for prefix in ("/api/v2/users", "/api/v1/users")
    for r in (
        route(prefix, POST=create, GET=get_self, PATCH=edit_self, DELETE=delete_self),
        route(f"{prefix}/verificationStatus", GET=verification_status),
        route(f"{prefix}/verify/{{userId}}", POST=verify),
        route(f"{prefix}/requestPasswordChange", POST=request_password_change),
        route(f"{prefix}/executePasswordChange", POST=execute_password_change),
        route(f"{prefix}/{{userId}}", DELETE=delete_unverified),
    )
]

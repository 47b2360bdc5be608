"""/users: identical under /api/v2 and /api/v1 (FINAPI.md §4)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_finapi import errors
from mock_finapi.http import auth, body, render
from mock_finapi.http.routes import route


async def create(request: Request) -> Response:
    client = auth.app_client(request)
    user = render.world(request).users.create(client, body.json_object(request))
    return render.user(user, status=201, masked=False)


async def get_self(request: Request) -> Response:
    user, _ = auth.user(request)
    return render.user(user)


async def edit_self(request: Request) -> Response:
    user, client = auth.user(request)
    return render.user(render.world(request).users.update(client, user, body.json_object(request)))


async def delete_self(request: Request) -> Response:
    user, _ = auth.user(request)
    render.world(request).users.delete(user)
    return render.empty()


async def delete_unverified(request: Request) -> Response:
    client = auth.app_client(request)
    render.world(request).users.delete_unverified(client, request.path_params["userId"])
    return render.empty()


async def verify(request: Request) -> Response:
    client = auth.app_client(request)
    render.world(request).users.verify(client, request.path_params["userId"])
    return render.empty()


async def verification_status(request: Request) -> Response:
    client = auth.app_client(request)
    user_id = request.query_params.get("userId")
    if not user_id:
        raise errors.MissingField("userId")
    user = render.world(request).users.find(client, user_id)
    return render.JSON({"userId": user.id, "isUserVerified": user.verified})


async def request_password_change(request: Request) -> Response:
    client = auth.app_client(request)
    user, change_token = render.world(request).users.request_password_change(client, body.json_object(request))
    return render.JSON({"userId": user.id, "userEmail": user.email, "passwordChangeToken": change_token})


async def execute_password_change(request: Request) -> Response:
    client = auth.app_client(request)
    render.world(request).users.execute_password_change(client, body.json_object(request))
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

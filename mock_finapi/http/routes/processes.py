"""finAPI's Process Controller under /api/v1/processes (FINAPI.md §7)."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mock_finapi import errors
from mock_finapi.http import body, render
from mock_finapi.http.context import context
from mock_finapi.http.routes import route


async def create(request: Request) -> Response:
    ctx = context(request)
    params = body.json_object(request)
    if isinstance(params.get("clientId"), str):
        ctx.client_id = params["clientId"]
    processes = await ctx.world.processes.create_many(params, ctx.now)
    answer = [{"clientReference": p.client_reference, "processToken": p.token} for p in processes]
    return render.JSON({"processes": answer}, status_code=201)


async def exchange(request: Request) -> Response:
    ctx = context(request)
    invalidate = request.query_params.get("invalidate", "false").lower()  # defaults to false
    if invalidate not in ("true", "false"):
        raise errors.IllegalFieldValue("'invalidate' must be true or false")
    token = request.path_params["processToken"]
    return render.JSON({"accessToken": await ctx.world.processes.exchange(token, invalidate == "true", ctx.now)})


async def create_link(request: Request) -> Response:
    ctx = context(request)
    params = body.json_object(request, required=False)
    reference = params.get("clientReference")
    if reference is not None and not isinstance(reference, str):
        raise errors.IllegalFieldValue("'clientReference' must be a string")
    process = await ctx.world.processes.for_mandator(request.path_params["mandatorId"], reference, ctx.now)
    return render.JSON({"processToken": process.token}, status_code=201)


async def follow_link(request: Request) -> Response:
    ctx = context(request)
    reference = request.query_params.get("clientReference")
    process = await ctx.world.processes.for_mandator(request.path_params["mandatorId"], reference, ctx.now)
    return RedirectResponse(with_query(ctx.world.processes.limits.redirect_url, processToken=process.token), 302)


def with_query(url: str, **params: str) -> str:
    """The URL with `params` appended to its query; what it had stays byte for byte (no re-encoding)."""
    parts = urlsplit(url)
    added = urlencode(params)
    return urlunsplit(parts._replace(query=f"{parts.query}&{added}" if parts.query else added))


routes = [
    route("/api/v1/processes", POST=create),
    route("/api/v1/processes/{processToken}", GET=exchange),
    route("/api/v1/processes/{mandatorId}/link", POST=create_link, GET=follow_link),
]

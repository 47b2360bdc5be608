"""GET/PATCH /api/v2/clientConfiguration and /api/v1/clientConfiguration (FINAPI.md §5)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_finapi import errors
from mock_finapi.http import auth, body, render
from mock_finapi.http.context import api_version, context
from mock_finapi.http.routes import route
from mock_finapi.services import client_config


async def get(request: Request) -> Response:
    client = await auth.client(request)
    return render.JSON(client_config.view(client.config, api_version(request)))


async def patch(request: Request) -> Response:
    client = await auth.client(request)
    version = api_version(request)
    changes = client_config.patch_changes(body.json_object(request), version)
    updated = await context(request).world.store.update_client_config(client.client_id, changes)
    if updated is None:
        raise errors.UnknownEntity(errors.MSG_BAD_CLIENT)
    return render.JSON(client_config.view(updated.config, version))


routes = [route(f"/api/{v}/clientConfiguration", GET=get, PATCH=patch) for v in ("v2", "v1")]

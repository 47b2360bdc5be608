"""GET/PATCH /api/v2/clientConfiguration and /api/v1/clientConfiguration (FINAPI.md §5)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_finapi.http import auth, body, render
from mock_finapi.http.routes import route
from mock_finapi.services import client_config


async def get(request: Request) -> Response:
    client = auth.client(request)
    return render.JSON(client_config.view(client.config, render.api_version(request)))


async def patch(request: Request) -> Response:
    client = auth.client(request)
    version = render.api_version(request)
    client_config.patch(client.config, body.json_object(request), version)
    return render.JSON(client_config.view(client.config, version))


routes = [route(f"/api/{v}/clientConfiguration", GET=get, PATCH=patch) for v in ("v2", "v1")]

"""The control plane under /__admin."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_finapi.http import render
from mock_finapi.http.routes import route


async def health(request: Request) -> Response:
    """200 once a scenario is loaded (a world only exists with one)."""
    return JSONResponse({"status": "ok", "scenario": render.world(request).scenario.name})


routes = [route("/__admin/health", GET=health)]

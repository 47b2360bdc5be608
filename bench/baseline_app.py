"""The baseline of bench/run.py: a bare Starlette app answering POST /api/v2/oauth/token with a constant token JSON.

    python -m uvicorn baseline_app:app --app-dir bench --http httptools --loop uvloop --no-access-log

bench/run.py serves it with the uvicorn settings `mock-finapi serve` uses (httptools, uvloop, one worker, no access
log, no Server header, lifespan off, no proxy headers, no WebSockets), so the ratio mock-finapi / baseline is what
mock-finapi's own code costs.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = {
    "access_token": "acbc64e8-69fd-4440-ab82-648839bfe4b6",
    "token_type": "bearer",
    "expires_in": 3600,
    "scope": "all",
}


async def token(request: Request) -> Response:
    return JSONResponse(TOKEN)


app = Starlette(routes=[Route("/api/v2/oauth/token", token, methods=["POST"])])

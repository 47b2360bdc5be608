"""The baseline of bench/run.py: a bare Starlette app answering POST /api/v2/oauth/token with a constant token JSON.

    python bench/baseline_app.py --port 8081
    python bench/baseline_app.py --port 8081 --get /api/v2/transactions --body-file page.json   # bench/transactions.py

With `--get PATH --body-file FILE` it also answers GET PATH (any query) with the file's bytes as JSON: the bytes the
emulator answered, so bench/transactions.py compares the emulator with the cost of sending them.

It is served exactly as `mock-finapi serve` serves the emulator (`mock_finapi.http.server`: the same uvicorn
settings and protocol), so the ratio mock-finapi / baseline is what mock-finapi's own code costs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
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


routes = [Route("/api/v2/oauth/token", token, methods=["POST"])]


def main() -> None:
    from mock_finapi.http import server

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--get", metavar="PATH", help="also answer GET PATH with the bytes of --body-file")
    parser.add_argument("--body-file", type=Path, metavar="FILE")
    args = parser.parse_args()
    if args.get:
        body = args.body_file.read_bytes()

        async def fixed(request: Request) -> Response:
            return Response(body, media_type="application/json")

        routes.append(Route(args.get, fixed, methods=["GET"]))
    app = Starlette(routes=routes)
    port = args.port
    sock = server.bind("127.0.0.1", port)
    uvicorn.Server(server.config(app, grace=1)).run(sockets=[sock])


if __name__ == "__main__":
    main()

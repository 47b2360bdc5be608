"""/api/v2/tests: the sandbox's test helpers (WEBFORM.md §5.5)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_finapi.http import auth, body, render
from mock_finapi.http.context import context
from mock_finapi.http.routes import route
from mock_finapi.services import batch_update


async def mock_batch_update(request: Request) -> Response:
    """200 with an empty body at once; the updates land on the virtual clock (`services/batch_update.py`)."""
    user, _ = await auth.user(request)
    ctx = context(request)
    await batch_update.mock_batch_update(ctx.world.store, user, body.json_object(request), ctx.now)
    return render.empty()


routes = [route("/api/v2/tests/mockBatchUpdate", POST=mock_batch_update)]

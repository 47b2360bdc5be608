"""An httpx.Client wired straight to the ASGI app: no socket, no port, one blocking portal thread.

with InProcessClient(create_app()) as client:
    client.post("/api/v2/oauth/token", data={...})
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, cast

from anyio.from_thread import BlockingPortal, start_blocking_portal

from mock_finapi.http.app import Emulator
from mock_finapi.testing._httpx import httpx


class _PortalTransport(httpx.BaseTransport):
    def __init__(self, app: Emulator, portal: BlockingPortal) -> None:
        # Any: httpx 0.27 (the lowest tested) annotates `app` with dict scopes, narrower than the ASGI types
        self._asgi = httpx.ASGITransport(app=cast(Any, app))
        self._portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def call() -> httpx.Response:
            response = await self._asgi.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return self._portal.call(call)


class InProcessClient(httpx.Client):
    def __init__(self, app: Emulator, base_url: str = "http://mock-finapi", **kwargs: Any) -> None:
        self._portal_cm: AbstractContextManager[BlockingPortal] | None = start_blocking_portal()
        portal = self._portal_cm.__enter__()
        self._app, self._transport_portal = app, portal
        super().__init__(transport=_PortalTransport(app, portal), base_url=base_url, **kwargs)

    def close(self) -> None:
        super().close()
        if self._portal_cm is not None:
            portal_cm, self._portal_cm = self._portal_cm, None
            try:
                # callbacks on their way end and a shared state's connections close before the portal's loop does
                self._transport_portal.call(self._app.sandbox.close)
            finally:
                portal_cm.__exit__(None, None, None)
            self._app.stopped()

    def __exit__(self, *exc_info: object) -> None:
        # httpx.Client.__exit__ closes the transport but not the client, which would leave the portal thread running
        self.close()

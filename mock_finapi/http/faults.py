"""Carrying out a fault rule's action on the wire (the rules themselves live in services/faults.py)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mock_finapi import errors
from mock_finapi.http import render
from mock_finapi.http.context import RequestContext
from mock_finapi.http.protocol import DISCONNECT
from mock_finapi.services.faults import NO_BODY_STATUSES
from mock_finapi.state.models import FaultRule

TRUNCATED_JSON = b'{"access_token": "'
OAUTH_ENDPOINTS = ("/oauth/token", "/oauth/revoke")


class NetworkFault(ConnectionError):
    """A network fault where no real connection exists: in-process clients get it raised from their request."""


def injected_response(rule: FaultRule, ctx: RequestContext, method: str, path: str) -> Response:
    """The rule's `respond`: its body as given, else what finAPI answers with that status: the OAuth error for 401
    (`invalid_client` on the token and revoke endpoints, else `invalid_token`), no body for 204 and 304, and a
    finAPI ErrorMessage for the rest."""
    assert rule.status is not None
    if rule.status in NO_BODY_STATUSES:  # HTTP forbids a body: uvicorn would refuse to send one
        return Response(status_code=rule.status, headers=dict(rule.headers))
    if rule.body is not None:
        return render.JSON(rule.body, status_code=rule.status, headers=dict(rule.headers))
    message = errors.MSG_INJECTED.format(name=rule.name)
    if rule.status == 401 and not render.web_form_api(path):  # the Web Form API answers 401 in its Error shape
        oauth = errors.InvalidClient() if path.endswith(OAUTH_ENDPOINTS) else errors.InvalidToken(message)
        response = render.oauth_error(oauth)
    else:
        response = render.error_message(ctx, method, path, errors.injected(rule.status, message))
    response.headers.update(rule.headers)
    return response


async def break_connection(kind: str, scope: Scope, receive: Receive) -> None:
    """End the request's connection without an answer: `connection_reset` (RST) or anything else (FIN). Returns once
    the server saw the connection go (so it neither answers for the app nor reports the missing answer)."""
    disconnect: Any = scope.get("state", {}).get(DISCONNECT)
    if disconnect is None:
        raise NetworkFault(kind)
    disconnect(reset=kind == "connection_reset")
    while (await receive())["type"] != "http.disconnect":
        pass


async def act(rule: FaultRule, ctx: RequestContext, scope: Scope, receive: Receive, send: Send) -> None:
    """`malformed_json` sends a complete response whose JSON is cut short; other network faults end the connection;
    a `respond` answers as `injected_response` says."""
    if rule.network == "malformed_json":
        await ctx.answer(Response(TRUNCATED_JSON, media_type="application/json"), scope, receive, send)
    elif rule.network is not None:
        await break_connection(rule.network, scope, receive)
    else:
        await ctx.answer(injected_response(rule, ctx, scope["method"], scope["path"]), scope, receive, send)

"""Carrying out a fault rule's action on the wire (the rules themselves live in services/faults.py)."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from mock_finapi import errors
from mock_finapi.http import render
from mock_finapi.http.protocol import TRANSPORT
from mock_finapi.services.faults import FaultRule

TRUNCATED_JSON = b'{"access_token": "'


class NetworkFault(ConnectionError):
    """A network fault where no real connection exists (in-process clients see it as a transport error)."""


def injected_response(rule: FaultRule, request: Request) -> Response:
    """The rule's `respond`: its body as given, or a finAPI ErrorMessage for the status."""
    assert rule.status is not None
    if rule.body is not None:
        return JSONResponse(rule.body, status_code=rule.status, headers=dict(rule.headers))
    error = errors.injected(rule.status, errors.MSG_INJECTED.format(name=rule.name))
    response = render.error_message(request, error)
    response.headers.update(rule.headers)
    return response


async def break_connection(kind: str, scope: Scope, send: Send) -> None:
    """`malformed_json` sends a complete response whose JSON is cut short; the others end the connection."""
    if kind == "malformed_json":
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(TRUNCATED_JSON)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": TRUNCATED_JSON})
        return
    transport: Any = scope.get("extensions", {}).get(TRANSPORT)
    if transport is None:
        raise NetworkFault(kind)
    if kind == "connection_reset":
        sock = transport.get_extra_info("socket")
        if sock is not None:  # SO_LINGER 0: close() sends RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
    for _ in range(10):  # let uvicorn notice the lost connection, so it does not try to answer
        await asyncio.sleep(0)


async def answer(rule: FaultRule, scope: Scope, receive: Receive, send: Send) -> None:
    if rule.network is not None:
        await break_connection(rule.network, scope, send)
    else:
        await injected_response(rule, Request(scope, receive))(scope, receive, send)

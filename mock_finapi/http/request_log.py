"""The structured request log: one line per request on stdout, as text or JSON.

Text: `POST /api/v2/oauth/token 503 1.2ms rid=selfgen-… fault=flaky` (`fault=` only when a rule touched the request).
JSON: `{"time", "method", "path", "status", "durationMs", "requestId", "fault"}` (`fault` null when none).

A line never holds a secret: the query string is left out (v1 clients send credentials there), and the paths that
carry a token (a process token, the token of `POST /__admin/tokens/{token}/expire`) keep only its first characters.
Whatever a client put in a path or header cannot break a line: text lines percent-encode spaces, control
characters and `%` in the path and escape them (`\\x20`) in other values; JSON escapes them anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys

import orjson

from mock_finapi.clock import wall_clock
from mock_finapi.services.journal import TOKEN_PATHS, Entry, mask_path

_PATH_UNSAFE = re.compile(r"[\x00-\x20\x7f%]")
_ESCAPED = {code: f"\\x{code:02x}" for code in (*range(33), 127)}
"""Control characters and the space, which separates the fields of a text line."""


def json_line(entry: Entry, time: str) -> str:
    """The JSON line of a request; `time` is when it is written (RFC 3339)."""
    path = entry.path
    return orjson.dumps(
        {
            "time": time,
            "method": entry.method,
            "path": mask_path(path) if path.startswith(TOKEN_PATHS) else path,
            "status": entry.status,
            "durationMs": entry.duration_ms,
            "requestId": entry.request_id,
            "fault": entry.fault,
        }
    ).decode()


def text_line(entry: Entry, time: str) -> str:
    """The text line of a request (no time: a terminal or CI log has its own)."""
    method, path, request_id, fault = entry.method, entry.path, entry.request_id, entry.fault or ""
    if path.startswith(TOKEN_PATHS):
        path = mask_path(path)
    probe = method + path + request_id + fault
    if not probe.isprintable() or " " in probe or "%" in path:  # rare: something to escape (one check for all)
        method, request_id, fault = _escape(method), _escape(request_id), _escape(fault)
        path = _PATH_UNSAFE.sub(_percent, path)
    return (
        f"{method} {path} {entry.status} {entry.duration_ms:.1f}ms rid={request_id}{' fault=' if fault else ''}{fault}"
    )


def _percent(match: re.Match[str]) -> str:
    return f"%{ord(match[0]):02X}"


def _escape(value: str) -> str:
    return value.translate(_ESCAPED)


class RequestLog:
    """Requests are noted as they end and written to stdout once per turn of the event loop: a reader of a pipe still
    sees each request at once, and a busy server writes many lines per system call. Their JSON `time` is when they
    are written: the requests of one turn share it, a millisecond or less after they ended."""

    def __init__(self, fmt: str) -> None:
        self._line = json_line if fmt == "json" else text_line
        self._ended: list[Entry] = []

    def write(self, entry: Entry) -> None:
        if not self._ended:
            asyncio.get_running_loop().call_soon(self._flush)
        self._ended.append(entry)

    def _flush(self) -> None:
        line, now = self._line, wall_clock().isoformat(timespec="microseconds")
        lines = [line(entry, now) for entry in self._ended]
        self._ended.clear()
        with contextlib.suppress(OSError, ValueError):  # stdout closed (reader gone): serving matters more
            sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()

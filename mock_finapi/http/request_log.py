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
from mock_finapi.services.journal import Entry, mask_path

_PATH_UNSAFE = re.compile(r"[\x00-\x20\x7f%]")
_ESCAPED = {code: f"\\x{code:02x}" for code in (*range(33), 127)}
"""Control characters and the space, which separates the fields of a text line."""


def line(entry: Entry, fmt: str, time: str) -> str:
    """The line of a request; `time` is when it is written (RFC 3339), for JSON."""
    path = mask_path(entry.path)
    if fmt == "json":
        return orjson.dumps(
            {
                "time": time,
                "method": entry.method,
                "path": path,
                "status": entry.status,
                "durationMs": int(entry.duration * 1_000_000) / 1000,  # whole microseconds; far cheaper than round()
                "requestId": entry.request_id,
                "fault": entry.fault,
            }
        ).decode()
    fault = f" fault={_escape(entry.fault)}" if entry.fault else ""
    if not _plain(path) or "%" in path:
        path = _PATH_UNSAFE.sub(_percent, path)
    duration_ms = entry.duration * 1000
    return f"{_escape(entry.method)} {path} {entry.status} {duration_ms:.1f}ms rid={_escape(entry.request_id)}{fault}"


def _percent(match: re.Match[str]) -> str:
    return f"%{ord(match[0]):02X}"


def _plain(value: str) -> bool:
    """Nothing to escape (most values): no control character, no space. Checked first because it is much cheaper."""
    return value.isprintable() and " " not in value


def _escape(value: str) -> str:
    return value if _plain(value) else value.translate(_ESCAPED)


class RequestLog:
    """Requests are noted as they end and written to stdout once per turn of the event loop: a reader of a pipe still
    sees each request at once, a busy server writes many lines per system call, and the lines are formatted together
    (cheaper than one by one between requests). Their JSON `time` is when they are written: the requests of one turn
    share it, a millisecond or less after they ended."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self._ended: list[Entry] = []

    def write(self, entry: Entry) -> None:
        if not self._ended:
            asyncio.get_running_loop().call_soon(self._flush)
        self._ended.append(entry)

    def _flush(self) -> None:
        fmt, now = self.fmt, wall_clock().isoformat(timespec="microseconds")
        text = "".join([line(entry, fmt, now) + "\n" for entry in self._ended])
        self._ended.clear()
        with contextlib.suppress(OSError, ValueError):  # stdout closed (reader gone): serving matters more
            sys.stdout.write(text)
            sys.stdout.flush()

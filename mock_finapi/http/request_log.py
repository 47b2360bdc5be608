"""The structured request log: one line per request on stdout, as text or JSON.

Text: `POST /api/v2/oauth/token 503 1.2ms rid=selfgen-… fault=flaky` (`fault=` only when a rule touched the request).
JSON: `{"time", "method", "path", "status", "durationMs", "requestId", "fault"}` (`fault` null when none).

A line never holds a secret: the query string is left out (v1 clients send credentials there), and the paths that
carry a token (a process token, the token of `POST /__admin/tokens/{token}/expire`, in any spelling: any case,
repeated slashes, any API version) keep only its first characters (`journal.mask_path`).
Whatever a client put in a path or header cannot break a line: text lines percent-encode spaces, control
characters and `%` in the path and escape them (`\\x20`) in other values; JSON escapes them anyway.

Lines are written together: after a quiet spell a request's line is written in the event loop's next turn (a reader
of a pipe sees it at once); while requests keep coming, their lines go out at most every `INTERVAL`, hundreds per
write under load (a write costs beyond its lines: the system call, a file's update). Their JSON `time` is when they
are written: the lines written together share it, at most `INTERVAL` after their requests ended. Lines of a write
that need no escaping, masking or fault (nearly always all of them) are checked at once and formatted by one f-string
each (`_plain`): the log's cost is about half of what formatting each by `text_line`/`json_line` costs.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys

import orjson

from mock_finapi.clock import wall_clock
from mock_finapi.services.journal import mask_path, may_hold_token
from mock_finapi.state.models import Entry

_PATH_UNSAFE = re.compile(r"[\x00-\x20\x7f%]")
_ESCAPED = {code: f"\\x{code:02x}" for code in (*range(33), 127)}
"""Control characters and the space, which separates the fields of a text line."""
INTERVAL = 0.1
"""Seconds between two writes of the log while requests keep coming."""


def _shown_path(path: str) -> str:
    return mask_path(path) if may_hold_token(path) else path


def json_line(entry: Entry, time: str) -> str:
    """The JSON line of a request; `time` is when it is written (RFC 3339)."""
    return orjson.dumps(
        {
            "time": time,
            "method": entry.method,
            "path": _shown_path(entry.path),
            "status": entry.status,
            "durationMs": orjson.Fragment(b"%.3f" % (entry.duration * 1000)),
            "requestId": entry.request_id,
            "fault": entry.fault,
        }
    ).decode()


def text_line(entry: Entry) -> str:
    """The text line of a request (no time: a terminal or CI log has its own)."""
    method, path, request_id, fault = entry.method, _shown_path(entry.path), entry.request_id, entry.fault or ""
    probe = method + path + request_id + fault
    if not probe.isprintable() or " " in probe or "%" in path:  # rare: something to escape (one check for all)
        method, request_id, fault = _escape(method), _escape(request_id), _escape(fault)
        path = _PATH_UNSAFE.sub(_percent, path)
    line = f"{method} {path} {entry.status} {entry.duration * 1000:.1f}ms rid={request_id}"
    return f"{line} fault={fault}" if fault else line


def _plain(entries: list[Entry]) -> bool:
    """Whether none of `entries` needs more than the f-strings of `_text_lines` and `_json_lines`: no fault, no token
    to mask in a path, nothing to escape in a path or request id (for JSON: quotes, backslashes, control characters,
    non-ASCII text; for text also spaces and `%`). Methods are HTTP tokens."""
    if any(entry.fault for entry in entries):
        return False
    paths = {entry.path for entry in entries}  # most are the same few
    text = "".join([*paths, *(entry.request_id for entry in entries)])
    return (
        text.isascii()
        and text.isprintable()
        and not any(c in text for c in ' %"\\')
        and not any(may_hold_token(path) for path in paths)
    )


def _text_lines(entries: list[Entry]) -> str:
    if not _plain(entries):
        return "\n".join([text_line(entry) for entry in entries])
    return "\n".join(  # what `text_line` writes of them
        [f"{e.method} {e.path} {e.status} {e.duration * 1000:.1f}ms rid={e.request_id}" for e in entries]
    )


def _json_lines(entries: list[Entry], time: str) -> str:
    if not _plain(entries):
        return "\n".join([json_line(entry, time) for entry in entries])
    return "\n".join(  # what `json_line` writes of them
        [
            f'{{"time":"{time}","method":"{e.method}","path":"{e.path}","status":{e.status},'
            f'"durationMs":{e.duration * 1000:.3f},"requestId":"{e.request_id}","fault":null}}'
            for e in entries
        ]
    )


def _percent(match: re.Match[str]) -> str:
    return f"%{ord(match[0]):02X}"


def _escape(value: str) -> str:
    return value.translate(_ESCAPED)


class RequestLog:
    """Requests are noted as they end (`add`) and written to stdout together (see the module docstring)."""

    def __init__(self, fmt: str) -> None:
        self.json = fmt == "json"
        self.ended: list[Entry] = []
        """The requests not written yet."""
        self._next_write = 0.0
        """The earliest event-loop time of the next write."""

    def add(self, entry: Entry) -> None:
        if not self.ended:
            loop = asyncio.get_running_loop()
            loop.call_at(self._next_write, self._flush, loop)  # when that is past: in the next turn
        self.ended.append(entry)

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        self._next_write = loop.time() + INTERVAL
        self.write()

    def write(self) -> None:
        """Write the lines of the requests that ended. The host calls it once more when serving stopped (and its
        event loop with it) for the lines still waiting; a write that comes later finds nothing to write."""
        if not self.ended:
            return
        ended, self.ended = self.ended, []
        text = _json_lines(ended, wall_clock().isoformat(timespec="microseconds")) if self.json else _text_lines(ended)
        with contextlib.suppress(OSError, ValueError):  # stdout closed (reader gone): serving matters more
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

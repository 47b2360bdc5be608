"""The structured request log: one line per request on stdout, as text or JSON.

Text: `POST /api/v2/oauth/token 503 1.2ms rid=selfgen-… fault=flaky` (`fault=` only when a rule touched the request).
JSON: `{"time", "method", "path", "status", "durationMs", "requestId", "fault"}` (`fault` null when none).

A line never holds a secret: the query string is left out (v1 clients send credentials there), and the paths that
carry a token (a process token, the token of `POST /__admin/tokens/{token}/expire`) keep only its first characters.
Whatever a client put in a path or header cannot break a line: text lines percent-encode spaces, control
characters and `%` in the path and escape them (`\\x20`) in other values; JSON escapes them anyway.

Lines are written together (`RequestLog`): when none of them needs escaping, masking or a fault (nearly always), by
one f-string per line (`_plain`), else each by `text_line`/`json_line`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from collections.abc import Callable
from operator import itemgetter

import orjson

from mock_finapi.clock import wall_clock
from mock_finapi.services.journal import FIELDS, TOKEN_PATHS, Entry, mask_path

_PATH_UNSAFE = re.compile(r"[\x00-\x20\x7f%]")
_ESCAPED = {code: f"\\x{code:02x}" for code in (*range(33), 127)}
"""Control characters and the space, which separates the fields of a text line."""
_FIELDS = itemgetter(*map(FIELDS.index, ("started", "ended", "method", "path", "status", "request_id")))
"""What a line shows of an entry (its duration from the first two)."""
_FAULT = itemgetter(FIELDS.index("fault"))
_PATH = itemgetter(FIELDS.index("path"))
_REQUEST_ID = itemgetter(FIELDS.index("request_id"))
_NOT_PLAIN = " %\x7f"
"""Characters a plain line has in no path or request id: the text format escapes them."""
INTERVAL = 0.1
"""Seconds between two writes of the log while requests keep coming (see `RequestLog`)."""


def json_line(entry: Entry, time: str) -> str:
    """The JSON line of a request; `time` is when it is written (RFC 3339)."""
    started, ended, method, path, status, request_id = _FIELDS(entry)
    return orjson.dumps(
        {
            "time": time,
            "method": method,
            "path": mask_path(path) if path.startswith(TOKEN_PATHS) else path,
            "status": status,
            "durationMs": orjson.Fragment(b"%.3f" % ((ended - started) * 1000)),  # as `_json_lines` writes it
            "requestId": request_id,
            "fault": _FAULT(entry),
        }
    ).decode()


def text_line(entry: Entry) -> str:
    """The text line of a request (no time: a terminal or CI log has its own)."""
    started, ended, method, path, status, request_id = _FIELDS(entry)
    fault = _FAULT(entry) or ""
    if path.startswith(TOKEN_PATHS):
        path = mask_path(path)
    probe = method + path + request_id + fault
    if not probe.isprintable() or " " in probe or "%" in path:  # rare: something to escape (one check for all)
        method, request_id, fault = _escape(method), _escape(request_id), _escape(fault)
        path = _PATH_UNSAFE.sub(_percent, path)
    line = f"{method} {path} {status} {(ended - started) * 1000:.1f}ms rid={request_id}"  # as `_text_lines` writes it
    return f"{line} fault={fault}" if fault else line


def _percent(match: re.Match[str]) -> str:
    return f"%{ord(match[0]):02X}"


def _escape(value: str) -> str:
    return value.translate(_ESCAPED)


def _plain(entries: list[Entry]) -> bool:
    """Whether no line of `entries` needs more than an f-string gives: a fault, a token to mask, a character to escape.
    All are checked at once, in C: with the f-string's formatting, about a third fewer instructions than line by line.

    Plain means that orjson escapes nothing in the paths and request ids (it would a quote, a backslash or a control
    character, and non-ASCII text lengthens its UTF-8) and they hold none of `_NOT_PLAIN`. Methods are HTTP tokens."""
    if any(map(_FAULT, entries)):
        return False
    paths = set(map(_PATH, entries))  # most are the same few
    client_text = "".join((*paths, *map(_REQUEST_ID, entries)))
    return (
        len(orjson.dumps(client_text)) == len(client_text) + 2
        and not any(map(client_text.__contains__, _NOT_PLAIN))
        and not any(path.startswith(TOKEN_PATHS) for path in paths)
    )


def _text_lines(entries: list[Entry]) -> str:
    if not _plain(entries):
        return "\n".join([text_line(entry) for entry in entries])
    return "\n".join(
        [
            f"{method} {path} {status} {(ended - started) * 1000:.1f}ms rid={request_id}"
            for _, started, ended, method, path, _, status, request_id, _, _, _, _, _ in entries
        ]
    )


def _json_lines(entries: list[Entry]) -> str:
    time = wall_clock().isoformat(timespec="microseconds")
    if not _plain(entries):
        return "\n".join([json_line(entry, time) for entry in entries])
    return "\n".join(  # what `json_line` writes of them
        [
            f'{{"time":"{time}","method":"{method}","path":"{path}","status":{status},'
            f'"durationMs":{(ended - started) * 1000:.3f},"requestId":"{request_id}","fault":null}}'
            for _, started, ended, method, path, _, status, request_id, _, _, _, _, _ in entries
        ]
    )


class RequestLog:
    """Requests are noted as they end and written to stdout together. After a quiet spell of `INTERVAL` a request's
    line is written in the event loop's next turn (a reader of a pipe sees it at once); while requests keep coming,
    their lines go out at most every `INTERVAL`, hundreds per system call under load. Each write has a cost of its
    own, beyond its lines (the system call, and on a file the file system's update of it): head-to-head, writing
    every event-loop turn (a dozen lines under load) cost two to three times as much per line as every 20 ms, and
    every 0.1 s took another 2-3% of throughput off the log's cost; longer intervals gained nothing more. Their JSON
    `time` is when they are written: the requests written together share it, at most `INTERVAL` after they ended."""

    def __init__(self, fmt: str) -> None:
        self._lines: Callable[[list[Entry]], str] = _json_lines if fmt == "json" else _text_lines
        self.ended: list[Entry] = []
        """The requests not written yet: whoever appends to it first calls `flush_soon` (no Python call per request)."""
        self._next_write = 0.0
        """The earliest event-loop time of the next write."""

    def flush_soon(self) -> None:
        loop = asyncio.get_running_loop()
        loop.call_at(self._next_write, self._flush, loop)  # when that is past: in the next turn

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        self._next_write = loop.time() + INTERVAL
        self.write()

    def write(self) -> None:
        """Write the lines of the requests that ended. The host calls it once more when serving stopped (and its
        event loop with it) for the lines still waiting; a write that comes later finds nothing to write."""
        if not self.ended:
            return
        ended = self.ended.copy()
        self.ended.clear()
        text = self._lines(ended)
        with contextlib.suppress(OSError, ValueError):  # stdout closed (reader gone): serving matters more
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

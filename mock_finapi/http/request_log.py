"""The structured request log: one line per request on stdout, as text or JSON.

Text: `POST /api/v2/oauth/token 503 1.2ms rid=selfgen-… fault=flaky` (`fault=` only when a rule touched the request).
JSON: `{"time", "method", "path", "status", "durationMs", "requestId", "fault"}` (`fault` null when none).

A line never holds a secret: the query string is left out (v1 clients send credentials there), and the paths that
carry a token (a process token, the token of `POST /__admin/tokens/{token}/expire`) keep only its first characters.
Whatever a client put in a path or header cannot break a line: text lines percent-encode spaces, control
characters and `%` in the path and escape them (`\\x20`) in other values; JSON escapes them anyway.

The lines of one turn of the event loop are formatted together: when none of them needs escaping, masking or a
fault (nearly always), by one template per line (`_plain_rows`), else each by `text_line`/`json_line`.
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
_TEXT = "%s %s %d %.1fms rid=%s"
"""A text line without a fault, for `%` with `_FIELDS`."""
_FIELDS = itemgetter(*map(FIELDS.index, ("method", "path", "status", "duration_ms", "request_id")))
"""What a line shows of an entry, in the order of the lines."""
_FAULT = itemgetter(FIELDS.index("fault"))
_NOT_PLAIN = " %\x7f"
"""Characters a plain line has in no path or request id: the text format escapes them."""


def json_line(entry: Entry, time: str) -> str:
    """The JSON line of a request; `time` is when it is written (RFC 3339)."""
    method, path, status, duration_ms, request_id = _FIELDS(entry)
    return orjson.dumps(
        {
            "time": time,
            "method": method,
            "path": mask_path(path) if path.startswith(TOKEN_PATHS) else path,
            "status": status,
            "durationMs": orjson.Fragment(b"%.3f" % duration_ms),  # as `_json_lines` writes it
            "requestId": request_id,
            "fault": _FAULT(entry),
        }
    ).decode()


def text_line(entry: Entry) -> str:
    """The text line of a request (no time: a terminal or CI log has its own)."""
    method, path, status, duration_ms, request_id = _FIELDS(entry)
    fault = _FAULT(entry) or ""
    if path.startswith(TOKEN_PATHS):
        path = mask_path(path)
    probe = method + path + request_id + fault
    if not probe.isprintable() or " " in probe or "%" in path:  # rare: something to escape (one check for all)
        method, request_id, fault = _escape(method), _escape(request_id), _escape(fault)
        path = _PATH_UNSAFE.sub(_percent, path)
    line = _TEXT % (method, path, status, duration_ms, request_id)
    return f"{line} fault={fault}" if fault else line


def _percent(match: re.Match[str]) -> str:
    return f"%{ord(match[0]):02X}"


def _escape(value: str) -> str:
    return value.translate(_ESCAPED)


def _plain_rows(entries: list[Entry]) -> list[tuple[str, str, int, float, str]] | None:
    """What the lines of `entries` show (`_FIELDS`), or None when one of them needs more than a template gives: a
    fault, a token to mask, a character to escape. All are checked at once, in C: with the template's formatting,
    about a third fewer instructions than line by line (a log line costs more than recording the request).

    Plain means that orjson escapes nothing in the paths and request ids (it would a quote, a backslash or a control
    character, and non-ASCII text lengthens its UTF-8) and they hold none of `_NOT_PLAIN`. Methods are HTTP tokens."""
    if any(map(_FAULT, entries)):
        return None
    rows = list(map(_FIELDS, entries))
    _, paths, _, _, request_ids = zip(*rows, strict=True)
    distinct_paths = set(paths)  # most are the same few
    client_text = "".join((*distinct_paths, *request_ids))
    if (
        len(orjson.dumps(client_text)) != len(client_text) + 2
        or any(map(client_text.__contains__, _NOT_PLAIN))
        or any(path.startswith(TOKEN_PATHS) for path in distinct_paths)
    ):
        return None
    return rows


def _text_lines(entries: list[Entry]) -> str:
    rows = _plain_rows(entries)
    if rows is None:
        return "\n".join([text_line(entry) for entry in entries])
    return "\n".join(map(_TEXT.__mod__, rows))


def _json_lines(entries: list[Entry]) -> str:
    time = wall_clock().isoformat(timespec="microseconds")
    rows = _plain_rows(entries)
    if rows is None:
        return "\n".join([json_line(entry, time) for entry in entries])
    return "\n".join(  # what `json_line` writes of them
        [
            f'{{"time":"{time}","method":"{method}","path":"{path}","status":{status},"durationMs":{duration_ms:.3f},'
            f'"requestId":"{request_id}","fault":null}}'
            for method, path, status, duration_ms, request_id in rows
        ]
    )


class RequestLog:
    """Requests are noted as they end and written to stdout once per turn of the event loop: a reader of a pipe still
    sees each request at once, and a busy server writes many lines per system call. Their JSON `time` is when they
    are written: the requests of one turn share it, a millisecond or less after they ended."""

    def __init__(self, fmt: str) -> None:
        self._lines: Callable[[list[Entry]], str] = _json_lines if fmt == "json" else _text_lines
        self.ended: list[Entry] = []
        """The requests of this turn: whoever appends to it first calls `flush_soon` (no Python call per request)."""

    def flush_soon(self) -> None:
        asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        ended = self.ended.copy()
        self.ended.clear()
        text = self._lines(ended)
        with contextlib.suppress(OSError, ValueError):  # stdout closed (reader gone): serving matters more
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

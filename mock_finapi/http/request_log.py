"""The structured request log: one line per request on stdout, as text or JSON."""

from __future__ import annotations

import json
import sys

from mock_finapi.clock import wall_clock
from mock_finapi.services.journal import Entry


def line(entry: Entry, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(
            {
                "time": wall_clock().isoformat(timespec="milliseconds"),
                "method": entry.method,
                "path": entry.path,
                "status": entry.status,
                "durationMs": entry.duration_ms,
                "requestId": entry.request_id,
                "fault": entry.fault,
            },
            ensure_ascii=False,
        )
    fault = f" fault={entry.fault}" if entry.fault else ""
    return f"{entry.method} {entry.path} {entry.status} {entry.duration_ms:.1f}ms rid={entry.request_id}{fault}"


def write(entry: Entry, fmt: str) -> None:
    sys.stdout.write(line(entry, fmt) + "\n")
    sys.stdout.flush()

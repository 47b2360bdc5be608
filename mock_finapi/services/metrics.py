"""`GET /__admin/metrics`: the server's counters and the state's sizes in Prometheus' text format (version 0.0.4).

- `mock_finapi_requests_total{method,endpoint,status}`: requests this process answered since it started, by method,
  route template (`unmatched`: no route took the request) and status (`0`: no answer was sent). Counted by
  `RequestLifecycle.record` in a `RequestCounts`; resets and scenario loads keep them.
- gauges of the state (`Store.stats`): clients, users, tokens, grants, processes, journal entries and body bytes.
- `mock_finapi_fault_fired_total{rule}`: the times each fault rule in force acted (`Store.fault_counts`; they start
  over with the rules, as in `GET /__admin/faults`).
- `process_resident_memory_bytes`: this process's resident memory (`VmRSS` of /proc/self/status; left out where
  there is none).
"""

from __future__ import annotations

from collections.abc import Iterable

from mock_finapi.state.models import FaultCount
from mock_finapi.state.protocol import Stats

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UNMATCHED = "unmatched"

RequestCounts = dict[tuple[str, str | None, int], int]
"""Requests answered, by (method, route template or None, status)."""

GAUGES = (
    ("clients", "clients", "Clients (of the scenario and registered at run time)."),
    ("users", "users", "Users."),
    ("tokens", "tokens", "Access and refresh tokens the store holds."),
    ("grants", "grants", "Token grants (a client's tokens, a user's logins)."),
    ("processes", "processes", "Processes of the Process Controller."),
    ("journal_entries", "journal_entries", "Requests the journal holds."),
    ("journal_bytes", "journal_bytes", "Bytes of request bodies the journal holds."),
)
"""(name after `mock_finapi_`, field of `Stats`, help)."""


def render(counts: RequestCounts, stats: Stats, faults: Iterable[FaultCount], rss: int | None) -> str:
    lines = [
        "# HELP mock_finapi_requests_total Requests answered, by method, route template and status.",
        "# TYPE mock_finapi_requests_total counter",
    ]
    for (method, endpoint, status), count in sorted(counts.items(), key=_request_order):
        labels = f'method="{_escape(method)}",endpoint="{_escape(endpoint or UNMATCHED)}",status="{status}"'
        lines.append(f"mock_finapi_requests_total{{{labels}}} {count}")
    for name, field, help_text in GAUGES:
        lines += [
            f"# HELP mock_finapi_{name} {help_text}",
            f"# TYPE mock_finapi_{name} gauge",
            f"mock_finapi_{name} {getattr(stats, field)}",
        ]
    lines += [
        "# HELP mock_finapi_fault_fired_total Times each fault rule in force acted.",
        "# TYPE mock_finapi_fault_fired_total counter",
    ]
    lines += [f'mock_finapi_fault_fired_total{{rule="{_escape(fault.rule.name)}"}} {fault.fired}' for fault in faults]
    if rss is not None:
        lines += [
            "# HELP process_resident_memory_bytes Resident memory size in bytes.",
            "# TYPE process_resident_memory_bytes gauge",
            f"process_resident_memory_bytes {rss}",
        ]
    return "\n".join(lines) + "\n"


def resident_memory(status_file: str = "/proc/self/status") -> int | None:
    """This process's resident memory in bytes, or None where the system does not tell."""
    try:
        with open(status_file, encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024  # in kB
    except (OSError, ValueError, IndexError):
        return None
    return None


def _request_order(item: tuple[tuple[str, str | None, int], int]) -> tuple[str, str, int]:
    (method, endpoint, status), _ = item
    return (endpoint or UNMATCHED, method, status)


def _escape(value: str) -> str:
    """A label value as the text format writes it: backslash, double quote and line feed escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

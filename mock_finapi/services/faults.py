"""Fault injection: rules that make matching requests fail, slow down or break the connection.

A rule (from the scenario's `faults:` list or `POST /__admin/faults`) has
- `match`: `method`, `path` (exact, or a glob with `*`/`?`/`[`; starts with `/` or `*`), `fields` (query parameters and
  form or JSON body fields that must be present and equal; `true`/`false` match JSON booleans) and `client_id` (from the
  body's `client_id`/`clientId`, HTTP Basic, or the client of the bearer token);
- a schedule: `after: N` lets the first N matches through, `times: N` fires N times and then stops, `probability`
  fires with that chance (drawn from the seeded source, so a seed replays the same failures);
- an action: `respond` (status, default 503; headers; body, default a finAPI ErrorMessage, none for 204 and 304),
  `delay_ms` (before answering; alone it slows the real answer down), or `network`: `connection_reset`,
  `empty_response` or `malformed_json`.
The first rule whose match and schedule fire wins. Every response a rule touched carries `X-Mock-Fault: <name>`, so
names and header values must be valid in an HTTP header. A key given as null takes its default.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from mock_finapi.services.journal import path_matches

NETWORK_FAULTS = ("connection_reset", "empty_response", "malformed_json")
RULE_KEYS = ("name", "match", "after", "times", "probability", "respond", "delay_ms", "network")
MATCH_KEYS = ("method", "path", "fields", "client_id")
RESPOND_KEYS = ("status", "headers", "body")
MAX_DELAY_MS = 600_000
NO_BODY_STATUSES: Final = (204, 304)
# Framing headers a rule may not set: they would break the response in ways `network` names explicitly.
FRAMING_HEADERS: Final = ("content-length", "transfer-encoding")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token: header names and methods
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # not allowed in a header value (tab is)


class FaultSpecError(ValueError):
    """A fault rule that does not validate: `path` is the key inside the rule (e.g. `match.method`)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path, self.problem = path, problem


@dataclass(frozen=True)
class FaultRule:
    name: str
    method: str | None = None
    path: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    client_id: str | None = None
    after: int = 0
    times: int | None = None
    probability: float = 1.0
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    delay_ms: int = 0
    network: str | None = None

    @property
    def needs_body(self) -> bool:
        return bool(self.fields) or self.client_id is not None

    def matches(self, method: str, path: str, fields: Mapping[str, Any], client_id: str | None) -> bool:
        return (
            (self.method is None or self.method == method)
            and (self.path is None or path_matches(self.path, path))
            and (self.client_id is None or self.client_id == client_id)
            and all(k in fields and _text(fields[k]) == v for k, v in self.fields.items())
        )

    def view(self) -> dict[str, Any]:
        match = {"method": self.method, "path": self.path, "fields": dict(self.fields), "client_id": self.client_id}
        rule: dict[str, Any] = {
            "name": self.name,
            "match": {k: v for k, v in match.items() if v},
            "after": self.after,
            "times": self.times,
            "probability": self.probability,
            "delay_ms": self.delay_ms,
        }
        if self.status is not None:
            rule["respond"] = {"status": self.status, "headers": dict(self.headers), "body": self.body}
        if self.network is not None:
            rule["network"] = self.network
        return rule


def parse_rule(data: Any, default_name: str) -> FaultRule:
    """A FaultRule from its YAML/JSON form; raises FaultSpecError naming the key."""
    rule = _mapping(data, "", RULE_KEYS)
    name = _get(rule, "name", str, default_name)
    if not name or name != name.strip() or not _header_value(name):
        raise FaultSpecError("name", "must be a non-empty header-safe text without surrounding spaces")
    match = _mapping(_or(rule.get("match"), {}), "match", MATCH_KEYS)
    method = _get(match, "method", str, None, "match.")
    if method is not None and not _TOKEN.fullmatch(method):
        raise FaultSpecError("match.method", "must be an HTTP method such as GET or POST")
    path = _get(match, "path", str, None, "match.")
    if path is not None and not path.startswith(("/", "*")):
        raise FaultSpecError("match.path", "must start with '/' (or be a glob starting with '*')")
    client_id = _get(match, "client_id", str, None, "match.")
    if client_id == "":
        raise FaultSpecError("match.client_id", "must not be empty")
    fields = _mapping(_or(match.get("fields"), {}), "match.fields", None)
    for key, value in fields.items():
        if not isinstance(value, str | int | float | bool):
            raise FaultSpecError(f"match.fields.{key}", "must be a string, number or boolean")
    after = _get(rule, "after", int, 0)
    times = _get(rule, "times", int, None)
    probability = _get(rule, "probability", (int, float), 1.0)
    delay_ms = _get(rule, "delay_ms", int, 0)
    network = _get(rule, "network", str, None)
    respond_data = rule.get("respond")
    respond = _mapping(respond_data, "respond", RESPOND_KEYS) if respond_data is not None else None
    if after < 0 or (times is not None and times < 0):
        raise FaultSpecError("after" if after < 0 else "times", "must not be negative")
    if not 0 <= probability <= 1:
        raise FaultSpecError("probability", "must be between 0 and 1")
    if not 0 <= delay_ms <= MAX_DELAY_MS:
        raise FaultSpecError("delay_ms", f"must be between 0 and {MAX_DELAY_MS}")
    if network is not None and network not in NETWORK_FAULTS:
        raise FaultSpecError("network", f"must be one of {', '.join(NETWORK_FAULTS)}")
    if network is not None and respond is not None:
        raise FaultSpecError("network", "a rule either responds or breaks the connection, not both")
    if network is None and respond is None and not delay_ms:
        raise FaultSpecError("", "a rule needs an action: respond, delay_ms or network")
    status, headers, body = None, {}, None
    if respond is not None:
        status = _get(respond, "status", int, 503, "respond.")
        if not 200 <= status <= 599:
            raise FaultSpecError("respond.status", "must be an HTTP status between 200 and 599")
        headers = _headers(_or(respond.get("headers"), {}))
        body = respond.get("body")
        if body is not None and status in NO_BODY_STATUSES:
            raise FaultSpecError("respond.body", f"a {status} response has no body")
    return FaultRule(
        name=name,
        method=method.upper() if method else None,
        path=path,
        fields={k: _text(v) for k, v in fields.items()},
        client_id=client_id,
        after=after,
        times=times,
        probability=float(probability),
        status=status,
        headers=headers,
        body=body,
        delay_ms=delay_ms,
        network=network,
    )


def _headers(value: Any) -> dict[str, str]:
    headers = _mapping(value, "respond.headers", None)
    for key, item in headers.items():
        where = f"respond.headers.{key}"
        if not _TOKEN.fullmatch(key):
            raise FaultSpecError(where, "is not a valid HTTP header name")
        if key.lower() in FRAMING_HEADERS:
            raise FaultSpecError(where, "cannot be set (use network: malformed_json for a broken answer)")
        if isinstance(item, bool) or not isinstance(item, str | int) or not _header_value(str(item)):
            raise FaultSpecError(where, "must be a string (or integer) valid in an HTTP header")
    return {key: str(item) for key, item in headers.items()}


def _header_value(text: str) -> bool:
    """Can be sent as a header value as it is: latin-1 without control characters."""
    return not _CONTROL.search(text) and all(ord(c) < 256 for c in text)


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _mapping(value: Any, path: str, keys: tuple[str, ...] | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FaultSpecError(path, "must be a mapping")
    for key in value:
        where = f"{path}.{key}" if path else str(key)
        if not isinstance(key, str):
            raise FaultSpecError(where, "keys must be strings")
        if keys is not None and key not in keys:
            raise FaultSpecError(where, f"unknown key (allowed: {', '.join(keys)})")
    return value


def _get(data: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any, prefix: str = "") -> Any:
    value = data.get(key)
    if value is None:
        return default
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise FaultSpecError(prefix + key, f"must be {' or '.join(k.__name__ for k in kinds)}")
    return value


@dataclass
class _Active:
    rule: FaultRule
    matched: int = 0
    fired: int = 0


class Faults:
    """The active rules of a world, with their counters."""

    def __init__(self, rules: list[FaultRule], rng: random.Random) -> None:
        self.active = [_Active(rule) for rule in rules]
        self._rng = rng
        self.needs_body = any(rule.needs_body for rule in rules)

    def add(self, rule: FaultRule) -> None:
        if any(a.rule.name == rule.name for a in self.active):
            raise FaultSpecError("name", f"a rule named '{rule.name}' exists already")
        self.active.append(_Active(rule))
        self.needs_body = self.needs_body or rule.needs_body

    def clear(self) -> None:
        self.active.clear()
        self.needs_body = False

    def views(self) -> list[dict[str, Any]]:
        return [{**a.rule.view(), "matched": a.matched, "fired": a.fired} for a in self.active]

    def pick(self, method: str, path: str, fields: Mapping[str, Any], client_id: str | None) -> FaultRule | None:
        """The rule that fires for this request, counting matches and firings; None lets the request through."""
        for active in self.active:
            rule = active.rule
            if not rule.matches(method, path, fields, client_id):
                continue
            active.matched += 1
            if active.matched <= rule.after or (rule.times is not None and active.fired >= rule.times):
                continue
            if rule.probability < 1 and self._rng.random() >= rule.probability:
                continue
            active.fired += 1
            return rule
        return None

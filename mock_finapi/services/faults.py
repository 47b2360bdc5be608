"""Fault injection: rules that make matching requests fail, slow down or break the connection.

A rule (from the scenario's `faults:` list or `POST /__admin/faults`) has
- `match`: `method`, `path` (exact, or a glob with `*`/`?`/`[`), `fields` (form or JSON body fields that must be
  equal; for the token endpoint also query parameters) and `client_id`;
- a schedule: `after: N` lets the first N matches through, `times: N` fires N times and then stops, `probability`
  fires with that chance (drawn from the seeded source, so a seed replays the same failures);
- an action: `respond` (status, headers, body; the body defaults to a finAPI ErrorMessage), `delay_ms` (before
  answering; alone it slows the real answer down), or `network`: `connection_reset`, `empty_response` or
  `malformed_json`.
The first rule whose match and schedule fire wins. Every response a rule touched carries `X-Mock-Fault: <name>`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mock_finapi.services.journal import path_matches

NETWORK_FAULTS = ("connection_reset", "empty_response", "malformed_json")
RULE_KEYS = ("name", "match", "after", "times", "probability", "respond", "delay_ms", "network")
MATCH_KEYS = ("method", "path", "fields", "client_id")
RESPOND_KEYS = ("status", "headers", "body")
MAX_DELAY_MS = 600_000


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
            and all(str(fields.get(k)) == v for k, v in self.fields.items())
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
    match = _mapping(rule.get("match", {}), "match", MATCH_KEYS)
    method = _get(match, "method", str, None, "match.")
    fields = _mapping(match.get("fields", {}), "match.fields", None)
    for key, value in fields.items():
        if not isinstance(value, str | int | float | bool):
            raise FaultSpecError(f"match.fields.{key}", "must be a string, number or boolean")
    after = _get(rule, "after", int, 0)
    times = _get(rule, "times", int, None)
    probability = _get(rule, "probability", (int, float), 1.0)
    delay_ms = _get(rule, "delay_ms", int, 0)
    network = _get(rule, "network", str, None)
    respond = _mapping(rule.get("respond", {}), "respond", RESPOND_KEYS) if "respond" in rule else None
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
        headers = _mapping(respond.get("headers", {}), "respond.headers", None)
        if not all(isinstance(v, str | int) for v in headers.values()):
            raise FaultSpecError("respond.headers", "values must be strings")
        body = respond.get("body")
    return FaultRule(
        name=name,
        method=method.upper() if method else None,
        path=_get(match, "path", str, None, "match."),
        fields={k: _text(v) for k, v in fields.items()},
        client_id=_get(match, "client_id", str, None, "match."),
        after=after,
        times=times,
        probability=float(probability),
        status=status,
        headers={str(k): str(v) for k, v in headers.items()},
        body=body,
        delay_ms=delay_ms,
        network=network,
    )


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _mapping(value: Any, path: str, keys: tuple[str, ...] | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FaultSpecError(path, "must be a mapping")
    for key in value:
        if not isinstance(key, str) or (keys is not None and key not in keys):
            where = f"{path}.{key}" if path else str(key)
            raise FaultSpecError(where, f"unknown key (allowed: {', '.join(keys or ())})")
    return value


def _get(data: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any, prefix: str = "") -> Any:
    value = data.get(key, default)
    if value is None or value is default:
        return value
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
        self._active = [_Active(rule) for rule in rules]
        self._rng = rng
        self.needs_body = any(rule.needs_body for rule in rules)

    def __bool__(self) -> bool:
        return bool(self._active)

    def add(self, rule: FaultRule) -> None:
        if any(a.rule.name == rule.name for a in self._active):
            raise FaultSpecError("name", f"a rule named '{rule.name}' exists already")
        self._active.append(_Active(rule))
        self.needs_body = self.needs_body or rule.needs_body

    def clear(self) -> None:
        self._active.clear()
        self.needs_body = False

    def views(self) -> list[dict[str, Any]]:
        return [{**a.rule.view(), "matched": a.matched, "fired": a.fired} for a in self._active]

    def pick(self, method: str, path: str, fields: Mapping[str, Any], client_id: str | None) -> FaultRule | None:
        """The rule that fires for this request, counting matches and firings; None lets the request through."""
        for active in self._active:
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

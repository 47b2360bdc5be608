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
A rule with `match: {callback: true}` is outbound: it matches the callbacks the emulator sends (`path` against the
callback URL's path, `fields` against the callback body's top-level fields; no `client_id`) and never a request;
`delay_ms` delays the attempt, `respond` or `network` fail it without sending (`services/callbacks.py`).
The first rule whose match and schedule fire wins (the store counts atomically: `Store.fire_fault`). Every response a
rule touched carries `X-Mock-Fault: <name>`, so names and header values must be valid in an HTTP header. A key given
as null takes its default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, NamedTuple

from mock_finapi import bodies
from mock_finapi.state.models import FaultCount, FaultRule, path_matches
from mock_finapi.state.protocol import Store
from mock_finapi.validation import Fields, Invalid

NETWORK_FAULTS = ("connection_reset", "empty_response", "malformed_json")
RULE_KEYS = ("name", "match", "after", "times", "probability", "respond", "delay_ms", "network")
MATCH_KEYS = ("method", "path", "fields", "client_id", "callback")
RESPOND_KEYS = ("status", "headers", "body")
MAX_DELAY_MS = 600_000
MAX_TEXT = 400
"""Longest name, path glob, method, client id, field name or field value a rule may hold."""
NO_BODY_STATUSES: Final = (204, 304)
# Framing headers a rule may not set: they would break the response in ways `network` names explicitly.
FRAMING_HEADERS: Final = ("content-length", "transfer-encoding")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token: header names and methods
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # not allowed in a header value (tab is)


class FaultRequest(NamedTuple):
    """What rules match on: method, path, the request's fields (query and body) and the client it speaks for."""

    method: str
    path: str
    fields: Mapping[str, Any]
    client_id: str | None
    callback: bool = False
    """A callback the emulator sends (matched by outbound rules only)."""


def matches(rule: FaultRule, request: FaultRequest) -> bool:
    fields = request.fields
    return (
        rule.callback == request.callback
        and (rule.method is None or rule.method == request.method)
        and (rule.path is None or path_matches(rule.path, request.path))
        and (rule.client_id is None or rule.client_id == request.client_id)
        and all(k in fields and _text(fields[k]) == v for k, v in rule.fields.items())
    )


async def pick(store: Store, rules: tuple[FaultRule, ...], request: FaultRequest) -> FaultRule | None:
    """The rule that fires for this request (counted by the store), or None to let it through."""
    matching = [rule.name for rule in rules if matches(rule, request)]
    return await store.fire_fault(matching) if matching else None


def view(rule: FaultRule) -> dict[str, Any]:
    """A rule as the admin API shows it (and takes it back)."""
    match = {
        "method": rule.method,
        "path": rule.path,
        "fields": dict(rule.fields),
        "client_id": rule.client_id,
        "callback": rule.callback,
    }
    shown: dict[str, Any] = {
        "name": rule.name,
        "match": {k: v for k, v in match.items() if v},
        "after": rule.after,
        "times": rule.times,
        "probability": rule.probability,
        "delay_ms": rule.delay_ms,
    }
    if rule.status is not None:
        shown["respond"] = {"status": rule.status, "headers": dict(rule.headers), "body": rule.body}
    if rule.network is not None:
        shown["network"] = rule.network
    return shown


def count_view(count: FaultCount) -> dict[str, Any]:
    return {**view(count.rule), "matched": count.matched, "fired": count.fired}


def parse_rule(data: Any, default_name: str) -> FaultRule:
    """A FaultRule from its YAML/JSON form; raises `Invalid` naming the key inside the rule (`match.method`)."""
    rule = Fields(data, "", RULE_KEYS)
    name = _text_field(rule, "name", default_name)
    if not name or name != name.strip() or not _header_value(name):
        raise rule.invalid("name", "must be a non-empty header-safe text without surrounding spaces")
    match = rule.section("match", MATCH_KEYS)
    method = _text_field(match, "method", None)
    if method is not None and not _TOKEN.fullmatch(method):
        raise match.invalid("method", "must be an HTTP method such as GET or POST")
    path = _text_field(match, "path", None)
    if path is not None and not path.startswith(("/", "*")):
        raise match.invalid("path", "must start with '/' (or be a glob starting with '*')")
    client_id = _text_field(match, "client_id", None)
    if client_id == "":
        raise match.invalid("client_id", "must not be empty")
    callback = match.take("callback", bool, False)
    if callback and client_id is not None:
        raise match.invalid("client_id", "a callback rule (callback: true) matches on path and fields only")
    fields = match.section("fields", None)
    for key, value in fields.data.items():
        if len(str(key)) > MAX_TEXT:
            raise match.invalid("fields", f"a field name must be at most {MAX_TEXT} characters")
        if not isinstance(value, str | int | float | bool) or len(_text(value)) > MAX_TEXT:
            raise fields.invalid(key, f"must be a string, number or boolean of at most {MAX_TEXT} characters")
    after = rule.take("after", int, 0)
    times = rule.take("times", int, None)
    probability = rule.take("probability", (int, float), 1.0)
    delay_ms = rule.take("delay_ms", int, 0)
    network = rule.take("network", str, None)
    respond = rule.section("respond", RESPOND_KEYS) if rule.data.get("respond") is not None else None
    if after < 0 or (times is not None and times < 0):
        raise rule.invalid("after" if after < 0 else "times", "must not be negative")
    if not 0 <= probability <= 1:
        raise rule.invalid("probability", "must be between 0 and 1")
    if not 0 <= delay_ms <= MAX_DELAY_MS:
        raise rule.invalid("delay_ms", f"must be between 0 and {MAX_DELAY_MS}")
    if network is not None and network not in NETWORK_FAULTS:
        raise rule.invalid("network", f"must be one of {', '.join(NETWORK_FAULTS)}")
    if network is not None and respond is not None:
        raise rule.invalid("network", "a rule either responds or breaks the connection, not both")
    if network is None and respond is None and not delay_ms:
        raise Invalid("", "a rule needs an action: respond, delay_ms or network", rule.line)
    status, headers, body = None, {}, None
    if respond is not None:
        status = respond.take("status", int, 503)
        if not 200 <= status <= 599:
            raise respond.invalid("status", "must be an HTTP status between 200 and 599")
        headers = _headers(respond.section("headers", None))
        body = respond.data.get("body")
        if body is not None and status in NO_BODY_STATUSES:
            raise respond.invalid("body", f"a {status} response has no body")
        if bodies.too_deep(body):
            raise respond.invalid("body", f"must not nest objects and arrays deeper than {bodies.MAX_JSON_DEPTH}")
    return FaultRule(
        name=name,
        method=method.upper() if method else None,
        path=path,
        fields={k: _text(v) for k, v in fields.data.items()},
        client_id=client_id,
        after=after,
        times=times,
        probability=float(probability),
        status=status,
        headers=headers,
        body=body,
        delay_ms=delay_ms,
        network=network,
        callback=callback,
    )


def _text_field(fields: Fields, key: str, default: str | None) -> Any:
    value = fields.take(key, str, default)
    if value is not None and len(value) > MAX_TEXT:
        raise fields.invalid(key, f"must be at most {MAX_TEXT} characters")
    return value


def _headers(headers: Fields) -> dict[str, str]:
    for key, item in headers.data.items():
        if not _TOKEN.fullmatch(key):
            raise headers.invalid(key, "is not a valid HTTP header name")
        if key.lower() in FRAMING_HEADERS:
            raise headers.invalid(key, "cannot be set (use network: malformed_json for a broken answer)")
        if isinstance(item, bool) or not isinstance(item, str | int) or not _header_value(str(item)):
            raise headers.invalid(key, "must be a string (or integer) valid in an HTTP header")
    return {key: str(item) for key, item in headers.data.items()}


def _header_value(text: str) -> bool:
    """Can be sent as a header value as it is: latin-1 without control characters."""
    return not _CONTROL.search(text) and all(ord(c) < 256 for c in text)


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)

"""The one parser of request bodies: urlencoded forms and JSON, as the endpoints, the journal and fault matching read
them. `http/body.py` adds the HTTP rules (size, content type) and finAPI's errors."""

from __future__ import annotations

import operator
from typing import Any
from urllib.parse import parse_qsl

import orjson

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MAX_JSON_DEPTH = 64
"""Deeper JSON is refused: no finAPI model nests that far, and masking and rendering stay shallow."""
_split_field = operator.methodcaller("split", "=", 1)


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def parse_form(text: str) -> dict[str, str]:
    """`parse_qsl(text, keep_blank_values=True, strict_parsing=True)` as a dict in the order sent whose repeated keys
    keep their first value. Raises ValueError for a field without `=` (`a=1&b`, `a=1&&b=2`) or bad percent-encoding."""
    if "%" in text or "+" in text:
        return _first_wins(parse_qsl(text, keep_blank_values=True, strict_parsing=True, errors="strict"))
    return _first_wins(list(map(_split_field, text.split("&"))))  # in C: most bodies have nothing to unquote


def query(query_string: bytes) -> dict[str, str]:
    """The parameters of a query string in the order sent, the first of repeated keys winning (as the endpoints
    take them)."""
    return _first_wins(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))


def _first_wins(pairs: list[list[str]] | list[tuple[str, str]]) -> dict[str, str]:
    fields: dict[str, str] = dict(pairs)
    if len(fields) == len(pairs):  # no repeated key: the common case, built in C
        return fields
    first: dict[str, str] = {}
    for key, value in pairs:
        first.setdefault(key, value)
    return first


def parse_json(raw: bytes) -> Any:
    """A JSON document (RFC 8259: strict UTF-8 without lone surrogates, no NaN; a BOM tolerated), nested at most
    MAX_JSON_DEPTH deep. Raises ValueError."""
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    if raw.count(b"{") + raw.count(b"[") > MAX_JSON_DEPTH and _depth(raw.decode("utf-8")) > MAX_JSON_DEPTH:
        raise ValueError("nested too deeply")
    return orjson.loads(raw)  # orjson.JSONDecodeError is a ValueError


def _depth(text: str) -> int:
    """How deep the brackets of a JSON text nest (strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether objects and arrays in `value` (parsed JSON or YAML) nest deeper than `limit` (`{"a": [1]}` is 2 deep).
    Walks level by level without recursion, each container once a level (YAML aliases share them), and stops past
    the limit, so a cyclic value is simply too deep."""
    level: list[Any] = [value]
    for _ in range(limit + 1):
        containers = {id(item): item for item in level if isinstance(item, dict | list)}
        if not containers:
            return False
        level = [item for c in containers.values() for item in (c.values() if isinstance(c, dict) else c)]
    return True


def fields(content_type: str, body: bytes | None) -> dict[str, Any] | None:
    """The fields of a form or JSON object body, parsed as the endpoints parse them (None when there is no body, it
    does not parse, or it is of another type)."""
    if not body:
        return None
    kind = media_type(content_type)
    try:
        if kind == FORM:
            return parse_form(body.decode("utf-8"))
        if kind == JSON:
            data = parse_json(body)
            return data if isinstance(data, dict) else None
    except (ValueError, RecursionError):
        return None
    return None

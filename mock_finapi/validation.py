"""The one validation helper for structured input: scenario files and admin API bodies alike.

`Fields` wraps one mapping at a key path: unknown keys are refused first (with a suggestion for a typo), then each
`take` checks a key's type. A problem raises `Invalid` naming the key path; the scenario loader adds file and line (its
YAML mappings carry `line` and `lines` attributes, which `Invalid.line` picks up), the admin API answers 400.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

REQUIRED: Any = object()
"""`Fields.take` default of a key that must be present."""


class Invalid(ValueError):
    """Input that does not validate: `path` is the key path (`faults[0].match.method`), `line` where it stands."""

    def __init__(self, path: str, problem: str, line: int | None = None) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path, self.problem, self.line = path, problem, line


class Fields:
    """One mapping under validation, with the keys it allows (None: any)."""

    def __init__(self, data: Any, path: str = "", keys: Sequence[str] | None = None, line: int | None = None) -> None:
        self.data, self.path = data, path
        self.line = getattr(data, "line", line)
        if not isinstance(data, dict):
            raise Invalid(path, f"must be a mapping, not {kind_name(data)}", line)
        for key in data:
            if not isinstance(key, str):
                raise Invalid(path, f"keys must be strings, not {kind_name(key)} {key!r}", self.line)
            if keys is not None and key not in keys:
                import difflib  # only for a typo's suggestion: valid input never needs it

                close = difflib.get_close_matches(key, keys, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                raise self.invalid(key, f"unknown key ({hint}allowed: {', '.join(keys)})")

    def path_of(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def line_of(self, key: str) -> int | None:
        lines: dict[str, int] = getattr(self.data, "lines", {})
        return lines.get(key, self.line)

    def invalid(self, key: str, problem: str) -> Invalid:
        return Invalid(self.path_of(key), problem, self.line_of(key))

    def take(self, key: str, kind: type | tuple[type, ...], default: Any = REQUIRED) -> Any:
        """The value of `key` if it has one of the types `kind`; absent or null takes `default` (required when
        none is given). A bool is not an int here."""
        if key not in self.data:
            if default is REQUIRED:
                raise Invalid(self.path_of(key), "is required", self.line)
            return default
        value = self.data[key]
        if value is None and default is not REQUIRED:
            return default
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = [type_name(k) for k in kinds if not (k is int and float in kinds)]  # a number covers integers
            raise self.invalid(key, f"must be {' or '.join(names)}, not {kind_name(value)}")
        return value

    def section(self, key: str, keys: Sequence[str] | None) -> Fields:
        """The mapping under `key` (absent: an empty one)."""
        return Fields(self.take(key, dict, {}), self.path_of(key), keys, self.line_of(key))

    def items(self, key: str) -> list[tuple[str, int | None, Any]]:
        """(path, line, item) for each item of a list-valued key."""
        items = self.take(key, list, [])
        lines = getattr(items, "lines", [self.line_of(key)] * len(items))
        return [(f"{self.path_of(key)}[{i}]", lines[i], item) for i, item in enumerate(items)]


_TYPE_NAMES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", datetime: "a timestamp"}
_TYPE_NAMES |= {date: "a date", dict: "a mapping", list: "a list", type(None): "null"}


def type_name(kind: type) -> str:
    return next((_TYPE_NAMES[k] for k in kind.__mro__ if k in _TYPE_NAMES), kind.__name__)


def kind_name(value: Any) -> str:
    return type_name(type(value))

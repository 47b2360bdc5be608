"""The one validation helper for structured input: scenario files and admin API bodies alike.

`Fields` wraps one mapping at a key path: unknown keys are refused first (all of them, with a suggestion for a typo),
then each `take` checks a key's type. A problem raises `Invalid` naming the key path; the scenario loader adds file
and line (its YAML mappings carry `line` and `lines` attributes, which `Invalid.line` picks up), the admin API answers
400. One `Invalid` may carry several problems (`problems`); its message is the first one's. A `Fields` given a `report`
hands its unknown keys to it and goes on, so a caller can collect every problem of a document.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

REQUIRED: Any = object()
"""`Fields.take` default of a key that must be present."""


class Invalid(ValueError):
    """Input that does not validate: `path` is the key path (`faults[0].match.method`), `line` where it stands.

    `problems` are all the problems found (this one first); `derived` marks a problem that likely follows from
    another one reported beside it (a required key missing from a mapping with an unknown key: the typo of it).
    """

    def __init__(self, path: str, problem: str, line: int | None = None, *, derived: bool = False) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path, self.problem, self.line, self.derived = path, problem, line, derived
        self.problems: tuple[Invalid, ...] = (self,)

    @staticmethod
    def several(problems: Sequence[Invalid]) -> Invalid:
        """One exception for `problems` (at least one): the first, carrying them all."""
        found = [problem for exc in problems for problem in exc.problems]
        first = found[0]
        exc = Invalid(first.path, first.problem, first.line, derived=first.derived)
        exc.problems = (exc, *found[1:])
        return exc

    def under(self, path: str, line: int | None) -> Invalid:
        """These problems, found in a part validated on its own, as problems at `path` (`line` where none is known)."""
        moved = [
            Invalid(f"{path}.{p.path}" if p.path else path, p.problem, p.line or line, derived=p.derived)
            for p in self.problems
        ]
        return Invalid.several(moved)


class Fields:
    """One mapping under validation, with the keys it allows (None: any).

    Its unknown keys are raised as one `Invalid`, or handed to `report` when one is given (then a required key that
    is missing beside an unknown one raises a `derived` problem: most likely it is the unknown key, misspelt).
    """

    def __init__(
        self,
        data: Any,
        path: str = "",
        keys: Sequence[str] | None = None,
        line: int | None = None,
        report: Callable[[Invalid], None] | None = None,
    ) -> None:
        self.data, self.path, self.report = data, path, report
        self.line = getattr(data, "line", line)
        if not isinstance(data, dict):
            raise Invalid(path, f"must be a mapping, not {kind_name(data)}", line)
        for key in data:
            if not isinstance(key, str):
                raise Invalid(path, f"keys must be strings, not {kind_name(key)} {key!r}", self.line)
        self.unknown = [key for key in data if keys is not None and key not in keys]
        if self.unknown and keys is not None:
            found = Invalid.several([self.invalid(key, unknown_key(key, keys)) for key in self.unknown])
            if report is None:
                raise found
            report(found)

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
                raise Invalid(self.path_of(key), "is required", self.line, derived=bool(self.unknown))
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
        return Fields(self.take(key, dict, {}), self.path_of(key), keys, self.line_of(key), self.report)

    def items(self, key: str) -> list[tuple[str, int | None, Any]]:
        """(path, line, item) for each item of a list-valued key."""
        items = self.take(key, list, [])
        lines = getattr(items, "lines", [self.line_of(key)] * len(items))
        return [(f"{self.path_of(key)}[{i}]", lines[i], item) for i, item in enumerate(items)]


def unknown_key(key: str, keys: Sequence[str]) -> str:
    """The problem of an unknown key: the allowed ones, and the nearest one when `key` looks like a typo of it."""
    close = nearest(key, keys)
    hint = f"did you mean '{close}'? " if close else ""
    return f"unknown key ({hint}allowed: {', '.join(keys)})"


def nearest(key: str, known: Sequence[str]) -> str | None:
    """The name in `known` that `key` most likely misspells (letter case ignored), or None."""
    import difflib  # only for a typo's suggestion: valid input never needs it

    by_lower = {name.lower(): name for name in known}
    close = difflib.get_close_matches(key.lower(), list(by_lower), n=1)
    return by_lower[close[0]] if close else None


_TYPE_NAMES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", datetime: "a timestamp"}
_TYPE_NAMES |= {date: "a date", dict: "a mapping", list: "a list", type(None): "null"}


def type_name(kind: type) -> str:
    return next((_TYPE_NAMES[k] for k in kind.__mro__ if k in _TYPE_NAMES), kind.__name__)


def kind_name(value: Any) -> str:
    return type_name(type(value))

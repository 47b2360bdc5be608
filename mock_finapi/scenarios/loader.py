"""Scenario loading: YAML (SafeLoader only) → strict validation → `Scenario`, or a ScenarioError naming
file, line and key path. Nothing half-loaded ever leaves this module.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from mock_finapi.clock import parse_rfc3339
from mock_finapi.errors import ScenarioError
from mock_finapi.scenarios.schema import ClientSpec, ClockSpec, GenerateUsers, Scenario, TokenSpec, UserSpec
from mock_finapi.services import client_config, users

MANDATOR_NAMESPACE = uuid.UUID("5b0c52e6-4f0c-4b8e-9a54-6d6f636b6669")
_MISSING = object()


def builtin_dir() -> Path:
    """Built-in scenarios: inside the installed package, or the repository's `scenarios/` when run from source."""
    packaged = Path(__file__).resolve().parent.parent / "builtin_scenarios"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "scenarios"


def builtin_names() -> list[str]:
    return sorted(p.stem for p in builtin_dir().glob("*.yaml"))


def resolve(ref: str) -> Path:
    """A scenario reference is a built-in name or a path to a YAML file."""
    path = Path(ref)
    if path.is_file():
        return path
    builtin = builtin_dir() / f"{ref}.yaml"
    if "/" not in ref and builtin.is_file():
        return builtin
    raise ScenarioError(ref, None, "", f"no such file or built-in scenario (built-ins: {', '.join(builtin_names())})")


def load(ref: str) -> Scenario:
    path = resolve(ref)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(path), None, "", f"cannot read: {exc}") from None
    return load_text(text, str(path))


def load_text(text: str, source: str) -> Scenario:
    loader = _LineLoader(text)  # a SafeLoader: Python tags are refused
    loader.name = source
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ScenarioError(source, mark.line + 1 if mark else None, "", str(exc.problem or exc)) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(source, None, "", str(exc)) from None
    finally:
        loader.dispose()
    return _Validator(source).scenario(data)


# YAML with line numbers: mappings and sequences remember where each key or item stood.
class _Map(dict[Any, Any]):
    line: int
    lines: dict[Any, int]


class _Seq(list[Any]):
    line: int
    lines: list[int]


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> Any:
    loader.flatten_mapping(node)
    data = _Map()
    data.line, data.lines = node.start_mark.line + 1, {}
    yield data
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise ScenarioError(loader.name, line, "", f"keys must be strings, not {key!r}")
        if key in data:
            raise ScenarioError(loader.name, line, key, "duplicate key")
        data[key] = loader.construct_object(value_node, deep=True)
        data.lines[key] = line


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> Any:
    data = _Seq()
    data.line, data.lines = node.start_mark.line + 1, [n.start_mark.line + 1 for n in node.value]
    yield data
    data.extend(loader.construct_object(n, deep=True) for n in node.value)


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


class _Section:
    """One mapping under validation: `take()` each known key, then `done()` rejects the rest."""

    def __init__(self, validator: _Validator, data: Any, path: str, line: int | None) -> None:
        if not isinstance(data, dict):
            raise validator.error(line, path, f"must be a mapping, not {_kind(data)}")
        self.v, self.data, self.path = validator, data, path
        self.line = getattr(data, "line", line)
        self.taken: set[str] = set()

    def key_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def line_of(self, key: str) -> int | None:
        return getattr(self.data, "lines", {}).get(key, self.line)

    def take(self, key: str, kind: type | tuple[type, ...], default: Any = _MISSING) -> Any:
        self.taken.add(key)
        if key not in self.data or (self.data[key] is None and default is not _MISSING):
            if default is _MISSING:
                raise self.v.error(self.line, self.key_path(key), "is required")
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise self.fail(key, f"must be {names}, not {_kind(value)}")
        return value

    def fail(self, key: str, problem: str) -> ScenarioError:
        return self.v.error(self.line_of(key), self.key_path(key), problem)

    def section(self, key: str) -> _Section:
        return _Section(self.v, self.take(key, dict, {}), self.key_path(key), self.line_of(key))

    def items(self, key: str) -> list[tuple[str, int | None, Any]]:
        """(path, line, item) for each item of a list-valued key."""
        items = self.take(key, list, [])
        lines = getattr(items, "lines", [self.line_of(key)] * len(items))
        return [(f"{self.key_path(key)}[{i}]", lines[i], item) for i, item in enumerate(items)]

    def done(self) -> None:
        for key in self.data:
            if key not in self.taken:
                raise self.fail(key, f"unknown key (allowed: {', '.join(sorted(self.taken))})")


class _Validator:
    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, line: int | None, path: str, problem: str) -> ScenarioError:
        return ScenarioError(self.source, line, path, problem)

    def scenario(self, data: Any) -> Scenario:
        if data is None:
            raise self.error(1, "", "the scenario is empty")
        root = _Section(self, data, "", 1)
        name = root.take("name", str)
        description = root.take("description", str, "")
        seed = root.take("seed", int, None)
        clock = self.clock(root.section("clock"))
        tokens = self.tokens(root.section("tokens"))
        clients = tuple(self.client(path, line, item) for path, line, item in root.items("clients"))
        if not clients:
            raise root.fail("clients", "at least one client is required")
        self.unique(root, "clients", [c.client_id for c in clients], "client_id")
        mandators = {c.mandator_id for c in clients}
        default_mandator = clients[0].mandator_id
        user_specs = tuple(self.user(p, ln, item, default_mandator, mandators) for p, ln, item in root.items("users"))
        self.unique(root, "users", [(u.mandator_id, u.id.lower()) for u in user_specs if isinstance(u, UserSpec)], "id")
        root.done()
        return Scenario(name, self.source, description, seed, clock, tokens, clients, user_specs)

    def unique(self, root: _Section, key: str, values: list[Any], what: str) -> None:
        seen: set[Any] = set()
        for (path, line, _), value in zip(root.items(key), values, strict=False):
            if value in seen:
                raise self.error(line, f"{path}.{what}", f"duplicate {what} {value!r}")
            seen.add(value)

    def clock(self, s: _Section) -> ClockSpec:
        start = s.take("start", (str, datetime), None)
        if isinstance(start, str):
            try:
                start = parse_rfc3339(start)
            except ValueError:
                raise s.fail("start", "must be an RFC 3339 timestamp like 2026-01-01T09:00:00+01:00") from None
        elif isinstance(start, datetime) and start.tzinfo is None:
            raise s.fail("start", "needs a UTC offset, e.g. 2026-01-01T09:00:00+01:00")
        spec = ClockSpec(start, s.take("frozen", bool, False))
        s.done()
        return spec

    def tokens(self, s: _Section) -> TokenSpec:
        fmt = s.take("format", str, "uuid")
        if fmt not in ("uuid", "finapi"):
            raise s.fail("format", "must be uuid or finapi")
        spec = TokenSpec(fmt, s.take("reuse", bool, True))
        s.done()
        return spec

    def client(self, path: str, line: int | None, data: Any) -> ClientSpec:
        s = _Section(self, data, path, line)
        client_id = s.take("client_id", str)
        secret = s.take("client_secret", str)
        for key, value in (("client_id", client_id), ("client_secret", secret)):
            if not value:
                raise s.fail(key, "must not be empty")
        role = s.take("role", str, "app")
        if role not in ("app", "mandator_admin"):
            raise s.fail("role", "must be app or mandator_admin")
        mandator_id = s.take("mandator_id", str, None) or str(uuid.uuid5(MANDATOR_NAMESPACE, client_id))
        config = s.section("config")
        for key in config.data:
            if problem := client_config.check_override(key, config.data[key]):
                raise config.fail(key, problem)
        s.done()
        return ClientSpec(client_id, secret, mandator_id, role, dict(config.data))

    def user(
        self, path: str, line: int | None, data: Any, default: str, mandators: set[str]
    ) -> UserSpec | GenerateUsers:
        s = _Section(self, data, path, line)
        mandator_id = s.take("mandator_id", str, default)
        if mandator_id not in mandators:
            raise s.fail("mandator_id", "must be the mandator_id of one of the scenario's clients")
        verified = s.take("verified", bool, True)
        if "generate" in s.data:
            count = s.take("generate", int)
            if not 0 <= count <= 100_000:
                raise s.fail("generate", "must be between 0 and 100000")
            s.done()
            return GenerateUsers(count, mandator_id, verified)
        fields = {}
        for key, problem in (
            ("id", users.id_problem),
            ("password", users.password_problem),
            ("email", users.email_problem),
            ("phone", users.phone_problem),
        ):
            value = s.take(key, str, None if key in ("email", "phone") else _MISSING)
            if value is not None and (why := problem(value)):
                raise s.fail(key, why)
            fields[key] = value
        spec = UserSpec(
            **fields,
            mandator_id=mandator_id,
            is_auto_update_enabled=s.take("is_auto_update_enabled", bool, False),
            verified=verified,
            locked=s.take("locked", bool, False),
        )
        s.done()
        return spec


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__

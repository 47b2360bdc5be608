"""Scenario loading: YAML (SafeLoader only) → strict validation → `Scenario`, or a ScenarioError naming
file, line and key path. Nothing half-loaded ever leaves this module.

Every mapping is checked for unknown keys before its required keys, so a typo is reported as the typo (with a
suggestion), not as the key it was meant to be. Errors found while parsing (syntax, duplicate keys, unsafe tags)
carry the key path too: the loader tracks where it is while it builds the data. What a scenario makes in total
(users, clients, seeded processes, fault rules, config and fault body values) is capped after YAML aliases are
expanded and before anything is built (`MAX_*` below).
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from mock_finapi.clock import EARLIEST, LATEST, parse_rfc3339
from mock_finapi.errors import ScenarioError
from mock_finapi.scenarios.schema import (
    ClientSpec,
    ClockSpec,
    GenerateUsers,
    ProcessesSpec,
    Scenario,
    SeededProcess,
    TokenSpec,
    UserSpec,
)
from mock_finapi.services import client_config, faults, processes, users
from mock_finapi.state.models import FaultRule
from mock_finapi.state.protocol import ProcessLimits
from mock_finapi.validation import REQUIRED, Fields, Invalid, kind_name

# What one scenario may make, counted after YAML aliases are expanded: an alias repeats what it names, so a few bytes
# could otherwise ask for millions of users ("billion laughs"). Each total is checked before anything is built, so a
# scenario over a cap is refused in milliseconds, by `validate`, `serve` and `POST /__admin/scenario` alike.
MAX_USERS = 100_000
"""Users a scenario lists and generates (`generate: N` counts N), in total."""
MAX_CLIENTS = 1_000
"""Clients a scenario lists."""
MAX_SEEDED_PROCESSES = 10_000
"""Processes a scenario seeds (`processes.seeded`)."""
MAX_FAULT_RULES = 1_000
"""Fault rules a scenario lists."""
MAX_CONFIG_NODES = 10_000
"""Values (mappings, lists and scalars) one client's `config` or one fault rule's `respond.body` expands to: config
values are copied and rendered on every GET /clientConfiguration, a body on every firing of its rule."""
MAX_SCENARIO_VALUES = 100_000
"""Values all client configs and fault bodies of a scenario expand to, together."""

ROOT_KEYS = ("name", "description", "seed", "clock", "tokens", "clients", "users", "processes", "faults")
CLOCK_KEYS = ("start", "frozen")
TOKEN_KEYS = ("format", "reuse")
CLIENT_KEYS = ("client_id", "client_secret", "role", "mandator_id", "config")
USER_KEYS = ("id", "password", "email", "phone", "is_auto_update_enabled", "verified", "locked", "mandator_id")
CLIENTS_KEYS = ("auto_register", "registered")
GENERATE_KEYS = ("generate", "verified", "mandator_id")
PROCESSES_KEYS = (
    "max_exchanges",
    "validity_days",
    "user_retention_days",
    "allowed_process_ids",
    "redirect_url",
    "seeded",
)
SEEDED_PROCESS_KEYS = ("process_token", "client", "client_reference", "process_id", "exchanges", "invalidated")


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
    try:
        loader = _LineLoader(text)  # a SafeLoader: Python tags are refused
    except yaml.reader.ReaderError as exc:  # the reader refuses control characters before parsing starts
        line = text.count("\n", 0, exc.position) + 1
        raise ScenarioError(source, line, "", f"unacceptable character #x{exc.character:04x}: {exc.reason}") from None
    loader.name = source
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = str(exc.problem or exc)
        raise ScenarioError(source, mark.line + 1 if mark else None, loader.where(), problem) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(source, None, loader.where(), str(exc)) from None
    except RecursionError:
        raise ScenarioError(source, loader.get_mark().line + 1, loader.where(), "nested too deeply") from None
    finally:
        loader.dispose()
    try:
        scenario = _Validator().scenario(data)
    except Invalid as exc:
        raise ScenarioError(source, exc.line, exc.path, exc.problem) from None
    return replace(scenario, source=source)


# YAML with line numbers: mappings and sequences remember where each key or item stood.
class _Map(dict[Any, Any]):
    line: int
    lines: dict[Any, int]


class _Seq(list[Any]):
    line: int
    lines: list[int]


class _LineLoader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.trail: list[str] = []
        """The key path of the value under construction (nested values are built depth-first)."""

    def where(self, key: str | None = None) -> str:
        return _join([*self.trail, key] if key is not None else self.trail)


def _join(parts: list[str]) -> str:
    return "".join(p if p.startswith("[") or i == 0 else f".{p}" for i, p in enumerate(parts))


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> Any:
    loader.flatten_mapping(node)
    data = _Map()
    data.line, data.lines = node.start_mark.line + 1, {}
    yield data
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise ScenarioError(
                loader.name, line, loader.where(), f"keys must be strings, not {kind_name(key)} {key!r}"
            )
        if key in data:
            raise ScenarioError(
                loader.name, line, loader.where(key), f"duplicate key (first on line {data.lines[key]})"
            )
        # No try/finally: on an error the trail must still name the place for load_text.
        loader.trail.append(key)
        data[key] = loader.construct_object(value_node, deep=True)
        loader.trail.pop()
        data.lines[key] = line


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> Any:
    data = _Seq()
    data.line, data.lines = node.start_mark.line + 1, [n.start_mark.line + 1 for n in node.value]
    yield data
    for i, item in enumerate(node.value):
        loader.trail.append(f"[{i}]")
        data.append(loader.construct_object(item, deep=True))
        loader.trail.pop()


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def _checked_scalar(tag: str) -> Any:
    """PyYAML's scalar constructors raise plain ValueError, KeyError, ... for values their tag cannot hold
    (`start: 2026-13-45`, `!!int A`, `!!bool x`, `!!float ''`): turn those into a ConstructorError with a mark."""
    construct = yaml.SafeLoader.yaml_constructors[tag]
    kind = tag.rsplit(":", 1)[-1]

    def checked(loader: _LineLoader, node: yaml.ScalarNode) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, IndexError, KeyError, TypeError, AttributeError, OverflowError):
            problem = f"cannot read {node.value!r} as {'a' if kind[0] not in 'aeiou' else 'an'} {kind}"
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from None

    return checked


for _tag in ("bool", "int", "float", "timestamp"):
    _LineLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _checked_scalar(f"tag:yaml.org,2002:{_tag}"))


class _Validator:
    """Builds a Scenario from loaded YAML; raises `Invalid` (load_text adds the file)."""

    def __init__(self) -> None:
        self.values_left = MAX_SCENARIO_VALUES
        """What client configs and fault bodies may still expand to."""

    def scenario(self, data: Any) -> Scenario:
        if data is None:
            raise Invalid("", "the scenario is empty", 1)
        root = Fields(data, "", ROOT_KEYS, 1)
        name = root.take("name", str)
        if not name.strip():
            raise root.invalid("name", "must not be empty")
        description = root.take("description", str, "")
        seed = root.take("seed", int, None)
        clock = self.clock(root.section("clock", CLOCK_KEYS))
        tokens = self.tokens(root.section("tokens", TOKEN_KEYS))
        auto_register = False
        if isinstance(root.data.get("clients"), dict):  # {auto_register: bool, registered: [...]}
            client_section = root.section("clients", CLIENTS_KEYS)
            auto_register = client_section.take("auto_register", bool, False)
            client_items = client_section.items("registered")
            if len(client_items) > MAX_CLIENTS:
                raise client_section.invalid("registered", self.too_many(len(client_items), "clients", MAX_CLIENTS))
        else:
            client_items = root.items("clients")
            if len(client_items) > MAX_CLIENTS:
                raise root.invalid("clients", self.too_many(len(client_items), "clients", MAX_CLIENTS))
        clients = tuple(self.client(path, line, item) for path, line, item in client_items)
        if not clients and not auto_register:
            raise root.invalid("clients", "at least one client is required (or {auto_register: true})")
        self.unique(client_items, [(c.client_id, c.client_id) for c in clients], "client_id")
        mandators = {c.mandator_id for c in clients}
        default_mandator = clients[0].mandator_id if clients else ""
        user_items = root.items("users")
        user_specs = tuple(self.user(p, ln, item, default_mandator, mandators) for p, ln, item in user_items)
        total = sum(u.count if isinstance(u, GenerateUsers) else 1 for u in user_specs)
        if total > MAX_USERS:
            problem = f"the scenario creates {total} users in total (listed and generated), at most {MAX_USERS}"
            raise root.invalid("users", problem)
        user_keys = [((u.mandator_id, u.id.lower()), u.id) if isinstance(u, UserSpec) else None for u in user_specs]
        self.unique(user_items, user_keys, "id")
        app_clients = {c.client_id for c in clients if c.role == "app"}
        process_spec = self.processes(root.section("processes", PROCESSES_KEYS), app_clients)
        fault_rules = self.faults(root)
        return Scenario(
            name,
            "",
            description,
            seed,
            clock,
            tokens,
            clients,
            user_specs,
            process_spec,
            fault_rules,
            auto_register,
        )

    def faults(self, root: Fields) -> tuple[FaultRule, ...]:
        items = root.items("faults")
        if len(items) > MAX_FAULT_RULES:
            raise root.invalid("faults", self.too_many(len(items), "fault rules", MAX_FAULT_RULES))
        rules = []
        for index, (path, line, item) in enumerate(items):
            try:
                rule = faults.parse_rule(item, f"fault-{index + 1}")
            except Invalid as exc:
                where = f"{path}.{exc.path}" if exc.path else path
                raise Invalid(where, exc.problem, exc.line or line) from None
            if rule.body is not None:  # a plain copy, counted: aliases could make it a billion values to render
                body_line = getattr(item["respond"], "lines", {}).get("body", line)
                rule = replace(rule, body=self.plain(rule.body, f"{path}.respond.body", body_line))
            rules.append(rule)
        self.unique(items, [(r.name, r.name) for r in rules], "name")
        return tuple(rules)

    @staticmethod
    def too_many(count: int, what: str, cap: int) -> str:
        return f"the scenario has {count} {what}, at most {cap}"

    def plain(self, value: Any, path: str, line: int | None, budget: list[int] | None = None) -> Any:
        """`value` with plain dicts and lists, its values counted against `budget` (what is left of one config's
        MAX_CONFIG_NODES; None: a budget of its own) and the scenario's MAX_SCENARIO_VALUES."""
        budget = budget or [MAX_CONFIG_NODES]
        allowed = min(budget[0], self.values_left)
        left = [allowed]
        try:
            copy = _plain(value, left)
        except OverflowError:
            if allowed < budget[0]:
                problem = f"client configs and fault bodies expand to more than {MAX_SCENARIO_VALUES} values in total"
            else:
                problem = f"expands to more than {MAX_CONFIG_NODES} values"
            raise Invalid(path, problem, line) from None
        used = allowed - left[0]
        budget[0] -= used
        self.values_left -= used
        return copy

    @staticmethod
    def unique(items: list[tuple[str, int | None, Any]], keys: list[tuple[Any, str] | None], what: str) -> None:
        """Refuse the second item whose key repeats an earlier one's (None: the item has no such key)."""
        seen: dict[Any, str] = {}
        for (path, line, item), entry in zip(items, keys, strict=True):
            if entry is None:
                continue
            key, shown = entry
            if key in seen:
                line = getattr(item, "lines", {}).get(what, line)
                raise Invalid(f"{path}.{what}", f"duplicate {what} '{shown}' (first at {seen[key]})", line)
            seen[key] = path

    @staticmethod
    def clock(s: Fields) -> ClockSpec:
        start = s.take("start", (str, datetime), None)
        if isinstance(start, str):
            try:
                start = parse_rfc3339(start)
            except ValueError:
                raise s.invalid("start", "must be an RFC 3339 timestamp like 2026-01-01T09:00:00+01:00") from None
        elif isinstance(start, datetime) and start.tzinfo is None:
            raise s.invalid("start", "needs a UTC offset, e.g. 2026-01-01T09:00:00+01:00")
        if start is not None and not EARLIEST <= start < LATEST:
            raise s.invalid("start", f"must lie between {EARLIEST.year} and {LATEST.year}")
        return ClockSpec(start, s.take("frozen", bool, False))

    @staticmethod
    def tokens(s: Fields) -> TokenSpec:
        fmt = s.take("format", str, "uuid")
        if fmt not in ("uuid", "finapi"):
            raise s.invalid("format", "must be uuid or finapi")
        return TokenSpec(fmt, s.take("reuse", bool, True))

    def processes(self, s: Fields, client_ids: set[str]) -> ProcessesSpec:
        defaults = ProcessLimits()
        numbers = {}
        for key in ("max_exchanges", "validity_days", "user_retention_days"):
            value = s.take(key, int if key == "max_exchanges" else (int, float), getattr(defaults, key))
            if not 0 <= value < math.inf:  # also refuses .nan
                raise s.invalid(key, "must be a finite number, not negative")
            numbers[key] = value
        allowed = s.take("allowed_process_ids", list, list(defaults.allowed_process_ids))
        if not allowed or not all(isinstance(p, str) and p for p in allowed):
            raise s.invalid("allowed_process_ids", "must be a non-empty list of process ids")
        redirect_url = s.take("redirect_url", str, defaults.redirect_url)
        if urlsplit(redirect_url).scheme not in ("http", "https") or not urlsplit(redirect_url).netloc:
            raise s.invalid("redirect_url", "must be an absolute http(s) URL")
        seeded_items = s.items("seeded")
        if len(seeded_items) > MAX_SEEDED_PROCESSES:
            raise s.invalid("seeded", self.too_many(len(seeded_items), "seeded processes", MAX_SEEDED_PROCESSES))
        seeded = tuple(self.seeded_process(p, ln, item, client_ids, allowed) for p, ln, item in seeded_items)
        self.unique(seeded_items, [(p.process_token.lower(), p.process_token) for p in seeded], "process_token")
        limits = ProcessLimits(**numbers, allowed_process_ids=tuple(allowed), redirect_url=redirect_url)
        return ProcessesSpec(limits, seeded)

    @staticmethod
    def seeded_process(
        path: str, line: int | None, data: Any, client_ids: set[str], allowed: list[str]
    ) -> SeededProcess:
        s = Fields(data, path, SEEDED_PROCESS_KEYS, line)
        token = s.take("process_token", str)
        if not processes.UUID_PATTERN.fullmatch(token):
            raise s.invalid("process_token", "must be a UUID like 3f1c6a52-8d0e-4b7a-9c1d-2e5f6a7b8c9d")
        client_id = s.take("client", str)
        if client_id not in client_ids:
            raise s.invalid("client", "must be the client_id of one of the scenario's app clients")
        process_id = s.take("process_id", str, "USER_ONLY")
        if process_id not in allowed:
            raise s.invalid("process_id", f"must be one of allowed_process_ids ({', '.join(allowed)})")
        exchanges = s.take("exchanges", int, 0)
        if exchanges < 0:
            raise s.invalid("exchanges", "must not be negative")
        reference = s.take("client_reference", str, None)
        return SeededProcess(token, client_id, reference, process_id, exchanges, s.take("invalidated", bool, False))

    def client(self, path: str, line: int | None, data: Any) -> ClientSpec:
        s = Fields(data, path, CLIENT_KEYS, line)
        client_id = s.take("client_id", str)
        secret = s.take("client_secret", str)
        for key, value in (("client_id", client_id), ("client_secret", secret)):
            if not value:
                raise s.invalid(key, "must not be empty")
        role = s.take("role", str, "app")
        if role not in ("app", "mandator_admin"):
            raise s.invalid("role", "must be app or mandator_admin")
        mandator_id = s.take("mandator_id", str, None) or client_config.mandator_for(client_id)
        config = s.section("config", None)
        overrides: dict[str, Any] = {}
        budget = [MAX_CONFIG_NODES]
        for key, value in config.data.items():
            # client_config checks exact types: hand it plain dicts and lists, not the line-tracking kinds
            overrides[key] = self.plain(value, config.path_of(key), config.line_of(key), budget)
            if problem := client_config.check_override(key, overrides[key]):
                raise config.invalid(key, problem)
        return ClientSpec(client_id, secret, mandator_id, role, overrides)

    @staticmethod
    def user(path: str, line: int | None, data: Any, default: str, mandators: set[str]) -> UserSpec | GenerateUsers:
        generate = isinstance(data, dict) and "generate" in data
        s = Fields(data, path, GENERATE_KEYS if generate else USER_KEYS, line)
        mandator_id = s.take("mandator_id", str, default)
        if mandator_id not in mandators:
            raise s.invalid("mandator_id", "must be the mandator_id of one of the scenario's clients")
        verified = s.take("verified", bool, True)
        if generate:
            count = s.take("generate", int)
            if not 0 <= count <= MAX_USERS:
                raise s.invalid("generate", f"must be between 0 and {MAX_USERS}")
            return GenerateUsers(count, mandator_id, verified)
        fields = {}
        for key, problem in (
            ("id", users.id_problem),
            ("password", users.password_problem),
            ("email", users.email_problem),
            ("phone", users.phone_problem),
        ):
            value = s.take(key, str, None if key in ("email", "phone") else REQUIRED)
            if value is not None and (why := problem(value)):
                raise s.invalid(key, why)
            fields[key] = value
        return UserSpec(
            **fields,
            mandator_id=mandator_id,
            is_auto_update_enabled=s.take("is_auto_update_enabled", bool, False),
            verified=verified,
            locked=s.take("locked", bool, False),
        )


def _plain(value: Any, budget: list[int]) -> Any:
    """`value` with plain dicts and lists; OverflowError once more than the budget of values was copied."""
    budget[0] -= 1
    if budget[0] < 0:
        raise OverflowError
    if isinstance(value, dict):
        return {k: _plain(v, budget) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, budget) for v in value]
    return value

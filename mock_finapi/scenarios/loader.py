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
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast, get_args
from urllib.parse import urlsplit

import yaml

from mock_finapi.clock import EARLIEST, LATEST, parse_day, parse_rfc3339
from mock_finapi.errors import ScenarioError
from mock_finapi.scenarios.schema import (
    AccountSpec,
    BankSpec,
    CallbackSpec,
    ClientSpec,
    ClockSpec,
    ConnectionSpec,
    GenerateUsers,
    OutcomeSpec,
    ProcessesSpec,
    Scenario,
    SeededProcess,
    TokenSpec,
    TransactionSpec,
    UpdateSpec,
    UserSpec,
    WebFormsSpec,
)
from mock_finapi.services import bankgen, banks, client_config, faults, processes, users, webform_outcomes
from mock_finapi.state.banking import UpdateResultStatus
from mock_finapi.state.models import FaultRule, Role
from mock_finapi.state.protocol import ProcessLimits
from mock_finapi.state.webforms import WEB_FORM_SECONDS
from mock_finapi.validation import REQUIRED, Fields, Invalid, kind_name, nearest

T = TypeVar("T")
APP: Role = "app"
Item = tuple[str, int | None, Any]
"""An item of a list: its key path (`users[3]`), its line, its value."""

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
MAX_BANKS = 1_000
"""Banks a scenario lists."""
MAX_CONNECTIONS = 100_000
"""Bank connections of all users (a `generate: N` entry's count N times)."""
MAX_ACCOUNTS = 300_000
"""Accounts of all connections (a connection without `accounts` counts the test banks' 3)."""
MAX_TRANSACTIONS = 1_000_000
"""Transactions of all accounts, explicit and generated (a connection without `accounts` counts the test banks'
125)."""
MAX_AMOUNT = 1_000_000_000
"""An amount's absolute value at most (euros)."""
MAX_UPDATING_FOR = 365 * 86_400
"""`updating_for` at most (seconds)."""
MAX_OUTCOMES = 1_000
"""Web form outcomes a scenario lists (`webforms.outcomes`)."""
MAX_CALLBACK_TIMEOUT = 60.0
"""`webforms.callbacks.timeout` at most (seconds)."""
MAX_PROBLEMS = 50
"""Problems one validation reports at most: then it stops (a list of a million broken users reports the first 50)."""

ROOT_KEYS = (
    "name",
    "description",
    "seed",
    "clock",
    "tokens",
    "clients",
    "users",
    "processes",
    "faults",
    "banks",
    "webforms",
)
CLOCK_KEYS = ("start", "frozen")
TOKEN_KEYS = ("format", "reuse")
CLIENT_KEYS = ("client_id", "client_secret", "role", "mandator_id", "config")
USER_KEYS = (
    "id",
    "password",
    "email",
    "phone",
    "is_auto_update_enabled",
    "verified",
    "locked",
    "mandator_id",
    "bank_connections",
)
CLIENTS_KEYS = ("auto_register", "registered")
GENERATE_KEYS = ("generate", "verified", "mandator_id", "bank_connections")
PROCESSES_KEYS = (
    "max_exchanges",
    "validity_days",
    "user_retention_days",
    "allowed_process_ids",
    "redirect_url",
    "seeded",
)
SEEDED_PROCESS_KEYS = ("process_token", "client", "client_reference", "process_id", "exchanges", "invalidated")
BANK_KEYS = ("id", "name", "blz", "bic", "city", "location", "popularity", "is_test_bank", "interfaces")
CONNECTION_KEYS = (
    "bank",
    "name",
    "interface",
    "consent_expires_at",
    "last_update",
    "updating_for",
    "load_owner_data",
    "accounts",
)
UPDATE_KEYS = ("result", "error_message")
WEBFORMS_KEYS = ("callbacks", "outcomes", "task_outcome", "disabled_mandators")
CALLBACK_KEYS = ("allow_http", "verify_tls", "timeout")
OUTCOME_KEYS = ("status", "after", "user", "mandator", "error_code", "bank", "account_types")
ACCOUNT_KEYS = ("type", "name", "iban", "currency", "balance", "overdraft_limit", "transactions")
TRANSACTION_KEYS = (
    "amount",
    "booking_date",
    "value_date",
    "purpose",
    "counterpart_name",
    "counterpart_iban",
    "counterpart_bic",
    "type",
)
ACCOUNT_TYPES = ("Checking", "Savings", "CreditCard", "Security", "Loan", "Membership", "Bausparen")
UPDATE_RESULTS: tuple[UpdateResultStatus, ...] = get_args(UpdateResultStatus)
MAX_BANK_ID = 2**63 - 1
Banks = dict[int, tuple[str, ...]]
"""The interfaces of each bank a connection may name, by id."""


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
        more = tuple((p.line, p.path, p.problem) for p in exc.problems[1:])
        raise ScenarioError(source, exc.line, exc.path, exc.problem, more) from None
    return replace(scenario, source=source, text=text)


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


class _TooManyProblems(Exception):
    """MAX_PROBLEMS were found: validation stops there."""


class _Validator:
    """Builds a Scenario from loaded YAML; raises `Invalid` carrying every problem found (load_text adds the file).

    Parts that do not depend on each other are checked each on its own (each root key, client, user, seeded
    process and fault rule, each key of a client's config, every unknown key), so one run reports all their
    problems. A check that depends on another part (a user's mandator_id on the clients) is skipped while that part
    has problems, and a mapping's missing required key beside an unknown key is not reported (it is the typo).
    """

    def __init__(self) -> None:
        self.values_left = MAX_SCENARIO_VALUES
        """What client configs and fault bodies may still expand to."""
        self.values_exhausted = False
        """MAX_SCENARIO_VALUES was reported: later configs and bodies are not copied (nor reported again)."""
        self.problems: list[Invalid] = []
        self.checked_connections: dict[int, tuple[ConnectionSpec, ...]] = {}
        """`bank_connections` lists already checked (without problems), by identity: aliases repeat them."""
        self.checked_transactions: dict[int, tuple[TransactionSpec, ...]] = {}
        """Transaction lists already checked (without problems), by identity."""

    def record(self, exc: Invalid) -> None:
        for problem in exc.problems:
            if problem.derived:
                continue
            self.problems.append(Invalid(problem.path, problem.problem, problem.line))  # alone, not with its others
            if len(self.problems) >= MAX_PROBLEMS:
                raise _TooManyProblems

    def attempt(self, check: Callable[[], T], fallback: T) -> T:
        """`check()`, or `fallback` once its problem is recorded."""
        try:
            return check()
        except Invalid as exc:
            self.record(exc)
            return fallback

    def count(self) -> int:
        return len(self.problems)

    def scenario(self, data: Any) -> Scenario:
        if data is None:
            raise Invalid("", "the scenario is empty", 1)
        try:
            scenario = self.checked(data)
        except _TooManyProblems:
            self.problems.append(Invalid("", f"stopped after {MAX_PROBLEMS} problems: fix these first", None))
        if self.problems:
            ordered = sorted(self.problems, key=lambda p: math.inf if p.line is None else p.line)
            raise Invalid.several(ordered)
        return scenario

    def checked(self, data: Any) -> Scenario:
        root = Fields(data, "", ROOT_KEYS, 1, self.record)
        name = self.attempt(lambda: self.name(root), "")
        description = self.attempt(lambda: root.take("description", str, ""), "")
        seed = self.attempt(lambda: root.take("seed", int, None), None)
        clock = self.attempt(lambda: self.clock(root.section("clock", CLOCK_KEYS)), ClockSpec())
        tokens = self.attempt(lambda: self.tokens(root.section("tokens", TOKEN_KEYS)), TokenSpec())
        before = self.count()
        clients, auto_register = self.clients(root)
        mandators = {c.mandator_id for c in clients} if self.count() == before else None  # None: not known
        default_mandator = clients[0].mandator_id if clients else ""
        before = self.count()
        bank_specs = self.banks(root)
        known_banks = self.known_banks(bank_specs) if self.count() == before else None
        user_specs = self.users(root, default_mandator, mandators, known_banks)
        app_clients = {c.client_id for c in clients if c.role == "app"} if mandators is not None else None
        process_spec = self.attempt(
            lambda: self.processes(root.section("processes", PROCESSES_KEYS), app_clients), ProcessesSpec()
        )
        fault_rules = self.faults(root)
        known_mandators = None if auto_register else mandators  # auto-registered clients bring mandators of their own
        webforms = self.attempt(
            lambda: self.webforms(root.section("webforms", WEBFORMS_KEYS), known_mandators, known_banks),
            WebFormsSpec(),
        )
        return Scenario(
            name,
            "",
            description=description,
            seed=seed,
            clock=clock,
            tokens=tokens,
            clients=clients,
            users=user_specs,
            processes=process_spec,
            faults=fault_rules,
            auto_register=auto_register,
            webforms=webforms,
            banks=bank_specs,
        )

    @staticmethod
    def name(root: Fields) -> str:
        name: str = root.take("name", str)
        if not name.strip():
            raise root.invalid("name", "must not be empty")
        return name

    def items(self, fields: Fields, key: str) -> list[Item]:
        """(path, line, item) of each item of a list-valued key; none when the key is not a list."""
        none: list[Item] = []
        return self.attempt(lambda: fields.items(key), none)

    def each(self, items: list[Item], check: Callable[[str, int | None, Any], T]) -> list[tuple[Item, T]]:
        """Each item checked on its own: those that pass, with what `check` made of them."""
        passed = []
        for item in items:
            try:
                passed.append((item, check(*item)))
            except Invalid as exc:
                self.record(exc)
        return passed

    def clients(self, root: Fields) -> tuple[tuple[ClientSpec, ...], bool]:
        before = self.count()
        auto_register = False
        owner, key = root, "clients"
        if isinstance(root.data.get("clients"), dict):  # {auto_register: bool, registered: [...]}
            owner, key = root.section("clients", CLIENTS_KEYS), "registered"
            auto_register = self.attempt(lambda: owner.take("auto_register", bool, False), False)
        items = self.items(owner, key)
        if len(items) > MAX_CLIENTS:
            self.record(owner.invalid(key, self.too_many(len(items), "clients", MAX_CLIENTS)))
            return (), auto_register
        parsed = self.each(items, self.client)
        # not when `clients` has problems, nor when it is missing beside an unknown root key (likely its typo)
        if not items and not auto_register and self.count() == before and ("clients" in root.data or not root.unknown):
            self.record(root.invalid("clients", "at least one client is required (or {auto_register: true})"))
        self.unique([(item, (cid, cid)) for item in items if (cid := _written(item[2], "client_id"))], "client_id")
        return tuple(c for _, c in parsed), auto_register

    def users(
        self, root: Fields, default: str, mandators: set[str] | None, known_banks: Banks | None
    ) -> tuple[UserSpec | GenerateUsers, ...]:
        items = self.items(root, "users")
        if self.bank_data_over_caps(root, items):
            return ()
        parsed = self.each(items, lambda path, line, data: self.user(path, line, data, default, mandators, known_banks))
        total = sum(u.count if isinstance(u, GenerateUsers) else 1 for _, u in parsed)
        if total > MAX_USERS:
            problem = f"the scenario creates {total} users in total (listed and generated), at most {MAX_USERS}"
            self.record(root.invalid("users", problem))
            return ()
        listed = []
        for item in items:  # every listed user with an id, whatever else it has wrong
            data = item[2]
            if (uid := _written(data, "id")) and "generate" not in data:
                mandator = data.get("mandator_id") or default
                listed.append((item, ((mandator, uid.lower()), uid)))
        self.unique(listed, "id")
        return tuple(u for _, u in parsed)

    def faults(self, root: Fields) -> tuple[FaultRule, ...]:
        items = self.items(root, "faults")
        if len(items) > MAX_FAULT_RULES:
            self.record(root.invalid("faults", self.too_many(len(items), "fault rules", MAX_FAULT_RULES)))
            return ()
        parsed = []
        for index, item in enumerate(items):  # each rule on its own, named after its place unless it has a name
            try:
                parsed.append((item, self.fault(*item, f"fault-{index + 1}")))
            except Invalid as exc:
                self.record(exc)
        self.unique([(item, (r.name, r.name)) for item, r in parsed], "name")
        return tuple(r for _, r in parsed)

    def fault(self, path: str, line: int | None, item: Any, default_name: str) -> FaultRule:
        try:
            rule = faults.parse_rule(item, default_name)
        except Invalid as exc:
            raise exc.under(path, line) from None
        if rule.body is not None:  # a plain copy, counted: aliases could make it a billion values to render
            body_line = getattr(item["respond"], "lines", {}).get("body", line)
            rule = replace(rule, body=self.plain(rule.body, f"{path}.respond.body", body_line))
        return rule

    @staticmethod
    def too_many(count: int, what: str, cap: int) -> str:
        return f"the scenario has {count} {what}, at most {cap}"

    def plain(self, value: Any, path: str, line: int | None, budget: list[int] | None = None) -> Any:
        """`value` with plain dicts and lists, its values counted against `budget` (what is left of one config's
        MAX_CONFIG_NODES; None: a budget of its own) and the scenario's MAX_SCENARIO_VALUES."""
        budget = budget or [MAX_CONFIG_NODES]
        if self.values_exhausted:
            raise Invalid(path, "not checked: the scenario's values are exhausted", line, derived=True)
        allowed = min(budget[0], self.values_left)
        left = [allowed]
        try:
            copy = _plain(value, left)
        except OverflowError:
            if allowed < budget[0]:
                self.values_exhausted = True
                problem = f"client configs and fault bodies expand to more than {MAX_SCENARIO_VALUES} values in total"
            else:
                problem = f"expands to more than {MAX_CONFIG_NODES} values"
            raise Invalid(path, problem, line) from None
        used = allowed - left[0]
        budget[0] -= used
        self.values_left -= used
        return copy

    def unique(self, keyed: list[tuple[Item, tuple[Any, str]]], what: str) -> None:
        """Report each item whose key repeats an earlier one's (`keyed`: each item with its key and how it is shown;
        items with other problems too, so those are reported in the same run)."""
        seen: dict[Any, str] = {}
        for (path, line, item), (key, shown) in keyed:
            if key in seen:
                line = getattr(item, "lines", {}).get(what, line)
                self.record(Invalid(f"{path}.{what}", f"duplicate {what} '{shown}' (first at {seen[key]})", line))
            else:
                seen[key] = path

    def clock(self, s: Fields) -> ClockSpec:
        return ClockSpec(
            self.attempt(lambda: self.timestamp(s, "start"), None),
            self.attempt(lambda: s.take("frozen", bool, False), False),
        )

    @staticmethod
    def timestamp(s: Fields, key: str) -> datetime | None:
        when = s.take(key, (str, datetime), None)
        if isinstance(when, str):
            try:
                when = parse_rfc3339(when)
            except ValueError:
                raise s.invalid(key, "must be an RFC 3339 timestamp like 2026-01-01T09:00:00+01:00") from None
        elif isinstance(when, datetime) and when.tzinfo is None:
            raise s.invalid(key, "needs a UTC offset, e.g. 2026-01-01T09:00:00+01:00")
        if when is not None and not EARLIEST <= when < LATEST:
            raise s.invalid(key, f"must lie between {EARLIEST.year} and {LATEST.year}")
        return cast(datetime | None, when)

    def tokens(self, s: Fields) -> TokenSpec:
        return TokenSpec(
            self.attempt(lambda: self.token_format(s), "uuid"), self.attempt(lambda: s.take("reuse", bool, True), True)
        )

    @staticmethod
    def token_format(s: Fields) -> str:
        fmt: str = s.take("format", str, "uuid")
        if fmt not in ("uuid", "finapi"):
            raise s.invalid("format", "must be uuid or finapi")
        return fmt

    def processes(self, s: Fields, client_ids: set[str] | None) -> ProcessesSpec:
        """`client_ids` None: the clients have problems, so a seeded process's client is not checked."""
        defaults = ProcessLimits()
        numbers = {}
        for key in ("max_exchanges", "validity_days", "user_retention_days"):
            numbers[key] = self.attempt(partial(self.limit, s, key, getattr(defaults, key)), getattr(defaults, key))
        allowed_before = self.count()
        allowed = self.attempt(lambda: self.allowed_process_ids(s, defaults), list(defaults.allowed_process_ids))
        allowed_known = self.count() == allowed_before
        redirect_url = self.attempt(lambda: self.redirect_url(s, defaults), defaults.redirect_url)
        seeded_items = self.items(s, "seeded")
        if len(seeded_items) > MAX_SEEDED_PROCESSES:
            self.record(s.invalid("seeded", self.too_many(len(seeded_items), "seeded processes", MAX_SEEDED_PROCESSES)))
            seeded_items = []
        known_allowed = allowed if allowed_known else None
        parsed = self.each(
            seeded_items, lambda path, line, data: self.seeded_process(path, line, data, client_ids, known_allowed)
        )
        tokens = [(item, (pt.lower(), pt)) for item in seeded_items if (pt := _written(item[2], "process_token"))]
        self.unique(tokens, "process_token")
        limits = ProcessLimits(**numbers, allowed_process_ids=tuple(allowed), redirect_url=redirect_url)
        return ProcessesSpec(limits, tuple(p for _, p in parsed))

    @staticmethod
    def limit(s: Fields, key: str, default: float) -> Any:
        value = s.take(key, int if key == "max_exchanges" else (int, float), default)
        if not 0 <= value < math.inf:  # also refuses .nan
            raise s.invalid(key, "must be a finite number, not negative")
        return value

    @staticmethod
    def allowed_process_ids(s: Fields, defaults: ProcessLimits) -> list[str]:
        allowed: list[str] = s.take("allowed_process_ids", list, list(defaults.allowed_process_ids))
        if not allowed or not all(isinstance(p, str) and p for p in allowed):
            raise s.invalid("allowed_process_ids", "must be a non-empty list of process ids")
        return allowed

    @staticmethod
    def redirect_url(s: Fields, defaults: ProcessLimits) -> str:
        redirect_url: str = s.take("redirect_url", str, defaults.redirect_url)
        if urlsplit(redirect_url).scheme not in ("http", "https") or not urlsplit(redirect_url).netloc:
            raise s.invalid("redirect_url", "must be an absolute http(s) URL")
        return redirect_url

    def seeded_process(
        self, path: str, line: int | None, data: Any, client_ids: set[str] | None, allowed: list[str] | None
    ) -> SeededProcess:
        """`client_ids` or `allowed` None: not known (they have problems of their own), so not checked."""
        s = Fields(data, path, SEEDED_PROCESS_KEYS, line, self.record)
        before = self.count()
        token = self.attempt(partial(self.process_token, s), "")
        client_id = self.attempt(partial(self.process_client, s, client_ids), "")
        process_id = self.attempt(partial(self.process_id, s, allowed), "")
        exchanges = self.attempt(partial(self.exchanges, s), 0)
        reference = self.attempt(lambda: s.take("client_reference", str, None), None)
        invalidated = self.attempt(lambda: s.take("invalidated", bool, False), False)
        if self.count() != before:
            raise Invalid(path, "has problems", line, derived=True)  # reported above: this process is not made
        return SeededProcess(token, client_id, reference, process_id, exchanges, invalidated)

    @staticmethod
    def process_token(s: Fields) -> str:
        token: str = s.take("process_token", str)
        if not processes.UUID_PATTERN.fullmatch(token):
            raise s.invalid("process_token", "must be a UUID like 3f1c6a52-8d0e-4b7a-9c1d-2e5f6a7b8c9d")
        return token

    @staticmethod
    def process_client(s: Fields, client_ids: set[str] | None) -> str:
        client_id: str = s.take("client", str)
        if client_ids is not None and client_id not in client_ids:
            raise s.invalid("client", "must be the client_id of one of the scenario's app clients")
        return client_id

    @staticmethod
    def process_id(s: Fields, allowed: list[str] | None) -> str:
        process_id: str = s.take("process_id", str, "USER_ONLY")
        if allowed is not None and process_id not in allowed:
            raise s.invalid("process_id", f"must be one of allowed_process_ids ({', '.join(allowed)})")
        return process_id

    @staticmethod
    def exchanges(s: Fields) -> int:
        exchanges: int = s.take("exchanges", int, 0)
        if exchanges < 0:
            raise s.invalid("exchanges", "must not be negative")
        return exchanges

    def client(self, path: str, line: int | None, data: Any) -> ClientSpec:
        s = Fields(data, path, CLIENT_KEYS, line, self.record)
        before = self.count()
        client_id = self.attempt(partial(self.text, s, "client_id"), "")
        secret = self.attempt(partial(self.text, s, "client_secret"), "")
        role = self.attempt(partial(self.role, s), APP)
        mandator_id = self.attempt(lambda: s.take("mandator_id", str, None), None) or client_config.mandator_for(
            client_id
        )
        no_overrides: dict[str, Any] = {}
        overrides = self.attempt(lambda: self.config(s.section("config", None)), no_overrides)
        if self.count() != before:
            raise Invalid(path, "has problems", line, derived=True)  # reported above: this client is not made
        return ClientSpec(client_id, secret, mandator_id, role, overrides)

    @staticmethod
    def text(s: Fields, key: str) -> str:
        value: str = s.take(key, str)
        if not value:
            raise s.invalid(key, "must not be empty")
        return value

    @staticmethod
    def role(s: Fields) -> Role:
        role = s.take("role", str, "app")
        if role not in ("app", "mandator_admin"):
            raise s.invalid("role", "must be app or mandator_admin")
        return cast(Role, role)

    def config(self, config: Fields) -> dict[str, Any]:
        """A client's config overrides: each key checked on its own, a mistyped name with the nearest known one."""
        overrides: dict[str, Any] = {}
        budget = [MAX_CONFIG_NODES]
        problems = []
        for key, value in config.data.items():
            if key not in client_config.DEFAULTS:
                close = nearest(key, list(client_config.DEFAULTS))
                hint = f"did you mean {close}?" if close else f"known: {', '.join(sorted(client_config.DEFAULTS))}"
                problems.append(config.invalid(key, f"unknown ClientConfiguration field ({hint})"))
                continue
            try:
                # client_config checks exact types: hand it plain dicts and lists, not the line-tracking kinds
                overrides[key] = self.plain(value, config.path_of(key), config.line_of(key), budget)
            except Invalid as exc:
                problems.append(exc)
                break  # the budget is spent: later keys would only repeat it
            if problem := client_config.check_override(key, overrides[key]):
                problems.append(config.invalid(key, problem))
        if problems:
            raise Invalid.several(problems)
        return overrides

    def user(
        self,
        path: str,
        line: int | None,
        data: Any,
        default: str,
        mandators: set[str] | None,
        known_banks: Banks | None,
    ) -> UserSpec | GenerateUsers:
        """`mandators` None: the clients have problems, so the user's mandator_id is not checked; `known_banks`
        None: the banks have problems, so a connection's bank is not checked."""
        generate = isinstance(data, dict) and "generate" in data
        s = Fields(data, path, GENERATE_KEYS if generate else USER_KEYS, line, self.record)
        before = self.count()
        mandator_id = self.attempt(partial(self.user_mandator, s, default, mandators), default)
        verified = self.attempt(lambda: s.take("verified", bool, True), True)
        connections = self.connections(s, known_banks)
        if generate:
            count = self.attempt(partial(self.generate, s), 0)
            if self.count() != before:
                raise Invalid(path, "has problems", line, derived=True)
            return GenerateUsers(count, mandator_id, verified, connections)
        fields: dict[str, Any] = {}
        for key, problem in (
            ("id", users.id_problem),
            ("password", users.password_problem),
            ("email", users.email_problem),
            ("phone", users.phone_problem),
        ):
            fields[key] = self.attempt(partial(self.user_field, s, key, problem), None)
        auto_update = self.attempt(lambda: s.take("is_auto_update_enabled", bool, False), False)
        locked = self.attempt(lambda: s.take("locked", bool, False), False)
        if self.count() != before:
            raise Invalid(path, "has problems", line, derived=True)  # reported above: this user is not made
        return UserSpec(
            **fields,
            mandator_id=mandator_id,
            is_auto_update_enabled=auto_update,
            verified=verified,
            locked=locked,
            bank_connections=connections,
        )

    @staticmethod
    def user_mandator(s: Fields, default: str, mandators: set[str] | None) -> str:
        mandator_id: str = s.take("mandator_id", str, default)
        if mandators is not None and mandator_id not in mandators:
            raise s.invalid("mandator_id", "must be the mandator_id of one of the scenario's clients")
        return mandator_id

    @staticmethod
    def generate(s: Fields) -> int:
        count: int = s.take("generate", int)
        if not 0 <= count <= MAX_USERS:
            raise s.invalid("generate", f"must be between 0 and {MAX_USERS}")
        return count

    @staticmethod
    def user_field(s: Fields, key: str, problem: Callable[[str], str | None]) -> str | None:
        value: str | None = s.take(key, str, None if key in ("email", "phone") else REQUIRED)
        if value is not None and (why := problem(value)):
            raise s.invalid(key, why)
        return value

    # ------------------------------------------------------------------------------------------------ web forms

    def webforms(self, s: Fields, mandators: set[str] | None, known_banks: Banks | None) -> WebFormsSpec:
        """`webforms:` (WEBFORM.md §3, §4, §7.16); `mandators` or `known_banks` None: not known (they have problems
        of their own, or clients register themselves), so an outcome's mandator or bank is not checked."""
        callbacks = self.attempt(lambda: self.callbacks(s.section("callbacks", CALLBACK_KEYS)), CallbackSpec())
        items = self.items(s, "outcomes")
        if len(items) > MAX_OUTCOMES:
            self.record(s.invalid("outcomes", self.too_many(len(items), "web form outcomes", MAX_OUTCOMES)))
            items = []
        parsed = self.each(items, partial(self.outcome, mandators=mandators, known_banks=known_banks))
        task_outcome = self.attempt(partial(self.choice, s, "task_outcome", webform_outcomes.TASK_OUTCOMES), None)
        no_mandators: tuple[str, ...] = ()
        disabled = self.attempt(partial(self.disabled_mandators, s, mandators), no_mandators)
        return WebFormsSpec(callbacks, tuple(outcome for _, outcome in parsed), task_outcome, disabled)

    def callbacks(self, s: Fields) -> CallbackSpec:
        allow_http = self.attempt(lambda: s.take("allow_http", bool, False), False)
        verify_tls = self.attempt(lambda: s.take("verify_tls", bool, False), False)
        timeout = self.attempt(partial(self.callback_timeout, s), CallbackSpec().timeout)
        return CallbackSpec(allow_http, verify_tls, timeout)

    @staticmethod
    def callback_timeout(s: Fields) -> float:
        seconds: float = s.take("timeout", (int, float), CallbackSpec().timeout)
        if not 0 < seconds <= MAX_CALLBACK_TIMEOUT:
            raise s.invalid("timeout", f"must be a number of seconds above 0, at most {MAX_CALLBACK_TIMEOUT:g}")
        return float(seconds)

    @staticmethod
    def choice(s: Fields, key: str, allowed: tuple[str, ...]) -> str | None:
        value: str | None = s.take(key, str, None)
        if value is not None and value not in allowed:
            raise s.invalid(key, f"must be {webform_outcomes.one_of(allowed)}")
        return value

    @staticmethod
    def disabled_mandators(s: Fields, mandators: set[str] | None) -> tuple[str, ...]:
        listed: list[Any] = s.take("disabled_mandators", list, [])
        if not all(isinstance(m, str) and m for m in listed) or len(set(listed)) != len(listed):
            raise s.invalid("disabled_mandators", "must be a list of mandator ids, each once")
        unknown = [m for m in listed if mandators is not None and m not in mandators]
        if unknown:
            problem = f"'{unknown[0]}' is not the mandator_id of one of the scenario's clients"
            raise s.invalid("disabled_mandators", problem)
        return tuple(listed)

    def outcome(
        self, path: str, line: int | None, data: Any, mandators: set[str] | None, known_banks: Banks | None
    ) -> OutcomeSpec:
        s = Fields(data, path, OUTCOME_KEYS, line, self.record)
        before = self.count()
        status = self.attempt(partial(self.outcome_status, s), None)
        after = self.attempt(partial(self.outcome_after, s), 0.0)
        user = self.attempt(partial(self.outcome_user, s), None)
        mandator = self.attempt(partial(self.outcome_mandator, s, mandators), None)
        error_code = self.attempt(partial(self.outcome_error_code, s, status), None)
        bank = self.attempt(partial(self.outcome_bank, s, status, known_banks), None)
        types = self.attempt(partial(self.outcome_account_types, s, status), None)
        if self.count() != before or status is None:
            raise Invalid(path, "has problems", line, derived=True)  # reported above: this outcome is not made
        if status == "COMPLETED_WITH_ERROR" and error_code is None:
            error_code = webform_outcomes.DEFAULT_ERROR_CODE
        return OutcomeSpec(status, after, user, mandator, error_code, bank, types)

    @staticmethod
    def outcome_status(s: Fields) -> str:
        status: str = s.take("status", str)
        if status not in webform_outcomes.FINAL_STATUSES:
            raise s.invalid("status", f"must be {webform_outcomes.one_of(webform_outcomes.FINAL_STATUSES)}")
        return status

    @staticmethod
    def outcome_after(s: Fields) -> float:
        seconds: float = s.take("after", (int, float), 0)
        if not 0 <= seconds < WEB_FORM_SECONDS:
            problem = f"must be a number of seconds from 0 to below {WEB_FORM_SECONDS} (forms expire after 20 minutes)"
            raise s.invalid("after", problem)
        return float(seconds)

    @staticmethod
    def outcome_user(s: Fields) -> str | None:
        user: str | None = s.take("user", str, None)
        if user is not None and not user:
            raise s.invalid("user", "must not be empty")
        return user

    @staticmethod
    def outcome_mandator(s: Fields, mandators: set[str] | None) -> str | None:
        mandator: str | None = s.take("mandator", str, None)
        if mandator is not None and mandators is not None and mandator not in mandators:
            raise s.invalid("mandator", "must be the mandator_id of one of the scenario's clients")
        return mandator

    @staticmethod
    def outcome_error_code(s: Fields, status: str | None) -> str | None:
        code: str | None = s.take("error_code", str, None)
        if code is not None and status is not None and (problem := webform_outcomes.error_code_problem(status, code)):
            raise s.invalid("error_code", problem)
        return code

    @staticmethod
    def outcome_bank(s: Fields, status: str | None, known: Banks | None) -> int | None:
        bank: int | None = s.take("bank", int, None)
        if bank is None:
            return None
        if status is not None and status != "COMPLETED":
            raise s.invalid("bank", "only a COMPLETED outcome imports from a bank")
        if known is not None and bank not in known:
            built_in = ", ".join(str(b.id) for b in banks.BUILT_IN)
            raise s.invalid("bank", f"must be the id of a built-in test bank ({built_in}) or of a bank under banks")
        return bank

    @staticmethod
    def outcome_account_types(s: Fields, status: str | None) -> tuple[str, ...] | None:
        types: list[Any] | None = s.take("account_types", list, None)
        if types is None:
            return None
        if status is not None and status != "COMPLETED":
            raise s.invalid("account_types", "only a COMPLETED outcome imports accounts")
        if problem := webform_outcomes.account_types_problem(types):
            raise s.invalid("account_types", problem)
        return tuple(types)

    # ------------------------------------------------------------------------------------------------ bank data

    def banks(self, root: Fields) -> tuple[BankSpec, ...]:
        items = self.items(root, "banks")
        if len(items) > MAX_BANKS:
            self.record(root.invalid("banks", self.too_many(len(items), "banks", MAX_BANKS)))
            return ()
        parsed = self.each(items, self.bank)
        ids = [(item, (bank_id, str(bank_id))) for item in items if (bank_id := _written_int(item[2], "id"))]
        self.unique(ids, "id")
        return tuple(bank for _, bank in parsed)

    @staticmethod
    def known_banks(specs: tuple[BankSpec, ...]) -> Banks:
        known = {bank.id: tuple(i.banking_interface for i in bank.interfaces) for bank in banks.BUILT_IN}
        return known | {spec.id: spec.interfaces for spec in specs}

    def bank(self, path: str, line: int | None, data: Any) -> BankSpec:
        s = Fields(data, path, BANK_KEYS, line, self.record)
        before = self.count()
        bank_id = self.attempt(partial(self.bank_id, s), 0)
        name = self.attempt(partial(self.text, s, "name"), "")
        blz = self.attempt(partial(self.blz, s), "")
        bic = self.attempt(partial(self.bic, s, "bic"), None)
        city = self.attempt(lambda: s.take("city", str, None), None)
        location = self.attempt(partial(self.location, s), None)
        popularity = self.attempt(partial(self.popularity, s), 0)
        is_test_bank = self.attempt(lambda: s.take("is_test_bank", bool, False), False)
        no_interfaces: tuple[str, ...] = ()
        interfaces = self.attempt(partial(self.bank_interfaces, s), no_interfaces)
        if self.count() != before:
            raise Invalid(path, "has problems", line, derived=True)  # reported above: this bank is not made
        return BankSpec(bank_id, name, blz, bic, city, location, popularity, is_test_bank, interfaces)

    @staticmethod
    def bank_id(s: Fields) -> int:
        bank_id: int = s.take("id", int)
        if not 1 <= bank_id <= MAX_BANK_ID:
            raise s.invalid("id", f"must be between 1 and {MAX_BANK_ID}")
        if any(bank.id == bank_id for bank in banks.BUILT_IN):
            built_in = ", ".join(str(bank.id) for bank in banks.BUILT_IN)
            raise s.invalid("id", f"is a built-in test bank's id ({built_in}): pick another")
        return bank_id

    @staticmethod
    def blz(s: Fields) -> str:
        blz: str | int = s.take("blz", (str, int))
        if isinstance(blz, int):
            raise s.invalid("blz", f'must be a string: quote it, like blz: "{blz}"')
        if not blz:
            raise s.invalid("blz", "must not be empty")
        return blz

    @staticmethod
    def bic(s: Fields, key: str) -> str | None:
        bic: str | None = s.take(key, str, None)
        if bic is not None and not banks.BIC_PATTERN.fullmatch(bic):
            raise s.invalid(key, "must be a BIC like BELADEBEXXX (8 or 11 capital letters and digits)")
        return bic

    @staticmethod
    def location(s: Fields) -> str | None:
        location: str | None = s.take("location", str, None)
        if location is not None and not re.fullmatch("[A-Z]{2}", location):
            raise s.invalid("location", "must be an ISO 3166 alpha-2 country code like DE")
        return location

    @staticmethod
    def popularity(s: Fields) -> int:
        popularity: int = s.take("popularity", int, 0)
        if popularity < 0:
            raise s.invalid("popularity", "must not be negative")
        return popularity

    @staticmethod
    def bank_interfaces(s: Fields) -> tuple[str, ...]:
        interfaces: list[Any] = s.take("interfaces", list, ["FINTS_SERVER"])
        if (
            not interfaces
            or len(set(interfaces)) != len(interfaces)
            or any(i not in banks.INTERFACES for i in interfaces)
        ):
            problem = f"must be a non-empty list of banking interfaces, each once ({', '.join(banks.INTERFACES)})"
            raise s.invalid("interfaces", problem)
        return tuple(interfaces)

    def bank_data_over_caps(self, root: Fields, items: list[Item]) -> bool:
        """Whether the users' bank data goes beyond a cap (recorded); counted on the YAML as loaded, before anything
        is validated, so an alias repeating a huge list costs no more than its first appearance."""
        connections, accounts, transactions = _BankTotals().users(items)
        over = False
        for count, what, cap in (
            (connections, "bank connections", MAX_CONNECTIONS),
            (accounts, "accounts", MAX_ACCOUNTS),
            (transactions, "transactions", MAX_TRANSACTIONS),
        ):
            if count > cap:
                problem = f"the scenario creates {count} {what} in total (each generated user's counted), at most {cap}"
                self.record(root.invalid("users", problem))
                over = True
        return over

    def connections(self, s: Fields, known: Banks | None) -> tuple[ConnectionSpec, ...]:
        """A user's `bank_connections`: a list several users share through an alias is checked once."""
        raw = s.data.get("bank_connections")
        if id(raw) in self.checked_connections:
            return self.checked_connections[id(raw)]
        before = self.count()
        parsed = self.each(self.items(s, "bank_connections"), partial(self.connection, known=known))
        connections = tuple(connection for _, connection in parsed)
        if self.count() == before and isinstance(raw, list):
            self.checked_connections[id(raw)] = connections
        return connections

    def connection(self, path: str, line: int | None, data: Any, known: Banks | None) -> ConnectionSpec:
        s = Fields(data, path, CONNECTION_KEYS, line, self.record)
        before = self.count()
        bank_id = self.attempt(partial(self.connection_bank, s, known), 0)
        interfaces = known.get(bank_id) if known is not None else None
        interface = self.attempt(partial(self.connection_interface, s, interfaces), "")
        name = self.attempt(lambda: s.take("name", str, None), None)
        consent = self.attempt(partial(self.consent, s, interface), None)
        last_update = self.attempt(lambda: self.last_update(s.section("last_update", UPDATE_KEYS)), UpdateSpec())
        updating_for = self.attempt(partial(self.updating_for, s), 0.0)
        owners = self.attempt(lambda: s.take("load_owner_data", bool, False), False)
        accounts = self.accounts(s)
        if self.count() != before:
            raise Invalid(path, "has problems", line, derived=True)  # reported above: this connection is not made
        return ConnectionSpec(bank_id, interface, name, consent, last_update, updating_for, accounts, owners)

    @staticmethod
    def connection_bank(s: Fields, known: Banks | None) -> int:
        bank_id: int = s.take("bank", int)
        if known is not None and bank_id not in known:
            built_in = ", ".join(str(bank.id) for bank in banks.BUILT_IN)
            raise s.invalid("bank", f"must be the id of a built-in test bank ({built_in}) or of a bank under banks")
        return bank_id

    @staticmethod
    def connection_interface(s: Fields, interfaces: tuple[str, ...] | None) -> str:
        """`interfaces` None: the bank is not known (it has problems), so only the name is checked."""
        interface: str | None = s.take("interface", str, None)
        if interface is None:
            return interfaces[0] if interfaces else ""
        if interfaces is None and interface not in banks.INTERFACES:
            raise s.invalid("interface", f"must be one of {', '.join(banks.INTERFACES)}")
        if interfaces is not None and interface not in interfaces:
            raise s.invalid("interface", f"must be one of the bank's interfaces ({', '.join(interfaces)})")
        return interface

    def consent(self, s: Fields, interface: str) -> datetime | None:
        expires = self.timestamp(s, "consent_expires_at")
        if expires is not None and interface not in ("XS2A", ""):
            raise s.invalid("consent_expires_at", f"only an XS2A connection has a consent, not a {interface} one")
        return expires

    def last_update(self, s: Fields) -> UpdateSpec:
        ok: UpdateResultStatus = "OK"
        result = self.attempt(partial(self.update_result, s), ok)
        message = self.attempt(lambda: s.take("error_message", str, None), None)
        if message is not None and result == "OK":
            self.record(s.invalid("error_message", "only a failed update (result not OK) has an error message"))
        return UpdateSpec(result, message)

    @staticmethod
    def update_result(s: Fields) -> UpdateResultStatus:
        result: str = s.take("result", str, "OK")
        if result not in UPDATE_RESULTS:
            raise s.invalid("result", f"must be {', '.join(UPDATE_RESULTS[:-1])} or {UPDATE_RESULTS[-1]}")
        return result

    @staticmethod
    def updating_for(s: Fields) -> float:
        seconds: float = s.take("updating_for", (int, float), 0)
        if not 0 <= seconds <= MAX_UPDATING_FOR:
            raise s.invalid("updating_for", f"must be a number of seconds from 0 to {MAX_UPDATING_FOR} (a year)")
        return seconds

    def accounts(self, s: Fields) -> tuple[AccountSpec, ...] | None:
        """None: the key is absent (the test banks' accounts are generated)."""
        if s.data.get("accounts") is None:
            return None
        parsed = self.each(self.items(s, "accounts"), self.account)
        return tuple(account for _, account in parsed)

    def account(self, path: str, line: int | None, data: Any) -> AccountSpec:
        s = Fields(data, path, ACCOUNT_KEYS, line, self.record)
        before = self.count()
        account_type = self.attempt(partial(self.account_type, s), "Checking")
        name = self.attempt(lambda: s.take("name", str, None), None)
        iban = self.attempt(partial(self.iban, s, "iban"), None)
        currency = self.attempt(partial(self.currency, s), "EUR")
        balance = self.attempt(partial(self.amount, s, "balance", None), None)
        overdraft_limit = self.attempt(partial(self.overdraft_limit, s), None)
        transactions = self.account_transactions(s)
        if self.count() != before:
            raise Invalid(path, "has problems", line, derived=True)  # reported above: this account is not made
        return AccountSpec(account_type, name, iban, currency, balance, overdraft_limit, transactions)

    @staticmethod
    def account_type(s: Fields) -> str:
        account_type: str = s.take("type", str, "Checking")
        if account_type not in ACCOUNT_TYPES:
            raise s.invalid("type", f"must be an account type: {', '.join(ACCOUNT_TYPES)}")
        return account_type

    @staticmethod
    def iban(s: Fields, key: str) -> str | None:
        iban: str | None = s.take(key, str, None)
        if iban is not None and not banks.iban_valid(iban):
            problem = "must be an IBAN with valid check digits, in capitals without spaces, like DE89370400440532013000"
            raise s.invalid(key, problem)
        return iban

    @staticmethod
    def currency(s: Fields) -> str:
        currency: str = s.take("currency", str, "EUR")
        if not re.fullmatch("[A-Z]{3}", currency):
            raise s.invalid("currency", "must be an ISO 4217 currency code like EUR")
        return currency

    @staticmethod
    def amount(s: Fields, key: str, default: Any) -> int | None:
        """Euros with at most 2 decimals, as cents."""
        value: float | None = s.take(key, (int, float), default)
        if value is None:
            return None
        if not math.isfinite(value) or abs(value) > MAX_AMOUNT:
            raise s.invalid(key, f"must be an amount from -{MAX_AMOUNT} to {MAX_AMOUNT}")
        exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if cast(int, exact.as_tuple().exponent) < -2:
            raise s.invalid(key, "must have at most 2 decimals, like -49.99")
        return int(exact * 100)

    def overdraft_limit(self, s: Fields) -> int | None:
        limit = self.amount(s, "overdraft_limit", None)
        if limit is not None and limit < 0:
            raise s.invalid("overdraft_limit", "must not be negative")
        return limit

    def account_transactions(self, s: Fields) -> int | tuple[TransactionSpec, ...]:
        """A count to generate (absent: the generator's default), or the transactions listed: a list several
        accounts share through an alias is checked once."""
        value = self.attempt(lambda: s.take("transactions", (int, list), bankgen.DEFAULT_TRANSACTIONS), 0)
        if isinstance(value, int):
            if value < 0:  # too many are the scenario's total (bank_data_over_caps)
                self.record(s.invalid("transactions", "must not be negative"))
            return value
        if id(value) in self.checked_transactions:
            return self.checked_transactions[id(value)]
        before = self.count()
        parsed = tuple(spec for _, spec in self.each(self.items(s, "transactions"), self.transaction))
        if self.count() == before:
            self.checked_transactions[id(value)] = parsed
        return parsed

    def transaction(self, path: str, line: int | None, data: Any) -> TransactionSpec:
        s = Fields(data, path, TRANSACTION_KEYS, line, self.record)
        before = self.count()
        amount = self.attempt(partial(self.amount, s, "amount", REQUIRED), None) or 0
        booking_date = self.attempt(partial(self.day, s, "booking_date"), None)
        value_date = self.attempt(partial(self.day, s, "value_date"), None)
        purpose = self.attempt(partial(self.bounded_text, s, "purpose", 2000), None)
        counterpart_name = self.attempt(partial(self.bounded_text, s, "counterpart_name", 80), None)
        counterpart_iban = self.attempt(partial(self.iban, s, "counterpart_iban"), None)
        counterpart_bic = self.attempt(partial(self.bic, s, "counterpart_bic"), None)
        kind = self.attempt(partial(self.bounded_text, s, "type", 255), None)
        if self.count() != before:
            raise Invalid(path, "has problems", line, derived=True)  # reported above: this transaction is not made
        return TransactionSpec(
            amount,
            booking_date,
            value_date,
            purpose,
            counterpart_name,
            counterpart_iban,
            counterpart_bic,
            kind,
        )

    @staticmethod
    def day(s: Fields, key: str) -> str | None:
        """A date (`YYYY-MM-DD`, quoted or not) as its text."""
        value: str | date | None = s.take(key, (str, date), None)
        if isinstance(value, date) and not isinstance(value, datetime):
            value = value.isoformat()
        if value is None:
            return None
        if isinstance(value, str):
            try:
                if EARLIEST.year <= parse_day(value).year < LATEST.year:
                    return value
            except ValueError:
                pass
        raise s.invalid(key, f"must be a date from {EARLIEST.year} to {LATEST.year - 1} like 2026-01-02")

    @staticmethod
    def bounded_text(s: Fields, key: str, longest: int) -> str | None:
        value: str | None = s.take(key, str, None)
        if value is not None and not 1 <= len(value) <= longest:
            raise s.invalid(key, f"must be 1 to {longest} characters long")
        return value


def _written(data: Any, key: str) -> str | None:
    """The text under `key` of an item as written (before validation), or None."""
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else None


def _written_int(data: Any, key: str) -> int | None:
    """The integer under `key` of an item as written (before validation), or None."""
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class _BankTotals:
    """The connections, accounts and transactions the users of a scenario make, counted on the YAML as loaded (what
    does not validate counts as nothing, or as one); a mapping or list is counted once however often aliases repeat
    it, so counting is as quick as the document is short."""

    def __init__(self) -> None:
        self.memo: dict[tuple[int, str], tuple[int, int, int]] = {}
        """Counts by (identity, what it was counted as): an alias may put one mapping in places of two kinds."""

    def users(self, items: list[Item]) -> tuple[int, int, int]:
        totals = [0, 0, 0]
        for _, _, data in items:
            if not isinstance(data, dict):
                continue
            count = data.get("generate", 1)
            times = count if isinstance(count, int) and 0 <= count <= MAX_USERS else 1
            for i, part in enumerate(self.connections(data.get("bank_connections"))):
                totals[i] += times * part
        return totals[0], totals[1], totals[2]

    def connections(self, value: Any) -> tuple[int, int, int]:
        return self.summed(value, self.connection)

    def connection(self, value: Any) -> tuple[int, int, int]:
        if not isinstance(value, dict):
            return 1, 0, 0
        accounts = value.get("accounts")
        if accounts is None:
            return 1, len(bankgen.TEST_BANK_ACCOUNTS), sum(count for _, _, count in bankgen.TEST_BANK_ACCOUNTS)
        _, number, transactions = self.summed(accounts, self.account)
        return 1, number, transactions

    def account(self, value: Any) -> tuple[int, int, int]:
        transactions = value.get("transactions", bankgen.DEFAULT_TRANSACTIONS) if isinstance(value, dict) else 0
        if isinstance(transactions, list):
            return 0, 1, len(transactions)
        valid = isinstance(transactions, int) and not isinstance(transactions, bool) and transactions > 0
        return 0, 1, transactions if valid else 0

    def summed(self, value: Any, part: Callable[[Any], tuple[int, int, int]]) -> tuple[int, int, int]:
        """The parts of the items of a list, added up (memoised by the list's identity)."""
        if not isinstance(value, list):
            return 0, 0, 0
        whole = (id(value), part.__name__ + "s")
        if whole not in self.memo:
            totals = [0, 0, 0]
            for item in value:
                key = (id(item), part.__name__)
                if key not in self.memo:
                    self.memo[key] = part(item)
                for i, n in enumerate(self.memo[key]):
                    totals[i] += n
            self.memo[whole] = (totals[0], totals[1], totals[2])
        return self.memo[whole]


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

"""Snapshots: a sandbox's whole state as one versioned JSON document, to save, attach to a bug and load again.

A snapshot holds what the sandbox serves: its scenario (the YAML text, so it is served and reset to wherever the
snapshot is loaded), the seed, and the state (`state/image.py`): the positions of the seeded source, the clock,
clients with their configuration, users, tokens and grants, processes, bank data, web forms and tasks, the callbacks
sent, fault rules with their counters and, unless left out, the journal. Loaded into any server, it answers every
later request as the saved one would have: same ids, tokens, errors and clock (a running clock runs on from where
it stood, by the same offset from real time).

The document (`FORMAT` 1)::

    {"kind": "mock-finapi snapshot", "format": 1, "emulator": "0.1.0", "taken_at": "2026-12-03T20:00:00.000+00:00",
     "scenario": {"name": "default", "source": "default.yaml", "text": "<YAML>"}, "seed": 42,
     "records": {"Token": ["value", "client_id", ...], ...},
     "state": {"positions": {...}, "clock": {"offset": 0.0, "frozen_at": null}, "mandators": [...],
               "clients": [[...], ...], "users": [...], "deleted_users": [...], "grants": [...],
               "tokens": [[<Token fields>..., <grant>], ...], "client_tokens": {...}, "processes": [...],
               "faults": [{<rule as the admin API shows it>, "matched": 0, "fired": 0}],
               "bank": {"next_ids": [...], "users": [{"mandator_id", "user_key", "connections", "accounts",
                        "transactions", "pending"}]},
               "web_forms": [[<creation number>, [...]], ...], "tasks": [...], "next_number": 0,
               "callbacks": [...], "journal": [...]}}

Records are arrays in the field order `records` names (nested records too), bytes are base64. Reading one checks
all of it before anything is served: the kind and format, every record's fields and types, client configurations and
fault rules as the admin API checks them, and how the records refer to each other (`image.check`). A problem is a
`SnapshotError` naming where it is (`state.tokens[3][4]: must be true or false`).

Secrets: a snapshot holds the emulator's fake credentials (client secrets, user passwords, tokens), which it needs to
restore logins; journal entries are stored as recorded (bodies and Authorization headers included, masked when
read). Nothing of the host goes in: the scenario's source is its file name only.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from mock_finapi import __version__, clock, collector
from mock_finapi.clock import ClockState
from mock_finapi.errors import MockFinapiError, ScenarioError
from mock_finapi.scenarios import loader
from mock_finapi.scenarios.schema import Scenario
from mock_finapi.services import client_config, webform_flow
from mock_finapi.services.banks import BankCatalog
from mock_finapi.services.faults import count_view, parse_rule
from mock_finapi.settings import DEFAULT_CAPACITY, Capacity
from mock_finapi.state.banking import Account, BatchUpdate, Connection, Transaction
from mock_finapi.state.image import Assemble, Grant, ImageProblem, StateImage, UserBankImage
from mock_finapi.state.memory import MemoryStore
from mock_finapi.state.models import Client, DeletedUser, Entry, FaultCount, Origin, Process, Token, User
from mock_finapi.state.webforms import CallbackAttempt, PageState, Task, WebForm
from mock_finapi.validation import Invalid

KIND = "mock-finapi snapshot"
FORMAT = 1
ROWS_PER_CHUNK = 2000
"""Records encoded at a time: each piece takes a millisecond or two, so a thread writing a snapshot lets the event
loop run in between."""


class SnapshotError(MockFinapiError):
    """A snapshot that cannot be loaded; `str()` names where and why."""


@dataclass(frozen=True)
class Loaded:
    """A snapshot read and checked: the scenario and seed to serve, and the state as a store."""

    scenario: Scenario
    seed: int
    store: MemoryStore


# ---------------------------------------------------------------------------------------------------- records

TABLES: dict[str, type[Any]] = {
    "clients": Client,
    "users": User,
    "deleted_users": DeletedUser,
    "grants": Grant,
    "tokens": Token,
    "processes": Process,
    "web_forms": WebForm,
    "tasks": Task,
    "callbacks": CallbackAttempt,
    "journal": Entry,
}
"""The record of each table's rows (the bank's are in `BANK_TABLES`)."""
BANK_TABLES: dict[str, type[Any]] = {
    "connections": Connection,
    "accounts": Account,
    "transactions": Transaction,
    "pending": BatchUpdate,
}
SOURCE_PREFIX = "<snapshot of "
"""A restored scenario's source names the file it came from, and is no path of this host."""
TOKEN_GRANT = "grant"
"""The column a token row has after its fields: its grant's position in `grants` (null for a client token)."""


def _record_types() -> dict[str, type[Any]]:
    """Every record a snapshot holds, nested ones included, by name."""
    found: dict[str, type[Any]] = {}
    todo = [*TABLES.values(), *BANK_TABLES.values()]
    while todo:
        cls = todo.pop()
        if cls.__name__ in found:
            continue
        found[cls.__name__] = cls
        for hint in typing.get_type_hints(cls).values():
            todo.extend(t for t in _types_in(hint) if _is_record(t))
    return dict(sorted(found.items()))


def _types_in(hint: Any) -> Iterator[Any]:
    yield hint
    for arg in typing.get_args(hint):
        yield from _types_in(arg)


def _is_record(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, tuple) and hasattr(value, "_fields")


RECORDS = _record_types()
LAYOUTS = {name: [*cls._fields, *([TOKEN_GRANT] if cls is Token else [])] for name, cls in RECORDS.items()}
"""What `records` says: the field order of each record's arrays."""


# ---------------------------------------------------------------------------------------------------- writing


def scenario_part(scenario: Scenario) -> dict[str, str]:
    """The scenario as a snapshot holds it: its source is a file name (a path would say something of the host)."""
    source = scenario.source
    if source.startswith(SOURCE_PREFIX) and source.endswith(">"):  # a restored one: the name it was saved with
        source = source[len(SOURCE_PREFIX) : -1]
    return {"name": scenario.name, "source": Path(source).name, "text": scenario.text}


def chunks(scenario: Scenario, seed: int, assemble: Assemble, *, paced: bool = True) -> Iterator[bytes]:
    """The document, in pieces of up to ROWS_PER_CHUNK records; iterate it off the event loop (`assemble` is what
    `Store.export` answered). The cycle collector is paused meanwhile (`collector.paused`) and, `paced`, the thread
    making the pieces rests as long as it works (`clock.Pacer`), so the event loop, which shares the GIL with it, keeps
    serving (bench/snapshot.py); a server that serves no more need not wait for that."""
    rest = clock.Pacer().rest if paced else clock.no_rest
    with collector.paused():
        pieces = _pieces(scenario, seed, assemble(rest))
        del assemble  # the export's copies go as soon as they are written, not after the collector's next pass
        for piece in pieces:
            yield piece
            rest()
        del pieces


def _pieces(scenario: Scenario, seed: int, image: StateImage) -> Iterator[bytes]:
    head = {
        "kind": KIND,
        "format": FORMAT,
        "emulator": __version__,
        "taken_at": clock.format_v2(clock.wall_clock()),
        "scenario": scenario_part(scenario),
        "seed": seed,
        "records": LAYOUTS,
    }
    yield _dump(head)[:-1] + b',"state":{'
    yield _dump(
        {
            "positions": image.positions,
            "clock": {"offset": image.clock.offset, "frozen_at": image.clock.frozen_at},
            "mandators": image.mandators,
            "client_tokens": image.client_tokens,
            "faults": [count_view(count) for count in image.faults],
            "next_number": image.next_number,
        }
    )[1:-1]
    tables: list[tuple[str, list[Any]]] = [
        ("clients", image.clients),
        ("users", image.users),
        ("deleted_users", image.deleted_users),
        ("grants", image.grants),
        ("tokens", image.tokens),
        ("processes", image.processes),
        ("web_forms", image.web_forms),
        ("tasks", image.tasks),
        ("callbacks", image.callbacks),
    ]
    if image.journal is not None:
        tables.append(("journal", image.journal))
    for name, rows in tables:
        yield f',"{name}":'.encode()
        if name == "tokens":
            yield from _array(rows, lambda token, number: (*token, number), image.token_grants)
        else:
            yield from _array(rows)
    yield b',"bank":{"next_ids":' + _dump(image.next_ids) + b',"users":['
    for i, bank in enumerate(image.banks):
        yield (b"," if i else b"") + _dump({"mandator_id": bank.mandator_id, "user_key": bank.user_key})[:-1]
        for name in BANK_TABLES:
            yield f',"{name}":'.encode()
            yield from _array(getattr(bank, name))
        yield b"}"
    yield b"]}}}\n"


def _array(
    rows: list[Any], shape: Callable[[Any, Any], Any] | None = None, extra: list[Any] | None = None
) -> Iterator[bytes]:
    """A JSON array of `rows`, ROWS_PER_CHUNK at a time (`shape(row, extra[i])` makes each row when given)."""
    yield b"["
    for start in range(0, len(rows), ROWS_PER_CHUNK):
        part = rows[start : start + ROWS_PER_CHUNK]
        if shape is not None and extra is not None:
            part = [shape(row, more) for row, more in zip(part, extra[start : start + ROWS_PER_CHUNK], strict=True)]
        yield (b"," if start else b"") + _dump(part)[1:-1]
    yield b"]"


def _dump(value: Any) -> bytes:
    return orjson.dumps(value, default=_plain)


def _plain(value: Any) -> Any:
    """What orjson does not write by itself: records as arrays, bytes as base64, read-only mappings as objects."""
    if isinstance(value, tuple):
        return tuple(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not part of a snapshot")


def write_file(path: Path, pieces: Iterator[bytes]) -> int:
    """Write the document atomically: into a temporary file beside `path`, flushed to disk, then renamed over it (a
    crash leaves the old file or the new one, never half of one). Answers the bytes written."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    size = 0
    try:
        with partial.open("wb") as out:
            for piece in pieces:
                out.write(piece)
                size += len(piece)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)
    return size


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (where the platform lets a folder be opened)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# ---------------------------------------------------------------------------------------------------- reading


def read_file(path: Path, *, journal_size: int = 1000, capacity: Capacity = DEFAULT_CAPACITY) -> Loaded:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SnapshotError(f"cannot read {path}: {exc.strerror or exc}") from None
    return load(data, journal_size=journal_size, capacity=capacity)


def load(data: bytes, *, journal_size: int = 1000, capacity: Capacity = DEFAULT_CAPACITY) -> Loaded:
    """Read and check a snapshot document (synchronous: run it off the event loop); raises SnapshotError."""
    with collector.paused():  # millions of new records without cycles: the collector's passes would double the time
        return _load(data, journal_size, capacity)


def _load(data: bytes, journal_size: int, capacity: Capacity) -> Loaded:
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise SnapshotError(f"not a JSON document: {exc}") from None
    if not isinstance(document, dict) or document.get("kind") != KIND:
        raise SnapshotError(f"not a mock-finapi snapshot (its 'kind' must be {KIND!r})")
    version = document.get("format")
    if version != FORMAT:
        writer = document.get("emulator")
        written = f" (written by mock-finapi {writer})" if isinstance(writer, str) else ""
        raise SnapshotError(
            f"snapshot format {version!r}{written} is not the format this server reads ({FORMAT}, mock-finapi "
            f"{__version__})"
        )
    try:
        reader = _Reader(document)
        scenario, seed, image = reader.scenario(), reader.seed(), reader.image()
        _check_banks(scenario, image)
        store = MemoryStore.from_image(seed, image, journal_size=journal_size, capacity=capacity)
        store.origin = Origin(scenario, seed)
    except _Bad as exc:
        raise SnapshotError(f"{exc.where or '<root>'}: {exc.problem}") from None
    except ImageProblem as exc:
        where = exc.where.replace("banks[", "bank.users[", 1) if exc.where.startswith("banks[") else exc.where
        raise SnapshotError(f"state.{where}: {exc.problem}") from None  # the document's bank data: bank.users
    return Loaded(scenario, seed, store)


def _check_banks(scenario: Scenario, image: StateImage) -> None:
    """Every bank connection is of a bank the scenario's catalog has (what its answers show of the bank)."""
    catalog = BankCatalog.with_scenario(scenario.banks)
    for i, bank in enumerate(image.banks):
        for j, connection in enumerate(bank.connections):
            if catalog.get(connection.bank_id) is None:
                where = f"state.bank.users[{i}].connections[{j}].bank_id"
                raise SnapshotError(f"{where}: bank {connection.bank_id} is not one of the scenario's banks")


class _Bad(Exception):
    """A problem at `where` (built from the inside out as the reader unwinds)."""

    def __init__(self, problem: str, where: str = "") -> None:
        super().__init__(problem)
        self.problem, self.where = problem, where

    def at(self, step: str | int) -> _Bad:
        step = f"[{step}]" if isinstance(step, int) else step
        self.where = step + ("" if not self.where or self.where.startswith("[") else ".") + self.where
        return self


Check = Callable[[Any], Any]


class _Reader:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        records = self._field(document, "records", dict, "")
        for name, fields in LAYOUTS.items():
            if records.get(name) != fields:
                raise SnapshotError(f"records.{name}: the fields must be {fields} (format {FORMAT})")

    @staticmethod
    def _field(data: dict[str, Any], key: str, kind: type[Any], where: str) -> Any:
        value = data.get(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise SnapshotError(f"{where}{key}: missing, or not {_NAMES.get(kind, kind.__name__)}")
        return value

    def scenario(self) -> Scenario:
        part = self._field(self.document, "scenario", dict, "")
        name = self._field(part, "name", str, "scenario.")
        source = self._field(part, "source", str, "scenario.")
        text = self._field(part, "text", str, "scenario.")
        label = source if source.startswith(SOURCE_PREFIX) else f"{SOURCE_PREFIX}{source or name}>"
        try:
            return loader.load_text(text, label)
        except ScenarioError as exc:
            raise SnapshotError(f"scenario.text: {exc}") from None

    def seed(self) -> int:
        seed: int = self._field(self.document, "seed", int, "")
        if seed < 0:
            raise SnapshotError("seed: must not be negative")
        return seed

    def image(self) -> StateImage:
        state = self._field(self.document, "state", dict, "")
        try:
            return self._image(state)
        except _Bad as exc:
            raise exc.at("state") from None

    def _image(self, state: dict[str, Any]) -> StateImage:
        numbered = ("tokens", "journal", "web_forms", "tasks")  # read below, with their grants, numbers or absence
        tables = {name: _rows(state, name, cls) for name, cls in TABLES.items() if name not in numbered}
        token_rows = _rows(state, "tokens", _TokenRow)
        bank = _section(state, "bank")
        try:
            banks = _each(bank, "users", _user_bank)
        except _Bad as exc:
            raise exc.at("bank") from None
        journal = _rows(state, "journal", Entry) if "journal" in state else None
        positions = _section(state, "positions")
        for stream, position in positions.items():
            if type(position) is not int or position < 0:
                raise _Bad("must be a whole number >= 0").at(stream).at("positions")
        return StateImage(
            positions=positions,
            clock=_clock(_section(state, "clock")),
            mandators=_decode(list[str], state.get("mandators"), "mandators"),
            clients=tables["clients"],
            users=tables["users"],
            deleted_users=tables["deleted_users"],
            tokens=[row.token for row in token_rows],
            token_grants=[row.grant for row in token_rows],
            grants=tables["grants"],
            client_tokens=_decode(dict[str, str], state.get("client_tokens"), "client_tokens"),
            processes=tables["processes"],
            faults=_each(state, "faults", _fault),
            journal=journal,
            next_ids=_decode(tuple[int, int, int], bank.get("next_ids"), "next_ids", "bank"),
            banks=banks,
            web_forms=_numbered(state, "web_forms", WebForm),
            tasks=_numbered(state, "tasks", Task),
            next_number=_decode(int, state.get("next_number"), "next_number"),
            callbacks=tables["callbacks"],
        )


_NAMES = {dict: "an object", list: "an array", str: "a string", int: "a whole number"}


def _section(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise _Bad("missing, or not an object").at(key)
    return value


def _each(data: dict[str, Any], key: str, read: Callable[[Any], Any]) -> list[Any]:
    items = data.get(key)
    if not isinstance(items, list):
        raise _Bad("missing, or not an array").at(key)
    out = []
    for i, item in enumerate(items):
        try:
            out.append(read(item))
        except _Bad as exc:
            raise exc.at(i).at(key) from None
    return out


def _rows(data: dict[str, Any], key: str, cls: type[Any]) -> list[Any]:
    return _each(data, key, _decoder(cls))


def _numbered(data: dict[str, Any], key: str, cls: type[Any]) -> list[tuple[int, Any]]:
    return _each(data, key, _decoder(tuple[int, cls]))  # type: ignore[valid-type]


def _decode(hint: Any, value: Any, *where: str) -> Any:
    try:
        return _decoder(hint)(value)
    except _Bad as exc:
        for step in where:
            exc.at(step)
        raise


def _clock(data: dict[str, Any]) -> ClockState:
    offset = _decode(float, data.get("offset"), "offset", "clock")
    frozen_at = _decode(float | None, data.get("frozen_at"), "frozen_at", "clock")
    earliest, latest = clock.EARLIEST.timestamp(), clock.LATEST.timestamp()
    if abs(offset) > latest - earliest:
        raise _Bad("is beyond the dates the clock can show").at("offset").at("clock")
    if frozen_at is not None and not earliest <= frozen_at <= latest:
        raise _Bad("is outside the dates the clock can show").at("frozen_at").at("clock")
    return ClockState(offset, frozen_at)


def _fault(data: Any) -> FaultCount:
    if not isinstance(data, dict):
        raise _Bad("must be an object")
    counters: dict[str, int] = {}
    for key in ("matched", "fired"):
        value = counters[key] = data.get(key)  # type: ignore[assignment]
        if type(value) is not int or value < 0:
            raise _Bad("must be a whole number >= 0").at(key)
    try:
        rule = parse_rule({k: v for k, v in data.items() if k not in counters}, "")
    except Invalid as exc:
        raise _Bad(exc.problem, exc.path) from None
    return FaultCount(rule, counters["matched"], counters["fired"])


def _user_bank(data: Any) -> UserBankImage:
    if not isinstance(data, dict):
        raise _Bad("must be an object")
    owner = [_decode(str, data.get(key), key) for key in ("mandator_id", "user_key")]
    tables = [_rows(data, name, cls) for name, cls in BANK_TABLES.items()]
    return UserBankImage(owner[0], owner[1], *tables)


class _TokenRow(NamedTuple):
    token: Token
    grant: int | None


def _token_row(row: Any) -> _TokenRow:
    if type(row) is not list or len(row) != len(Token._fields) + 1:
        raise _Bad(f"must be an array of {len(Token._fields) + 1} values: {', '.join(LAYOUTS['Token'])}")
    token = _decoder(Token)(row[:-1])
    grant = row[-1]
    if grant is not None and (type(grant) is not int or grant < 0):
        raise _Bad("must be a grant's position or null").at(TOKEN_GRANT)
    return _TokenRow(token, grant)


# ---------------------------------------------------------------------------------------------------- types

_DECODERS: dict[Any, Check] = {}


def _decoder(hint: Any) -> Check:
    """A function that checks a JSON value against a type of the records and answers it as the record holds it."""
    found = _DECODERS.get(hint)
    if found is None:
        found = _DECODERS[hint] = _make_decoder(hint)
    return found


def _make_decoder(hint: Any) -> Check:
    if hint is _TokenRow:
        return _token_row
    if hint is str:
        return _simple(str, "a string")
    if hint is bool:
        return _simple(bool, "true or false")
    if hint is int:
        return _simple(int, "a whole number")
    if hint is float:
        return _number
    if hint is bytes:
        return _bytes
    if hint is Any:
        return lambda value: value
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        other = _decoder(next(arg for arg in args if arg is not type(None)))
        return lambda value: None if value is None else other(value)
    if origin is typing.Literal:
        allowed = set(args)
        shown = ", ".join(map(str, args))
        return lambda value: value if type(value) is str and value in allowed else _fail(f"must be one of {shown}")
    if origin is tuple and args[-1] is Ellipsis:
        return _sequence(_decoder(args[0]), tuple)
    if origin is tuple:
        return _sequence(tuple(_decoder(arg) for arg in args), tuple)
    if origin is list:
        return _sequence(_decoder(args[0]), list)
    if origin in (dict, Mapping) or hint is Mapping:
        values = _decoder(args[1]) if args else _decoder(Any)
        return _mapping(values)
    if _is_record(hint):
        return _record(hint)
    raise TypeError(f"no snapshot decoder for {hint!r}")


def _fail(problem: str) -> Any:
    raise _Bad(problem)


def _simple(kind: type[Any], shown: str) -> Check:
    def check(value: Any) -> Any:
        if type(value) is not kind:
            raise _Bad(f"must be {shown}")
        return value

    return check


def _number(value: Any) -> float:
    if type(value) not in (int, float) or not math.isfinite(value):
        raise _Bad("must be a number")
    return float(value)


def _bytes(value: Any) -> bytes:
    if type(value) is not str:
        raise _Bad("must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _Bad("must be a base64 string") from None


def _sequence(items: Check | tuple[Check, ...], make: type[Any]) -> Check:
    """An array: of any length, each element checked by `items`; or, `items` a tuple, of as many elements, each
    checked by its own."""
    fixed = items if isinstance(items, tuple) else None
    shown = "must be an array" if fixed is None else f"must be an array of {len(fixed)} values"

    def check(value: Any) -> Any:
        if type(value) is not list or (fixed is not None and len(value) != len(fixed)):
            raise _Bad(shown)
        out = []
        for i, element in enumerate(value):
            try:
                out.append((items if fixed is None else fixed[i])(element))  # type: ignore[operator]
            except _Bad as exc:
                raise exc.at(i) from None
        return make(out)

    return check


def _mapping(values: Check) -> Check:
    def check(value: Any) -> Any:
        if type(value) is not dict:
            raise _Bad("must be an object")
        out = {}
        for key, element in value.items():
            try:
                out[key] = values(element)
            except _Bad as exc:
                raise exc.at(key) from None
        return out

    return check


_SIMPLE: dict[Any, frozenset[type[Any]]] = {
    str: frozenset({str}),
    str | None: frozenset({str, type(None)}),
    int: frozenset({int}),
    int | None: frozenset({int, type(None)}),
    bool: frozenset({bool}),
    bool | None: frozenset({bool, type(None)}),
}
"""Field types checked by their JSON value's type alone (the fast path: most fields of the big tables)."""


def _record(cls: type[Any]) -> Check:
    """Rows of a record: an array with a value per field, in `LAYOUTS` order."""
    hints = typing.get_type_hints(cls)
    fields: tuple[str, ...] = cls._fields
    simple: list[frozenset[type[Any]] | None] = [_SIMPLE.get(hints[name]) for name in fields]
    checks = [None if kinds is not None else _decoder(hints[name]) for name, kinds in zip(fields, simple, strict=True)]
    count = len(fields)
    shown = f"must be an array of {count} values: {', '.join(fields)}"
    after = _AFTER.get(cls)

    def check(row: Any) -> Any:
        if type(row) is not list or len(row) != count:
            raise _Bad(shown)
        values = list(row)
        for i, kinds in enumerate(simple):
            if kinds is not None:
                if type(values[i]) not in kinds:
                    raise _Bad(_SIMPLE_PROBLEMS[kinds]).at(fields[i])
            else:
                try:
                    values[i] = checks[i](values[i])  # type: ignore[misc]
                except _Bad as exc:
                    raise exc.at(fields[i]) from None
        record = cls._make(values)
        return record if after is None else after(record)

    return check


_SIMPLE_PROBLEMS = {
    frozenset({str}): "must be a string",
    frozenset({str, type(None)}): "must be a string or null",
    frozenset({int}): "must be a whole number",
    frozenset({int, type(None)}): "must be a whole number or null",
    frozenset({bool}): "must be true or false",
    frozenset({bool, type(None)}): "must be true, false or null",
}


def _client(client: Client) -> Client:
    """A client's configuration as the scenario and PATCH rules allow it (every field present); a configuration
    equal to the default becomes the shared read-only default again."""
    admin = client.role == "mandator_admin"
    config = dict(client.config)
    if set(config) != set(client_config.default_config(mandator_admin=admin)):
        raise _Bad("must hold every ClientConfiguration field, and only those").at("config")
    for key, value in config.items():
        problem = (
            ("must be true or false" if type(value) is not bool else None)
            if key == "isMandatorAdmin"
            else client_config.check_override(key, value)
        )
        if problem is not None:
            raise _Bad(problem).at(key).at("config")
    default = client_config.default_config(mandator_admin=admin)
    return client._replace(config=default if config == default else config)


def _transaction(transaction: Transaction) -> Transaction:
    for name in ("value_date", "bank_booking_date", "finapi_booking_date"):
        value = getattr(transaction, name)
        try:
            clock.parse_day(value)
        except ValueError:
            raise _Bad("must be a date YYYY-MM-DD").at(name) from None
    return transaction


def _page(page: PageState) -> PageState:
    if page.language not in webform_flow.LANGUAGES:
        raise _Bad(f"must be one of {', '.join(webform_flow.LANGUAGES)}").at("language")
    return page


_AFTER: dict[type[Any], Callable[[Any], Any]] = {Client: _client, Transaction: _transaction, PageState: _page}
"""Checks of a record beyond its fields' types: what the server's answers rely on."""

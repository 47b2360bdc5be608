"""The options of `mock-finapi serve`: one table, each option with its flag, its variable, its type and its help.

Every option `--name` also reads `MOCK_FINAPI_NAME` (dashes become underscores); a flag beats its variable. A value
that does not parse is a usage error (exit 2) naming where it came from: `argument --port: ...` or
`MOCK_FINAPI_PORT='abc': ...`. Switches read `1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off`, `` from their
variable; a list option's flags replace its variable, whose items are separated by `separator`.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from mock_finapi.settings import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_STATE_PREFIX, MEMORY, shown_state

ENV_PREFIX = "MOCK_FINAPI_"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
LOG_FORMATS = ("text", "json", "off")
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def text(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


def port(value: str) -> int:
    number = integer(value)
    if not 0 <= number <= 65535:
        raise ValueError(f"must be a port number from 0 to 65535, not {number}")
    return number


def integer(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"must be a whole number, not {value!r}") from None


def natural(value: str) -> int:
    """A whole number ≥ 0."""
    number = integer(value)
    if number < 0:
        raise ValueError("must not be negative")
    return number


def positive(value: str) -> int:
    number = integer(value)
    if number < 1:
        raise ValueError("must be at least 1")
    return number


MAX_WORKERS = 64


def workers(value: str) -> int:
    """1 to MAX_WORKERS (each is a Python process of its own holding the whole sandbox: a typo must not start
    thousands)."""
    number = positive(value)
    if number > MAX_WORKERS:
        raise ValueError(f"must be at most {MAX_WORKERS}, not {number}")
    return number


def seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"must be a number of seconds, not {value!r}") from None
    if not 0 < number < 86_400:
        raise ValueError("must be more than 0 and less than a day")
    return number


def public_url(value: str) -> str:
    """An absolute http(s) base URL without query or fragment (a path prefix is kept), without a trailing slash."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"must be an http or https URL such as https://mock.example.com, not {value!r}")
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ValueError("must not contain spaces or control characters")
    return value.rstrip("/")


def state(value: str) -> str:
    """`memory` or a Redis URL (redis://, rediss:// or unix://; a port from 0 to 65535, a database number)."""
    if value.lower() == MEMORY:
        return MEMORY
    parts, shown = urlsplit(value), shown_state(value)
    if parts.scheme not in ("redis", "rediss", "unix") or not (parts.hostname or parts.path):
        raise ValueError(f"must be memory or a Redis URL such as redis://127.0.0.1:6379/0, not {shown!r}")
    try:
        parts.port  # noqa: B018 - it checks the port
    except ValueError:
        raise ValueError(f"the port must be a number from 0 to 65535, in {shown!r}") from None
    database = "" if parts.scheme == "unix" else parts.path.strip("/")
    if database and not database.isdigit():
        raise ValueError(f"the database must be a number (redis://HOST:PORT/0), in {shown!r}")
    return value


def choice(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value.lower() not in choices:
            raise ValueError(f"invalid choice: {value!r} (choose from {', '.join(choices)})")
        return value.lower()

    return parse


def switch(value: str) -> bool:
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise ValueError("must be 1, true, yes or on (on), or 0, false, no, off or empty (off)")


@dataclass(frozen=True)
class Option:
    name: str
    """`port`: the flag `--port`, the variable `MOCK_FINAPI_PORT`, the value `values["port"]`."""
    parse: Callable[[str], Any]
    default: Any
    help: str
    kind: Literal["value", "switch", "list"] = "value"
    separator: str = os.pathsep
    metavar: str | None = None
    shown: Callable[[str], str] = str
    """A value as an error message shows it (without a password)."""

    @property
    def flag(self) -> str:
        return "--" + self.name

    @property
    def variable(self) -> str:
        return ENV_PREFIX + self.name.upper().replace("-", "_")

    @property
    def key(self) -> str:
        return self.name.replace("-", "_")


OPTIONS = (
    Option("host", text, DEFAULT_HOST, "interface to bind (default 127.0.0.1)"),
    Option("port", port, DEFAULT_PORT, "port; 0 picks a free one (default 8080)"),
    Option(
        "scenario", text, "default", "a built-in scenario name or a YAML path (default: default)", metavar="NAME|PATH"
    ),
    Option("seed", natural, None, "the seed of ids and tokens (default: the scenario's)", metavar="N"),
    Option("url-file", text, None, "write the base URL here once the server is ready", metavar="PATH"),
    Option("log-level", choice(*LOG_LEVELS), "info", f"messages on stderr: {', '.join(LOG_LEVELS)}", metavar="LEVEL"),
    Option(
        "log-format", choice(*LOG_FORMATS), "text", f"request log on stdout: {', '.join(LOG_FORMATS)}", metavar="FORMAT"
    ),
    Option("journal-size", natural, 1000, "requests the journal keeps (default 1000; 0 keeps none)", metavar="N"),
    Option("no-admin", switch, False, "remove the admin API (health stays)", kind="switch"),
    Option("admin-token", text, None, "require `Authorization: Bearer TOKEN` on the admin API", metavar="TOKEN"),
    Option(
        "scenario-dir",
        text,
        [],
        "a folder POST /__admin/scenario may load from (repeatable)",
        kind="list",
        metavar="DIR",
    ),
    Option("reload", switch, False, "serve each valid change of the scenario file", kind="switch"),
    Option(
        "state-file",
        text,
        None,
        "keep the state in this file: loaded at start if it exists, written on shutdown and while it changes",
        metavar="PATH",
    ),
    Option(
        "state-interval",
        seconds,
        5.0,
        "seconds between two writes of the state file at most (default 5)",
        metavar="SECONDS",
    ),
    Option(
        "state",
        state,
        MEMORY,
        "where the state lives: memory (this process, the default) or a Redis URL redis://HOST:PORT/DB that "
        "workers and replicas share",
        metavar="memory|URL",
        shown=shown_state,
    ),
    Option(
        "state-prefix",
        text,
        DEFAULT_STATE_PREFIX,
        f"the prefix of the state's keys in Redis (default {DEFAULT_STATE_PREFIX})",
        metavar="PREFIX",
    ),
    Option(
        "workers",
        workers,
        1,
        f"processes serving the port, 1 to {MAX_WORKERS} (default 1; more need a shared --state)",
        metavar="N",
    ),
    Option("snapshot", text, None, "start from this snapshot instead of the scenario", metavar="FILE"),
    Option(
        "allow-host",
        text,
        [],
        "a further Host name requests may use while the server listens on loopback (repeatable)",
        kind="list",
        separator=",",
        metavar="NAME",
    ),
    Option(
        "head-timeout",
        seconds,
        10.0,
        "seconds a client may take to send a request head (default 10)",
        metavar="SECONDS",
    ),
    Option(
        "public-url",
        public_url,
        None,
        "the base URL web form URLs point at, as browsers reach the server (default: each request's own)",
        metavar="URL",
    ),
    Option("max-tokens", positive, 1_000_000, "live tokens the server keeps at most (default 1000000)", metavar="N"),
    Option("max-users", positive, 1_000_000, "users the server keeps at most (default 1000000)", metavar="N"),
    Option("max-processes", positive, 200_000, "processes the server keeps at most (default 200000)", metavar="N"),
    Option("max-clients", positive, 10_000, "clients auto_register accepts at most (default 10000)", metavar="N"),
    Option(
        "max-transactions",
        positive,
        2_000_000,
        "bank transactions the server keeps at most (default 2000000)",
        metavar="N",
    ),
    Option(
        "max-web-forms",
        positive,
        100_000,
        "web forms and background update tasks the server keeps at most (default 100000)",
        metavar="N",
    ),
)


def add_arguments(parser: argparse.ArgumentParser, options: Sequence[Option] = OPTIONS) -> None:
    for option in options:
        shown = f"{option.help} [{option.variable}]"
        if option.kind == "switch":
            parser.add_argument(option.flag, action="store_const", const="1", default=None, help=shown)
        elif option.kind == "list":
            parser.add_argument(option.flag, action="append", default=None, help=shown, metavar=option.metavar)
        else:
            parser.add_argument(option.flag, default=None, help=shown, metavar=option.metavar)


def resolve(
    parser: argparse.ArgumentParser, args: argparse.Namespace, options: Sequence[Option] = OPTIONS
) -> dict[str, Any]:
    """Each option's value: its flag's, else its variable's, else its default (`parser.error` for a bad one)."""
    values: dict[str, Any] = {}
    for option in options:
        given = getattr(args, option.key)
        if given is not None:
            source, raw = f"argument {option.flag}", given
        elif option.variable in os.environ:
            raw = os.environ[option.variable]
            source = f"{option.variable}={option.shown(raw)!r}"
            if option.kind == "list":
                raw = [item for item in raw.split(option.separator) if item]
        else:
            values[option.key] = option.default
            continue
        try:
            values[option.key] = [option.parse(item) for item in raw] if option.kind == "list" else option.parse(raw)
        except ValueError as exc:
            parser.error(f"{source}: {exc}")
    return values

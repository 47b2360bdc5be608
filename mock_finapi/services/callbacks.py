"""Callbacks the emulator sends (WEBFORM.md §3, §4, §7; FINAPI.md §5), over real HTTP.

- Kinds: `webForm.finalised` (`{"webFormId", "status"}`), `task.webFormRequired` and `task.finalised`
  (`{"taskId", "status", "webForm"?}`), `user.deleted` (`{"userId", "event": "DELETED"}` to the
  `userSynchronizationCallbackUrl` of every client of the user's mandator that has one).
- Sending never blocks nor fails the request that triggers it: `send` schedules a background task on the running
  event loop and returns; `drain` awaits the ones in flight (tests, and the server's shutdown with a short grace).
- One attempt, no retry, no signature, no redirect followed (decided, WEBFORM.md §7.1): `POST` with
  `Content-Type: application/json`, `Content-Length` and `Connection: close`, HTTP/1.1; the attempt (connect, TLS,
  request, the answer's status line) has `CallbackSpec.timeout` seconds; the receiver's answer is not read beyond its
  status line. TLS certificates are verified only with `CallbackSpec.verify_tls` (decided, §7.16).
- Every attempt is recorded (`Store.record_callback`, `GET /__admin/callbacks`): the virtual time it was sent, URL,
  body, the receiver's status or why there is none ("connection refused", "timed out after 5.0 s", "TLS: ..."), the
  real seconds it took, the mandator, and the fault rule that acted on it.
- Outbound fault rules (`match: {callback: true, path: <glob of the callback URL's path>}`, `fields` on the
  callback body's top-level fields) act on callbacks only, and inbound rules never on callbacks: `delay_ms` delays
  the attempt (real time; a stop of the server ends the wait, and the callback is not sent), `respond` or `network`
  fail it without sending anything (error "injected fault '<name>'"). They count as inbound rules do
  (`Store.fire_fault`).
- No secrets: callback bodies hold none, and log lines name a URL without its query string or user information.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import ssl
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import orjson

from mock_finapi.clock import Clock
from mock_finapi.scenarios.schema import CallbackSpec
from mock_finapi.services.faults import FaultRequest, matches
from mock_finapi.state.models import FaultRule
from mock_finapi.state.protocol import Store
from mock_finapi.state.webforms import CallbackAttempt

log = logging.getLogger("mock_finapi")

WEB_FORM_FINALISED = "webForm.finalised"
TASK_WEB_FORM_REQUIRED = "task.webFormRequired"
TASK_FINALISED = "task.finalised"
USER_DELETED = "user.deleted"
KINDS = (WEB_FORM_FINALISED, TASK_WEB_FORM_REQUIRED, TASK_FINALISED, USER_DELETED)

URL_MAX = 2048
FINAPI_URL = re.compile(
    r"https://(www\.)?[-a-zA-Z0-9@:%._+~#=]{1,256}\.[a-zA-Z0-9()]{1,63}\b([-a-zA-Z0-9()@:%_+.~#?&/=]*)"
)
"""finAPI's pattern for callback URLs (WEBFORM.md §2.1), matched against the whole string (decided)."""
_NOT_IN_URL = re.compile(r"[\x00-\x20\x7f]")
MSG_URL_TOO_LONG = f"must be at most {URL_MAX} characters"
MSG_URL_PATTERN = "must be an https URL with a dotted host name (finAPI's URL pattern)"
MSG_URL_LOCAL = "must be an http or https URL with a host name"
MSG_STOPPED = "not sent: the emulator stopped"
MSG_NO_ANSWER = "no answer: the emulator stopped"
MSG_DROPPED = "not sent: its web form was deleted"
MAX_IN_FLIGHT = 1000
"""Callbacks on their way at once; more are recorded as not sent (a bound on the tasks and sockets they hold)."""
CLOSE_GRACE = 0.5
"""Seconds the rest of a receiver's answer may take to arrive after its status line before the connection is cut."""
STOP_GRACE = 1.0
"""Seconds callbacks on their way get to end when serving stops (then they end unsent or unanswered)."""
MAX_ANSWER_LINE = 8192
"""Longest status line read (longer: a malformed answer)."""
_STATUS_LINE = re.compile(rb"HTTP/\d\.\d ([1-5]\d\d)(?:[ \r\n]|$)")


Outcome = tuple[int | None, str | None]
"""(the receiver's status, None) or (None, why there is none)."""


class _Target(NamedTuple):
    tls: bool
    host: str
    port: int
    head: bytes
    """The request head up to and including its empty line."""


class _Flight:
    """One attempt on its way: `ended` is resolved to end it early (`reason` says why)."""

    __slots__ = ("ended", "reason", "sending", "web_form_id")

    def __init__(self, ended: asyncio.Future[None], web_form_id: object) -> None:
        self.ended, self.web_form_id = ended, web_form_id
        self.reason = MSG_STOPPED
        self.sending = False
        """Its request is on the wire (a deletion no longer drops it)."""

    def end(self, reason: str) -> None:
        if not self.ended.done():
            self.reason = reason
            self.ended.set_result(None)


class _Failure(Exception):
    """An attempt that got no usable answer; its text is what the outbound journal records."""


class Callbacks:
    """The callbacks of one world: the URL rule of its scenario, and the attempts on their way."""

    def __init__(self, store: Store, clock: Clock, spec: CallbackSpec | None = None) -> None:
        self.store, self.clock = store, clock
        self.spec = spec if spec is not None else CallbackSpec()
        self._tasks: set[asyncio.Task[None]] = set()
        self._flights: set[_Flight] = set()
        self._closed = False
        self._tls: ssl.SSLContext | None = None

    # the URL rule
    def url_problem(self, url: str | None) -> str | None:
        """Why `url` cannot be a callback URL of the Web Form API (None: it can, or none is given): finAPI's rule,
        https with a dotted host and at most 2048 characters; with `CallbackSpec.allow_http` also `http://` and
        dotless hosts (`localhost`, `[::1]`, a container's name)."""
        if url is None:
            return None
        if not isinstance(url, str):
            return "must be a string"
        if len(url) > URL_MAX:
            return MSG_URL_TOO_LONG
        if FINAPI_URL.fullmatch(url):
            return None
        if not self.spec.allow_http:
            return MSG_URL_PATTERN
        return None if _plain_url(url) else MSG_URL_LOCAL

    # sending
    def send(self, kind: str, url: str, body: Mapping[str, Any], mandator_id: str | None) -> None:
        """POST `body` as JSON to `url` from the background (one attempt, recorded); returns at once and never
        raises. Needs a running event loop (every caller is a request handler or the sweep). Once `close`d,
        nothing is sent."""
        if self._closed:
            return
        try:
            payload = orjson.dumps(body)
            loop = asyncio.get_running_loop()
            if len(self._tasks) >= MAX_IN_FLIGHT:
                log.warning("callback %s to %s not sent: %d callbacks in flight", kind, _shown(url), MAX_IN_FLIGHT)
                refused = f"not sent: {MAX_IN_FLIGHT} callbacks were in flight already"
                coroutine = self._record_only(kind, url, payload, mandator_id, refused)
            else:
                coroutine = self._attempt(kind, url, payload, body.get("webFormId"), mandator_id)
            task = loop.create_task(coroutine, name=f"mock-finapi callback {kind}")
        except Exception:  # a request must not fail because a callback could not even be scheduled
            log.exception("callback %s to %s could not be scheduled", kind, _shown(url))
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def user_deleted(self, mandator_id: str, user_ids: Sequence[str]) -> None:
        """`{"userId", "event": "DELETED"}` for each deleted user to the `userSynchronizationCallbackUrl` of every
        client of the mandator that has one (FINAPI.md §5); that URL follows the client configuration's own rule
        (http allowed), not the Web Form one."""
        if not user_ids:
            return
        urls = [
            url
            for client in await self.store.clients()
            if client.mandator_id == mandator_id
            and isinstance(url := client.config.get("userSynchronizationCallbackUrl"), str)
            and url
        ]
        for url in urls:
            for user_id in user_ids:
                self.send(USER_DELETED, url, {"userId": user_id, "event": "DELETED"}, mandator_id)

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def drain(self, grace: float | None = None) -> None:
        """Wait until no callback is in flight. With `grace` (seconds; the server's shutdown): those still running
        after it end at once (a fault's delay ends unsent, an attempt without an answer is recorded so)."""
        if grace is None:
            while self._tasks:
                await asyncio.wait(set(self._tasks))
            return
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            if pending:
                for flight in list(self._flights):
                    flight.end(MSG_STOPPED)
                await asyncio.wait(pending)

    def close(self) -> None:
        """Its world is served no more (a reset or a scenario load swapped it out): callbacks on their way end at
        once and are not recorded (the journal they would go to is gone), and `send` sends nothing."""
        self._closed = True
        for flight in list(self._flights):
            flight.end(MSG_STOPPED)

    def drop(self, web_form_id: str) -> int:
        """End the callbacks of a web form that have not been sent yet (a fault rule delays them): its deletion
        drops them (decided, WEBFORM.md §2.2); they are recorded as not sent. Answers how many."""
        dropped = [f for f in self._flights if f.web_form_id == web_form_id and not f.sending and not f.ended.done()]
        for flight in dropped:
            flight.end(MSG_DROPPED)
        return len(dropped)

    # one attempt
    async def _attempt(self, kind: str, url: str, payload: bytes, web_form_id: object, mandator_id: str | None) -> None:
        flight = _Flight(asyncio.get_running_loop().create_future(), web_form_id)
        self._flights.add(flight)
        stop = flight.ended
        started = self.clock.real()
        try:
            prelude = await self.store.prepare()
            rule = await self._fault(prelude.faults, url, payload)
            status: int | None = None
            error: str | None = None
            if rule is not None and rule.delay_ms:
                await asyncio.wait([stop], timeout=rule.delay_ms / 1000)
            sent_at = self.clock.real()
            now = prelude.clock.time(sent_at)
            if stop.done():
                error = flight.reason
            elif rule is not None and (rule.status is not None or rule.network is not None):
                error = f"injected fault '{rule.name}'"
            else:
                flight.sending = True
                status, error = await self._until_stopped(self._post(url, payload), stop)
            duration = self.clock.real() - started
            if self._closed:
                return
            attempt = CallbackAttempt(
                now, kind, url, payload, status, error, duration, mandator_id, rule.name if rule else None
            )
            await self.store.record_callback(attempt)
            outcome = error if status is None else status
            log.info("callback %s to %s: %s (%.0f ms)", kind, _shown(url), outcome, duration * 1000)
        except Exception:  # a background task has nobody to report to but the log
            log.exception("callback %s to %s failed unexpectedly", kind, _shown(url))
        finally:
            self._flights.discard(flight)
            if not stop.done():
                stop.cancel()

    async def _record_only(self, kind: str, url: str, payload: bytes, mandator_id: str | None, error: str) -> None:
        try:
            prelude = await self.store.prepare()
            now = prelude.clock.time(self.clock.real())
            await self.store.record_callback(CallbackAttempt(now, kind, url, payload, None, error, 0.0, mandator_id))
        except Exception:
            log.exception("callback %s to %s could not be recorded", kind, _shown(url))

    async def _fault(self, rules: tuple[FaultRule, ...], url: str, payload: bytes) -> FaultRule | None:
        """The outbound rule that fires for this callback (counted by the store), or None."""
        outbound = [rule for rule in rules if rule.callback]
        if not outbound:
            return None
        body = orjson.loads(payload)
        fields = body if isinstance(body, dict) else {}
        request = FaultRequest("POST", _path(url), fields, None, callback=True)
        matching = [rule.name for rule in outbound if matches(rule, request)]
        return await self.store.fire_fault(matching) if matching else None

    @staticmethod
    async def _until_stopped(post: Coroutine[Any, Any, Outcome], stop: asyncio.Future[None]) -> Outcome:
        """`post`'s outcome, unless the emulator stops first."""
        task = asyncio.ensure_future(post)
        either: set[asyncio.Future[Any]] = {task, stop}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        task.cancel()
        await asyncio.wait([task])
        return None, MSG_NO_ANSWER

    async def _post(self, url: str, payload: bytes) -> Outcome:
        """(status, None), or (None, why there is no answer)."""
        try:
            target = _target(url, len(payload))
        except ValueError as exc:
            return None, f"invalid URL: {exc}"
        timeout = float(self.spec.timeout)
        writer: asyncio.StreamWriter | None = None
        reader: asyncio.StreamReader | None = None
        answered = False
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await self._connect(target)
                writer.write(target.head + payload)
                await writer.drain()
                line = await reader.readline()
            status = _status(line)
            answered = True
            return status, None
        except TimeoutError:
            return None, f"timed out after {timeout} s"
        except ssl.SSLCertVerificationError as exc:
            return None, f"TLS: certificate verify failed: {exc.verify_message or exc.reason}"
        except ssl.SSLError as exc:
            return None, f"TLS: {_tls_reason(exc)}"
        except _Failure as exc:
            return None, str(exc)
        except ConnectionRefusedError:
            return None, "connection refused"
        except (ConnectionResetError, BrokenPipeError):
            return None, "connection reset by the receiver"
        except socket.gaierror:
            return None, f"cannot resolve host '{target.host}'"
        except ValueError:  # a status line beyond the reader's limit
            return None, "malformed answer: no HTTP status line"
        except OSError as exc:
            return None, f"network error: {exc.strerror or exc}"
        finally:
            if writer is not None and reader is not None:
                if answered:
                    await _close(reader, writer)
                else:
                    writer.transport.abort()

    async def _connect(self, target: _Target) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection to the first of the host's addresses that accepts one (IPv6 and IPv4 alike); refused by
        all: ConnectionRefusedError."""
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
        context = self._context() if target.tls else None
        errors: list[OSError] = []
        for family, _, _, _, address in infos:
            try:
                return await asyncio.open_connection(
                    str(address[0]),
                    target.port,
                    family=family,
                    ssl=context,
                    server_hostname=target.host if context is not None else None,
                    limit=MAX_ANSWER_LINE,
                )
            except ssl.SSLError:
                raise
            except OSError as exc:
                errors.append(exc)
        if errors and all(isinstance(exc, ConnectionRefusedError) for exc in errors):
            raise ConnectionRefusedError()
        raise errors[0] if errors else _Failure(f"cannot resolve host '{target.host}'")

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:
            context = ssl.create_default_context()
            if not self.spec.verify_tls:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._tls = context
        return self._tls


def _plain_url(url: str) -> bool:
    """An http or https URL with a host (and a valid port, if any), without spaces or control characters."""
    if _NOT_IN_URL.search(url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _target(url: str, length: int) -> _Target:
    if _NOT_IN_URL.search(url):
        raise ValueError("spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("not an http or https URL")
    host = parts.hostname
    if not host:
        raise ValueError("no host")
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)  # a bad port raises ValueError
    netloc = parts.netloc.rpartition("@")[2]  # never the user information
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    head = (
        f"POST {target} HTTP/1.1\r\n"
        f"Host: {netloc}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {length}\r\n"
        "Connection: close\r\n"
        "User-Agent: mock-finapi\r\n"
        "\r\n"
    )
    try:
        encoded = head.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError("characters outside ASCII (encode them)") from None
    return _Target(tls, host, port, encoded)


def _status(line: bytes) -> int:
    if not line:
        raise _Failure("connection closed without an answer")
    match = _STATUS_LINE.match(line)
    if match is None:
        raise _Failure("malformed answer: no HTTP status line")
    return int(match.group(1))


def _tls_reason(exc: ssl.SSLError) -> str:
    reason = exc.reason or (exc.args[1] if len(exc.args) > 1 else str(exc))
    return str(reason).lower().replace("_", " ")


async def _close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Let the receiver finish its answer (read and dropped) and close, for at most CLOSE_GRACE seconds; then cut."""
    try:
        async with asyncio.timeout(CLOSE_GRACE):
            while await reader.read(65536):
                pass
            writer.close()
            await writer.wait_closed()
    except (TimeoutError, OSError, ssl.SSLError):
        writer.transport.abort()
    except asyncio.CancelledError:
        writer.transport.abort()
        raise


def _path(url: str) -> str:
    try:
        return urlsplit(url).path or "/"
    except ValueError:
        return "/"


def _shown(url: str) -> str:
    """A URL as log lines show it: scheme, host, port and path (no query string, no user information)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    netloc = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else "<invalid URL>"

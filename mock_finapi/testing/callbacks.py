"""CallbackReceiver: a local HTTP(S) server that records the callbacks the emulator sends (the pytest plugin's
`finapi_callbacks` fixture).

    with CallbackReceiver() as receiver:
        ...  # create a web form with callbacks.finalised = receiver.url + "/finalised"
        body = receiver.wait_for(webFormId=form_id)
        assert body["status"] == "COMPLETED"

It listens on 127.0.0.1 and a free port, in background threads, and answers every POST with `status` (200 unless
changed) and an empty body. Plain http needs the scenario switch `webforms: {callbacks: {allow_http: true}}`
(finAPI's rule takes https URLs with a dotted host only); `https_receiver` (or `certfile`/`keyfile`) serves https,
and `https://127.0.0.1:<port>/...` passes finAPI's rule as written (certificates are not verified by default).
Standard library only: it needs neither httpx nor the emulator.
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

POLL_INTERVAL = 0.02
"""Seconds between the server's looks at whether it should stop (what `stop()` takes at most, about)."""
MAX_BODY = 1024 * 1024
"""Largest body recorded (a bigger one is answered 413 and recorded without a body)."""


@dataclass(frozen=True)
class ReceivedCallback:
    """One POST the receiver got."""

    path: str
    """The request target: path and query string."""
    headers: dict[str, str]
    """Header names in lower case (a repeated header: its last value)."""
    body: Any
    """The JSON body, parsed; None when it was not JSON (`raw` has it)."""
    raw: bytes = field(repr=False)
    time: float = field(repr=False, default=0.0)
    """When it arrived (`time.monotonic()`)."""


class CallbackReceiver:
    """A local server recording every POST: `.url` (base URL, no trailing slash), `.received`, `.wait_for(...)`."""

    def __init__(
        self, *, status: int = 200, certfile: str | Path | None = None, keyfile: str | Path | None = None
    ) -> None:
        """`status`: what it answers (settable later, e.g. 500 for a failing receiver); `certfile`/`keyfile` (PEM):
        serve https instead of http."""
        self.status = status
        self._received: list[ReceivedCallback] = []
        self._changed = threading.Condition()
        self._context: ssl.SSLContext | None = None
        if certfile is not None:
            self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._context.load_cert_chain(str(certfile), str(keyfile) if keyfile is not None else None)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # lifetime
    def start(self) -> CallbackReceiver:
        if self._server is not None:
            raise RuntimeError(f"CallbackReceiver is already started at {self.url}")
        server = _Server(("127.0.0.1", 0), _Handler)
        server.receiver, server.tls = self, self._context
        port = server.server_address[1]
        self.url = f"{'https' if self._context else 'http'}://127.0.0.1:{port}"
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(POLL_INTERVAL,), name=f"callback receiver {self.url}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening (idempotent); what was received stays readable."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> CallbackReceiver:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # what arrived
    @property
    def received(self) -> list[ReceivedCallback]:
        """Every POST so far, oldest first (a copy)."""
        with self._changed:
            return list(self._received)

    def bodies(self) -> list[Any]:
        """The JSON bodies received so far, oldest first."""
        return [callback.body for callback in self.received]

    def clear(self) -> None:
        with self._changed:
            self._received.clear()

    def wait_for(
        self, predicate: Callable[[Any], bool] | None = None, *, timeout: float = 5.0, **fields: Any
    ) -> dict[str, Any]:
        """The JSON body of the first callback received (already, or within `timeout` seconds) whose body has every
        one of `fields` (`wait_for(webFormId=id, status="COMPLETED")`) and for which `predicate(body)` holds.
        Raises AssertionError listing what was received when none arrives in time."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for callback in self._received:
                    if _selected(callback.body, predicate, fields):
                        return dict(callback.body)
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            received = list(self._received)
        wanted = ", ".join([*(f"{k}={v!r}" for k, v in fields.items()), *(["predicate"] if predicate else [])])
        shown = "\n".join(f"  POST {c.path} {c.raw[:500].decode('utf-8', 'replace')}" for c in received)
        raise AssertionError(
            f"no callback{' with ' + wanted if wanted else ''} arrived at {self.url} within {timeout:g} s; "
            f"received {len(received)}" + (f":\n{shown}" if received else "")
        )

    def _record(self, callback: ReceivedCallback) -> None:
        with self._changed:
            self._received.append(callback)
            self._changed.notify_all()


def _selected(body: Any, predicate: Callable[[Any], bool] | None, fields: dict[str, Any]) -> bool:
    if not isinstance(body, dict):
        return False
    if any(key not in body or body[key] != value for key, value in fields.items()):
        return False
    return predicate is None or bool(predicate(body))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: CallbackReceiver
    tls: ssl.SSLContext | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        """The TLS handshake in the connection's own thread (a client that never completes one blocks nobody)."""
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        try:
            request.settimeout(10)
            wrapped = self.tls.wrap_socket(request, server_side=True)  # the plain socket is detached into it
        except (OSError, ssl.SSLError):
            return  # a client that refused our certificate, or spoke no TLS
        with wrapped:
            super().finish_request(wrapped, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-request is no error of the receiver's."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = self.headers.get("Content-Length", "0")
        size = int(length) if length.isdigit() else 0
        headers = {name.lower(): value for name, value in self.headers.items()}
        if size > MAX_BODY:
            self._answer(413)
            self.server.receiver._record(ReceivedCallback(self.path, headers, None, b"", time.monotonic()))
            return
        raw = self.rfile.read(size)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        self.server.receiver._record(ReceivedCallback(self.path, headers, body, raw, time.monotonic()))
        self._answer(self.server.receiver.status)

    def do_GET(self) -> None:
        self._answer(405)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: test output is not the place for access logs."""


def openssl_available() -> bool:
    return shutil.which("openssl") is not None


def self_signed_certificate(folder: str | Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed certificate for `host` (an IP address or a name) and its key, made with the `openssl` command
    line tool into `folder`: (certfile, keyfile). Raises RuntimeError when openssl is missing or fails."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the openssl command line tool is not installed (needed for a self-signed certificate)")
    folder = Path(folder)
    cert, key = folder / "receiver-cert.pem", folder / "receiver-key.pem"
    kind = "IP" if host.replace(".", "").isdigit() or ":" in host else "DNS"
    command = [
        openssl,
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "2",
        "-subj",
        f"/CN={host}",
        "-addext",
        f"subjectAltName={kind}:{host}",
        "-keyout",
        str(key),
        "-out",
        str(cert),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (a fixed tool)
    if done.returncode != 0:
        raise RuntimeError(f"openssl could not make a certificate: {done.stderr.strip()}")
    return cert, key


@contextmanager
def https_receiver(*, status: int = 200) -> Iterator[CallbackReceiver]:
    """A CallbackReceiver serving https with a fresh self-signed certificate for 127.0.0.1 (needs `openssl`)."""
    with tempfile.TemporaryDirectory(prefix="mock-finapi-receiver-") as folder:
        cert, key = self_signed_certificate(folder)
        with CallbackReceiver(status=status, certfile=cert, keyfile=key) as receiver:
            yield receiver

"""Graceful shutdown (issue 6, point 7): SIGTERM while requests are in flight, on a real `mock-finapi serve`.

The requests are slowed by a `delay_ms` fault rule, so they are still being answered when the signal arrives. A
request counts as in flight once its bytes are written and a later request on another connection was answered (the
server reads every ready socket in one turn of its loop, so it has parsed the earlier ones by then).
"""

from __future__ import annotations

import asyncio
import importlib.util
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_finapi.cli import GRACEFUL_SHUTDOWN
from tests.e2e.server import Served, serving
from tests.helpers import CLIENT_CREDENTIALS, SCENARIO, TOKEN_PATH, bearer, password_grant

EXIT_WITHIN = 5.0
TIMEOUT = httpx.Timeout(20.0, connect=10.0, pool=20.0)
DELAY_MS = 1500
"""Longer than sending the burst takes on a busy machine, shorter than the grace period."""
SLOW = 60
"""GET /api/v2/users slowed by DELAY_MS: in flight when SIGTERM arrives."""
FAST = 40
"""Token and client configuration requests in the same burst, answered at once."""


@pytest.fixture(autouse=True)
def _fast_httpcore(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpcore imports sniffio on every pool operation and anyio 4 no longer installs it: each failed import searches
    sys.path again. Under asyncio httpcore's fallback without sniffio is what it would detect anyway."""
    if importlib.util.find_spec("sniffio") is None:  # installed, it is imported once and all is well
        monkeypatch.setitem(sys.modules, "sniffio", None)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serving(tmp_path, "--scenario", SCENARIO, "--log-format", "off") as served:
        yield served


@dataclass
class Outcome:
    kind: str
    response: httpx.Response | None = None
    error: BaseException | None = None
    answered_at: float = 0.0


def add_delay(served: Served, path: str, delay_ms: int) -> None:
    rule = {"name": "slow", "match": {"method": "GET", "path": path}, "delay_ms": delay_ms}
    response = httpx.post(served.url + "/__admin/faults", json=rule, timeout=TIMEOUT)
    assert response.status_code == 201, response.text


def user_token(served: Served) -> str:
    response = httpx.post(served.url + TOKEN_PATH[2], data=password_grant(), timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def sigterm_when_in_flight(
    served: Served, requests: list[tuple[str, str, dict[str, Any]]]
) -> tuple[list[Outcome], float]:
    """Send `requests` (kind, method+path, httpx kwargs) at once, each on its own connection; SIGTERM the server once
    all of them are in flight. Answers the outcomes (in request order) and when the signal was sent."""
    sent = asyncio.Event()
    written = 0

    async def trace(event: str, _: dict[str, Any]) -> None:
        nonlocal written
        if event == "http11.send_request_body.complete":
            written += 1
            if written == len(requests):
                sent.set()

    async def one(client: httpx.AsyncClient, kind: str, target: str, kwargs: dict[str, Any]) -> Outcome:
        method, path = target.split(" ", 1)
        try:
            response = await client.request(method, path, extensions={"trace": trace}, **kwargs)
        except httpx.HTTPError as exc:
            return Outcome(kind, error=exc, answered_at=time.monotonic())
        return Outcome(kind, response=response, answered_at=time.monotonic())

    async def run() -> tuple[list[Outcome], float]:
        limits = httpx.Limits(max_connections=len(requests))
        async with (
            httpx.AsyncClient(base_url=served.url, limits=limits, timeout=TIMEOUT) as client,
            httpx.AsyncClient(base_url=served.url, timeout=TIMEOUT) as barrier,
        ):
            tasks = [asyncio.create_task(one(client, kind, target, kwargs)) for kind, target, kwargs in requests]
            await asyncio.wait_for(sent.wait(), TIMEOUT.read)
            assert (await barrier.get("/__admin/health")).status_code == 200
            signalled = time.monotonic()
            served.process.send_signal(signal.SIGTERM)
            return list(await asyncio.gather(*tasks)), signalled

    return asyncio.run(run())


def wait_for_exit(served: Served, signalled: float) -> tuple[int, float]:
    try:
        code = served.process.wait(timeout=max(0.1, signalled + EXIT_WITHIN - time.monotonic()))
    except subprocess.TimeoutExpired:
        pytest.fail(f"mock-finapi still running {EXIT_WITHIN} s after SIGTERM")
    return code, time.monotonic() - signalled


@pytest.mark.slow
def test_sigterm_under_load_answers_the_requests_in_flight_and_exits_0(served: Served) -> None:
    headers = bearer(user_token(served))
    add_delay(served, "/api/v2/users", DELAY_MS)
    ct_headers = bearer(httpx.post(served.url + TOKEN_PATH[2], data=CLIENT_CREDENTIALS).json()["access_token"])
    requests = [("slow", "GET /api/v2/users", {"headers": headers}) for _ in range(SLOW)]
    requests += [
        ("token", "POST " + TOKEN_PATH[2], {"data": CLIENT_CREDENTIALS})
        if i % 2
        else ("config", "GET /api/v2/clientConfiguration", {"headers": ct_headers})
        for i in range(FAST)
    ]

    outcomes, signalled = sigterm_when_in_flight(served, requests)
    code, took = wait_for_exit(served, signalled)

    failed = [(o.kind, repr(o.error)) for o in outcomes if o.error is not None]
    assert not failed, failed
    answers = [(o.kind, o.response) for o in outcomes if o.response is not None]
    assert Counter((kind, r.status_code) for kind, r in answers) == {
        ("slow", 200): SLOW,
        ("token", 200): FAST // 2,
        ("config", 200): FAST // 2,
    }
    for kind, response in answers:
        body = response.json()
        if kind == "slow":
            assert body["id"] == "username"
            assert response.headers["x-mock-fault"] == "slow"
        elif kind == "token":
            assert body["token_type"] == "bearer"
    slow_done = [o.answered_at for o in outcomes if o.kind == "slow"]
    assert min(slow_done) > signalled, "the slowed requests were answered before the signal: nothing was in flight"
    assert code == 0, served.stderr.read_text()
    assert took < EXIT_WITHIN
    assert not served.url_file.exists()
    assert "Traceback" not in served.stderr.read_text()


@pytest.mark.slow
def test_a_request_slower_than_the_grace_period_does_not_keep_the_server_alive(served: Served) -> None:
    """The stop ends the delayed request itself once the grace period is over (`Sandbox.stopping`): its connection
    closes without an answer, and uvicorn's own timeout (a backstop a second later) never has to cancel anything."""
    add_delay(served, "/api/v2/users", 60_000)
    assert GRACEFUL_SHUTDOWN + 1 < EXIT_WITHIN

    outcomes, signalled = sigterm_when_in_flight(served, [("stuck", "GET /api/v2/users", {})])
    code, took = wait_for_exit(served, signalled)

    assert code == 0, served.stderr.read_text()
    assert GRACEFUL_SHUTDOWN <= took < EXIT_WITHIN
    assert outcomes[0].response is None
    assert isinstance(outcomes[0].error, httpx.TransportError)
    assert not served.url_file.exists()
    assert isinstance(outcomes[0].error, httpx.RemoteProtocolError)  # closed without an answer, not a 500
    assert GRACEFUL_SHUTDOWN <= outcomes[0].answered_at - signalled < GRACEFUL_SHUTDOWN + 1, "ended at the grace"
    stderr = served.stderr.read_text()
    assert "timeout graceful shutdown exceeded" not in stderr  # uvicorn's backstop had nothing left to cancel
    assert "Traceback" not in stderr
    assert "ERROR" not in stderr

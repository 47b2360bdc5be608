"""Shared fixtures: an in-process emulator on the default scenario plus finAPI's example user, with a frozen clock."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from mock_finapi.http.app import Emulator, create_app
from mock_finapi.settings import Settings
from mock_finapi.testing.inprocess import InProcessClient
from tests.helpers import SCENARIO, START, AdminClock
from tests.redis_support import RedisServer, new_prefix, running_redis

if TYPE_CHECKING:
    from tests.contract.validator import ContractValidator

BACKENDS = ["memory", "redis"]
_COUNTS = pytest.StashKey["Counter[str]"]()


@pytest.fixture
def scenario_name() -> str:
    """Override in a module to serve another built-in scenario or a YAML path (`default`: no user at all)."""
    return SCENARIO


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server of this test process (xdist worker), for the Redis backend's runs."""
    with running_redis() as server:
        yield server


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Settings:
    """The state backend a test runs on: every API test runs on both (`memory`, and `redis` on a real redis-server
    with a key prefix of its own)."""
    if request.param == "memory":
        return Settings()
    server: RedisServer = request.getfixturevalue("redis_server")
    return Settings(state=server.url, state_prefix=new_prefix())


@pytest.fixture
def app(scenario_name: str, backend: Settings) -> Emulator:
    """The scenario with its clock frozen at the default scenario's start: time moves only when a test moves it."""
    return create_app(dataclasses.replace(backend, scenario=scenario_name), freeze_at=START)


@pytest.fixture
def client(app: Emulator) -> Iterator[InProcessClient]:
    with InProcessClient(app) as c:
        yield c


@pytest.fixture
def clock(client: InProcessClient) -> AdminClock:
    """The served clock, moved through the admin API."""
    return AdminClock(client)


@pytest.fixture
def anyio_backend() -> str:
    """The async unit tests (`pytestmark = pytest.mark.anyio`) run on asyncio only."""
    return "asyncio"


# ---------------------------------------------------------------------------------------------------- contract
# Every response an InProcessClient receives during the tests is checked against finAPI's published contract
# (tests/contract/validator.py); a test whose requests got a non-conforming answer fails naming operation, status
# and violation. The validator is built once per session (per xdist worker), on the first response.

_CONTRACT: list[ContractValidator] = []
_VIOLATIONS: list[str] = []


def _contract() -> ContractValidator:
    from tests.contract.validator import ContractValidator  # on first use: jsonschema is slow

    if not _CONTRACT:
        _CONTRACT.append(ContractValidator.load())  # the committed facts: no ../shared needed
    return _CONTRACT[0]


def _check_response(response: httpx.Response) -> None:
    outcome = _contract().check_response(response)
    if outcome:
        _VIOLATIONS.extend(outcome.describe())


@pytest.fixture(scope="session", autouse=True)
def _contract_checked_clients() -> Iterator[None]:
    """Adds the contract check to the response hooks of every InProcessClient (also module-scoped ones)."""
    original = InProcessClient.__init__

    def init(self: InProcessClient, app: Emulator, base_url: str = "http://mock-finapi", **kwargs: Any) -> None:
        hooks = dict(kwargs.pop("event_hooks", None) or {})
        hooks["response"] = [*hooks.get("response", []), _check_response]
        original(self, app, base_url, event_hooks=hooks, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(InProcessClient, "__init__", init)
        yield


def _fail_on_violations(when: str) -> None:
    if _VIOLATIONS:
        found, _VIOLATIONS[:] = list(_VIOLATIONS), []
        shown = "\n  ".join(found[:20]) + (f"\n  ... and {len(found) - 20} more" if len(found) > 20 else "")
        pytest.fail(f"{len(found)} response(s) during {when} break finAPI's contract:\n  {shown}", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    _VIOLATIONS.clear()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    result = yield
    _fail_on_violations("the test and its setup")
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    result = yield
    _fail_on_violations("teardown")
    return result


def _counts() -> Counter[str]:
    return Counter(_CONTRACT[0].counts) if _CONTRACT else Counter()


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the counts to the controller
        workeroutput["contract_counts"] = json.dumps(_counts())


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_COUNTS] = Counter()


@pytest.hookimpl(optionalhook=True)  # an xdist hook: the suite also runs without xdist
def pytest_testnodedown(node: Any, error: Any) -> None:
    counts = json.loads(node.workeroutput.get("contract_counts", "{}"))
    node.config.stash[_COUNTS].update(counts)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    counts = config.stash[_COUNTS] + _counts()
    if counts:
        checked = sum(counts[surface] for surface in ("v1", "v2", "webform", "emulator"))
        detail = ", ".join(f"{key}: {value}" for key, value in sorted(counts.items()))
        terminalreporter.write_line(f"contract: {checked} responses checked against finAPI's contract ({detail})")

"""`serve --reload` without a server: the Reloader's decisions, look by look, and the one-line summary of a change."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from mock_finapi.http.app import Emulator, create_app
from mock_finapi.reload import MAX_LISTED, Reloader, summary, watch
from mock_finapi.scenarios import loader
from mock_finapi.settings import Settings
from mock_finapi.state.models import User

pytestmark = pytest.mark.anyio

SERVED = """\
name: served
seed: 1
clients:
  - {client_id: c, client_secret: secret-one}
users:
  - {id: alice, password: alice-pw-1}
"""
CHANGED = SERVED.replace("name: served", "name: changed")
BROKEN = SERVED + "tokens:\n  format: jwt\n"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    file = tmp_path / "scenario.yaml"
    file.write_text(SERVED, encoding="utf-8")
    return file


@pytest.fixture
def app(path: Path) -> Emulator:
    return create_app(Settings(scenario=str(path)))


@pytest.fixture
def reloader(app: Emulator, path: Path) -> Reloader:
    return Reloader(app.sandbox, path, SERVED)


def messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "mock_finapi" and r.levelno == level]


async def test_an_unchanged_file_keeps_the_world(reloader: Reloader, app: Emulator, path: Path) -> None:
    world = app.sandbox.world
    path.write_text(SERVED, encoding="utf-8")  # saved without a change: no reset of the state
    assert not await reloader.check()
    assert not await reloader.check()
    assert app.sandbox.world is world


async def test_a_new_text_is_served_once_two_looks_agree(
    reloader: Reloader, app: Emulator, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "mock_finapi")
    path.write_text(CHANGED, encoding="utf-8")
    assert not await reloader.check(), "the first look may catch a writer halfway"
    assert app.sandbox.world.scenario.name == "served"
    assert await reloader.check()
    assert app.sandbox.world.scenario.name == "changed"
    assert not await reloader.check()
    assert messages(caplog, logging.INFO) == [
        f"scenario reloaded from {path} (state reset): name served→changed",
    ]


async def test_a_text_still_being_written_waits_for_the_writer(reloader: Reloader, app: Emulator, path: Path) -> None:
    path.write_text(CHANGED[:20], encoding="utf-8")
    assert not await reloader.check()
    path.write_text(CHANGED, encoding="utf-8")  # the next look sees other text: it waits again
    assert not await reloader.check()
    assert await reloader.check()
    assert app.sandbox.world.scenario.name == "changed"


async def test_a_broken_text_is_reported_once_and_changes_nothing(
    reloader: Reloader, app: Emulator, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    world = app.sandbox.world
    path.write_text(BROKEN, encoding="utf-8")
    for _ in range(4):
        assert not await reloader.check()
    assert app.sandbox.world is world
    assert messages(caplog, logging.ERROR) == [
        f"scenario change ignored, still serving served: {path}:8: tokens.format: must be uuid or finapi"
    ]


async def test_going_back_to_the_served_text_reloads_nothing(
    reloader: Reloader, app: Emulator, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "mock_finapi")
    world = app.sandbox.world
    path.write_text(BROKEN, encoding="utf-8")
    for _ in range(2):
        await reloader.check()
    path.write_text(SERVED, encoding="utf-8")
    assert not await reloader.check()
    assert not await reloader.check()
    assert app.sandbox.world is world
    assert messages(caplog, logging.INFO) == [f"scenario file {path} is back to the served version: nothing to reload"]


async def test_a_missing_file_is_reported_once_and_keeps_serving(
    reloader: Reloader, app: Emulator, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path.unlink()
    for _ in range(4):
        assert not await reloader.check()
    assert app.sandbox.world.scenario.name == "served"
    (error,) = messages(caplog, logging.ERROR)
    assert error.startswith(f"scenario change ignored, still serving served: {path}: cannot read: ")


async def test_a_reload_serves_the_new_scenario_from_a_fresh_state(
    reloader: Reloader, app: Emulator, path: Path
) -> None:
    store = app.sandbox.store
    await store.create_user(User("m", "carol", "carol-password"))
    path.write_text(SERVED.replace("alice", "bob"), encoding="utf-8")
    assert not await reloader.check()
    assert await reloader.check()
    assert app.sandbox.store is store  # the one store of the sandbox, its state replaced in one step
    assert app.sandbox.world.store is store
    assert [u.id for u in await store.users(None, 0.0)] == ["bob"]


async def test_watching_goes_on_after_a_reload_failed(
    reloader: Reloader, path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    looks: list[int] = []

    async def check() -> bool:
        looks.append(len(looks))
        if len(looks) == 1:
            raise RuntimeError("cannot be built")
        return False

    monkeypatch.setattr(reloader, "check", check)
    watching = asyncio.create_task(watch(reloader, interval=0.001))
    for _ in range(1000):
        await asyncio.sleep(0.001)
        if len(looks) >= 3:
            break
    watching.cancel()
    with pytest.raises(asyncio.CancelledError):
        await watching
    assert len(looks) >= 3
    assert messages(caplog, logging.ERROR) == [f"reloading {path} failed; still serving the previous scenario"]


def summarized(old: str, new: str) -> str:
    return summary(loader.load_text(old, "old.yaml"), loader.load_text(new, "new.yaml"))


def test_summary_names_changed_secrets_without_showing_them() -> None:
    new = SERVED.replace("secret-one", "secret-two").replace("alice-pw-1", "alice-pw-2")
    line = summarized(SERVED, new)
    assert line == "clients: ~c (client_secret); users: ~alice (password)"


def test_summary_lists_added_removed_and_changed_items_and_settings() -> None:
    new = """\
name: served
seed: 2
tokens: {format: finapi}
clients:
  - {client_id: c, client_secret: secret-one, config: {userAccessTokensValidityPeriod: 60}}
  - {client_id: d, client_secret: other}
users:
  - {id: bob, password: bob-pw-22, email: bob@localhost.de}
faults:
  - {name: down, respond: {status: 503}}
"""
    assert summarized(SERVED, new) == (
        "seed 1→2; tokens.format uuid→finapi; clients: +d, ~c (config.userAccessTokensValidityPeriod default→60); "
        "users: +bob, -alice; faults: +down"
    )


def test_summary_stays_one_short_line() -> None:
    users = "".join(f"  - {{id: user{n}, password: password{n}}}\n" for n in range(MAX_LISTED + 3))
    new = SERVED.replace("name: served", 'name: "two\\nlines"').replace("users:\n", "users:\n" + users)
    line = summarized(SERVED, new)
    assert "\n" not in line
    assert line.startswith("name served→two\\x0alines; users: +user0, ")
    assert line.endswith(", … (3 more)")


def test_summary_of_the_same_scenario_says_so() -> None:
    assert summarized(SERVED, SERVED) == "no effective change"

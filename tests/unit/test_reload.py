"""`serve --reload` without a server: the Reloader's decisions, look by look, and the one-line summary of a change."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from starlette.applications import Starlette

from mock_finapi.http.app import create_app
from mock_finapi.reload import MAX_LISTED, Reloader, summary
from mock_finapi.scenarios import loader
from mock_finapi.settings import Settings

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
def app(path: Path) -> Starlette:
    return create_app(Settings(scenario=str(path)))


@pytest.fixture
def reloader(app: Starlette, path: Path) -> Reloader:
    return Reloader(app.state, path, SERVED, app.state.settings)


def messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "mock_finapi" and r.levelno == level]


def test_an_unchanged_file_keeps_the_world(reloader: Reloader, app: Starlette, path: Path) -> None:
    world = app.state.world
    path.write_text(SERVED, encoding="utf-8")  # saved without a change: no reset of the state
    assert not reloader.check()
    assert not reloader.check()
    assert app.state.world is world


def test_a_new_text_is_served_once_two_looks_agree(
    reloader: Reloader, app: Starlette, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "mock_finapi")
    path.write_text(CHANGED, encoding="utf-8")
    assert not reloader.check(), "the first look may catch a writer halfway"
    assert app.state.world.scenario.name == "served"
    assert reloader.check()
    assert app.state.world.scenario.name == "changed"
    assert not reloader.check()
    assert messages(caplog, logging.INFO) == [
        f"scenario reloaded from {path} (state reset): name served→changed",
    ]


def test_a_text_still_being_written_waits_for_the_writer(reloader: Reloader, app: Starlette, path: Path) -> None:
    path.write_text(CHANGED[:20], encoding="utf-8")
    assert not reloader.check()
    path.write_text(CHANGED, encoding="utf-8")  # the next look sees other text: it waits again
    assert not reloader.check()
    assert reloader.check()
    assert app.state.world.scenario.name == "changed"


def test_a_broken_text_is_reported_once_and_changes_nothing(
    reloader: Reloader, app: Starlette, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    world = app.state.world
    path.write_text(BROKEN, encoding="utf-8")
    for _ in range(4):
        assert not reloader.check()
    assert app.state.world is world
    assert messages(caplog, logging.ERROR) == [
        f"scenario change ignored, still serving served: {path}:8: tokens.format: must be uuid or finapi"
    ]


def test_going_back_to_the_served_text_reloads_nothing(
    reloader: Reloader, app: Starlette, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "mock_finapi")
    world = app.state.world
    path.write_text(BROKEN, encoding="utf-8")
    for _ in range(2):
        reloader.check()
    path.write_text(SERVED, encoding="utf-8")
    assert not reloader.check()
    assert not reloader.check()
    assert app.state.world is world
    assert messages(caplog, logging.INFO) == [f"scenario file {path} is back to the served version: nothing to reload"]


def test_a_missing_file_is_reported_once_and_keeps_serving(
    reloader: Reloader, app: Starlette, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path.unlink()
    for _ in range(4):
        assert not reloader.check()
    assert app.state.world.scenario.name == "served"
    (error,) = messages(caplog, logging.ERROR)
    assert error.startswith(f"scenario change ignored, still serving served: {path}: cannot read: ")


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

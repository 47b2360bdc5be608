"""`--reload` does all its work on a large scenario off the event loop (issue 16, point 5).

Reading a file of megabytes, parsing and validating it, building its world and summarizing the change (which
compares every listed user) each take from milliseconds to seconds: none of them may hold up requests.
tests/e2e/test_scenario_loads.py checks the effect over a socket; this checks each step.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mock_finapi import reload, world
from mock_finapi.http.app import create_app
from mock_finapi.reload import Reloader
from mock_finapi.scenarios import loader
from mock_finapi.settings import Settings

pytestmark = pytest.mark.anyio

SERVED = (
    "name: served\nseed: 1\nclients: [{client_id: c, client_secret: s}]\nusers: [{id: alice, password: pw-alice}]\n"
)


async def test_a_reload_reads_parses_builds_and_summarizes_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: dict[str, set[int]] = {}

    def spy(step: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def recorded(*args: Any, **kwargs: Any) -> Any:
            threads.setdefault(step, set()).add(threading.get_ident())
            return function(*args, **kwargs)

        return recorded

    monkeypatch.setattr(Reloader, "_read", spy("read", Reloader._read))
    monkeypatch.setattr(loader, "load_text", spy("parse", loader.load_text))
    monkeypatch.setattr(world, "build_state", spy("build", world.build_state))
    monkeypatch.setattr(reload, "summary", spy("summary", reload.summary))
    path = tmp_path / "scenario.yaml"
    path.write_text(SERVED, encoding="utf-8")
    app = create_app(Settings(scenario=str(path)))
    reloader = Reloader(app.sandbox, path, SERVED)
    threads.clear()

    path.write_text(SERVED.replace("served", "changed"), encoding="utf-8")
    assert not await reloader.check()
    assert await reloader.check()

    assert app.sandbox.world.scenario.name == "changed"
    assert set(threads) == {"read", "parse", "build", "summary"}
    on_the_loop = [step for step, idents in threads.items() if threading.get_ident() in idents]
    assert on_the_loop == []

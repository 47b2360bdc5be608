"""`WebFormService` (services/webforms.py) on a unit world: what the API tests cannot reach or time exactly, namely
scenario outcomes decided ahead (`webforms.outcomes`), sweeps that meet, `finish`'s refusals, the page's login in the
duplicate check, the callbacks' bodies and kinds, and the store's `record_manual_update`.

Callbacks go to a recorder standing in for `services/callbacks.py` (`CallbackSender`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio
import pytest

from mock_finapi import errors
from mock_finapi.scenarios.schema import OutcomeSpec, WebFormsSpec
from mock_finapi.services.callbacks import WEB_FORM_FINALISED
from mock_finapi.services.webform_requests import ImportDetails
from mock_finapi.services.webforms import Outcome
from mock_finapi.state.banking import UpdateResult
from mock_finapi.state.models import Client, User
from mock_finapi.state.webforms import ImportRequest, PageState, WebForm
from mock_finapi.world import World
from tests.unit.support import advance, make_world, now_of

pytestmark = pytest.mark.anyio

SCENARIO = """
name: webform-service
seed: 19
clock: {start: "2026-01-01T09:00:00+01:00", frozen: true}
clients:
  - {client_id: app, client_secret: app-secret, mandator_id: m1}
users:
  - id: Alice
    password: alice-password
    bank_connections:
      - {bank: 280001, interface: XS2A}
  - {id: bob, password: bob-password}
webforms:
  outcomes:
    - {status: COMPLETED, after: 30, user: ALICE, bank: 280002, account_types: [SAVINGS]}
"""
CONNECTION = 1_000_001


class Recorder:
    """Records what would be sent; the URL rule is finAPI's stand-in: anything but 'bad'."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any], str | None]] = []

    def url_problem(self, url: str | None) -> str | None:
        return "bad" if url == "bad" else None

    def send(self, kind: str, url: str, body: Mapping[str, Any], mandator_id: str | None) -> None:
        self.sent.append((kind, url, dict(body), mandator_id))

    def drop(self, web_form_id: str) -> int:
        return 0


@pytest.fixture
def world() -> World:
    made = make_world(SCENARIO)
    made.webforms.callbacks = Recorder()
    return made


def sent(world: World) -> list[tuple[str, str, dict[str, Any], str | None]]:
    recorder = world.webforms.callbacks
    assert isinstance(recorder, Recorder)
    return recorder.sent


async def parties(world: World, user_id: str) -> tuple[User, Client]:
    user = await world.store.user("m1", user_id, await now_of(world))
    client = await world.store.client("app")
    assert user is not None
    assert client is not None
    return user, client


async def new_form(world: World, user_id: str, **request: Any) -> WebForm:
    user, client = await parties(world, user_id)
    details = ImportDetails(ImportRequest(callback_url="https://app.example.com/cb", **request), None)
    return await world.webforms.create_import(user, client, details, await now_of(world))


async def form_of(world: World, form_id: str) -> WebForm:
    form = await world.store.web_form(form_id)
    assert form is not None
    return form


async def test_a_scenario_outcome_finishes_the_users_forms_after_its_delay(world: World) -> None:
    form = await new_form(world, "alice")  # the outcome names ALICE: case-insensitive
    await world.webforms.sweep(await advance(world, 29.999))
    assert (await form_of(world, form.id)).status == "NOT_YET_OPENED"
    await world.webforms.sweep(await advance(world, 100))
    done = await form_of(world, form.id)
    assert (done.status, done.finalised_at, done.connection_id) == ("COMPLETED", form.created_at + 30, 1_000_002)
    connection = await world.store.connection("m1", "alice", 1_000_002, await now_of(world))
    assert connection is not None
    assert connection.bank_id == 280002
    accounts = await world.store.connections("m1", "alice", None, await now_of(world))
    assert [c.id for c in accounts] == [CONNECTION, 1_000_002]
    assert sent(world) == [
        (WEB_FORM_FINALISED, "https://app.example.com/cb", {"webFormId": form.id, "status": "COMPLETED"}, "m1")
    ]


async def test_an_outcome_due_after_the_20_minutes_finds_the_form_expired(world: World) -> None:
    world.webforms.spec = WebFormsSpec(outcomes=(OutcomeSpec("COMPLETED", after=1500, user="bob"),))  # no loader
    form = await new_form(world, "bob", bank_id=280001)
    await world.webforms.sweep(await advance(world, 3600))
    done = await form_of(world, form.id)
    assert (done.status, done.finalised_at, done.connection_id) == ("EXPIRED", form.expires_at, None)
    assert [body["status"] for _, _, body, _ in sent(world)] == ["EXPIRED"]


async def test_sweeps_that_meet_finish_a_form_once(world: World) -> None:
    forms = [await new_form(world, "bob") for _ in range(3)]
    now = await advance(world, 1200)
    async with anyio.create_task_group() as group:
        for _ in range(4):
            group.start_soon(world.webforms.sweep, now)
    assert sorted(body["webFormId"] for _, _, body, _ in sent(world)) == sorted(form.id for form in forms)


async def test_finish_refuses_unknown_final_and_not_final_statuses(world: World) -> None:
    form = await new_form(world, "bob", bank_id=280001)
    now = await now_of(world)
    with pytest.raises(errors.UnknownEntity):
        await world.webforms.finish("nope", Outcome("COMPLETED"), now)
    with pytest.raises(errors.IllegalFieldValue):
        await world.webforms.finish(form.id, Outcome("IN_PROGRESS"), now)
    with pytest.raises(errors.IllegalFieldValue):  # the form is for DEMO0001
        await world.webforms.finish(form.id, Outcome("COMPLETED", bank_id=280002), now)
    await world.webforms.finish(form.id, Outcome("ABORTED"), now)
    with pytest.raises(errors.IllegalEntityState):
        await world.webforms.finish(form.id, Outcome("COMPLETED"), now)
    assert [body["status"] for _, _, body, _ in sent(world)] == ["ABORTED"]


async def test_a_bank_the_form_does_not_offer_cannot_be_picked(world: World) -> None:
    form = await new_form(world, "bob", allow_test_bank=False)
    with pytest.raises(errors.IllegalFieldValue):
        await world.webforms.finish(form.id, Outcome("COMPLETED", bank_id=280001), await now_of(world))
    done = await world.webforms.finish(form.id, Outcome("COMPLETED"), await now_of(world))
    assert (done.status, done.error_code) == ("COMPLETED_WITH_ERROR", "UNDETERMINED_BANK")


async def test_the_pages_login_decides_whether_the_connection_exists_already(world: World) -> None:
    now = await now_of(world)
    taken = await new_form(world, "alice", bank_id=280001)
    done = await world.webforms.finish(taken.id, Outcome("COMPLETED"), now)
    assert (done.status, done.error_code, done.connection_id) == ("COMPLETED_WITH_ERROR", "ENTITY_EXISTS", None)
    other = await new_form(world, "alice", bank_id=280001)
    await world.store.update_page(other.id, PageState("accounts", 280001, "demo_no_msa"))
    done = await world.webforms.finish(other.id, Outcome("COMPLETED"), now)
    assert done.status == "COMPLETED"
    connection = await world.store.connection("m1", "alice", done.connection_id or 0, now)
    assert connection is not None
    assert connection.interfaces[0].credentials == (("Onlinebanking-ID", "demo_no_msa"), ("PIN", "demo_no_msa"))


async def test_finish_after_the_20_minutes_expires_the_form_first(world: World) -> None:
    form = await new_form(world, "bob", bank_id=280001)
    with pytest.raises(errors.IllegalEntityState):
        await world.webforms.finish(form.id, Outcome("COMPLETED"), await advance(world, 1200))
    done = await form_of(world, form.id)
    assert (done.status, done.finalised_at) == ("EXPIRED", form.expires_at)


async def test_open_marks_the_first_open_only_and_expires_a_due_form(world: World) -> None:
    form = await new_form(world, "bob")
    now = await now_of(world)
    opened, first = await world.webforms.open(form.id, now)
    assert (opened is not None and opened.status, first) == ("IN_PROGRESS", True)
    again, first = await world.webforms.open(form.id, now)
    assert (again is not None and again.status, first) == ("IN_PROGRESS", False)
    late, first = await world.webforms.open(form.id, await advance(world, 1200))
    assert (late is not None and late.status, first) == ("EXPIRED", False)
    assert await world.webforms.open("nope", now) == (None, False)


async def test_record_manual_update_sets_every_interface_of_the_users_connection(world: World) -> None:
    now = await now_of(world)
    result = UpdateResult("BANK_SERVER_REJECTION", now, "falsch", "BUSINESS")
    changed = await world.store.record_manual_update("m1", "ALICE", CONNECTION, result, now)
    assert changed is not None
    assert [i.last_manual_update for i in changed.interfaces] == [result]
    stored = await world.store.connection("m1", "alice", CONNECTION, now)
    assert stored == changed
    assert await world.store.record_manual_update("m1", "bob", CONNECTION, result, now) is None
    assert await world.store.record_manual_update("m1", "alice", 42, result, now) is None


def test_web_form_url_prefers_the_public_url() -> None:
    made = make_world(SCENARIO)
    form = WebForm(
        "f" * 36, "m1", "bob", "bob", "BANK_CONNECTION_IMPORT", "NOT_YET_OPENED", 0.0, 1200.0, ImportRequest()
    )
    assert made.webforms.web_form_url(form, "http://127.0.0.1:8080") == f"http://127.0.0.1:8080/wf/{form.id}"
    public = World(made.scenario, made.seed, made.store, made.clock, public_url="https://mock.example.com/x/")
    assert public.webforms.web_form_url(form, "http://127.0.0.1:8080") == f"https://mock.example.com/x/wf/{form.id}"

"""The Store protocol's Web Form 2.0 operations (state/protocol.py): web forms, tasks and the callback journal, for
every backend of test_store_protocol.py.

Each test gets a `store` of every backend holding test_store_banking.py's scenario and users (alice and bob in m1,
carol in m2); bank data is added with `add_connection`. Fresh states for `replace` and `reset_mandator` are
MemoryStores built as `world.build_state` builds them, given forms and tasks with the protocol's operations. Tests use
only the protocol's operations.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from mock_finapi import errors
from mock_finapi.settings import Capacity
from mock_finapi.state.bank_tables import CATEGORIZATION_SECONDS
from mock_finapi.state.banking import AccountQuery, Connection, NewAccount, UpdateResult
from mock_finapi.state.memory import MemoryStore
from mock_finapi.state.models import User
from mock_finapi.state.protocol import NewProcess, ProcessLimits, Store
from mock_finapi.state.webforms import (
    WEB_FORM_SECONDS,
    CallbackAttempt,
    ImportRequest,
    PageState,
    Task,
    TaskRequest,
    WebForm,
)
from tests.conftest import BACKENDS
from tests.unit.test_store_banking import (
    A1,
    C1,
    C2,
    DAY,
    FINTS,
    T0,
    TX,
    USERS,
    XS2A,
    account,
    add,
    connection,
    counts,
    fresh_state,
    page_of,
    stored,
    tx,
    with_users,
)
from tests.unit.test_store_protocol import backend_of

pytestmark = pytest.mark.anyio

JOURNAL_LIMIT = 1_000
"""The callback attempts the store keeps (decided)."""


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, anyio_backend: str) -> AsyncIterator[str]:
    async for name in backend_of(request):
        yield name


@pytest.fixture
async def store(backend: str, anyio_backend: str) -> Store:
    return await with_users(backend, fresh_state())


# records
def form(
    form_id: str,
    user_id: str = "Alice",
    *,
    mandator_id: str = "m1",
    created_at: float = T0,
    expires_at: float | None = None,
    **fields: Any,
) -> WebForm:
    expires = created_at + WEB_FORM_SECONDS if expires_at is None else expires_at
    return WebForm(
        form_id,
        mandator_id,
        user_id.lower(),
        user_id,
        fields.pop("type", "BANK_CONNECTION_IMPORT"),
        fields.pop("status", "NOT_YET_OPENED"),
        created_at,
        expires,
        fields.pop("request", ImportRequest(bank_id=280001, callback_url="https://example.com/cb")),
        **fields,
    )


def completed(made: WebForm, **fields: Any) -> WebForm:
    return made._replace(status="COMPLETED", finalised_at=T0 + 60, **fields)


def task(
    task_id: str,
    connection_id: int,
    user_id: str = "Alice",
    *,
    mandator_id: str = "m1",
    created_at: float = T0,
    starts_at: float = T0 + 5,
    ends_at: float = T0 + 30,
    **fields: Any,
) -> Task:
    return Task(
        task_id,
        mandator_id,
        user_id.lower(),
        user_id,
        created_at,
        fields.pop("status", "NOT_YET_STARTED"),
        TaskRequest(connection_id),
        starts_at,
        ends_at,
        **fields,
    )


def attempt(number: int, mandator_id: str | None = "m1") -> CallbackAttempt:
    body = b'{"webFormId": "%d"}' % number
    url = "https://example.com/cb"
    return CallbackAttempt(T0 + number, "webForm.finalised", url, body, 200, None, 0.01, mandator_id)


async def created(store: Store, *forms: WebForm) -> list[WebForm]:
    return [await store.create_web_form(made) for made in forms]


async def ids(store: Store, user_id: str = "alice", mandator_id: str = "m1", *, descending: bool = False) -> list[str]:
    return [made.id for made in await store.web_forms(mandator_id, user_id, descending)]


async def task_ids(
    store: Store, user_id: str = "alice", mandator_id: str = "m1", *, descending: bool = False
) -> list[str]:
    return [made.id for made in await store.tasks(mandator_id, user_id, descending)]


async def due_ids(store: Store, now: float) -> list[str]:
    return [made.id for made in await store.due_web_forms(now)]


async def due_task_ids(store: Store, now: float) -> list[str]:
    return [made.id for made in await store.due_tasks(now)]


async def bare(store: Store, user_id: str = "alice", *, ready_at: float = T0, mandator_id: str = "m1") -> Connection:
    """A connection without accounts of the user."""
    return await add(store, user_id, [], ready_at=ready_at, mandator_id=mandator_id)


# web forms: storing, reading, listing, deleting
async def test_a_form_is_stored_as_given_and_found_by_id_alone(store: Store) -> None:
    alices, carols = form("f1"), form("f2", "carol", mandator_id="m2")
    assert await created(store, alices, carols) == [alices, carols]
    assert await store.web_form("f1") == alices
    assert await store.web_form("f2") == carols
    assert await store.web_form("F1") is None
    assert await store.web_form("nope") is None


async def test_a_users_forms_are_its_own_whatever_the_case_of_its_id(store: Store) -> None:
    await created(store, form("a1"), form("b1", "bob"), form("c1", "carol", mandator_id="m2"), form("a2", "ALICE"))
    assert await ids(store, "ALICE") == ["a1", "a2"]
    assert await ids(store, "Bob") == ["b1"]
    assert await ids(store, "carol", "m2") == ["c1"]
    assert await ids(store, "carol") == []  # carol is in m2
    assert await ids(store, "alice", "m2") == []
    assert await ids(store, "nobody") == []


async def test_forms_are_listed_by_created_at_ties_in_creation_order_and_descending_is_the_reverse(
    store: Store,
) -> None:
    await created(
        store,
        form("late", created_at=T0 + 50),
        form("tie1", created_at=T0 + 10),
        form("early", created_at=T0),
        form("tie2", created_at=T0 + 10),
    )
    assert await ids(store) == ["early", "tie1", "tie2", "late"]
    assert await ids(store, descending=True) == ["late", "tie2", "tie1", "early"]


async def test_delete_web_form_deletes_only_the_owners_form(store: Store) -> None:
    first, second = await created(store, form("f1"), form("f2"))
    assert await store.delete_web_form("m1", "bob", "f1") is False
    assert await store.delete_web_form("m2", "alice", "f1") is False
    assert await store.delete_web_form("m1", "alice", "nope") is False
    assert await store.web_form("f1") == first
    assert await store.delete_web_form("m1", "ALICE", "f1") is True
    assert await store.web_form("f1") is None
    assert await ids(store) == ["f2"]
    assert await store.delete_web_form("m1", "alice", "f1") is False
    assert await store.web_form("f2") == second


# web forms: the page
async def test_the_first_open_marks_the_form_opened_and_in_progress(store: Store) -> None:
    [made] = await created(store, form("f1"))
    opened = made._replace(opened=True, status="IN_PROGRESS")
    assert await store.open_web_form("f1", T0 + 1) == (opened, True)
    assert await store.web_form("f1") == opened
    assert await store.web_forms("m1", "alice", False) == [opened]
    assert await store.open_web_form("f1", T0 + 2) == (opened, False)
    assert await store.web_form("f1") == opened


async def test_opening_an_unknown_or_final_form_changes_nothing(store: Store) -> None:
    [made] = await created(store, form("f1"))
    assert await store.open_web_form("nope", T0) == (None, False)
    done = completed(made)
    assert await store.finish_web_form("f1", done, None, T0) == done
    assert await store.open_web_form("f1", T0 + 1) == (done, False)
    assert await store.web_form("f1") == done


async def test_opening_a_form_in_progress_that_was_never_opened_marks_it_opened(store: Store) -> None:
    [made] = await created(store, form("f1", status="IN_PROGRESS"))
    assert await store.open_web_form("f1", T0) == (made._replace(opened=True), True)


async def test_update_page_saves_the_progress_of_a_form_that_is_not_final(store: Store) -> None:
    [made] = await created(store, form("f1"))
    page = PageState("login", 280001, None, "de")
    assert await store.update_page("f1", page) == made._replace(page=page)
    assert await store.web_form("f1") == made._replace(page=page)
    later = PageState("accounts", 280001, "demo", "de")
    assert await store.update_page("f1", later) == made._replace(page=later)
    done = completed(made._replace(page=later))
    assert await store.finish_web_form("f1", done, None, T0) == done
    assert await store.update_page("f1", PageState("sca")) is None
    assert await store.web_form("f1") == done
    assert await store.update_page("nope", page) is None


# web forms: finishing
async def test_finish_web_form_stores_the_changes_once(store: Store) -> None:
    [made] = await created(store, form("f1"))
    failed = made._replace(
        status="COMPLETED_WITH_ERROR", error_code="BANK_SERVER_REJECTION", error_message="Falsche PIN", finalised_at=T0
    )
    assert await store.finish_web_form("f1", failed, None, T0) == failed
    assert await store.web_form("f1") == failed
    assert await store.web_forms("m1", "alice", False) == [failed]
    assert await store.finish_web_form("f1", completed(made), None, T0 + 1) is None
    assert await store.web_form("f1") == failed
    assert await store.finish_web_form("nope", completed(made), None, T0) is None
    assert await counts(store) == (0, 0, 0)


async def test_finish_web_form_with_a_connection_adds_it_to_the_forms_user_and_names_it(store: Store) -> None:
    [made] = await created(store, form("f1", "ALICE"))
    new = connection()._replace(mandator_id="m1", user_key="alice")
    accounts = [NewAccount(account(), (tx(-500), tx(1200)))]
    done = await store.finish_web_form("f1", completed(made), (new, accounts), T0)
    assert done == completed(made, connection_id=C1)
    assert await store.web_form("f1") == done
    assert await store.connections("m1", "alice", None, T0) == [new._replace(id=C1, account_ids=(A1,))]
    assert [a.id for a in await store.accounts("m1", "alice", AccountQuery(), T0)] == [A1]
    assert (await page_of(store)).transactions == [stored(tx(-500), TX, A1), stored(tx(1200), TX + 1, A1)]
    # numbered like add_connection: the next connection goes on from there
    assert (await bare(store, "bob")).id == C2
    # the form is final now: no second connection
    assert await store.finish_web_form("f1", completed(made), (new, accounts), T0) is None
    assert await counts(store) == (2, 1, 2)


async def test_finish_web_form_beyond_the_capacity_changes_nothing(backend: str) -> None:
    store = await with_users(backend, fresh_state(Capacity(transactions=2)))
    [made] = await created(store, form("f1"))
    three = [NewAccount(account(), (tx(1), tx(2), tx(3)))]
    with pytest.raises(errors.CapacityReached, match=r"2 transactions"):
        await store.finish_web_form("f1", completed(made), (connection(), three), T0)
    assert await store.web_form("f1") == made
    assert await counts(store) == (0, 0, 0)
    assert await due_ids(store, made.expires_at) == ["f1"]
    two = [NewAccount(account(), (tx(1), tx(2)))]
    assert await store.finish_web_form("f1", completed(made), (connection(), two), T0) == completed(
        made, connection_id=C1
    )


async def test_finish_web_form_of_a_user_that_is_gone_answers_none(store: Store) -> None:
    [process] = await store.create_processes("app", [NewProcess("r", "USER_ONLY")], T0, ProcessLimits())
    [made] = await created(store, form("f1", process.user_id, expires_at=T0 + 20 * DAY))
    gone = T0 + 10 * DAY  # never exchanged: validity (7 days) plus retention (3): due, not purged yet
    assert await store.finish_web_form("f1", completed(made), (connection(), []), gone) is None
    assert await store.web_form("f1") is None
    assert await counts(store) == (0, 0, 0)


async def test_opening_a_form_of_a_user_that_is_gone_answers_none(store: Store) -> None:
    [process] = await store.create_processes("app", [NewProcess("r", "USER_ONLY")], T0, ProcessLimits())
    await created(store, form("f1", process.user_id, expires_at=T0 + 20 * DAY))
    assert await store.open_web_form("f1", T0 + 10 * DAY) == (None, False)
    assert await store.web_form("f1") is None


# web forms: expiry
async def test_a_form_is_due_from_its_expiry_until_it_is_final(store: Store) -> None:
    [made] = await created(store, form("f1"))
    expiry = made.expires_at
    assert expiry == T0 + 1200
    assert await store.due_web_forms(expiry - 0.001) == []
    assert await store.due_web_forms(expiry) == [made]
    assert await store.due_web_forms(expiry + DAY) == [made]  # asking does not change it
    opened, _ = await store.open_web_form("f1", expiry - 1)
    assert await store.due_web_forms(expiry) == [opened]
    expired = made._replace(status="EXPIRED", finalised_at=expiry)
    assert await store.finish_web_form("f1", expired, None, expiry) == expired
    assert await store.due_web_forms(expiry + DAY) == []


async def test_due_forms_come_oldest_first_and_deleted_ones_never(store: Store) -> None:
    await created(
        store,
        form("newer", created_at=T0 + 10),
        form("old", created_at=T0),
        form("tie", "carol", mandator_id="m2", created_at=T0 + 10),
        form("short", created_at=T0 + 20, expires_at=T0 + 30),
        form("later", created_at=T0 + 5, expires_at=T0 + 5 * DAY),
        form("gone", created_at=T0 - 10),
    )
    assert await due_ids(store, T0 + 29) == []
    assert await due_ids(store, T0 + 30) == ["short"]
    assert await store.delete_web_form("m1", "alice", "gone")
    assert await due_ids(store, T0 + 1210) == ["old", "newer", "tie", "short"]
    assert await due_ids(store, T0 + 5 * DAY) == ["old", "later", "newer", "tie", "short"]


async def test_expiry_follows_a_changed_expires_at(store: Store) -> None:
    [made] = await created(store, form("f1"))
    kept = made._replace(page=PageState("login"), expires_at=T0 + 2 * WEB_FORM_SECONDS)
    assert await store.finish_web_form("f1", kept, None, T0) == kept  # not final: stays open
    assert await due_ids(store, made.expires_at) == []
    assert await due_ids(store, kept.expires_at) == ["f1"]


async def test_a_form_filed_again_under_its_old_expiry_is_due_once(store: Store) -> None:
    [made] = await created(store, form("f1"))
    moved = made._replace(expires_at=made.expires_at + 60)
    assert await store.finish_web_form("f1", moved, None, T0) == moved
    assert await store.finish_web_form("f1", made, None, T0) == made
    assert await store.due_web_forms(made.expires_at + 60) == [made]


async def test_many_forms_finished_at_once_leave_the_due_ones_right(store: Store) -> None:
    """Thousands of forms made and finished while the clock stands still (the heap sheds their stale entries); the
    first expires last, the two left open the earlier the later they were made, the others long after."""
    await created(store, form("first", expires_at=T0 + 20_000))
    for number in range(3_000):
        if number in (999, 1_999):
            await created(store, form(f"f{number}", expires_at=T0 + 10_000 - number))  # left open
            continue
        [made] = await created(store, form(f"f{number}", expires_at=T0 + 50_000 + number))
        assert await store.finish_web_form(made.id, completed(made), None, T0) is not None
    assert await due_ids(store, T0 + 8_000) == []
    assert await due_ids(store, T0 + 8_001) == ["f1999"]
    assert await due_ids(store, T0 + 9_001) == ["f999", "f1999"]
    assert await due_ids(store, T0 + 20_000) == ["first", "f999", "f1999"]
    assert await due_ids(store, T0 + 60_000) == ["first", "f999", "f1999"]  # the finished ones never


async def test_a_form_of_a_user_that_does_not_exist_is_never_due_and_is_dropped(store: Store) -> None:
    made, _ = await created(store, form("f1", "nobody"), form("f2"))
    assert await store.web_form("f1") == made
    assert await due_ids(store, made.expires_at) == ["f2"]
    assert await store.web_form("f1") is None
    assert await ids(store, "nobody") == []


# tasks
async def test_create_task_stores_it_and_keeps_its_connection_busy_until_it_ends(store: Store) -> None:
    made = await add(store, "alice", [NewAccount(account(), (tx(1),))])
    new = task("t1", made.id, starts_at=T0 + 5, ends_at=T0 + 30)
    assert await store.create_task(new, T0) == "ok"
    assert await store.task("t1") == new
    busy = made._replace(ready_at=T0 + 30, categorized_at=T0 + 30 + CATEGORIZATION_SECONDS)
    assert await store.connection("m1", "alice", made.id, T0) == busy
    assert busy.update_status(T0 + 29) == "IN_PROGRESS"
    assert await store.delete_connections("m1", "alice", [made.id], T0 + 29) == ("locked", [])
    assert await store.create_task(task("t2", made.id), T0 + 29) == "locked"
    assert await store.task("t2") is None
    assert await store.delete_connections("m1", "alice", [made.id], T0 + 30) == ("ok", [made.id])


async def test_a_task_on_a_connection_that_is_not_the_users_is_unknown(store: Store) -> None:
    bobs = await bare(store, "bob")
    carols = await bare(store, "carol", mandator_id="m2")
    assert await store.create_task(task("t1", bobs.id), T0) == "unknown"
    assert await store.create_task(task("t2", carols.id, "carol"), T0) == "unknown"  # carol is in m2
    assert await store.create_task(task("t3", 999), T0) == "unknown"
    assert await store.create_task(task("t4", bobs.id, "nobody"), T0) == "unknown"
    for task_id in ("t1", "t2", "t3", "t4"):
        assert await store.task(task_id) is None
    assert await store.connection("m1", "bob", bobs.id, T0) == bobs  # not made busy
    assert await store.create_task(task("t5", carols.id, "carol", mandator_id="m2"), T0) == "ok"


async def test_a_task_on_a_connection_still_importing_is_locked(store: Store) -> None:
    made = await bare(store, ready_at=T0 + 10)
    assert await store.create_task(task("t1", made.id), T0 + 9) == "locked"
    assert await store.task("t1") is None
    assert await store.connection("m1", "alice", made.id, T0) == made
    assert await store.create_task(task("t1", made.id, ends_at=T0 + 40), T0 + 10) == "ok"


async def test_tasks_are_the_users_own_by_created_at_and_descending_is_the_reverse(store: Store) -> None:
    c1, c2, c3 = [await bare(store) for _ in range(3)]
    bobs = await bare(store, "bob")
    for new in (
        task("late", c1.id, created_at=T0 + 9),
        task("tie1", c2.id, "ALICE", created_at=T0),
        task("bob", bobs.id, "bob", created_at=T0),
        task("tie2", c3.id, created_at=T0),
    ):
        assert await store.create_task(new, T0) == "ok"
    assert await task_ids(store) == ["tie1", "tie2", "late"]
    assert await task_ids(store, "Alice", descending=True) == ["late", "tie2", "tie1"]
    assert await task_ids(store, "bob") == ["bob"]
    assert await task_ids(store, "bob", "m2") == []
    assert await store.task("nope") is None


async def test_update_task_stores_the_changes_of_a_task_that_is_not_final(store: Store) -> None:
    made = await bare(store)
    new = task("t1", made.id)
    assert await store.create_task(new, T0) == "ok"
    running = new._replace(status="IN_PROGRESS")
    assert await store.update_task("t1", running, None) == running
    assert await store.task("t1") == running
    assert await store.tasks("m1", "alice", False) == [running]
    done = running._replace(status="COMPLETED")
    assert await store.update_task("t1", done, None) == done
    assert await store.update_task("t1", running, None) is None
    assert await store.task("t1") == done
    assert await store.update_task("nope", running, None) is None


async def test_update_task_stores_the_update_form_with_the_changes(store: Store) -> None:
    made = await bare(store)
    new = task("t1", made.id)
    assert await store.create_task(new, T0) == "ok"
    update_form = form("wf", type="BANK_CONNECTION_UPDATE", task_id="t1", created_at=T0 + 30)
    required = new._replace(status="WEB_FORM_REQUIRED", web_form_id="wf")
    assert await store.update_task("t1", required, update_form) == required
    assert await store.web_form("wf") == update_form
    assert await ids(store) == ["wf"]
    assert await due_ids(store, update_form.expires_at) == ["wf"]
    # final now: neither the changes nor another form are stored
    assert await store.update_task("t1", new, form("wf2")) is None
    assert await store.web_form("wf2") is None
    assert await store.task("t1") == required


async def test_a_task_is_due_when_it_starts_and_when_it_ends(store: Store) -> None:
    made = await bare(store)
    new = task("t1", made.id, starts_at=T0 + 5, ends_at=T0 + 30)
    assert await store.create_task(new, T0) == "ok"
    assert await store.due_tasks(T0 + 4.999) == []
    assert await store.due_tasks(T0 + 5) == [new]
    assert await store.due_tasks(T0 + 6) == [new]  # asking does not change it
    running = new._replace(status="IN_PROGRESS")
    assert await store.update_task("t1", running, None) == running
    assert await store.due_tasks(T0 + 29.999) == []
    assert await store.due_tasks(T0 + 30) == [running]
    done = running._replace(status="COMPLETED_WITH_ERROR", error_code="BANK_SERVER_REJECTION")
    assert await store.update_task("t1", done, None) == done
    assert await store.due_tasks(T0 + DAY) == []


async def test_a_task_not_yet_started_is_due_once_its_end_passed(store: Store) -> None:
    made = await bare(store)
    assert await store.create_task(task("t1", made.id, starts_at=T0 + 50, ends_at=T0 + 20), T0) == "ok"
    assert await due_task_ids(store, T0 + 19) == []
    assert await due_task_ids(store, T0 + 20) == ["t1"]


async def test_due_tasks_come_oldest_first(store: Store) -> None:
    c1, c2, c3 = [await bare(store) for _ in range(3)]
    carols = await bare(store, "carol", mandator_id="m2")
    for new in (
        task("newer", c1.id, created_at=T0 + 2, starts_at=T0 + 5),
        task("older", c2.id, created_at=T0 + 1, starts_at=T0 + 8),
        task("carol", carols.id, "carol", mandator_id="m2", created_at=T0 + 2, starts_at=T0 + 1),
        task("later", c3.id, created_at=T0, starts_at=T0 + 100, ends_at=T0 + 200),
    ):
        assert await store.create_task(new, T0) == "ok"
    assert await due_task_ids(store, T0 + 5) == ["newer", "carol"]
    assert await due_task_ids(store, T0 + 8) == ["older", "newer", "carol"]
    assert await due_task_ids(store, T0 + 100) == ["later", "older", "newer", "carol"]


async def test_record_manual_update_sets_it_on_every_interface_of_the_users_connection(store: Store) -> None:
    made = await add(store, "alice", [], interfaces=(XS2A, FINTS))
    bobs = await bare(store, "bob")
    result = UpdateResult("OK", T0 + 30)
    changed = made._replace(
        interfaces=(XS2A._replace(last_manual_update=result), FINTS._replace(last_manual_update=result))
    )
    assert await store.record_manual_update("m1", "ALICE", made.id, result, T0 + 30) == changed
    assert await store.connection("m1", "alice", made.id, T0 + 30) == changed
    assert await store.record_manual_update("m1", "alice", bobs.id, result, T0) is None
    assert await store.record_manual_update("m1", "alice", 999, result, T0) is None
    assert await store.record_manual_update("m1", "nobody", made.id, result, T0) is None
    assert await store.connection("m1", "bob", bobs.id, T0) == bobs


async def test_tasks_of_a_user_whose_deletion_is_due_are_never_due(store: Store) -> None:
    [process] = await store.create_processes("app", [NewProcess("r", "USER_ONLY")], T0, ProcessLimits())
    made = await bare(store, process.user_id)
    assert await store.create_task(task("t1", made.id, process.user_id, starts_at=T0 + 5), T0) == "ok"
    await created(store, form("f1", process.user_id, expires_at=T0 + DAY))
    assert (await due_task_ids(store, T0 + 5), await due_ids(store, T0 + DAY)) == (["t1"], ["f1"])
    gone = T0 + 10 * DAY  # validity (7 days) plus retention (3), not purged yet
    assert (await due_task_ids(store, gone), await due_ids(store, gone)) == ([], [])
    assert (await store.task("t1"), await store.web_form("f1")) == (None, None)


# the callback journal
async def test_the_callback_journal_is_newest_first_and_cleared_with_a_count(store: Store) -> None:
    assert await store.callbacks() == []
    for number in range(3):
        await store.record_callback(attempt(number))
    assert await store.callbacks() == [attempt(2), attempt(1), attempt(0)]
    assert await store.callbacks(2) == [attempt(2), attempt(1)]
    assert await store.callbacks(0) == []
    assert await store.clear_callbacks() == 3
    assert await store.callbacks() == []
    assert await store.clear_callbacks() == 0


async def test_the_callback_journal_keeps_the_newest_thousand(store: Store) -> None:
    for number in range(JOURNAL_LIMIT + 5):
        await store.record_callback(attempt(number))
    kept = await store.callbacks()
    assert len(kept) == JOURNAL_LIMIT
    assert (kept[0], kept[-1]) == (attempt(JOURNAL_LIMIT + 4), attempt(5))
    assert await store.clear_callbacks() == JOURNAL_LIMIT


# users going and whole-state operations
async def delete_by_id(store: Store) -> None:
    assert await store.delete_user("m1", "ALICE", T0) is not None


async def delete_in_bulk(store: Store) -> None:
    assert [user.id for user in await store.delete_users("m1", ["alice", "nobody"], T0)] == ["Alice"]


@pytest.mark.parametrize("delete", [delete_by_id, delete_in_bulk])
async def test_deleting_a_user_deletes_its_forms_and_tasks(
    store: Store, delete: Callable[[Store], Awaitable[None]]
) -> None:
    mine, bobs = await bare(store), await bare(store, "bob")
    await created(store, form("a1", created_at=T0 - 2000), form("b1", "bob", created_at=T0 - 2000))
    assert await store.create_task(task("ta", mine.id, ends_at=T0 + 1), T0) == "ok"
    assert await store.create_task(task("tb", bobs.id, "bob", ends_at=T0 + 1), T0) == "ok"
    await delete(store)
    assert (await store.web_form("a1"), await store.task("ta")) == (None, None)
    assert await due_ids(store, T0 + DAY) == ["b1"]
    assert await due_task_ids(store, T0 + DAY) == ["tb"]
    assert await store.create_user(User("m1", "alice", "again"))
    assert (await ids(store), await task_ids(store)) == ([], [])
    assert (await ids(store, "bob"), await task_ids(store, "bob")) == (["b1"], ["tb"])
    assert await store.open_web_form("a1", T0) == (None, False)


async def test_a_process_users_retention_deletes_its_forms_and_tasks(store: Store) -> None:
    [process] = await store.create_processes("app", [NewProcess("r", "USER_ONLY")], T0, ProcessLimits())
    made = await bare(store, process.user_id)
    await created(store, form("f1", process.user_id, expires_at=T0 + 20 * DAY))
    assert await store.create_task(task("t1", made.id, process.user_id, ends_at=T0 + 20 * DAY), T0) == "ok"
    due = T0 + 10 * DAY
    assert await store.purge_expired(due - 1, 100) == 0
    assert await store.web_form("f1") is not None
    assert await store.purge_expired(due, 100) == 1
    assert (await store.web_form("f1"), await store.task("t1")) == (None, None)
    assert (await ids(store, process.user_id), await task_ids(store, process.user_id)) == ([], [])
    assert (await due_ids(store, T0 + 30 * DAY), await due_task_ids(store, T0 + 30 * DAY)) == ([], [])


async def fresh_with_forms() -> MemoryStore:
    """The scenario's state with a form and a task of bob's (m1) and a form of carol's (m2), and one callback."""
    fresh = fresh_state()
    for user in USERS:
        assert fresh.load_user(user)
    made = fresh.load_connection(connection()._replace(mandator_id="m1", user_key="bob"), [])
    await fresh.create_web_form(form("fresh-b", "bob", created_at=T0 - 5))
    await fresh.create_web_form(form("fresh-c", "carol", mandator_id="m2"))
    assert await fresh.create_task(task("fresh-t", made.id, "bob", created_at=T0 - 5), T0) == "ok"
    await fresh.record_callback(attempt(99))
    return fresh


async def test_reset_mandator_puts_back_that_mandators_forms_and_tasks_and_keeps_the_others(store: Store) -> None:
    mine, carols = await bare(store), await bare(store, "carol", mandator_id="m2")
    await created(store, form("a1"), form("c1", "carol", mandator_id="m2", created_at=T0 + 1))
    assert await store.create_task(task("ta", mine.id), T0) == "ok"
    assert await store.create_task(task("tc", carols.id, "carol", mandator_id="m2"), T0) == "ok"
    for number, mandator_id in enumerate(("m1", "m2", None, "m1")):
        await store.record_callback(attempt(number, mandator_id))
    assert await store.reset_mandator("m1", await fresh_with_forms())
    assert (await store.web_form("a1"), await store.task("ta")) == (None, None)
    assert (await ids(store), await task_ids(store)) == ([], [])
    assert (await ids(store, "bob"), await task_ids(store, "bob")) == (["fresh-b"], ["fresh-t"])
    assert (await ids(store, "carol", "m2"), await task_ids(store, "carol", "m2")) == (["c1"], ["tc"])
    assert await store.web_form("fresh-c") is None  # m2's forms are the old ones
    assert await due_ids(store, T0 + DAY) == ["fresh-b", "c1"]
    assert await due_task_ids(store, T0 + DAY) == ["fresh-t", "tc"]
    assert await store.callbacks() == [attempt(2, None), attempt(1, "m2")]


async def test_replace_puts_the_fresh_forms_tasks_and_callbacks_in_place_of_all(store: Store) -> None:
    mine = await bare(store)
    await created(store, form("a1"), form("c1", "carol", mandator_id="m2"))
    assert await store.create_task(task("ta", mine.id), T0) == "ok"
    await store.record_callback(attempt(1))
    await store.replace(await fresh_with_forms())
    assert (await store.web_form("a1"), await store.web_form("c1"), await store.task("ta")) == (None, None, None)
    assert await due_ids(store, T0 + DAY) == ["fresh-b", "fresh-c"]
    assert await task_ids(store, "bob") == ["fresh-t"]
    assert await store.callbacks() == [attempt(99)]

"""The mock batch update's rules that no scenario reaches over HTTP (services/batch_update.py): a connection without a
stored PIN, and the update window of an account never updated successfully (from its latest booking date, or only
the 89 days); and money with at most two decimals."""

from __future__ import annotations

from typing import Any

import pytest

from mock_finapi import errors
from mock_finapi.services import batch_update
from mock_finapi.state.banking import (
    Account,
    AccountInterface,
    Connection,
    ConnectionInterface,
    NewAccount,
    Transaction,
    TransactionQuery,
)
from mock_finapi.state.models import User
from mock_finapi.world import World
from tests.unit.support import advance, make_world, now_of

pytestmark = pytest.mark.anyio

SCENARIO = """\
name: batch-update
seed: 5
clock: {start: "2026-01-01T09:00:00+01:00", frozen: true}
clients:
  - {client_id: app, client_secret: app-secret, mandator_id: m1}
users:
  - {id: alice, password: alice-password, mandator_id: m1}
"""


def booked_on(day: str, amount: int) -> Transaction:
    return Transaction(0, 0, day, day, day, amount, 0.0)


async def connect(world: World, *transactions: Transaction, pin: str | None = "demo") -> tuple[User, int, int]:
    """alice with one FINTS_SERVER connection (PIN stored or not) whose checking account was never updated
    successfully and holds `transactions`; answers (alice, connection id, account id)."""
    now = await now_of(world)
    user = await world.store.user("m1", "alice", now)
    assert user is not None
    credentials = (("Onlinebanking-ID", "demo"), ("PIN", pin))
    connection = Connection(
        0, "m1", "alice", 280001, None, (ConnectionInterface("FINTS_SERVER", credentials),), (), None, now, now, now
    )
    account = Account(0, 0, "1234567", "Checking", (AccountInterface("FINTS_SERVER"),), balance=0)
    stored = await world.store.add_connection("m1", "alice", connection, [NewAccount(account, transactions)], now)
    assert stored is not None
    return user, stored.id, stored.account_ids[0]


def request(connection_id: int, account_id: int, balance: float, *days: str) -> dict[str, Any]:
    new = [{"amount": 1, "bookingDate": day} for day in days]
    accounts = [{"accountId": account_id, "accountBalance": balance, "newTransactions": new}]
    update = {"bankConnectionId": connection_id, "bankingInterface": "FINTS_SERVER", "mockAccountsData": accounts}
    return {"mockBankConnectionUpdates": [update]}


async def booked(world: World, user: User, account_id: int) -> list[str]:
    now = await now_of(world)
    page = await world.store.transactions(user.mandator_id, user.id, TransactionQuery(account_ids=(account_id,)), now)
    return [t.bank_booking_date for t in page.transactions]


async def test_a_connection_without_a_stored_pin_is_refused() -> None:
    world = make_world(SCENARIO)
    user, connection_id, account_id = await connect(world, pin=None)

    with pytest.raises(errors.IllegalEntityState) as refused:
        await batch_update.mock_batch_update(
            world.store, user, request(connection_id, account_id, 0), await now_of(world)
        )

    assert refused.value.message == errors.MSG_MOCK_NO_PIN.format(connection=connection_id, interface="FINTS_SERVER")
    assert (await world.store.connection("m1", "alice", connection_id, await now_of(world))) is not None


async def test_never_updated_the_window_starts_10_days_before_the_latest_booking() -> None:
    world = make_world(SCENARIO)
    user, connection_id, account_id = await connect(world, booked_on("2025-11-01", 0), booked_on("2025-12-01", 0))
    params = request(connection_id, account_id, 1, "2025-11-21", "2025-11-20")

    await batch_update.mock_batch_update(world.store, user, params, await now_of(world))
    await advance(world, batch_update.BATCH_UPDATE_SECONDS)

    assert await booked(world, user, account_id) == ["2025-11-01", "2025-12-01", "2025-11-21"]


async def test_never_updated_and_empty_only_the_last_89_days_count() -> None:
    world = make_world(SCENARIO)
    user, connection_id, account_id = await connect(world)
    params = request(connection_id, account_id, 1, "2025-10-04", "2025-10-03")

    await batch_update.mock_batch_update(world.store, user, params, await now_of(world))
    await advance(world, batch_update.BATCH_UPDATE_SECONDS)

    assert await booked(world, user, account_id) == ["2025-10-04"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (19.99, 1999),
        (-0.07, -7),
        (5, 500),
        (0.1 + 0.2, None),
        (0.001, None),
        (True, None),
        ("1.00", None),
        (1e13, 10**15),
        (1e13 + 0.01, None),
    ],
)
async def test_cents_takes_numbers_of_at_most_two_decimals(value: Any, expected: int | None) -> None:
    assert batch_update.cents(value) == expected

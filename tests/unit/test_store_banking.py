"""The Store protocol's bank data operations (state/protocol.py), for every backend of test_store_protocol.py.

Each test gets a `store` of every backend (BACKENDS and `serve` are the protocol suite's) holding SCENARIO's state
and the users USERS, created with `create_user`; bank data is added with `add_connection`. Fresh states for `replace`
and `reset_mandator` are MemoryStores built as `world.build_state` builds them (`load_user`, `load_connection`).
Tests use only the protocol's operations.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import pytest

from mock_finapi import errors
from mock_finapi.scenarios.loader import load_text
from mock_finapi.settings import DEFAULT_CAPACITY, Capacity
from mock_finapi.state.bank_tables import CATEGORIZATION_SECONDS
from mock_finapi.state.banking import (
    ORDERABLE,
    Account,
    AccountInterface,
    AccountQuery,
    AccountUpdate,
    BatchUpdate,
    Category,
    Connection,
    ConnectionInterface,
    ConnectionSummary,
    NewAccount,
    Transaction,
    TransactionPage,
    TransactionQuery,
    UpdateResult,
    UpdateResultStatus,
)
from mock_finapi.state.memory import MemoryStore
from mock_finapi.state.models import User
from mock_finapi.state.protocol import NewProcess, ProcessLimits, Store
from mock_finapi.world import build_state
from tests.conftest import BACKENDS
from tests.helpers import START
from tests.unit.test_store_protocol import backend_of, serve

pytestmark = pytest.mark.anyio

T0 = START.timestamp()
DAY = 86_400
REAL = 1_000.0
SCENARIO = """
name: store-banking
seed: 7
clock: {start: "2026-01-01T09:00:00+01:00", frozen: true}
clients:
  - {client_id: app, client_secret: app-secret, mandator_id: m1}
  - {client_id: other, client_secret: other-secret, mandator_id: m2}
users: []
"""
USERS = [User("m1", "Alice", "alice-password"), User("m1", "bob", "bob-password"), User("m2", "carol", "pw")]
XS2A = ConnectionInterface("XS2A", (("Onlinebanking-ID", "demo"), ("PIN", "demo")), consent_expires_at=T0 + 90 * DAY)
FINTS = ConnectionInterface("FINTS_SERVER", (("Onlinebanking-ID", "demo"), ("PIN", None)))
C1, C2, C3 = 1_000_001, 1_000_002, 1_000_003
A1, A2, A3, A4 = 2_000_001, 2_000_002, 2_000_003, 2_000_004
TX = 10_000_001
"""The first transaction id."""


def fresh_state(capacity: Capacity = DEFAULT_CAPACITY) -> MemoryStore:
    return build_state(load_text(SCENARIO, "store-banking.yaml"), 7, REAL, journal_size=10, capacity=capacity)


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, anyio_backend: str) -> AsyncIterator[str]:
    async for name in backend_of(request):
        yield name


async def with_users(backend: str, fresh: MemoryStore) -> Store:
    store = await serve(backend, fresh)
    for user in USERS:
        assert await store.create_user(user)
    return store


@pytest.fixture
async def store(backend: str, anyio_backend: str) -> Store:
    return await with_users(backend, fresh_state())


# records
def connection(*, ready_at: float = T0, interfaces: tuple[ConnectionInterface, ...] = (XS2A,)) -> Connection:
    return Connection(0, "", "", 280001, "Girokonto", interfaces, (), None, T0 - DAY, ready_at, ready_at + 3)


def account(
    name: str | None = "Girokonto",
    *,
    account_type: str = "Checking",
    account_number: str = "12345",
    interfaces: Sequence[str] = ("XS2A",),
    **fields: Any,
) -> Account:
    interfaces_of = tuple(AccountInterface(i) for i in interfaces)
    return Account(0, 0, account_number, account_type, interfaces_of, name=name, **fields)


def tx(amount: int, booking: str = "2025-12-01", **fields: Any) -> Transaction:
    value = fields.pop("value_date", booking)
    finapi = fields.pop("finapi_booking_date", booking)
    return Transaction(0, 0, value, booking, finapi, amount, fields.pop("import_date", T0), **fields)


def stored(transaction: Transaction, transaction_id: int, account_id: int) -> Transaction:
    return transaction._replace(id=transaction_id, account_id=account_id)


async def add(
    store: Store,
    user_id: str,
    accounts: Sequence[NewAccount],
    *,
    mandator_id: str = "m1",
    ready_at: float = T0,
    interfaces: tuple[ConnectionInterface, ...] = (XS2A,),
) -> Connection:
    added = await store.add_connection(
        mandator_id, user_id, connection(ready_at=ready_at, interfaces=interfaces), accounts, T0
    )
    assert added is not None
    return added


def update(
    connection_id: int,
    *changes: AccountUpdate,
    at: float = T0 + 30,
    result: UpdateResultStatus = "OK",
    interface: str = "XS2A",
) -> BatchUpdate:
    return BatchUpdate(connection_id, interface, UpdateResult(result, at), changes)


async def page_of(
    store: Store, now: float = T0, user_id: str = "alice", mandator_id: str = "m1", **query: Any
) -> TransactionPage:
    return await store.transactions(mandator_id, user_id, TransactionQuery(**query), now)


async def tx_ids(store: Store, now: float = T0, user_id: str = "alice", **query: Any) -> list[int]:
    return [t.id for t in (await page_of(store, now, user_id, per_page=500, **query)).transactions]


async def counts(store: Store) -> tuple[int, int, int]:
    stats = await store.stats()
    return stats.connections, stats.accounts, stats.transactions


# adding and reading
async def test_add_connection_numbers_connections_accounts_and_transactions_in_order(store: Store) -> None:
    giro, spar = account(iban="DE89370400440532013000"), account("Tagesgeld", account_type="Savings")
    first, second, third = tx(-4999, purpose="Miete"), tx(250000, "2025-12-15"), tx(1000, "2025-12-20")
    made = await add(store, "ALICE", [NewAccount(giro, (first, second)), NewAccount(spar, (third,))])
    assert made == connection()._replace(id=C1, mandator_id="m1", user_key="alice", account_ids=(A1, A2))
    assert await store.connection("m1", "alice", C1, T0) == made
    assert await store.accounts("m1", "Alice", AccountQuery(), T0) == [
        giro._replace(id=A1, connection_id=C1),
        spar._replace(id=A2, connection_id=C1),
    ]
    assert (await page_of(store)).transactions == [
        stored(first, TX, A1),
        stored(second, TX + 1, A1),
        stored(third, TX + 2, A2),
    ]
    empty = await add(store, "alice", [])
    assert (empty.id, empty.account_ids) == (C2, ())
    assert await store.transaction("m1", "alice", TX + 2, T0) == stored(third, TX + 2, A2)


async def test_ids_are_counted_over_all_users_and_never_handed_out_twice(store: Store) -> None:
    alice = await add(store, "alice", [NewAccount(account(), (tx(1),))])
    carol = await add(store, "carol", [NewAccount(account(), (tx(2), tx(3)))], mandator_id="m2")
    assert (await store.delete_connections("m1", "alice", None, T0)) == ("ok", [C1])
    again = await add(store, "alice", [NewAccount(account(), (tx(4),))])
    assert (alice.id, alice.account_ids, carol.id, carol.account_ids, again.id, again.account_ids) == (
        C1,
        (A1,),
        C2,
        (A2,),
        C3,
        (A3,),
    )
    assert await tx_ids(store, user_id="carol") == []  # carol is in m2
    assert await tx_ids(store, user_id="carol", mandator_id="m2") == [TX + 1, TX + 2]
    assert await tx_ids(store) == [TX + 3]


async def test_add_connection_of_an_unknown_user_answers_none_and_numbers_nothing(store: Store) -> None:
    assert await store.add_connection("m1", "nobody", connection(), [NewAccount(account(), (tx(1),))], T0) is None
    assert await store.add_connection("m2", "alice", connection(), [], T0) is None
    assert await counts(store) == (0, 0, 0)
    assert (await add(store, "alice", [NewAccount(account())])).id == C1


async def test_a_users_bank_data_is_its_own(store: Store) -> None:
    mine = await add(store, "alice", [NewAccount(account(), (tx(1),))])
    theirs = await add(store, "bob", [NewAccount(account(), (tx(2),))])
    assert await store.connections("m1", "bob", None, T0) == [theirs]
    assert await store.connection("m1", "bob", mine.id, T0) is None
    assert await store.account("m1", "bob", A1, T0) is None
    assert await store.account("m1", "bob", A2, T0) is not None
    assert await store.transaction("m1", "bob", TX, T0) is None
    assert await tx_ids(store, user_id="bob", ids=(TX, TX + 1), account_ids=(A1, A2)) == [TX + 1]
    assert [a.id for a in await store.accounts("m1", "bob", AccountQuery(ids=(A1, A2)), T0)] == [A2]
    # a user of that id in another mandator, an unknown user
    assert await store.connections("m2", "alice", None, T0) == []
    assert await store.connections("m1", "nobody", None, T0) == []
    assert await store.accounts("m1", "nobody", AccountQuery(), T0) == []
    assert await page_of(store, user_id="nobody") == TransactionPage([], 0, 0, 0)
    assert await store.transaction("m1", "nobody", TX, T0) is None


async def test_connections_lists_the_ids_asked_for_by_id_and_skips_unknown_ones(store: Store) -> None:
    made = [await add(store, "alice", []) for _ in range(3)]
    assert await store.connections("m1", "alice", None, T0) == made
    assert await store.connections("m1", "ALICE", [C3, 999, C1, C3], T0) == [made[0], made[2]]
    assert await store.connections("m1", "alice", [], T0) == []


# accounts
ACCOUNTS = [
    [
        NewAccount(
            account(iban="DE89370400440532013000", account_number="0532013000", balance=125_000)._replace(
                interfaces=(AccountInterface("XS2A", last_successful_update=T0 - DAY),)
            )
        ),
        NewAccount(
            account(
                "Tagesgeld",
                account_type="Savings",
                iban="DE02120300000000202051",
                account_number="0000202051",
                balance=-5000,
            )
        ),
    ],
    [
        NewAccount(
            account(
                None, account_number="4111111111111111", sub_account_number="01", account_type="CreditCard"
            )._replace(
                interfaces=(
                    AccountInterface("FINTS_SERVER", last_successful_update=T0 - 3 * DAY),
                    AccountInterface("XS2A", last_successful_update=T0),
                )
            )
        ),
        NewAccount(
            account("Depot", account_number="777", account_type="Security", balance=0)._replace(
                interfaces=(AccountInterface("XS2A", last_successful_update=T0 - 2 * DAY),)
            )
        ),
    ],
]


@pytest.mark.parametrize(
    ("query", "selected"),
    [
        (AccountQuery(), [A1, A2, A3, A4]),
        (AccountQuery(ids=(A4, A1, 999)), [A1, A4]),
        (AccountQuery(ids=()), []),
        (AccountQuery(search=("giro",)), [A1]),
        (AccountQuery(search=("de02",)), [A2]),
        (AccountQuery(search=("4111",)), [A3]),
        (AccountQuery(search=("01",)), [A1, A3]),  # number and IBAN of A1; the sub-account number of A3
        (AccountQuery(search=("tages", "de02")), [A2]),
        (AccountQuery(search=("tages", "giro")), []),
        (AccountQuery(search=("30000532",)), []),  # a term does not span two fields (A1's IBAN and number)
        (AccountQuery(account_types=("Checking", "Security")), [A1, A4]),
        (AccountQuery(connection_ids=(C2,)), [A3, A4]),
        (AccountQuery(min_last_successful_update=T0 - 2 * DAY), [A1, A3, A4]),
        (AccountQuery(max_last_successful_update=T0), [A1, A3, A4]),
        (AccountQuery(min_last_successful_update=T0 - DAY, max_last_successful_update=T0), [A1]),
        (AccountQuery(min_last_successful_update=T0, max_last_successful_update=T0 + 1), [A3]),
        (AccountQuery(min_balance=0), [A1, A4]),
        (AccountQuery(max_balance=0), [A2, A4]),
        (AccountQuery(min_balance=-5000, max_balance=-5000), [A2]),
        (AccountQuery(min_balance=1, max_balance=0), []),
        (AccountQuery(account_types=("Checking", "Savings"), max_balance=0), [A2]),
    ],
)
async def test_accounts_selects_by_every_filter_of_the_query(
    store: Store, query: AccountQuery, selected: list[int]
) -> None:
    for accounts in ACCOUNTS:
        await add(store, "alice", accounts)
    await add(store, "bob", [NewAccount(account())])
    assert [a.id for a in await store.accounts("m1", "alice", query, T0)] == selected


# transactions: filters
HOME = Category(30, "Haushalt")
NAMES = ["rent", "salary", "groceries", "fee", "saving", "transfer", "streaming", "card"]
TRANSACTIONS = [
    # A1
    tx(-4999, import_date=T0 - 10 * DAY, purpose="Miete Dezember", counterpart_name="Hausverwaltung Schmidt",
       counterpart_iban="DE44500105175407324931", category=Category(10, "Wohnen"), is_new=False,
       type="Dauerauftrag", primanota="931"),
    tx(250_000, "2025-12-15", import_date=T0 - 10 * DAY, purpose="Gehalt Dezember", counterpart_name="ACME GmbH",
       end_to_end_reference="E2E-ACME-12", category=Category(20, "Einkommen"), type="Gutschrift",
       primanota="100"),
    tx(-1250, "2025-12-15", finapi_booking_date="2025-12-16", import_date=T0 - 2 * DAY, purpose="Kartenzahlung",
       counterpart_name="REWE Markt", category=Category(31, "Lebensmittel", HOME.id, HOME.name), type="Kartenzahlung",
       parent_id=TX + 6),
    tx(0, "2025-12-20", purpose="Kontoführung", is_adjusting_entry=True),
    # A2
    tx(10_000, purpose="Sparrate", counterpart_name="Alice Muster"),
    tx(-10_000, "2025-12-31", purpose="Umbuchung", counterpart_mandate_reference="MANDAT-7",
       counterpart_creditor_id="DE98ZZZ09999999999", is_potential_duplicate=True),
    # A3
    tx(-899, "2025-12-20", purpose="Netflix", counterpart_name="NETFLIX.COM", counterpart_bic="NFLXNL2A",
       counterpart_customer_reference="KUNDE-42", category=Category(32, "Streaming", HOME.id, HOME.name)),
    tx(-2999, "2026-01-01", counterpart_debitor_id="DEB-1", counterpart_blz="10050000",
       counterpart_account_number="998877", is_new=False, type="Lastschrift"),
]  # fmt: skip
"""Named by NAMES; ids TX + position."""


def named(*names: str) -> list[int]:
    return [TX + NAMES.index(name) for name in names]


@pytest.fixture
async def ledger(store: Store) -> Store:
    """alice: A1 (rent, salary, groceries, fee) and A2 (saving, transfer) in C1, A3 (streaming, card) in C2; bob has
    a transaction of his own."""
    first = [NewAccount(account(), tuple(TRANSACTIONS[:4])), NewAccount(account(), tuple(TRANSACTIONS[4:6]))]
    await add(store, "alice", first)
    await add(store, "alice", [NewAccount(account(), tuple(TRANSACTIONS[6:]))])
    await add(store, "bob", [NewAccount(account(), (tx(77),))])
    return store


def totals_of(names: Sequence[str]) -> tuple[int, int, int]:
    amounts = [TRANSACTIONS[NAMES.index(name)].amount for name in names]
    return len(amounts), sum(a for a in amounts if a >= 0), sum(a for a in amounts if a < 0)


@pytest.mark.parametrize(
    ("query", "selected"),
    [
        ({}, NAMES),
        ({"view": "userView"}, NAMES),
        ({"ids": (TX + 5, TX + 2, TX + 2, TX + 8, 99)}, ["groceries", "transfer"]),  # TX + 8 is bob's
        ({"account_ids": (A1,)}, ["rent", "salary", "groceries", "fee"]),
        ({"account_ids": (A3, A2)}, ["saving", "transfer", "streaming", "card"]),
        ({"account_ids": (A3, A4, 999)}, ["streaming", "card"]),  # A4 is bob's
        ({"label_ids": (1,)}, []),
        ({"category_ids": (0,)}, ["fee", "saving", "transfer", "card"]),
        ({"category_ids": (30,)}, ["groceries", "streaming"]),
        ({"category_ids": (30,), "include_child_categories": False}, []),
        ({"category_ids": (31, 0)}, ["groceries", "fee", "saving", "transfer", "card"]),
        ({"category_ids": (10,)}, ["rent"]),
        ({"search": ("schmidt",)}, ["rent"]),
        ({"search": ("dezember",)}, ["rent", "salary"]),
        ({"search": ("e2e-acme",)}, ["salary"]),
        ({"search": ("de4450",)}, ["rent"]),
        ({"search": ("mandat-7",)}, ["transfer"]),
        ({"search": ("de98zzz",)}, ["transfer"]),
        ({"search": ("nflxnl",)}, ["streaming"]),
        ({"search": ("kunde-42",)}, ["streaming"]),
        ({"search": ("deb-1",)}, ["card"]),
        ({"search": ("10050000",)}, ["card"]),
        ({"search": ("998877",)}, ["card"]),
        ({"search": ("miete", "schmidt")}, ["rent"]),
        ({"search": ("miete", "acme")}, []),
        ({"search": ("dezemberhaus",)}, []),
        ({"counterpart": ("gehalt",)}, []),
        ({"counterpart": ("acme",)}, ["salary"]),
        ({"counterpart": ("e2e",)}, []),
        ({"purpose": ("gehalt",)}, ["salary"]),
        ({"purpose": ("acme",)}, []),
        ({"min_bank_booking_date": "2025-12-15"}, ["salary", "groceries", "fee", "transfer", "streaming", "card"]),
        ({"max_bank_booking_date": "2025-12-15"}, ["rent", "salary", "groceries", "saving"]),
        (
            {"min_bank_booking_date": "2025-12-15", "max_bank_booking_date": "2025-12-20"},
            ["salary", "groceries", "fee", "streaming"],
        ),
        ({"min_bank_booking_date": "2026-01-01", "max_bank_booking_date": "2025-12-01"}, []),
        ({"min_finapi_booking_date": "2025-12-16", "max_finapi_booking_date": "2025-12-16"}, ["groceries"]),
        ({"min_import_date": T0 - 2 * DAY}, ["groceries", "fee", "saving", "transfer", "streaming", "card"]),
        ({"max_import_date": T0}, ["rent", "salary", "groceries"]),
        ({"min_import_date": T0 - 2 * DAY, "max_import_date": T0 - 2 * DAY}, []),
        ({"min_import_date": T0 - 2 * DAY, "max_import_date": T0 - 2 * DAY + 1}, ["groceries"]),
        ({"min_amount": 0}, ["salary", "fee", "saving"]),
        ({"max_amount": -1250}, ["rent", "groceries", "transfer", "card"]),
        ({"min_amount": -2999, "max_amount": -899}, ["groceries", "streaming", "card"]),
        ({"min_amount": 100, "max_amount": 0}, []),
        ({"direction": "income"}, ["salary", "fee", "saving"]),
        ({"direction": "spending"}, ["rent", "groceries", "transfer", "streaming", "card"]),
        ({"direction": "income", "max_amount": 5000}, ["fee"]),
        ({"direction": "spending", "min_amount": -3000}, ["groceries", "streaming", "card"]),
        ({"direction": "spending", "min_amount": 0}, []),
        ({"is_new": False}, ["rent", "card"]),
        ({"is_new": True, "account_ids": (A3,)}, ["streaming"]),
        ({"is_potential_duplicate": True}, ["transfer"]),
        ({"is_adjusting_entry": True}, ["fee"]),
        ({"is_adjusting_entry": False, "category_ids": (0,)}, ["saving", "transfer", "card"]),
        ({"account_ids": (A1,), "min_bank_booking_date": "2025-12-15", "direction": "spending"}, ["groceries"]),
        ({"account_ids": (A1, A3), "search": ("netflix",)}, ["streaming"]),
        ({"ids": (TX, TX + 1, TX + 6), "max_amount": 0, "account_ids": (A1,)}, ["rent"]),
        ({"max_bank_booking_date": "2025-12-01", "min_amount": 0}, ["saving"]),
        ({"min_bank_booking_date": "2025-12-15", "max_amount": 0, "search": ("markt",)}, ["groceries"]),
    ],
)
async def test_transactions_selects_by_every_filter_and_sums_all_it_selects(
    ledger: Store, query: dict[str, Any], selected: list[str]
) -> None:
    found = await page_of(ledger, **query, per_page=500)
    assert [t.id for t in found.transactions] == named(*selected)
    assert (found.total, found.income, found.spending) == totals_of(selected)


async def test_the_sums_cover_every_page_and_spending_is_negative(ledger: Store) -> None:
    assert await page_of(ledger, per_page=1, page=2) == TransactionPage(
        [stored(TRANSACTIONS[1], TX + 1, A1)], 8, 260_000, -20_147
    )
    assert await page_of(ledger, per_page=2, account_ids=(A2,)) == TransactionPage(
        [stored(TRANSACTIONS[4], TX + 4, A2), stored(TRANSACTIONS[5], TX + 5, A2)], 2, 10_000, -10_000
    )
    assert await page_of(ledger, per_page=3, min_bank_booking_date="2025-12-20") == TransactionPage(
        [stored(TRANSACTIONS[n], TX + n, account) for n, account in ((3, A1), (5, A2), (6, A3))], 4, 0, -13_898
    )


# transactions: order and pages
@pytest.mark.parametrize(
    ("order", "ordered"),
    [
        ((("id", True),), NAMES),
        ((), NAMES),
        ((("id", False),), NAMES[::-1]),
        (
            (("amount", True),),
            ["transfer", "rent", "card", "groceries", "streaming", "fee", "saving", "salary"],
        ),
        (
            (("amount", False),),
            ["salary", "saving", "fee", "streaming", "groceries", "card", "rent", "transfer"],
        ),
        (
            (("bankBookingDate", True),),
            ["rent", "saving", "salary", "groceries", "fee", "streaming", "transfer", "card"],
        ),
        (  # ties by id ascending in either direction
            (("bankBookingDate", False),),
            ["card", "transfer", "fee", "streaming", "salary", "groceries", "rent", "saving"],
        ),
        (
            (("bankBookingDate", False), ("amount", True)),
            ["card", "transfer", "streaming", "fee", "groceries", "salary", "rent", "saving"],
        ),
        (
            (("bankBookingDate", True), ("id", False)),
            ["saving", "rent", "groceries", "salary", "streaming", "fee", "transfer", "card"],
        ),
        (  # a key after id changes nothing
            (("id", False), ("amount", True)),
            NAMES[::-1],
        ),
        (  # None last ascending, first descending; strings by code point
            (("counterpartName", True),),
            ["salary", "saving", "rent", "streaming", "groceries", "fee", "transfer", "card"],
        ),
        (
            (("counterpartName", False),),
            ["fee", "transfer", "card", "groceries", "streaming", "rent", "saving", "salary"],
        ),
        (
            (("purpose", True),),
            ["salary", "groceries", "fee", "rent", "streaming", "saving", "transfer", "card"],
        ),
        (
            (("category.id", True),),
            ["rent", "salary", "groceries", "streaming", "fee", "saving", "transfer", "card"],
        ),
        (
            (("category.name", False),),
            ["fee", "saving", "transfer", "card", "rent", "streaming", "groceries", "salary"],
        ),
        (
            (("accountId", False), ("amount", False)),
            ["streaming", "card", "saving", "transfer", "salary", "fee", "groceries", "rent"],
        ),
        (
            (("isNew", True),),
            ["rent", "card", "salary", "groceries", "fee", "saving", "transfer", "streaming"],
        ),
        (
            (("importDate", False),),
            ["fee", "saving", "transfer", "streaming", "card", "groceries", "rent", "salary"],
        ),
    ],
)
async def test_transactions_come_in_the_order_asked_for_ties_by_id(
    ledger: Store, order: tuple[tuple[str, bool], ...], ordered: list[str]
) -> None:
    assert await tx_ids(ledger, order=order) == named(*ordered)


BY_DATE, BY_DATE_DOWN, BY_AMOUNT_DOWN = (
    (("bankBookingDate", True),),
    (("bankBookingDate", False),),
    (("amount", False),),
)


@pytest.mark.parametrize(
    ("query", "ordered"),
    [
        ({"account_ids": (A1,), "order": BY_AMOUNT_DOWN}, ["salary", "fee", "groceries", "rent"]),
        (
            {"min_bank_booking_date": "2025-12-15", "max_bank_booking_date": "2025-12-20", "order": BY_DATE_DOWN},
            ["fee", "streaming", "salary", "groceries"],
        ),
        ({"direction": "spending", "order": BY_AMOUNT_DOWN}, ["streaming", "groceries", "card", "rent", "transfer"]),
        ({"direction": "spending", "order": BY_DATE}, ["rent", "groceries", "streaming", "transfer", "card"]),
        ({"max_bank_booking_date": "2025-12-15", "order": (("id", False),)}, ["saving", "groceries", "salary", "rent"]),
        ({"search": ("dezember",), "order": (("amount", True),)}, ["rent", "salary"]),
    ],
)
async def test_filtered_transactions_come_in_the_order_asked_for(
    ledger: Store, query: dict[str, Any], ordered: list[str]
) -> None:
    assert await tx_ids(ledger, **query) == named(*ordered)


@pytest.mark.parametrize(
    ("order", "per_page", "pages"),
    [
        ((("id", True),), 3, [NAMES[:3], NAMES[3:6], NAMES[6:], []]),
        ((("id", False),), 3, [NAMES[:4:-1], NAMES[4:1:-1], NAMES[1::-1], []]),
        (
            (("bankBookingDate", False),),
            3,
            [["card", "transfer", "fee"], ["streaming", "salary", "groceries"], ["rent", "saving"], []],
        ),
        (
            (("amount", False),),
            5,
            [["salary", "saving", "fee", "streaming", "groceries"], ["card", "rent", "transfer"], [], []],
        ),
        (
            (("purpose", True),),
            7,
            [["salary", "groceries", "fee", "rent", "streaming", "saving", "transfer"], ["card"]],
        ),
    ],
)
async def test_a_page_is_a_slice_of_the_order_and_a_page_past_the_end_is_empty_with_the_sums(
    ledger: Store, order: tuple[tuple[str, bool], ...], per_page: int, pages: list[list[str]]
) -> None:
    for number, expected in enumerate(pages, start=1):
        found = await page_of(ledger, order=order, per_page=per_page, page=number)
        assert ([t.id for t in found.transactions], found.total, found.income, found.spending) == (
            named(*expected),
            8,
            260_000,
            -20_147,
        )


SNAKE = {
    "parentId": "parent_id",
    "accountId": "account_id",
    "valueDate": "value_date",
    "bankBookingDate": "bank_booking_date",
    "finapiBookingDate": "finapi_booking_date",
    "counterpartName": "counterpart_name",
    "counterpartAccountNumber": "counterpart_account_number",
    "counterpartIban": "counterpart_iban",
    "counterpartBlz": "counterpart_blz",
    "counterpartBic": "counterpart_bic",
    "isPotentialDuplicate": "is_potential_duplicate",
    "isNew": "is_new",
    "importDate": "import_date",
}


def value_of(transaction: Transaction, prop: str) -> Any:
    if prop.startswith("category."):
        return None if transaction.category is None else getattr(transaction.category, prop.split(".")[1])
    return getattr(transaction, SNAKE.get(prop, prop))


def reference_order(records: Sequence[Transaction], order: Sequence[tuple[str, bool]]) -> list[int]:
    """Sorted by each key from the last (a stable sort), None greater than any value."""
    result = sorted(records, key=lambda t: t.id)
    for prop, ascending in reversed(order):
        result.sort(key=lambda t: (1,) if value_of(t, prop) is None else (0, value_of(t, prop)), reverse=not ascending)
    return [t.id for t in result]


@pytest.mark.parametrize("prop", ORDERABLE)
@pytest.mark.parametrize("ascending", [True, False])
async def test_every_orderable_property_orders(ledger: Store, prop: str, ascending: bool) -> None:
    accounts = [A1] * 4 + [A2] * 2 + [A3] * 2
    records = [stored(t, TX + n, a) for n, (t, a) in enumerate(zip(TRANSACTIONS, accounts, strict=True))]
    expected = reference_order(records, [(prop, ascending)])
    assert await tx_ids(ledger, order=((prop, ascending),)) == expected
    assert len({value_of(t, prop) for t in records}) > 1  # the data tells orders apart


async def test_indexed_answers_are_the_ones_a_full_scan_gives(store: Store) -> None:
    """Random queries over 1,200 transactions with many equal dates and amounts, against a plain filter and sort."""
    rng = random.Random(18)
    dates = [f"2025-12-{day:02d}" for day in range(1, 31)]
    names = ["REWE", "Aldi", "Stadtwerke", None]

    def random_tx() -> Transaction:
        return tx(
            rng.randint(-20, 20) * 500,
            rng.choice(dates),
            purpose=rng.choice(["Einkauf", "Strom", "Miete", None]),
            counterpart_name=rng.choice(names),
            is_new=rng.random() < 0.5,
        )

    accounts = [NewAccount(account(), tuple(random_tx() for _ in range(400))) for _ in range(3)]
    await add(store, "alice", accounts)
    records = [
        stored(t, TX + 400 * k + n, A1 + k) for k, new in enumerate(accounts) for n, t in enumerate(new.transactions)
    ]
    orders = [
        (("id", True),),
        (("id", False),),
        (("amount", True),),
        (("amount", False),),
        (("bankBookingDate", True),),
        (("bankBookingDate", False),),
        (("bankBookingDate", False), ("amount", True)),
        (("counterpartName", False),),
    ]
    for _ in range(200):
        filters: dict[str, Any] = {}
        if rng.random() < 0.3:
            filters["account_ids"] = tuple(rng.sample([A1, A2, A3], rng.randint(1, 2)))
        if rng.random() < 0.4:
            low, high = sorted(rng.sample(dates, 2))
            filters["min_bank_booking_date"], filters["max_bank_booking_date"] = rng.choice([low, None]), high
        if rng.random() < 0.4:
            filters["min_amount"], filters["max_amount"] = rng.choice([(-2500, 2500), (None, -500), (0, None)])
        if rng.random() < 0.3:
            filters["direction"] = rng.choice(["income", "spending"])
        if rng.random() < 0.2:
            filters["search"] = (rng.choice(["rewe", "strom", "ald"]),)
        if rng.random() < 0.2:
            filters["is_new"] = rng.random() < 0.5
        query = TransactionQuery(**filters, order=rng.choice(orders), per_page=rng.randint(1, 80))
        selected = [t for t in records if plainly_selected(t, query)]
        pages = -(-len(selected) // query.per_page)
        query = query._replace(page=rng.randint(1, pages + 1))
        found = await store.transactions("m1", "alice", query, T0)
        skip = (query.page - 1) * query.per_page
        expected = reference_order(selected, query.order)[skip : skip + query.per_page]
        assert [t.id for t in found.transactions] == expected, query
        assert (found.total, found.income, found.spending) == (
            len(selected),
            sum(t.amount for t in selected if t.amount >= 0),
            sum(t.amount for t in selected if t.amount < 0),
        ), query


def plainly_selected(t: Transaction, q: TransactionQuery) -> bool:
    """The filters the random queries use, read off the record."""
    text = " ".join(v for v in (t.purpose, t.counterpart_name) if v).lower()
    return (
        (q.account_ids is None or t.account_id in q.account_ids)
        and (q.min_bank_booking_date is None or t.bank_booking_date >= q.min_bank_booking_date)
        and (q.max_bank_booking_date is None or t.bank_booking_date <= q.max_bank_booking_date)
        and (q.min_amount is None or t.amount >= q.min_amount)
        and (q.max_amount is None or t.amount <= q.max_amount)
        and (q.direction == "all" or (t.amount >= 0) == (q.direction == "income"))
        and all(term in text for term in q.search)
        and (q.is_new is None or t.is_new == q.is_new)
    )


async def test_indexes_follow_every_change_of_the_users_transactions(store: Store) -> None:
    by_amount: dict[str, Any] = {"order": BY_AMOUNT_DOWN}
    december: dict[str, Any] = {"min_bank_booking_date": "2025-12-01", "max_bank_booking_date": "2025-12-31"}
    first = await add(store, "alice", [NewAccount(account(), (tx(300, "2025-12-01"), tx(-100, "2025-12-31")))])
    assert await tx_ids(store, **by_amount) == [TX, TX + 1]
    assert (await page_of(store, **december)).total == 2
    second = await add(store, "alice", [NewAccount(account(), (tx(200, "2025-12-10"),))])
    assert await tx_ids(store, **by_amount) == [TX, TX + 2, TX + 1]
    assert (await page_of(store, **december)).total == 3
    change = AccountUpdate(first.account_ids[0], 450, "UPDATED", (tx(250, "2025-12-20"),))
    assert await store.schedule_updates("m1", "alice", [update(first.id, change)], T0 + 10, T0) == "ok"
    assert await tx_ids(store, T0 + 10, **by_amount) == [TX, TX + 3, TX + 2, TX + 1]
    assert await store.delete_connections("m1", "alice", [second.id], T0 + 10) == ("ok", [second.id])
    assert await tx_ids(store, T0 + 10, **by_amount) == [TX, TX + 3, TX + 1]
    found = await page_of(store, T0 + 10, **december)
    assert ([t.id for t in found.transactions], found.total, found.income, found.spending) == (
        [TX, TX + 1, TX + 3],
        3,
        550,
        -100,
    )


# updates
async def test_an_update_lands_exactly_when_it_is_due(store: Store) -> None:
    old = tx(1000, "2025-12-01")
    made = await add(
        store,
        "alice",
        [NewAccount(account(interfaces=("XS2A", "FINTS_SERVER"), balance=1000), (old,)), NewAccount(account())],
        interfaces=(XS2A, FINTS),
    )
    giro, spar = made.account_ids
    due = T0 + 30
    new = (tx(-300, "2025-12-31"), tx(-200, "2025-12-31"))
    batch = update(made.id, AccountUpdate(giro, 500, "UPDATED_FIXED", new), AccountUpdate(spar, 0, "DEPRECATED"))
    assert await store.schedule_updates("m1", "alice", [batch], due, T0) == "ok"
    before = due - 0.001
    busy = await store.connection("m1", "alice", made.id, before)
    assert busy is not None
    assert busy == made._replace(ready_at=due, categorized_at=due + CATEGORIZATION_SECONDS)
    assert CATEGORIZATION_SECONDS == 3.0
    assert (busy.update_status(before), busy.categorization_status(before)) == ("IN_PROGRESS", "PENDING")
    assert await tx_ids(store, before) == [TX]
    assert await store.account("m1", "alice", giro, before) == account(
        interfaces=("XS2A", "FINTS_SERVER"), balance=1000
    )._replace(id=giro, connection_id=made.id)
    # at `due`
    assert (await page_of(store, due)).transactions == [
        stored(old, TX, giro),
        stored(new[0], TX + 1, giro),
        stored(new[1], TX + 2, giro),
    ]
    ready = await store.connection("m1", "alice", made.id, due)
    assert ready is not None
    assert ready.interfaces == (XS2A._replace(last_auto_update=batch.result), FINTS)
    assert (ready.update_status(due), ready.categorization_status(due)) == ("READY", "IN_PROGRESS")
    assert ready.categorization_status(due + CATEGORIZATION_SECONDS) == "READY"
    updated = await store.accounts("m1", "alice", AccountQuery(), due)
    fixed = AccountInterface("XS2A", "UPDATED_FIXED", ("DATA_DOWNLOAD",), due, due)
    deprecated = AccountInterface("XS2A", "DEPRECATED", ("DATA_DOWNLOAD",), None, due)  # no data came: attempt only
    assert [(a.balance, a.interfaces) for a in updated] == [
        (500, (fixed, AccountInterface("FINTS_SERVER"))),
        (0, (deprecated,)),
    ]


async def test_a_failed_update_only_records_the_attempt(store: Store) -> None:
    made = await add(store, "alice", [NewAccount(account(balance=10), (tx(10),)), NewAccount(account(balance=20))])
    giro = made.account_ids[0]
    failed = update(made.id, AccountUpdate(giro, 99, "UPDATED", (tx(89),)), at=T0 + 5, result="BANK_SERVER_REJECTION")
    failed = failed._replace(result=failed.result._replace(error_message="Zugangsdaten falsch", error_type="BUSINESS"))
    assert await store.schedule_updates("m1", "alice", [failed], T0 + 5, T0) == "ok"
    assert await tx_ids(store, T0 + 5) == [TX]
    assert [(a.balance, a.interfaces) for a in await store.accounts("m1", "alice", AccountQuery(), T0 + 5)] == [
        (10, (AccountInterface("XS2A", last_update_attempt=T0 + 5),)),
        (20, (AccountInterface("XS2A", last_update_attempt=T0 + 5),)),
    ]
    after = await store.connection("m1", "alice", made.id, T0 + 5)
    assert after is not None
    assert after.interfaces == (XS2A._replace(last_auto_update=failed.result),)


ReadOp = Callable[[Store, float], Awaitable[bool]]


async def _connection_shows(store: Store, now: float) -> bool:
    found = await store.connection("m1", "alice", C1, now)
    return found is not None and found.interfaces[0].last_auto_update is not None


async def _connections_show(store: Store, now: float) -> bool:
    [found] = await store.connections("m1", "alice", None, now)
    return found.interfaces[0].last_auto_update is not None


async def _account_shows(store: Store, now: float) -> bool:
    found = await store.account("m1", "alice", A1, now)
    return found is not None and found.balance == 5


async def _accounts_show(store: Store, now: float) -> bool:
    return [a.balance for a in await store.accounts("m1", "alice", AccountQuery(), now)] == [5]


async def _transactions_show(store: Store, now: float) -> bool:
    return (await page_of(store, now)).total == 2


async def _transaction_shows(store: Store, now: float) -> bool:
    return await store.transaction("m1", "alice", TX + 1, now) is not None


async def _summary_shows(store: Store, now: float) -> bool:
    return [row.transactions for row in await store.bank_summary("m1", now)] == [2]


async def _numbered_after_the_update(store: Store, now: float) -> bool:
    """A connection added now gets its transaction's id after the update's."""
    added = await store.add_connection("m1", "alice", connection(), [NewAccount(account(), (tx(1),))], now)
    assert added is not None
    return await tx_ids(store, now, account_ids=added.account_ids) == [TX + 2]


async def _add_shows(store: Store, now: float) -> bool:
    return await _numbered_after_the_update(store, now)


async def _delete_shows(store: Store, now: float) -> bool:
    return await store.delete_connections("m1", "alice", None, now) == ("ok", [C1]) and (
        await _numbered_after_the_update(store, now)
    )


async def _schedule_shows(store: Store, now: float) -> bool:  # the first lands before the second moves `ready_at`
    scheduled = await store.schedule_updates("m1", "alice", [update(C1)], now + 10, now)
    return scheduled == "ok" and await store.transaction("m1", "alice", TX + 1, now) is not None


@pytest.mark.parametrize(
    "read",
    [
        _connection_shows,
        _connections_show,
        _account_shows,
        _accounts_show,
        _transactions_show,
        _transaction_shows,
        _summary_shows,
        _add_shows,
        _delete_shows,
        _schedule_shows,
    ],
)
async def test_every_operation_on_the_users_bank_data_lands_its_due_updates_first(store: Store, read: ReadOp) -> None:
    await add(store, "alice", [NewAccount(account(balance=1), (tx(1),))])
    change = AccountUpdate(A1, 5, "UPDATED", (tx(4),))
    assert await store.schedule_updates("m1", "alice", [update(C1, change)], T0 + 20, T0) == "ok"
    assert await read(store, T0 + 20)


@pytest.mark.parametrize(
    "read", [_connection_shows, _account_shows, _transactions_show, _transaction_shows, _summary_shows]
)
async def test_nothing_shows_an_update_before_it_is_due(store: Store, read: ReadOp) -> None:
    await add(store, "alice", [NewAccount(account(balance=1), (tx(1),))])
    change = AccountUpdate(A1, 5, "UPDATED", (tx(4),))
    assert await store.schedule_updates("m1", "alice", [update(C1, change)], T0 + 20, T0) == "ok"
    assert not await read(store, T0 + 19.999)


async def test_updates_land_in_the_order_they_are_due(store: Store) -> None:
    early, late = await add(store, "alice", [NewAccount(account())]), await add(store, "alice", [NewAccount(account())])
    first = update(late.id, AccountUpdate(late.account_ids[0], 1, "UPDATED", (tx(1), tx(2))))
    second = update(early.id, AccountUpdate(early.account_ids[0], 3, "UPDATED", (tx(3),)))
    assert await store.schedule_updates("m1", "alice", [first], T0 + 20, T0) == "ok"
    assert await store.schedule_updates("m1", "alice", [second], T0 + 10, T0) == "ok"
    found = await page_of(store, T0 + 30)
    assert [(t.id, t.amount) for t in found.transactions] == [(TX, 3), (TX + 1, 1), (TX + 2, 2)]


async def test_two_updates_of_one_connection_land_in_the_order_given(store: Store) -> None:
    made = await add(
        store, "alice", [NewAccount(account(interfaces=("XS2A", "FINTS_SERVER")))], interfaces=(XS2A, FINTS)
    )
    [only] = made.account_ids
    both = [
        update(made.id, AccountUpdate(only, 1, "UPDATED", (tx(1),)), interface="FINTS_SERVER"),
        update(made.id, AccountUpdate(only, 2, "UPDATED_FIXED", (tx(2),))),
    ]
    assert await store.schedule_updates("m1", "alice", both, T0 + 10, T0) == "ok"
    assert [(t.id, t.amount) for t in (await page_of(store, T0 + 10)).transactions] == [(TX, 1), (TX + 1, 2)]
    landed = await store.account("m1", "alice", only, T0 + 10)
    assert landed is not None
    assert (landed.balance, [i.status for i in landed.interfaces]) == (2, ["UPDATED_FIXED", "UPDATED"])


async def test_updates_are_unknown_unless_every_connection_and_account_is_the_users(store: Store) -> None:
    mine = await add(store, "alice", [NewAccount(account())])
    other = await add(store, "alice", [NewAccount(account())])
    bobs = await add(store, "bob", [NewAccount(account())])
    good = update(mine.id, AccountUpdate(mine.account_ids[0], 1, "UPDATED", (tx(1),)))
    for bad in (
        update(bobs.id),
        update(999),
        update(mine.id, AccountUpdate(other.account_ids[0], 1, "UPDATED")),  # alice's, in another connection
        update(mine.id, AccountUpdate(bobs.account_ids[0], 1, "UPDATED")),
    ):
        assert await store.schedule_updates("m1", "alice", [good, bad], T0 + 10, T0) == "unknown"
    assert await store.schedule_updates("m1", "nobody", [good], T0 + 10, T0) == "unknown"
    assert await store.schedule_updates("m2", "alice", [good], T0 + 10, T0) == "unknown"
    # nothing was scheduled: not busy, nothing lands
    found = await store.connection("m1", "alice", mine.id, T0)
    assert found is not None
    assert found.busy(T0) is False
    assert await tx_ids(store, T0 + 10) == []
    assert await store.schedule_updates("m1", "alice", [], T0 + 10, T0) == "ok"


async def test_updates_of_a_busy_connection_are_locked_and_none_is_scheduled(store: Store) -> None:
    busy = await add(store, "alice", [NewAccount(account())], ready_at=T0 + 30)  # an import still running
    idle = await add(store, "alice", [NewAccount(account())])
    on_idle = update(idle.id, AccountUpdate(idle.account_ids[0], 1, "UPDATED", (tx(1),)))
    assert await store.schedule_updates("m1", "alice", [on_idle, update(busy.id)], T0 + 10, T0) == "locked"
    assert await store.connections("m1", "alice", None, T0) == [busy, idle]
    # unknown is told before locked
    assert await store.schedule_updates("m1", "alice", [update(busy.id), update(999)], T0 + 10, T0) == "unknown"
    assert await store.schedule_updates("m1", "alice", [update(busy.id)], T0 + 40, T0 + 30) == "ok"  # ready now
    assert await store.schedule_updates("m1", "alice", [on_idle], T0 + 40, T0 + 30) == "ok"
    assert await store.schedule_updates("m1", "alice", [on_idle], T0 + 50, T0 + 39.5) == "locked"
    assert await store.schedule_updates("m1", "alice", [on_idle], T0 + 50, T0 + 40) == "ok"
    assert await tx_ids(store, T0 + 50) == [TX, TX + 1]


# deletion
async def test_delete_connections_deletes_the_ones_named_with_their_accounts_and_transactions(store: Store) -> None:
    first = await add(store, "alice", [NewAccount(account(), (tx(1), tx(2))), NewAccount(account(), (tx(-3),))])
    second = await add(store, "alice", [NewAccount(account(), (tx(4),))])
    third = await add(store, "alice", [])
    assert await store.delete_connections("m1", "alice", [third.id, first.id, first.id], T0) == (
        "ok",
        [first.id, third.id],
    )
    assert await store.connections("m1", "alice", None, T0) == [second]
    assert [a.id for a in await store.accounts("m1", "alice", AccountQuery(), T0)] == [A3]
    assert [await store.account("m1", "alice", a, T0) for a in first.account_ids] == [None, None]
    assert await store.transaction("m1", "alice", TX, T0) is None
    assert await page_of(store, per_page=5) == TransactionPage([stored(tx(4), TX + 3, A3)], 1, 4, 0)
    assert await page_of(store, account_ids=(A1, A2)) == TransactionPage([], 0, 0, 0)
    assert await counts(store) == (1, 1, 1)


async def test_delete_connections_without_ids_deletes_all_of_the_users_ascending(store: Store) -> None:
    made = [await add(store, "alice", [NewAccount(account(), (tx(n),))]) for n in range(3)]
    bobs = await add(store, "bob", [NewAccount(account(), (tx(9),))])
    assert await store.delete_connections("m1", "ALICE", None, T0) == ("ok", [c.id for c in made])
    assert await store.connections("m1", "alice", None, T0) == []
    assert await store.delete_connections("m1", "alice", None, T0) == ("ok", [])
    assert await store.connections("m1", "bob", None, T0) == [bobs]
    assert await counts(store) == (1, 1, 1)


async def test_delete_connections_deletes_nothing_when_one_is_unknown_or_busy(store: Store) -> None:
    idle = await add(store, "alice", [NewAccount(account(), (tx(1),))])
    busy = await add(store, "alice", [NewAccount(account(), (tx(2),))], ready_at=T0 + 60)
    bobs = await add(store, "bob", [])
    assert await store.delete_connections("m1", "alice", [idle.id, 999], T0) == ("unknown", [])
    assert await store.delete_connections("m1", "alice", [idle.id, bobs.id], T0) == ("unknown", [])
    assert await store.delete_connections("m1", "alice", [idle.id, busy.id], T0) == ("locked", [])
    assert await store.delete_connections("m1", "alice", None, T0) == ("locked", [])
    assert await store.delete_connections("m1", "nobody", [idle.id], T0) == ("unknown", [])
    assert await store.connections("m1", "alice", None, T0) == [idle, busy]
    assert await tx_ids(store) == [TX, TX + 1]
    assert await counts(store) == (3, 2, 2)
    assert await store.delete_connections("m1", "alice", None, T0 + 60) == ("ok", [idle.id, busy.id])


async def delete_by_id(store: Store) -> None:
    assert await store.delete_user("m1", "ALICE", T0) is not None


async def delete_in_bulk(store: Store) -> None:
    assert [u.id for u in await store.delete_users("m1", ["alice"], T0)] == ["Alice"]


@pytest.mark.parametrize("delete", [delete_by_id, delete_in_bulk])
async def test_deleting_a_user_deletes_its_bank_data_and_its_pending_updates(
    backend: str, delete: Callable[[Store], Awaitable[None]]
) -> None:
    store = await with_users(backend, fresh_state(Capacity(transactions=4)))
    made = await add(store, "alice", [NewAccount(account(), (tx(1), tx(2)))])
    await add(store, "bob", [NewAccount(account(), (tx(3),))])
    waiting = AccountUpdate(made.account_ids[0], 0, "UPDATED", (tx(4),))
    assert await store.schedule_updates("m1", "alice", [update(made.id, waiting)], T0 + 10, T0) == "ok"
    await delete(store)
    assert await counts(store) == (1, 1, 1)
    assert await store.create_user(User("m1", "alice", "again"))
    assert await store.connections("m1", "alice", None, T0 + 10) == []
    assert await page_of(store, T0 + 10) == TransactionPage([], 0, 0, 0)
    # the three transactions and the one pending are gone from the capacity's count
    assert (await add(store, "alice", [NewAccount(account(), (tx(5), tx(6), tx(7)))])).id == C3


async def test_a_process_users_retention_deletes_its_bank_data(store: Store) -> None:
    [process] = await store.create_processes("app", [NewProcess("r", "USER_ONLY")], T0, ProcessLimits())
    await add(store, process.user_id, [NewAccount(account(), (tx(1),))])
    assert await counts(store) == (1, 1, 1)
    due = T0 + 10 * DAY  # never exchanged: validity (7 days) plus retention (3)
    assert await store.connections("m1", process.user_id, None, due - 1) != []
    assert await store.purge_expired(due, 100) == 1
    assert await counts(store) == (0, 0, 0)


# capacity
async def test_transactions_beyond_the_capacity_are_refused_before_anything_changes(backend: str) -> None:
    store = await with_users(backend, fresh_state(Capacity(transactions=5)))
    six = [NewAccount(account(), (tx(1), tx(2))), NewAccount(account(), tuple(tx(n) for n in range(4)))]
    with pytest.raises(errors.CapacityReached, match=r"5 transactions \(mock-finapi serve --max-transactions\)"):
        await store.add_connection("m1", "alice", connection(), six, T0)
    assert (await counts(store), await store.connections("m1", "alice", None, T0)) == ((0, 0, 0), [])
    made = await add(store, "alice", [NewAccount(account(), (tx(1), tx(2), tx(3)))])
    assert made.id == C1
    big = update(made.id, AccountUpdate(made.account_ids[0], 0, "UPDATED", (tx(4), tx(5), tx(6))))
    with pytest.raises(errors.CapacityReached):
        await store.schedule_updates("m1", "alice", [big], T0 + 10, T0)
    found = await store.connection("m1", "alice", made.id, T0)
    assert found is not None
    assert found.busy(T0) is False  # not scheduled
    fits = update(made.id, AccountUpdate(made.account_ids[0], 0, "UPDATED", (tx(4), tx(5))))
    assert await store.schedule_updates("m1", "alice", [fits], T0 + 10, T0) == "ok"
    assert await counts(store) == (1, 1, 3)  # pending ones are not stored yet, but they count
    with pytest.raises(errors.CapacityReached):
        await store.add_connection("m1", "bob", connection(), [NewAccount(account(), (tx(7),))], T0)
    assert (await add(store, "bob", [NewAccount(account())])).id == C2  # no transactions: always room
    assert await tx_ids(store, T0 + 10) == [TX, TX + 1, TX + 2, TX + 3, TX + 4]
    assert await counts(store) == (2, 2, 5)


async def test_landed_failed_and_deleted_transactions_give_their_room_back(backend: str) -> None:
    store = await with_users(backend, fresh_state(Capacity(transactions=5)))
    made = await add(store, "alice", [NewAccount(account(), (tx(1), tx(2), tx(3)))])
    two = AccountUpdate(made.account_ids[0], 0, "UPDATED", (tx(4), tx(5)))
    failing = update(made.id, two, result="INTERNAL_SERVER_ERROR")
    assert await store.schedule_updates("m1", "alice", [failing], T0 + 10, T0) == "ok"
    assert await store.schedule_updates("m1", "alice", [update(made.id, two)], T0 + 20, T0 + 10) == "ok"  # failed: room
    assert await tx_ids(store, T0 + 20) == [TX, TX + 1, TX + 2, TX + 3, TX + 4]
    with pytest.raises(errors.CapacityReached):
        await store.add_connection("m1", "bob", connection(), [NewAccount(account(), (tx(6),))], T0 + 20)
    assert await store.delete_connections("m1", "alice", None, T0 + 20) == ("ok", [made.id])
    await add(store, "bob", [NewAccount(account(), tuple(tx(n) for n in range(5)))])
    assert await counts(store) == (1, 1, 5)


# summary, stats and whole-state operations
async def test_bank_summary_lists_every_connection_with_its_owner_and_counts_by_id(store: Store) -> None:
    first = await add(store, "alice", [NewAccount(account(), (tx(1), tx(2))), NewAccount(account(), (tx(3),))])
    carols = await add(store, "carol", [NewAccount(account(), (tx(4),))], mandator_id="m2")
    empty = await add(store, "ALICE", [])
    everything = [
        ConnectionSummary(first, "Alice", 2, 3),
        ConnectionSummary(carols, "carol", 1, 1),
        ConnectionSummary(empty, "Alice", 0, 0),
    ]
    assert await store.bank_summary(None, T0) == everything
    assert await store.bank_summary("m1", T0) == [everything[0], everything[2]]
    assert await store.bank_summary("m9", T0) == []


async def test_stats_count_stored_connections_accounts_and_transactions(store: Store) -> None:
    assert await counts(store) == (0, 0, 0)
    made = await add(store, "alice", [NewAccount(account(), (tx(1), tx(2))), NewAccount(account())])
    await add(store, "carol", [], mandator_id="m2")
    assert await counts(store) == (2, 2, 2)
    change = AccountUpdate(made.account_ids[1], 0, "UPDATED", (tx(3),))
    assert await store.schedule_updates("m1", "alice", [update(made.id, change)], T0 + 5, T0) == "ok"
    assert await counts(store) == (2, 2, 2)
    await store.connections("m1", "alice", None, T0 + 5)
    assert await counts(store) == (2, 2, 3)
    await store.delete_connections("m1", "alice", None, T0 + 5)
    assert await counts(store) == (1, 0, 0)


def fresh_with_bank_data() -> MemoryStore:
    """The scenario's state with alice (m1) holding one connection of two transactions, as build_state makes it."""
    fresh = fresh_state()
    for user in USERS:
        assert fresh.load_user(user)
    made = fresh.load_connection(
        connection()._replace(mandator_id="m1", user_key="alice"), [NewAccount(account(), (tx(10), tx(-20)))]
    )
    assert (made.id, made.account_ids, made.user_key) == (C1, (A1,), "alice")
    return fresh


async def test_reset_mandator_puts_back_that_mandators_bank_data_and_keeps_the_others(store: Store) -> None:
    for _ in range(2):
        await add(store, "alice", [NewAccount(account(), (tx(1),))])
    carols = await add(store, "carol", [NewAccount(account(), (tx(2), tx(3)))], mandator_id="m2")
    await add(store, "bob", [])
    busy = await add(store, "alice", [], ready_at=T0 + 100)
    assert await store.reset_mandator("m1", fresh_with_bank_data())
    [restored] = await store.connections("m1", "alice", None, T0)
    assert (restored.id, restored.account_ids) == (C1, (A1,))
    assert await page_of(store) == TransactionPage([stored(tx(10), TX, A1), stored(tx(-20), TX + 1, A1)], 2, 10, -20)
    assert await store.connections("m1", "bob", None, T0) == []
    assert await store.connections("m2", "carol", None, T0) == [carols]
    assert await tx_ids(store, user_id="carol", mandator_id="m2") == [TX + 2, TX + 3]
    assert await counts(store) == (2, 2, 4)
    # the counters go on past both states' ids
    again = await add(store, "alice", [NewAccount(account(), (tx(4),))])
    assert (again.id, again.account_ids) == (busy.id + 1, (A4,))
    assert await tx_ids(store, account_ids=(A4,)) == [TX + 4]


async def test_replace_puts_the_fresh_bank_data_in_place_of_all(store: Store) -> None:
    await add(store, "carol", [NewAccount(account(), (tx(2),))], mandator_id="m2")
    for _ in range(3):
        await add(store, "alice", [NewAccount(account(), (tx(1),))])
    await store.replace(fresh_with_bank_data())
    loaded = connection()._replace(id=C1, mandator_id="m1", user_key="alice", account_ids=(A1,))
    assert await store.bank_summary(None, T0) == [ConnectionSummary(loaded, "Alice", 1, 2)]
    assert await counts(store) == (1, 1, 2)
    assert (await add(store, "bob", [NewAccount(account(), (tx(3),))])).id == C2


def test_load_connection_needs_the_owner_loaded_first() -> None:
    fresh = fresh_state()
    with pytest.raises(LookupError, match="no user 'alice' in mandator 'm1'"):
        fresh.load_connection(connection()._replace(mandator_id="m1", user_key="alice"), [])

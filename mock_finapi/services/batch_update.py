"""`POST /api/v2/tests/mockBatchUpdate` (WEBFORM.md §5.5): the body's rules, the preconditions, and what each
connection's update does, worked out when it is asked for and landed by the store `BATCH_UPDATE_SECONDS` of virtual
time later (the connection is IN_PROGRESS until then).

Per account named in `mockAccountsData`: a new transaction is skipped when its booking date lies before the update
window (the account interface's last successful update, or else its latest booking date, minus
`UPDATE_WINDOW_DAYS`) or more than `MAX_AGE_DAYS` before today, or when it repeats the booking date and amount of a
transaction of the account in the window or of one accepted earlier in the request; a balance that the accepted
amounts do not explain gets an adjusting entry ("Zwischensaldo", status UPDATED_FIXED). Accounts of the connection not
named become DEPRECATED; `simulateBankLoginError` fails the update (BANK_SERVER_REJECTION) without touching accounts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from mock_finapi import errors
from mock_finapi.clock import parse_day, to_datetime
from mock_finapi.errors import IllegalEntityState, IllegalFieldValue, MissingField, UnknownEntity
from mock_finapi.state.banking import (
    Account,
    AccountQuery,
    AccountUpdate,
    BatchUpdate,
    Connection,
    Transaction,
    TransactionQuery,
    UpdateResult,
)
from mock_finapi.state.models import User
from mock_finapi.state.protocol import Store

BATCH_UPDATE_SECONDS = 5.0
"""Virtual seconds a mock update runs before its results land (decided)."""
UPDATE_WINDOW_DAYS = 10
MAX_AGE_DAYS = 89
MAX_NEW_TRANSACTIONS = 1000
MAX_CENTS = 10**15
"""Amounts and balances beyond ±10 trillion euros are refused (decided: below 2**53 cents every amount and sum
stays exact in a client's double)."""
ADJUSTING_PURPOSE = "Zwischensaldo"
"""Purpose of the adjusting entry (decided; finAPI calls these entries so)."""
INTERFACES = ("WEB_SCRAPER", "FINTS_SERVER", "XS2A")
TYPE_IDS = range(1, 1000)
CURRENCY = re.compile(r"[A-Z]{3}")
PAGE = 500
"""Transactions read per store call when collecting an account's window."""


class MockAccount(NamedTuple):
    account_id: int
    balance: int
    """Cents."""
    transactions: tuple[Transaction, ...]
    """As asked for (ids and account 0, imported at 0): the rules pick which are added."""


class MockConnection(NamedTuple):
    connection_id: int
    interface: str
    login_error: bool
    accounts: tuple[MockAccount, ...] | None
    """None: no `mockAccountsData` at all (every account becomes DEPRECATED)."""


# ---------------------------------------------------------------------------------------------------- the body

Problem = Callable[[Any], str | None]


def _integer(value: Any) -> str | None:
    return None if type(value) is int else "must be an integer"


def _flag(value: Any) -> str | None:
    return None if type(value) is bool else "must be a boolean"


def _array(value: Any) -> str | None:
    return None if isinstance(value, list) else "must be an array"


def _interface(value: Any) -> str | None:
    return None if value in INTERFACES else f"must be one of {', '.join(INTERFACES)}"


def _currency(value: Any) -> str | None:
    return None if isinstance(value, str) and CURRENCY.fullmatch(value) else "must be an ISO 4217 currency code"


def _date(value: Any) -> str | None:
    if isinstance(value, str):
        try:
            parse_day(value)
            return None
        except ValueError:
            pass
    return "must be a date YYYY-MM-DD"


def _text(low: int, high: int) -> Problem:
    def problem(value: Any) -> str | None:
        if isinstance(value, str) and low <= len(value) <= high:
            return None
        return f"must be a string of {low} to {high} characters"

    return problem


def _any_text(value: Any) -> str | None:
    return None if isinstance(value, str) else "must be a string"


def cents(value: Any) -> int | None:
    """A JSON number as integer cents; None when it is not a number of at most 2 decimals within ±MAX_CENTS."""
    if type(value) not in (int, float):
        return None
    try:
        scaled = Decimal(str(value)) * 100
    except InvalidOperation:
        return None
    if scaled != scaled.to_integral_value() or abs(scaled) > MAX_CENTS:
        return None
    return int(scaled)


def _money(value: Any) -> str | None:
    return None if cents(value) is not None else "must be a number with at most 2 decimals"


def _field(data: dict[str, Any], path: str, key: str, problem: Problem, *, required: bool = False) -> Any:
    """The value of `key` after its rule passed; None when absent or null (a required one: MISSING_FIELD)."""
    name = f"{path}.{key}" if path else key
    value = data.get(key)
    if value is None:
        if required:
            raise MissingField(name)
        return None
    if why := problem(value):
        raise IllegalFieldValue(f"'{name}' {why}")
    return value


def _objects(data: dict[str, Any], path: str, key: str, *, required: bool = False) -> list[tuple[str, dict[str, Any]]]:
    """(path, object) for each item of an array of objects; None when absent or null."""
    items = _field(data, path, key, _array, required=required)
    found = []
    for index, item in enumerate(items or ()):
        where = f"{path}.{key}[{index}]" if path else f"{key}[{index}]"
        if not isinstance(item, dict):
            raise IllegalFieldValue(f"'{where}' must be an object")
        found.append((where, item))
    return found


TEXT_FIELDS: dict[str, tuple[str, Problem]] = {
    "purpose": ("purpose", _text(1, 2000)),
    "counterpart": ("counterpart_name", _text(1, 80)),
    "counterpartIban": ("counterpart_iban", _any_text),
    "counterpartBlz": ("counterpart_blz", _any_text),
    "counterpartBic": ("counterpart_bic", _any_text),
    "counterpartAccountNumber": ("counterpart_account_number", _text(0, 34)),
    "counterpartMandateReference": ("counterpart_mandate_reference", _text(1, 270)),
    "counterpartCreditorId": ("counterpart_creditor_id", _text(1, 270)),
    "counterpartCustomerReference": ("counterpart_customer_reference", _text(1, 270)),
    "counterpartDebitorId": ("counterpart_debitor_id", _text(1, 100)),
    "type": ("type", _text(1, 270)),
    "typeCodeSwift": ("type_code_swift", _any_text),
    "sepaPurposeCode": ("sepa_purpose_code", _any_text),
}
"""`NewTransaction`'s string fields: the Transaction field each fills, and its rule (lengths as the spec gives)."""


def _new_transaction(path: str, data: dict[str, Any], today: str) -> Transaction:
    """A `NewTransaction` as a Transaction to add (account, import date and currency default filled in later)."""
    amount = cents(_field(data, path, "amount", _money, required=True))
    original = _field(data, path, "originalAmount", _money)
    booking = _field(data, path, "bookingDate", _date) or today
    type_id = _field(data, path, "typeId", _integer)
    if type_id is not None and type_id not in TYPE_IDS:
        raise IllegalFieldValue(errors.MSG_MOCK_TYPE_ID.format(field=f"{path}.typeId"), status=422)
    texts = {field: _field(data, path, key, problem) for key, (field, problem) in TEXT_FIELDS.items()}
    assert amount is not None  # required above
    return Transaction(
        id=0,
        account_id=0,
        value_date=_field(data, path, "valueDate", _date) or booking,
        bank_booking_date=booking,
        finapi_booking_date=min(booking, today),  # a future booking is booked by finAPI on its import day
        amount=amount,
        import_date=0.0,
        currency=_field(data, path, "currency", _currency),
        original_amount=None if original is None else cents(original),
        original_currency=_field(data, path, "originalCurrency", _currency),
        type_code_zka=None if type_id is None else str(type_id),
        **texts,
    )


def _mock_account(path: str, data: dict[str, Any], today: str) -> MockAccount:
    account_id = _field(data, path, "accountId", _integer, required=True)
    balance = cents(_field(data, path, "accountBalance", _money, required=True))
    given = _objects(data, path, "newTransactions")
    if len(given) > MAX_NEW_TRANSACTIONS:
        message = errors.MSG_MOCK_TOO_MANY.format(limit=MAX_NEW_TRANSACTIONS, count=len(given), account=account_id)
        raise IllegalEntityState(message)
    assert balance is not None  # required above
    return MockAccount(account_id, balance, tuple(_new_transaction(where, item, today) for where, item in given))


def _mock_connection(path: str, data: dict[str, Any], today: str) -> MockConnection:
    connection_id = _field(data, path, "bankConnectionId", _integer, required=True)
    interface = _field(data, path, "bankingInterface", _interface, required=True)
    login_error = bool(_field(data, path, "simulateBankLoginError", _flag))
    if data.get("mockAccountsData") is None:
        return MockConnection(connection_id, interface, login_error, None)
    accounts: dict[int, MockAccount] = {}
    for where, item in _objects(data, path, "mockAccountsData"):
        account = _mock_account(where, item, today)
        if account.account_id in accounts:
            raise IllegalFieldValue(f"'{where}.accountId' names account {account.account_id} a second time")
        accounts[account.account_id] = account
    return MockConnection(connection_id, interface, login_error, tuple(accounts.values()))


def parse(params: dict[str, Any], today: str) -> list[MockConnection]:
    """`MockBatchUpdateParams`: 400 MISSING_FIELD / ILLEGAL_FIELD_VALUE naming the field, 422 for more than
    MAX_NEW_TRANSACTIONS for an account (ILLEGAL_ENTITY_STATE) or a `typeId` outside 1-999 (ILLEGAL_FIELD_VALUE).
    `triggerNotifications` is checked and has no effect: no notification rules are emulated (decided). Unknown
    fields are ignored (decided)."""
    _field(params, "", "triggerNotifications", _flag)
    given = _objects(params, "", "mockBankConnectionUpdates", required=True)
    return [_mock_connection(where, item, today) for where, item in given]


# ---------------------------------------------------------------------------------------------------- the update


def day(when: float) -> str:
    """The day of an instant in finAPI's time zone."""
    return to_datetime(when).date().isoformat()


def days_before(day_: str, days: int) -> str:
    return (date.fromisoformat(day_) - timedelta(days=days)).isoformat()


async def mock_batch_update(store: Store, user: User, params: dict[str, Any], now: float) -> None:
    """Check the body and the preconditions, work out every connection's update and schedule them all to land at
    now + BATCH_UPDATE_SECONDS. Raises the finAPI error of the first problem found; then nothing is scheduled."""
    today = day(now)
    requested = parse(params, today)
    if user.is_auto_update_enabled:
        raise IllegalEntityState(errors.MSG_MOCK_AUTO_UPDATE)
    due = now + BATCH_UPDATE_SECONDS
    updates: list[BatchUpdate] = []
    for mock in requested:
        if mock.connection_id in {update.connection_id for update in updates}:  # locked by its first update
            raise IllegalEntityState(errors.MSG_CONNECTION_LOCKED.format(id=mock.connection_id))
        updates.append(await _update(store, user, mock, today, now, due))
    outcome = await store.schedule_updates(user.mandator_id, user.id, updates, due, now)
    named = ", ".join(str(update.connection_id) for update in updates)
    if outcome == "unknown":  # deleted since it was read (a store shared by several processes)
        raise UnknownEntity(errors.MSG_UNKNOWN_CONNECTION.format(id=named))
    if outcome == "locked":  # another update started since it was read
        raise IllegalEntityState(errors.MSG_CONNECTION_LOCKED.format(id=named))


async def _connection(store: Store, user: User, mock: MockConnection, now: float) -> tuple[Connection, list[Account]]:
    """The connection and its accounts, after the preconditions on them: 404 for a connection or an account that is
    not the user's or not in the connection, then 422 for an interface the connection does not have (decided), a
    security account, a connection busy importing or updating, no PIN stored on the interface."""
    connection = await store.connection(user.mandator_id, user.id, mock.connection_id, now)
    if connection is None:
        raise UnknownEntity(errors.MSG_UNKNOWN_CONNECTION.format(id=mock.connection_id))
    interface = next((i for i in connection.interfaces if i.banking_interface == mock.interface), None)
    if interface is None:
        message = errors.MSG_MOCK_NO_INTERFACE.format(connection=connection.id, interface=mock.interface)
        raise IllegalEntityState(message)
    accounts = await store.accounts(user.mandator_id, user.id, AccountQuery(connection_ids=(connection.id,)), now)
    by_id = {account.id: account for account in accounts}
    for given in mock.accounts or ():
        account = by_id.get(given.account_id)
        if account is None:
            elsewhere = await store.account(user.mandator_id, user.id, given.account_id, now)
            if elsewhere is None:
                raise UnknownEntity(errors.MSG_UNKNOWN_ACCOUNT.format(id=given.account_id))
            message = errors.MSG_MOCK_FOREIGN_ACCOUNT.format(account=given.account_id, connection=connection.id)
            raise UnknownEntity(message)
        if account.account_type == "Security":
            raise IllegalEntityState(errors.MSG_MOCK_SECURITY_ACCOUNT.format(account=account.id))
    if connection.busy(now):
        raise IllegalEntityState(errors.MSG_CONNECTION_LOCKED.format(id=connection.id))
    if not interface.pin_stored:
        raise IllegalEntityState(errors.MSG_MOCK_NO_PIN.format(connection=connection.id, interface=mock.interface))
    return connection, accounts


async def _update(store: Store, user: User, mock: MockConnection, today: str, now: float, due: float) -> BatchUpdate:
    connection, accounts = await _connection(store, user, mock, now)
    if mock.login_error:
        result = UpdateResult("BANK_SERVER_REJECTION", due, errors.MSG_MOCK_LOGIN_ERROR, "BUSINESS")
        return BatchUpdate(connection.id, mock.interface, result)
    given = {account.account_id: account for account in mock.accounts or ()}
    changes = []
    for account in accounts:
        if account.id not in given:
            changes.append(AccountUpdate(account.id, account.balance, "DEPRECATED"))
            continue
        start = await _window_start(store, user, account, mock.interface, today, now)
        booked = await _booked(store, user, account, start, now)
        changes.append(_account_update(account, given[account.id], start, booked, today, due))
    return BatchUpdate(connection.id, mock.interface, UpdateResult("OK", due), tuple(changes))


async def _window_start(store: Store, user: User, account: Account, interface: str, today: str, now: float) -> str:
    """The earliest booking date a new transaction of `account` may have."""
    earliest = days_before(today, MAX_AGE_DAYS)
    last_update = next((i.last_successful_update for i in account.interfaces if i.banking_interface == interface), None)
    if last_update is not None:
        reference: str | None = day(last_update)
    else:
        latest = TransactionQuery(account_ids=(account.id,), order=(("bankBookingDate", False),), per_page=1)
        found = (await store.transactions(user.mandator_id, user.id, latest, now)).transactions
        reference = found[0].bank_booking_date if found else None
    return earliest if reference is None else max(earliest, days_before(reference, UPDATE_WINDOW_DAYS))


async def _booked(store: Store, user: User, account: Account, start: str, now: float) -> set[tuple[str, int]]:
    """(booking date, amount) of the account's transactions booked from `start` on."""
    booked: set[tuple[str, int]] = set()
    page, seen = 1, 0
    while True:
        query = TransactionQuery(account_ids=(account.id,), min_bank_booking_date=start, page=page, per_page=PAGE)
        found = await store.transactions(user.mandator_id, user.id, query, now)
        booked.update((t.bank_booking_date, t.amount) for t in found.transactions)
        seen += len(found.transactions)
        if not found.transactions or seen >= found.total:
            return booked
        page += 1


def _account_update(
    account: Account, mock: MockAccount, start: str, booked: set[tuple[str, int]], today: str, due: float
) -> AccountUpdate:
    """The skip rules, then the adjusting entry when the balance asks for one."""
    added: list[Transaction] = []
    for new in mock.transactions:
        key = (new.bank_booking_date, new.amount)
        if new.bank_booking_date < start or key in booked:
            continue
        booked.add(key)
        added.append(new._replace(account_id=account.id, import_date=due, currency=new.currency or account.currency))
    gap = mock.balance - (account.balance or 0) - sum(t.amount for t in added)
    if not gap:
        return AccountUpdate(account.id, mock.balance, "UPDATED", tuple(added))
    adjusting = Transaction(
        id=0,
        account_id=account.id,
        value_date=today,
        bank_booking_date=today,
        finapi_booking_date=today,
        amount=gap,
        import_date=due,
        currency=account.currency,
        purpose=ADJUSTING_PURPOSE,
        is_adjusting_entry=True,
    )
    return AccountUpdate(account.id, mock.balance, "UPDATED_FIXED", (*added, adjusting))

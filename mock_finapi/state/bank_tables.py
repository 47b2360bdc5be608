"""The bank data of the in-memory store (state/memory.py): every user's connections, accounts and transactions, the
updates scheduled on them, and the indexes that filter and page a user's transactions without reading all of them.

`BankTables` holds every user's `UserBank` (by mandator, then user key), the global id counters (`Numbering`) and the
totals the store's capacity and stats read in O(1). A `UserBank` keeps its records in dicts by id and, for its
transactions:

- a `Ledger` of all of them and one per account: ids ascending (ids only grow, so adding is an append) with the
  count and the income and spending sums kept on every insert and deletion;
- a `SortedIndex` per indexed key (`bankBookingDate`, `amount`): (key, id) order with prefix sums, built in
  O(n log n) on first use and dropped whenever the user's transactions change.

`TransactionSearch` answers a query from the cheapest of those (the costs are in its docstring); only text filters,
the other filters and the other orders read the candidates one by one, and only the candidates the indexed filter
left.

Updates (`BatchUpdate`) wait in their user's bank until their connection's `ready_at`; every operation on a user's
bank data lands the due ones first (`BankTables.land`), so the virtual clock moves them without anything running.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, chain
from operator import attrgetter
from typing import Any, NamedTuple

from mock_finapi.state.banking import (
    Account,
    AccountInterface,
    AccountQuery,
    BatchUpdate,
    Connection,
    DeleteOutcome,
    NewAccount,
    ScheduleOutcome,
    Transaction,
    TransactionPage,
    TransactionQuery,
)
from mock_finapi.state.image import UserBankImage

CATEGORIZATION_SECONDS = 3.0
"""How long a connection's categorisation runs after its import or update landed: `categorized_at` is `ready_at` plus
this (decided). The generator dates the connections it makes the same way."""
FIRST_CONNECTION_ID = 1_000_001
FIRST_ACCOUNT_ID = 2_000_001
FIRST_TRANSACTION_ID = 10_000_001

COUNTERPART_FIELDS = (
    "counterpart_name",
    "counterpart_account_number",
    "counterpart_iban",
    "counterpart_blz",
    "counterpart_bic",
    "counterpart_mandate_reference",
    "counterpart_customer_reference",
    "counterpart_creditor_id",
    "counterpart_debitor_id",
)
"""What the `counterpart` filter reads (and `search`, with the purpose and the end-to-end reference)."""
SEARCH_FIELDS = ("purpose", "end_to_end_reference", *COUNTERPART_FIELDS)
ACCOUNT_SEARCH_FIELDS = ("name", "iban", "account_number", "sub_account_number")


def _category_id(transaction: Transaction) -> int | None:
    return None if transaction.category is None else transaction.category.id


def _category_name(transaction: Transaction) -> str | None:
    return None if transaction.category is None else transaction.category.name


ORDER_FIELDS: dict[str, Callable[[Transaction], Any]] = {
    "id": attrgetter("id"),
    "parentId": attrgetter("parent_id"),
    "accountId": attrgetter("account_id"),
    "valueDate": attrgetter("value_date"),
    "bankBookingDate": attrgetter("bank_booking_date"),
    "finapiBookingDate": attrgetter("finapi_booking_date"),
    "amount": attrgetter("amount"),
    "purpose": attrgetter("purpose"),
    "counterpartName": attrgetter("counterpart_name"),
    "counterpartAccountNumber": attrgetter("counterpart_account_number"),
    "counterpartIban": attrgetter("counterpart_iban"),
    "counterpartBlz": attrgetter("counterpart_blz"),
    "counterpartBic": attrgetter("counterpart_bic"),
    "type": attrgetter("type"),
    "primanota": attrgetter("primanota"),
    "category.id": _category_id,
    "category.name": _category_name,
    "isPotentialDuplicate": attrgetter("is_potential_duplicate"),
    "isNew": attrgetter("is_new"),
    "importDate": attrgetter("import_date"),
}
"""The value each property of `banking.ORDERABLE` sorts by. Strings sort by code point (decided)."""
INDEXED = ("bankBookingDate", "amount")
"""The properties with a `SortedIndex` (never None on a transaction)."""


# ---------------------------------------------------------------------------------------------------- ids and sums


@dataclass(slots=True)
class Numbering:
    """The next id of each kind. Global, so an id is unique over all users and never handed out twice."""

    connection: int = FIRST_CONNECTION_ID
    account: int = FIRST_ACCOUNT_ID
    transaction: int = FIRST_TRANSACTION_ID

    def next_connection(self) -> int:
        self.connection += 1
        return self.connection - 1

    def next_account(self) -> int:
        self.account += 1
        return self.account - 1

    def next_transaction(self) -> int:
        self.transaction += 1
        return self.transaction - 1

    def beyond(self, other: Numbering) -> Numbering:
        """Counters past both `self`'s and `other`'s ids (a state merged from two)."""
        return Numbering(
            max(self.connection, other.connection),
            max(self.account, other.account),
            max(self.transaction, other.transaction),
        )


class Totals(NamedTuple):
    total: int = 0
    income: int = 0
    """The sum of the amounts ≥ 0 (cents)."""
    spending: int = 0
    """The sum of the amounts < 0 (cents, negative)."""

    def plus(self, other: Totals) -> Totals:
        return Totals(self.total + other.total, self.income + other.income, self.spending + other.spending)


def _totals(transactions: Iterable[Transaction]) -> Totals:
    count = income = spending = 0
    for transaction in transactions:
        count += 1
        if transaction.amount >= 0:
            income += transaction.amount
        else:
            spending += transaction.amount
    return Totals(count, income, spending)


@dataclass(slots=True)
class Ledger:
    """Transaction ids ascending with their count and sums: adding is an append and O(1)."""

    ids: list[int] = field(default_factory=list)
    income: int = 0
    spending: int = 0

    def add(self, transaction: Transaction) -> None:
        self.ids.append(transaction.id)
        if transaction.amount >= 0:
            self.income += transaction.amount
        else:
            self.spending += transaction.amount

    @property
    def totals(self) -> Totals:
        return Totals(len(self.ids), self.income, self.spending)


class SortedIndex:
    """A user's transactions in the order of one key, ties by id ascending, with prefix sums of the amounts.

    Built in O(n log n), about 90 bytes per transaction (bench/bank_store.py). The transactions whose key lies within
    inclusive bounds are a span found in O(log n); the span's count and sums are O(1); a page of it in key order,
    either direction (ties still by id ascending), costs O(page · log n)."""

    __slots__ = ("ids", "income", "keys", "spending")

    def __init__(self, transactions: dict[int, Transaction], ids: Sequence[int], key: Callable[[Transaction], Any]):
        records = [transactions[i] for i in ids]
        keys = list(map(key, records))
        positions = sorted(range(len(ids)), key=keys.__getitem__)  # stable: ties stay in id order
        self.ids = [ids[p] for p in positions]
        self.keys = [keys[p] for p in positions]
        amounts = [records[p].amount for p in positions]
        self.income = list(accumulate((a if a >= 0 else 0 for a in amounts), initial=0))
        """`income[k]`: the sum of the amounts ≥ 0 before position k (`spending` likewise for those < 0)."""
        self.spending = list(accumulate((a if a < 0 else 0 for a in amounts), initial=0))

    def span(self, low: Any, high: Any) -> tuple[int, int]:
        """The positions [start, stop) of the keys within [low, high] (None: unbounded); empty when low > high."""
        start = 0 if low is None else bisect_left(self.keys, low)
        stop = len(self.keys) if high is None else bisect_right(self.keys, high)
        return start, max(start, stop)

    def totals(self, start: int, stop: int) -> Totals:
        return Totals(stop - start, self.income[stop] - self.income[start], self.spending[stop] - self.spending[start])

    def page(self, start: int, stop: int, skip: int, take: int, descending: bool) -> list[int]:
        """Ids `skip` to `skip + take` of the span [start, stop) (whose ends are where keys change) in key order."""
        first, last = skip, min(skip + take, stop - start)
        if not descending:
            return self.ids[start + first : start + last]
        keys, page = self.keys, []
        position = first  # in descending order: groups of equal keys from the highest, each in id order
        while position < last:
            key = keys[stop - 1 - position]
            group_start = bisect_left(keys, key, start, stop - position)
            group_stop = bisect_right(keys, key, stop - 1 - position, stop)
            at = group_start + position - (stop - group_stop)
            taken = min(last - position, group_stop - at)
            page.extend(self.ids[at : at + taken])
            position += taken
        return page


# ---------------------------------------------------------------------------------------------------- one user


class Removed(NamedTuple):
    connections: int
    accounts: int
    transactions: int


class UserBank:
    """One user's bank data: connections, accounts and transactions by id (O(1) lookups), the ledgers of the user and
    of each account, the sorted indexes, and the updates waiting for their connection's `ready_at`."""

    __slots__ = ("accounts", "connections", "indexes", "ledger", "ledgers", "pending", "transactions", "waiting")

    def __init__(self) -> None:
        self.connections: dict[int, Connection] = {}
        self.accounts: dict[int, Account] = {}
        self.transactions: dict[int, Transaction] = {}
        self.ledger = Ledger()
        """All of the user's transactions."""
        self.ledgers: dict[int, Ledger] = {}
        """Each account's transactions."""
        self.indexes: dict[str, SortedIndex] = {}
        """By property of INDEXED: built on first use, dropped when the transactions change."""
        self.pending: list[BatchUpdate] = []
        """In the order they were scheduled; a connection that is not busy has none (they land first)."""
        self.waiting = 0
        """Transactions of the pending updates."""

    def index(self, prop: str) -> SortedIndex:
        index = self.indexes.get(prop)
        if index is None:
            index = self.indexes[prop] = SortedIndex(self.transactions, self.ledger.ids, ORDER_FIELDS[prop])
        return index

    def transaction_count(self, connection: Connection) -> int:
        return sum(len(self.ledgers[account_id].ids) for account_id in connection.account_ids)

    def add(self, connection: Connection, accounts: Sequence[NewAccount], numbering: Numbering) -> Connection:
        """Store `connection` with its accounts and their transactions, numbered in order (ids given are ignored)."""
        connection_id = numbering.next_connection()
        account_ids = []
        for new in accounts:
            account = new.account._replace(id=numbering.next_account(), connection_id=connection_id)
            self.accounts[account.id] = account
            self.ledgers[account.id] = Ledger()
            account_ids.append(account.id)
            self._insert(account.id, new.transactions, numbering)
        stored = connection._replace(id=connection_id, account_ids=tuple(account_ids))
        self.connections[connection_id] = stored
        return stored

    def _insert(self, account_id: int, transactions: Iterable[Transaction], numbering: Numbering) -> int:
        ledger, added = self.ledgers[account_id], 0
        for given in transactions:
            transaction = given._replace(id=numbering.next_transaction(), account_id=account_id)
            self.transactions[transaction.id] = transaction
            ledger.add(transaction)
            self.ledger.add(transaction)
            added += 1
        if added:
            self.indexes.clear()
        return added

    def land(self, now: float, numbering: Numbering) -> int:
        """Apply the pending updates whose connection is ready at `now`, earliest first; answers the transactions
        added. O(1) when none is pending."""
        if not self.pending:
            return 0
        due: list[BatchUpdate] = []
        waiting: list[BatchUpdate] = []
        for update in self.pending:
            (due if self.connections[update.connection_id].ready_at <= now else waiting).append(update)
        self.pending = waiting
        due.sort(key=lambda update: self.connections[update.connection_id].ready_at)
        return sum(self._apply(update, numbering) for update in due)

    def _apply(self, update: BatchUpdate, numbering: Numbering) -> int:
        """The connection's interface gets the result as `lastAutoUpdate`; when the login worked, each account named
        gets its balance, its interface's status and both update times (a DEPRECATED one, whose data did not come,
        only `lastUpdateAttempt`), and its new transactions; when it failed, the interface of every account of the
        connection gets only `lastUpdateAttempt`."""
        self.waiting -= sum(len(change.transactions) for change in update.accounts)
        connection = self.connections[update.connection_id]
        interface, result = update.banking_interface, update.result
        self.connections[connection.id] = connection._replace(
            interfaces=tuple(
                i._replace(last_auto_update=result) if i.banking_interface == interface else i
                for i in connection.interfaces
            )
        )
        if result.result != "OK":
            for account_id in connection.account_ids:
                account = self.accounts[account_id]
                self.accounts[account_id] = _with_interface(account, interface, last_update_attempt=result.timestamp)
            return 0
        added = 0
        for change in update.accounts:
            succeeded = {} if change.status == "DEPRECATED" else {"last_successful_update": result.timestamp}
            account = _with_interface(
                self.accounts[change.account_id],
                interface,
                status=change.status,
                last_update_attempt=result.timestamp,
                **succeeded,
            )
            self.accounts[account.id] = account._replace(balance=change.balance)
            added += self._insert(account.id, change.transactions, numbering)
        return added

    def check_updates(self, updates: Sequence[BatchUpdate], now: float) -> ScheduleOutcome:
        for update in updates:
            connection = self.connections.get(update.connection_id)
            if connection is None or any(a.account_id not in connection.account_ids for a in update.accounts):
                return "unknown"
        if any(self.connections[update.connection_id].busy(now) for update in updates):
            return "locked"
        return "ok"

    def schedule(self, updates: Sequence[BatchUpdate], due: float) -> None:
        """Keep `updates` (checked) until `due`: their connections are busy until then."""
        for update in updates:
            connection = self.connections[update.connection_id]
            ready = connection._replace(ready_at=due, categorized_at=due + CATEGORIZATION_SECONDS)
            self.connections[connection.id] = ready
        self.pending.extend(updates)
        self.waiting += sum(len(change.transactions) for update in updates for change in update.accounts)

    def check_deletion(self, ids: Sequence[int] | None, now: float) -> tuple[DeleteOutcome, list[int]]:
        """The connections `ids` names (None: all), ascending, unless one is unknown or busy."""
        wanted = sorted(self.connections if ids is None else set(ids))
        if any(i not in self.connections for i in wanted):
            return "unknown", []
        if any(self.connections[i].busy(now) for i in wanted):
            return "locked", []
        return "ok", wanted

    def delete(self, ids: Sequence[int]) -> Removed:
        """Delete the connections (checked) with their accounts and transactions: O(their transactions) plus one pass
        over the user's ids to drop them from its ledger."""
        accounts = transactions = 0
        for connection_id in ids:
            for account_id in self.connections.pop(connection_id).account_ids:
                del self.accounts[account_id]
                ledger = self.ledgers.pop(account_id)
                for transaction_id in ledger.ids:
                    del self.transactions[transaction_id]
                self.ledger.income -= ledger.income
                self.ledger.spending -= ledger.spending
                accounts += 1
                transactions += len(ledger.ids)
        if transactions:
            self.ledger.ids = [i for i in self.ledger.ids if i in self.transactions]
            self.indexes.clear()
        return Removed(len(ids), accounts, transactions)

    def select_accounts(self, query: AccountQuery) -> list[Account]:
        """O(accounts)."""
        return [account for _, account in sorted(self.accounts.items()) if _account_selected(account, query)]


def _with_interface(account: Account, banking_interface: str, **changes: Any) -> Account:
    interfaces: tuple[AccountInterface, ...] = tuple(
        i._replace(**changes) if i.banking_interface == banking_interface else i for i in account.interfaces
    )
    return account._replace(interfaces=interfaces)


def _text(fields: Sequence[str]) -> Callable[[Any], str]:
    """What a search reads of a record: the fields' values lower-cased, apart (a term never spans two fields)."""
    if len(fields) == 1:
        one = attrgetter(fields[0])
        return lambda record: (one(record) or "").lower()
    values = attrgetter(*fields)
    return lambda record: "\0".join(filter(None, values(record))).lower()


ACCOUNT_TEXT = _text(ACCOUNT_SEARCH_FIELDS)


def _account_selected(account: Account, query: AccountQuery) -> bool:
    if query.ids is not None and account.id not in query.ids:
        return False
    if query.account_types is not None and account.account_type not in query.account_types:
        return False
    if query.connection_ids is not None and account.connection_id not in query.connection_ids:
        return False
    if query.search:
        text = ACCOUNT_TEXT(account)
        if not all(term in text for term in query.search):
            return False
    low, high = query.min_last_successful_update, query.max_last_successful_update
    if (low is not None or high is not None) and not any(
        at is not None and (low is None or at >= low) and (high is None or at < high)
        for at in (i.last_successful_update for i in account.interfaces)
    ):
        return False
    if query.min_balance is not None and (account.balance is None or account.balance < query.min_balance):
        return False
    return query.max_balance is None or (account.balance is not None and account.balance <= query.max_balance)


# ---------------------------------------------------------------------------------------------------- transactions


class Candidates(NamedTuple):
    """What the indexed filter of a query selects: their totals, the filters of the query they satisfy already, and
    how to read their ids in id order; `span` when they are a span of a `SortedIndex`."""

    totals: Totals
    covers: frozenset[str]
    ids: Callable[[], Sequence[int]]
    span: tuple[str, int, int] | None = None
    """(property of INDEXED, start, stop)."""


Check = Callable[[Transaction], bool]


class TransactionSearch:
    """`GET /api/v2/transactions` over one user's transactions (n of them).

    1. Candidates, from the cheapest indexed filter: `ids` (a lookup each), else the smallest of `accountIds` (the
       accounts' ledgers: totals in O(accounts), ids merged in O(selected) when several), a bank booking date range
       or an amount range and `direction` (a `SortedIndex` span: O(log n) with its totals), and all of the user's
       (the user's ledger: O(1)).
    2. The other filters read each candidate (O(candidates)); without any, the candidates' totals are the answer's.
    3. The order: id (either direction) over id-ordered candidates, or one INDEXED property over its own span or
       over all transactions, is a slice (O(page · log n)); anything else sorts the selected ones
       (O(selected · log selected)), ties by id ascending, None after every value ascending and before descending
       (decided).
    """

    def __init__(self, bank: UserBank, query: TransactionQuery) -> None:
        self.bank = bank
        self.query = query

    def page(self) -> TransactionPage:
        query = self.query
        if query.label_ids is not None:  # no transaction has labels in the emulator
            return TransactionPage([], 0, 0, 0)
        candidates = self._candidates()
        checks = self._checks(candidates.covers)
        order = _effective_order(query.order)
        skip, take = (query.page - 1) * query.per_page, query.per_page
        records = self.bank.transactions
        if not checks:
            totals = candidates.totals
            page = self._indexed_page(candidates, order, skip, take)
            if page is not None:
                return TransactionPage([records[i] for i in page], *totals)
            ids = candidates.ids()
        else:
            selects = _every(checks)
            ids = [i for i in candidates.ids() if selects(records[i])]
            totals = _totals(records[i] for i in ids)
        if order == [("id", True)]:
            return TransactionPage([records[i] for i in ids[skip : skip + take]], *totals)
        if order == [("id", False)]:
            stop = max(len(ids) - skip, 0)
            return TransactionPage([records[i] for i in reversed(ids[max(stop - take, 0) : stop])], *totals)
        selected = [records[i] for i in ids]
        for prop, ascending in reversed(order):
            selected.sort(key=_sort_key(ORDER_FIELDS[prop]), reverse=not ascending)
        return TransactionPage(selected[skip : skip + take], *totals)

    def _candidates(self) -> Candidates:
        query, bank = self.query, self.bank
        if query.ids is not None:  # at most 1000 (the API's limit): a lookup each
            found = sorted(i for i in set(query.ids) if i in bank.transactions)
            totals = _totals(bank.transactions[i] for i in found)
            return Candidates(totals, frozenset({"ids"}), lambda: found)
        options = []
        if query.account_ids is not None:
            ledgers = [bank.ledgers[i] for i in set(query.account_ids) if i in bank.ledgers]
            totals = Totals()
            for ledger in ledgers:
                totals = totals.plus(ledger.totals)
            options.append(Candidates(totals, frozenset({"accounts"}), lambda: _merged(ledgers)))
        low, high = query.min_bank_booking_date, query.max_bank_booking_date
        if low is not None or high is not None:
            options.append(self._range("bankBookingDate", low, high, "booking"))
        low_amount, high_amount = query.min_amount, query.max_amount
        if query.direction == "income":
            low_amount = 0 if low_amount is None else max(low_amount, 0)
        elif query.direction == "spending":
            high_amount = -1 if high_amount is None else min(high_amount, -1)
        if low_amount is not None or high_amount is not None:
            options.append(self._range("amount", low_amount, high_amount, "amount"))
        options.append(Candidates(bank.ledger.totals, frozenset(), lambda: bank.ledger.ids))
        return min(options, key=lambda option: option.totals.total)  # the first of the smallest

    def _range(self, prop: str, low: Any, high: Any, covers: str) -> Candidates:
        """The span of `prop`'s index within [low, high]; its ids in id order cost a sort of the span."""
        index = self.bank.index(prop)
        start, stop = index.span(low, high)
        return Candidates(
            index.totals(start, stop), frozenset({covers}), lambda: sorted(index.ids[start:stop]), (prop, start, stop)
        )

    def _indexed_page(
        self, candidates: Candidates, order: list[tuple[str, bool]], skip: int, take: int
    ) -> list[int] | None:
        """The page straight from an index when the order is the one of the candidates' index (their own span, or
        all transactions' when no filter applies); None otherwise."""
        if len(order) != 1 or order[0][0] not in INDEXED:
            return None
        prop, ascending = order[0]
        if candidates.span is not None and candidates.span[0] == prop:
            _, start, stop = candidates.span
        elif not candidates.covers:
            start, stop = 0, len(self.bank.transactions)
        else:
            return None
        return self.bank.index(prop).page(start, stop, skip, take, not ascending)

    def _checks(self, covered: frozenset[str]) -> list[Check]:
        """A test per filter of the query the candidates do not satisfy already."""
        query, checks = self.query, []
        if query.ids is not None and "ids" not in covered:
            checks.append(_member("id", set(query.ids)))
        if query.account_ids is not None and "accounts" not in covered:
            checks.append(_member("account_id", set(query.account_ids)))
        if query.category_ids is not None:
            checks.append(_in_categories(set(query.category_ids), query.include_child_categories))
        for terms, fields in (
            (query.search, SEARCH_FIELDS),
            (query.counterpart, COUNTERPART_FIELDS),
            (query.purpose, ("purpose",)),
        ):
            if terms:
                checks.append(_contains(terms, fields))
        if "booking" not in covered:
            checks += _bounds("bank_booking_date", query.min_bank_booking_date, query.max_bank_booking_date)
        checks += _bounds("finapi_booking_date", query.min_finapi_booking_date, query.max_finapi_booking_date)
        checks += _bounds("import_date", query.min_import_date, query.max_import_date, open_end=True)
        if "amount" not in covered:
            checks += _bounds("amount", query.min_amount, query.max_amount)
            if query.direction != "all":
                checks.append(_direction(query.direction == "income"))
        for name, wanted in (
            ("is_new", query.is_new),
            ("is_potential_duplicate", query.is_potential_duplicate),
            ("is_adjusting_entry", query.is_adjusting_entry),
        ):
            if wanted is not None:
                checks.append(_flag(name, wanted))
        return checks


def _merged(ledgers: Sequence[Ledger]) -> Sequence[int]:
    """The ids of the ledgers in id order: one ledger's own list, several merged (timsort merges the sorted runs)."""
    if len(ledgers) == 1:
        return ledgers[0].ids
    return sorted(chain.from_iterable(ledger.ids for ledger in ledgers))


def _effective_order(order: Sequence[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """The keys that decide: up to the first `id` (ids are unique), with the final tie-break by id ascending left
    implicit."""
    keys = []
    for prop, ascending in order:
        keys.append((prop, ascending))
        if prop == "id":
            break
    if len(keys) > 1 and keys[-1] == ("id", True):
        keys.pop()
    return keys or [("id", True)]


def _sort_key(get: Callable[[Transaction], Any]) -> Callable[[Transaction], tuple[Any, ...]]:
    def key(transaction: Transaction) -> tuple[Any, ...]:
        value = get(transaction)
        return (1,) if value is None else (0, value)

    return key


def _every(checks: Sequence[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]
    return lambda transaction: all(check(transaction) for check in checks)


def _member(name: str, wanted: set[int]) -> Check:
    get = attrgetter(name)
    return lambda transaction: get(transaction) in wanted


def _in_categories(wanted: set[int], children: bool) -> Check:
    """Id 0 stands for no category; with `children` a category's parent selects it too."""

    def check(transaction: Transaction) -> bool:
        category = transaction.category
        if category is None:
            return 0 in wanted
        return category.id in wanted or (children and category.parent_id in wanted)

    return check


def _contains(terms: Sequence[str], fields: Sequence[str]) -> Check:
    text_of = _text(fields)
    if len(terms) == 1:
        [term] = terms
        return lambda transaction: term in text_of(transaction)

    def check(transaction: Transaction) -> bool:
        text = text_of(transaction)
        return all(term in text for term in terms)

    return check


def _bounds(name: str, low: Any, high: Any, *, open_end: bool = False) -> list[Check]:
    """Inclusive bounds, or [low, high) with `open_end`."""
    get, checks = attrgetter(name), []
    if low is not None:
        checks.append(lambda transaction: get(transaction) >= low)
    if high is not None:
        checks.append(
            (lambda transaction: get(transaction) < high)
            if open_end
            else (lambda transaction: get(transaction) <= high)
        )
    return checks


def _direction(income: bool) -> Check:
    return lambda transaction: (transaction.amount >= 0) == income


def _flag(name: str, wanted: bool) -> Check:
    get = attrgetter(name)
    return lambda transaction: get(transaction) == wanted


# ---------------------------------------------------------------------------------------------------- all users


class BankTables:
    """Every user's bank data, by mandator and user key, with the id counters and the totals over all users."""

    __slots__ = ("accounts", "connections", "numbering", "pending", "transactions", "users")

    def __init__(self) -> None:
        self.users: dict[str, dict[str, UserBank]] = {}
        self.numbering = Numbering()
        self.connections = 0
        self.accounts = 0
        self.transactions = 0
        self.pending = 0
        """Transactions of updates not landed yet: the capacity counts them with the stored ones."""

    def of(self, mandator_id: str, user_key: str) -> UserBank | None:
        return self.users.get(mandator_id, {}).get(user_key)

    def add(
        self, mandator_id: str, user_key: str, connection: Connection, accounts: Sequence[NewAccount]
    ) -> Connection:
        bank = self.users.setdefault(mandator_id, {}).get(user_key)
        if bank is None:
            bank = self.users[mandator_id][user_key] = UserBank()
        stored = bank.add(connection._replace(mandator_id=mandator_id, user_key=user_key), accounts, self.numbering)
        self.connections += 1
        self.accounts += len(accounts)
        self.transactions += sum(len(new.transactions) for new in accounts)
        return stored

    def land(self, bank: UserBank, now: float) -> None:
        waiting = bank.waiting
        self.transactions += bank.land(now, self.numbering)
        self.pending -= waiting - bank.waiting

    def schedule(self, bank: UserBank, updates: Sequence[BatchUpdate], due: float) -> None:
        waiting = bank.waiting
        bank.schedule(updates, due)
        self.pending += bank.waiting - waiting

    def delete(self, bank: UserBank, ids: Sequence[int]) -> None:
        removed = bank.delete(ids)
        self.connections -= removed.connections
        self.accounts -= removed.accounts
        self.transactions -= removed.transactions

    def drop(self, mandator_id: str, user_key: str) -> None:
        """Forget the user's bank data (the user is deleted)."""
        users = self.users.get(mandator_id)
        bank = None if users is None else users.pop(user_key, None)
        if bank is not None:
            self._count(bank, -1)

    def _count(self, bank: UserBank, sign: int) -> None:
        self.connections += sign * len(bank.connections)
        self.accounts += sign * len(bank.accounts)
        self.transactions += sign * len(bank.transactions)
        self.pending += sign * bank.waiting

    @classmethod
    def merged(cls, old: BankTables, new: BankTables, mandator_id: str) -> BankTables:
        """`old`'s data with `mandator_id`'s taken from `new` (a mandator's reset); the counters go on past both."""
        tables = cls()
        tables.users = {m: users for m, users in old.users.items() if m != mandator_id}
        if mandator_id in new.users:
            tables.users[mandator_id] = new.users[mandator_id]
        tables.numbering = old.numbering.beyond(new.numbering)
        for users in tables.users.values():
            for bank in users.values():
                tables._count(bank, 1)
        return tables

    def image(self) -> tuple[tuple[int, int, int], list[UserBankImage]]:
        """The next ids and every user's bank data as plain lists (`state/image.py`)."""
        n = self.numbering
        banks = [
            UserBankImage(
                mandator_id,
                user_key,
                list(bank.connections.values()),
                list(bank.accounts.values()),
                list(bank.transactions.values()),
                list(bank.pending),
            )
            for mandator_id, users in self.users.items()
            for user_key, bank in users.items()
        ]
        return (n.connection, n.account, n.transaction), banks

    @classmethod
    def from_image(cls, next_ids: tuple[int, int, int], banks: Sequence[UserBankImage]) -> BankTables:
        """The tables of an image (checked by `image.check`)."""
        tables = cls()
        tables.numbering = Numbering(*next_ids)
        for image in banks:
            bank = UserBank()
            bank.connections = {connection.id: connection for connection in image.connections}
            bank.accounts = {account.id: account for account in image.accounts}
            bank.ledgers = {account.id: Ledger() for account in image.accounts}
            for transaction in sorted(image.transactions, key=attrgetter("id")):  # ledgers keep ids ascending
                bank.transactions[transaction.id] = transaction
                bank.ledgers[transaction.account_id].add(transaction)
                bank.ledger.add(transaction)
            bank.pending = list(image.pending)
            bank.waiting = sum(len(change.transactions) for update in image.pending for change in update.accounts)
            tables.users.setdefault(image.mandator_id, {})[image.user_key] = bank
            tables._count(bank, 1)
        return tables

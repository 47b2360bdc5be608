"""Access v2 bank data, read side (WEBFORM.md §5.1-§5.4, §6.2): banks, a user's bank connections, accounts and
transactions; deleting connections; the refused direct import.

Query parameters (finAPI's Spring rules as far as documented, the rest decided):
- Absent and empty parameters are the same; a repeated scalar counts once (the first); list parameters take repeats
  (`ids=1&ids=2`) and comma-separated values (`ids=1,2`, decided) alike, at most MAX_IDS values (else 400
  `TOO_MANY_IDS`, decided); unknown parameters are ignored.
- Anything that does not parse (an integer, a `YYYY-MM-DD` date, an amount with more than two decimals, a boolean
  as Spring reads one: true/false, on/off, yes/no, 1/0 in any case, an enum value, an `order`) is 400 `BAD_REQUEST`;
  `perPage` outside 1-500 is 400 `ILLEGAL_PAGE_SIZE`, `page` below 1 400 `BAD_REQUEST` (decided); a `location` that
  is no ISO 3166 alpha-2 code (any case) is 400 `BAD_REQUEST` (documented).
- A min bound above its max selects nothing (200, decided). Dates are days in finAPI's time zone (+01:00), bounds
  inclusive.
- `order` on banks and transactions: repeatable `property[,asc|desc]`, the first the most significant; ties end in
  `id` ascending. Banks compare text case-insensitively, a missing value after every present one ascending (before
  them descending) (decided).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import NamedTuple, NoReturn

from mock_finapi import errors
from mock_finapi.clock import FINAPI_TZ, parse_day
from mock_finapi.services.banks import BankCatalog
from mock_finapi.services.mandator_admin import BOOLEANS
from mock_finapi.state.banking import (
    ORDERABLE,
    Account,
    AccountQuery,
    Bank,
    Connection,
    Direction,
    Transaction,
    TransactionPage,
    TransactionQuery,
)
from mock_finapi.state.models import User
from mock_finapi.state.protocol import Store

MAX_IDS = 1000
"""Values one id filter takes (WEBFORM.md §5)."""
PER_PAGE_DEFAULT = 20
PER_PAGE_MAX = 500
INT64_MAX = 2**63 - 1
INTERFACES = ("WEB_SCRAPER", "FINTS_SERVER", "XS2A")
ACCOUNT_TYPES = ("Checking", "Savings", "CreditCard", "Security", "Loan", "Membership", "Bausparen")
VIEWS = ("bankView", "userView")
DIRECTIONS: dict[str, Direction] = {"all": "all", "income": "income", "spending": "spending"}
BANK_ORDERABLE = ("id", "name", "blz", "bic", "popularity")
_ISO_3166 = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
    CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
    GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO
    JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR
    MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO
    RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV
    TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"""
ISO_COUNTRIES = frozenset(_ISO_3166.split())
"""ISO 3166-1 alpha-2: the 249 officially assigned codes."""
_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")
_AMOUNT = re.compile(r"([+-]?)([0-9]{1,13})(?:\.([0-9]*))?")


class BankQuery(NamedTuple):
    """`GET /api/v2/banks` (WEBFORM.md §5.4), parsed; every given filter must hold."""

    ids: tuple[int, ...] | None = None
    search: str = ""
    """Whitespace-separated terms, each a part of the name, BLZ, BIC or city, or an IBAN of the bank
    (`BankCatalog.find`)."""
    interfaces: tuple[str, ...] | None = None
    locations: tuple[str, ...] | None = None
    tpp_group_ids: tuple[int, ...] | None = None
    is_test_bank: bool | None = None
    order: tuple[tuple[str, bool], ...] = (("id", True),)
    page: int = 1
    per_page: int = PER_PAGE_DEFAULT


# ---------------------------------------------------------------------------------------------------- parameters


class Params:
    """A query's (name, value) pairs: scalars (the first value counts) and lists (repeats and commas)."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.values: dict[str, list[str]] = {}
        for name, value in pairs:
            if value != "":
                self.values.setdefault(name, []).append(value)

    def one(self, name: str) -> str | None:
        values = self.values.get(name)
        return None if values is None else values[0]

    def many(self, name: str) -> list[str] | None:
        values = self.values.get(name)
        if values is None:
            return None
        return [part.strip() for value in values for part in value.split(",") if part.strip()]

    def ids(self, name: str) -> tuple[int, ...] | None:
        values = self.many(name)
        if values is None:
            return None
        if len(values) > MAX_IDS:
            raise errors.TooManyIds(errors.MSG_TOO_MANY_FILTER_IDS.format(name=name, limit=MAX_IDS))
        if not all(_INTEGER.fullmatch(value) and abs(int(value)) <= INT64_MAX for value in values):
            raise errors.BadRequest(errors.MSG_QUERY_INTEGERS.format(name=name))
        return tuple(int(value) for value in values)

    def choices(self, name: str, allowed: Sequence[str]) -> tuple[str, ...] | None:
        values = self.many(name)
        if values is not None and not set(values) <= set(allowed):
            raise errors.BadRequest(errors.MSG_QUERY_ENUM.format(name=name, allowed=", ".join(allowed)))
        return None if values is None else tuple(values)

    def choice(self, name: str, allowed: Sequence[str]) -> str | None:
        value = self.one(name)
        if value is not None and value not in allowed:
            raise errors.BadRequest(errors.MSG_QUERY_ENUM.format(name=name, allowed=", ".join(allowed)))
        return value

    def terms(self, name: str) -> tuple[str, ...]:
        value = self.one(name)
        return () if value is None else tuple(value.lower().split())

    def boolean(self, name: str) -> bool | None:
        value = self.one(name)
        if value is None:
            return None
        flag = BOOLEANS.get(value.lower())
        if flag is None:
            raise errors.BadRequest(errors.MSG_QUERY_BOOLEAN.format(name=name))
        return flag

    def day(self, name: str) -> date | None:
        value = self.one(name)
        if value is None:
            return None
        try:
            return parse_day(value)
        except ValueError:
            raise errors.BadRequest(errors.MSG_QUERY_DATE.format(name=name)) from None

    def date_text(self, name: str) -> str | None:
        day = self.day(name)
        return None if day is None else day.isoformat()

    def cents(self, name: str) -> int | None:
        """An amount: at most two decimals, as cents."""
        value = self.one(name)
        if value is None:
            return None
        match = _AMOUNT.fullmatch(value)
        if match is None or len(match[3] or "") > 2:
            raise errors.BadRequest(errors.MSG_QUERY_AMOUNT.format(name=name))
        sign, whole, decimals = match.groups()
        cents = int(whole) * 100 + int((decimals or "").ljust(2, "0"))
        return -cents if sign == "-" else cents

    def paging(self) -> tuple[int, int]:
        page, per_page = self._integer("page", 1), self._integer("perPage", PER_PAGE_DEFAULT)
        if page < 1:
            raise errors.BadRequest(errors.MSG_QUERY_PAGE)
        if not 1 <= per_page <= PER_PAGE_MAX:
            raise errors.IllegalPageSize(errors.MSG_PAGE_SIZE.format(limit=PER_PAGE_MAX))
        return page, per_page

    def _integer(self, name: str, default: int) -> int:
        value = self.one(name)
        if value is None:
            return default
        if not _INTEGER.fullmatch(value) or abs(int(value)) > 2**31 - 1:
            raise errors.BadRequest(errors.MSG_QUERY_INTEGER.format(name=name))
        return int(value)

    def order(self, allowed: Sequence[str]) -> tuple[tuple[str, bool], ...]:
        """`property[,asc|desc]` per value, by priority; default `id,asc`."""
        orders = []
        for value in self.values.get("order", ()):
            prop, _, direction = value.partition(",")
            direction = direction.strip().lower()
            if prop.strip() not in allowed or direction not in ("", "asc", "desc"):
                raise errors.BadRequest(errors.MSG_QUERY_ORDER.format(allowed=", ".join(allowed)))
            orders.append((prop.strip(), direction != "desc"))
        return tuple(orders) or (("id", True),)


def _start(day: date | None) -> float | None:
    """The first instant of `day` in finAPI's time zone."""
    return None if day is None else datetime(day.year, day.month, day.day, tzinfo=FINAPI_TZ).timestamp()


def _after(day: date | None) -> float | None:
    """The first instant after `day` (after 9999-12-31: no bound)."""
    return None if day is None or day == date.max else _start(day + timedelta(days=1))


def parse_bank_query(pairs: Iterable[tuple[str, str]]) -> BankQuery:
    params = Params(pairs)
    locations = params.many("location")
    if locations is not None:
        locations = [code.upper() for code in locations]
        if not set(locations) <= ISO_COUNTRIES:
            raise errors.BadRequest(errors.MSG_QUERY_LOCATION)
    page, per_page = params.paging()
    return BankQuery(
        ids=params.ids("ids"),
        search=params.one("search") or "",
        interfaces=params.choices("supportedBankingInterfaces", INTERFACES),
        locations=None if locations is None else tuple(locations),
        tpp_group_ids=params.ids("tppAuthenticationGroupIds"),
        is_test_bank=params.boolean("isTestBank"),
        order=params.order(BANK_ORDERABLE),
        page=page,
        per_page=per_page,
    )


def parse_account_query(pairs: Iterable[tuple[str, str]]) -> AccountQuery:
    params = Params(pairs)
    return AccountQuery(
        ids=params.ids("ids"),
        search=params.terms("search"),
        account_types=params.choices("accountTypes", ACCOUNT_TYPES),
        connection_ids=params.ids("bankConnectionIds"),
        min_last_successful_update=_start(params.day("minLastSuccessfulUpdate")),
        max_last_successful_update=_after(params.day("maxLastSuccessfulUpdate")),
        min_balance=params.cents("minBalance"),
        max_balance=params.cents("maxBalance"),
    )


def parse_transaction_query(pairs: Iterable[tuple[str, str]]) -> TransactionQuery:
    params = Params(pairs)
    view = params.choice("view", VIEWS)
    if view is None:
        raise errors.BadRequest(errors.MSG_QUERY_ENUM.format(name="view", allowed=", ".join(VIEWS)))
    direction = params.choice("direction", tuple(DIRECTIONS))
    include_children = params.boolean("includeChildCategories")
    page, per_page = params.paging()
    return TransactionQuery(
        view=view,
        ids=params.ids("ids"),
        account_ids=params.ids("accountIds"),
        label_ids=params.ids("labelIds"),
        category_ids=params.ids("categoryIds"),
        include_child_categories=True if include_children is None else include_children,
        search=params.terms("search"),
        counterpart=params.terms("counterpart"),
        purpose=params.terms("purpose"),
        min_bank_booking_date=params.date_text("minBankBookingDate"),
        max_bank_booking_date=params.date_text("maxBankBookingDate"),
        min_finapi_booking_date=params.date_text("minFinapiBookingDate"),
        max_finapi_booking_date=params.date_text("maxFinapiBookingDate"),
        min_import_date=_start(params.day("minImportDate")),
        max_import_date=_after(params.day("maxImportDate")),
        min_amount=params.cents("minAmount"),
        max_amount=params.cents("maxAmount"),
        direction=DIRECTIONS[direction or "all"],
        is_new=params.boolean("isNew"),
        is_potential_duplicate=params.boolean("isPotentialDuplicate"),
        is_adjusting_entry=params.boolean("isAdjustingEntry"),
        order=params.order(ORDERABLE),
        page=page,
        per_page=per_page,
    )


def path_id(value: str) -> int:
    """A path's entity id: an int64, else 400."""
    if not _INTEGER.fullmatch(value) or abs(int(value)) > INT64_MAX:
        raise errors.BadRequest(errors.MSG_PATH_ID)
    return int(value)


# ---------------------------------------------------------------------------------------------------- banks


def _bank_matches(bank: Bank, query: BankQuery) -> bool:
    if query.ids is not None and bank.id not in query.ids:
        return False
    if query.is_test_bank is not None and bank.is_test_bank != query.is_test_bank:
        return False
    if query.interfaces is not None and not any(i.banking_interface in query.interfaces for i in bank.interfaces):
        return False
    if query.locations is not None and bank.location is not None and bank.location not in query.locations:
        return False
    return query.tpp_group_ids is None  # no interface of the emulator's banks has a TPP authentication group


def _sorted_banks(banks: list[Bank], order: Sequence[tuple[str, bool]]) -> list[Bank]:
    banks.sort(key=_bank_id)
    for prop, ascending in reversed(order):  # stable sorts, the least significant first
        if prop in ("id", "popularity"):
            banks.sort(key=lambda bank: getattr(bank, prop), reverse=not ascending)
            continue
        present = [bank for bank in banks if getattr(bank, prop) is not None]
        missing = [bank for bank in banks if getattr(bank, prop) is None]
        present.sort(key=lambda bank: str(getattr(bank, prop)).casefold(), reverse=not ascending)
        banks = present + missing if ascending else missing + present
    return banks


def _bank_id(bank: Bank) -> int:
    return bank.id


# ---------------------------------------------------------------------------------------------------- the service


class ConnectionView(NamedTuple):
    connection: Connection
    bank: Bank


class BankDataService:
    """A user's bank data over the store, with the world's bank catalog."""

    def __init__(self, store: Store, banks: BankCatalog) -> None:
        self.store, self.catalog = store, banks

    def banks(self, query: BankQuery) -> tuple[list[Bank], int]:
        """The page of the catalog's banks the query selects, in its order, and how many it selects."""
        found = self.catalog.find(query.search)
        selected = _sorted_banks([bank for bank in found if _bank_matches(bank, query)], query.order)
        start = (query.page - 1) * query.per_page
        return selected[start : start + query.per_page], len(selected)

    def bank(self, bank_id: int) -> Bank:
        bank = self.catalog.get(bank_id)
        if bank is None:
            raise errors.UnknownEntity(errors.MSG_UNKNOWN_BANK.format(id=bank_id))
        return bank

    def _view(self, connection: Connection) -> ConnectionView:
        return ConnectionView(connection, self.bank(connection.bank_id))

    async def connections(self, user: User, ids: tuple[int, ...] | None, now: float) -> list[ConnectionView]:
        found = await self.store.connections(user.mandator_id, user.id, ids, now)
        return [self._view(connection) for connection in found]

    async def connection(self, user: User, connection_id: int, now: float) -> ConnectionView:
        found = await self.store.connection(user.mandator_id, user.id, connection_id, now)
        if found is None:
            raise errors.UnknownEntity(errors.MSG_UNKNOWN_CONNECTION.format(id=connection_id))
        return self._view(found)

    async def delete_connection(self, user: User, connection_id: int, now: float) -> None:
        """Deletes it with its accounts and transactions; 404 unknown, 423 while an import or update runs."""
        outcome, _ = await self.store.delete_connections(user.mandator_id, user.id, [connection_id], now)
        if outcome == "unknown":
            raise errors.UnknownEntity(errors.MSG_UNKNOWN_CONNECTION.format(id=connection_id))
        if outcome == "locked":
            raise errors.Locked(errors.MSG_CONNECTION_LOCKED.format(id=connection_id))

    async def delete_all_connections(self, user: User, now: float) -> list[int]:
        """The ids deleted, ascending; 423 and nothing deleted when one is busy."""
        outcome, deleted = await self.store.delete_connections(user.mandator_id, user.id, None, now)
        if outcome == "locked":
            raise errors.Locked(errors.MSG_CONNECTIONS_LOCKED)
        return deleted

    async def accounts(self, user: User, query: AccountQuery, now: float) -> list[Account]:
        return await self.store.accounts(user.mandator_id, user.id, query, now)

    async def account(self, user: User, account_id: int, now: float) -> Account:
        found = await self.store.account(user.mandator_id, user.id, account_id, now)
        if found is None:
            raise errors.UnknownEntity(errors.MSG_UNKNOWN_ACCOUNT.format(id=account_id))
        return found

    async def transactions(self, user: User, query: TransactionQuery, now: float) -> TransactionPage:
        return await self.store.transactions(user.mandator_id, user.id, query, now)

    async def transaction(self, user: User, transaction_id: int, now: float) -> Transaction:
        found = await self.store.transaction(user.mandator_id, user.id, transaction_id, now)
        if found is None:
            raise errors.UnknownEntity(errors.MSG_UNKNOWN_TRANSACTION.format(id=transaction_id))
        return found


def refuse_direct_import() -> NoReturn:
    """`POST /api/v2/bankConnections/import`, `/update`, `/connectInterface`: this emulator's mandators are all Web
    Form 2.0 mandators, for which finAPI refuses them (WEBFORM.md §5.1; decided)."""
    raise errors.IllegalEntityState(errors.MSG_WEB_FORM_MANDATOR)

"""Generated bank data: a connection with its accounts and transactions, from the seeded source.

Pure functions: a scenario's connection spec (or a test bank, for a web-form import) and where to draw from (the
seed's `Randomness` and a position of the `banks` stream) in, records out (ids 0: the store numbers them). Each
connection draws from a `random.Random` of its own (`Randomness.generator(STREAM, position)`), so the same seed and
position give the same data; a de_DE Faker of the seed only fills small pools of names once (it is far too slow per
transaction), and transactions share their strings (dates, counterparts, a purpose per payee and day).

What finAPI does not publish is decided here **(decided)**:
- The test banks' accounts: `Girokonto` and `Haushaltskonto` (Checking, overdraft limit 1,000 EUR) and `Tagesgeld`
  (Savings), with 60, 40 and 25 transactions over the last 90 days.
- IBANs are German with valid check digits and carry the bank's code (`banks.bank_code`); the account number is the
  IBAN's last 10 digits; counterparts bank with real German banks (BLZ, BIC, name).
- Booking dates lie in the 90 days up to `now` (today included) for up to 450 transactions per account; more spread
  over `count / 5` days, at most 3,650. The value date is the booking date (a card payment's may be the day before);
  finAPI's booking date is the bank's; the import date is the import (`now`).
- The connection's first checking account gets the salary (`LOHN/GEHALT MM/YY`) and the rent (standing order)
  monthly; checking accounts get at random card payments, direct debits, transfers out and in. A savings account
  (and every other type but CreditCard) gets savings transfers in and out and interest at quarter ends; a CreditCard
  account card payments and refunds.
- An account's first transaction is a transfer of the holder's own money ("Umbuchung") large enough that the account
  is never overdrawn (a CreditCard account has none: its balance goes negative); the balance is the sum of the
  transactions unless the scenario gives one. Available funds are the balance plus the overdraft limit (at least 0).
- A connection's stored login is the bank's first test login (demo/demo), else the user's id with PIN 12345; its
  consent (XS2A) expires 90 days after `now`; a failed last update ran at `now`, the import a day before.
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from collections.abc import Callable, Collection, Sequence
from datetime import date, timedelta
from typing import Any, NamedTuple

from mock_finapi.clock import to_datetime
from mock_finapi.randomness import Randomness
from mock_finapi.scenarios.schema import AccountSpec, ConnectionSpec, TransactionSpec
from mock_finapi.services.banks import GERMAN_IBAN, bank_code, german_iban, iban_check_digits
from mock_finapi.state.banking import (
    Account,
    AccountInterface,
    Bank,
    Connection,
    ConnectionInterface,
    NewAccount,
    Owner,
    Transaction,
    UpdateResult,
)

STREAM = "banks"
"""The seeded stream of bank data: one position per connection made."""
WINDOW_DAYS = 90
PER_DAY = 5
"""Transactions per day beyond which an account's transactions spread over more than WINDOW_DAYS."""
MAX_SPAN_DAYS = 3650
CONSENT_SECONDS = 90 * 86_400
DEFAULT_TRANSACTIONS = 30
"""Transactions generated for a scenario's account that does not say."""
TEST_BANK_ACCOUNTS = (("Checking", "Girokonto", 60), ("Checking", "Haushaltskonto", 40), ("Savings", "Tagesgeld", 25))
"""(type, name, transactions) of a test bank's accounts, in order."""
TEST_BANK_OVERDRAFT = 100_000
"""Cents: the overdraft limit of a test bank's checking accounts."""
SCENARIO_PIN = "12345"
ACCOUNT_NAMES = {
    "Checking": "Girokonto",
    "Savings": "Tagesgeld",
    "CreditCard": "Kreditkarte",
    "Security": "Depot",
    "Loan": "Darlehen",
    "Membership": "Geschäftsanteile",
    "Bausparen": "Bausparvertrag",
}
CHECKING_CAPABILITIES = ("DATA_DOWNLOAD", "IBAN_ONLY_SEPA_MONEY_TRANSFER", "SEPA_MONEY_TRANSFER")
TYPE_CODES = {
    "Lastschrift": ("105", "NDDT"),
    "Kartenzahlung": ("106", "NMSC"),
    "Überweisung": ("116", "NTRF"),
    "Dauerauftrag": ("117", "NSTO"),
    "Gutschrift": ("166", "NTRF"),
    "Lohn/Gehalt": ("153", "NTRF"),
    "Abschluss": ("805", "NMSC"),
}
"""A transaction type's ZKA business transaction code and SWIFT code (explicit transactions of these types get them)."""

COUNTERPART_BANKS = (
    ("10010010", "PBNKDEFFXXX", "Postbank Ndl der Deutsche Bank"),
    ("10050000", "BELADEBEXXX", "Landesbank Berlin - Berliner Sparkasse"),
    ("10011001", "NTSBDEB1XXX", "N26 Bank"),
    ("12030000", "BYLADEM1001", "Deutsche Kreditbank Berlin"),
    ("20050550", "HASPDEHHXXX", "Hamburger Sparkasse"),
    ("37040044", "COBADEFFXXX", "Commerzbank"),
    ("43060967", "GENODEM1GLS", "GLS Gemeinschaftsbank"),
    ("50010517", "INGDDEFFXXX", "ING-DiBa"),
    ("50070010", "DEUTDEFFXXX", "Deutsche Bank"),
    ("70150000", "SSKMDEMMXXX", "Stadtsparkasse München"),
)
"""(BLZ, BIC, name) of the banks counterparts have their accounts at."""
CARD_MERCHANTS = (
    ("REWE Markt GmbH", "REWE SAGT DANKE", 500, 12_000),
    ("EDEKA Handelsgesellschaft", "EDEKA", 300, 9_000),
    ("ALDI SUED", "ALDI SUED", 300, 8_000),
    ("Lidl Dienstleistung GmbH & Co. KG", "LIDL SAGT DANKE", 300, 8_000),
    ("dm-drogerie markt GmbH + Co. KG", "DM-DROGERIE", 200, 5_000),
    ("Dirk Rossmann GmbH", "ROSSMANN", 200, 4_000),
    ("Aral AG", "ARAL STATION", 2_000, 9_000),
    ("IKEA Deutschland GmbH & Co. KG", "IKEA", 1_000, 30_000),
    ("DB Fernverkehr AG", "DB AUTOMAT", 500, 15_000),
)
"""(name, text on the card slip, lowest and highest amount in cents)."""
DEBIT_CREDITORS = (
    ("Telekom Deutschland GmbH", "Rechnung {compact} Kundennr. {ref}", 2_999, 8_999),
    ("Vodafone GmbH", "Kundennummer {ref} Rechnung {month}", 1_999, 6_999),
    ("Allianz Versicherungs-AG", "Beitrag {month} Vers.-Nr. {ref}", 2_500, 15_000),
    ("E.ON Energie Deutschland GmbH", "Abschlag {month} Vertragskonto {ref}", 4_000, 18_000),
    ("Netflix International B.V.", "Netflix Abo {month} {ref}", 799, 1_799),
    ("Spotify AB", "Spotify Premium {month} {ref}", 999, 1_799),
    ("Amazon Payments Europe S.C.A.", "Bestellung {ref}-{compact}", 500, 15_000),
)
"""(creditor, the purpose's pattern, lowest and highest amount in cents)."""
TRANSFER_OUT = ("Geschenk", "Anteil Urlaub", "Miete Garage", "Essen gestern", "Konzertkarten", "Rueckzahlung")
TRANSFER_IN = ("Rueckzahlung", "Anteil Nebenkosten", "Geburtstag", "Kino", "Verkauf Fahrrad", "Erstattung")

# A generated transaction is the head below plus a suffix (purpose, counterpart, type, flags) that transactions of
# one payee on one day share.
_HEAD = ("id", "account_id", "value_date", "bank_booking_date", "finapi_booking_date", "amount", "import_date")
_SUFFIX = (
    "currency",
    "purpose",
    "counterpart_name",
    "counterpart_account_number",
    "counterpart_iban",
    "counterpart_blz",
    "counterpart_bic",
    "counterpart_bank_name",
    "counterpart_mandate_reference",
    "counterpart_customer_reference",
    "counterpart_creditor_id",
    "counterpart_debitor_id",
    "type",
    "type_code_zka",
    "type_code_swift",
    "sepa_purpose_code",
    "end_to_end_reference",
)
assert Transaction._fields[: len(_HEAD) + len(_SUFFIX)] == _HEAD + _SUFFIX, "bankgen builds transactions by position"
_DEFAULTS = Transaction(0, 0, "", "", "", 0, 0.0)[len(_HEAD) + len(_SUFFIX) :]
"""The fields after `_SUFFIX`, at their defaults."""
_PURPOSE = _SUFFIX.index("purpose")
_REFERENCE = _SUFFIX.index("end_to_end_reference")
_new: Callable[..., Transaction] = tuple.__new__
Counterpart = tuple[str, str, str | None, str | None]
"""(name, IBAN, BIC, bank name)."""


class Pools(NamedTuple):
    """Names the seed's Faker made once: generation picks from them."""

    people: tuple[tuple[str, str], ...]
    """(first name, last name)."""
    companies: tuple[str, ...]
    cities: tuple[str, ...]
    streets: tuple[str, ...]
    creditors: tuple[tuple[str, Counterpart], ...]
    """(SEPA creditor id, account) of each DEBIT_CREDITORS entry."""
    merchants: tuple[Counterpart, ...]
    """The account of each CARD_MERCHANTS entry."""


def pools(randomness: Randomness) -> Pools:
    return _pools(randomness.seed)


@functools.lru_cache(maxsize=4)
def _pools(seed: int) -> Pools:
    source = Randomness(seed)
    fake = source.faker(STREAM)
    rng = source.generator(STREAM + "-pools", 0)
    people = tuple((fake.first_name(), fake.last_name()) for _ in range(300))
    companies = tuple(fake.company() for _ in range(60))
    cities = tuple(fake.city() for _ in range(60))
    streets = tuple(fake.street_name() for _ in range(100))
    creditors = tuple((_creditor_id(rng.randrange(10**10)), (name, *_iban(rng))) for name, *_ in DEBIT_CREDITORS)
    merchants = tuple((name, *_iban(rng)) for name, *_ in CARD_MERCHANTS)
    return Pools(people, companies, cities, streets, creditors, merchants)


def _creditor_id(number: int) -> str:
    """A German SEPA creditor id (`DEkkZZZ0` and 10 digits; the check digits skip the business code ZZZ)."""
    national = f"0{number:010d}"
    return f"DE{iban_check_digits('DE', national)}ZZZ{national}"


def _iban(rng: random.Random) -> tuple[str, str | None, str | None]:
    """(IBAN, BIC, bank name) of an account at one of COUNTERPART_BANKS."""
    blz, bic, name = rng.choice(COUNTERPART_BANKS)
    return german_iban(blz, rng.randrange(10**9, 10**10)), bic, name


# ---------------------------------------------------------------------------------------------------- connections


def connection(
    spec: ConnectionSpec,
    bank: Bank,
    randomness: Randomness,
    position: int,
    now: float,
    mandator_id: str,
    user_key: str,
) -> tuple[Connection, list[NewAccount]]:
    """A scenario's connection of `user_key` at `bank` as it stands at `now` (the scenario's start), its generated
    parts drawn at `position` of STREAM."""
    return _Builder(bank, randomness, position, now, user_key).build(spec, mandator_id, None)


def imported_connection(
    bank: Bank,
    randomness: Randomness,
    position: int,
    now: float,
    mandator_id: str,
    user_key: str,
    account_types: Collection[str] | None = None,
    load_owner_data: bool = False,
) -> tuple[Connection, list[NewAccount]]:
    """A connection of the test banks' shape (2 Checking + 1 Savings, generated) on the bank's first interface,
    imported at `now`; `account_types` (Access names) keeps only accounts of those types; `load_owner_data` fills
    its `owners`."""
    spec = ConnectionSpec(bank.id, bank.interfaces[0].banking_interface, load_owner_data=load_owner_data)
    return _Builder(bank, randomness, position, now, user_key).build(spec, mandator_id, account_types)


class _Payee(NamedTuple):
    """Whom an account pays or is paid by: an amount range and the suffix of its transactions, or a pattern making
    one per day."""

    low: int
    """Cents (negative: spending); an amount is `low + int(r * span)` for r in [0, 1)."""
    span: int
    suffix: tuple[Any, ...]
    """Transaction fields from `currency` on (unused when `make` makes them per day)."""
    make: Callable[[int], tuple[Any, ...]] | None = None
    card: bool = False
    """A card payment: its value date may be the day before."""


class _Calendar:
    """The days of a span up to `today` as strings, shared by all transactions on them (index 0: the first day)."""

    def __init__(self, today: date, days: int) -> None:
        first = today - timedelta(days=days)  # one day before the span: a card payment's value date
        dates = [first + timedelta(days=i) for i in range(days + 1)]
        self.iso = [d.isoformat() for d in dates[1:]]
        self.before = [d.isoformat() for d in dates[:-1]]
        """The day before each day."""
        self.dates = dates[1:]
        self.on_day: dict[int, list[int]] = {}
        """The days (indexes) on each day of the month."""
        for index, when in enumerate(self.dates):
            self.on_day.setdefault(when.day, []).append(index)
        self.quarter_ends = [
            index
            for index, when in enumerate(self.dates)
            if when.month % 3 == 0 and when.day == 30 + (when.month in (3, 12))
        ]

    def german(self, day: int) -> str:
        iso = self.iso[day]
        return f"{iso[8:]}.{iso[5:7]}.{iso[:4]}"

    def month(self, day: int) -> str:
        iso = self.iso[day]
        return f"{iso[5:7]}/{iso[:4]}"

    def compact(self, day: int) -> str:
        iso = self.iso[day]
        return f"{iso[:4]}-{iso[5:7]}{iso[8:]}"


@functools.lru_cache(maxsize=16)
def _calendar(today: date, days: int) -> _Calendar:
    """Accounts of one import share their calendar (and so their date strings)."""
    return _Calendar(today, days)


class _Builder:
    """One connection's generation: its rng, its holder and counterparts."""

    def __init__(self, bank: Bank, randomness: Randomness, position: int, now: float, user_key: str) -> None:
        self.bank, self.now, self.user_key = bank, now, user_key
        self.rng = randomness.generator(STREAM, position)
        self.pools = pools(randomness)
        self.today = to_datetime(now).date()
        rng, names = self.rng, self.pools
        self.holder = rng.choice(names.people)
        self.city = rng.choice(names.cities)
        self.street = f"{rng.choice(names.streets)} {rng.randrange(1, 120)}"
        self.friends = [(f"{first} {last}", *_iban(rng)) for first, last in rng.sample(names.people, 8)]
        self.employer = (rng.choice(names.companies), *_iban(rng))
        landlord = rng.choice(names.people)
        self.landlord = (f"Hausverwaltung {landlord[1]} GmbH", *_iban(rng))
        self.own: Counterpart = (self.holder_name, *_iban(rng))
        """The holder's account elsewhere: opening transfers come from it."""
        self.salary = rng.randrange(2_200, 4_800) * 100
        self.rent = rng.randrange(550, 1_600) * 100
        self.salary_day = rng.randrange(25, 29)
        self.rent_day = rng.randrange(1, 4)
        self.mandates = [f"{rng.randrange(10**6, 10**7)}" for _ in DEBIT_CREDITORS]
        self.checking: Counterpart | None = None
        """The connection's first checking account: savings transfers come from it."""
        self.salaried = False
        """Whether an account got the salary and the rent (the connection's first generated checking account)."""
        self.mixes: dict[tuple[str, int, str], tuple[list[_Payee], list[float]]] = {}

    @property
    def holder_name(self) -> str:
        return f"{self.holder[0]} {self.holder[1]}"

    def build(
        self, spec: ConnectionSpec, mandator_id: str, account_types: Collection[str] | None
    ) -> tuple[Connection, list[NewAccount]]:
        failed = spec.last_update.result != "OK"
        imported_at = self.now - 86_400 if failed else self.now
        interface = spec.interface
        if spec.accounts is None:
            accounts = [
                self.generated(
                    kind, name, count, interface, imported_at, TEST_BANK_OVERDRAFT if kind == "Checking" else None
                )
                for kind, name, count in TEST_BANK_ACCOUNTS
            ]
        else:
            accounts = [self.account(account, interface, imported_at) for account in spec.accounts]
        if account_types is not None:
            accounts = [new for new in accounts if new.account.account_type in account_types]
        error_type = {"OK": None, "BANK_SERVER_REJECTION": "BUSINESS"}.get(spec.last_update.result, "TECHNICAL")
        update = UpdateResult(spec.last_update.result, self.now, spec.last_update.error_message, error_type)
        consent = None
        if interface == "XS2A":
            consent = spec.consent_expires_at.timestamp() if spec.consent_expires_at else self.now + CONSENT_SECONDS
        login = self.bank.logins[0] if self.bank.logins else (self.user_key, SCENARIO_PIN)
        ready_at = self.now + spec.updating_for
        made = Connection(
            0,
            mandator_id,
            self.user_key,
            self.bank.id,
            spec.name,
            (ConnectionInterface(interface, (("Onlinebanking-ID", login[0]), ("PIN", login[1])), consent, update),),
            (),
            (Owner(self.holder[0], self.holder[1], city=self.city, country="DE"),) if spec.load_owner_data else None,
            imported_at,
            ready_at,
            ready_at,
        )
        return made, accounts

    # accounts

    def new_iban(self) -> str:
        return german_iban(bank_code(self.bank), self.rng.randrange(10**9, 10**10))

    def note_checking(self, kind: str, iban: str) -> None:
        if kind == "Checking" and self.checking is None:
            self.checking = (self.holder_name, iban, self.bank.bic, self.bank.name)

    def account_record(
        self,
        kind: str,
        name: str | None,
        iban: str,
        currency: str,
        balance: int,
        overdraft_limit: int | None,
        interface: str,
        imported_at: float,
    ) -> Account:
        capabilities = CHECKING_CAPABILITIES if kind == "Checking" else ("DATA_DOWNLOAD",)
        state = AccountInterface(interface, "UPDATED", capabilities, imported_at, self.now)
        overdrawn = max(0, -balance)
        return Account(
            0,
            0,
            iban[-10:],
            kind,
            (state,),
            iban=iban,
            name=name,
            holder_name=self.holder_name,
            currency=currency,
            balance=balance,
            overdraft=overdrawn if overdraft_limit is not None or overdrawn else None,
            overdraft_limit=overdraft_limit,
            available_funds=max(0, balance + (overdraft_limit or 0)),
        )

    def generated(
        self, kind: str, name: str, count: int, interface: str, imported_at: float, overdraft_limit: int | None
    ) -> NewAccount:
        iban = self.new_iban()
        self.note_checking(kind, iban)
        transactions = self.transactions(kind, count, "EUR", imported_at)
        balance = sum(t.amount for t in transactions)
        return NewAccount(
            self.account_record(kind, name, iban, "EUR", balance, overdraft_limit, interface, imported_at),
            tuple(transactions),
        )

    def account(self, spec: AccountSpec, interface: str, imported_at: float) -> NewAccount:
        iban = spec.iban or self.new_iban()
        self.note_checking(spec.type, iban)
        if isinstance(spec.transactions, int):
            transactions = self.transactions(spec.type, spec.transactions, spec.currency, imported_at)
        else:
            transactions = [self.explicit(t, spec.currency, imported_at) for t in spec.transactions]
        balance = spec.balance if spec.balance is not None else sum(t.amount for t in transactions)
        name = spec.name or ACCOUNT_NAMES[spec.type]
        record = self.account_record(
            spec.type, name, iban, spec.currency, balance, spec.overdraft_limit, interface, imported_at
        )
        return NewAccount(record, tuple(transactions))

    def explicit(self, spec: TransactionSpec, currency: str, imported_at: float) -> Transaction:
        booking = spec.booking_date or self.today.isoformat()
        iban = spec.counterpart_iban
        german = iban is not None and GERMAN_IBAN.fullmatch(iban) is not None
        codes = TYPE_CODES.get(spec.type or "", (None, None))
        return Transaction(
            0,
            0,
            spec.value_date or booking,
            booking,
            booking,
            spec.amount,
            imported_at,
            currency,
            spec.purpose,
            spec.counterpart_name,
            iban[12:] if iban and german else None,
            iban,
            iban[4:12] if iban and german else None,
            spec.counterpart_bic,
            type=spec.type,
            type_code_zka=codes[0],
            type_code_swift=codes[1],
        )

    # transactions

    def transactions(self, kind: str, count: int, currency: str, imported_at: float) -> list[Transaction]:
        """`count` transactions of an account of `kind` over its span, oldest first."""
        if count == 0:
            return []
        days = WINDOW_DAYS if count <= WINDOW_DAYS * PER_DAY else min(MAX_SPAN_DAYS, math.ceil(count / PER_DAY))
        calendar = _calendar(self.today, days)
        opening = kind != "CreditCard"
        payees, weights = self.mix(kind, calendar, currency)
        recurring: list[tuple[int, _Payee]] = []
        if kind == "Checking" and not self.salaried:
            recurring, self.salaried = self.checking_recurring(calendar, currency), True
        elif kind not in ("Checking", "CreditCard"):
            recurring = self.interest(calendar, currency)
        if len(recurring) * 3 > count:  # few transactions: at random only
            recurring = []
        rng = self.rng
        random_count = count - len(recurring) - (1 if opening else 0)
        picked = rng.choices(payees, cum_weights=weights, k=random_count)
        booked = sorted(rng.choices(range(days), k=random_count))
        made: list[Transaction] = []
        append, draw, iso, before = made.append, rng.random, calendar.iso, calendar.before

        def book(day: int, payee: _Payee) -> None:
            low, span, suffix, make, card = payee
            r = draw()
            booked_on = iso[day]
            value = before[day] if card and r * 1000 % 1 < 0.3 else booked_on
            if make is not None:
                suffix = make(day)
            append(_new(Transaction, (0, 0, value, booked_on, booked_on, low + int(r * span), imported_at, *suffix)))

        # the random transactions by day, a day's recurring ones after them (nothing per transaction is kept but it)
        pending = iter(recurring)
        due, payee = next(pending, (days, None))
        for day, picked_payee in zip(booked, picked, strict=True):
            while due < day and payee is not None:
                book(due, payee)
                due, payee = next(pending, (days, None))
            book(day, picked_payee)
        while payee is not None:
            book(due, payee)
            due, payee = next(pending, (days, None))
        if opening:
            made.insert(0, self.opening(made, calendar, currency, imported_at))
        return made

    def opening(
        self, made: Sequence[Transaction], calendar: _Calendar, currency: str, imported_at: float
    ) -> Transaction:
        """The account's first transaction: the holder's own money, enough that the balance never goes negative."""
        lowest = min(itertools.accumulate((t.amount for t in made), initial=0))
        amount = -lowest + self.rng.randrange(200, 3_000) * 100
        first = calendar.iso[0]
        suffix = self.suffix(currency, "SVWZ+Umbuchung", self.own, "Gutschrift")
        return _new(Transaction, (0, 0, first, first, first, amount, imported_at, *suffix))

    def suffix(
        self,
        currency: str,
        purpose: str,
        counterpart: Counterpart | None,
        kind: str,
        *,
        mandate: str | None = None,
        creditor_id: str | None = None,
        sepa_purpose: str | None = None,
        reference: str | None = None,
        codes: tuple[str, str] | None = None,
    ) -> tuple[Any, ...]:
        """The fields of a transaction from `currency` on; `counterpart` is (name, IBAN, BIC, bank name)."""
        zka, swift = codes or TYPE_CODES[kind]
        name, iban, bic, bank_name = counterpart or (None, None, None, None)
        account, blz = (iban[12:], iban[4:12]) if iban else (None, None)
        # in the order of _SUFFIX
        head = (currency, purpose, name, account, iban, blz, bic, bank_name, mandate, None, creditor_id, None, kind)
        return (*head, zka, swift, sepa_purpose, reference, *_DEFAULTS)

    def mix(self, kind: str, calendar: _Calendar, currency: str) -> tuple[list[_Payee], list[float]]:
        """The payees of an account of `kind` with their cumulative weights (the connection's accounts of a kind,
        span and currency share them)."""
        group = kind if kind in ("Checking", "CreditCard") else "Savings"
        key = (group, len(calendar.iso), currency)
        if key not in self.mixes:
            if group == "Checking":
                payees, weights = self.checking_payees(calendar, currency)
            elif group == "CreditCard":
                payees, weights = self.card_payees(calendar, currency, refunds=True)
            else:
                payees, weights = self.savings_payees(calendar, currency)
            self.mixes[key] = payees, list(itertools.accumulate(weights))
        return self.mixes[key]

    def checking_payees(self, calendar: _Calendar, currency: str) -> tuple[list[_Payee], list[float]]:
        card, card_weights = self.card_payees(calendar, currency, refunds=False)
        payees, weights = list(card), [0.45 * w for w in card_weights]
        for index, (_, pattern, low, high) in enumerate(DEBIT_CREDITORS):
            payees.append(_Payee(-high, high - low, (), self.debit(calendar, currency, index, pattern)))
            weights.append(0.15 / len(DEBIT_CREDITORS))
        for reason, friend in zip(TRANSFER_OUT, self.friends, strict=False):
            suffix = self.suffix(currency, f"SVWZ+{reason}", friend, "Überweisung")
            payees.append(_Payee(-40_000, 38_000, suffix))
            weights.append(0.15 / len(TRANSFER_OUT))
        for reason, friend in zip(TRANSFER_IN, reversed(self.friends), strict=False):
            suffix = self.suffix(currency, f"SVWZ+{reason}", friend, "Gutschrift")
            payees.append(_Payee(2_000, 38_000, suffix))
            weights.append(0.25 / len(TRANSFER_IN))
        return payees, weights

    def card_payees(self, calendar: _Calendar, currency: str, *, refunds: bool) -> tuple[list[_Payee], list[float]]:
        payees: list[_Payee] = []
        weights: list[float] = []
        for (_, text, low, high), counterpart in zip(CARD_MERCHANTS, self.pools.merchants, strict=True):
            make = self.card(calendar, currency, text, counterpart)
            payees.append(_Payee(-high, high - low, (), make, card=True))
            weights.append((0.9 if refunds else 1.0) / len(CARD_MERCHANTS))
            if refunds:
                suffix = self.suffix(currency, f"SVWZ+Erstattung {text}", counterpart, "Gutschrift")
                payees.append(_Payee(low, high - low, suffix))
                weights.append(0.1 / len(CARD_MERCHANTS))
        return payees, weights

    def card(
        self, calendar: _Calendar, currency: str, text: str, counterpart: Counterpart
    ) -> Callable[[int], tuple[Any, ...]]:
        city = self.city.upper()
        base = self.suffix(currency, "", counterpart, "Kartenzahlung")

        def make(day: int) -> tuple[Any, ...]:
            return _dated(base, f"GIROCARD {calendar.german(day)} {text} {city}", None)

        return self.daily(make)

    def debit(self, calendar: _Calendar, currency: str, index: int, pattern: str) -> Callable[[int], tuple[Any, ...]]:
        reference = self.mandates[index]
        creditor_id, counterpart = self.pools.creditors[index]
        mandate = f"M{reference}-{index + 1:02d}"

        base = self.suffix(currency, "", counterpart, "Lastschrift", mandate=mandate, creditor_id=creditor_id)

        def make(day: int) -> tuple[Any, ...]:
            compact = calendar.compact(day)
            text = pattern.format(compact=compact, month=calendar.month(day), ref=reference)
            eref = f"{reference}{compact.replace('-', '')}"
            return _dated(base, f"SVWZ+{text} EREF+{eref}", eref)

        return self.daily(make)

    @staticmethod
    def daily(make: Callable[[int], tuple[Any, ...]]) -> Callable[[int], tuple[Any, ...]]:
        """`make`, remembered per day: a payee's transactions of one day share their suffix."""
        made: dict[int, tuple[Any, ...]] = {}

        def remembered(day: int) -> tuple[Any, ...]:
            suffix = made.get(day)
            if suffix is None:
                suffix = made[day] = make(day)
            return suffix

        return remembered

    def checking_recurring(self, calendar: _Calendar, currency: str) -> list[tuple[int, _Payee]]:
        """Salary and rent of every month in the span."""
        events = []
        for day in calendar.on_day.get(self.salary_day, ()):
            month = calendar.month(day)
            purpose = f"SVWZ+LOHN/GEHALT {month[:3]}{month[-2:]}"
            codes = TYPE_CODES["Lohn/Gehalt"]
            suffix = self.suffix(currency, purpose, self.employer, "Gutschrift", sepa_purpose="SALA", codes=codes)
            events.append((day, _Payee(self.salary, 1, suffix)))
        for day in calendar.on_day.get(self.rent_day, ()):
            purpose = f"SVWZ+Miete {calendar.month(day)} {self.street}"
            suffix = self.suffix(currency, purpose, self.landlord, "Dauerauftrag", sepa_purpose="RENT")
            events.append((day, _Payee(-self.rent, 1, suffix)))
        return sorted(events, key=lambda event: event[0])

    def savings_payees(self, calendar: _Calendar, currency: str) -> tuple[list[_Payee], list[float]]:
        counterpart = self.checking or self.own
        saved = self.suffix(currency, "SVWZ+Sparrate", counterpart, "Gutschrift")
        taken = self.suffix(currency, "SVWZ+Umbuchung auf Girokonto", counterpart, "Überweisung")
        return [_Payee(2_500, 47_500, saved), _Payee(-100_000, 95_000, taken)], [0.65, 0.35]

    def interest(self, calendar: _Calendar, currency: str) -> list[tuple[int, _Payee]]:
        """Interest at the end of every quarter in the span."""
        return [
            (day, _Payee(100, 2_000, self.suffix(currency, f"Zinsen {calendar.german(day)}", None, "Abschluss")))
            for day in calendar.quarter_ends
        ]


def _dated(base: tuple[Any, ...], purpose: str, reference: str | None) -> tuple[Any, ...]:
    """A suffix (`_Builder.suffix`) with this purpose and end-to-end reference."""
    return (*base[:_PURPOSE], purpose, *base[_PURPOSE + 1 : _REFERENCE], reference, *base[_REFERENCE + 1 :])

"""The records of bank data (WEBFORM.md §5): banks, bank connections, accounts and transactions. Immutable values,
no rules and no HTTP, like `state/models.py`.

Banks are a catalog a world serves (the built-in test banks plus a scenario's); connections, accounts and
transactions are a user's state in the store. Money is in integer cents (sums are exact); dates are `YYYY-MM-DD`
strings (they compare in order); instants are virtual epoch seconds. A record with `id` 0 is one to add: the store
gives it its id.

A connection's statuses follow from times, so the virtual clock moves them without anything running: its
`updateStatus` is IN_PROGRESS until `ready_at`, its `categorizationStatus` PENDING until `ready_at`, IN_PROGRESS until
`categorized_at`, READY after; an update scheduled on it (`BatchUpdate`) lands at `ready_at`.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

# ---------------------------------------------------------------------------------------------------- banks


class LoginField(NamedTuple):
    label: str
    """German, as the bank names it: `Onlinebanking-ID`, `PIN`."""
    is_secret: bool
    is_volatile: bool = False
    is_mandatory: bool = True


class TwoStepProcedure(NamedTuple):
    procedure_id: str
    procedure_name: str
    challenge_type: str | None = "TEXT"
    """TEXT, PHOTO or FLICKER_CODE; None: not known."""
    implicit_execute: bool = False


class BankInterface(NamedTuple):
    banking_interface: str
    """XS2A, FINTS_SERVER or WEB_SCRAPER."""
    login_fields: tuple[LoginField, ...]
    properties: tuple[str, ...] = ()
    """REDIRECT_APPROACH, DECOUPLED_APPROACH, DETAILED_CONSENT."""
    two_step_procedures: tuple[TwoStepProcedure, ...] = ()
    account_types: tuple[str, ...] = (
        "Checking",
        "Savings",
        "CreditCard",
        "Security",
        "Loan",
        "Membership",
        "Bausparen",
    )
    """`aisAccountTypes` (Access names)."""
    health: int = 100
    login_hint: str | None = None
    is_ais_supported: bool = True
    is_pis_supported: bool = True


class Bank(NamedTuple):
    id: int
    name: str
    blz: str
    bic: str | None = None
    city: str | None = None
    location: str | None = None
    """ISO 3166 alpha-2; None: no location."""
    is_test_bank: bool = False
    popularity: int = 0
    interfaces: tuple[BankInterface, ...] = ()
    bank_group: tuple[int, str] | None = None
    """(id, name)."""
    is_beta: bool = False
    logins: tuple[tuple[str, str], ...] = ()
    """(Onlinebanking-ID, PIN) pairs the bank accepts (the test banks': demo/demo and demo_no_msa/demo_no_msa);
    empty: any."""
    iban_code: str | None = None
    """The 8 digits IBANs of this bank carry as bank code: the BLZ when it is 8 digits, else this (decided: the test
    banks' BLZ `DEMO0001` is not numeric)."""


# ---------------------------------------------------------------------------------------------------- connections

UpdateResultStatus = Literal["OK", "BANK_SERVER_REJECTION", "INTERNAL_SERVER_ERROR"]


class UpdateResult(NamedTuple):
    """`lastManualUpdate` / `lastAutoUpdate` of a connection's interface."""

    result: UpdateResultStatus
    timestamp: float
    error_message: str | None = None
    error_type: str | None = None
    """BUSINESS or TECHNICAL."""


class ConnectionInterface(NamedTuple):
    banking_interface: str
    credentials: tuple[tuple[str, str | None], ...]
    """(label, stored value or None) for every login field of the bank's interface: shown `XXXXX` when stored."""
    consent_expires_at: float | None = None
    """XS2A: the consent is PRESENT until then; None: NOT_PRESENT. Other interfaces have no consent."""
    last_manual_update: UpdateResult | None = None
    last_auto_update: UpdateResult | None = None
    default_two_step_procedure_id: str | None = None
    user_action_required: bool = False
    max_days_for_download: int = 0

    @property
    def pin_stored(self) -> bool:
        return any(value is not None for label, value in self.credentials if label == "PIN")


class Owner(NamedTuple):
    """`BankConnectionOwner`: every field optional."""

    first_name: str | None = None
    last_name: str | None = None
    salutation: str | None = None
    title: str | None = None
    email: str | None = None
    date_of_birth: str | None = None
    post_code: str | None = None
    country: str | None = None
    city: str | None = None
    street: str | None = None
    house_number: str | None = None


class Connection(NamedTuple):
    id: int
    mandator_id: str
    user_key: str
    """The owner's lower-cased id (`User.key`)."""
    bank_id: int
    name: str | None
    interfaces: tuple[ConnectionInterface, ...]
    account_ids: tuple[int, ...]
    owners: tuple[Owner, ...] | None
    """None: owner data was not loaded."""
    created_at: float
    ready_at: float
    """`updateStatus` is IN_PROGRESS before, READY from then on (a scheduled update lands then)."""
    categorized_at: float
    """`categorizationStatus` is IN_PROGRESS from `ready_at` until then, READY after."""

    def update_status(self, now: float) -> str:
        return "IN_PROGRESS" if now < self.ready_at else "READY"

    def categorization_status(self, now: float) -> str:
        if now < self.ready_at:
            return "PENDING"
        return "IN_PROGRESS" if now < self.categorized_at else "READY"

    def busy(self, now: float) -> bool:
        """An import or update is running: deleting or updating it is 423 LOCKED."""
        return now < self.ready_at


# ---------------------------------------------------------------------------------------------------- accounts


class AccountInterface(NamedTuple):
    banking_interface: str
    status: str = "UPDATED"
    """UPDATED, UPDATED_FIXED, DOWNLOAD_IN_PROGRESS, DOWNLOAD_FAILED or DEPRECATED."""
    capabilities: tuple[str, ...] = ("DATA_DOWNLOAD",)
    last_successful_update: float | None = None
    last_update_attempt: float | None = None


class Account(NamedTuple):
    id: int
    connection_id: int
    account_number: str
    account_type: str
    """Access names: Checking, Savings, CreditCard, Security, Loan, Membership, Bausparen."""
    interfaces: tuple[AccountInterface, ...]
    iban: str | None = None
    name: str | None = None
    sub_account_number: str | None = None
    holder_name: str | None = None
    holder_id: str | None = None
    currency: str | None = "EUR"
    balance: int | None = None
    """Cents."""
    overdraft: int | None = None
    overdraft_limit: int | None = None
    available_funds: int | None = None
    is_new: bool = True
    is_seized: bool = False


# ---------------------------------------------------------------------------------------------------- transactions


class Category(NamedTuple):
    id: int
    name: str
    parent_id: int | None = None
    parent_name: str | None = None
    is_custom: bool = False


class Transaction(NamedTuple):
    id: int
    account_id: int
    value_date: str
    bank_booking_date: str
    finapi_booking_date: str
    amount: int
    """Cents; negative: spending."""
    import_date: float
    currency: str | None = "EUR"
    purpose: str | None = None
    counterpart_name: str | None = None
    counterpart_account_number: str | None = None
    counterpart_iban: str | None = None
    counterpart_blz: str | None = None
    counterpart_bic: str | None = None
    counterpart_bank_name: str | None = None
    counterpart_mandate_reference: str | None = None
    counterpart_customer_reference: str | None = None
    counterpart_creditor_id: str | None = None
    counterpart_debitor_id: str | None = None
    type: str | None = None
    type_code_zka: str | None = None
    type_code_swift: str | None = None
    sepa_purpose_code: str | None = None
    end_to_end_reference: str | None = None
    primanota: str | None = None
    original_amount: int | None = None
    original_currency: str | None = None
    category: Category | None = None
    is_potential_duplicate: bool = False
    is_adjusting_entry: bool = False
    is_new: bool = True
    parent_id: int | None = None


class NewAccount(NamedTuple):
    """An account to add with its transactions (ids 0: the store numbers them, in this order)."""

    account: Account
    transactions: tuple[Transaction, ...] = ()


# ---------------------------------------------------------------------------------------------------- queries


class AccountQuery(NamedTuple):
    """`GET /api/v2/accounts` filters (WEBFORM.md §5.2), parsed; every given one must hold."""

    ids: tuple[int, ...] | None = None
    search: tuple[str, ...] = ()
    """Lower-cased terms, each a substring of accountName, iban, accountNumber or subAccountNumber."""
    account_types: tuple[str, ...] | None = None
    connection_ids: tuple[int, ...] | None = None
    min_last_successful_update: float | None = None
    """Instants: the service turns the dates into [start of min day, start of the day after max day)."""
    max_last_successful_update: float | None = None
    min_balance: int | None = None
    max_balance: int | None = None


Direction = Literal["all", "income", "spending"]
ORDERABLE = (
    "id",
    "parentId",
    "accountId",
    "valueDate",
    "bankBookingDate",
    "finapiBookingDate",
    "amount",
    "purpose",
    "counterpartName",
    "counterpartAccountNumber",
    "counterpartIban",
    "counterpartBlz",
    "counterpartBic",
    "type",
    "primanota",
    "category.id",
    "category.name",
    "isPotentialDuplicate",
    "isNew",
    "importDate",
)
"""Properties `order` takes on `GET /api/v2/transactions`."""


class TransactionQuery(NamedTuple):
    """`GET /api/v2/transactions` (WEBFORM.md §5.3), parsed; every given filter must hold."""

    view: str = "bankView"
    ids: tuple[int, ...] | None = None
    account_ids: tuple[int, ...] | None = None
    label_ids: tuple[int, ...] | None = None
    category_ids: tuple[int, ...] | None = None
    include_child_categories: bool = True
    search: tuple[str, ...] = ()
    """Lower-cased terms: each a substring of purpose, endToEndReference or a counterpart field."""
    counterpart: tuple[str, ...] = ()
    purpose: tuple[str, ...] = ()
    min_bank_booking_date: str | None = None
    max_bank_booking_date: str | None = None
    min_finapi_booking_date: str | None = None
    max_finapi_booking_date: str | None = None
    min_import_date: float | None = None
    """Instants, as AccountQuery's: [start of min day, start of the day after max day)."""
    max_import_date: float | None = None
    min_amount: int | None = None
    max_amount: int | None = None
    direction: Direction = "all"
    is_new: bool | None = None
    is_potential_duplicate: bool | None = None
    is_adjusting_entry: bool | None = None
    order: tuple[tuple[str, bool], ...] = (("id", True),)
    """(property of ORDERABLE, ascending), by priority; ties end in id ascending."""
    page: int = 1
    per_page: int = 20


class TransactionPage(NamedTuple):
    transactions: list[Transaction]
    total: int
    """Transactions the filters select, over all pages."""
    income: int
    """Cents: the sum of the selected amounts ≥ 0."""
    spending: int
    """Cents: the sum of the selected amounts < 0 (negative)."""


# ---------------------------------------------------------------------------------------------------- updates


class AccountUpdate(NamedTuple):
    """What an update does to one account: its new balance and status, the transactions it adds (ids 0)."""

    account_id: int
    balance: int | None
    status: str
    transactions: tuple[Transaction, ...] = ()


class BatchUpdate(NamedTuple):
    """An update of one connection's interface, worked out when it is asked for (`POST /api/v2/tests/
    mockBatchUpdate`) and landed by the store at the connection's `ready_at`: the interface's `lastAutoUpdate`, the
    accounts' balances, statuses and new transactions (on a failed login: no account changes)."""

    connection_id: int
    banking_interface: str
    result: UpdateResult
    accounts: tuple[AccountUpdate, ...] = ()


class ConnectionSummary(NamedTuple):
    """A connection as the admin state view lists it."""

    connection: Connection
    user_id: str
    accounts: int
    transactions: int


ScheduleOutcome = Literal["ok", "unknown", "locked"]
"""`unknown`: a connection or account is not the user's (404); `locked`: a connection is busy (422)."""
DeleteOutcome = Literal["ok", "unknown", "locked"]

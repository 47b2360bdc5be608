"""The typed form of a scenario, as `loader.py` produces it after strict validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mock_finapi.state.banking import UpdateResultStatus
from mock_finapi.state.models import FaultRule, Role
from mock_finapi.state.protocol import ProcessLimits


@dataclass(frozen=True)
class ClockSpec:
    start: datetime | None = None
    """None: the clock starts at the real time."""
    frozen: bool = False


@dataclass(frozen=True)
class TokenSpec:
    format: str = "uuid"
    reuse: bool = True


@dataclass(frozen=True)
class ClientSpec:
    client_id: str
    client_secret: str
    mandator_id: str
    role: Role = "app"
    config: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------- bank data


@dataclass(frozen=True)
class BankSpec:
    """A bank a scenario adds to the built-in test banks (`banks:`)."""

    id: int
    name: str
    blz: str
    bic: str | None = None
    city: str | None = None
    location: str | None = None
    """ISO 3166 alpha-2; None: no location."""
    popularity: int = 0
    is_test_bank: bool = False
    interfaces: tuple[str, ...] = ("FINTS_SERVER",)


@dataclass(frozen=True)
class TransactionSpec:
    """An explicit transaction of an account (amounts in cents, dates `YYYY-MM-DD`)."""

    amount: int
    booking_date: str | None = None
    """None: the scenario's first day."""
    value_date: str | None = None
    """None: the booking date."""
    purpose: str | None = None
    counterpart_name: str | None = None
    counterpart_iban: str | None = None
    counterpart_bic: str | None = None
    type: str | None = None


@dataclass(frozen=True)
class AccountSpec:
    type: str = "Checking"
    """An Access account type."""
    name: str | None = None
    """None: the generator's name for the type."""
    iban: str | None = None
    """None: generated for the bank."""
    currency: str = "EUR"
    balance: int | None = None
    """Cents; None: the sum of its transactions."""
    overdraft_limit: int | None = None
    transactions: int | tuple[TransactionSpec, ...] = 0
    """That many generated, or these."""


@dataclass(frozen=True)
class UpdateSpec:
    """The result of a connection's last update."""

    result: UpdateResultStatus = "OK"
    error_message: str | None = None


@dataclass(frozen=True)
class ConnectionSpec:
    """A bank connection a user has from the start."""

    bank: int
    interface: str
    """A banking interface of the bank."""
    name: str | None = None
    consent_expires_at: datetime | None = None
    """XS2A; None: the scenario's start + 90 days."""
    last_update: UpdateSpec = UpdateSpec()
    updating_for: float = 0
    """Seconds after the start during which the connection's update runs (IN_PROGRESS)."""
    accounts: tuple[AccountSpec, ...] | None = None
    """None: the test banks' shape, generated."""
    load_owner_data: bool = False
    """True: the connection's `owners` hold the account holder; False: `owners` is null (WEBFORM.md §5.6)."""


# ---------------------------------------------------------------------------------------------------- users


@dataclass(frozen=True)
class UserSpec:
    id: str
    password: str
    mandator_id: str
    email: str | None = None
    phone: str | None = None
    is_auto_update_enabled: bool = False
    verified: bool = True
    locked: bool = False
    bank_connections: tuple[ConnectionSpec, ...] = ()


@dataclass(frozen=True)
class GenerateUsers:
    """`{generate: N}`: N users made with Faker from the scenario's seed."""

    count: int
    mandator_id: str
    verified: bool = True
    bank_connections: tuple[ConnectionSpec, ...] = ()
    """Every generated user gets these."""


@dataclass(frozen=True)
class SeededProcess:
    """A process that exists from the start, with a fixed token a QA ticket can name."""

    process_token: str
    client_id: str
    client_reference: str | None = None
    process_id: str = "USER_ONLY"
    exchanges: int = 0
    invalidated: bool = False


@dataclass(frozen=True)
class ProcessesSpec:
    """The Process Controller's limits (FINAPI.md §7, decided) and pre-created processes."""

    limits: ProcessLimits = field(default_factory=ProcessLimits)
    seeded: tuple[SeededProcess, ...] = ()


@dataclass(frozen=True)
class CallbackSpec:
    """How the emulator sends callbacks (WEBFORM.md §3, §4, §7.16)."""

    allow_http: bool = False
    """False: callback URLs must follow finAPI's rule (https, a dotted host); True: `http://` and dotless hosts
    (`localhost`) too, for local receivers."""
    verify_tls: bool = False
    """Verify the receiver's TLS certificate (off by default: self-signed local receivers work)."""
    timeout: float = 5.0
    """Seconds one attempt may take (connect, send, answer)."""


@dataclass(frozen=True)
class OutcomeSpec:
    """A web form outcome decided ahead: every matching form finishes `after` virtual seconds after its creation (as
    `POST /__admin/webForms/{id}/complete` would), so CI needs no browser."""

    status: str
    """COMPLETED, COMPLETED_WITH_ERROR, ABORTED or EXPIRED."""
    after: float = 0.0
    user: str | None = None
    """Only this user's forms (case-insensitive); None: every user's."""
    mandator_id: str | None = None
    error_code: str | None = None
    """COMPLETED_WITH_ERROR: the payload's errorCode (default BANK_SERVER_REJECTION)."""
    bank: int | None = None
    """The bank the user picks when the form names none (default: the first test bank)."""
    account_types: tuple[str, ...] | None = None
    """Web Form account types the user keeps (default: the form's `accountTypes`, else all)."""


@dataclass(frozen=True)
class WebFormsSpec:
    callbacks: CallbackSpec = CallbackSpec()
    outcomes: tuple[OutcomeSpec, ...] = ()
    """The first matching one decides a form's outcome."""
    task_outcome: str | None = None
    """Background update tasks end so (COMPLETED, WEB_FORM_REQUIRED or COMPLETED_WITH_ERROR); None: by the rule
    (stored credentials and a PRESENT consent: COMPLETED, else WEB_FORM_REQUIRED)."""
    disabled_mandators: tuple[str, ...] = ()
    """Mandators without the Web Form 2.0 product: its endpoints answer 403 FORBIDDEN."""


@dataclass(frozen=True)
class Scenario:
    name: str
    source: str
    description: str = ""
    seed: int | None = None
    clock: ClockSpec = ClockSpec()
    tokens: TokenSpec = TokenSpec()
    clients: tuple[ClientSpec, ...] = ()
    users: tuple[UserSpec | GenerateUsers, ...] = ()
    processes: ProcessesSpec = ProcessesSpec()
    faults: tuple[FaultRule, ...] = ()
    auto_register: bool = False
    """`clients: {auto_register: true}`: unknown client id/secret pairs are accepted on first use."""
    webforms: WebFormsSpec = WebFormsSpec()
    banks: tuple[BankSpec, ...] = ()
    """Banks added to the built-in test banks."""
    text: str = ""
    """The YAML it was loaded from: a snapshot carries it, so a restored sandbox serves (and resets to) the same
    scenario wherever it is loaded."""

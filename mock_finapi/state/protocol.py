"""The Store protocol: every operation on the emulator's state, as a backend provides it.

Services and HTTP code reach the state only through these operations. Each is one business step, atomic on its own
(no other operation sees it half done), and awaitable, so a backend across a network (Redis) does each in one round
trip or one transaction: create-user-if-absent, issue-or-reuse-token, exchange-process-token with its limits,
fire-fault with its counters. Operations take the virtual time (`now`) they act at and the policies they apply as
arguments; they hand out immutable records (`state/models.py`).

`MemoryStore` (state/memory.py) is the embedded backend; `tests/unit/test_store_protocol.py` is the suite every
backend passes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

from mock_finapi.clock import ClockMove, ClockState
from mock_finapi.state.banking import (
    Account,
    AccountQuery,
    BatchUpdate,
    Connection,
    ConnectionSummary,
    DeleteOutcome,
    NewAccount,
    ScheduleOutcome,
    Transaction,
    TransactionPage,
    TransactionQuery,
    UpdateResult,
)
from mock_finapi.state.image import Assemble
from mock_finapi.state.models import (
    Bearer,
    Client,
    DeletedUser,
    Entry,
    FaultCount,
    FaultRule,
    JournalQuery,
    Origin,
    Process,
    Token,
    User,
)
from mock_finapi.state.webforms import CallbackAttempt, PageState, Task, WebForm

if TYPE_CHECKING:
    from mock_finapi.state.memory import MemoryStore


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    """How tokens are minted: `format` uuid or finapi; `reuse` hands a still-valid token out again."""

    format: str = "uuid"
    reuse: bool = True


@dataclass(frozen=True, slots=True)
class ProcessLimits:
    """The Process Controller's limits (FINAPI.md §7, decided)."""

    max_exchanges: int = 10
    validity_days: float = 7
    user_retention_days: float = 3
    allowed_process_ids: tuple[str, ...] = ("USER_ONLY",)
    redirect_url: str = "http://localhost:3000/callback"


class Prelude(NamedTuple):
    """What every request reads first (one round trip): the clock and the fault rules in force."""

    clock: ClockState
    faults: tuple[FaultRule, ...]


LoginOutcome = Literal["ok", "unknown_user", "locked", "bad_password", "unverified"]
"""`bad_password` also counts the failure (and locks the user at the client's `maxUserLoginAttempts`)."""
ExchangeOutcome = Literal["ok", "unknown", "invalidated", "exhausted", "expired", "user_gone"]


class Login(NamedTuple):
    outcome: LoginOutcome
    user: User | None
    access: Token | None = None
    refresh: Token | None = None


class Exchange(NamedTuple):
    outcome: ExchangeOutcome
    access: Token | None = None


class NewProcess(NamedTuple):
    """A process to create: `token` None draws one; a seeded process names its own, with exchanges used."""

    client_reference: str | None
    process_id: str
    token: str | None = None
    exchanges: int = 0
    invalidated: bool = False


class MandatorUsers(NamedTuple):
    """A mandator's users as its mandator admin lists them: the live ones and the deleted ones it remembers."""

    live: Mapping[str, User]
    """Keyed by the lower-cased id (`User.key`). Read it before the next await: a backend may hand out a read-only
    view of its table (the memory backend does: a copy would cost 0.4 s for a million users)."""
    deleted: list[DeletedUser]
    """Oldest deletion first."""


class Stats(NamedTuple):
    """Sizes of the state (metrics, benchmarks): live records and what indexes and the journal hold."""

    clients: int
    users: int
    tokens: int
    grants: int
    processes: int
    expiry_index: int
    """Entries of the token expiry index (live expiring tokens plus revoked ones not swept yet)."""
    connections: int
    accounts: int
    transactions: int
    journal_entries: int
    journal_bytes: int
    """Bodies the journal keeps."""


class Store(Protocol):
    @property
    def origin(self) -> Origin | None:
        """The scenario and seed the state was built from (part of the state: a reset or a scenario load changes
        it, for every process sharing the state)."""
        ...

    # per request
    async def prepare(self) -> Prelude:
        """The clock and the fault rules in force."""
        ...

    async def draw(self, stream: str) -> int:
        """Reserve the next position of a stream of the seeded source (`randomness.py`)."""
        ...

    # clock
    async def move_clock(self, move: ClockMove, real: float) -> ClockState:
        """Apply `move` to the clock at real time `real`; answers the new state."""
        ...

    # clients
    async def client(self, client_id: str) -> Client | None: ...

    async def register_client(self, client: Client) -> Client:
        """Add `client` unless its id exists; answers the client that holds the id now."""
        ...

    async def update_client_config(self, client_id: str, changes: Mapping[str, Any]) -> Client | None: ...

    async def mandator_client(self, mandator_id: str) -> Client | None:
        """The mandator's first app client (scenario order): the one its process links act for."""
        ...

    async def clients(self) -> list[Client]: ...

    async def mandators(self) -> list[str]:
        """Every mandator the scenario or the run knows (with clients or users)."""
        ...

    # tokens
    async def issue_client_token(self, client_id: str, now: float, policy: TokenPolicy) -> Token:
        """The client's live client token when `policy.reuse` allows (not once its `expires_in` reads 0), else a new
        one with the client's `clientAccessTokensValidityPeriod`."""
        ...

    async def login(self, client_id: str, username: str, password: str, now: float, policy: TokenPolicy) -> Login:
        """The password grant: check the user (locked before password, password before verification, the password
        compared in constant time); a wrong one counts and locks at the client's `maxUserLoginAttempts`, revoking
        the user's tokens; success resets the count, sets the user's `last_active_at` to `now` and issues or reuses
        an access and a refresh token."""
        ...

    async def refresh(self, client_id: str, refresh_token: str, now: float, policy: TokenPolicy) -> Token | None:
        """A new access token of the refresh token's grant (its older access tokens are revoked; the user's
        `last_active_at` is `now`); None when the refresh token is unknown, expired or another client's."""
        ...

    async def resolve(self, value: str, now: float) -> Bearer | None:
        """The live access token `value` with its client and user; None for anything else."""
        ...

    async def revoke(self, client_id: str, value: str, hint: str | None, now: float) -> None:
        """Revoke a live token of this client: with hint `access_token` on an access token only that one, else its
        whole grant. Other clients' and unknown tokens are left alone."""
        ...

    async def expire_token(self, value: str, now: float) -> Token | None:
        """Expire a live token now (its grant keeps its other tokens); answers it, or None when there is none."""
        ...

    async def tokens(self, now: float) -> list[Token]: ...

    # users
    async def create_user(self, user: User) -> bool:
        """Add `user` unless its id (case-insensitive) exists in its mandator."""
        ...

    async def user(self, mandator_id: str, user_id: str, now: float) -> User | None: ...

    async def users(self, mandator_id: str | None, now: float) -> list[User]: ...

    async def update_user(self, mandator_id: str, user_id: str, changes: Mapping[str, Any]) -> User | None:
        """Set fields of the user (`User` field names); answers the new version, None when there is no such user."""
        ...

    async def verify_user(self, mandator_id: str, user_id: str) -> User | None:
        """Mark the user verified; answers the user as it was before (None: no such user)."""
        ...

    async def delete_user(
        self, mandator_id: str, user_id: str, now: float, *, unverified_only: bool = False
    ) -> User | None:
        """Delete the user and revoke all its tokens (unless `unverified_only` and it is verified), remembering the
        deletion at `now` (a `DeletedUser`); answers the user as it was (None: no such user)."""
        ...

    async def delete_users(self, mandator_id: str, user_ids: Sequence[str], now: float) -> list[User]:
        """Delete each of the mandator's users named (case-insensitive; unknown ids are skipped) as `delete_user`
        does, all in one step; answers the users deleted, as they were."""
        ...

    async def mandator_users(self, mandator_id: str, now: float) -> MandatorUsers:
        """The mandator's live users and the deleted users it remembers (at most `Capacity.deleted_users` over all
        mandators, the oldest deletions forgotten first). A user whose deletion is due (a process's hidden user) is
        deleted first, dated when it was due. Every deletion is remembered: `delete_user`, `delete_users` and the
        retention of process users."""
        ...

    async def lock_user(self, mandator_id: str, user_id: str) -> User | None:
        """Lock the user and revoke all its tokens; answers the locked user."""
        ...

    async def change_password(self, mandator_id: str, user_id: str, change_token: str, password: str) -> bool | None:
        """If the user's pending password change token equals `change_token` (compared in constant time): set the
        password, clear the token, unlock, reset failed logins and revoke all tokens. None: no such user; False:
        another token."""
        ...

    # processes
    async def create_processes(
        self, client_id: str, new: Sequence[NewProcess], now: float, limits: ProcessLimits
    ) -> list[Process]:
        """A process with a hidden, verified user (retention scheduled) for each of `new`, in order."""
        ...

    async def exchange_process(
        self, token: str, invalidate: bool, now: float, limits: ProcessLimits, policy: TokenPolicy
    ) -> Exchange:
        """Check the limits (invalidated, exhausted, expired, user gone), count the exchange and answer a new user
        access token of the hidden user (its `last_active_at` is `now`); reschedule the user's deletion to
        `user_retention_days` after the end."""
        ...

    async def processes(self, now: float) -> list[Process]: ...

    # bank data: a user's (mandator id and user id, case-insensitive). Every read first lands the user's updates due
    # at `now` (BatchUpdate). Deleting a user deletes its bank data; `reset_mandator` and `replace` cover it.
    async def add_connection(
        self, mandator_id: str, user_id: str, connection: Connection, accounts: Sequence[NewAccount], now: float
    ) -> Connection | None:
        """Add `connection` (id 0) with its accounts and their transactions (ids 0), numbered in order; answers it
        as stored (ids, `account_ids`), None when there is no such user. Raises CapacityReached beyond
        `Capacity.transactions`."""
        ...

    async def connections(
        self, mandator_id: str, user_id: str, ids: Sequence[int] | None, now: float
    ) -> list[Connection]:
        """The user's connections (those of `ids` only, unknown ones skipped), by id."""
        ...

    async def connection(self, mandator_id: str, user_id: str, connection_id: int, now: float) -> Connection | None: ...

    async def delete_connections(
        self, mandator_id: str, user_id: str, ids: Sequence[int] | None, now: float
    ) -> tuple[DeleteOutcome, list[int]]:
        """Delete the connections of `ids` (None: all of the user's) with their accounts and transactions, answering
        the ids deleted, ascending: `unknown` when one of `ids` is not the user's, `locked` when one is busy; then
        nothing is deleted."""
        ...

    async def accounts(self, mandator_id: str, user_id: str, query: AccountQuery, now: float) -> list[Account]:
        """The user's accounts the query selects, by id."""
        ...

    async def account(self, mandator_id: str, user_id: str, account_id: int, now: float) -> Account | None: ...

    async def transactions(
        self, mandator_id: str, user_id: str, query: TransactionQuery, now: float
    ) -> TransactionPage:
        """The page `query` asks for of the user's transactions it selects, in its order (ties by id), with the
        count and sums of all it selects. Indexed: a user's transactions are not all scanned per request unless a
        text filter or an unindexed order asks for it."""
        ...

    async def transaction(
        self, mandator_id: str, user_id: str, transaction_id: int, now: float
    ) -> Transaction | None: ...

    async def schedule_updates(
        self, mandator_id: str, user_id: str, updates: Sequence[BatchUpdate], due: float, now: float
    ) -> ScheduleOutcome:
        """Schedule every update to land at `due` (the connections are busy until then), all or none: `unknown` if a
        connection or an account named is not the user's or not in that connection, `locked` if a connection is
        busy at `now`."""
        ...

    async def record_manual_update(
        self, mandator_id: str, user_id: str, connection_id: int, result: UpdateResult, now: float
    ) -> Connection | None:
        """Set every interface's `lastManualUpdate` of the user's connection to `result` (a background update task's
        run, a web form's update); None when the connection is not the user's."""
        ...

    async def bank_summary(self, mandator_id: str | None, now: float) -> list[ConnectionSummary]:
        """Every connection (of one mandator, or all) with its owner and counts, by id."""
        ...

    # Web Form 2.0: a user's web forms and tasks (WEBFORM.md §2-§4)
    async def create_web_form(self, form: WebForm) -> WebForm:
        """Store a new form (its id drawn by the caller from the seeded source)."""
        ...

    async def web_form(self, web_form_id: str) -> WebForm | None:
        """Any user's form by id (the page and the admin API look forms up by id alone)."""
        ...

    async def web_forms(self, mandator_id: str, user_id: str, descending: bool) -> list[WebForm]:
        """The user's forms by `created_at` (ties by creation order)."""
        ...

    async def delete_web_form(self, mandator_id: str, user_id: str, web_form_id: str) -> bool: ...

    async def open_web_form(self, web_form_id: str, now: float) -> tuple[WebForm | None, bool]:
        """The page opens the form: the first open of a form that is not final marks it opened (NOT_YET_OPENED ->
        IN_PROGRESS); answers the form and whether this was that first open."""
        ...

    async def update_page(self, web_form_id: str, page: PageState) -> WebForm | None:
        """Save the page's progress of a form that is not final; None when it is final or unknown."""
        ...

    async def finish_web_form(
        self,
        web_form_id: str,
        changes: WebForm,
        connection: tuple[Connection, Sequence[NewAccount]] | None,
        now: float,
    ) -> WebForm | None:
        """In one step: unless the form is final already (or unknown: None), add `connection` (if any) to the form's
        user and store `changes` (the final status, payload, `finalised_at`) with `connection_id` set to the new
        connection's id when one was added."""
        ...

    async def due_web_forms(self, now: float) -> list[WebForm]:
        """Forms that are not final and whose `expires_at` has passed, oldest first (the sweep finishes them)."""
        ...

    async def create_task(self, task: Task, now: float) -> Literal["ok", "unknown", "locked"]:
        """Store a new task unless its connection is not the user's (`unknown`) or busy at `now` (`locked`); the
        connection is busy (updateStatus IN_PROGRESS) until the task's `ends_at`."""
        ...

    async def task(self, task_id: str) -> Task | None: ...

    async def tasks(self, mandator_id: str, user_id: str, descending: bool) -> list[Task]: ...

    async def update_task(self, task_id: str, changes: Task, form: WebForm | None) -> Task | None:
        """Store `changes` of a task that is not final (None otherwise), and `form` (a new update form) with them."""
        ...

    async def due_tasks(self, now: float) -> list[Task]:
        """Tasks that are not final and whose `starts_at` or `ends_at` has passed, oldest first."""
        ...

    # callbacks sent (the outbound journal)
    async def record_callback(self, attempt: CallbackAttempt) -> None: ...

    async def callbacks(self, limit: int | None = None) -> list[CallbackAttempt]:
        """Newest first."""
        ...

    async def clear_callbacks(self) -> int: ...

    # faults
    async def add_fault(self, rule: FaultRule) -> bool:
        """Append a rule; False when one of that name exists."""
        ...

    async def fault_counts(self) -> list[FaultCount]: ...

    async def clear_faults(self) -> int: ...

    async def fire_fault(self, matching: Sequence[str]) -> FaultRule | None:
        """Of the rules named in `matching` (the rules whose match holds for a request, in rule order), count each
        reached as matched and answer the first whose schedule fires (`after`, `times`, `probability` drawn from
        the seeded source), counting it as fired; None lets the request through."""
        ...

    # journal
    async def record(self, entry: Entry) -> None: ...

    async def journal(self, query: JournalQuery, limit: int | None = None) -> list[Entry]:
        """The selected entries, newest first."""
        ...

    async def count_journal(self, query: JournalQuery) -> int: ...

    async def clear_journal(self, query: JournalQuery | None = None) -> int: ...

    # upkeep and whole-state operations
    async def purge_expired(self, now: float, budget: int) -> int:
        """Drop up to `budget` expired tokens and due user deletions; answers how many went."""
        ...

    async def stats(self) -> Stats: ...

    async def reset_mandator(self, mandator_id: str, fresh: MemoryStore) -> bool:
        """Replace one mandator's slice (its clients, users, tokens, processes and journal entries) with `fresh`'s,
        in one step; False when neither store knows the mandator."""
        ...

    async def replace(self, fresh: MemoryStore) -> None:
        """Replace the whole state with `fresh`'s (a world built from a scenario or a snapshot), in one step."""
        ...

    async def close(self) -> None:
        """Let go of connections (a shared state's); the store answers again on its next operation."""
        ...

    async def export(self, journal: bool) -> Assemble:
        """The whole state as it stands now (taken in one step; `journal` False leaves the journal out): the
        function answered assembles it as a `StateImage`, off the event loop."""
        ...

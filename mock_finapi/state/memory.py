"""The in-memory store: the embedded backend of the Store protocol (state/protocol.py).

All of it lives in one `_Tables` object: dicts with O(1) lookups by token, client id, (mandator, user id) and process
token, and the users' bank data (`BankTables`, state/bank_tables.py: per user, connections, accounts and transactions
by id, each account's transaction ids with running sums, sorted indexes built on first use, and the updates waiting
for their connection's `ready_at`, landed by the first operation on that user's bank data at or after it), and the
Web Form 2.0 data (`WebFormTables`, state/webform_tables.py: web forms and tasks by id and per user, due-time heaps for
the sweep, and the bounded journal of the callbacks sent).
Operations run on the server's single event loop and never await inside, so each is atomic with respect to the
others; replacing the state (a reset, a scenario swap) is one assignment of a new `_Tables`.

Expired tokens and users whose deletion is due are dropped on sight, and purged in order of time a bounded number at
a time (`purge_expired`, which the sandbox's upkeep calls while serving; every operation that issues or looks up
tokens purges a few too), so memory stays bounded however many short-lived tokens a run issues, and no single request
pays for a whole clock jump. No operation on a request's path does work in proportion to the live tokens or users:
revoked tokens leave their entry in the expiry index behind, and the index sheds them a bounded batch at a time
(`_compact`); a user's grants are removed from its list by position. Once a mass expiry has emptied most of a large
table, `purge_expired` copies what is left into a table of the right size, so the memory goes back.

The store keeps at most `capacity` (settings.Capacity) live tokens, users, processes, clients registered at run
time and transactions (those of scheduled updates included): an operation that would create more raises
`errors.CapacityReached` before it changes anything. Bytes per live object (bench/objects.py): a client token about
250, a password login (two tokens and their grant) about 1,000, a user about 340, a process with its hidden user about
750, a registered client about 500 (its configuration is the shared default until it is patched); a transaction with
short texts about 660, and about 90 more for each of the user's two sorted indexes while built (bench/bank_store.py).
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from types import MappingProxyType
from typing import Any, Literal

from mock_finapi import errors
from mock_finapi.clock import ClockMove, ClockState, no_rest
from mock_finapi.credentials import secrets_equal
from mock_finapi.randomness import FAULTS, IDS, TOKENS, Randomness
from mock_finapi.settings import DEFAULT_CAPACITY, Capacity
from mock_finapi.state.bank_tables import CATEGORIZATION_SECONDS, BankTables, TransactionSearch, UserBank
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
from mock_finapi.state.image import Assemble, Grant, StateImage, check
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
    distorted_id,
)
from mock_finapi.state.protocol import (
    Exchange,
    Login,
    MandatorUsers,
    NewProcess,
    Prelude,
    ProcessLimits,
    Stats,
    TokenPolicy,
)
from mock_finapi.state.webform_tables import WebFormTables
from mock_finapi.state.webforms import CallbackAttempt, PageState, Task, WebForm

DAY = 86_400
PURGE_BUDGET = 64
"""Expired entries each token operation purges (and stale index entries it sheds) by the way."""
COMPACT_SLACK = 1024
"""Stale entries the expiry index may carry beyond the live tokens before it starts shedding them."""
SHRINK_FROM = 65_536
"""A token table that held at least this many is copied into a smaller one once three quarters of it are gone."""


@dataclass(eq=False, slots=True)
class _Grant:
    """One user authorization (a password login or a process exchange): its access tokens (oldest first; the last is
    the current one) and its refresh token."""

    client_id: str
    mandator_id: str
    user_key: str
    access: list[str] = field(default_factory=list)
    refresh: str | None = None
    index: int = 0
    """Its position in the user's list of grants (`_Tables.grants_of_user`): removed from there in O(1)."""


class _Tables:
    """Everything the store holds; replaced whole by `replace` and `reset_mandator`."""

    def __init__(self, clock: ClockState, journal_size: int, deleted_cap: int) -> None:
        self.positions: dict[str, int] = {}
        self.clients: dict[str, Client] = {}
        self.mandators: dict[str, dict[str, User]] = {}
        """Users by mandator, keyed by `User.key` (the lower-cased id)."""
        self.tokens: dict[str, Token] = {}
        self.grant_of: dict[str, _Grant] = {}
        """The grant of each user token."""
        self.client_tokens: dict[str, str] = {}
        """Token reuse: the current client token of each client."""
        self.user_grants: dict[tuple[str, str], _Grant] = {}
        """Token reuse: the current password grant per (client id, user key)."""
        self.grants_of_user: dict[tuple[str, str], list[_Grant]] = {}
        """Every grant of a user, by (mandator, user key): revoked together."""
        self.processes: dict[str, Process] = {}
        """Keyed by the lower-cased process token."""
        self.expiry: dict[int, list[str]] = {}
        """Token values by the whole second they expire by (revoked ones stay until their second is purged)."""
        self.expiry_seconds: list[int] = []
        """A heap of the keys of `expiry`."""
        self.expiry_entries = 0
        """Entries of `expiry`, stale ones included (revoked tokens, until their second is purged or shed)."""
        self.compact_todo: list[int] = []
        """Seconds of `expiry` whose buckets `_compact` still has to go through (a pass is running when not empty)."""
        self.compact_second: int | None = None
        self.compact_old: list[str] = []
        """The entries of the bucket being compacted not looked at yet (its bucket takes new and surviving ones)."""
        self.tokens_peak = 0
        """The most tokens held since the table was last copied (`_shrink`)."""
        self.user_count = 0
        self.registered = 0
        """Clients registered at run time (`register_client`)."""
        self.deletions: list[tuple[float, str, str]] = []
        """(when, mandator, user key) of scheduled user deletions."""
        self.deleted: dict[str, deque[DeletedUser]] = {}
        """The deleted users remembered, by mandator, oldest first."""
        self.deleted_order: deque[str] = deque()
        """The mandator of each remembered deletion, oldest first: the oldest is forgotten beyond `deleted_cap`."""
        self.deleted_cap = deleted_cap
        self.faults: list[FaultCount] = []
        self.prelude = Prelude(clock, ())
        """What `prepare` answers: replaced whenever the clock moves or the rules change."""
        self.journal: deque[Entry] = deque(maxlen=journal_size)
        self.bank = BankTables()
        """Every user's bank connections, accounts and transactions (state/bank_tables.py)."""
        self.webforms = WebFormTables()
        """Every user's web forms and tasks, and the callback journal (state/webform_tables.py)."""
        self.origin: Origin | None = None
        """The scenario and seed the state was built from (None: a bare store, in unit tests)."""


class MemoryStore:
    """The Store protocol on in-process dicts (see the module docstring)."""

    def __init__(
        self, seed: int, clock: ClockState, *, journal_size: int = 1000, capacity: Capacity = DEFAULT_CAPACITY
    ) -> None:
        self.rng = Randomness(seed)
        self.journal_size = journal_size
        self.capacity = capacity
        self._t = _Tables(clock, journal_size, capacity.deleted_users)

    # building (before the store serves: synchronous, not part of the protocol)
    def load_client(self, client: Client) -> None:
        self._t.clients[client.client_id] = client
        self._t.mandators.setdefault(client.mandator_id, {})

    def load_user(self, user: User) -> bool:
        t = self._t
        users = t.mandators.setdefault(user.mandator_id, {})
        key = _key(user.id)
        if key in users:
            return False
        users[key] = user
        t.user_count += 1
        return True

    def load_connection(self, connection: Connection, accounts: Sequence[NewAccount]) -> Connection:
        """`add_connection` for building: the owner is `connection`'s (`mandator_id`, `user_key`) and must be loaded;
        answers the connection as stored. Raises LookupError when there is no such user."""
        t = self._t
        user = t.mandators.get(connection.mandator_id, {}).get(connection.user_key.lower())
        if user is None:
            raise LookupError(f"no user {connection.user_key!r} in mandator {connection.mandator_id!r}")
        return t.bank.add(user.mandator_id, user.key, connection, accounts)

    def load_processes(self, client_id: str, new: Sequence[NewProcess], now: float, limits: ProcessLimits) -> None:
        self._create_processes(self._t, client_id, new, now, limits)

    def load_faults(self, rules: Sequence[FaultRule]) -> None:
        t = self._t
        t.faults = [FaultCount(rule) for rule in rules]
        t.prelude = Prelude(t.prelude.clock, tuple(rules))

    @property
    def origin(self) -> Origin | None:
        return self._t.origin

    @origin.setter
    def origin(self, origin: Origin) -> None:
        self._t.origin = origin

    def purge_due(self, now: float) -> bool:
        """Whether `purge_expired` at `now` would find anything to do (changes nothing)."""
        t = self._t
        return bool(
            (t.deletions and t.deletions[0][0] <= now)
            or (t.expiry_seconds and t.expiry_seconds[0] <= now)
            or t.compact_todo
            or t.compact_old
            or (len(t.tokens) < t.tokens_peak // 4 and t.tokens_peak >= SHRINK_FROM)
        )

    def resolves_quietly(self, value: str, now: float) -> bool:
        """Whether `resolve(value, now)` changes nothing: no purge due, neither the token nor its user due to go (a
        shared state then answers it from its replica without logging it)."""
        t = self._t
        if self.purge_due(now):
            return False
        token = t.tokens.get(value)
        if token is None or token.user_id is None:
            return token is None or not _expired(token, now)
        user = t.mandators.get(token.mandator_id, {}).get(_key(token.user_id))
        return not _expired(token, now) and (user is None or user.delete_at is None or user.delete_at > now)

    def draw_now(self, stream: str) -> int:
        """`draw` for building."""
        return self._draw(self._t, stream)

    # per request
    async def prepare(self) -> Prelude:
        return self._t.prelude

    async def draw(self, stream: str) -> int:
        return self._draw(self._t, stream)

    @staticmethod
    def _draw(t: _Tables, stream: str) -> int:
        position = t.positions.get(stream, 0)
        t.positions[stream] = position + 1
        return position

    # clock
    async def move_clock(self, move: ClockMove, real: float) -> ClockState:
        t = self._t
        clock = move.apply(t.prelude.clock, real)
        t.prelude = t.prelude._replace(clock=clock)
        return clock

    # clients
    async def client(self, client_id: str) -> Client | None:
        return self._t.clients.get(client_id)

    async def register_client(self, client: Client) -> Client:
        t = self._t
        found = t.clients.get(client.client_id)
        if found is None:
            if t.registered >= self.capacity.clients:
                raise _full(self.capacity.clients, "registered clients", "clients")
            found = t.clients[client.client_id] = client
            t.mandators.setdefault(client.mandator_id, {})
            t.registered += 1
        return found

    async def update_client_config(self, client_id: str, changes: Mapping[str, Any]) -> Client | None:
        t = self._t
        client = t.clients.get(client_id)
        if client is None:
            return None
        client = t.clients[client_id] = client._replace(config={**client.config, **changes})
        return client

    async def mandator_client(self, mandator_id: str) -> Client | None:
        clients = self._t.clients.values()
        return next((c for c in clients if c.mandator_id == mandator_id and c.role == "app"), None)

    async def clients(self) -> list[Client]:
        return list(self._t.clients.values())

    async def mandators(self) -> list[str]:
        return list(self._t.mandators)

    # tokens
    async def issue_client_token(self, client_id: str, now: float, policy: TokenPolicy) -> Token:
        t = self._t
        self._purge(t, now, PURGE_BUDGET)
        client = t.clients[client_id]
        current = t.client_tokens.get(client_id)
        if policy.reuse and current is not None and (token := self._reusable(t, current, now)) is not None:
            return token
        self._room(t, now, 1)
        token = self._mint(t, client, None, client.config["clientAccessTokensValidityPeriod"], now, policy)
        t.client_tokens[client_id] = token.value
        return token

    async def login(self, client_id: str, username: str, password: str, now: float, policy: TokenPolicy) -> Login:
        t = self._t
        self._purge(t, now, PURGE_BUDGET)
        client = t.clients[client_id]
        user = self._user(t, client.mandator_id, username, now)
        if user is None:
            secrets_equal(password, None)
            return Login("unknown_user", None)
        if user.locked:
            return Login("locked", user)
        if not secrets_equal(password, user.password):
            limit = client.config["maxUserLoginAttempts"]
            failed = user.failed_logins + 1
            user = self._put_user(t, user._replace(failed_logins=failed, locked=bool(limit) and failed >= limit))
            if user.locked:
                self._revoke_user(t, user)
            return Login("bad_password", user)
        if not user.verified:
            return Login("unverified", user)
        user = self._put_user(t, user._replace(failed_logins=0, last_active_at=now))
        grant = t.user_grants.get((client_id, user.key))
        if policy.reuse and grant is not None and grant.access and grant.refresh is not None:
            access = self._reusable(t, grant.access[-1], now)
            refresh = self._live(t, grant.refresh, now)
            if access is not None and refresh is not None:
                return Login("ok", user, access, refresh)
        self._room(t, now, 2)
        grant = self._user_grant(t, client, user)
        t.user_grants[(client_id, grant.user_key)] = grant
        access = self._mint(t, client, grant, client.config["userAccessTokensValidityPeriod"], now, policy, user.id)
        lifetime = client.config["refreshTokensValidityPeriod"]
        refresh = self._mint(t, client, grant, lifetime, now, policy, user.id, is_refresh=True)
        return Login("ok", user, access, refresh)

    async def refresh(self, client_id: str, refresh_token: str, now: float, policy: TokenPolicy) -> Token | None:
        t = self._t
        self._purge(t, now, PURGE_BUDGET)
        token = self._live(t, refresh_token, now)
        if token is None or not token.is_refresh or token.client_id != client_id:
            return None
        grant = t.grant_of[refresh_token]
        self._room(t, now, 1 - len(grant.access))
        for old in list(grant.access):
            self._drop_token(t, old)
        user = t.mandators.get(grant.mandator_id, {}).get(grant.user_key)
        if user is not None:
            self._put_user(t, user._replace(last_active_at=now))
        client = t.clients[client_id]
        lifetime = client.config["userAccessTokensValidityPeriod"]
        return self._mint(t, client, grant, lifetime, now, policy, token.user_id)

    async def resolve(self, value: str, now: float) -> Bearer | None:
        t = self._t
        self._purge(t, now, PURGE_BUDGET)
        token = self._live(t, value, now)
        if token is None or token.is_refresh:
            return None
        client = t.clients.get(token.client_id)
        user = None if token.user_id is None else self._user(t, token.mandator_id, token.user_id, now)
        if client is None or (token.user_id is not None and user is None):
            return None
        return Bearer(token, client, user)

    async def revoke(self, client_id: str, value: str, hint: str | None, now: float) -> None:
        t = self._t
        token = self._live(t, value, now)
        if token is None or token.client_id != client_id:
            return
        grant = t.grant_of.get(value)
        if grant is None or (hint == "access_token" and not token.is_refresh):  # a client token is its own grant
            self._drop_token(t, value)
        else:
            self._revoke_grant(t, grant)

    async def expire_token(self, value: str, now: float) -> Token | None:
        t = self._t
        token = self._live(t, value, now)
        if token is not None:
            self._drop_token(t, value)
        return token

    async def tokens(self, now: float) -> list[Token]:
        return [token for token in self._t.tokens.values() if not _expired(token, now)]

    # users
    async def create_user(self, user: User) -> bool:
        t = self._t
        if t.user_count >= self.capacity.users and _key(user.id) not in t.mandators.get(user.mandator_id, {}):
            raise _full(self.capacity.users, "users", "users")
        return self.load_user(user)

    async def user(self, mandator_id: str, user_id: str, now: float) -> User | None:
        return self._user(self._t, mandator_id, user_id, now)

    async def users(self, mandator_id: str | None, now: float) -> list[User]:
        return [
            u
            for m, users in self._t.mandators.items()
            if mandator_id in (None, m)
            for u in users.values()
            if u.delete_at is None or u.delete_at > now  # due deletions are left to the purge
        ]

    async def update_user(self, mandator_id: str, user_id: str, changes: Mapping[str, Any]) -> User | None:
        t = self._t
        user = t.mandators.get(mandator_id, {}).get(user_id.lower())
        return None if user is None else self._put_user(t, user._replace(**changes))

    async def verify_user(self, mandator_id: str, user_id: str) -> User | None:
        t = self._t
        user = t.mandators.get(mandator_id, {}).get(user_id.lower())
        if user is not None and not user.verified:
            self._put_user(t, user._replace(verified=True))
        return user

    async def delete_user(
        self, mandator_id: str, user_id: str, now: float, *, unverified_only: bool = False
    ) -> User | None:
        t = self._t
        user = self._user(t, mandator_id, user_id, now)
        if user is not None and not (unverified_only and user.verified):
            self._remove_user(t, user, now)
        return user

    async def delete_users(self, mandator_id: str, user_ids: Sequence[str], now: float) -> list[User]:
        t = self._t
        deleted = []
        for user_id in user_ids:
            user = self._user(t, mandator_id, user_id, now)
            if user is not None:
                self._remove_user(t, user, now)
                deleted.append(user)
        return deleted

    async def mandator_users(self, mandator_id: str, now: float) -> MandatorUsers:
        t = self._t
        deletions = t.deletions
        while deletions and deletions[0][0] <= now:  # every due deletion (each is done once, here or by the purge)
            _, due_in, key = heapq.heappop(deletions)
            self._user(t, due_in, key, now)  # deletes it if still due (the schedule may have moved)
        live = MappingProxyType(t.mandators.get(mandator_id, {}))
        return MandatorUsers(live, list(t.deleted.get(mandator_id, ())))

    async def lock_user(self, mandator_id: str, user_id: str) -> User | None:
        t = self._t
        user = t.mandators.get(mandator_id, {}).get(user_id.lower())
        if user is None:
            return None
        self._revoke_user(t, user)
        return self._put_user(t, user._replace(locked=True))

    async def change_password(self, mandator_id: str, user_id: str, change_token: str, password: str) -> bool | None:
        t = self._t
        user = t.mandators.get(mandator_id, {}).get(user_id.lower())
        if user is None:
            return None
        if not secrets_equal(change_token, user.password_change_token):
            return False
        self._put_user(t, user._replace(password=password, password_change_token=None, locked=False, failed_logins=0))
        self._revoke_user(t, user)
        return True

    # processes
    async def create_processes(
        self, client_id: str, new: Sequence[NewProcess], now: float, limits: ProcessLimits
    ) -> list[Process]:
        t, capacity = self._t, self.capacity
        if len(t.processes) + len(new) > capacity.processes:
            raise _full(capacity.processes, "processes", "processes")
        if t.user_count + len(new) > capacity.users:  # each has a hidden user
            raise _full(capacity.users, "users", "users")
        return self._create_processes(t, client_id, new, now, limits)

    def _create_processes(
        self, t: _Tables, client_id: str, new: Sequence[NewProcess], now: float, limits: ProcessLimits
    ) -> list[Process]:
        client = t.clients[client_id]
        created = []
        for spec in new:
            user_id = self.rng.uuid(IDS, self._draw(t, IDS))
            password = self.rng.password(self._draw(t, IDS))
            token = spec.token or self.rng.uuid(IDS, self._draw(t, IDS))
            process = Process(
                token,
                client_id,
                client.mandator_id,
                spec.client_reference,
                spec.process_id,
                user_id,
                now,
                spec.exchanges,
                spec.invalidated,
            )
            user = User(client.mandator_id, user_id, password, created_at=now, process_user=True)
            self._put_user(t, user)
            t.processes[_key(token)] = process
            self._schedule_retention(t, process, user, now, limits)
            created.append(process)
        return created

    async def exchange_process(
        self, token: str, invalidate: bool, now: float, limits: ProcessLimits, policy: TokenPolicy
    ) -> Exchange:
        t = self._t
        self._purge(t, now, PURGE_BUDGET)
        process = t.processes.get(token.lower())
        if process is None:
            return Exchange("unknown")
        if process.invalidated:
            return Exchange("invalidated")
        if process.exchanges >= limits.max_exchanges:
            return Exchange("exhausted")
        if now >= process.created_at + limits.validity_days * DAY:
            return Exchange("expired")
        user = self._user(t, process.mandator_id, process.user_id, now)
        if user is None or not user.process_user:  # deleted, maybe its id taken by a user created since
            return Exchange("user_gone")
        self._room(t, now, 1)
        process = t.processes[token.lower()] = process._replace(exchanges=process.exchanges + 1, invalidated=invalidate)
        client = t.clients[process.client_id]
        grant = self._user_grant(t, client, user)
        access = self._mint(t, client, grant, client.config["userAccessTokensValidityPeriod"], now, policy, user.id)
        self._schedule_retention(t, process, user._replace(last_active_at=now), now, limits)
        return Exchange("ok", access)

    async def processes(self, now: float) -> list[Process]:
        return list(self._t.processes.values())

    def _schedule_retention(self, t: _Tables, process: Process, user: User, now: float, limits: ProcessLimits) -> None:
        """The hidden user is deleted `user_retention_days` after the process ends: its last allowed exchange, the
        exchange that invalidated it, or the end of its validity."""
        ended = process.invalidated or process.exchanges >= limits.max_exchanges
        end = now if ended else process.created_at + limits.validity_days * DAY
        when = end + limits.user_retention_days * DAY
        self._put_user(t, user._replace(delete_at=when))
        heapq.heappush(t.deletions, (when, user.mandator_id, _key(user.id)))

    # bank data
    async def add_connection(
        self, mandator_id: str, user_id: str, connection: Connection, accounts: Sequence[NewAccount], now: float
    ) -> Connection | None:
        t = self._t
        user = self._user(t, mandator_id, user_id, now)
        if user is None:
            return None
        bank = t.bank.of(mandator_id, user.key)
        if bank is not None:
            t.bank.land(bank, now)
        self._room_for_transactions(t, sum(len(new.transactions) for new in accounts))
        return t.bank.add(mandator_id, user.key, connection, accounts)

    async def connections(
        self, mandator_id: str, user_id: str, ids: Sequence[int] | None, now: float
    ) -> list[Connection]:
        bank = self._bank(self._t, mandator_id, user_id, now)
        if bank is None:
            return []
        found = bank.connections
        return [found[i] for i in sorted(found if ids is None else set(ids).intersection(found))]

    async def connection(self, mandator_id: str, user_id: str, connection_id: int, now: float) -> Connection | None:
        bank = self._bank(self._t, mandator_id, user_id, now)
        return None if bank is None else bank.connections.get(connection_id)

    async def delete_connections(
        self, mandator_id: str, user_id: str, ids: Sequence[int] | None, now: float
    ) -> tuple[DeleteOutcome, list[int]]:
        t = self._t
        bank = self._bank(t, mandator_id, user_id, now)
        if bank is None:
            return ("unknown", []) if ids else ("ok", [])
        outcome, deleted = bank.check_deletion(ids, now)
        if outcome == "ok":
            t.bank.delete(bank, deleted)
        return outcome, deleted

    async def accounts(self, mandator_id: str, user_id: str, query: AccountQuery, now: float) -> list[Account]:
        bank = self._bank(self._t, mandator_id, user_id, now)
        return [] if bank is None else bank.select_accounts(query)

    async def account(self, mandator_id: str, user_id: str, account_id: int, now: float) -> Account | None:
        bank = self._bank(self._t, mandator_id, user_id, now)
        return None if bank is None else bank.accounts.get(account_id)

    async def transactions(
        self, mandator_id: str, user_id: str, query: TransactionQuery, now: float
    ) -> TransactionPage:
        bank = self._bank(self._t, mandator_id, user_id, now)
        return TransactionPage([], 0, 0, 0) if bank is None else TransactionSearch(bank, query).page()

    async def transaction(self, mandator_id: str, user_id: str, transaction_id: int, now: float) -> Transaction | None:
        bank = self._bank(self._t, mandator_id, user_id, now)
        return None if bank is None else bank.transactions.get(transaction_id)

    async def schedule_updates(
        self, mandator_id: str, user_id: str, updates: Sequence[BatchUpdate], due: float, now: float
    ) -> ScheduleOutcome:
        t = self._t
        bank = self._bank(t, mandator_id, user_id, now)
        if bank is None:
            return "unknown" if updates else "ok"
        outcome = bank.check_updates(updates, now)
        if outcome == "ok":
            self._room_for_transactions(t, sum(len(a.transactions) for update in updates for a in update.accounts))
            t.bank.schedule(bank, updates, due)
        return outcome

    async def record_manual_update(
        self, mandator_id: str, user_id: str, connection_id: int, result: UpdateResult, now: float
    ) -> Connection | None:
        bank = self._bank(self._t, mandator_id, user_id, now)
        found = None if bank is None else bank.connections.get(connection_id)
        if bank is None or found is None:
            return None
        changed = found._replace(interfaces=tuple(i._replace(last_manual_update=result) for i in found.interfaces))
        bank.connections[connection_id] = changed
        return changed

    async def bank_summary(self, mandator_id: str | None, now: float) -> list[ConnectionSummary]:
        t = self._t
        rows = []
        for mandator in list(t.bank.users) if mandator_id is None else [mandator_id]:
            for key in list(t.bank.users.get(mandator, {})):
                bank = self._bank(t, mandator, key, now)
                if bank is None:  # the user's deletion was due
                    continue
                user_id = t.mandators[mandator][key].id
                rows += [
                    ConnectionSummary(c, user_id, len(c.account_ids), bank.transaction_count(c))
                    for c in bank.connections.values()
                ]
        return sorted(rows, key=lambda row: row.connection.id)

    @staticmethod
    def _bank(t: _Tables, mandator_id: str, user_id: str, now: float) -> UserBank | None:
        """The user's bank data with its updates due at `now` landed; None without a user or bank data."""
        user = MemoryStore._user(t, mandator_id, user_id, now)
        bank = None if user is None else t.bank.of(mandator_id, user.key)
        if bank is not None:
            t.bank.land(bank, now)
        return bank

    def _room_for_transactions(self, t: _Tables, needed: int) -> None:
        """Raise CapacityReached unless `needed` more transactions fit (with those of the updates not landed yet)."""
        limit = self.capacity.transactions
        if needed and t.bank.transactions + t.bank.pending + needed > limit:
            raise _full(limit, "transactions", "transactions")

    # Web Form 2.0
    async def create_web_form(self, form: WebForm) -> WebForm:
        self._web_form_room(self._t)
        return self._t.webforms.add_form(form)

    def _web_form_room(self, t: _Tables) -> None:
        webforms = t.webforms
        if len(webforms.forms.by_id) + len(webforms.tasks.by_id) >= self.capacity.web_forms:
            raise _full(self.capacity.web_forms, "web forms and tasks", "web-forms")

    async def web_form(self, web_form_id: str) -> WebForm | None:
        return self._t.webforms.forms.by_id.get(web_form_id)

    async def web_forms(self, mandator_id: str, user_id: str, descending: bool) -> list[WebForm]:
        return self._t.webforms.forms.of((mandator_id, user_id.lower()), descending)

    async def delete_web_form(self, mandator_id: str, user_id: str, web_form_id: str) -> bool:
        forms = self._t.webforms.forms
        form = forms.by_id.get(web_form_id)
        if form is None or (form.mandator_id, form.user_key.lower()) != (mandator_id, user_id.lower()):
            return False
        forms.remove(web_form_id)
        return True

    async def open_web_form(self, web_form_id: str, now: float) -> tuple[WebForm | None, bool]:
        t = self._t
        form = self._form(t, web_form_id, now)
        if form is None or form.final or form.opened:
            return form, False
        return t.webforms.forms.put(form._replace(opened=True, status="IN_PROGRESS")), True

    async def update_page(self, web_form_id: str, page: PageState) -> WebForm | None:
        forms = self._t.webforms.forms
        form = forms.by_id.get(web_form_id)
        if form is None or form.final:
            return None
        return forms.put(form._replace(page=page))

    async def finish_web_form(
        self,
        web_form_id: str,
        changes: WebForm,
        connection: tuple[Connection, Sequence[NewAccount]] | None,
        now: float,
    ) -> WebForm | None:
        t = self._t
        form = self._form(t, web_form_id, now)
        if form is None or form.final:
            return None
        changes = changes._replace(id=form.id, mandator_id=form.mandator_id, user_key=form.user_key)
        if connection is not None:
            new, accounts = connection
            bank = t.bank.of(form.mandator_id, form.user_key.lower())
            if bank is not None:
                t.bank.land(bank, now)
            self._room_for_transactions(t, sum(len(account.transactions) for account in accounts))
            stored = t.bank.add(form.mandator_id, form.user_key.lower(), new, accounts)
            changes = changes._replace(connection_id=stored.id)
        return t.webforms.forms.put(changes)

    async def due_web_forms(self, now: float) -> list[WebForm]:
        t = self._t
        return [form for form in t.webforms.forms.due_at(now) if self._owned(t, form, now)]

    async def create_task(self, task: Task, now: float) -> Literal["ok", "unknown", "locked"]:
        t = self._t
        bank = self._bank(t, task.mandator_id, task.user_key, now)
        found = None if bank is None else bank.connections.get(task.request.connection_id)
        if bank is None or found is None:
            return "unknown"
        if found.busy(now):
            return "locked"
        self._web_form_room(t)
        t.webforms.add_task(task)
        busy = found._replace(ready_at=task.ends_at, categorized_at=task.ends_at + CATEGORIZATION_SECONDS)
        bank.connections[found.id] = busy
        return "ok"

    async def task(self, task_id: str) -> Task | None:
        return self._t.webforms.tasks.by_id.get(task_id)

    async def tasks(self, mandator_id: str, user_id: str, descending: bool) -> list[Task]:
        return self._t.webforms.tasks.of((mandator_id, user_id.lower()), descending)

    async def update_task(self, task_id: str, changes: Task, form: WebForm | None) -> Task | None:
        webforms = self._t.webforms
        task = webforms.tasks.by_id.get(task_id)
        if task is None or task.final:
            return None
        if form is not None:
            webforms.add_form(form)
        return webforms.tasks.put(changes._replace(id=task.id, mandator_id=task.mandator_id, user_key=task.user_key))

    async def due_tasks(self, now: float) -> list[Task]:
        t = self._t
        return [task for task in t.webforms.tasks.due_at(now) if self._owned(t, task, now)]

    @staticmethod
    def _owned(t: _Tables, record: WebForm | Task, now: float) -> bool:
        """Whether the record's user exists; a record whose user is gone (its deletion due, or a form made for a user
        deleted meanwhile) is deleted, so the sweep never meets it again."""
        if MemoryStore._user(t, record.mandator_id, record.user_key, now) is not None:
            return True
        t.webforms.drop_record(record)
        return False

    @staticmethod
    def _form(t: _Tables, web_form_id: str, now: float) -> WebForm | None:
        """The form unless it or its user is gone (a user whose deletion is due is deleted with its forms)."""
        form = t.webforms.forms.by_id.get(web_form_id)
        if form is None or MemoryStore._user(t, form.mandator_id, form.user_key, now) is None:
            return None
        return form

    # callbacks sent
    async def record_callback(self, attempt: CallbackAttempt) -> None:
        self._t.webforms.callbacks.append(attempt)

    async def callbacks(self, limit: int | None = None) -> list[CallbackAttempt]:
        return list(islice(reversed(self._t.webforms.callbacks), limit))

    async def clear_callbacks(self) -> int:
        callbacks = self._t.webforms.callbacks
        cleared = len(callbacks)
        callbacks.clear()
        return cleared

    # faults
    async def add_fault(self, rule: FaultRule) -> bool:
        t = self._t
        if any(count.rule.name == rule.name for count in t.faults):
            return False
        t.faults.append(FaultCount(rule))
        t.prelude = t.prelude._replace(faults=(*t.prelude.faults, rule))
        return True

    async def fault_counts(self) -> list[FaultCount]:
        return list(self._t.faults)

    async def clear_faults(self) -> int:
        t = self._t
        cleared = len(t.faults)
        t.faults = []
        t.prelude = t.prelude._replace(faults=())
        return cleared

    async def fire_fault(self, matching: Sequence[str]) -> FaultRule | None:
        t = self._t
        wanted = set(matching)
        for index, (rule, matched, fired) in enumerate(t.faults):
            if rule.name not in wanted:
                continue
            matched += 1
            fires = matched > rule.after and (rule.times is None or fired < rule.times)
            if fires and rule.probability < 1:
                fires = self.rng.fraction(FAULTS, self._draw(t, FAULTS)) < rule.probability
            t.faults[index] = FaultCount(rule, matched, fired + fires)
            if fires:
                return rule
        return None

    # journal
    async def record(self, entry: Entry) -> None:
        self._t.journal.append(entry)

    async def journal(self, query: JournalQuery, limit: int | None = None) -> list[Entry]:
        selected = (entry for entry in reversed(self._t.journal) if query.selects(entry))
        return list(islice(selected, limit))

    async def count_journal(self, query: JournalQuery) -> int:
        return sum(1 for entry in self._t.journal if query.selects(entry))

    async def clear_journal(self, query: JournalQuery | None = None) -> int:
        journal = self._t.journal
        kept = [] if query is None else [entry for entry in journal if not query.selects(entry)]
        cleared = len(journal) - len(kept)
        journal.clear()
        journal.extend(kept)
        return cleared

    # upkeep and whole-state operations
    async def purge_expired(self, now: float, budget: int) -> int:
        t = self._t
        done = self._purge(t, now, budget)
        if len(t.tokens) < t.tokens_peak // 4 and t.tokens_peak >= SHRINK_FROM:
            self._shrink(t)
        return done

    async def stats(self) -> Stats:
        t = self._t
        grants = len(t.client_tokens) + sum(len(grants) for grants in t.grants_of_user.values())
        return Stats(
            clients=len(t.clients),
            users=t.user_count,
            tokens=len(t.tokens),
            grants=grants,
            processes=len(t.processes),
            expiry_index=t.expiry_entries,
            connections=t.bank.connections,
            accounts=t.bank.accounts,
            transactions=t.bank.transactions,
            journal_entries=len(t.journal),
            journal_bytes=sum(len(entry.body) for entry in t.journal if entry.body),
        )

    async def reset_mandator(self, mandator_id: str, fresh: MemoryStore) -> bool:
        old, new = self._t, fresh._t
        if mandator_id not in old.mandators and mandator_id not in new.mandators:
            return False
        t = _Tables(old.prelude.clock, self.journal_size, self.capacity.deleted_users)
        t.positions, t.faults, t.prelude, t.origin = old.positions, old.faults, old.prelude, old.origin
        t.clients = {k: c for k, c in old.clients.items() if c.mandator_id != mandator_id}
        t.clients.update({k: c for k, c in new.clients.items() if c.mandator_id == mandator_id})
        t.mandators = {**old.mandators, mandator_id: new.mandators.get(mandator_id, {})}
        for source, theirs in ((old, False), (new, True)):  # the others' slices from old, the mandator's from new
            for value, token in source.tokens.items():
                if (token.mandator_id == mandator_id) == theirs:
                    t.tokens[value] = token
                    if value in source.grant_of:
                        t.grant_of[value] = source.grant_of[value]
            for client_id, value in source.client_tokens.items():
                if (source.tokens[value].mandator_id == mandator_id) == theirs:
                    t.client_tokens[client_id] = value
            for pair, grant in source.user_grants.items():
                if (grant.mandator_id == mandator_id) == theirs:
                    t.user_grants[pair] = grant
            for owner, grants in source.grants_of_user.items():
                if (owner[0] == mandator_id) == theirs:
                    t.grants_of_user[owner] = grants
            for token_key, process in source.processes.items():
                if (process.mandator_id == mandator_id) == theirs:
                    t.processes[token_key] = process
            t.deletions.extend(d for d in source.deletions if (d[1] == mandator_id) == theirs)
            t.deleted.update((m, deque(kept)) for m, kept in source.deleted.items() if (m == mandator_id) == theirs)
            t.deleted_order.extend(m for m in source.deleted_order if (m == mandator_id) == theirs)
        heapq.heapify(t.deletions)
        self._index_expiry(t)
        t.user_count = sum(len(users) for users in t.mandators.values())
        t.tokens_peak = len(t.tokens)
        t.registered = sum(1 for client in t.clients.values() if client.registered)
        t.journal.extend(entry for entry in old.journal if entry.mandator_id != mandator_id)
        t.bank = BankTables.merged(old.bank, new.bank, mandator_id)
        t.webforms = WebFormTables.merged(old.webforms, new.webforms, mandator_id)
        self._t = t
        return True

    async def replace(self, fresh: MemoryStore) -> None:
        self.rng, self.journal_size, self._t = fresh.rng, fresh.journal_size, fresh._t
        self.capacity = fresh.capacity

    async def close(self) -> None:
        return None

    async def export(self, journal: bool) -> Assemble:
        """Copy the tables (flat copies: the records are immutable), all in this one step (30 to 50 ms for a million
        tokens, bench/snapshot.py); the function answered assembles the image from the copies off the event loop."""
        t = self._t
        tokens, grant_of, current = list(t.tokens.values()), dict(t.grant_of), dict(t.user_grants)
        deleted = {mandator: list(kept) for mandator, kept in t.deleted.items()}
        deleted_order = list(t.deleted_order)
        next_ids, banks = t.bank.image()
        forms, tasks, number, callbacks = t.webforms.image()
        image = StateImage(
            positions=dict(t.positions),
            clock=t.prelude.clock,
            mandators=list(t.mandators),
            clients=list(t.clients.values()),
            users=[user for users in t.mandators.values() for user in users.values()],
            deleted_users=[],
            tokens=[],
            token_grants=[],
            grants=[],
            client_tokens=dict(t.client_tokens),
            processes=list(t.processes.values()),
            faults=list(t.faults),
            journal=list(t.journal) if journal else None,
            next_ids=next_ids,
            banks=banks,
            web_forms=forms,
            tasks=tasks,
            next_number=number,
            callbacks=callbacks,
        )

        def assemble(rest: Callable[[], None] = no_rest) -> StateImage:
            oldest = {mandator: iter(kept) for mandator, kept in deleted.items()}
            numbers: dict[int, int] = {}
            current_ids = {id(grant) for grant in current.values()}
            grants: list[Grant] = []
            token_grants: list[int | None] = []
            for count, token in enumerate(tokens, 1):
                if count % ASSEMBLE_SLICE == 0:
                    rest()
                grant = grant_of.get(token.value)
                number = None
                if grant is not None:
                    number = numbers.get(id(grant))
                    if number is None:
                        number = numbers[id(grant)] = len(grants)
                        owner = (grant.client_id, grant.mandator_id, grant.user_key)
                        grants.append(Grant(*owner, id(grant) in current_ids))
                token_grants.append(number)
            return dataclasses.replace(
                image,
                deleted_users=[next(oldest[mandator]) for mandator in deleted_order],
                tokens=tokens,
                token_grants=token_grants,
                grants=grants,
            )

        return assemble

    @classmethod
    def from_image(
        cls, seed: int, image: StateImage, *, journal_size: int = 1000, capacity: Capacity = DEFAULT_CAPACITY
    ) -> MemoryStore:
        """A store holding the state of `image`; raises ImageProblem (`image.check`) when its records do not hold
        together. The journal keeps its newest `journal_size` entries, and the deleted users their newest
        `capacity.deleted_users`; everything else is loaded whatever `capacity` says."""
        check(image)
        store = cls(seed, image.clock, journal_size=journal_size, capacity=capacity)
        t = store._t
        t.positions = dict(image.positions)
        for mandator in image.mandators:
            t.mandators.setdefault(mandator, {})
        for client in image.clients:
            store.load_client(client)
        t.registered = sum(1 for client in image.clients if client.registered)
        for user in image.users:
            store.load_user(user)
            if user.delete_at is not None:
                heapq.heappush(t.deletions, (user.delete_at, user.mandator_id, user.key))
        for deleted in image.deleted_users[max(0, len(image.deleted_users) - t.deleted_cap) :]:
            t.deleted.setdefault(deleted.mandator_id, deque()).append(deleted)
            t.deleted_order.append(deleted.mandator_id)
        grants = [_Grant(grant.client_id, grant.mandator_id, grant.user_key) for grant in image.grants]
        for grant, shown in zip(grants, image.grants, strict=True):
            of_user = t.grants_of_user.setdefault((grant.mandator_id, grant.user_key), [])
            grant.index = len(of_user)
            of_user.append(grant)
            if shown.current:
                t.user_grants[(grant.client_id, grant.user_key)] = grant
        shared: dict[str, str] = {}  # one string per client, mandator and user id, as tokens made by requests share
        for given, number in zip(image.tokens, image.token_grants, strict=True):
            value, client_id, mandator_id, user_id, is_refresh, expires_at = given
            client_id = shared.setdefault(client_id, client_id)
            mandator_id = shared.setdefault(mandator_id, mandator_id)
            user_id = None if user_id is None else shared.setdefault(user_id, user_id)
            token: Token = tuple.__new__(Token, (value, client_id, mandator_id, user_id, is_refresh, expires_at))
            t.tokens[token.value] = token
            if number is not None:
                grant = t.grant_of[token.value] = grants[number]
                if token.is_refresh:
                    grant.refresh = token.value
                else:
                    grant.access.append(token.value)
        t.client_tokens = dict(image.client_tokens)
        t.tokens_peak = len(t.tokens)
        cls._index_expiry(t)
        t.processes = {_key(process.token): process for process in image.processes}
        store.load_faults([count.rule for count in image.faults])
        t.faults = list(image.faults)
        t.journal.extend(image.journal or ())
        t.bank = BankTables.from_image(image.next_ids, image.banks)
        t.webforms = WebFormTables.from_image(image.web_forms, image.tasks, image.next_number, image.callbacks)
        return store

    # the parts operations share
    @staticmethod
    def _user(t: _Tables, mandator_id: str, user_id: str, now: float) -> User | None:
        user = t.mandators.get(mandator_id, {}).get(user_id.lower())
        if user is not None and user.delete_at is not None and user.delete_at <= now:
            MemoryStore._remove_user(t, user, user.delete_at)
            return None
        return user

    @staticmethod
    def _put_user(t: _Tables, user: User) -> User:
        users = t.mandators.setdefault(user.mandator_id, {})
        key = _key(user.id)
        if key not in users:
            t.user_count += 1
        users[key] = user
        return user

    @staticmethod
    def _remove_user(t: _Tables, user: User, when: float) -> None:
        """Delete the user with its tokens and bank data, remembering the deletion (dated `when`)."""
        MemoryStore._revoke_user(t, user)
        if t.mandators.get(user.mandator_id, {}).pop(user.key, None) is None:
            return
        t.user_count -= 1
        t.bank.drop(user.mandator_id, user.key)
        t.webforms.drop(user.mandator_id, user.key)
        if t.deleted_cap <= 0:
            return
        record = DeletedUser(user.mandator_id, distorted_id(user.id), user.created_at, when, user.last_active_at)
        t.deleted.setdefault(user.mandator_id, deque()).append(record)
        t.deleted_order.append(user.mandator_id)
        if len(t.deleted_order) > t.deleted_cap:  # forget the oldest deletion (of whichever mandator)
            oldest = t.deleted_order.popleft()
            kept = t.deleted[oldest]
            kept.popleft()
            if not kept:
                del t.deleted[oldest]

    @staticmethod
    def _user_grant(t: _Tables, client: Client, user: User) -> _Grant:
        key = _key(user.id)
        grant = _Grant(client.client_id, client.mandator_id, key)
        grants = t.grants_of_user.setdefault((user.mandator_id, key), [])
        grant.index = len(grants)
        grants.append(grant)
        return grant

    @staticmethod
    def _revoke_user(t: _Tables, user: User) -> None:
        for grant in t.grants_of_user.pop((user.mandator_id, user.key), ()):
            MemoryStore._revoke_grant(t, grant)

    @staticmethod
    def _live(t: _Tables, value: str, now: float) -> Token | None:
        """The token with this value unless it expired (an expired one is dropped on sight)."""
        token = t.tokens.get(value)
        if token is not None and _expired(token, now):
            MemoryStore._drop_token(t, value)
            return None
        return token

    @staticmethod
    def _reusable(t: _Tables, value: str, now: float) -> Token | None:
        """The current access token `value` if it may be handed out again: not in its last second (it would show
        `expires_in: 0`, which means "never expires", and die right after; `Token.expires_in`)."""
        token = MemoryStore._live(t, value, now)
        if token is not None and token.expires_at is not None and token.expires_in(now) == 0:
            return None
        return token

    def _mint(
        self,
        t: _Tables,
        client: Client,
        grant: _Grant | None,
        lifetime: int,
        now: float,
        policy: TokenPolicy,
        user_id: str | None = None,
        *,
        is_refresh: bool = False,
    ) -> Token:
        """A new token of `client` (and of `grant`'s user, whose id is `user_id`; no grant: a client token)."""
        value = self.rng.token(policy.format, self._draw(t, TOKENS))
        expires_at = now + lifetime if lifetime else None
        token = Token(value, client.client_id, client.mandator_id, user_id, is_refresh, expires_at)
        t.tokens[value] = token
        if grant is not None:
            t.grant_of[value] = grant
            if is_refresh:
                grant.refresh = value
            else:
                grant.access.append(value)
        if len(t.tokens) > t.tokens_peak:
            t.tokens_peak = len(t.tokens)
        if expires_at is not None:
            self._file_expiry(t, expires_at, value)
            if not t.compact_todo and t.expiry_entries > 2 * len(t.tokens) + COMPACT_SLACK:
                t.compact_todo = list(t.expiry_seconds)  # a pass of `_compact`, a bounded batch per operation
        return token

    def _room(self, t: _Tables, now: float, needed: int) -> None:
        """Raise CapacityReached unless `needed` more tokens fit (expired ones waiting for the purge make room)."""
        limit = self.capacity.tokens
        if needed > 0 and len(t.tokens) + needed > limit:
            self._purge(t, now, PURGE_BUDGET)
            if len(t.tokens) + needed > limit:
                raise _full(limit, "live tokens", "tokens")

    @staticmethod
    def _file_expiry(t: _Tables, expires_at: float, value: str) -> None:
        second = math.ceil(expires_at)
        bucket = t.expiry.get(second)
        if bucket is None:
            t.expiry[second] = [value]
            heapq.heappush(t.expiry_seconds, second)
        else:
            bucket.append(value)
        t.expiry_entries += 1

    @staticmethod
    def _index_expiry(t: _Tables) -> None:
        """Build the expiry index anew from the tokens of `t` (a state being assembled, not one being served)."""
        t.expiry, t.expiry_seconds, t.expiry_entries = {}, [], 0
        t.compact_todo, t.compact_second, t.compact_old = [], None, []
        for value, token in t.tokens.items():
            if token.expires_at is not None:
                MemoryStore._file_expiry(t, token.expires_at, value)

    @staticmethod
    def _compact(t: _Tables, budget: int) -> int:
        """Shed up to `budget` stale entries' worth of the expiry index (a pass runs once most of it is stale).

        Revoked tokens leave their entry behind until their second is purged; without this, refreshing or revoking
        in a loop would grow the index by one entry per token for a whole lifetime while `tokens` stays small. A pass
        goes through the buckets one entry at a time: the bucket being compacted takes new entries and the surviving
        old ones, so a pass is spread over any number of operations and each does a bounded part of it."""
        done = 0
        while done < budget:
            old = t.compact_old
            if not old:
                t.compact_second = None
                if not t.compact_todo:
                    break
                second = t.compact_todo.pop()
                bucket = t.expiry.get(second)
                done += 1
                if bucket:
                    t.compact_second, t.compact_old, t.expiry[second] = second, bucket, []
                continue
            assert t.compact_second is not None
            bucket = t.expiry[t.compact_second]
            tokens = t.tokens
            for _ in range(min(len(old), budget - done)):
                value = old.pop()
                if value in tokens:
                    bucket.append(value)
                else:
                    t.expiry_entries -= 1
                done += 1
        return done

    @staticmethod
    def _shrink(t: _Tables) -> None:
        """Copy the token tables into ones of their size: a dict keeps the room of its largest size until then."""
        t.tokens = dict(t.tokens)
        t.grant_of = dict(t.grant_of)
        t.tokens_peak = len(t.tokens)

    @staticmethod
    def _drop_token(t: _Tables, value: str) -> None:
        token = t.tokens.pop(value, None)
        if token is None:
            return
        grant = t.grant_of.pop(value, None)
        if grant is None:  # a client token
            if t.client_tokens.get(token.client_id) == value:
                del t.client_tokens[token.client_id]
            return
        if token.is_refresh:
            grant.refresh = None
        elif value in grant.access:
            grant.access.remove(value)
        if not grant.access and grant.refresh is None:
            MemoryStore._forget_grant(t, grant)

    @staticmethod
    def _revoke_grant(t: _Tables, grant: _Grant) -> None:
        for value in [*grant.access, *([grant.refresh] if grant.refresh else [])]:
            t.tokens.pop(value, None)
            t.grant_of.pop(value, None)
        grant.access.clear()
        grant.refresh = None
        MemoryStore._forget_grant(t, grant)

    @staticmethod
    def _forget_grant(t: _Tables, grant: _Grant) -> None:
        if t.user_grants.get((grant.client_id, grant.user_key)) is grant:
            del t.user_grants[(grant.client_id, grant.user_key)]
        grants = t.grants_of_user.get((grant.mandator_id, grant.user_key))
        index = grant.index
        if grants is not None and index < len(grants) and grants[index] is grant:
            last = grants.pop()  # the last one takes its place: O(1) however many grants the user has
            if last is not grant:
                grants[index], last.index = last, index
            if not grants:
                del t.grants_of_user[(grant.mandator_id, grant.user_key)]

    @staticmethod
    def _purge(t: _Tables, now: float, budget: int) -> int:
        """Up to `budget` due user deletions and expired tokens (O(1) when nothing is due), then, while a pass of
        `_compact` runs, up to `budget` entries of it. Answers the deletions and tokens purged."""
        done = 0
        deletions = t.deletions
        while deletions and deletions[0][0] <= now and done < budget:
            _, mandator_id, key = heapq.heappop(deletions)
            MemoryStore._user(t, mandator_id, key, now)  # deletes it if still due (the schedule may have moved)
            done += 1
        seconds = t.expiry_seconds
        while seconds and seconds[0] <= now and done < budget:
            bucket = t.expiry[seconds[0]]
            if seconds[0] == t.compact_second:  # due while being compacted: purge its old entries too
                bucket.extend(t.compact_old)
                t.compact_second, t.compact_old = None, []
            while bucket and done < budget:
                MemoryStore._live(t, bucket.pop(), now)  # drops it if still there (and expired: its second is past)
                t.expiry_entries -= 1
                done += 1
            if not bucket:
                del t.expiry[heapq.heappop(seconds)]
        if t.compact_todo or t.compact_old:
            MemoryStore._compact(t, budget)
        return done


ASSEMBLE_SLICE = 2000
"""Tokens an export's `assemble` goes through between two rests."""


def _key(value: str) -> str:
    """The lower-cased form of a user id or process token as a table key: the value itself when it is lower-case
    already, so the table and the record share one string."""
    lower = value.lower()
    return value if lower == value else lower


def _full(limit: int, what: str, flag: str) -> errors.CapacityReached:
    return errors.CapacityReached(errors.MSG_CAPACITY.format(limit=limit, what=what, flag=flag))


def _expired(token: Token, now: float) -> bool:
    return token.expires_at is not None and now >= token.expires_at

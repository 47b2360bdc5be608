"""The Redis backend of the Store protocol: one sandbox shared by every worker and replica that names the same Redis
and key prefix (`serve --state redis://HOST:PORT/DB`).

Redis holds the whole state as an ordered log of the store's operations on top of a base image, and the log's
order is the one truth every process agrees on (state machine replication, as Redis' own append-only file does it):

- `{prefix}:log`: a list of entries, each the operations of one round trip of one process (`create_user`,
  `issue_client_token`, `fire_fault`, `record`, `replace`...) with their arguments, the virtual time they act at
  included;
- `{prefix}:base`: the state (a `MemoryStore`'s tables) at a position of the log; `{prefix}:meta`: a hash with the
  log's first position (`seq`), the base's (`at`: the log holds the entries since the previous base), the log's
  bytes since the base and the bytes at which it is folded (`bytes`, `limit`), and the sandbox's `epoch` (a new one
  when the prefix is seeded from scratch).

Every process keeps a replica of the state (a `MemoryStore`) that has applied the log up to some position. An
operation that may change the state is appended to the log by one Lua script, which answers the entries other
processes logged between the replica's position and its own: the process applies those, then its own in the order
they were appended, and answers each operation with what applying it gave. Redis runs a script alone, so the log's
order is a total order of all operations of all processes, and since applying an operation is deterministic (time
and the seeded source are arguments or state), every replica that has reached a position holds the same state. That
is how the invariants hold across processes with no lock of ours: of 200 concurrent `create_user` of one id exactly
one is first in the log; a process token's exchanges are counted in log order; a fault's `times` too; a reset is one
entry, so every process switches at the same point; a clock move is seen by the next request anywhere, since every
request begins with `prepare`, which catches the replica up (one round trip). Reads that change nothing (`client`,
`clients`, `journal`...) are answered by the replica as it stands after that.

Operations that meet while a round trip is on its way wait and go together in the next one (group commit): under
load a round trip carries many operations, which is what keeps the cost per request low (bench/redis_store.py). Two
kinds of operation skip the queue: `resolve` when it would change nothing (no purge due, the token not expired) is
a read of the replica, and `record` (the journal) is queued without waiting for its round trip; the journal's
reads catch up first, so they see every entry recorded before.

The log is folded into the base (`compact`) each time it grows by `COMPACT_RATIO` times the base's bytes (the rule
of Redis' own append-only file rewrite): the process whose entry crossed that mark writes its replica as the new
base and trims the log up to the previous base in one script; a replica a whole fold behind reloads the base.
Writing the base pauses the requests in proportion to the state, so a larger state is folded more rarely.

Entries are pickles that only this module's allow-list may load (`_Unpickler.find_class`: the emulator's own records
and a few standard types), so a Redis writer cannot make a replica run code; an entry that does not load is skipped
by every replica alike (and logged).

When Redis cannot be reached, or answers late (`TIMEOUT` seconds), the operations waiting fail with
`errors.StoreUnavailable` (a finAPI-shaped 503); the next operation connects again by itself.
"""

from __future__ import annotations

import asyncio
import io
import logging
import pickle
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from mock_finapi import errors
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
from mock_finapi.state.memory import MemoryStore
from mock_finapi.state.models import (
    Bearer,
    Client,
    Entry,
    FaultCount,
    FaultRule,
    JournalQuery,
    Origin,
    Process,
    Token,
    User,
)
from mock_finapi.state.protocol import (
    Exchange,
    Login,
    MandatorUsers,
    NewProcess,
    Prelude,
    ProcessLimits,
    Stats,
    Store,
    TokenPolicy,
)
from mock_finapi.state.webforms import CallbackAttempt, PageState, Task, WebForm

log = logging.getLogger("mock_finapi.redis")

P = ParamSpec("P")
R = TypeVar("R")

TIMEOUT = 5.0
"""Seconds a connection attempt or an answer of Redis may take before the operations waiting fail (503)."""
COMPACT_RATIO = 8
"""The log is folded into a new base each time it grows by this many times the base's bytes (at least
COMPACT_MIN_BYTES): writing a base pauses the requests in proportion to the state (2.7 µs per user), so a larger
state is folded more rarely (bench/redis_store.py: folding whenever the log held as many entries as the state
records, the pauses set p99 latency). Redis keeps the log since the previous base: up to about twice this many
times the base's bytes."""
COMPACT_MIN_BYTES = 4 * 1024 * 1024
"""Log bytes before the first fold of a small state."""
BATCH = 500
"""Operations one round trip carries at most."""

_APPEND = """
local epoch, seq, bytes, limit = unpack(redis.call('HMGET', KEYS[1], 'epoch', 'seq', 'bytes', 'limit'))
if epoch ~= ARGV[1] then return {0} end
local base = tonumber(seq)
local from = tonumber(ARGV[2])
local length = redis.call('LLEN', KEYS[2])
if from < base or from > base + length then return {0} end
local theirs = redis.call('LRANGE', KEYS[2], from - base, -1)
local fold = 0
if ARGV[3] then
  length = redis.call('RPUSH', KEYS[2], ARGV[3])
  local before, every = tonumber(bytes) or 0, tonumber(limit)
  local after = redis.call('HINCRBY', KEYS[1], 'bytes', #ARGV[3])
  if every and math.floor(after / every) > math.floor(before / every) then fold = 1 end
end
return {1, base + length, theirs, fold}
"""
"""Append ARGV[3] (if given) to the log of epoch ARGV[1] and answer {1, the log's end, the entries from position
ARGV[2] up to the appended one (the caller knows its own), 1 when the log's bytes crossed a multiple of the fold
limit with it (the caller folds)}; {0} when the replica must load the state again (another epoch, or its position
was folded into the base)."""

_SEED = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'seq', 0, 'at', 0, 'bytes', 0, 'limit', ARGV[3])
redis.call('SET', KEYS[3], ARGV[2])
redis.call('DEL', KEYS[2])
return 1
"""
"""Seed an empty prefix with the base ARGV[2] (fold limit ARGV[3]) under epoch ARGV[1]; 0 when the prefix holds a
sandbox already."""

_LOAD = """
local epoch, seq, at = unpack(redis.call('HMGET', KEYS[1], 'epoch', 'seq', 'at'))
if not epoch then return {} end
local since = redis.call('LRANGE', KEYS[2], tonumber(at) - tonumber(seq), -1)
return {epoch, tonumber(at), redis.call('GET', KEYS[3]), since}
"""
"""The sandbox as it stands: {epoch, the base's position, the base, the log from there}; {} for an empty prefix."""

_COMPACT = """
local epoch, seq, at = unpack(redis.call('HMGET', KEYS[1], 'epoch', 'seq', 'at'))
local first, last, upto = tonumber(seq), tonumber(at), tonumber(ARGV[2])
if epoch ~= ARGV[1] or upto <= last or upto > first + redis.call('LLEN', KEYS[2]) then return 0 end
redis.call('LTRIM', KEYS[2], last - first, -1)
local bytes = 0
for _, entry in ipairs(redis.call('LRANGE', KEYS[2], upto - last, -1)) do bytes = bytes + #entry end
redis.call('SET', KEYS[3], ARGV[3])
redis.call('HSET', KEYS[1], 'seq', last, 'at', upto, 'bytes', bytes, 'limit', ARGV[4])
return 1
"""
"""Make ARGV[3] (the state at position ARGV[2]; fold limit ARGV[4]) the base, and drop the entries before the
previous base's position, so that a replica that is not a whole fold behind goes on without loading the new base; 0
when the base is not newer."""

_SAFE_MODULES = frozenset(
    {
        "mock_finapi.clock",
        "mock_finapi.randomness",
        "mock_finapi.settings",
        "mock_finapi.scenarios.schema",
        "mock_finapi.state.bank_tables",
        "mock_finapi.state.banking",
        "mock_finapi.state.memory",
        "mock_finapi.state.models",
        "mock_finapi.state.protocol",
        "mock_finapi.state.webform_tables",
        "mock_finapi.state.webforms",
    }
)
"""Where the state's records and tables are defined."""
_SAFE_GLOBALS = frozenset(
    {
        ("builtins", "frozenset"),
        ("builtins", "set"),
        ("builtins", "object"),
        ("collections", "deque"),
        ("copyreg", "_reconstructor"),
        ("datetime", "datetime"),
        ("datetime", "timedelta"),
        ("datetime", "timezone"),
        ("mock_finapi.state.webform_tables", "_form_due"),  # the due-time heaps' keys
        ("mock_finapi.state.webform_tables", "_task_due"),
    }
)


class _Unpickler(pickle.Unpickler):
    """Loads classes of the state's own modules and a few standard types and functions, nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _SAFE_GLOBALS:
            return super().find_class(module, name)
        if module in _SAFE_MODULES:
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise pickle.UnpicklingError(f"not allowed in the shared state: {module}.{name}")


def _dumps(value: object) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _loads(data: bytes) -> Any:
    """What `_dumps` wrote; errors.StoreUnavailable for anything else (a class outside the allow-list included)."""
    try:
        return _Unpickler(io.BytesIO(data)).load()
    except Exception as exc:
        raise errors.StoreUnavailable(f"The shared state holds data this server cannot read ({exc}).") from exc


class _Op:
    """An operation waiting for its round trip: what to append, and what to answer."""

    __slots__ = ("args", "future", "kwargs", "name")

    def __init__(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], future: asyncio.Future[Any]) -> None:
        self.name, self.args, self.kwargs, self.future = name, args, kwargs, future


class RedisStore:
    """The Store protocol on a Redis log with a replica per process (see the module docstring)."""

    def __init__(self, url: str, prefix: str, seed_state: MemoryStore) -> None:
        self.url, self.prefix = url, prefix
        self._keys = [f"{prefix}:meta", f"{prefix}:log", f"{prefix}:base"]
        self._seed_state: MemoryStore | None = seed_state
        """What an empty prefix is seeded with; dropped once attached."""
        self._replica = seed_state
        self._epoch = ""
        self._position = -1
        """How much of the log the replica has applied (-1: not attached yet)."""
        self._clients: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: list[_Op] = []
        self._pump: asyncio.Task[None] | None = None
        self._compacting = False
        self._compaction: asyncio.Future[None] | None = None
        """The compaction on its way (held so that it is not collected before it ends)."""

    # connection
    def _client(self) -> aioredis.Redis:
        """The Redis client of the running event loop (a client's connections belong to one loop)."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = aioredis.Redis.from_url(
                self.url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT, retry_on_timeout=False
            )
        if self._loop is not loop:
            self._loop, self._pump, self._waiting = loop, None, []
        return client

    async def _attach(self) -> None:
        client = self._client()
        if self._seed_state is not None:
            epoch = secrets.token_hex(8)
            base = _dumps(self._seed_state)
            if await _run(client, _SEED, self._keys, epoch, base, _fold_limit(base)):
                self._replica, self._epoch, self._position, self._seed_state = self._seed_state, epoch, 0, None
                return
        await self._load(client)

    async def _load(self, client: aioredis.Redis) -> None:
        found = await _run(client, _LOAD, self._keys)
        if not found:  # the prefix was emptied (FLUSHDB): seed it again with the state this replica has
            self._seed_state = self._replica
            await self._attach()
            return
        epoch, position, base, entries = found
        replica: MemoryStore = _loads(base)
        for entry in entries:
            await self._apply(replica, entry)
        self._replica, self._epoch, self._seed_state = replica, epoch.decode(), None
        self._position = int(position) + len(entries)

    async def close(self) -> None:
        """Log what is queued still (journal entries), then let go of this event loop's connections."""
        if self._pump is not None and self._loop is asyncio.get_running_loop():
            await asyncio.wait([self._pump])
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    # the log
    async def _logged(
        self, op: Callable[Concatenate[MemoryStore, P], Awaitable[R]], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Run `op` of the replica at its place in the log (appended there in the next round trip)."""
        result: R = await self._enqueue(op.__name__, args, kwargs)
        return result

    def _enqueue(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> asyncio.Future[Any]:
        """Queue an operation for the next round trip: the future of its answer."""
        self._client()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Op(name, args, kwargs, future))
        if self._pump is None:
            self._pump = asyncio.ensure_future(self._rounds())
        return future

    async def _caught_up(self) -> MemoryStore:
        """The replica, once it has applied every entry logged before this call (a round trip with nothing to add)."""
        await self._logged(_nothing)
        return self._replica

    async def _rounds(self) -> None:
        while self._waiting:
            # Two turns of the event loop first: the requests the last round woke queue their next operations, and
            # requests just read start theirs, so they all go in this round (a third fewer round trips per request
            # under load, bench/redis_store.py; the two turns cost microseconds against a round trip's ~150).
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            batch, self._waiting = self._waiting[:BATCH], self._waiting[BATCH:]
            try:
                async with _reaching():
                    await self._round(batch)
            except Exception as exc:  # every operation of the round hears of it; the next round tries again
                if not isinstance(exc, errors.StoreUnavailable):
                    log.exception("a round trip of the shared state failed")
                for op in batch:
                    if not op.future.done():
                        op.future.set_exception(exc)
        self._pump = None

    async def _round(self, batch: list[_Op]) -> None:
        client = self._client()
        if self._position < 0:
            await self._attach()
        mine = [op for op in batch if op.name != _NOTHING]
        payload = [_dumps([(op.name, op.args, op.kwargs) for op in mine])] if mine else []  # one entry per round
        while True:
            answer = await _run(client, _APPEND, self._keys[:2], self._epoch, self._position, *payload)
            if answer[0]:
                break
            await self._load(client)  # another epoch, or left behind a compaction: nothing was appended
        _, end, theirs, fold = answer
        replica = self._replica
        for entry in theirs:
            await self._apply(replica, entry)
            self._position += 1
        for op in mine:
            try:
                result = await getattr(MemoryStore, op.name)(replica, *op.args, **op.kwargs)
            except Exception as exc:  # the same on every replica: it changed nothing (CapacityReached...)
                if not op.future.done():
                    op.future.set_exception(exc)
            else:
                if not op.future.done():
                    op.future.set_result(result)
        for op in batch:
            if not op.future.done():
                op.future.set_result(None)
        self._position = end = int(end)
        if fold and not self._compacting:
            self._compaction = asyncio.ensure_future(self._compact(end, _dumps(replica)))

    @staticmethod
    async def _apply(replica: MemoryStore, entry: bytes) -> None:
        """Apply a log entry (the operations of one round, in order); what is not an operation of ours (written to
        Redis by someone else) is skipped, by every replica alike."""
        try:
            ops = _loads(entry)
            if not isinstance(ops, list):
                raise errors.StoreUnavailable("not a list of operations")
        except errors.StoreUnavailable as exc:
            log.error("a log entry of the shared state was skipped: %s", exc)
            return
        for op in ops:
            try:
                name, args, kwargs = op
                if name not in OPERATIONS:
                    raise ValueError(f"unknown operation {name!r}")
                call = getattr(MemoryStore, name)(replica, *args, **kwargs)
            except (TypeError, ValueError) as exc:
                log.error("an operation of the shared state's log was skipped: %s", exc)
                continue
            try:
                await call
            except Exception:  # as on the replica that logged it: it changed nothing there either
                log.debug("logged %s failed (as it did where it was logged)", name, exc_info=True)

    async def _compact(self, position: int, base: bytes) -> None:
        self._compacting = True
        try:
            await _run(self._client(), _COMPACT, self._keys, self._epoch, position, base, _fold_limit(base))
        except RedisError:
            log.warning("folding the log into a new base failed; the next one will try again", exc_info=True)
        finally:
            self._compacting = False

    @property
    def origin(self) -> Origin | None:
        return self._replica.origin

    # per request
    async def prepare(self) -> Prelude:
        return await (await self._caught_up()).prepare()

    async def draw(self, stream: str) -> int:
        return await self._logged(MemoryStore.draw, stream)

    async def move_clock(self, move: ClockMove, real: float) -> ClockState:
        return await self._logged(MemoryStore.move_clock, move, real)

    # clients
    async def client(self, client_id: str) -> Client | None:
        return await self._replica.client(client_id)

    async def register_client(self, client: Client) -> Client:
        return await self._logged(MemoryStore.register_client, client)

    async def update_client_config(self, client_id: str, changes: Mapping[str, Any]) -> Client | None:
        return await self._logged(MemoryStore.update_client_config, client_id, dict(changes))

    async def mandator_client(self, mandator_id: str) -> Client | None:
        return await self._replica.mandator_client(mandator_id)

    async def clients(self) -> list[Client]:
        return await self._replica.clients()

    async def mandators(self) -> list[str]:
        return await self._replica.mandators()

    # tokens
    async def issue_client_token(self, client_id: str, now: float, policy: TokenPolicy) -> Token:
        return await self._logged(MemoryStore.issue_client_token, client_id, now, policy)

    async def login(self, client_id: str, username: str, password: str, now: float, policy: TokenPolicy) -> Login:
        return await self._logged(MemoryStore.login, client_id, username, password, now, policy)

    async def refresh(self, client_id: str, refresh_token: str, now: float, policy: TokenPolicy) -> Token | None:
        return await self._logged(MemoryStore.refresh, client_id, refresh_token, now, policy)

    async def resolve(self, value: str, now: float) -> Bearer | None:
        if self._replica.resolves_quietly(value, now):  # the usual case: a read
            return await self._replica.resolve(value, now)
        return await self._logged(MemoryStore.resolve, value, now)

    async def revoke(self, client_id: str, value: str, hint: str | None, now: float) -> None:
        await self._logged(MemoryStore.revoke, client_id, value, hint, now)

    async def expire_token(self, value: str, now: float) -> Token | None:
        return await self._logged(MemoryStore.expire_token, value, now)

    async def tokens(self, now: float) -> list[Token]:
        return await self._logged(MemoryStore.tokens, now)

    # users
    async def create_user(self, user: User) -> bool:
        return await self._logged(MemoryStore.create_user, user)

    async def user(self, mandator_id: str, user_id: str, now: float) -> User | None:
        return await self._logged(MemoryStore.user, mandator_id, user_id, now)

    async def users(self, mandator_id: str | None, now: float) -> list[User]:
        return await self._logged(MemoryStore.users, mandator_id, now)

    async def update_user(self, mandator_id: str, user_id: str, changes: Mapping[str, Any]) -> User | None:
        return await self._logged(MemoryStore.update_user, mandator_id, user_id, dict(changes))

    async def verify_user(self, mandator_id: str, user_id: str) -> User | None:
        return await self._logged(MemoryStore.verify_user, mandator_id, user_id)

    async def delete_user(
        self, mandator_id: str, user_id: str, now: float, *, unverified_only: bool = False
    ) -> User | None:
        return await self._logged(MemoryStore.delete_user, mandator_id, user_id, now, unverified_only=unverified_only)

    async def delete_users(self, mandator_id: str, user_ids: Sequence[str], now: float) -> list[User]:
        return await self._logged(MemoryStore.delete_users, mandator_id, list(user_ids), now)

    async def mandator_users(self, mandator_id: str, now: float) -> MandatorUsers:
        return await self._logged(MemoryStore.mandator_users, mandator_id, now)

    async def lock_user(self, mandator_id: str, user_id: str) -> User | None:
        return await self._logged(MemoryStore.lock_user, mandator_id, user_id)

    async def change_password(self, mandator_id: str, user_id: str, change_token: str, password: str) -> bool | None:
        return await self._logged(MemoryStore.change_password, mandator_id, user_id, change_token, password)

    # processes
    async def create_processes(
        self, client_id: str, new: Sequence[NewProcess], now: float, limits: ProcessLimits
    ) -> list[Process]:
        return await self._logged(MemoryStore.create_processes, client_id, list(new), now, limits)

    async def exchange_process(
        self, token: str, invalidate: bool, now: float, limits: ProcessLimits, policy: TokenPolicy
    ) -> Exchange:
        return await self._logged(MemoryStore.exchange_process, token, invalidate, now, limits, policy)

    async def processes(self, now: float) -> list[Process]:
        return await self._logged(MemoryStore.processes, now)

    # bank data: every read may land due updates, so every operation goes through the log
    async def add_connection(
        self, mandator_id: str, user_id: str, connection: Connection, accounts: Sequence[NewAccount], now: float
    ) -> Connection | None:
        return await self._logged(MemoryStore.add_connection, mandator_id, user_id, connection, list(accounts), now)

    async def connections(
        self, mandator_id: str, user_id: str, ids: Sequence[int] | None, now: float
    ) -> list[Connection]:
        return await self._logged(MemoryStore.connections, mandator_id, user_id, _listed(ids), now)

    async def connection(self, mandator_id: str, user_id: str, connection_id: int, now: float) -> Connection | None:
        return await self._logged(MemoryStore.connection, mandator_id, user_id, connection_id, now)

    async def delete_connections(
        self, mandator_id: str, user_id: str, ids: Sequence[int] | None, now: float
    ) -> tuple[DeleteOutcome, list[int]]:
        return await self._logged(MemoryStore.delete_connections, mandator_id, user_id, _listed(ids), now)

    async def accounts(self, mandator_id: str, user_id: str, query: AccountQuery, now: float) -> list[Account]:
        return await self._logged(MemoryStore.accounts, mandator_id, user_id, query, now)

    async def account(self, mandator_id: str, user_id: str, account_id: int, now: float) -> Account | None:
        return await self._logged(MemoryStore.account, mandator_id, user_id, account_id, now)

    async def transactions(
        self, mandator_id: str, user_id: str, query: TransactionQuery, now: float
    ) -> TransactionPage:
        return await self._logged(MemoryStore.transactions, mandator_id, user_id, query, now)

    async def transaction(self, mandator_id: str, user_id: str, transaction_id: int, now: float) -> Transaction | None:
        return await self._logged(MemoryStore.transaction, mandator_id, user_id, transaction_id, now)

    async def schedule_updates(
        self, mandator_id: str, user_id: str, updates: Sequence[BatchUpdate], due: float, now: float
    ) -> ScheduleOutcome:
        return await self._logged(MemoryStore.schedule_updates, mandator_id, user_id, list(updates), due, now)

    async def record_manual_update(
        self, mandator_id: str, user_id: str, connection_id: int, result: UpdateResult, now: float
    ) -> Connection | None:
        return await self._logged(MemoryStore.record_manual_update, mandator_id, user_id, connection_id, result, now)

    async def bank_summary(self, mandator_id: str | None, now: float) -> list[ConnectionSummary]:
        return await self._logged(MemoryStore.bank_summary, mandator_id, now)

    # Web Form 2.0
    async def create_web_form(self, form: WebForm) -> WebForm:
        return await self._logged(MemoryStore.create_web_form, form)

    async def web_form(self, web_form_id: str) -> WebForm | None:
        return await self._logged(MemoryStore.web_form, web_form_id)

    async def web_forms(self, mandator_id: str, user_id: str, descending: bool) -> list[WebForm]:
        return await self._logged(MemoryStore.web_forms, mandator_id, user_id, descending)

    async def delete_web_form(self, mandator_id: str, user_id: str, web_form_id: str) -> bool:
        return await self._logged(MemoryStore.delete_web_form, mandator_id, user_id, web_form_id)

    async def open_web_form(self, web_form_id: str, now: float) -> tuple[WebForm | None, bool]:
        return await self._logged(MemoryStore.open_web_form, web_form_id, now)

    async def update_page(self, web_form_id: str, page: PageState) -> WebForm | None:
        return await self._logged(MemoryStore.update_page, web_form_id, page)

    async def finish_web_form(
        self,
        web_form_id: str,
        changes: WebForm,
        connection: tuple[Connection, Sequence[NewAccount]] | None,
        now: float,
    ) -> WebForm | None:
        made = None if connection is None else (connection[0], list(connection[1]))
        return await self._logged(MemoryStore.finish_web_form, web_form_id, changes, made, now)

    async def due_web_forms(self, now: float) -> list[WebForm]:
        return await self._logged(MemoryStore.due_web_forms, now)

    async def create_task(self, task: Task, now: float) -> Literal["ok", "unknown", "locked"]:
        return await self._logged(MemoryStore.create_task, task, now)

    async def task(self, task_id: str) -> Task | None:
        return await self._logged(MemoryStore.task, task_id)

    async def tasks(self, mandator_id: str, user_id: str, descending: bool) -> list[Task]:
        return await self._logged(MemoryStore.tasks, mandator_id, user_id, descending)

    async def update_task(self, task_id: str, changes: Task, form: WebForm | None) -> Task | None:
        return await self._logged(MemoryStore.update_task, task_id, changes, form)

    async def due_tasks(self, now: float) -> list[Task]:
        return await self._logged(MemoryStore.due_tasks, now)

    # callbacks sent
    async def record_callback(self, attempt: CallbackAttempt) -> None:
        await self._logged(MemoryStore.record_callback, attempt)

    async def callbacks(self, limit: int | None = None) -> list[CallbackAttempt]:
        return await self._replica.callbacks(limit)

    async def clear_callbacks(self) -> int:
        return await self._logged(MemoryStore.clear_callbacks)

    # faults
    async def add_fault(self, rule: FaultRule) -> bool:
        return await self._logged(MemoryStore.add_fault, rule)

    async def fault_counts(self) -> list[FaultCount]:
        return await self._replica.fault_counts()

    async def clear_faults(self) -> int:
        return await self._logged(MemoryStore.clear_faults)

    async def fire_fault(self, matching: Sequence[str]) -> FaultRule | None:
        return await self._logged(MemoryStore.fire_fault, list(matching))

    # journal
    async def record(self, entry: Entry) -> None:
        """Logged without waiting for the round trip (the request's answer is out already; the next operation of
        this process goes after it): an entry the round trip fails to log is lost, said on stderr."""
        logged = self._enqueue(MemoryStore.record.__name__, (entry,), {})
        logged.add_done_callback(lambda done: _lost(done, entry))

    async def journal(self, query: JournalQuery, limit: int | None = None) -> list[Entry]:
        return await (await self._caught_up()).journal(query, limit)  # with the entries queued before

    async def count_journal(self, query: JournalQuery) -> int:
        return await (await self._caught_up()).count_journal(query)

    async def clear_journal(self, query: JournalQuery | None = None) -> int:
        return await self._logged(MemoryStore.clear_journal, query)

    # upkeep and whole-state operations
    async def purge_expired(self, now: float, budget: int) -> int:
        if not self._replica.purge_due(now):  # nothing to log while nothing is due
            return 0
        return await self._logged(MemoryStore.purge_expired, now, budget)

    async def stats(self) -> Stats:
        return await (await self._caught_up()).stats()

    async def reset_mandator(self, mandator_id: str, fresh: MemoryStore) -> bool:
        return await self._logged(MemoryStore.reset_mandator, mandator_id, fresh)

    async def replace(self, fresh: MemoryStore) -> None:
        await self._logged(MemoryStore.replace, fresh)

    async def export(self, journal: bool) -> Assemble:
        return await (await self._caught_up()).export(journal)


async def _nothing(store: MemoryStore) -> None:
    """The operation of a round trip that only catches the replica up (not appended)."""


_NOTHING = _nothing.__name__

OPERATIONS = frozenset(name for name in vars(Store) if not name.startswith("_"))
"""The operations a log entry may name: the Store protocol's."""


async def _run(client: aioredis.Redis, script: str, keys: list[str], *args: str | int | bytes) -> Any:
    """EVAL `script` on `keys` with `args` (redis-py's annotations of `eval` differ between its versions)."""
    run: Any = client.eval
    return await run(script, len(keys), *keys, *args)


def _lost(logged: asyncio.Future[None], entry: Entry) -> None:
    if not logged.cancelled() and logged.exception() is not None:
        log.warning("journal entry of %s %s lost: %s", entry.method, entry.path, logged.exception())


def _fold_limit(base: bytes) -> int:
    """The log's growth in bytes after which it is folded into a new base, for a base of these bytes."""
    return max(COMPACT_MIN_BYTES, COMPACT_RATIO * len(base))


def _listed(ids: Sequence[int] | None) -> list[int] | None:
    return None if ids is None else list(ids)


@asynccontextmanager
async def _reaching() -> AsyncIterator[None]:
    """Turns Redis' connection failures and timeouts into errors.StoreUnavailable (a 503)."""
    try:
        yield
    except (RedisError, OSError, TimeoutError) as exc:
        raise errors.StoreUnavailable(f"The shared state is not reachable ({_describe(exc)}).") from exc


def _describe(exc: BaseException) -> str:
    return str(exc).split("\n")[0] or type(exc).__name__

"""The state as plain data: what a snapshot holds (`snapshots.py` writes it as JSON) and what a store is rebuilt from.

A `StateImage` is backend-neutral: every record of the state (the immutable records of `models.py`, `banking.py` and
`webforms.py`) in plain lists, the few relations a store's tables keep between them (the grant each user token
belongs to, the grant a login reuses, each client's current client token), and the positions of the seeded source.
Nothing a store derives is in it: indexes, counters, expiry heaps, scheduled deletions (a user's `delete_at`).

A store makes one with `Store.export` and is rebuilt from one by `MemoryStore.from_image`, after `check` has made sure
the image holds together (a snapshot is input from outside: a wrong one is refused, naming the problem, and never
served).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple, Protocol, TypeVar

from mock_finapi.clock import ClockState
from mock_finapi.state.banking import Account, BatchUpdate, Connection, Transaction
from mock_finapi.state.models import Client, DeletedUser, Entry, FaultCount, Process, Token, User
from mock_finapi.state.webforms import CallbackAttempt, Task, WebForm


class ImageProblem(ValueError):
    """Why an image cannot be served: `where` names the part (`tokens[3]`), the message the problem."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


class Grant(NamedTuple):
    """One user authorization (a password login, or a process exchange) that user tokens belong to."""

    client_id: str
    mandator_id: str
    user_key: str
    current: bool
    """The client's current password grant of the user: a login hands its tokens out again (token reuse)."""


class UserBankImage(NamedTuple):
    """One user's bank data."""

    mandator_id: str
    user_key: str
    connections: list[Connection]
    accounts: list[Account]
    transactions: list[Transaction]
    pending: list[BatchUpdate]
    """Updates not landed yet, in the order they were scheduled."""


@dataclass(slots=True)
class StateImage:
    positions: dict[str, int]
    """The next position of each stream of the seeded source."""
    clock: ClockState
    mandators: list[str]
    """Every mandator the state knows (with or without clients and users)."""
    clients: list[Client]
    users: list[User]
    deleted_users: list[DeletedUser]
    """The deletions the mandators remember, oldest first over all mandators."""
    tokens: list[Token]
    """Live tokens (expired ones not purged yet included), oldest first: a grant's last access token is its current
    one."""
    token_grants: list[int | None]
    """For each token, its grant's position in `grants`; None for a client token."""
    grants: list[Grant]
    client_tokens: dict[str, str]
    """Each client's current client token (the one reuse hands out)."""
    processes: list[Process]
    faults: list[FaultCount]
    journal: list[Entry] | None
    """Oldest first; None: left out (the state keeps its journal empty)."""
    next_ids: tuple[int, int, int]
    """The next bank connection, account and transaction id."""
    banks: list[UserBankImage]
    web_forms: list[tuple[int, WebForm]]
    """With the creation number that orders forms and tasks created at the same instant."""
    tasks: list[tuple[int, Task]]
    next_number: int
    """The last creation number given."""
    callbacks: list[CallbackAttempt]
    """The callbacks sent, oldest first."""


class Assemble(Protocol):
    """What `Store.export` answers: assembles the image it took, off the event loop, calling `rest` between slices of
    its work (a pacer's, to let the event loop run; bench/snapshot.py)."""

    def __call__(self, rest: Callable[[], None] = ...) -> StateImage: ...


def check(image: StateImage) -> None:
    """Raise ImageProblem unless the records of `image` refer to each other as a store's do: ids unique, every
    token of a known client and (user tokens) of a known user through a grant of that client and user, bank data of
    known users with each account in its connection and each transaction in its account, ids below the next ones."""
    clients = _unique("clients", ((c.client_id, c.client_id) for c in image.clients))
    for i, client in enumerate(image.clients):
        if client.role == "mandator_admin" and client.registered:
            raise ImageProblem(f"clients[{i}]", "a registered client is an app client")
    users = _unique("users", (((u.mandator_id, u.key), u.id) for u in image.users))
    _check_tokens(image, clients, users)
    _unique("processes", ((p.token.lower(), p.token) for p in image.processes))
    for i, process in enumerate(image.processes):
        if process.client_id not in clients:
            raise ImageProblem(f"processes[{i}]", f"unknown client '{process.client_id}'")
    _unique("faults", ((f.rule.name, f.rule.name) for f in image.faults))
    _check_banks(image, users)
    _unique("web_forms", ((form.id, form.id) for _, form in image.web_forms))
    _unique("tasks", ((task.id, task.id) for _, task in image.tasks))
    numbers = [(n, f"creation number {n}", f"web_forms[{i}]") for i, (n, _) in enumerate(image.web_forms)]
    numbers += [(n, f"creation number {n}", f"tasks[{i}]") for i, (n, _) in enumerate(image.tasks)]
    _unique_at(numbers)
    if numbers and max(n for n, _, _ in numbers) > image.next_number:
        raise ImageProblem("next_number", "is below a creation number in use")


K = TypeVar("K")


def _unique(where: str, keyed: Iterable[tuple[K, str]]) -> dict[K, int]:
    """The position of each key in `where` (raises on the second of two equal ones)."""
    return _unique_at((key, shown, f"{where}[{i}]") for i, (key, shown) in enumerate(keyed))


def _unique_at(keyed: Iterable[tuple[K, str, str]]) -> dict[K, int]:
    """`_unique` over (key, shown, where) of records in several places."""
    seen: dict[K, int] = {}
    for i, (key, shown, where) in enumerate(keyed):
        if key in seen:
            raise ImageProblem(where, f"'{shown}' appears twice")
        seen[key] = i
    return seen


def _check_tokens(image: StateImage, clients: dict[str, int], users: dict[tuple[str, str], int]) -> None:
    if len(image.token_grants) != len(image.tokens):
        raise ImageProblem("tokens", "each token needs its grant (null for a client token)")
    _unique("tokens", ((t.value, t.value[:4] + "…") for t in image.tokens))
    current: set[tuple[str, str]] = set()
    for i, grant in enumerate(image.grants):
        if grant.client_id not in clients:
            raise ImageProblem(f"grants[{i}]", f"unknown client '{grant.client_id}'")
        if (grant.mandator_id, grant.user_key) not in users:
            raise ImageProblem(f"grants[{i}]", f"unknown user '{grant.user_key}' of mandator '{grant.mandator_id}'")
        if grant.current:
            if (grant.client_id, grant.user_key) in current:
                raise ImageProblem(f"grants[{i}]", "a client has one current grant per user")
            current.add((grant.client_id, grant.user_key))
    used = [0] * len(image.grants)
    refreshed = [False] * len(image.grants)
    for i, (token, number) in enumerate(zip(image.tokens, image.token_grants, strict=True)):
        where = f"tokens[{i}]"
        client = image.clients[clients[token.client_id]] if token.client_id in clients else None
        if client is None or client.mandator_id != token.mandator_id:
            raise ImageProblem(where, f"unknown client '{token.client_id}' of mandator '{token.mandator_id}'")
        if number is None:
            if token.user_id is not None or token.is_refresh:
                raise ImageProblem(where, "a user token needs its grant")
            continue
        if not 0 <= number < len(image.grants):
            raise ImageProblem(where, f"no grant {number}")
        grant = image.grants[number]
        owner = (grant.client_id, grant.mandator_id, grant.user_key)
        if token.user_id is None or owner != (token.client_id, token.mandator_id, token.user_id.lower()):
            raise ImageProblem(where, f"is not of grant {number}'s client and user")
        if token.is_refresh:
            if refreshed[number]:
                raise ImageProblem(where, f"grant {number} has one refresh token")
            refreshed[number] = True
        used[number] += 1
    if 0 in used:
        raise ImageProblem(f"grants[{used.index(0)}]", "has no token")
    tokens = {t.value: t for t in image.tokens}
    for client_id, value in image.client_tokens.items():
        found = tokens.get(value)
        if found is None or found.client_id != client_id or found.user_id is not None:
            raise ImageProblem(f"client_tokens.{client_id}", "is not a client token of that client")


def _check_banks(image: StateImage, users: dict[tuple[str, str], int]) -> None:
    next_connection, next_account, next_transaction = image.next_ids
    _unique("banks", (((b.mandator_id, b.user_key), b.user_key) for b in image.banks))
    for kind in ("connections", "accounts", "transactions"):  # ids are unique over all users
        _unique_at(
            (record.id, str(record.id), f"banks[{i}].{kind}[{j}]")
            for i, bank in enumerate(image.banks)
            for j, record in enumerate(getattr(bank, kind))
        )
    for i, bank in enumerate(image.banks):
        where = f"banks[{i}]"
        if (bank.mandator_id, bank.user_key) not in users:
            raise ImageProblem(where, f"unknown user '{bank.user_key}' of mandator '{bank.mandator_id}'")
        owner: dict[int, int] = {}
        for connection in bank.connections:
            if (connection.mandator_id, connection.user_key) != (bank.mandator_id, bank.user_key):
                raise ImageProblem(f"{where}.connections", f"connection {connection.id} is another user's")
            if connection.id >= next_connection:
                raise ImageProblem(f"{where}.connections", f"connection {connection.id} is not below the next id")
            owner.update((account_id, connection.id) for account_id in connection.account_ids)
        accounts = set()
        for account in bank.accounts:
            if owner.get(account.id) != account.connection_id or account.id >= next_account:
                raise ImageProblem(f"{where}.accounts", f"account {account.id} is not in its connection")
            accounts.add(account.id)
        if len(accounts) != len(owner):
            raise ImageProblem(f"{where}.connections", "name accounts the user does not have")
        for transaction in bank.transactions:
            if transaction.account_id not in accounts or transaction.id >= next_transaction:
                raise ImageProblem(f"{where}.transactions", f"transaction {transaction.id} is not in its account")
        for update in bank.pending:
            if any(owner.get(change.account_id) != update.connection_id for change in update.accounts) or not any(
                c.id == update.connection_id for c in bank.connections
            ):
                raise ImageProblem(f"{where}.pending", f"an update of connection {update.connection_id} is not its")

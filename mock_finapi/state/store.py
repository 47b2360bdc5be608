"""The in-memory store: dicts with O(1) lookups by token, client id and (mandator, user id).

All access happens on the server's single event loop and no method awaits, so each call is atomic with respect to
the others. Expired tokens, and users whose `delete_at` has come, are purged lazily from heaps ordered by time
(on every token lookup or issue, and by `purge_expired`), so memory stays bounded however many short-lived tokens
a run issues. Services use only the methods below, so another backend can replace this class.
"""

from __future__ import annotations

import heapq
import itertools

from mock_finapi.state.models import Client, Grant, Mandator, Process, Token, User

COMPACT_SLACK = 1024
"""Stale entries the expiry index may carry beyond the live tokens before it is rebuilt."""


class Store:
    def __init__(self) -> None:
        self.clients: dict[str, Client] = {}
        self.mandators: dict[str, Mandator] = {}
        self.tokens: dict[str, Token] = {}
        self.client_grants: dict[str, Grant] = {}
        """Token reuse: the current client_credentials grant of each client."""
        self.user_grants: dict[tuple[str, str], Grant] = {}
        """Token reuse: the current password grant per (client id, user key)."""
        self.processes: dict[str, Process] = {}
        """Keyed by the lower-cased process token."""
        self._expiry: list[tuple[float, str]] = []
        self._deletions: list[tuple[float, int, User]] = []
        self._deletion_order = itertools.count()

    # clients and mandators
    def add_client(self, client: Client) -> None:
        self.clients[client.client_id] = client
        self.mandator(client.mandator_id)

    def default_client(self, mandator_id: str) -> Client | None:
        """The mandator's first app client (scenario order): the one its process links act for."""
        return next((c for c in self.clients.values() if c.mandator_id == mandator_id and c.role == "app"), None)

    def mandator(self, mandator_id: str) -> Mandator:
        found = self.mandators.get(mandator_id)
        if found is None:
            found = self.mandators[mandator_id] = Mandator(mandator_id)
        return found

    # users
    def user(self, mandator_id: str, user_id: str) -> User | None:
        mandator = self.mandators.get(mandator_id)
        return mandator.users.get(user_id.lower()) if mandator else None

    def add_user(self, user: User) -> None:
        self.mandator(user.mandator_id).users[user.key] = user

    def remove_user(self, user: User) -> None:
        self.revoke_user_grants(user)
        mandator = self.mandator(user.mandator_id)
        if mandator.users.get(user.key) is user:
            del mandator.users[user.key]

    def schedule_deletion(self, user: User, when: float) -> None:
        """Delete the user (and so its tokens) once the clock reaches `when`."""
        user.delete_at = when
        heapq.heappush(self._deletions, (when, next(self._deletion_order), user))

    # processes
    def add_process(self, process: Process) -> None:
        self.processes[process.token.lower()] = process

    def process(self, token: str) -> Process | None:
        return self.processes.get(token.lower())

    def replace_mandator(self, mandator_id: str, source: Store) -> None:
        """Swap this store's slice of one mandator for `source`'s (clients, users, tokens, processes)."""

        def other(item: Client) -> bool:
            return item.mandator_id != mandator_id

        self.tokens = {v: t for v, t in self.tokens.items() if other(t.grant.client)}
        self.client_grants = {k: g for k, g in self.client_grants.items() if other(g.client)}
        self.user_grants = {k: g for k, g in self.user_grants.items() if other(g.client)}
        self.processes = {k: p for k, p in self.processes.items() if other(p.client)}
        self.clients = {k: c for k, c in self.clients.items() if other(c)}
        self.clients.update({k: c for k, c in source.clients.items() if not other(c)})
        self.mandators[mandator_id] = source.mandators.get(mandator_id) or Mandator(mandator_id)
        for key, process in source.processes.items():
            if not other(process.client):
                self.processes[key] = process
                if process.user.delete_at is not None:
                    self.schedule_deletion(process.user, process.user.delete_at)
        self._compact_expiry()

    # tokens and grants
    def token(self, value: str, now: float) -> Token | None:
        """The live token with this value; an expired one is dropped on sight."""
        self.purge_expired(now)
        token = self.tokens.get(value)
        if token is not None and token.expired(now):
            self._drop_token(token)
            return None
        return token

    def add_token(self, token: Token, now: float) -> None:
        self.purge_expired(now)
        self.tokens[token.value] = token
        if token.is_refresh:
            token.grant.refresh = token.value
        else:
            token.grant.access.append(token.value)
        if token.expires_at is not None:
            heapq.heappush(self._expiry, (token.expires_at, token.value))
            if len(self._expiry) > 2 * len(self.tokens) + COMPACT_SLACK:
                self._compact_expiry()

    def add_grant(self, grant: Grant) -> None:
        if grant.user is None:
            self.client_grants[grant.client.client_id] = grant
        else:
            self.user_grants[(grant.client.client_id, grant.user.key)] = grant
            grant.user.grants.add(grant)

    def revoke_token(self, token: Token) -> None:
        self._drop_token(token)

    def revoke_grant(self, grant: Grant) -> None:
        for value in [*grant.access, *([grant.refresh] if grant.refresh else [])]:
            self.tokens.pop(value, None)
        grant.access.clear()
        grant.refresh = None
        self._forget_grant(grant)

    def revoke_user_grants(self, user: User) -> None:
        for grant in list(user.grants):
            self.revoke_grant(grant)

    def purge_expired(self, now: float) -> None:
        """Drop expired tokens and delete users whose time has come (O(1) when nothing is due)."""
        deletions = self._deletions
        while deletions and deletions[0][0] <= now:
            _, _, user = heapq.heappop(deletions)
            if user.delete_at is not None and user.delete_at <= now:
                self.remove_user(user)
        heap = self._expiry
        while heap and heap[0][0] <= now:
            _, value = heapq.heappop(heap)
            token = self.tokens.get(value)
            if token is not None and token.expired(now):
                self._drop_token(token)

    @property
    def expiry_entries(self) -> int:
        """Size of the expiry index: live expiring tokens plus revoked ones not swept yet (at most about twice
        the live tokens plus COMPACT_SLACK)."""
        return len(self._expiry)

    def _compact_expiry(self) -> None:
        """Rebuild the expiry index from the live tokens, dropping entries of revoked tokens.

        Revoked tokens leave their entry behind until it expires; without this, refreshing or revoking in a loop
        would grow the index by one entry per token for a whole lifetime while `tokens` stays small. Runs only
        when at least half the index is stale, so the rebuild costs O(1) per token issued, amortized.
        """
        self._expiry = [(t.expires_at, v) for v, t in self.tokens.items() if t.expires_at is not None]
        heapq.heapify(self._expiry)

    def _drop_token(self, token: Token) -> None:
        self.tokens.pop(token.value, None)
        grant = token.grant
        if token.is_refresh:
            grant.refresh = None
        elif token.value in grant.access:
            grant.access.remove(token.value)
        if not grant.access and grant.refresh is None:
            self._forget_grant(grant)

    def _forget_grant(self, grant: Grant) -> None:
        if grant.user is None:
            if self.client_grants.get(grant.client.client_id) is grant:
                del self.client_grants[grant.client.client_id]
        else:
            grant.user.grants.discard(grant)
            key = (grant.client.client_id, grant.user.key)
            if self.user_grants.get(key) is grant:
                del self.user_grants[key]

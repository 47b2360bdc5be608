"""The OAuth token service: grants, reuse, lifetimes, lockout, revocation and bearer resolution.

Rules (FINAPI.md §3):
- `client_credentials`, `password` and `refresh_token` grants; only the password grant returns a refresh token.
- Lifetimes come from the client's configuration when a token is minted (0 = never expires).
- With `tokens.reuse` (default on) the same credentials get the same still-valid token back.
- A refresh mints a new access token in the same grant and retires the grant's older access tokens.
- `maxUserLoginAttempts` consecutive wrong passwords lock the user and revoke its tokens; a locked user gets 423.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from mock_finapi import errors
from mock_finapi.clock import Clock
from mock_finapi.randomness import Randomness
from mock_finapi.services import client_config
from mock_finapi.state.models import Client, Grant, Token, User
from mock_finapi.state.store import Store

GRANT_TYPES = ("client_credentials", "password", "refresh_token")
REVOKE_HINTS = ("access_token", "refresh_token")
_NO_SECRET = b"\0" * 36
_CLIENT_FIELDS = ("grant_type", "client_id", "client_secret")
"""What every token request needs, in the order finAPI complains about them."""


@dataclass(frozen=True)
class TokenSettings:
    format: str = "uuid"
    reuse: bool = True
    auto_register: bool = False
    """Accept any new client id/secret pair on first use, as an app client of its own mandator."""


class IssuedToken(NamedTuple):  # one per token request: a tuple is the cheapest immutable record
    access_token: str
    expires_in: int
    refresh_token: str | None = None


def secrets_equal(given: str, expected: str | None) -> bool:
    """Constant-time comparison (also when there is nothing to compare with)."""
    return hmac.compare_digest(given.encode(), expected.encode() if expected is not None else _NO_SECRET)


class TokenService:
    def __init__(self, store: Store, clock: Clock, rng: Randomness, settings: TokenSettings) -> None:
        self.store, self.clock, self.rng, self.settings = store, clock, rng, settings

    # the token endpoint
    def grant(self, params: Mapping[str, str]) -> IssuedToken:
        grant_type, client_id, secret = params.get("grant_type"), params.get("client_id"), params.get("client_secret")
        if not (grant_type and client_id and secret):
            raise errors.MissingField(next(field for field in _CLIENT_FIELDS if not params.get(field)))
        client = self.authenticate_client(client_id, secret)
        if grant_type not in GRANT_TYPES:
            raise errors.BadRequest(errors.MSG_UNSUPPORTED_GRANT.format(grant=grant_type))
        if grant_type == "client_credentials":
            return self._client_credentials(client)
        if client.role != "app":
            raise errors.UnauthorizedAccess(errors.MSG_GRANT_NOT_ALLOWED.format(grant=grant_type))
        if grant_type == "password":
            return self._password(client, _required(params, "username"), _required(params, "password"))
        return self._refresh(client, _required(params, "refresh_token"))

    def authenticate_client(self, client_id: str, secret: str) -> Client:
        client = self.store.clients.get(client_id)
        if client is None and self.settings.auto_register:
            client = self._register(client_id, secret)
        if not secrets_equal(secret, client.secret if client else None) or client is None:
            raise errors.InvalidClient()
        return client

    def _register(self, client_id: str, secret: str) -> Client:
        """A client seen for the first time: its own mandator, so its users, tokens and processes are its own."""
        mandator_id = client_config.mandator_for(client_id)
        client = Client(client_id, secret, "app", mandator_id, client_config.new_config({}, mandator_admin=False))
        self.store.add_client(client)
        return client

    def _client_credentials(self, client: Client) -> IssuedToken:
        now = self.clock.time()
        grant = self.store.client_grants.get(client.client_id)
        if self.settings.reuse and grant is not None and (token := self._live_access(grant, now)):
            return self._answer(token, now)
        grant = Grant(client, None)
        self.store.add_grant(grant)
        token = self._mint(grant, "clientAccessTokensValidityPeriod", now)
        return self._answer(token, now)

    def _password(self, client: Client, username: str, password: str) -> IssuedToken:
        user = self.store.user(client.mandator_id, username)
        if user is None:
            secrets_equal(password, None)
            raise errors.BadRequest(errors.MSG_BAD_USER)
        if user.locked:
            raise errors.Locked(errors.MSG_USER_LOCKED.format(user=user.id))
        if not secrets_equal(password, user.password):
            self._failed_login(client, user)
            raise errors.BadRequest(errors.MSG_BAD_USER)
        if not user.verified:
            raise errors.UserNotVerified(errors.MSG_USER_NOT_VERIFIED.format(user=user.id), status=403)
        user.failed_logins = 0
        now = self.clock.time()
        grant = self.store.user_grants.get((client.client_id, user.key))
        if self.settings.reuse and grant is not None and (token := self._live_access(grant, now)):
            refresh = self.store.token(grant.refresh, now) if grant.refresh is not None else None
            if refresh is not None:
                return self._answer(token, now, refresh=refresh.value)
        grant = Grant(client, user)
        self.store.add_grant(grant)
        token = self._mint(grant, "userAccessTokensValidityPeriod", now)
        refresh = self._mint(grant, "refreshTokensValidityPeriod", now, is_refresh=True)
        return self._answer(token, now, refresh=refresh.value)

    def _refresh(self, client: Client, value: str) -> IssuedToken:
        now = self.clock.time()
        refresh = self.store.token(value, now)
        if refresh is None or not refresh.is_refresh or refresh.grant.client is not client:
            raise errors.BadRequest(errors.MSG_BAD_REFRESH)
        grant = refresh.grant
        for old in list(grant.access):
            if (token := self.store.tokens.get(old)) is not None:
                self.store.revoke_token(token)
        token = self._mint(grant, "userAccessTokensValidityPeriod", now)
        return self._answer(token, now)

    def user_access(self, client: Client, user: User) -> IssuedToken:
        """A fresh user access token without a refresh token (what a process exchange hands out)."""
        now = self.clock.time()
        grant = Grant(client, user)
        self.store.add_grant(grant)
        return self._answer(self._mint(grant, "userAccessTokensValidityPeriod", now), now)

    def _failed_login(self, client: Client, user: User) -> None:
        user.failed_logins += 1
        limit = client.config["maxUserLoginAttempts"]
        if limit and user.failed_logins >= limit:
            self.lock(user)

    def lock(self, user: User) -> None:
        """Lock a user: its tokens are revoked and token requests answer 423 until a password change."""
        user.locked = True
        self.store.revoke_user_grants(user)

    def _live_access(self, grant: Grant, now: float) -> Token | None:
        """The grant's current access token if it may be handed out again.

        Not in its last second: it would show `expires_in: 0`, which means "never expires", and die right after.
        """
        token = self.store.token(grant.access[-1], now) if grant.access else None
        if token is not None and token.expires_at is not None and token.expires_at - now < 1:
            return None
        return token

    def _mint(self, grant: Grant, lifetime_field: str, now: float, *, is_refresh: bool = False) -> Token:
        lifetime = grant.client.config[lifetime_field]
        token = Token(self.rng.token(self.settings.format), grant, is_refresh, now + lifetime if lifetime else None)
        self.store.add_token(token, now)
        return token

    @staticmethod
    def _answer(token: Token, now: float, refresh: str | None = None) -> IssuedToken:
        return IssuedToken(token.value, expires_in(token, now), refresh)

    # bearer tokens
    def resolve(self, value: str) -> Token:
        """The live access token behind a bearer value, or InvalidToken."""
        token = self.store.token(value, self.clock.time())
        if token is None or token.is_refresh:
            raise errors.InvalidToken(errors.MSG_INVALID_TOKEN.format(token=value))
        return token

    def revoke(self, client: Client, value: str, hint: str | None) -> None:
        """Revoke a token of this client (unknown tokens are ignored, as finAPI does).

        Hint `access_token` on an access token: that token only; otherwise the whole grant (the refresh token and
        every access token minted from it).
        """
        if hint is not None and hint not in REVOKE_HINTS:
            raise errors.IllegalFieldValue(f"'token_type_hint' must be one of {', '.join(REVOKE_HINTS)}")
        token = self.store.token(value, self.clock.time())
        if token is None or token.grant.client is not client:
            return
        if hint == "access_token" and not token.is_refresh:
            self.store.revoke_token(token)
        else:
            self.store.revoke_grant(token.grant)


def expires_in(token: Token, now: float) -> int:
    """Whole seconds left; 0 for a token that never expires (decided)."""
    return 0 if token.expires_at is None else max(0, int(token.expires_at - now))


def _required(params: Mapping[str, str], field: str) -> str:
    value = params.get(field)
    if not value:
        raise errors.MissingField(field)
    return value

"""The OAuth token service: grants, client authentication, revocation and bearer resolution.

Rules (FINAPI.md §3); the store carries out each grant atomically (issue-or-reuse, lockout: state/protocol.py):
- `client_credentials`, `password` and `refresh_token` grants; only the password grant returns a refresh token.
- Lifetimes come from the client's configuration when a token is minted (0 = never expires).
- With `tokens.reuse` (default on) the same credentials get the same still-valid token back.
- A refresh mints a new access token in the same grant and retires the grant's older access tokens.
- `maxUserLoginAttempts` consecutive wrong passwords lock the user and revoke its tokens; a locked user gets 423.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from mock_finapi import errors
from mock_finapi.credentials import secrets_equal
from mock_finapi.services import client_config
from mock_finapi.state.models import Bearer, Client, Token
from mock_finapi.state.protocol import Store, TokenPolicy

GRANT_TYPES = ("client_credentials", "password", "refresh_token")
REVOKE_HINTS = ("access_token", "refresh_token")
_CLIENT_FIELDS = ("grant_type", "client_id", "client_secret")
"""What every token request needs, in the order finAPI complains about them."""


class IssuedToken(NamedTuple):
    access_token: str
    expires_in: int
    refresh_token: str | None = None


class TokenService:
    def __init__(self, store: Store, policy: TokenPolicy, *, auto_register: bool = False) -> None:
        self.store, self.policy, self.auto_register = store, policy, auto_register

    async def grant(self, params: Mapping[str, str], now: float) -> tuple[Client, IssuedToken]:
        """The token endpoint: `params` from the form body, the query string or HTTP Basic; answers the client that
        authenticated and what it got."""
        grant_type, client_id, secret = params.get("grant_type"), params.get("client_id"), params.get("client_secret")
        if not (grant_type and client_id and secret):
            raise errors.MissingField(next(field for field in _CLIENT_FIELDS if not params.get(field)))
        client = await self.authenticate_client(client_id, secret)
        if grant_type not in GRANT_TYPES:
            raise errors.BadRequest(errors.MSG_UNSUPPORTED_GRANT.format(grant=grant_type))
        if grant_type == "client_credentials":
            return client, _issued(await self.store.issue_client_token(client.client_id, now, self.policy), now)
        if client.role != "app":
            raise errors.UnauthorizedAccess(errors.MSG_GRANT_NOT_ALLOWED.format(grant=grant_type))
        if grant_type == "password":
            username, password = _required(params, "username"), _required(params, "password")
            return client, await self._password(client, username, password, now)
        token = await self.store.refresh(client.client_id, _required(params, "refresh_token"), now, self.policy)
        if token is None:
            raise errors.BadRequest(errors.MSG_BAD_REFRESH)
        return client, _issued(token, now)

    async def authenticate_client(self, client_id: str, secret: str) -> Client:
        """The client these credentials name; an unknown id is registered first when the scenario auto-registers."""
        client = await self.store.client(client_id)
        if client is None and self.auto_register:
            client = await self.store.register_client(
                Client(
                    client_id,
                    secret,
                    "app",
                    client_config.mandator_for(client_id),
                    client_config.default_config(mandator_admin=False),
                    registered=True,
                )
            )
        if not secrets_equal(secret, client.secret if client else None) or client is None:
            raise errors.InvalidClient()
        return client

    async def _password(self, client: Client, username: str, password: str, now: float) -> IssuedToken:
        login = await self.store.login(client.client_id, username, password, now, self.policy)
        user = login.user
        if login.outcome in ("unknown_user", "bad_password") or user is None:
            raise errors.BadRequest(errors.MSG_BAD_USER)
        if login.outcome == "locked":
            raise errors.Locked(errors.MSG_USER_LOCKED.format(user=user.id))
        if login.outcome == "unverified":
            raise errors.UserNotVerified(errors.MSG_USER_NOT_VERIFIED.format(user=user.id), status=403)
        assert login.access is not None
        assert login.refresh is not None
        return _issued(login.access, now, login.refresh.value)

    async def resolve(self, value: str, now: float) -> Bearer:
        """The live access token behind a bearer value, or InvalidToken."""
        bearer = await self.store.resolve(value, now)
        if bearer is None:
            raise errors.InvalidToken(errors.MSG_INVALID_TOKEN.format(token=value))
        return bearer

    async def revoke(self, client: Client, value: str, hint: str | None, now: float) -> None:
        """Revoke a token of this client (unknown tokens are ignored, as finAPI does): with hint `access_token` on an
        access token that token only; otherwise the whole grant (the refresh token and its access tokens)."""
        if hint is not None and hint not in REVOKE_HINTS:
            raise errors.IllegalFieldValue(f"'token_type_hint' must be one of {', '.join(REVOKE_HINTS)}")
        await self.store.revoke(client.client_id, value, hint, now)


def _issued(token: Token, now: float, refresh: str | None = None) -> IssuedToken:
    return IssuedToken(token.value, token.expires_in(now), refresh)


def _required(params: Mapping[str, str], field: str) -> str:
    value = params.get(field)
    if not value:
        raise errors.MissingField(field)
    return value

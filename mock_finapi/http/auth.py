"""Bearer authentication and the role checks of FINAPI.md §2.

The access token comes in the `Authorization: Bearer` header; Access v1 (`/api/v1/...`, `/oauth/...`) also takes it
as the `access_token` query parameter, which its spec (1.151.1, "Authorization") still documents as deprecated. When
a request carries both, the header's counts (the parameter is not even looked at).
"""

from __future__ import annotations

from starlette.requests import Request

from mock_finapi import bodies, errors
from mock_finapi.credentials import parse_authorization
from mock_finapi.http.context import context
from mock_finapi.state.models import Bearer, Client, User

V1_PREFIXES = ("/api/v1/", "/oauth/")
QUERY_TOKEN = "access_token"


def bearer_value(authorization: str, path: str, query_string: bytes) -> str | None:
    """The access token a request presents: the header's bearer token, else (Access v1 only) a non-empty
    `access_token` query parameter (the first, if repeated)."""
    value = parse_authorization(authorization).bearer
    if value is None and query_string and path.startswith(V1_PREFIXES):
        value = bodies.query(query_string).get(QUERY_TOKEN) or None
    return value


async def bearer(request: Request) -> Bearer:
    ctx = context(request)
    value = bearer_value(ctx.header(b"authorization"), request.scope["path"], request.scope["query_string"])
    if value is None:
        raise errors.InvalidToken(errors.MSG_MISSING_TOKEN)
    found = await ctx.world.tokens.resolve(value, ctx.now)
    ctx.authenticated(found.client, found.user.id if found.user else None)
    return found


async def client(request: Request) -> Client:
    """The client behind a client access token (a user token gets 403)."""
    found = await bearer(request)
    if found.user is not None:
        raise errors.UnauthorizedAccess(errors.MSG_ROLE_CLIENT)
    return found.client


async def app_client(request: Request) -> Client:
    """Like `client`, but mandator admin clients may not manage users."""
    found = await client(request)
    if found.role != "app":
        raise errors.UnauthorizedAccess(errors.MSG_ROLE_APP)
    return found


async def user_or_app_client(request: Request) -> Bearer:
    """A user's or an app client's access token (Access v2 `/banks`); a mandator admin client's gets 403."""
    found = await bearer(request)
    if found.user is None and found.client.role != "app":
        raise errors.UnauthorizedAccess(errors.MSG_ROLE_APP)
    return found


async def mandator_admin(request: Request) -> Client:
    """The mandator admin client behind a client access token (`mandatorAdmin/*`): an app client's or a user's
    token gets 403."""
    found = await bearer(request)
    if found.user is not None or found.client.role != "mandator_admin":
        raise errors.UnauthorizedAccess(errors.MSG_ROLE_MANDATOR_ADMIN)
    return found.client


async def user(request: Request) -> tuple[User, Client]:
    """The user behind a user access token and the client it was issued to (a client token gets 403)."""
    found = await bearer(request)
    if found.user is None:
        raise errors.UnauthorizedAccess(errors.MSG_ROLE_USER)
    return found.user, found.client

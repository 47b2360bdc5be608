"""Bearer authentication and the role checks of FINAPI.md §2."""

from __future__ import annotations

from starlette.requests import Request

from mock_finapi import errors
from mock_finapi.credentials import parse_authorization
from mock_finapi.http.context import context
from mock_finapi.state.models import Bearer, Client, User


async def bearer(request: Request) -> Bearer:
    ctx = context(request)
    value = parse_authorization(ctx.header(b"authorization")).bearer
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


async def user(request: Request) -> tuple[User, Client]:
    """The user behind a user access token and the client it was issued to (a client token gets 403)."""
    found = await bearer(request)
    if found.user is None:
        raise errors.UnauthorizedAccess(errors.MSG_ROLE_USER)
    return found.user, found.client

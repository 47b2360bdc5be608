"""Bearer authentication and the role checks of FINAPI.md §2."""

from __future__ import annotations

from starlette.requests import Request

from mock_finapi import errors
from mock_finapi.http.render import header, world
from mock_finapi.state.models import Client, Token, User


def bearer(request: Request) -> Token:
    scheme, _, value = header(request, b"authorization").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise errors.InvalidToken(errors.MSG_MISSING_TOKEN)
    token = world(request).tokens.resolve(value.strip())
    grant = token.grant
    context = f"{grant.client.mandator_id}/{grant.client.client_id}"
    state = request.scope["state"]
    state["auth_context"] = context if grant.user is None else f"{context}/{grant.user.id}"
    state["client_id"] = grant.client.client_id
    return token


def client(request: Request) -> Client:
    """The client behind a client access token (a user token gets 403)."""
    token = bearer(request)
    if token.grant.user is not None:
        raise errors.UnauthorizedAccess(errors.MSG_ROLE_CLIENT)
    return token.grant.client


def app_client(request: Request) -> Client:
    """Like `client`, but mandator admin clients may not manage users."""
    found = client(request)
    if found.role != "app":
        raise errors.UnauthorizedAccess(errors.MSG_ROLE_APP)
    return found


def user(request: Request) -> tuple[User, Client]:
    """The user behind a user access token and the client it was issued to (a client token gets 403)."""
    grant = bearer(request).grant
    if grant.user is None:
        raise errors.UnauthorizedAccess(errors.MSG_ROLE_USER)
    return grant.user, grant.client

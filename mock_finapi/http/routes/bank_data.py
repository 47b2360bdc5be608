"""Access v2 bank data (WEBFORM.md §5): /api/v2/banks (user or client token), /api/v2/bankConnections, /accounts and
/transactions (user token); the rules are services/bank_data.py's, the wire shapes http/bank_json.py's."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from mock_finapi.http import auth, bank_json, render
from mock_finapi.http.context import context
from mock_finapi.http.routes import route
from mock_finapi.services import bank_data


def _pairs(request: Request) -> list[tuple[str, str]]:
    return parse_qsl(request.scope["query_string"].decode("latin-1"), keep_blank_values=True)


def _id(request: Request) -> int:
    return bank_data.path_id(request.path_params["id"])


async def search_banks(request: Request) -> Response:
    await auth.user_or_app_client(request)
    query = bank_data.parse_bank_query(_pairs(request))
    banks, total = context(request).world.bank_data.banks(query)
    return bank_json.bank_page(banks, total, query.page, query.per_page)


async def get_bank(request: Request) -> Response:
    await auth.user_or_app_client(request)
    return render.JSON(bank_json.bank(context(request).world.bank_data.bank(_id(request))))


async def list_connections(request: Request) -> Response:
    user, _ = await auth.user(request)
    ctx = context(request)
    ids = bank_data.Params(_pairs(request)).ids("ids")
    found = await ctx.world.bank_data.connections(user, ids, ctx.now)
    return render.JSON({"connections": [bank_json.connection(c, bank, ctx.now) for c, bank in found]})


async def get_connection(request: Request) -> Response:
    user, _ = await auth.user(request)
    ctx = context(request)
    found, bank = await ctx.world.bank_data.connection(user, _id(request), ctx.now)
    return render.JSON(bank_json.connection(found, bank, ctx.now))


async def delete_connection(request: Request) -> Response:
    user, _ = await auth.user(request)
    ctx = context(request)
    await ctx.world.bank_data.delete_connection(user, _id(request), ctx.now)
    return render.empty()


async def delete_all_connections(request: Request) -> Response:
    user, _ = await auth.user(request)
    ctx = context(request)
    return render.JSON({"identifiers": await ctx.world.bank_data.delete_all_connections(user, ctx.now)})


async def refuse(request: Request) -> Response:
    await auth.user(request)
    bank_data.refuse_direct_import()


async def list_accounts(request: Request) -> Response:
    user, _ = await auth.user(request)
    ctx = context(request)
    found = await ctx.world.bank_data.accounts(user, bank_data.parse_account_query(_pairs(request)), ctx.now)
    return render.JSON({"accounts": [bank_json.account(account) for account in found]})


async def get_account(request: Request) -> Response:
    user, _ = await auth.user(request)
    ctx = context(request)
    return render.JSON(bank_json.account(await ctx.world.bank_data.account(user, _id(request), ctx.now)))


async def list_transactions(request: Request) -> Response:
    user, _ = await auth.user(request)
    ctx = context(request)
    query = bank_data.parse_transaction_query(_pairs(request))
    found = await ctx.world.bank_data.transactions(user, query, ctx.now)
    return bank_json.transaction_page(found, query.page, query.per_page)


async def get_transaction(request: Request) -> Response:
    user, _ = await auth.user(request)
    ctx = context(request)
    return bank_json.transaction(await ctx.world.bank_data.transaction(user, _id(request), ctx.now))


CONNECTIONS = "/api/v2/bankConnections"
routes = [
    route("/api/v2/banks", GET=search_banks),
    route("/api/v2/banks/{id}", GET=get_bank),
    route(CONNECTIONS, GET=list_connections, DELETE=delete_all_connections),
    *(route(f"{CONNECTIONS}/{name}", POST=refuse) for name in ("import", "update", "connectInterface")),
    route(f"{CONNECTIONS}/{{id}}", GET=get_connection, DELETE=delete_connection),
    route("/api/v2/accounts", GET=list_accounts),
    route("/api/v2/accounts/{id}", GET=get_account),
    route("/api/v2/transactions", GET=list_transactions),
    route("/api/v2/transactions/{id}", GET=get_transaction),
]
"""The literal /bankConnections/import, /update, /connectInterface before /bankConnections/{id}."""

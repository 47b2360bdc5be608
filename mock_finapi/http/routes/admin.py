"""The control plane under /__admin (WireMock-style naming), JSON in and out.

`health` is always served and never guarded (container health checks need it). Everything else disappears with
`Settings.admin = False` (404) and needs `Authorization: Bearer <admin_token>` when a token is set (401). Handlers
only parse, call the service (`services/`, `world.Sandbox`) and render; input that does not validate (`Invalid`)
answers 400 ILLEGAL_FIELD_VALUE naming the key.
"""

from __future__ import annotations

import asyncio
import itertools

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from mock_finapi import __version__, errors, snapshots
from mock_finapi.clock import format_v2, to_datetime
from mock_finapi.credentials import parse_authorization, secrets_equal
from mock_finapi.errors import ScenarioError
from mock_finapi.http import body, render
from mock_finapi.http.context import context
from mock_finapi.http.routes import Endpoint, route, webforms
from mock_finapi.scenarios import loader
from mock_finapi.services import clock_moves, faults, journal, metrics, views, webform_outcomes
from mock_finapi.services.webforms import base_url
from mock_finapi.settings import Settings
from mock_finapi.world import allowed_scenario_path

MSG_SNAPSHOT_TOO_LARGE = (
    "The snapshot exceeds {limit} bytes: load it at start instead (mock-finapi serve --snapshot FILE)"
)
MSG_ADMIN_TOKEN = "The admin API needs 'Authorization: Bearer <admin token>'"
JOURNAL_TURN = 0.005
"""Seconds a journal read shows entries before it lets the event loop serve others."""


async def health(request: Request) -> Response:
    """200 once a scenario is loaded (a world only exists with one)."""
    return render.JSON({"status": "ok", "scenario": context(request).world.scenario.name})


async def version(request: Request) -> Response:
    world = context(request).world
    return render.JSON({"version": __version__, "scenario": world.scenario.name, "seed": world.seed})


async def reset(request: Request) -> Response:
    sandbox = context(request).sandbox
    mandator = request.query_params.get("mandator")
    if mandator is None:
        world = await sandbox.reset()
    elif not await sandbox.reset_mandator(mandator):
        raise errors.UnknownEntity(f"No mandator with id '{mandator}'")
    else:
        world = sandbox.world
    return render.JSON({"reset": mandator or "all", "scenario": world.scenario.name})


# clock
async def get_clock(request: Request) -> Response:
    ctx = context(request)
    return render.JSON({"now": format_v2(to_datetime(ctx.now)), "frozen": ctx.clock.frozen})


async def move_clock(request: Request) -> Response:
    ctx = context(request)
    change = clock_moves.parse_move(body.json_object(request, any_type=True))
    state = await clock_moves.move(ctx.world.store, ctx.world.clock, change, ctx.clock)
    return render.JSON({"now": format_v2(to_datetime(ctx.world.clock.now(state))), "frozen": state.frozen})


# journal
async def list_requests(request: Request) -> Response:
    params = dict(request.query_params)
    limit = journal.parse_limit(params.pop("limit", None))
    entries = await context(request).world.store.journal(journal.parse_query(params), limit)
    # Shown and encoded a few milliseconds' worth at a time, the event loop serving others in between: a view of a
    # 16 KiB body of nested arrays takes about 20 ms and holds fifty times the body until encoded (bench/journal.py).
    loop = asyncio.get_running_loop()
    encoded: list[bytes] = []  # JSON arrays of views, brackets cut off
    views, turn = [], loop.time()
    for entry in entries:
        views.append(journal.view(entry))
        if loop.time() - turn > JOURNAL_TURN:
            encoded.append(bytes(render.JSON(views).body)[1:-1])
            views = []
            await asyncio.sleep(0)
            turn = loop.time()
    encoded.append(bytes(render.JSON(views).body)[1:-1])
    shown = b",".join(part for part in encoded if part)
    return Response(b'{"requests":[' + shown + b"]}", media_type=render.JSON.media_type)


async def clear_requests(request: Request) -> Response:
    query = journal.parse_query(request.query_params)
    return render.JSON({"deleted": await context(request).world.store.clear_journal(query)})


async def count_requests(request: Request) -> Response:
    query = journal.parse_query(body.json_object(request, required=False, any_type=True))
    return render.JSON({"count": await context(request).world.store.count_journal(query)})


# state views (read-only, secrets masked)
async def state_users(request: Request) -> Response:
    ctx = context(request)
    return render.JSON({"users": await views.users(ctx.world.store, request.query_params.get("mandator"), ctx.now)})


async def state_tokens(request: Request) -> Response:
    ctx = context(request)
    return render.JSON({"tokens": await views.tokens(ctx.world.store, ctx.now)})


async def state_processes(request: Request) -> Response:
    ctx = context(request)
    return render.JSON({"processes": await views.processes(ctx.world.store, ctx.now)})


async def state_bank_connections(request: Request) -> Response:
    ctx = context(request)
    mandator = request.query_params.get("mandator")
    return render.JSON(await views.bank_connections(ctx.world.store, mandator, ctx.now))


async def state_web_forms(request: Request) -> Response:
    ctx = context(request)
    service, base = ctx.world.webforms, _base_url(request)
    await service.sweep(ctx.now)  # a clock move shows at once, as in the Web Form API
    mandator = request.query_params.get("mandator")
    listed = await views.web_forms(ctx.world.store, mandator, ctx.now, lambda form: service.web_form_url(form, base))
    return render.JSON({"webForms": listed})


async def state_tasks(request: Request) -> Response:
    ctx = context(request)
    await ctx.world.webforms.sweep(ctx.now)
    mandator = request.query_params.get("mandator")
    return render.JSON({"tasks": await views.tasks(ctx.world.store, mandator, ctx.now)})


# instant edge cases
async def expire_token(request: Request) -> Response:
    ctx = context(request)
    return render.JSON({"expired": await views.expire_token(ctx.world.store, request.path_params["token"], ctx.now)})


async def lock_user(request: Request) -> Response:
    ctx = context(request)
    user_id, mandator = request.path_params["userId"], request.query_params.get("mandator")
    locked, mandator_id = await views.lock_user(ctx.world.store, user_id, mandator, ctx.now)
    return render.JSON({"locked": locked, "mandatorId": mandator_id})


async def complete_web_form(request: Request) -> Response:
    """Finish a web form as its user would in the page (WEBFORM.md §7.15): the same state changes and callback."""
    ctx = context(request)
    completion = webform_outcomes.parse_completion(body.json_object(request, any_type=True))
    form = await views.complete_web_form(ctx.world.webforms, request.path_params["webFormId"], completion, ctx.now)
    return render.JSON(webforms.web_form_json(form, ctx.world.webforms, _base_url(request)))


def _base_url(request: Request) -> str:
    """What web form URLs start with: the public URL (`--public-url`) or this request's scheme://host:port."""
    url = request.url
    return base_url(context(request).sandbox.settings.public_url, url.scheme, url.netloc)


# snapshots
async def take_snapshot(request: Request) -> Response:
    """The whole state as a snapshot document (`snapshots.py`), taken in one step and written out off the event loop;
    `?journal=false` leaves the journal out."""
    journal_wanted = request.query_params.get("journal", "true")
    if journal_wanted not in ("true", "false"):
        raise errors.BadRequest("'journal' must be true or false")
    pieces = await context(request).sandbox.snapshot(journal=journal_wanted == "true")
    return StreamingResponse(pieces, media_type=render.JSON.media_type)  # a plain iterator: pieces made in a thread


async def load_snapshot(request: Request) -> Response:
    """Read and check a snapshot off the event loop, then serve it in one step; a bad one (400, naming the problem)
    leaves the old state serving."""
    ctx = context(request)
    settings = ctx.sandbox.settings
    raw = ctx.body
    if raw is None:
        raise errors.PayloadTooLarge(MSG_SNAPSHOT_TOO_LARGE.format(limit=settings.max_snapshot_bytes))
    try:
        loaded = await asyncio.to_thread(
            snapshots.load, raw, journal_size=settings.journal_size, capacity=settings.capacity
        )
    except snapshots.SnapshotError as exc:
        raise errors.BadRequest(f"Not a snapshot this server can load: {exc}") from None
    world = await ctx.sandbox.restore(loaded)
    return render.JSON({"status": "ok", "scenario": world.scenario.name, "seed": world.seed})


# scenario swap
async def load_scenario(request: Request) -> Response:
    """Validate `{"name"}`, `{"path"}` or `{"yaml"}`, then swap it in atomically; a bad one leaves the old serving."""
    sandbox = context(request).sandbox
    params = body.json_object(request, any_type=True)
    given = [k for k in ("name", "path", "yaml") if k in params]
    if len(given) != 1 or not isinstance(params[given[0]], str):
        raise errors.BadRequest("Give exactly one of 'name', 'path' or 'yaml' (a string)")
    kind, value = given[0], params[given[0]]
    try:
        if kind == "name":
            if value not in loader.builtin_names():
                raise errors.UnknownEntity(f"No built-in scenario '{value}'")
            scenario = await asyncio.to_thread(loader.load, value)
        elif kind == "path":
            path = allowed_scenario_path(value, sandbox.scenario_roots())
            if not path.is_file():
                raise errors.UnknownEntity(f"No scenario file '{value}'")
            scenario = await asyncio.to_thread(loader.load, str(path))
        else:
            scenario = await asyncio.to_thread(loader.load_text, value, "<admin>")
    except ScenarioError as exc:
        raise errors.BadRequest(str(exc)) from None
    await sandbox.swap(scenario)
    return render.JSON({"status": "ok", "scenario": scenario.name})


# faults
async def add_fault(request: Request) -> Response:
    store = context(request).world.store
    params = body.json_object(request, any_type=True)
    taken = {count.rule.name for count in await store.fault_counts()}
    default_name = next(f"admin-{n}" for n in itertools.count(len(taken) + 1) if f"admin-{n}" not in taken)
    rule = faults.parse_rule(params, default_name)
    if not await store.add_fault(rule):
        raise errors.IllegalFieldValue(f"name: a rule named '{rule.name}' exists already")
    return render.JSON(faults.view(rule), status_code=201)


async def list_faults(request: Request) -> Response:
    counts = await context(request).world.store.fault_counts()
    return render.JSON({"faults": [faults.count_view(count) for count in counts]})


async def clear_faults(request: Request) -> Response:
    return render.JSON({"deleted": await context(request).world.store.clear_faults()})


# callbacks sent (the outbound journal)
async def list_callbacks(request: Request) -> Response:
    limit = journal.parse_limit(request.query_params.get("limit"))
    return render.JSON({"callbacks": await views.callbacks(context(request).world.store, limit)})


async def clear_callbacks(request: Request) -> Response:
    return render.JSON({"deleted": await context(request).world.store.clear_callbacks()})


# metrics
def metrics_endpoint(counts: metrics.RequestCounts) -> Endpoint:
    """`GET /__admin/metrics` over the request counts of the app it serves in (`services/metrics.py`)."""

    async def serve_metrics(request: Request) -> Response:
        store = context(request).world.store
        stats, fault_counts = await store.stats(), await store.fault_counts()
        text = metrics.render(counts, stats, fault_counts, metrics.resident_memory())
        return Response(text, media_type=metrics.CONTENT_TYPE)

    return serve_metrics


def _guarded(endpoint: Endpoint, token: str) -> Endpoint:
    async def check(request: Request) -> Response:
        given = parse_authorization(context(request).header(b"authorization")).bearer
        if given is None or not secrets_equal(given, token):
            raise errors.InvalidToken(MSG_ADMIN_TOKEN)
        return await endpoint(request)

    return check


def routes(settings: Settings, counts: metrics.RequestCounts | None = None) -> list[Route]:
    """The admin API's routes; `counts` are the requests the app counts (`RequestLifecycle.counts`), for metrics."""
    table = [route("/__admin/health", GET=health)]
    if not settings.admin:
        return table
    guarded: dict[str, dict[str, Endpoint]] = {
        "/__admin/version": {"GET": version},
        "/__admin/reset": {"POST": reset},
        "/__admin/clock": {"GET": get_clock, "POST": move_clock},
        "/__admin/requests": {"GET": list_requests, "DELETE": clear_requests},
        "/__admin/requests/count": {"POST": count_requests},
        "/__admin/state/users": {"GET": state_users},
        "/__admin/state/tokens": {"GET": state_tokens},
        "/__admin/state/processes": {"GET": state_processes},
        "/__admin/state/bankConnections": {"GET": state_bank_connections},
        "/__admin/state/webForms": {"GET": state_web_forms},
        "/__admin/state/tasks": {"GET": state_tasks},
        "/__admin/webForms/{webFormId}/complete": {"POST": complete_web_form},
        "/__admin/tokens/{token}/expire": {"POST": expire_token},
        "/__admin/users/{userId}/lock": {"POST": lock_user},
        "/__admin/scenario": {"POST": load_scenario},
        "/__admin/snapshot": {"GET": take_snapshot, "POST": load_snapshot},
        "/__admin/faults": {"GET": list_faults, "POST": add_fault, "DELETE": clear_faults},
        "/__admin/callbacks": {"GET": list_callbacks, "DELETE": clear_callbacks},
        "/__admin/metrics": {"GET": metrics_endpoint(counts if counts is not None else {})},
    }
    token = settings.admin_token
    return table + [
        route(path, **{m: _guarded(e, token) if token is not None else e for m, e in handlers.items()})
        for path, handlers in guarded.items()
    ]

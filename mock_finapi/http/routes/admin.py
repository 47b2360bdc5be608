"""The control plane under /__admin (WireMock-style naming), JSON in and out.

`health` is always served and never guarded (container health checks need it). Everything else disappears with
`Settings.admin = False` (404) and needs `Authorization: Bearer <admin_token>` when a token is set (401).
"""

from __future__ import annotations

import hmac
import itertools
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_finapi import __version__, errors
from mock_finapi.clock import format_v2, parse_rfc3339
from mock_finapi.errors import ScenarioError
from mock_finapi.http import body, render
from mock_finapi.http.routes import Endpoint, route
from mock_finapi.scenarios import loader
from mock_finapi.scenarios.schema import Scenario
from mock_finapi.services.faults import FaultSpecError, parse_rule
from mock_finapi.services.journal import Matcher, mask_token
from mock_finapi.services.tokens import expires_in
from mock_finapi.settings import Settings
from mock_finapi.world import World

MSG_ADMIN_TOKEN = "The admin API needs 'Authorization: Bearer <admin token>'"
MAX_ADVANCE = 1e10
"""Seconds one `POST /__admin/clock {"advance"}` may move (about 317 years either way)."""


async def health(request: Request) -> Response:
    """200 once a scenario is loaded (a world only exists with one)."""
    return render.JSON({"status": "ok", "scenario": render.world(request).scenario.name})


async def version(request: Request) -> Response:
    world = render.world(request)
    return render.JSON({"version": __version__, "scenario": world.scenario.name, "seed": world.seed})


async def reset(request: Request) -> Response:
    world = render.world(request)
    mandator = request.query_params.get("mandator")
    if mandator is None:
        request.app.state.world = world.reset()
    elif not world.reset_mandator(mandator):
        raise errors.UnknownEntity(f"No mandator with id '{mandator}'")
    return render.JSON({"reset": mandator or "all", "scenario": world.scenario.name})


# clock
def _clock_view(world: World) -> dict[str, Any]:
    return {"now": format_v2(world.clock.now()), "frozen": world.clock.frozen}


async def get_clock(request: Request) -> Response:
    return render.JSON(_clock_view(render.world(request)))


async def move_clock(request: Request) -> Response:
    """`{"set": RFC 3339}`, `{"advance": seconds}` and/or `{"frozen": bool}`, applied in that order.

    Everything is checked before anything is applied: a refused request leaves the clock as it was. The clock stays
    within the years a scenario's `clock.start` may name, where every date can still be rendered.
    """
    world = render.world(request)
    params = body.json_object(request, any_type=True)
    unknown = set(params) - {"set", "advance", "frozen"}
    if unknown or not params:
        raise errors.BadRequest("Give 'set' (RFC 3339), 'advance' (seconds) and/or 'frozen' (boolean)")
    when, seconds, frozen = params.get("set"), params.get("advance"), params.get("frozen")
    target: datetime | None = None
    if when is not None:
        try:
            if not isinstance(when, str):
                raise ValueError(when)
            target = parse_rfc3339(when)
        except ValueError:
            raise errors.IllegalFieldValue("'set' must be an RFC 3339 timestamp") from None
    if seconds is not None and (type(seconds) not in (int, float) or not -MAX_ADVANCE < seconds < MAX_ADVANCE):
        raise errors.IllegalFieldValue(
            f"'advance' must be a number of seconds between {-MAX_ADVANCE:g} and {MAX_ADVANCE:g}"
        )
    if frozen is not None and type(frozen) is not bool:
        raise errors.IllegalFieldValue("'frozen' must be a boolean")
    base = target.timestamp() if target is not None else world.clock.time()
    if not loader.EARLIEST.timestamp() <= base + (seconds or 0) < loader.LATEST.timestamp():
        raise errors.IllegalFieldValue(f"The clock must stay between {loader.EARLIEST.year} and {loader.LATEST.year}")
    if target is not None:
        world.clock.set(target)
    if seconds is not None:
        world.clock.advance(seconds)
    if frozen is not None:
        world.clock.freeze(frozen)
    return render.JSON(_clock_view(world))


# journal
MATCHER_KEYS = ("method", "path", "status", "clientId", "mandator", "fault")
_DIGITS = re.compile(r"[0-9]{1,9}")


def _matcher(params: dict[str, Any]) -> Matcher:
    """A journal matcher from query parameters or a JSON object; an unknown criterion is refused, not ignored
    (a misspelt filter would otherwise select everything)."""
    unknown = sorted(set(params) - set(MATCHER_KEYS))
    if unknown:
        raise errors.IllegalFieldValue(f"Unknown matcher field '{unknown[0]}' (allowed: {', '.join(MATCHER_KEYS)})")
    status = params.get("status")
    if status is not None:
        if isinstance(status, str) and _DIGITS.fullmatch(status):
            status = int(status)
        if type(status) is not int:
            raise errors.IllegalFieldValue("'status' must be an HTTP status code")
    text = {k: params.get(k) for k in ("method", "path", "clientId", "mandator", "fault")}
    if any(v is not None and not isinstance(v, str) for v in text.values()):
        raise errors.IllegalFieldValue("method, path, clientId, mandator and fault must be strings")
    return Matcher(text["method"], text["path"], status, text["clientId"], text["mandator"], text["fault"])


async def list_requests(request: Request) -> Response:
    params = dict(request.query_params)
    limit = params.pop("limit", None)
    if limit is not None and not _DIGITS.fullmatch(limit):
        raise errors.IllegalFieldValue("'limit' must be a non-negative integer")
    found = render.world(request).journal.find(_matcher(params), int(limit) if limit is not None else None)
    return render.JSON({"requests": found})


async def clear_requests(request: Request) -> Response:
    deleted = render.world(request).journal.clear(_matcher(dict(request.query_params)))
    return render.JSON({"deleted": deleted})


async def count_requests(request: Request) -> Response:
    params = body.json_object(request, required=False, any_type=True)
    return render.JSON({"count": render.world(request).journal.count(_matcher(params))})


# state views (read-only, secrets masked)
async def state_users(request: Request) -> Response:
    world = render.world(request)
    world.store.purge_expired(world.clock.time())
    mandator = request.query_params.get("mandator")
    hidden = {id(p.user) for p in world.store.processes.values()}
    users = [
        {
            "mandatorId": user.mandator_id,
            "id": user.id,
            "email": user.email,
            "phone": user.phone,
            "isAutoUpdateEnabled": user.is_auto_update_enabled,
            "verified": user.verified,
            "locked": user.locked,
            "failedLogins": user.failed_logins,
            "processUser": id(user) in hidden,
        }
        for m in world.store.mandators.values()
        if mandator in (None, m.id)
        for user in m.users.values()
    ]
    return render.JSON({"users": users})


async def state_tokens(request: Request) -> Response:
    world = render.world(request)
    now = world.clock.time()
    world.store.purge_expired(now)
    tokens = [
        {
            "token": mask_token(token.value),
            "type": "refresh" if token.is_refresh else "access",
            "clientId": token.grant.client.client_id,
            "mandatorId": token.grant.client.mandator_id,
            "userId": token.grant.user.id if token.grant.user else None,
            "expiresIn": expires_in(token, now) if token.expires_at is not None else None,
        }
        for token in list(world.store.tokens.values())
        if not token.expired(now)
    ]
    return render.JSON({"tokens": tokens})


async def state_processes(request: Request) -> Response:
    world = render.world(request)
    processes = [
        {
            "processToken": mask_token(p.token),
            "clientReference": p.client_reference,
            "processId": p.process_id,
            "clientId": p.client.client_id,
            "mandatorId": p.client.mandator_id,
            "userId": p.user.id,
            "exchanges": p.exchanges,
            "invalidated": p.invalidated,
        }
        for p in world.store.processes.values()
    ]
    return render.JSON({"processes": processes})


# instant edge cases
async def expire_token(request: Request) -> Response:
    world = render.world(request)
    value = request.path_params["token"]
    token = world.store.token(value, world.clock.time())
    if token is None:
        raise errors.UnknownEntity(f"No live token '{mask_token(value)}'")
    token.expires_at = world.clock.time()
    world.store.revoke_token(token)
    return render.JSON({"expired": mask_token(value)})


async def lock_user(request: Request) -> Response:
    world = render.world(request)
    user_id, mandator = request.path_params["userId"], request.query_params.get("mandator")
    mandators = [mandator] if mandator else list(world.store.mandators)
    found = [u for m in mandators if (u := world.store.user(m, user_id)) is not None]
    if not found:
        raise errors.UnknownEntity(errors.MSG_UNKNOWN_USER.format(user=user_id))
    if len(found) > 1:
        raise errors.BadRequest(f"User '{user_id}' exists in several mandators: add ?mandator=")
    world.tokens.lock(found[0])
    return render.JSON({"locked": found[0].id, "mandatorId": found[0].mandator_id})


# scenario swap
async def load_scenario(request: Request) -> Response:
    """Validate `{"name"}`, `{"path"}` or `{"yaml"}`, then swap it in atomically; a bad one leaves the old serving."""
    params = body.json_object(request, any_type=True)
    settings: Settings = request.app.state.settings
    given = [k for k in ("name", "path", "yaml") if k in params]
    if len(given) != 1 or not isinstance(params[given[0]], str):
        raise errors.BadRequest("Give exactly one of 'name', 'path' or 'yaml' (a string)")
    value: str = params[given[0]]
    try:
        if given[0] == "name":
            if value not in loader.builtin_names():
                raise errors.UnknownEntity(f"No built-in scenario '{value}'")
            scenario = loader.load(value)
        elif given[0] == "path":
            path = _allowed_path(request, value, settings)
            if not path.is_file():
                raise errors.UnknownEntity(f"No scenario file '{value}'")
            scenario = loader.load(str(path))
        else:
            scenario = loader.load_text(value, "<admin>")
    except ScenarioError as exc:
        raise errors.BadRequest(str(exc)) from None
    swap(request.app.state, scenario, settings)
    return render.JSON({"status": "ok", "scenario": scenario.name})


def swap(app_state: Any, scenario: Scenario, settings: Settings) -> World:
    """Serve `scenario` from the next request on (one attribute assignment: atomic for the event loop)."""
    world = World(scenario, seed=settings.seed, journal_size=settings.journal_size)
    app_state.world = world
    return world


def _allowed_path(request: Request, value: str, settings: Settings) -> Path:
    """Scenario files may only come from `--scenario-dir`s, the built-ins or the served scenario's folder.

    A relative path is looked up in those folders (in that order), then in the working directory. Wherever it is
    found, the resolved file (symbolic links followed) must lie inside one of the folders.
    """
    roots = [*(Path(d) for d in settings.scenario_dirs), loader.builtin_dir()]
    source = Path(render.world(request).scenario.source)
    if source.is_file():
        roots.append(source.parent)
    roots = [root.resolve() for root in roots]
    given = Path(value)
    candidates = [given] if given.is_absolute() else [*(root / given for root in roots), given]
    try:
        resolved = [c.resolve() for c in candidates]
        path = next((p for p in resolved if p.is_file()), resolved[0])
    except (OSError, ValueError, RuntimeError):  # a NUL byte, a name too long, a symlink loop
        raise errors.BadRequest(f"'{value}' is not a usable file path") from None
    if not value or not any(path.is_relative_to(root) for root in roots):
        raise errors.BadRequest(f"'{value}' is outside the scenario directories (add one with --scenario-dir)")
    return path


# faults
async def add_fault(request: Request) -> Response:
    world = render.world(request)
    params = body.json_object(request, any_type=True)
    taken = {view["name"] for view in world.faults.views()}
    default_name = next(f"admin-{n}" for n in itertools.count(len(taken) + 1) if f"admin-{n}" not in taken)
    try:
        rule = parse_rule(params, default_name)
        world.faults.add(rule)
    except FaultSpecError as exc:
        raise errors.IllegalFieldValue(str(exc)) from None
    return render.JSON(rule.view(), status_code=201)


async def list_faults(request: Request) -> Response:
    return render.JSON({"faults": render.world(request).faults.views()})


async def clear_faults(request: Request) -> Response:
    faults = render.world(request).faults
    deleted = len(faults.views())
    faults.clear()
    return render.JSON({"deleted": deleted})


def _guarded(endpoint: Endpoint) -> Endpoint:
    async def check(request: Request) -> Response:
        token: str | None = request.app.state.settings.admin_token
        if token is not None:
            scheme, _, given = render.header(request, b"authorization").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
                raise errors.InvalidToken(MSG_ADMIN_TOKEN)
        return await endpoint(request)

    return check


def routes(settings: Settings) -> list[Route]:
    table = [route("/__admin/health", GET=health)]
    if not settings.admin:
        return table
    guarded = {
        "/__admin/version": {"GET": version},
        "/__admin/reset": {"POST": reset},
        "/__admin/clock": {"GET": get_clock, "POST": move_clock},
        "/__admin/requests": {"GET": list_requests, "DELETE": clear_requests},
        "/__admin/requests/count": {"POST": count_requests},
        "/__admin/state/users": {"GET": state_users},
        "/__admin/state/tokens": {"GET": state_tokens},
        "/__admin/state/processes": {"GET": state_processes},
        "/__admin/tokens/{token}/expire": {"POST": expire_token},
        "/__admin/users/{userId}/lock": {"POST": lock_user},
        "/__admin/scenario": {"POST": load_scenario},
        "/__admin/faults": {"GET": list_faults, "POST": add_fault, "DELETE": clear_faults},
    }
    table += [
        route(path, **{method: _guarded(endpoint) for method, endpoint in handlers.items()})
        for path, handlers in guarded.items()
    ]
    return table

"""The Web Form 2.0 API (WEBFORM.md §2): /api/webForms (import, get, list, delete; the removed update endpoint
answers 405) and /api/tasks (background update, get, list). User tokens only: none or a bad one is 401, a client
token 403 (decided), a mandator the scenario keeps from Web Form 2.0 403; every error in the Web Form API's shapes
(`render.web_form_error`). The rules are services/webforms.py's and services/webform_requests.py's.

Every answer first applies what is due at its virtual time (`WebFormService.sweep`), so a clock move shows at once.
A form's `url` is `<public URL or the request's scheme://host:port>/wf/<id>`.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mock_finapi import errors
from mock_finapi.http import auth, body, render
from mock_finapi.http.context import RequestContext, context
from mock_finapi.http.routes import Handlers, route
from mock_finapi.services import webform_requests
from mock_finapi.services.webforms import WebFormService, base_url
from mock_finapi.state.models import Client, User
from mock_finapi.state.webforms import Task, WebForm

MSG_REMOVED = (
    "{method} /api/webForms/bankConnectionUpdate was removed from the Web Form 2.0 API on 2022-06-30: update bank "
    "connections with POST /api/tasks/backgroundUpdate"
)
REMOVED = "bankConnectionUpdate"


class _Caller:
    """An authenticated call: the request's context, the user, the client its token was issued to, the service."""

    def __init__(self, ctx: RequestContext, user: User, client: Client, base: str) -> None:
        self.ctx, self.user, self.client, self.base = ctx, user, client, base
        self.service: WebFormService = ctx.world.webforms
        self.now = ctx.now


async def _caller(request: Request) -> _Caller:
    user, client = await auth.user(request)  # 401 without a valid token, 403 for a client token
    ctx = context(request)
    ctx.world.webforms.check_mandator(user.mandator_id)
    url = request.url
    return _Caller(ctx, user, client, base_url(ctx.sandbox.settings.public_url, url.scheme, url.netloc))


def _pairs(request: Request) -> list[tuple[str, str]]:
    return parse_qsl(request.scope["query_string"].decode("latin-1"), keep_blank_values=True)


# ---------------------------------------------------------------------------------------------------- wire shapes


def web_form_json(form: WebForm, service: WebFormService, base: str) -> dict[str, Any]:
    """`WebForm`: `payload` is `{"bankConnectionId": ...}`, with `errorCode` and `errorMessage` on
    COMPLETED_WITH_ERROR only (decided)."""
    payload: dict[str, Any] = {"bankConnectionId": form.connection_id}
    if form.status == "COMPLETED_WITH_ERROR":
        payload["errorCode"], payload["errorMessage"] = form.error_code, form.error_message
    return {
        "id": form.id,
        "url": service.web_form_url(form, base),
        "createdAt": render.web_form_timestamp(form.created_at),
        "expiresAt": render.web_form_timestamp(form.expires_at),
        "type": form.type,
        "status": form.status,
        "payload": payload,
    }


def task_json(task: Task, form: WebForm | None, service: WebFormService, base: str) -> dict[str, Any]:
    """`Task`: `payload.webForm` once the task needs the user (its form's status as it stands; null once that form
    is deleted), `errorCode` on COMPLETED_WITH_ERROR only (decided)."""
    payload: dict[str, Any] = {"bankConnectionId": task.request.connection_id}
    if task.web_form_id is not None:
        payload["webForm"] = (
            None if form is None else {"id": form.id, "url": service.web_form_url(form, base), "status": form.status}
        )
    if task.status == "COMPLETED_WITH_ERROR":
        payload["errorCode"] = task.error_code
    return {
        "id": task.id,
        "createdAt": render.web_form_timestamp(task.created_at),
        "type": "BANK_CONNECTION_UPDATE",
        "status": task.status,
        "payload": payload,
    }


def _page(items: list[Any], query: webform_requests.ListQuery) -> tuple[list[Any], dict[str, int]]:
    """`Paging` of `items` (all of the user's, in order): an empty list has pageCount 0 (decided)."""
    start = (query.page - 1) * query.per_page
    paging = {
        "page": query.page,
        "perPage": query.per_page,
        "pageCount": math.ceil(len(items) / query.per_page),
        "totalCount": len(items),
    }
    return items[start : start + query.per_page], paging


# ---------------------------------------------------------------------------------------------------- web forms


async def create_import(request: Request) -> Response:
    caller = await _caller(request)
    data = webform_requests.body_object(body.read(caller.ctx), required=False)
    details = webform_requests.parse_import(data, caller.ctx.world.callbacks.url_problem)
    form = await caller.service.create_import(caller.user, caller.client, details, caller.now)
    return render.JSON(web_form_json(form, caller.service, caller.base), status_code=201)


async def get_web_form(request: Request) -> Response:
    caller = await _caller(request)
    form = await caller.service.web_form(caller.user, request.path_params["id"], caller.now)
    return render.JSON(web_form_json(form, caller.service, caller.base))


async def list_web_forms(request: Request) -> Response:
    caller = await _caller(request)
    query = webform_requests.parse_list(_pairs(request))
    forms = await caller.service.web_forms(caller.user, query.descending, caller.now)
    shown, paging = _page(forms, query)
    items = [web_form_json(form, caller.service, caller.base) for form in shown]
    return render.JSON({"items": items, "paging": paging})


async def delete_web_form(request: Request) -> Response:
    caller = await _caller(request)
    await caller.service.delete(caller.user, request.path_params["id"], caller.now)
    return render.empty()


class _WebFormHandlers(Handlers):
    """`/api/webForms/{id}`: GET and DELETE. The removed `POST /api/webForms/bankConnectionUpdate` (and PUT) only
    matches this path, so it is 405 NOT_ALLOWED (WEBFORM.md §2.4), with a description naming its replacement."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except errors.MethodNotAllowed as exc:
            if scope.get("path_params", {}).get("id") != REMOVED:
                raise
            removed = errors.WebFormError(405, "NOT_ALLOWED", MSG_REMOVED.format(method=scope["method"]))
            removed.headers = exc.headers
            raise removed from None


# ---------------------------------------------------------------------------------------------------- tasks


async def create_task(request: Request) -> Response:
    caller = await _caller(request)
    data = webform_requests.body_object(body.read(caller.ctx), required=False)
    parsed = webform_requests.parse_task(data, caller.ctx.world.callbacks.url_problem)._replace(base_url=caller.base)
    task = await caller.service.create_task(caller.user, caller.client, parsed, caller.now)
    return render.JSON(task_json(task, None, caller.service, caller.base), status_code=201)


async def get_task(request: Request) -> Response:
    caller = await _caller(request)
    task, form = await caller.service.task(caller.user, request.path_params["id"], caller.now)
    return render.JSON(task_json(task, form, caller.service, caller.base))


async def list_tasks(request: Request) -> Response:
    caller = await _caller(request)
    query = webform_requests.parse_list(_pairs(request))
    found = await caller.service.tasks(caller.user, query.descending, caller.now)
    shown, paging = _page(found, query)
    items = [task_json(task, form, caller.service, caller.base) for task, form in shown]
    return render.JSON({"items": items, "paging": paging})


routes = [
    route("/api/webForms/bankConnectionImport", POST=create_import),
    route("/api/webForms", GET=list_web_forms),
    Route("/api/webForms/{id}", _WebFormHandlers({"GET": get_web_form, "DELETE": delete_web_form})),
    route("/api/tasks/backgroundUpdate", POST=create_task),
    route("/api/tasks", GET=list_tasks),
    route("/api/tasks/{id}", GET=get_task),
]
"""The literal /api/webForms/bankConnectionImport before /api/webForms/{id}."""

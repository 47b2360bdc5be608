"""Read-only views of the state for the admin API (`/__admin/state/...`), secrets masked, and the admin's instant
edge cases (expire a token, lock a user, complete a web form) that act on what those views show."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from mock_finapi import errors
from mock_finapi.clock import format_v2, to_datetime
from mock_finapi.services.journal import mask_token
from mock_finapi.services.webform_outcomes import Completion
from mock_finapi.services.webforms import Outcome, WebFormService
from mock_finapi.state.models import User
from mock_finapi.state.protocol import Store
from mock_finapi.state.webforms import CallbackAttempt, WebForm


async def users(store: Store, mandator_id: str | None, now: float) -> list[dict[str, Any]]:
    return [
        {
            "mandatorId": user.mandator_id,
            "id": user.id,
            "email": user.email,
            "phone": user.phone,
            "isAutoUpdateEnabled": user.is_auto_update_enabled,
            "verified": user.verified,
            "locked": user.locked,
            "failedLogins": user.failed_logins,
            "processUser": user.process_user,
        }
        for user in await store.users(mandator_id, now)
    ]


async def tokens(store: Store, now: float) -> list[dict[str, Any]]:
    return [
        {
            "token": mask_token(token.value),
            "type": "refresh" if token.is_refresh else "access",
            "clientId": token.client_id,
            "mandatorId": token.mandator_id,
            "userId": token.user_id,
            "expiresIn": token.expires_in(now) if token.expires_at is not None else None,
        }
        for token in await store.tokens(now)
    ]


async def processes(store: Store, now: float) -> list[dict[str, Any]]:
    return [
        {
            "processToken": mask_token(p.token),
            "clientReference": p.client_reference,
            "processId": p.process_id,
            "clientId": p.client_id,
            "mandatorId": p.mandator_id,
            "userId": p.user_id,
            "exchanges": p.exchanges,
            "invalidated": p.invalidated,
        }
        for p in await store.processes(now)
    ]


async def bank_connections(store: Store, mandator_id: str | None, now: float) -> dict[str, Any]:
    """Every bank connection (of one mandator, or all) with its owner, statuses and counts, and the totals."""
    summaries = await store.bank_summary(mandator_id, now)
    listed = [
        {
            "id": s.connection.id,
            "mandatorId": s.connection.mandator_id,
            "userId": s.user_id,
            "bankId": s.connection.bank_id,
            "name": s.connection.name,
            "updateStatus": s.connection.update_status(now),
            "categorizationStatus": s.connection.categorization_status(now),
            "accountIds": list(s.connection.account_ids),
            "accounts": s.accounts,
            "transactions": s.transactions,
        }
        for s in summaries
    ]
    totals = {
        "bankConnections": len(summaries),
        "accounts": sum(s.accounts for s in summaries),
        "transactions": sum(s.transactions for s in summaries),
    }
    return {"bankConnections": listed, "totals": totals}


async def callbacks(store: Store, limit: int | None) -> list[dict[str, Any]]:
    """The callbacks sent (or tried), newest first (`GET /__admin/callbacks`)."""
    return [callback(attempt) for attempt in await store.callbacks(limit)]


def callback(attempt: CallbackAttempt) -> dict[str, Any]:
    """One attempt: its body as the JSON it was (callback bodies hold no secrets)."""
    try:
        body = orjson.loads(attempt.body)
    except orjson.JSONDecodeError:
        body = attempt.body.decode("utf-8", "replace")
    return {
        "time": format_v2(to_datetime(attempt.time)),
        "kind": attempt.kind,
        "url": attempt.url,
        "body": body,
        "status": attempt.status,
        "error": attempt.error,
        "durationMs": round(attempt.duration * 1000, 3),
        "mandatorId": attempt.mandator_id,
        "fault": attempt.fault,
    }


async def web_forms(
    store: Store, mandator_id: str | None, now: float, url: Callable[[WebForm], str]
) -> list[dict[str, Any]]:
    """Every web form (of one mandator, or all), oldest first, with its owner, its `url` and what it asked for."""
    found = [form for user in await store.users(mandator_id, now) for form in await store.web_forms(*_owner(user))]
    found.sort(key=lambda form: form.created_at)
    return [
        {
            "id": form.id,
            "mandatorId": form.mandator_id,
            "userId": form.user_id,
            "type": form.type,
            "status": form.status,
            "url": url(form),
            "createdAt": format_v2(to_datetime(form.created_at)),
            "expiresAt": format_v2(to_datetime(form.expires_at)),
            "opened": form.opened,
            "bankId": form.request.bank_id if form.request.bank_id is not None else form.page.bank_id,
            "accountTypes": list(form.request.account_types) if form.request.account_types is not None else None,
            "callbackUrl": form.request.callback_url,
            "bankConnectionId": form.connection_id,
            "errorCode": form.error_code,
            "taskId": form.task_id,
        }
        for form in found
    ]


async def tasks(store: Store, mandator_id: str | None, now: float) -> list[dict[str, Any]]:
    """Every background update task (of one mandator, or all), oldest first."""
    found = [task for user in await store.users(mandator_id, now) for task in await store.tasks(*_owner(user))]
    found.sort(key=lambda task: task.created_at)
    return [
        {
            "id": task.id,
            "mandatorId": task.mandator_id,
            "userId": task.user_id,
            "type": "BANK_CONNECTION_UPDATE",
            "status": task.status,
            "createdAt": format_v2(to_datetime(task.created_at)),
            "bankConnectionId": task.request.connection_id,
            "webFormId": task.web_form_id,
            "errorCode": task.error_code,
        }
        for task in found
    ]


def _owner(user: User) -> tuple[str, str, bool]:
    """The arguments of the store's per-user listings: oldest first."""
    return user.mandator_id, user.id, False


async def complete_web_form(service: WebFormService, web_form_id: str, done: Completion, now: float) -> WebForm:
    """Finish a form as its user would (`POST /__admin/webForms/{id}/complete`): what is due first (a form whose
    20 minutes have passed is EXPIRED, hence final: 422), then `WebFormService.finish`."""
    await service.sweep(now)
    outcome = Outcome(done.status, done.error_code, None, done.bank_id, done.account_types)
    return await service.finish(web_form_id, outcome, now)


async def expire_token(store: Store, value: str, now: float) -> str:
    """Expire a live access or refresh token now; answers it masked."""
    if await store.expire_token(value, now) is None:
        raise errors.UnknownEntity(f"No live token '{mask_token(value)}'")
    return mask_token(value)


async def lock_user(store: Store, user_id: str, mandator_id: str | None, now: float) -> tuple[str, str]:
    """Lock a user found by id (in `mandator_id`, or in the one mandator that has it); answers (id, mandator)."""
    mandators = [mandator_id] if mandator_id else await store.mandators()
    found = [user for m in mandators if (user := await store.user(m, user_id, now)) is not None]
    if not found:
        raise errors.UnknownEntity(errors.MSG_UNKNOWN_USER.format(user=user_id))
    if len(found) > 1:
        raise errors.BadRequest(f"User '{user_id}' exists in several mandators: add ?mandator=")
    locked = await store.lock_user(found[0].mandator_id, found[0].id)
    if locked is None:
        raise errors.UnknownEntity(errors.MSG_UNKNOWN_USER.format(user=user_id))
    return locked.id, locked.mandator_id

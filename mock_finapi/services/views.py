"""Read-only views of the state for the admin API (`/__admin/state/...`), secrets masked, and the admin's instant
edge cases (expire a token, lock a user) that act on what those views show."""

from __future__ import annotations

from typing import Any

from mock_finapi import errors
from mock_finapi.services.journal import mask_token
from mock_finapi.state.protocol import Store


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

"""Users: field rules, creation, self-service, verification and password changes.

Users live in their mandator's slice of the store, so every client of a mandator sees the same users and clients
of other mandators see none of them. Ids are case-insensitive.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mock_finapi import errors
from mock_finapi.errors import IllegalFieldValue, MissingField
from mock_finapi.randomness import IDS, Randomness
from mock_finapi.state.models import Client, User
from mock_finapi.state.protocol import Store

if TYPE_CHECKING:
    from mock_finapi.services.callbacks import Callbacks

ID_PATTERN = re.compile(r"[a-zA-Z0-9\-_.+@]{1,36}")
TEXT_PATTERN = re.compile(r"[A-Za-z0-9\u00a1-\u02af &(){}\[\].:,;?!+\-_$@#~`^€]*")
PASSWORD_LENGTH = (6, 128)
EMAIL_MAX = 320
PHONE_MAX = 50
CHANGE_TOKEN_PATTERN = re.compile(r"[0-9a-f\-]{36}")
# finAPI: "At least one field must have a non-null value in the request body" (PATCH /users).


# Field rules: each returns a problem ("must ...") or None. Scenario validation reuses them.
def id_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        return "must be 1 to 36 characters of [a-zA-Z0-9-_.+@]"
    return None


def password_problem(value: Any) -> str | None:
    low, high = PASSWORD_LENGTH
    if not isinstance(value, str) or not low <= len(value) <= high:
        return f"must be a string of {low} to {high} characters"
    return None


def text_problem(value: Any, max_length: int, *, allow_empty: bool) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    if not (0 if allow_empty else 1) <= len(value) <= max_length:
        return f"must be {'0' if allow_empty else '1'} to {max_length} characters long"
    if not TEXT_PATTERN.fullmatch(value):
        return "contains characters finAPI does not allow"
    return None


def email_problem(value: Any, *, allow_empty: bool = False) -> str | None:
    return text_problem(value, EMAIL_MAX, allow_empty=allow_empty)


def phone_problem(value: Any, *, allow_empty: bool = False) -> str | None:
    return text_problem(value, PHONE_MAX, allow_empty=allow_empty)


def flag_problem(value: Any) -> str | None:
    return None if type(value) is bool else "must be a boolean"


def change_token_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not CHANGE_TOKEN_PATTERN.fullmatch(value):
        return "must be a 36-character UUID"
    return None


def _check(params: dict[str, Any], field: str, problem: Callable[[Any], str | None]) -> Any:
    """The field's value when present and not null, after its rule passed; None when absent."""
    value = params.get(field)
    if value is not None and (why := problem(value)):
        raise IllegalFieldValue(f"'{field}' {why}")
    return value


def _require(params: dict[str, Any], field: str, problem: Callable[[Any], str | None]) -> Any:
    if params.get(field) is None:
        raise MissingField(field)
    return _check(params, field, problem)


def _check_auto_update(client: Client, requested: bool | None) -> None:
    """finAPI refuses `isAutoUpdateEnabled: true` while the client's automatic batch update is off."""
    if requested and not client.config["isAutomaticBatchUpdateEnabled"]:
        raise errors.IllegalEntityState(errors.MSG_AUTO_UPDATE_DISABLED)


class UserService:
    def __init__(self, store: Store, rng: Randomness, callbacks: Callbacks | None = None) -> None:
        self.store, self.rng, self.callbacks = store, rng, callbacks
        """`callbacks`: where a deletion is told to the mandator's `userSynchronizationCallbackUrl`s."""

    async def create(self, client: Client, params: dict[str, Any], now: float) -> User:
        user_id = _check(params, "id", id_problem)
        password = _check(params, "password", password_problem)
        email = _check(params, "email", email_problem)
        phone = _check(params, "phone", phone_problem)
        auto_update = _check(params, "isAutoUpdateEnabled", flag_problem)
        _check_auto_update(client, auto_update)
        if user_id is None:
            user_id = self.rng.uuid(IDS, await self.store.draw(IDS))
        if password is None:
            password = self.rng.password(await self.store.draw(IDS))
        user = User(
            client.mandator_id,
            user_id,
            password,
            email=email,
            phone=phone,
            is_auto_update_enabled=bool(auto_update),
            verified=bool(client.config["isUserAutoVerificationEnabled"]),
            created_at=now,
        )
        if not await self.store.create_user(user):
            raise errors.EntityExists(errors.MSG_USER_EXISTS.format(user=user_id))
        return user

    async def update(self, client: Client, user: User, params: dict[str, Any]) -> User:
        """PATCH /users: null or absent fields stay, "" clears email or phone; at least one field must be non-null."""
        email = _check(params, "email", lambda v: email_problem(v, allow_empty=True))
        phone = _check(params, "phone", lambda v: phone_problem(v, allow_empty=True))
        auto_update = _check(params, "isAutoUpdateEnabled", flag_problem)
        if email is None and phone is None and auto_update is None:
            raise errors.BadRequest(errors.MSG_NOTHING_TO_UPDATE)
        _check_auto_update(client, auto_update)
        changes: dict[str, Any] = {}
        if email is not None:
            changes["email"] = email or None
        if phone is not None:
            changes["phone"] = phone or None
        if auto_update is not None:
            changes["is_auto_update_enabled"] = auto_update
        updated = await self.store.update_user(user.mandator_id, user.id, changes)
        if updated is None:
            raise errors.UnknownEntity(errors.MSG_UNKNOWN_USER.format(user=user.id))
        return updated

    async def delete(self, user: User, now: float) -> None:
        """Deleting a user revokes all of its tokens (decided, FINAPI.md §3); its mandator remembers the deletion
        (`mandatorAdmin/getUserList`) and its clients' `userSynchronizationCallbackUrl`s are told (FINAPI.md §5)."""
        deleted = await self.store.delete_user(user.mandator_id, user.id, now)
        if deleted is not None and self.callbacks is not None:
            await self.callbacks.user_deleted(deleted.mandator_id, [deleted.id])

    async def find(self, client: Client, user_id: str, now: float) -> User:
        user = await self.store.user(client.mandator_id, user_id, now)
        if user is None:
            raise errors.UnknownEntity(errors.MSG_UNKNOWN_USER.format(user=user_id))
        return user

    async def delete_unverified(self, client: Client, user_id: str, now: float) -> None:
        await self.find(client, user_id, now)
        user = await self.store.delete_user(client.mandator_id, user_id, now, unverified_only=True)
        if user is None:
            raise errors.UnknownEntity(errors.MSG_UNKNOWN_USER.format(user=user_id))
        if user.verified:
            raise errors.UserAlreadyVerified(errors.MSG_USER_ALREADY_VERIFIED.format(user=user.id))
        if self.callbacks is not None:
            await self.callbacks.user_deleted(user.mandator_id, [user.id])

    async def verify(self, client: Client, user_id: str, now: float) -> None:
        await self.find(client, user_id, now)
        user = await self.store.verify_user(client.mandator_id, user_id)
        if user is None:
            raise errors.UnknownEntity(errors.MSG_UNKNOWN_USER.format(user=user_id))
        if user.verified:
            raise errors.UserAlreadyVerified(errors.MSG_USER_ALREADY_VERIFIED.format(user=user.id))

    async def request_password_change(self, client: Client, params: dict[str, Any], now: float) -> tuple[User, str]:
        user = await self.find(client, _require(params, "userId", id_problem), now)
        if not user.verified:
            raise errors.UserNotVerified(errors.MSG_USER_NOT_VERIFIED.format(user=user.id))
        change_token = self.rng.uuid(IDS, await self.store.draw(IDS))
        await self.store.update_user(user.mandator_id, user.id, {"password_change_token": change_token})
        return user, change_token

    async def execute_password_change(self, client: Client, params: dict[str, Any], now: float) -> None:
        """Set the new password, unlock the user and revoke all of its tokens."""
        user_id = _require(params, "userId", id_problem)
        password = _require(params, "password", password_problem)
        change_token = _require(params, "passwordChangeToken", change_token_problem)
        await self.find(client, user_id, now)
        changed = await self.store.change_password(client.mandator_id, user_id, change_token, password)
        if changed is None:
            raise errors.UnknownEntity(errors.MSG_UNKNOWN_USER.format(user=user_id))
        if not changed:
            raise errors.BadRequest(errors.MSG_BAD_PASSWORD_TOKEN)

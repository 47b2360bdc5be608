"""UserService and the user field rules, without HTTP: a World built from a small inline scenario."""

from __future__ import annotations

from typing import Any

import pytest

from mock_finapi import errors
from mock_finapi.services import users
from mock_finapi.state.models import Client, User
from mock_finapi.world import World
from tests.helpers import START
from tests.unit.support import make_world, now_of

pytestmark = pytest.mark.anyio

SCENARIO = """
name: unit-users
seed: 3
clock: {start: "2026-01-01T09:00:00+01:00", frozen: true}
clients:
  - {client_id: app, client_secret: app-secret, mandator_id: m1, config: {isAutomaticBatchUpdateEnabled: true}}
  - {client_id: manual, client_secret: manual-secret, mandator_id: m1,
     config: {isUserAutoVerificationEnabled: false}}
  - {client_id: other, client_secret: other-secret, mandator_id: m2}
users:
  - {id: Username, password: password, email: email@localhost.de, phone: "+49 1"}
  - {id: pending, password: pending-password, verified: false}
"""
T0 = START.timestamp()
"""The scenario's frozen start: where the tests act (services take the virtual time)."""


@pytest.fixture
def world() -> World:
    return make_world(SCENARIO)


async def client_of(world: World, client_id: str = "app") -> Client:
    found = await world.store.client(client_id)
    assert found is not None
    return found


async def user_of(world: World, user_id: str = "username", mandator: str = "m1") -> User:
    found = await world.store.user(mandator, user_id, T0)
    assert found is not None
    return found


async def login(world: World, username: str = "username", password: str = "password") -> dict[str, str]:
    params = {
        "grant_type": "password",
        "client_id": "app",
        "client_secret": "app-secret",
        "username": username,
        "password": password,
    }
    _, issued = await world.tokens.grant(params, T0)
    assert issued.refresh_token is not None
    return {"access": issued.access_token, "refresh": issued.refresh_token}


# field rules
@pytest.mark.parametrize("value", ["a", "Z" * 36, "a-b_c.d+e@f", "0123456789"])
def test_id_rule_accepts_1_to_36_allowed_characters(value: str) -> None:
    assert users.id_problem(value) is None


@pytest.mark.parametrize("value", ["", "a" * 37, "a b", "ä", "a/b", "a#b", "a\n", None, 1])
def test_id_rule_refuses_other_values(value: Any) -> None:
    assert users.id_problem(value) == "must be 1 to 36 characters of [a-zA-Z0-9-_.+@]"


@pytest.mark.parametrize(
    ("value", "ok"), [("x" * 5, False), ("x" * 6, True), ("x" * 128, True), ("x" * 129, False), (123456, False)]
)
def test_password_rule_is_6_to_128_characters_of_anything(value: Any, ok: bool) -> None:
    assert (users.password_problem(value) is None) is ok


@pytest.mark.parametrize(
    ("rule", "limit"),
    [(users.email_problem, users.EMAIL_MAX), (users.phone_problem, users.PHONE_MAX)],
    ids=["email", "phone"],
)
def test_text_rules_bound_the_length_and_allow_empty_only_when_asked(rule: Any, limit: int) -> None:
    assert rule("x" * limit) is None
    assert rule("x" * (limit + 1)) == f"must be 1 to {limit} characters long"
    assert rule("") == f"must be 1 to {limit} characters long"
    assert rule("", allow_empty=True) is None
    assert rule("x" * (limit + 1), allow_empty=True) == f"must be 0 to {limit} characters long"


@pytest.mark.parametrize("value", ["a@b.de", "Jürgen Müller", "+49 (0) 30 123-456", "€$#~`^!?;:,[]{}&"])
def test_text_rule_accepts_finapis_allowed_characters(value: str) -> None:
    assert users.email_problem(value) is None


@pytest.mark.parametrize("value", ["a<b", "a/b", "a\\b", "a'b", 'a"b', "a%b", "a=b", "a|b", "a\tb", "a\u0430"])
def test_text_rule_refuses_other_characters(value: str) -> None:
    assert users.email_problem(value) == "contains characters finAPI does not allow"


@pytest.mark.parametrize(("value", "ok"), [(True, True), (False, True), (1, False), ("true", False), (None, False)])
def test_flag_rule_accepts_only_booleans(value: Any, ok: bool) -> None:
    assert (users.flag_problem(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("45a611d8-8a19-4a02-8726-a24b6a691ce9", True),
        ("45A611D8-8A19-4A02-8726-A24B6A691CE9", False),
        ("a" * 35, False),
    ],
)
def test_change_token_rule_wants_36_lower_case_uuid_characters(value: str, ok: bool) -> None:
    assert (users.change_token_problem(value) is None) is ok


# create
async def test_create_stores_the_user_in_the_clients_mandator(world: World) -> None:
    now = await now_of(world)
    made = await world.users.create(
        await client_of(world), {"id": "alice", "password": "alice-secret", "isAutoUpdateEnabled": True}, now
    )
    assert (made.id, made.password, made.mandator_id, made.email, made.phone) == (
        "alice",
        "alice-secret",
        "m1",
        None,
        None,
    )
    assert (made.is_auto_update_enabled, made.verified, made.created_at) == (True, True, now)
    assert await world.store.user("m1", "ALICE", now) == made
    assert await world.store.user("m2", "alice", now) is None


async def test_create_follows_the_clients_auto_verification_setting(world: World) -> None:
    assert (await world.users.create(await client_of(world, "manual"), {"id": "bob"}, T0)).verified is False


async def test_create_generates_id_and_password_from_the_seed(world: World) -> None:
    twin = make_world(SCENARIO)
    made = [await w.users.create(await client_of(w), {}, T0) for w in (world, twin)]
    assert (made[0].id, made[0].password) == (made[1].id, made[1].password)
    assert users.id_problem(made[0].id) is None
    assert users.password_problem(made[0].password) is None
    assert (await world.users.create(await client_of(world), {}, T0)).id != made[0].id


@pytest.mark.parametrize("user_id", ["username", "USERNAME", "userName"])
async def test_create_refuses_an_existing_id_in_any_case(world: World, user_id: str) -> None:
    with pytest.raises(errors.EntityExists, match=f"'{user_id}'"):
        await world.users.create(await client_of(world), {"id": user_id}, T0)
    assert (await user_of(world)).password == "password"


async def test_the_same_id_may_exist_in_another_mandator(world: World) -> None:
    made = await world.users.create(await client_of(world, "other"), {"id": "username"}, T0)
    assert await user_of(world, mandator="m2") == made
    assert (await user_of(world)).password == "password"


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", "a b"), ("password", "short"), ("email", ""), ("phone", "1" * 51), ("isAutoUpdateEnabled", "yes")],
)
async def test_create_refuses_an_illegal_field_and_stores_nothing(world: World, field: str, value: Any) -> None:
    before = await world.store.users("m1", T0)
    with pytest.raises(errors.IllegalFieldValue, match=rf"^'{field}' "):
        await world.users.create(await client_of(world), {"id": "carol", field: value}, T0)
    assert await world.store.users("m1", T0) == before


# update and delete
async def test_update_changes_given_fields_keeps_null_ones_and_clears_empty_strings(world: World) -> None:
    client = await client_of(world)
    updated = await world.users.update(
        client, await user_of(world), {"email": None, "phone": "", "isAutoUpdateEnabled": True}
    )
    assert (updated.email, updated.phone, updated.is_auto_update_enabled) == ("email@localhost.de", None, True)
    assert await user_of(world) == updated
    await world.users.update(client, updated, {"email": "", "isAutoUpdateEnabled": False})
    user = await user_of(world)
    assert (user.email, user.phone, user.is_auto_update_enabled) == (None, None, False)


async def test_update_validates_every_field_before_changing_any(world: World) -> None:
    params = {"email": "new@example.de", "phone": "<>", "isAutoUpdateEnabled": True}
    with pytest.raises(errors.IllegalFieldValue, match=r"^'phone' "):
        await world.users.update(await client_of(world), await user_of(world), params)
    user = await user_of(world)
    assert (user.email, user.phone, user.is_auto_update_enabled) == ("email@localhost.de", "+49 1", False)


@pytest.mark.parametrize("params", [{}, {"email": None}, {"password": "not-updatable"}])
async def test_update_without_a_non_null_field_is_a_bad_request(world: World, params: dict[str, Any]) -> None:
    with pytest.raises(errors.BadRequest, match=errors.MSG_NOTHING_TO_UPDATE):
        await world.users.update(await client_of(world), await user_of(world), params)


async def test_update_of_a_user_deleted_meanwhile_is_unknown(world: World) -> None:
    user = await user_of(world)
    await world.users.delete(user, T0)
    with pytest.raises(errors.UnknownEntity, match="'Username'"):
        await world.users.update(await client_of(world), user, {"email": "late@example.de"})


async def test_delete_removes_the_user_and_revokes_its_tokens(world: World) -> None:
    tokens = await login(world)
    await world.users.delete(await user_of(world), T0)
    assert await world.store.user("m1", "username", T0) is None
    with pytest.raises(errors.InvalidToken):
        await world.tokens.resolve(tokens["access"], T0)
    assert {t.value for t in await world.store.tokens(T0)} & set(tokens.values()) == set()


async def test_delete_unverified_removes_only_unverified_users(world: World) -> None:
    client = await client_of(world)
    with pytest.raises(errors.UserAlreadyVerified, match="'Username'"):
        await world.users.delete_unverified(client, "username", T0)
    assert await world.store.user("m1", "username", T0) is not None
    await world.users.delete_unverified(client, "PENDING", T0)
    assert await world.store.user("m1", "pending", T0) is None
    with pytest.raises(errors.UnknownEntity, match="'pending'"):
        await world.users.delete_unverified(client, "pending", T0)


# verification
async def test_verify_marks_the_user_verified_once(world: World) -> None:
    await world.users.verify(await client_of(world), "Pending", T0)
    assert (await user_of(world, "pending")).verified is True
    with pytest.raises(errors.UserAlreadyVerified):
        await world.users.verify(await client_of(world), "pending", T0)


async def test_verify_sees_only_the_clients_mandator(world: World) -> None:
    with pytest.raises(errors.UnknownEntity, match="No user with id 'pending'"):
        await world.users.verify(await client_of(world, "other"), "pending", T0)
    assert (await user_of(world, "pending")).verified is False


async def test_find_sees_only_the_clients_mandator(world: World) -> None:
    assert await world.users.find(await client_of(world, "manual"), "USERNAME", T0) == await user_of(world)
    with pytest.raises(errors.UnknownEntity, match="No user with id 'username'"):
        await world.users.find(await client_of(world, "other"), "username", T0)


# password change
async def test_request_password_change_issues_a_uuid_token(world: World) -> None:
    user, token = await world.users.request_password_change(await client_of(world), {"userId": "USERNAME"}, T0)
    stored = await user_of(world)
    assert (user.id, stored.password_change_token) == (stored.id, token)
    assert users.change_token_problem(token) is None


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, errors.MissingField),
        ({"userId": None}, errors.MissingField),
        ({"userId": ""}, errors.IllegalFieldValue),
        ({"userId": "a b"}, errors.IllegalFieldValue),
        ({"userId": "nobody"}, errors.UnknownEntity),
        ({"userId": "pending"}, errors.UserNotVerified),
    ],
)
async def test_request_password_change_refuses(world: World, params: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        await world.users.request_password_change(await client_of(world), params, T0)


async def test_execute_password_change_sets_the_password_unlocks_and_revokes_tokens(world: World) -> None:
    tokens = await login(world)
    await world.store.update_user("m1", "username", {"locked": True, "failed_logins": 3})
    client = await client_of(world)
    _, change_token = await world.users.request_password_change(client, {"userId": "username"}, T0)
    params = {"userId": "username", "password": "new-password", "passwordChangeToken": change_token}
    await world.users.execute_password_change(client, params, T0)
    user = await user_of(world)
    assert (user.password, user.locked, user.failed_logins, user.password_change_token) == (
        "new-password",
        False,
        0,
        None,
    )
    assert [t for t in await world.store.tokens(T0) if t.user_id == "Username"] == []
    with pytest.raises(errors.InvalidToken):
        await world.tokens.resolve(tokens["access"], T0)
    assert (await login(world, password="new-password"))["access"] != tokens["access"]


async def test_execute_password_change_with_a_wrong_or_used_token_changes_nothing(world: World) -> None:
    client = await client_of(world)
    _, change_token = await world.users.request_password_change(client, {"userId": "username"}, T0)
    wrong = change_token[:-1] + ("0" if change_token[-1] != "0" else "1")
    params = {"userId": "username", "password": "new-password", "passwordChangeToken": wrong}
    with pytest.raises(errors.BadRequest, match=errors.MSG_BAD_PASSWORD_TOKEN):
        await world.users.execute_password_change(client, params, T0)
    assert (await user_of(world)).password == "password"
    await world.users.execute_password_change(client, {**params, "passwordChangeToken": change_token}, T0)
    with pytest.raises(errors.BadRequest, match=errors.MSG_BAD_PASSWORD_TOKEN):
        await world.users.execute_password_change(
            client, {**params, "password": "third-password", "passwordChangeToken": change_token}, T0
        )
    assert (await user_of(world)).password == "new-password"


async def test_execute_password_change_for_an_unknown_user_is_404(world: World) -> None:
    params = {"userId": "nobody", "password": "new-password", "passwordChangeToken": "0" * 36}
    with pytest.raises(errors.UnknownEntity, match="'nobody'"):
        await world.users.execute_password_change(await client_of(world), params, T0)


@pytest.mark.parametrize("missing", ["userId", "password", "passwordChangeToken"])
async def test_execute_password_change_requires_every_field(world: World, missing: str) -> None:
    params = {"userId": "username", "password": "new-password", "passwordChangeToken": "0" * 36}
    del params[missing]
    with pytest.raises(errors.MissingField, match=f"'{missing}'"):
        await world.users.execute_password_change(await client_of(world), params, T0)


async def test_auto_update_is_refused_while_the_clients_batch_update_is_off(world: World) -> None:
    manual = await client_of(world, "manual")
    with pytest.raises(errors.IllegalEntityState, match=errors.MSG_AUTO_UPDATE_DISABLED):
        await world.users.create(manual, {"id": "eve", "isAutoUpdateEnabled": True}, T0)
    assert await world.store.user("m1", "eve", T0) is None
    with pytest.raises(errors.IllegalEntityState, match=errors.MSG_AUTO_UPDATE_DISABLED):
        await world.users.update(manual, await user_of(world), {"isAutoUpdateEnabled": True})
    assert (await user_of(world)).is_auto_update_enabled is False

"""UserService and the user field rules, without HTTP: a World built from a small inline scenario."""

from __future__ import annotations

from typing import Any

import pytest

from mock_finapi import errors
from mock_finapi.scenarios.loader import load_text
from mock_finapi.services import users
from mock_finapi.state.models import Client, User
from mock_finapi.world import World

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


@pytest.fixture
def world() -> World:
    return World(load_text(SCENARIO, "unit-users.yaml"))


@pytest.fixture
def service(world: World) -> users.UserService:
    return world.users


def client_of(world: World, client_id: str = "app") -> Client:
    return world.store.clients[client_id]


def user_of(world: World, user_id: str = "username", mandator: str = "m1") -> User:
    found = world.store.user(mandator, user_id)
    assert found is not None
    return found


def login(world: World, username: str = "username", password: str = "password") -> dict[str, str]:
    issued = world.tokens.grant(
        {
            "grant_type": "password",
            "client_id": "app",
            "client_secret": "app-secret",
            "username": username,
            "password": password,
        }
    )
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
def test_create_stores_the_user_in_the_clients_mandator(world: World, service: users.UserService) -> None:
    made = service.create(client_of(world), {"id": "alice", "password": "alice-secret", "isAutoUpdateEnabled": True})
    assert (made.id, made.password, made.mandator_id, made.email, made.phone) == (
        "alice",
        "alice-secret",
        "m1",
        None,
        None,
    )
    assert (made.is_auto_update_enabled, made.verified, made.created_at) == (True, True, world.clock.time())
    assert world.store.user("m1", "ALICE") is made
    assert world.store.user("m2", "alice") is None


def test_create_follows_the_clients_auto_verification_setting(world: World, service: users.UserService) -> None:
    assert service.create(client_of(world, "manual"), {"id": "bob"}).verified is False


def test_create_generates_id_and_password_from_the_seed(service: users.UserService) -> None:
    twin = World(load_text(SCENARIO, "unit-users.yaml")).users
    made = [s.create(client_of_service(s), {}) for s in (service, twin)]
    assert (made[0].id, made[0].password) == (made[1].id, made[1].password)
    assert users.id_problem(made[0].id) is None
    assert users.password_problem(made[0].password) is None
    assert service.create(client_of_service(service), {}).id != made[0].id


def client_of_service(service: users.UserService) -> Client:
    return service.store.clients["app"]


@pytest.mark.parametrize("user_id", ["username", "USERNAME", "userName"])
def test_create_refuses_an_existing_id_in_any_case(world: World, service: users.UserService, user_id: str) -> None:
    with pytest.raises(errors.EntityExists, match=f"'{user_id}'"):
        service.create(client_of(world), {"id": user_id})
    assert user_of(world).password == "password"


def test_the_same_id_may_exist_in_another_mandator(world: World, service: users.UserService) -> None:
    made = service.create(client_of(world, "other"), {"id": "username"})
    assert user_of(world, mandator="m2") is made
    assert user_of(world).password == "password"


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", "a b"), ("password", "short"), ("email", ""), ("phone", "1" * 51), ("isAutoUpdateEnabled", "yes")],
)
def test_create_refuses_an_illegal_field_and_stores_nothing(
    world: World, service: users.UserService, field: str, value: Any
) -> None:
    before = dict(world.store.mandator("m1").users)
    with pytest.raises(errors.IllegalFieldValue, match=rf"^'{field}' "):
        service.create(client_of(world), {"id": "carol", field: value})
    assert world.store.mandator("m1").users == before


# update and delete
def test_update_changes_given_fields_keeps_null_ones_and_clears_empty_strings(
    world: World, service: users.UserService
) -> None:
    user = user_of(world)
    service.update(client_of(world), user, {"email": None, "phone": "", "isAutoUpdateEnabled": True})
    assert (user.email, user.phone, user.is_auto_update_enabled) == ("email@localhost.de", None, True)
    service.update(client_of(world), user, {"email": "", "isAutoUpdateEnabled": False})
    assert (user.email, user.phone, user.is_auto_update_enabled) == (None, None, False)


def test_update_validates_every_field_before_changing_any(world: World, service: users.UserService) -> None:
    user = user_of(world)
    with pytest.raises(errors.IllegalFieldValue, match=r"^'phone' "):
        service.update(client_of(world), user, {"email": "new@example.de", "phone": "<>", "isAutoUpdateEnabled": True})
    assert (user.email, user.phone, user.is_auto_update_enabled) == ("email@localhost.de", "+49 1", False)


@pytest.mark.parametrize("params", [{}, {"email": None}, {"password": "not-updatable"}])
def test_update_without_a_non_null_field_is_a_bad_request(
    world: World, service: users.UserService, params: dict[str, Any]
) -> None:
    with pytest.raises(errors.BadRequest, match=errors.MSG_NOTHING_TO_UPDATE):
        service.update(client_of(world), user_of(world), params)


def test_delete_removes_the_user_and_revokes_its_tokens(world: World, service: users.UserService) -> None:
    tokens = login(world)
    service.delete(user_of(world))
    assert world.store.user("m1", "username") is None
    with pytest.raises(errors.InvalidToken):
        world.tokens.resolve(tokens["access"])
    assert world.store.token(tokens["refresh"], world.clock.time()) is None


def test_delete_unverified_removes_only_unverified_users(world: World, service: users.UserService) -> None:
    with pytest.raises(errors.UserAlreadyVerified, match="'Username'"):
        service.delete_unverified(client_of(world), "username")
    service.delete_unverified(client_of(world), "PENDING")
    assert world.store.user("m1", "pending") is None
    with pytest.raises(errors.UnknownEntity, match="'pending'"):
        service.delete_unverified(client_of(world), "pending")


# verification
def test_verify_marks_the_user_verified_once(world: World, service: users.UserService) -> None:
    service.verify(client_of(world), "Pending")
    assert user_of(world, "pending").verified is True
    with pytest.raises(errors.UserAlreadyVerified):
        service.verify(client_of(world), "pending")


def test_find_sees_only_the_clients_mandator(world: World, service: users.UserService) -> None:
    assert service.find(client_of(world, "manual"), "USERNAME") is user_of(world)
    with pytest.raises(errors.UnknownEntity, match="No user with id 'username'"):
        service.find(client_of(world, "other"), "username")


# password change
def test_request_password_change_issues_a_uuid_token(world: World, service: users.UserService) -> None:
    user, token = service.request_password_change(client_of(world), {"userId": "USERNAME"})
    assert (user, user.password_change_token) == (user_of(world), token)
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
def test_request_password_change_refuses(
    world: World, service: users.UserService, params: dict[str, Any], error: type
) -> None:
    with pytest.raises(error):
        service.request_password_change(client_of(world), params)


def test_execute_password_change_sets_the_password_unlocks_and_revokes_tokens(
    world: World, service: users.UserService
) -> None:
    tokens = login(world)
    user = user_of(world)
    user.locked, user.failed_logins = True, 3
    _, change_token = service.request_password_change(client_of(world), {"userId": "username"})
    service.execute_password_change(
        client_of(world), {"userId": "username", "password": "new-password", "passwordChangeToken": change_token}
    )
    assert (user.password, user.locked, user.failed_logins, user.password_change_token) == (
        "new-password",
        False,
        0,
        None,
    )
    assert user.grants == set()
    with pytest.raises(errors.InvalidToken):
        world.tokens.resolve(tokens["access"])
    assert login(world, password="new-password")["access"] != tokens["access"]


def test_execute_password_change_with_a_wrong_or_used_token_changes_nothing(
    world: World, service: users.UserService
) -> None:
    client = client_of(world)
    _, change_token = service.request_password_change(client, {"userId": "username"})
    wrong = change_token[:-1] + ("0" if change_token[-1] != "0" else "1")
    params = {"userId": "username", "password": "new-password", "passwordChangeToken": wrong}
    with pytest.raises(errors.BadRequest, match=errors.MSG_BAD_PASSWORD_TOKEN):
        service.execute_password_change(client, params)
    assert user_of(world).password == "password"
    service.execute_password_change(client, {**params, "passwordChangeToken": change_token})
    with pytest.raises(errors.BadRequest, match=errors.MSG_BAD_PASSWORD_TOKEN):
        service.execute_password_change(
            client, {**params, "password": "third-password", "passwordChangeToken": change_token}
        )
    assert user_of(world).password == "new-password"


@pytest.mark.parametrize("missing", ["userId", "password", "passwordChangeToken"])
def test_execute_password_change_requires_every_field(world: World, service: users.UserService, missing: str) -> None:
    params = {"userId": "username", "password": "new-password", "passwordChangeToken": "0" * 36}
    del params[missing]
    with pytest.raises(errors.MissingField, match=f"'{missing}'"):
        service.execute_password_change(client_of(world), params)


def test_auto_update_is_refused_while_the_clients_batch_update_is_off(world: World, service: users.UserService) -> None:
    manual = client_of(world, "manual")
    with pytest.raises(errors.IllegalEntityState, match=errors.MSG_AUTO_UPDATE_DISABLED):
        service.create(manual, {"id": "eve", "isAutoUpdateEnabled": True})
    assert world.store.user("m1", "eve") is None
    with pytest.raises(errors.IllegalEntityState, match=errors.MSG_AUTO_UPDATE_DISABLED):
        service.update(manual, user_of(world), {"isAutoUpdateEnabled": True})
    assert user_of(world).is_auto_update_enabled is False

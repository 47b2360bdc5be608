"""TokenService on a Store, a Clock and a Randomness: no HTTP."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mock_finapi import errors
from mock_finapi.clock import Clock
from mock_finapi.randomness import Randomness
from mock_finapi.services import client_config
from mock_finapi.services.tokens import IssuedToken, TokenService, TokenSettings
from mock_finapi.state.models import Client, User
from mock_finapi.state.store import COMPACT_SLACK, Store
from tests.helpers import CLIENT_CREDENTIALS, CLIENT_ID, CLIENT_SECRET, START, password_grant

MANDATOR = "mandator-1"
OTHER_CLIENT = {**CLIENT_CREDENTIALS, "client_id": "other-client", "client_secret": "other-secret"}
CENTURY = 100 * 365 * 86_400
TOKEN_PATTERNS = {
    "uuid": r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
    "finapi": r"[A-Za-z0-9_]{128}",
}


def make_service(clock: Clock, *, seed: int = 1, fmt: str = "uuid", reuse: bool = True, **config: Any) -> TokenService:
    """Two app clients of one mandator (the first with `config` overrides) and the user username/password."""
    store = Store()
    for client_id, secret, overrides in ((CLIENT_ID, CLIENT_SECRET, config), ("other-client", "other-secret", {})):
        settings = client_config.new_config(overrides, mandator_admin=False)
        store.add_client(Client(client_id, secret, "app", MANDATOR, settings))
    store.add_user(User("username", "password", MANDATOR))
    return TokenService(store, clock, Randomness(seed), TokenSettings(fmt, reuse))


def refresh_grant(refresh_token: str | None, credentials: dict[str, str] = CLIENT_CREDENTIALS) -> dict[str, str]:
    assert refresh_token is not None
    return {**credentials, "grant_type": "refresh_token", "refresh_token": refresh_token}


def user(service: TokenService) -> User:
    found = service.store.user(MANDATOR, "username")
    assert found is not None
    return found


@pytest.fixture
def service(clock: Clock) -> TokenService:
    return make_service(clock)


def test_client_credentials_reuses_live_token_with_whole_seconds_left(service: TokenService, clock: Clock) -> None:
    first = service.grant(CLIENT_CREDENTIALS)
    assert first == IssuedToken(first.access_token, 3600, None)
    clock.advance(0.25)
    assert service.grant(CLIENT_CREDENTIALS) == IssuedToken(first.access_token, 3599)
    clock.advance(3598.75)
    assert service.grant(CLIENT_CREDENTIALS) == IssuedToken(first.access_token, 1)


def test_token_in_its_last_second_is_not_reused(service: TokenService, clock: Clock) -> None:
    first = service.grant(CLIENT_CREDENTIALS)
    clock.advance(3599.5)
    second = service.grant(CLIENT_CREDENTIALS)
    assert second == IssuedToken(second.access_token, 3600)
    assert second.access_token != first.access_token
    assert service.resolve(first.access_token).value == first.access_token


def test_password_grant_reuses_access_and_refresh_token(service: TokenService, clock: Clock) -> None:
    first = service.grant(password_grant())
    assert first.refresh_token is not None
    clock.advance(10)
    assert service.grant(password_grant()) == IssuedToken(first.access_token, 3590, first.refresh_token)


def test_password_grant_with_expired_refresh_token_starts_a_new_grant(clock: Clock) -> None:
    service = make_service(clock, refreshTokensValidityPeriod=60)
    first = service.grant(password_grant())
    clock.advance(60)
    second = service.grant(password_grant())
    assert second.refresh_token not in (None, first.refresh_token)
    assert second.access_token != first.access_token


def test_reuse_off_mints_a_new_token_per_request(clock: Clock) -> None:
    service = make_service(clock, reuse=False)
    values = {service.grant(CLIENT_CREDENTIALS).access_token for _ in range(5)}
    assert len(values) == 5
    assert all(service.resolve(v).grant.user is None for v in values)


def test_zero_lifetime_tokens_never_expire(clock: Clock) -> None:
    service = make_service(
        clock, userAccessTokensValidityPeriod=0, refreshTokensValidityPeriod=0, clientAccessTokensValidityPeriod=0
    )
    client = service.grant(CLIENT_CREDENTIALS)
    tokens = service.grant(password_grant())
    clock.advance(CENTURY)
    assert client.expires_in == tokens.expires_in == 0
    assert service.resolve(client.access_token).expires_at is None
    assert service.grant(password_grant()) == tokens
    assert service.grant(refresh_grant(tokens.refresh_token)).expires_in == 0


def test_lifetime_is_read_from_the_configuration_when_minting(clock: Clock) -> None:
    service = make_service(clock, userAccessTokensValidityPeriod=120)
    first = service.grant(password_grant())
    assert first.expires_in == 120
    service.store.clients[CLIENT_ID].config["userAccessTokensValidityPeriod"] = 600
    assert service.grant(password_grant()).expires_in == 120  # reused, minted under the old lifetime
    assert service.grant(refresh_grant(first.refresh_token)).expires_in == 600


def test_refresh_retires_access_tokens_of_its_own_grant_only(clock: Clock) -> None:
    service = make_service(clock, reuse=False)
    one, two = service.grant(password_grant()), service.grant(password_grant())
    refreshed = service.grant(refresh_grant(one.refresh_token))
    assert refreshed.refresh_token is None
    with pytest.raises(errors.InvalidToken):
        service.resolve(one.access_token)
    assert service.resolve(two.access_token).grant.user is user(service)
    assert service.resolve(refreshed.access_token).grant is service.store.tokens[str(one.refresh_token)].grant


def test_refresh_token_of_another_client_is_refused(service: TokenService) -> None:
    tokens = service.grant(password_grant() | OTHER_CLIENT | {"grant_type": "password"})
    with pytest.raises(errors.BadRequest, match=re.escape(errors.MSG_BAD_REFRESH)):
        service.grant(refresh_grant(tokens.refresh_token))
    assert service.resolve(tokens.access_token).value == tokens.access_token


def test_refresh_token_is_not_a_bearer_token(service: TokenService) -> None:
    tokens = service.grant(password_grant())
    with pytest.raises(errors.InvalidToken, match=re.escape(f"Invalid access token: {tokens.refresh_token}")):
        service.resolve(str(tokens.refresh_token))


def test_bad_client_is_refused_before_the_grant_type_is_looked_at(service: TokenService) -> None:
    with pytest.raises(errors.InvalidClient):
        service.grant({**CLIENT_CREDENTIALS, "grant_type": "implicit", "client_secret": "wrong"})
    with pytest.raises(errors.InvalidClient):
        service.authenticate_client("unknown", CLIENT_SECRET)
    assert service.authenticate_client(CLIENT_ID, CLIENT_SECRET).client_id == CLIENT_ID


def test_revoke_ignores_tokens_of_other_clients(service: TokenService) -> None:
    theirs = service.grant(OTHER_CLIENT)
    service.revoke(service.store.clients[CLIENT_ID], theirs.access_token, None)
    assert service.resolve(theirs.access_token).value == theirs.access_token
    service.revoke(service.store.clients["other-client"], theirs.access_token, None)
    with pytest.raises(errors.InvalidToken):
        service.resolve(theirs.access_token)


def test_lock_revokes_the_users_grants_of_every_client(service: TokenService) -> None:
    mine = service.grant(password_grant())
    theirs = service.grant(password_grant() | OTHER_CLIENT | {"grant_type": "password"})
    for _ in range(3):
        with pytest.raises(errors.BadRequest):
            service.grant(password_grant(password="wrong"))
    assert user(service).locked
    for value in (mine.access_token, theirs.access_token):
        with pytest.raises(errors.InvalidToken):
            service.resolve(value)
    assert not user(service).grants
    with pytest.raises(errors.Locked, match="User 'username' is locked"):
        service.grant(password_grant())


def test_zero_max_login_attempts_never_locks(clock: Clock) -> None:
    service = make_service(clock, maxUserLoginAttempts=0)
    for _ in range(20):
        with pytest.raises(errors.BadRequest):
            service.grant(password_grant(password="wrong"))
    assert service.grant(password_grant()).refresh_token is not None


def test_expired_tokens_are_purged_so_the_store_stays_bounded(clock: Clock) -> None:
    """With reuse off and 60 s lifetimes, one grant of each kind per second keeps 60 of each token alive, no more."""
    service = make_service(
        clock,
        reuse=False,
        userAccessTokensValidityPeriod=60,
        refreshTokensValidityPeriod=60,
        clientAccessTokensValidityPeriod=60,
    )
    store, sizes = service.store, []
    for _ in range(2_000):
        service.grant(CLIENT_CREDENTIALS)
        service.grant(password_grant())
        sizes.append(len(store.tokens))
        clock.advance(1)
    assert max(sizes) == sizes[-1] == 3 * 60
    assert len(user(service).grants) == 60
    assert store.expiry_entries <= 3 * 60 * 2 + COMPACT_SLACK


def test_revoked_tokens_do_not_pile_up_in_the_expiry_index(service: TokenService) -> None:
    """Every refresh revokes the access token before it; the index must not keep one entry per revoked token."""
    tokens = service.grant(password_grant())
    for _ in range(5 * COMPACT_SLACK):
        service.grant(refresh_grant(tokens.refresh_token))
    assert len(service.store.tokens) == 2
    assert service.store.expiry_entries <= 2 * 2 + COMPACT_SLACK + 1


def _sequence(service: TokenService) -> list[str | None]:
    issued = [service.grant(CLIENT_CREDENTIALS), service.grant(password_grant())]
    issued.append(service.grant(refresh_grant(issued[1].refresh_token)))
    return [v for i in issued for v in (i.access_token, i.refresh_token)]


@pytest.mark.parametrize("fmt", TOKEN_PATTERNS)
def test_same_seed_mints_the_same_token_sequence_and_another_seed_does_not(fmt: str) -> None:
    runs = [_sequence(make_service(Clock(START, frozen=True), seed=s, fmt=fmt, reuse=False)) for s in (42, 42, 43)]
    assert runs[0] == runs[1]
    assert not set(filter(None, runs[0])) & set(filter(None, runs[2]))
    assert all(re.fullmatch(TOKEN_PATTERNS[fmt], v) for v in runs[0] if v is not None)

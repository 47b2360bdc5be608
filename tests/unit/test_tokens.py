"""TokenService on a MemoryStore: no HTTP, the virtual time passed as `now`."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mock_finapi import errors
from mock_finapi.clock import starting
from mock_finapi.services import client_config
from mock_finapi.services.tokens import IssuedToken, TokenService
from mock_finapi.state.memory import COMPACT_SLACK, MemoryStore
from mock_finapi.state.models import Client, User
from mock_finapi.state.protocol import TokenPolicy
from tests.helpers import CLIENT_CREDENTIALS, CLIENT_ID, CLIENT_SECRET, START, password_grant
from tests.unit.support import REAL

pytestmark = pytest.mark.anyio

MANDATOR = "mandator-1"
OTHER_CLIENT = {**CLIENT_CREDENTIALS, "client_id": "other-client", "client_secret": "other-secret"}
T0 = START.timestamp()
CENTURY = 100 * 365 * 86_400
TOKEN_PATTERNS = {
    "uuid": r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
    "finapi": r"[A-Za-z0-9_]{128}",
}


def make_service(*, seed: int = 1, fmt: str = "uuid", reuse: bool = True, **config: Any) -> TokenService:
    """Two app clients of one mandator (the first with `config` overrides) and the user username/password."""
    store = MemoryStore(seed, starting(START, True, REAL))
    for client_id, secret, overrides in ((CLIENT_ID, CLIENT_SECRET, config), ("other-client", "other-secret", {})):
        settings = client_config.new_config(overrides, mandator_admin=False)
        store.load_client(Client(client_id, secret, "app", MANDATOR, settings))
    store.load_user(User(MANDATOR, "username", "password"))
    return TokenService(store, TokenPolicy(fmt, reuse))


def store_of(service: TokenService) -> MemoryStore:
    assert isinstance(service.store, MemoryStore)
    return service.store


async def grant(service: TokenService, params: dict[str, str], now: float = T0) -> IssuedToken:
    _, issued = await service.grant(params, now)
    return issued


def refresh_grant(refresh_token: str | None, credentials: dict[str, str] = CLIENT_CREDENTIALS) -> dict[str, str]:
    assert refresh_token is not None
    return {**credentials, "grant_type": "refresh_token", "refresh_token": refresh_token}


def other_password_grant(password: str = "password") -> dict[str, str]:
    return password_grant(password=password) | OTHER_CLIENT | {"grant_type": "password"}


async def user(service: TokenService, now: float = T0) -> User:
    found = await service.store.user(MANDATOR, "username", now)
    assert found is not None
    return found


async def client(service: TokenService, client_id: str = CLIENT_ID) -> Client:
    found = await service.store.client(client_id)
    assert found is not None
    return found


async def live(service: TokenService, value: str | None, now: float = T0) -> bool:
    assert value is not None
    try:
        await service.resolve(value, now)
    except errors.InvalidToken:
        return False
    return True


@pytest.fixture
def service() -> TokenService:
    return make_service()


async def test_client_credentials_reuses_live_token_with_whole_seconds_left(service: TokenService) -> None:
    first = await grant(service, CLIENT_CREDENTIALS)
    assert first == IssuedToken(first.access_token, 3599, None)  # as finAPI shows it: counted a moment after issue
    assert await grant(service, CLIENT_CREDENTIALS, T0 + 0.25) == IssuedToken(first.access_token, 3599)
    assert await grant(service, CLIENT_CREDENTIALS, T0 + 600) == IssuedToken(first.access_token, 2999)
    assert await grant(service, CLIENT_CREDENTIALS, T0 + 3598) == IssuedToken(first.access_token, 1)


async def test_grant_answers_the_client_that_authenticated(service: TokenService) -> None:
    authenticated, issued = await service.grant(OTHER_CLIENT, T0)
    assert (authenticated.client_id, authenticated.mandator_id) == ("other-client", MANDATOR)
    bearer = await service.resolve(issued.access_token, T0)
    assert (bearer.client, bearer.user) == (authenticated, None)


async def test_token_in_its_last_second_is_not_reused(service: TokenService) -> None:
    first = await grant(service, CLIENT_CREDENTIALS)
    second = await grant(service, CLIENT_CREDENTIALS, T0 + 3599)  # one second left would read `expires_in: 0`
    assert second == IssuedToken(second.access_token, 3599)
    assert second.access_token != first.access_token
    assert (await service.resolve(first.access_token, T0 + 3599.5)).token.value == first.access_token


async def test_password_grant_reuses_access_and_refresh_token(service: TokenService) -> None:
    first = await grant(service, password_grant())
    assert first.refresh_token is not None
    assert await grant(service, password_grant(), T0 + 10) == IssuedToken(first.access_token, 3589, first.refresh_token)


async def test_password_grant_with_expired_refresh_token_starts_a_new_grant() -> None:
    service = make_service(refreshTokensValidityPeriod=60)
    first = await grant(service, password_grant())
    second = await grant(service, password_grant(), T0 + 60)
    assert second.refresh_token not in (None, first.refresh_token)
    assert second.access_token != first.access_token


async def test_reuse_off_mints_a_new_token_per_request() -> None:
    service = make_service(reuse=False)
    values = {(await grant(service, CLIENT_CREDENTIALS)).access_token for _ in range(5)}
    assert len(values) == 5
    assert [(await service.resolve(v, T0)).user for v in values] == [None] * 5


async def test_zero_lifetime_tokens_never_expire() -> None:
    service = make_service(
        userAccessTokensValidityPeriod=0, refreshTokensValidityPeriod=0, clientAccessTokensValidityPeriod=0
    )
    client_token = await grant(service, CLIENT_CREDENTIALS)
    tokens = await grant(service, password_grant())
    later = T0 + CENTURY
    assert client_token.expires_in == tokens.expires_in == 0
    assert (await service.resolve(client_token.access_token, later)).token.expires_at is None
    assert await grant(service, password_grant(), later) == tokens
    assert (await grant(service, refresh_grant(tokens.refresh_token), later)).expires_in == 0


async def test_lifetime_is_read_from_the_configuration_when_minting() -> None:
    service = make_service(userAccessTokensValidityPeriod=120)
    first = await grant(service, password_grant())
    assert first.expires_in == 119
    await service.store.update_client_config(CLIENT_ID, {"userAccessTokensValidityPeriod": 600})
    assert (await grant(service, password_grant())).expires_in == 119  # reused, minted under the old lifetime
    assert (await grant(service, refresh_grant(first.refresh_token))).expires_in == 599


async def test_refresh_retires_access_tokens_of_its_own_grant_only() -> None:
    service = make_service(reuse=False)
    one, two = await grant(service, password_grant()), await grant(service, password_grant())
    refreshed = await grant(service, refresh_grant(one.refresh_token))
    assert refreshed.refresh_token is None
    assert not await live(service, one.access_token)
    assert (await service.resolve(two.access_token, T0)).user == await user(service)
    # the new access token belongs to the refresh token's grant: revoking that grant ends it, not `two`
    await service.revoke(await client(service), str(one.refresh_token), None, T0)
    assert not await live(service, refreshed.access_token)
    assert await live(service, two.access_token)


async def test_refresh_token_of_another_client_is_refused(service: TokenService) -> None:
    tokens = await grant(service, other_password_grant())
    with pytest.raises(errors.BadRequest, match=re.escape(errors.MSG_BAD_REFRESH)):
        await grant(service, refresh_grant(tokens.refresh_token))
    assert await live(service, tokens.access_token)


async def test_refresh_token_is_not_a_bearer_token(service: TokenService) -> None:
    tokens = await grant(service, password_grant())
    with pytest.raises(errors.InvalidToken, match=re.escape(f"Invalid access token: {tokens.refresh_token}")):
        await service.resolve(str(tokens.refresh_token), T0)


async def test_bad_client_is_refused_before_the_grant_type_is_looked_at(service: TokenService) -> None:
    with pytest.raises(errors.InvalidClient):
        await grant(service, {**CLIENT_CREDENTIALS, "grant_type": "implicit", "client_secret": "wrong"})
    with pytest.raises(errors.InvalidClient):
        await service.authenticate_client("unknown", CLIENT_SECRET)
    assert (await service.authenticate_client(CLIENT_ID, CLIENT_SECRET)).client_id == CLIENT_ID


async def test_an_unknown_grant_type_of_a_good_client_is_a_bad_request(service: TokenService) -> None:
    with pytest.raises(errors.BadRequest, match=re.escape(errors.MSG_UNSUPPORTED_GRANT.format(grant="implicit"))):
        await grant(service, {**CLIENT_CREDENTIALS, "grant_type": "implicit"})


@pytest.mark.parametrize("missing", ["grant_type", "client_id", "client_secret"])
async def test_a_token_request_without_a_client_field_names_it(service: TokenService, missing: str) -> None:
    with pytest.raises(errors.MissingField, match=f"'{missing}'"):
        await grant(service, {k: v for k, v in CLIENT_CREDENTIALS.items() if k != missing})


async def test_auto_register_accepts_an_unknown_client_on_first_use() -> None:
    service = make_service()
    service.auto_register = True
    registered = await service.authenticate_client("newcomer", "its-secret")
    assert (registered.client_id, registered.role, registered.registered) == ("newcomer", "app", True)
    assert registered.mandator_id == client_config.mandator_for("newcomer")
    assert await service.authenticate_client("newcomer", "its-secret") == registered
    with pytest.raises(errors.InvalidClient):
        await service.authenticate_client("newcomer", "another-secret")


async def test_revoke_ignores_tokens_of_other_clients(service: TokenService) -> None:
    theirs = await grant(service, OTHER_CLIENT)
    await service.revoke(await client(service), theirs.access_token, None, T0)
    assert await live(service, theirs.access_token)
    await service.revoke(await client(service, "other-client"), theirs.access_token, None, T0)
    assert not await live(service, theirs.access_token)


async def test_revoke_refuses_an_unknown_hint(service: TokenService) -> None:
    tokens = await grant(service, password_grant())
    with pytest.raises(errors.IllegalFieldValue, match="'token_type_hint' must be one of access_token, refresh_token"):
        await service.revoke(await client(service), tokens.access_token, "id_token", T0)
    assert await live(service, tokens.access_token)


async def test_lock_revokes_the_users_grants_of_every_client(service: TokenService) -> None:
    mine = await grant(service, password_grant())
    theirs = await grant(service, other_password_grant())
    for _ in range(3):
        with pytest.raises(errors.BadRequest):
            await grant(service, password_grant(password="wrong"))
    assert (await user(service)).locked
    for value in (mine.access_token, theirs.access_token):
        assert not await live(service, value)
    assert [t for t in await service.store.tokens(T0) if t.user_id is not None] == []
    with pytest.raises(errors.Locked, match="User 'username' is locked"):
        await grant(service, password_grant())


async def test_an_unverified_user_gets_403_with_the_right_password_only(service: TokenService) -> None:
    store_of(service).load_user(User(MANDATOR, "pending", "pending-password", verified=False))
    with pytest.raises(errors.BadRequest, match=re.escape(errors.MSG_BAD_USER)):
        await grant(service, password_grant("pending", "wrong-password"))
    with pytest.raises(errors.UserNotVerified) as caught:
        await grant(service, password_grant("pending", "pending-password"))
    assert caught.value.http_status == 403


async def test_zero_max_login_attempts_never_locks() -> None:
    service = make_service(maxUserLoginAttempts=0)
    for _ in range(20):
        with pytest.raises(errors.BadRequest):
            await grant(service, password_grant(password="wrong"))
    assert (await grant(service, password_grant())).refresh_token is not None


async def test_expired_tokens_are_purged_so_the_store_stays_bounded() -> None:
    """With reuse off and 60 s lifetimes, one grant of each kind per second keeps 60 of each token alive, no more."""
    service = make_service(
        reuse=False,
        userAccessTokensValidityPeriod=60,
        refreshTokensValidityPeriod=60,
        clientAccessTokensValidityPeriod=60,
    )
    store, sizes = service.store, []
    for second in range(2_000):
        now = T0 + second
        await grant(service, CLIENT_CREDENTIALS, now)
        await grant(service, password_grant(), now)
        sizes.append((await store.stats()).tokens)
    stats = await store.stats()
    assert max(sizes) == sizes[-1] == stats.tokens == 3 * 60
    assert stats.grants == 60 + 1  # the user's live password grants, and the client's current grant
    assert stats.expiry_index <= 3 * 60 * 2 + COMPACT_SLACK


async def test_revoked_tokens_do_not_pile_up_in_the_expiry_index(service: TokenService) -> None:
    """Every refresh revokes the access token before it; the index must not keep one entry per revoked token."""
    tokens = await grant(service, password_grant())
    for _ in range(5 * COMPACT_SLACK):
        await grant(service, refresh_grant(tokens.refresh_token))
    stats = await service.store.stats()
    assert stats.tokens == 2
    assert stats.expiry_index <= 2 * 2 + COMPACT_SLACK + 1


async def _sequence(service: TokenService) -> list[str | None]:
    issued = [await grant(service, CLIENT_CREDENTIALS), await grant(service, password_grant())]
    issued.append(await grant(service, refresh_grant(issued[1].refresh_token)))
    return [v for i in issued for v in (i.access_token, i.refresh_token)]


@pytest.mark.parametrize("fmt", TOKEN_PATTERNS)
async def test_same_seed_mints_the_same_token_sequence_and_another_seed_does_not(fmt: str) -> None:
    runs = [await _sequence(make_service(seed=s, fmt=fmt, reuse=False)) for s in (42, 42, 43)]
    assert runs[0] == runs[1]
    assert not set(filter(None, runs[0])) & set(filter(None, runs[2]))
    assert all(re.fullmatch(TOKEN_PATTERNS[fmt], v) for v in runs[0] if v is not None)

"""A small finAPI client, written the way integrators write them: the "system under test" of the examples.

It knows nothing about mock-finapi. Point `base_url` at the real sandbox or at the emulator, the code is the same:

    with FinapiClient("https://sandbox.finapi.io", CLIENT_ID, CLIENT_SECRET) as finapi:
        finapi.create_user("alice", "secret123", email="alice@example.com")
        session = finapi.login("alice", "secret123")
        finapi.get_user(session)

What it does that real integrations must do, and that examples/test_finapi_client.py checks against mock-finapi:
- caches the client token and gets a new one when finAPI answers 401 (it expired or was revoked);
- retries the token endpoint on 503, waiting as long as `Retry-After` says (at most `max_retries` times);
- refreshes an expired user access token with the refresh token, and logs in again when that is gone too;
- runs the Process Controller flow: create a process, exchange its token for a user access token;
- imports a bank connection through Web Form 2.0 (create the form, send the user to its `url`, read the result when
  the `finalised` callback arrives) and reads the new accounts and transactions from Access.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, cast

import httpx

TOKEN_PATH = "/api/v2/oauth/token"
DEFAULT_RETRY_AFTER = 1.0


class FinapiError(Exception):
    """finAPI refused a request; `status` and `body` are its answer."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text}"
        )
        self.status = response.status_code
        self.body = response.text


@dataclass
class UserSession:
    """A logged-in user: the password is kept so the client can log in again when the refresh token has expired."""

    user_id: str
    password: str
    access_token: str
    refresh_token: str | None


class FinapiClient:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        web_form_url: str | None = None,
        http: httpx.Client | None = None,
        max_retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`web_form_url`: the Web Form 2.0 API's base URL (finAPI: https://webform-sandbox.finapi.io; default:
        `base_url`, as mock-finapi serves both). `http`: a ready httpx.Client to use instead of one of our own (its
        base URL wins over `base_url`). `sleep`: how to wait before a retry (tests pass a recorder instead of really
        sleeping)."""
        self._web_form_url = web_form_url.rstrip("/") if web_form_url else ""
        self._http = http or httpx.Client(base_url=base_url, timeout=10.0)
        self._own_http = http is None
        self._client_id, self._client_secret = client_id, client_secret
        self._max_retries, self._sleep = max_retries, sleep
        self._client_token: str | None = None

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def __enter__(self) -> FinapiClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # OAuth
    def _token_request(self, grant: dict[str, str]) -> dict[str, Any]:
        """POST the token endpoint; a 503 is retried after `Retry-After` seconds, up to `max_retries` times."""
        form = {**grant, "client_id": self._client_id, "client_secret": self._client_secret}
        for attempt in range(self._max_retries + 1):
            response = self._http.post(TOKEN_PATH, data=form)
            if response.status_code != 503 or attempt == self._max_retries:
                break
            self._sleep(_retry_after(response))
        if response.status_code != 200:
            raise FinapiError(response)
        return cast(dict[str, Any], response.json())

    def client_token(self) -> str:
        if self._client_token is None:
            self._client_token = str(self._token_request({"grant_type": "client_credentials"})["access_token"])
        return self._client_token

    def login(self, user_id: str, password: str) -> UserSession:
        body = self._token_request({"grant_type": "password", "username": user_id, "password": password})
        return UserSession(user_id, password, body["access_token"], body.get("refresh_token"))

    def _renew(self, session: UserSession) -> None:
        """A new access token for the session: refresh grant first, a fresh login when the refresh token is gone."""
        if session.refresh_token is not None:
            try:
                body = self._token_request({"grant_type": "refresh_token", "refresh_token": session.refresh_token})
            except FinapiError as exc:
                if exc.status != 400:  # 400 = the refresh token expired or was revoked
                    raise
            else:
                session.access_token = body["access_token"]
                return
        fresh = self.login(session.user_id, session.password)
        session.access_token, session.refresh_token = fresh.access_token, fresh.refresh_token

    # calls with a client token (renewed once on 401)
    def _as_client(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, path, headers=_bearer(self.client_token()), **kwargs)
        if response.status_code == 401:
            self._client_token = None
            response = self._http.request(method, path, headers=_bearer(self.client_token()), **kwargs)
        return response

    def create_user(self, user_id: str, password: str, email: str | None = None) -> dict[str, Any]:
        response = self._as_client("POST", "/api/v2/users", json={"id": user_id, "password": password, "email": email})
        if response.status_code != 201:
            raise FinapiError(response)
        return cast(dict[str, Any], response.json())

    # calls with a user token (renewed once on 401)
    def _as_user(self, session: UserSession, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, path, headers=_bearer(session.access_token), **kwargs)
        if response.status_code == 401:
            self._renew(session)
            response = self._http.request(method, path, headers=_bearer(session.access_token), **kwargs)
        return response

    def get_user(self, session: UserSession) -> dict[str, Any]:
        response = self._as_user(session, "GET", "/api/v2/users")
        if response.status_code != 200:
            raise FinapiError(response)
        return cast(dict[str, Any], response.json())

    # Process Controller
    def create_process(self, client_reference: str) -> str:
        """A process token for one end customer (GiroIdent and other products hand it to their frontends)."""
        response = self._http.post(
            "/api/v1/processes",
            json={
                "clientId": self._client_id,
                "clientSecret": self._client_secret,
                "clientReferences": [{"clientReference": client_reference}],
                "processId": "USER_ONLY",
            },
        )
        if response.status_code != 201:
            raise FinapiError(response)
        return str(response.json()["processes"][0]["processToken"])

    def exchange_process(self, process_token: str, *, invalidate: bool = True) -> str:
        """The user access token behind a process token (no Authorization header: the token is the credential)."""
        response = self._http.get(f"/api/v1/processes/{process_token}", params={"invalidate": str(invalidate).lower()})
        if response.status_code != 200:
            raise FinapiError(response)
        return str(response.json()["accessToken"])

    def process_user(self, process_token: str) -> dict[str, Any]:
        """The hidden finAPI user behind a process, read with the exchanged token."""
        access_token = self.exchange_process(process_token)
        response = self._http.get("/api/v2/users", headers=_bearer(access_token))
        if response.status_code != 200:
            raise FinapiError(response)
        return cast(dict[str, Any], response.json())

    # Web Form 2.0 and Access bank data, with the user access token of a process (or a login)
    def import_bank_connection(
        self,
        access_token: str,
        *,
        bank_id: int | None = None,
        account_types: list[str] | None = None,
        callback_url: str | None = None,
    ) -> dict[str, Any]:
        """A web form importing a bank connection: send the user to its `url`; finAPI POSTs `{"webFormId",
        "status"}` to `callback_url` when the form is finished."""
        body: dict[str, Any] = {}
        if bank_id is not None:
            body["bank"] = {"id": bank_id}
        if account_types is not None:
            body["accountTypes"] = account_types
        if callback_url is not None:
            body["callbacks"] = {"finalised": callback_url}
        path = f"{self._web_form_url}/api/webForms/bankConnectionImport"
        response = self._http.post(path, json=body, headers=_bearer(access_token))
        if response.status_code != 201:
            raise FinapiError(response)
        return cast(dict[str, Any], response.json())

    def web_form(self, access_token: str, web_form_id: str) -> dict[str, Any]:
        """The form's status and payload: `payload.bankConnectionId` once COMPLETED, `errorCode` on an error."""
        response = self._http.get(f"{self._web_form_url}/api/webForms/{web_form_id}", headers=_bearer(access_token))
        if response.status_code != 200:
            raise FinapiError(response)
        return cast(dict[str, Any], response.json())

    def accounts(self, access_token: str, bank_connection_id: int) -> list[dict[str, Any]]:
        params = {"bankConnectionIds": bank_connection_id}
        response = self._http.get("/api/v2/accounts", params=params, headers=_bearer(access_token))
        if response.status_code != 200:
            raise FinapiError(response)
        return cast(list[dict[str, Any]], response.json()["accounts"])

    def transactions(self, access_token: str, account_ids: list[int], per_page: int = 500) -> dict[str, Any]:
        """The first page of the accounts' transactions as the bank sent them, with the sums over all pages."""
        params: dict[str, Any] = {"view": "bankView", "accountIds": account_ids, "perPage": per_page}
        response = self._http.get("/api/v2/transactions", params=params, headers=_bearer(access_token))
        if response.status_code != 200:
            raise FinapiError(response)
        return cast(dict[str, Any], response.json())


def _retry_after(response: httpx.Response) -> float:
    """Seconds to wait as the 503 asks (delta-seconds form; anything else: a second)."""
    try:
        return max(0.0, float(response.headers.get("Retry-After", DEFAULT_RETRY_AFTER)))
    except ValueError:
        return DEFAULT_RETRY_AFTER


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}

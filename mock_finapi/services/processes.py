"""finAPI's Process Controller (FINAPI.md §7): process tokens that exchange for Access user tokens.

Rules (the limits are "(decided)" in FINAPI.md and configurable in the scenario's `processes:` block):
- Creating a process checks the client like the token endpoint and creates a hidden, verified Access user in the
  client's mandator; the process token is a UUID from the seeded source.
- An exchange answers a fresh user access token of that user (the client's user token lifetime).
- A process can be exchanged at most `max_exchanges` times, never after an exchange with `invalidate=true`, and only
  within `validity_days` of its creation; a refused exchange is 410 ILLEGAL_ENTITY_STATE naming the limit.
- `user_retention_days` after the process ends (invalidated, exhausted, or past its validity) its hidden user and
  all of that user's tokens are deleted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mock_finapi import errors
from mock_finapi.clock import Clock
from mock_finapi.randomness import Randomness
from mock_finapi.services.tokens import TokenService
from mock_finapi.state.models import Client, Process, User
from mock_finapi.state.store import Store

DAY = 86_400
MAX_REFERENCES = 100
UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

MSG_UNKNOWN_PROCESS = "No process with token '{token}'"
MSG_UNKNOWN_MANDATOR = "No mandator with id '{mandator}'"
MSG_INVALIDATED = "The process token was invalidated by an earlier exchange"
MSG_EXHAUSTED = "The process token was already exchanged {limit} times"
MSG_EXPIRED = "The process token expired {days} days after its creation"
MSG_USER_GONE = "The process's user was deleted"
MSG_PROCESS_ID = "Unsupported processId '{process_id}' (allowed: {allowed})"
MSG_CREDENTIAL = "'{field}' must be a string"
MSG_REFERENCES = "'clientReferences' must hold 1 to 100 objects with a non-empty string 'clientReference'"


@dataclass(frozen=True)
class ProcessLimits:
    max_exchanges: int = 10
    validity_days: float = 7
    user_retention_days: float = 3
    allowed_process_ids: tuple[str, ...] = ("USER_ONLY",)
    redirect_url: str = "http://localhost:3000/callback"


class ProcessService:
    def __init__(
        self, store: Store, clock: Clock, rng: Randomness, tokens: TokenService, limits: ProcessLimits
    ) -> None:
        self.store, self.clock, self.rng, self.tokens, self.limits = store, clock, rng, tokens, limits

    def create_many(self, params: dict[str, Any]) -> list[Process]:
        """POST /api/v1/processes: one process per client reference, in request order."""
        # Like the token endpoint: missing credentials are 400 MISSING_FIELD, wrong ones 401 invalid_client.
        client_id, secret = _credential(params, "clientId"), _credential(params, "clientSecret")
        client = self.tokens.authenticate_client(client_id, secret)
        if client.role != "app":
            raise errors.UnauthorizedAccess(errors.MSG_ROLE_APP)
        process_id = self._process_id(params.get("processId"))
        references = params.get("clientReferences")
        if references is None:
            raise errors.MissingField("clientReferences")
        if not isinstance(references, list) or not 1 <= len(references) <= MAX_REFERENCES:
            raise errors.IllegalFieldValue(MSG_REFERENCES)
        names = [r.get("clientReference") if isinstance(r, dict) else None for r in references]
        if not all(isinstance(name, str) and name for name in names):
            raise errors.IllegalFieldValue(MSG_REFERENCES)
        return [self.create(client, str(name), process_id) for name in names]

    def _process_id(self, value: Any) -> str:
        if value is None:
            raise errors.MissingField("processId")
        if not isinstance(value, str) or value not in self.limits.allowed_process_ids:
            allowed = ", ".join(self.limits.allowed_process_ids)
            raise errors.IllegalFieldValue(MSG_PROCESS_ID.format(process_id=value, allowed=allowed))
        return value

    def create(
        self,
        client: Client,
        client_reference: str | None,
        process_id: str = "USER_ONLY",
        *,
        token: str | None = None,
        exchanges: int = 0,
        invalidated: bool = False,
    ) -> Process:
        now = self.clock.time()
        user = User(id=self.rng.uuid(), password=self.rng.password(), mandator_id=client.mandator_id, created_at=now)
        process = Process(
            token=token or self.rng.uuid(),
            client=client,
            client_reference=client_reference,
            process_id=process_id,
            user=user,
            created_at=now,
            exchanges=exchanges,
            invalidated=invalidated,
        )
        self.store.add_user(user)
        self.store.add_process(process)
        self._schedule_retention(process, now)
        return process

    def for_mandator(self, mandator_id: str, client_reference: str | None) -> Process:
        """The link endpoints: a process for the mandator's default (first app) client, no secret needed."""
        client = self.store.default_client(mandator_id)
        if client is None:
            raise errors.UnknownEntity(MSG_UNKNOWN_MANDATOR.format(mandator=mandator_id))
        return self.create(client, client_reference, self.limits.allowed_process_ids[0])

    def exchange(self, token: str, invalidate: bool = False) -> str:
        """GET /api/v1/processes/{token}: a user access token of the process's hidden user, or 404/410."""
        now = self.clock.time()
        self.store.purge_expired(now)
        process = self.store.process(token) if UUID_PATTERN.fullmatch(token) else None
        if process is None:
            raise errors.UnknownEntity(MSG_UNKNOWN_PROCESS.format(token=token))
        if process.invalidated:
            raise errors.IllegalEntityState(MSG_INVALIDATED, status=410)
        if process.exchanges >= self.limits.max_exchanges:
            raise errors.IllegalEntityState(MSG_EXHAUSTED.format(limit=self.limits.max_exchanges), status=410)
        if now >= self._valid_until(process):
            raise errors.IllegalEntityState(MSG_EXPIRED.format(days=_days(self.limits.validity_days)), status=410)
        if self.store.user(process.user.mandator_id, process.user.id) is not process.user:
            raise errors.IllegalEntityState(MSG_USER_GONE, status=410)
        process.exchanges += 1
        process.invalidated = invalidate
        issued = self.tokens.user_access(process.client, process.user)
        self._schedule_retention(process, now)
        return issued.access_token

    def _valid_until(self, process: Process) -> float:
        return process.created_at + self.limits.validity_days * DAY

    def _schedule_retention(self, process: Process, now: float) -> None:
        """The hidden user is deleted `user_retention_days` after the process ends."""
        ended = process.invalidated or process.exchanges >= self.limits.max_exchanges
        end = now if ended else self._valid_until(process)
        self.store.schedule_deletion(process.user, end + self.limits.user_retention_days * DAY)


def _credential(params: dict[str, Any], field: str) -> str:
    value = params.get(field)
    if value is None or value == "":
        raise errors.MissingField(field)
    if not isinstance(value, str):
        raise errors.IllegalFieldValue(MSG_CREDENTIAL.format(field=field))
    return value


def _days(value: float) -> str:
    return f"{value:g}"

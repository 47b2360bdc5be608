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
from typing import Any

from mock_finapi import errors
from mock_finapi.services.tokens import TokenService
from mock_finapi.state.models import Process
from mock_finapi.state.protocol import NewProcess, ProcessLimits, Store

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


class ProcessService:
    def __init__(self, store: Store, tokens: TokenService, limits: ProcessLimits) -> None:
        self.store, self.tokens, self.limits = store, tokens, limits

    async def create_many(self, params: dict[str, Any], now: float) -> list[Process]:
        """POST /api/v1/processes: one process per client reference, in request order."""
        # Like the token endpoint: missing credentials are 400 MISSING_FIELD, wrong ones 401 invalid_client.
        client_id, secret = _credential(params, "clientId"), _credential(params, "clientSecret")
        client = await self.tokens.authenticate_client(client_id, secret)
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
        new = [NewProcess(str(name), process_id) for name in names]
        return await self.store.create_processes(client.client_id, new, now, self.limits)

    def _process_id(self, value: Any) -> str:
        if value is None:
            raise errors.MissingField("processId")
        if not isinstance(value, str) or value not in self.limits.allowed_process_ids:
            allowed = ", ".join(self.limits.allowed_process_ids)
            raise errors.IllegalFieldValue(MSG_PROCESS_ID.format(process_id=value, allowed=allowed))
        return value

    async def for_mandator(self, mandator_id: str, client_reference: str | None, now: float) -> Process:
        """The link endpoints: a process for the mandator's default (first app) client, no secret needed."""
        client = await self.store.mandator_client(mandator_id)
        if client is None:
            raise errors.UnknownEntity(MSG_UNKNOWN_MANDATOR.format(mandator=mandator_id))
        new = NewProcess(client_reference, self.limits.allowed_process_ids[0])
        [process] = await self.store.create_processes(client.client_id, [new], now, self.limits)
        return process

    async def exchange(self, token: str, invalidate: bool, now: float) -> str:
        """GET /api/v1/processes/{token}: a user access token of the process's hidden user, or 404/410."""
        if not UUID_PATTERN.fullmatch(token):
            raise errors.UnknownEntity(MSG_UNKNOWN_PROCESS.format(token=token))
        exchange = await self.store.exchange_process(token, invalidate, now, self.limits, self.tokens.policy)
        if exchange.outcome == "unknown":
            raise errors.UnknownEntity(MSG_UNKNOWN_PROCESS.format(token=token))
        if exchange.access is None:
            raise errors.IllegalEntityState(self._refusal(exchange.outcome), status=410)
        return exchange.access.value

    def _refusal(self, outcome: str) -> str:
        return {
            "invalidated": MSG_INVALIDATED,
            "exhausted": MSG_EXHAUSTED.format(limit=self.limits.max_exchanges),
            "expired": MSG_EXPIRED.format(days=f"{self.limits.validity_days:g}"),
        }.get(outcome, MSG_USER_GONE)


def _credential(params: dict[str, Any], field: str) -> str:
    value = params.get(field)
    if value is None or value == "":
        raise errors.MissingField(field)
    if not isinstance(value, str):
        raise errors.IllegalFieldValue(MSG_CREDENTIAL.format(field=field))
    return value

"""AdminClient: the /__admin API from Python (used by the pytest plugin and ThreadedServer).

    with AdminClient("http://127.0.0.1:8080") as admin:
        admin.reset()
        admin.advance(61)

A refused call raises httpx.HTTPStatusError whose message carries the server's answer.
"""

from __future__ import annotations

import json
from datetime import datetime
from types import TracebackType
from typing import Any, cast

from mock_finapi.testing._httpx import httpx

SNAPSHOT_TIMEOUT = 300.0
"""Seconds a snapshot may take to load (a million tokens take a few)."""


class AdminClient:
    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 10.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url + "/__admin", headers=headers, timeout=timeout)

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return cast(dict[str, Any], self._send(method, path, **kwargs).json())

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, path, **kwargs)
        if response.is_error:
            raise httpx.HTTPStatusError(
                f"{method} /__admin{path} answered {response.status_code}: {response.text}",
                request=response.request,
                response=response,
            )
        return response

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # server
    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def version(self) -> dict[str, Any]:
        """`{"version", "scenario", "seed"}` of what is served now."""
        return self._call("GET", "/version")

    def metrics(self) -> str:
        """The server's metrics in Prometheus' text format (`GET /__admin/metrics`)."""
        return self._send("GET", "/metrics").text

    def reset(self, mandator: str | None = None) -> None:
        self._call("POST", "/reset", params={"mandator": mandator} if mandator else None)

    def load_scenario(self, *, name: str | None = None, path: str | None = None, yaml: str | None = None) -> None:
        given = {k: v for k, v in {"name": name, "path": path, "yaml": yaml}.items() if v is not None}
        self._call("POST", "/scenario", json=given)

    # snapshots
    def snapshot(self, *, journal: bool = True) -> dict[str, Any]:
        """The server's whole state (`GET /__admin/snapshot`): save it with `json.dump`, load it with `restore`."""
        return self._call("GET", "/snapshot", params={} if journal else {"journal": "false"})

    def restore(self, snapshot: dict[str, Any] | bytes) -> dict[str, Any]:
        """Serve a snapshot (a document as `snapshot` answers it, or its JSON text): `{"status", "scenario",
        "seed"}`. A snapshot the server refuses raises, and the server keeps serving what it served."""
        content = snapshot if isinstance(snapshot, bytes) else json.dumps(snapshot).encode()
        headers = {"Content-Type": "application/json"}
        return self._call("POST", "/snapshot", content=content, headers=headers, timeout=SNAPSHOT_TIMEOUT)

    # clock
    def clock(self) -> dict[str, Any]:
        return self._call("GET", "/clock")

    def advance(self, seconds: float) -> dict[str, Any]:
        return self._call("POST", "/clock", json={"advance": seconds})

    def set_time(self, when: datetime | str) -> dict[str, Any]:
        text = when.isoformat() if isinstance(when, datetime) else when
        return self._call("POST", "/clock", json={"set": text})

    def freeze(self, frozen: bool = True) -> dict[str, Any]:
        return self._call("POST", "/clock", json={"frozen": frozen})

    # journal
    def requests(self, limit: int | None = None, **matcher: Any) -> list[dict[str, Any]]:
        """Journal entries, newest first; `matcher`: method, path, status, clientId, mandator, fault."""
        params = {k: v for k, v in {**matcher, "limit": limit}.items() if v is not None}
        return list(self._call("GET", "/requests", params=params)["requests"])

    def count(self, **matcher: Any) -> int:
        return int(self._call("POST", "/requests/count", json=matcher)["count"])

    def clear_requests(self) -> int:
        return int(self._call("DELETE", "/requests")["deleted"])

    # faults
    def add_fault(self, rule: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/faults", json=rule)

    def faults(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/faults")["faults"])

    def clear_faults(self) -> int:
        return int(self._call("DELETE", "/faults")["deleted"])

    # callbacks sent
    def callbacks(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The callbacks the emulator sent or tried to send, newest first: `{time, kind, url, body, status, error,
        durationMs, mandatorId, fault}`."""
        params = {"limit": limit} if limit is not None else None
        return list(self._call("GET", "/callbacks", params=params)["callbacks"])

    def clear_callbacks(self) -> int:
        return int(self._call("DELETE", "/callbacks")["deleted"])

    # state
    def users(self, mandator: str | None = None) -> list[dict[str, Any]]:
        return list(self._call("GET", "/state/users", params={"mandator": mandator} if mandator else None)["users"])

    def tokens(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/state/tokens")["tokens"])

    def processes(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/state/processes")["processes"])

    def bank_connections(self, mandator: str | None = None) -> list[dict[str, Any]]:
        """Every bank connection with its owner, statuses and account and transaction counts."""
        params = {"mandator": mandator} if mandator else None
        return list(self._call("GET", "/state/bankConnections", params=params)["bankConnections"])

    def web_forms(self, mandator: str | None = None) -> list[dict[str, Any]]:
        """Every web form, oldest first: owner, type, status, times, bank, callback URL, connection, error code."""
        params = {"mandator": mandator} if mandator else None
        return list(self._call("GET", "/state/webForms", params=params)["webForms"])

    def tasks(self, mandator: str | None = None) -> list[dict[str, Any]]:
        """Every background update task, oldest first."""
        return list(self._call("GET", "/state/tasks", params={"mandator": mandator} if mandator else None)["tasks"])

    def complete_web_form(self, web_form_id: str, status: str = "COMPLETED", **fields: Any) -> dict[str, Any]:
        """Finish a web form as its user would in the browser (the same state changes and `finalised` callback);
        `fields`: errorCode (COMPLETED_WITH_ERROR), bankId and accountTypes (COMPLETED). Answers the form as
        `GET /api/webForms/{id}` shows it."""
        return self._call("POST", f"/webForms/{web_form_id}/complete", json={"status": status, **fields})

    def expire_token(self, token: str) -> None:
        self._call("POST", f"/tokens/{token}/expire")

    def lock_user(self, user_id: str, mandator: str | None = None) -> None:
        self._call("POST", f"/users/{user_id}/lock", params={"mandator": mandator} if mandator else None)

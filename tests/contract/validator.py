"""Checks every response the API tests produce against finAPI's published contract.

Which contract answers for a path (the surface):

- `v1`: `/oauth/...` and `/api/v1/...` but the Process Controller: tests/contract/facts/access-v1.json (extracted
  from finAPI's finapi-access-v1-1.151.1.openapi.yaml)
- `v2`: `/api/v2/...`: tests/contract/facts/access-v2.json (extracted from finapi-access-v2-auth-users-digest.json;
  ClientConfiguration and PageableUserInfoList, which the digest lacks, fall back to the emulator's own schema) and
  the bank data operations of tests/contract/facts/webform2-access-data.json (finapi-webform2-and-access-data-digest
  .json, its `access.*` models); the operations of OWN_OPERATIONS, which finAPI serves but no source describes, are
  checked against the emulator's own document
- `webform`: the Web Form 2.0 API, `/api/webForms...` and `/api/tasks...`: the operations and `webform.*` models of
  tests/contract/facts/webform2-access-data.json (its `x-emulate-responses` included: the removed update endpoint's
  405)
- `emulator`: `/api/v1/processes...`, `/__admin/...`, `/openapi.json`, the web form page `/wf/...`: the emulator's
  own /openapi.json

The facts are committed: tests/contract/generate.py writes them from finAPI's specs (../shared/specs), and
tests/contract/test_facts.py checks they are what it writes whenever those specs are beside the repository.

A response is matched to the contract's operation (method, after `X-HTTP-Method-Override`, and path template) and
status; its JSON body is validated with openapi-schema-validator (OAS 3.0: v1 and the emulator's document) or
jsonschema (Draft 2020-12: the v2 and Web Form digests' models, which the generator converted: required fields,
StrictStr/StrictInt/StrictBool, Optional[...] as nullable, List[...], enums such as ErrorCode, min/max lengths,
anchored patterns). Objects admit no property the contract does not name. A status the operation does not
declare, a path or method the contract does not have, or a body that does not validate is a violation, unless it is
a deliberate difference below (then the body must still be the model named there). Answers a fault rule injected
(`X-Mock-Fault`) are skipped.

Deliberate differences (the same keys are in README.md's "Fidelity notes", each pinned by
tests/contract/test_deliberate_differences.py):

| Key                    | Status | Body                | When                                                   |
|------------------------|--------|---------------------|--------------------------------------------------------|
| unknown-endpoint       | 404    | ErrorMessage        | the contract has no such path                          |
| method-not-allowed     | 405    | ErrorMessage        | the contract has the path but not the method           |
| body-too-large         | 413    | ErrorMessage        | any operation (request body over 1 MiB)                |
| unsupported-media-type | 415    | ErrorMessage        | any operation (a content type it does not take)        |
| bad-request-header     | 400    | ErrorMessage        | the request's X-Request-Id is over 255 characters      |

On the `webform` surface the body is the Web Form API's own instead: `webform.Error` (404, 405) or
`webform.ValidationError` (413, 400 for the request id), `webform.Error` `INTERNAL_SERVER_ERROR` (503); it takes no
content type it refuses (no 415).
| invalid-token          | 401    | BadCredentialsError | v1/v2 operations whose 401 the spec omits (revoke)     |
| capacity-reached       | 503    | ErrorMessage        | any operation that would store more than a cap allows, |
|                        |        |                     | or any request while the shared state is unreachable   |
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]  # no stubs in the test extra (types-jsonschema)
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

from mock_finapi.http import openapi
from mock_finapi.http.middleware import MAX_REQUEST_ID, OVERRIDABLE
from tests.contract import generate

V1_URI = "https://contract.invalid/finapi-access-v1.json"
V2_URI = "https://contract.invalid/finapi-access-v2-digest.json"
OWN_URI = "https://contract.invalid/mock-finapi.json"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
MEDIA_TYPE = "x-media-type"
"""A response the emulator's document declares with another media type than JSON (`text/html`): `{MEDIA_TYPE: type}`
stands for its schema."""
OWN_OPERATIONS = frozenset({("post", "/api/v2/bankConnections/connectInterface")})
"""finAPI operations the emulator serves that finAPI's sources here lack (Access v2's "Connect a new interface" is
not in the bank data digest): the emulator's own /openapi.json stands in for their contract."""


@dataclass(frozen=True)
class Difference:
    """A response the contract does not declare that the emulator gives on purpose."""

    key: str
    status: int
    body: str  # the contract's model the body must still be
    summary: str
    surfaces: tuple[str, ...] = ("v1", "v2", "emulator")
    # "any"; "unknown-path": the contract has no such path; "known-path": it has the path, not the method;
    # "long-request-id": the request's X-Request-Id is over 255 characters
    when: str = "any"
    web_form_body: str | None = None  # the body on the `webform` surface (None: the difference does not apply there)

    def applies(self, surface: str) -> bool:
        return surface in self.surfaces or (surface == "webform" and self.web_form_body is not None)

    def body_for(self, surface: str) -> str:
        return self.web_form_body if surface == "webform" and self.web_form_body is not None else self.body


DELIBERATE_DIFFERENCES = (
    Difference(
        "unknown-endpoint",
        404,
        "ErrorMessage",
        "A path the contract does not define answers 404 `UNKNOWN_ENTITY` in finAPI's ErrorMessage.",
        when="unknown-path",
        web_form_body="webform.Error",
    ),
    Difference(
        "method-not-allowed",
        405,
        "ErrorMessage",
        "A method a path does not support answers 405 `METHOD_NOT_ALLOWED` with an `Allow` header.",
        when="known-path",
        web_form_body="webform.Error",
    ),
    Difference(
        "body-too-large",
        413,
        "ErrorMessage",
        "A request body over 1 MiB answers 413 `BAD_REQUEST` on any path.",
        web_form_body="webform.ValidationError",
    ),
    Difference(
        "unsupported-media-type",
        415,
        "ErrorMessage",
        "A body with a content type the operation does not take answers 415 `UNSUPPORTED_MEDIA_TYPE`.",
    ),
    Difference(
        "bad-request-header",
        400,
        "ErrorMessage",
        "An `X-Request-Id` over 255 characters answers 400 `BAD_REQUEST` on any path, also where no 400 is listed.",
        when="long-request-id",
        web_form_body="webform.ValidationError",
    ),
    Difference(
        "invalid-token",
        401,
        "BadCredentialsError",
        "A missing or unknown bearer token answers 401 `invalid_token` on every bearer-protected operation, also "
        "where the spec lists no 401 (both revoke endpoints).",
        surfaces=("v1", "v2"),
    ),
    Difference(
        "capacity-reached",
        503,
        "ErrorMessage",
        "An operation that would store more live tokens, users, processes, registered clients, transactions or web "
        "forms than the server's capacity (`--max-tokens` ...) answers 503 `UNEXPECTED_ERROR` and changes nothing; "
        "so does any request while a shared state (Redis) is unreachable.",
        web_form_body="webform.Error",
    ),
)


def v2_facts() -> dict[str, Any]:
    """finAPI's Access v2 contract as one set of facts: the auth/users digest's and the `/api/v2/` operations of the
    Web Form 2.0 and Access bank data digest (whose `access.*` model names do not collide with the former's)."""
    users, data = generate.load("access-v2"), generate.load("webform2-access-data")
    return {
        "emulated": [*users["emulated"], *data["emulated"]],
        "operations": [*users["operations"], *(op for op in data["operations"] if op["path"].startswith("/api/v2/"))],
        "models": {**users["models"], **data["models"]},
        "missing_models": [*users["missing_models"], *data["missing_models"]],
    }


def web_form_facts() -> dict[str, Any]:
    """finAPI's Web Form 2.0 contract: the Web Form operations of the Web Form 2.0 and Access bank data digest (its
    models are in `v2_facts()` too: the validator resolves both against one registry)."""
    data = generate.load("webform2-access-data")
    operations = [op for op in data["operations"] if not op["path"].startswith("/api/v2/")]
    return {
        "emulated": [prefix for prefix in data["emulated"] if not prefix.startswith("/api/v2/")],
        "operations": operations,
        "models": data["models"],
        "missing_models": data["missing_models"],
    }


WEB_FORM_PREFIXES = ("/api/webForms", "/api/tasks")


def surface_of(path: str) -> str:
    if any(path == prefix or path.startswith(prefix + "/") for prefix in WEB_FORM_PREFIXES):
        return "webform"
    if path.startswith("/api/v1/processes"):
        return "emulator"
    if path.startswith(("/oauth/", "/api/v1/")):
        return "v1"
    if path.startswith("/api/v2/"):
        return "v2"
    return "emulator"


# ---------------------------------------------------------------------------------------------------- loading


def _strict_oas(node: Any) -> Any:
    """Schemas made strict and validator-friendly (OAS 3.0 ones and the v2 facts' JSON Schema alike): objects admit
    only their named properties, and `nullable` beside `allOf`/`$ref` (which openapi-schema-validator applies to the
    referenced schema only) is spelled as oneOf [schema, null]."""
    if isinstance(node, list):
        return [_strict_oas(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _strict_oas(value) for key, value in node.items()}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if out.get("nullable") is True and ("allOf" in out or "$ref" in out):
        rest = {k: v for k, v in out.items() if k not in ("nullable", "type")}
        return {"oneOf": [rest, {"enum": [None]}]}
    return out


@dataclass
class Operation:
    surface: str
    method: str
    template: str
    responses: dict[str, Any]  # status -> schema (None: no body)

    @property
    def name(self) -> str:
        return f"{self.method.upper()} {self.template} ({self.surface})"


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


class _Paths:
    """Path templates of one contract, literal ones first (/users/verificationStatus before /users/{userId}).
    `fall_through`: a method the first matching template lacks is looked up in the next ones (the Web Form API's
    removed `POST /api/webForms/bankConnectionUpdate` leaves GET and DELETE there to `/api/webForms/{id}`)."""

    def __init__(self, operations: Iterable[Operation], fall_through: bool = False) -> None:
        self.fall_through = fall_through
        by_template: dict[str, dict[str, Operation]] = {}
        for op in operations:
            by_template.setdefault(op.template, {})[op.method] = op
        ordered = sorted(by_template, key=lambda t: (t.count("{"), t))
        self.templates = [(_template_regex(t), by_template[t]) for t in ordered]

    def find(self, path: str) -> dict[str, Operation] | None:
        found: dict[str, Operation] | None = None
        for regex, methods in self.templates:
            if regex.match(path):
                if not self.fall_through:
                    return methods
                found = {**methods, **(found or {})}
        return found


def _oas_operations(surface: str, doc: dict[str, Any], keep: Callable[[str], bool]) -> list[Operation]:
    operations = []
    for template, item in doc["paths"].items():
        if not keep(template):
            continue
        for method, op in item.items():
            if method not in METHODS:
                continue
            responses: dict[str, Any] = {}
            for status, response in op["responses"].items():
                content = response.get("content") or {}
                if content and "application/json" not in content:  # an HTML page (/wf/...): its media type
                    responses[status] = {MEDIA_TYPE: next(iter(content))}
                    continue
                media = content.get("application/json")
                responses[status] = media.get("schema") if media else None
            operations.append(Operation(surface, method, template, responses))
    return operations


def _facts_operations(surface: str, facts: dict[str, Any], keep: Callable[[str], bool]) -> list[Operation]:
    return [
        Operation(surface, op["method"], op["path"], dict(op["responses"]))
        for op in facts["operations"]
        if keep(op["path"])
    ]


# ---------------------------------------------------------------------------------------------------- validator


@dataclass(frozen=True)
class Outcome:
    surface: str
    operation: str
    status: int
    violations: tuple[str, ...]
    difference: str | None = None

    def describe(self) -> list[str]:
        return [f"{self.operation} -> {self.status}: {violation}" for violation in self.violations]


class ContractValidator:
    """Built once per session; `check` is cheap (validators are built once per operation and status)."""

    def __init__(
        self, v1: dict[str, Any], v2: dict[str, Any], own: dict[str, Any], web_form: dict[str, Any] | None = None
    ) -> None:
        """`v1`, `v2`, `web_form`: contract facts (tests/contract/generate.py; `web_form`'s models must be among
        `v2`'s); `own`: the emulator's OpenAPI document."""
        web_form = web_form or {"operations": [], "models": {}, "missing_models": []}
        self._v1 = {"models": _strict_oas(v1["models"])}
        self._own = {"components": {"schemas": _strict_oas(own["components"]["schemas"])}}
        self._v2 = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": V2_URI}
        self._v2["models"] = _strict_oas(v2["models"])
        self._models = {"v1": set(v1["models"]), "v2": set(v2["models"]), "webform": set(web_form["models"])}
        self._missing = {
            "v1": set(v1["missing_models"]),
            "v2": set(v2["missing_models"]),
            "webform": set(web_form["missing_models"]),
        }
        self._registry: Registry[Any] = Registry().with_resources(
            [
                (V1_URI, Resource.from_contents(self._v1, default_specification=DRAFT4)),
                (OWN_URI, Resource.from_contents(self._own, default_specification=DRAFT4)),
                (V2_URI, Resource.from_contents(self._v2, default_specification=DRAFT202012)),
            ]
        )
        not_processes: Callable[[str], bool] = lambda t: not t.startswith("/api/v1/processes")  # noqa: E731
        own_ops = _oas_operations("emulator", own, lambda t: True)
        self._paths = {
            "v1": _Paths(_facts_operations("v1", v1, not_processes)),
            "v2": _Paths(
                [
                    *_facts_operations("v2", v2, lambda t: True),
                    *(op for op in own_ops if (op.method, op.template) in OWN_OPERATIONS),
                ]
            ),
            "webform": _Paths(_facts_operations("webform", web_form, lambda t: True), fall_through=True),
            "emulator": _Paths(op for op in own_ops if surface_of(op.template) == "emulator"),
        }
        # models finAPI's source lacks (v2: ClientConfiguration, PageableUserInfoList): the emulator's own schema
        self._own_by_key = {(op.method, op.template): op for op in own_ops}
        self.counts: Counter[str] = Counter()

    @classmethod
    def load(cls) -> ContractValidator:
        own = json.loads(openapi.document_bytes())
        return cls(generate.load("access-v1"), v2_facts(), own, web_form_facts())

    # -- schemas

    @functools.cache  # noqa: B019 - one validator per session
    def _validator(self, surface: str, schema_key: str) -> jsonschema.protocols.Validator:
        schema = json.loads(schema_key)
        if surface in ("v2", "webform"):
            v2: jsonschema.protocols.Validator = jsonschema.Draft202012Validator(schema, registry=self._registry)
            return v2
        oas: jsonschema.protocols.Validator = OAS30Validator(schema, registry=self._registry)
        return oas

    def _schema_for(self, surface: str, schema: Any) -> tuple[str, str] | None:
        """(surface to validate with, schema as JSON with absolute $refs) for a response schema or model name."""
        if schema is None:
            return None
        base = {"v1": V1_URI, "v2": V2_URI, "webform": V2_URI}.get(surface, OWN_URI)
        if isinstance(schema, str):
            schema = {"$ref": f"#/components/schemas/{schema}" if surface == "emulator" else f"#/models/{schema}"}
        text = json.dumps(_strict_oas(schema)).replace('"$ref": "#/', f'"$ref": "{base}#/')
        return surface, text

    def _errors(self, surface: str, schema: Any, body: Any) -> list[str]:
        found = self._schema_for(surface, schema)
        if found is None:
            return []
        validator = self._validator(*found)
        return [
            f"{'/'.join(str(p) for p in error.absolute_path) or '<body>'}: {error.message}"
            for error in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
        ]

    # -- matching

    def _difference(self, surface: str, status: int, when: set[str]) -> Difference | None:
        for difference in DELIBERATE_DIFFERENCES:
            if difference.status == status and difference.applies(surface) and difference.when in when:
                return difference
        return None

    def check(
        self,
        method: str,
        path: str,
        status: int,
        content_type: str,
        content: bytes,
        override_header: str = "",
        request_id: str = "",
    ) -> Outcome:
        surface = surface_of(path)
        method = method.lower()
        override = OVERRIDABLE.get(override_header.strip().upper().encode("latin-1", "replace"))
        if method == "post" and override:  # finAPI's X-HTTP-Method-Override, as the emulator routes it
            method = override.lower()
        self.counts[surface] += 1
        methods = self._paths[surface].find(path)
        op = None if methods is None else methods.get("get" if method == "head" else method)
        surface = surface if op is None else op.surface  # OWN_OPERATIONS: the emulator's document
        operation = op.name if op else f"{method.upper()} {path} ({surface})"
        when = {"any", "unknown-path" if methods is None else "known-path" if op is None else "operation"}
        if len(request_id) > MAX_REQUEST_ID:
            when.add("long-request-id")
        if op is not None and str(status) in op.responses:
            schema = op.responses[str(status)]
            if surface != "emulator" and isinstance(schema, str) and schema not in self._models[surface]:
                if schema not in self._missing[surface]:
                    found = f"no model {schema} in the contract facts: list {op.template} in tests/contract/generate.py"
                    return Outcome(surface, operation, status, (found,))
                own = self._own_by_key.get((op.method, op.template))
                if own is None or str(status) not in own.responses:
                    return Outcome(surface, operation, status, (f"no model {schema} in the digest",))
                self.counts[f"{surface} via emulator schema"] += 1
                surface, schema = "emulator", own.responses[str(status)]
            difference = None
        else:
            difference = self._difference(surface, status, when)
            if difference is None:
                if op is not None:
                    declared = ", ".join(op.responses)
                elif methods is not None:
                    declared = f"none: the contract has only {', '.join(sorted(m.upper() for m in methods))} here"
                else:
                    declared = "none: the contract has no such path"
                return Outcome(surface, operation, status, (f"status {status} is not declared (declared: {declared})",))
            schema = difference.body_for(surface)
            self.counts["deliberate difference"] += 1
        if method == "head" or schema is None:
            return Outcome(surface, operation, status, (), difference.key if difference else None)
        if isinstance(schema, dict) and MEDIA_TYPE in schema:  # not JSON: the documented media type is all we check
            wrong = (
                ()
                if content_type.startswith(schema[MEDIA_TYPE])
                else (f"content type {content_type!r} is not {schema[MEDIA_TYPE]}",)
            )
            return Outcome(surface, operation, status, wrong)
        if "json" not in content_type:
            return Outcome(surface, operation, status, (f"content type {content_type!r} is not JSON",))
        try:
            body = json.loads(content)
        except ValueError as exc:
            return Outcome(surface, operation, status, (f"body is not JSON: {exc}",))
        violations = tuple(self._errors(surface, schema, body))
        return Outcome(surface, operation, status, violations, difference.key if difference else None)

    def check_response(self, response: httpx.Response) -> Outcome | None:
        """None for responses that are not the emulator's own (fault rules injected them)."""
        if "x-mock-fault" in response.headers:
            self.counts["skipped: injected by a fault rule"] += 1
            return None
        response.read()
        request = response.request
        return self.check(
            request.method,
            request.url.path,
            response.status_code,
            response.headers.get("content-type", ""),
            response.content,
            request.headers.get("x-http-method-override", ""),
            request.headers.get("x-request-id", ""),
        )

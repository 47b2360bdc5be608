"""The document the emulator serves at /openapi.json: a valid OpenAPI 3.0 document describing every route the app
serves, whose finAPI operations declare what finAPI's contract declares, with the same models."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from mock_finapi.http.app import Emulator
from mock_finapi.http.routes import Handlers
from tests.contract import generate
from tests.contract.validator import METHODS, surface_of, v2_facts, web_form_facts


@pytest.fixture(scope="module")
def v1() -> dict[str, Any]:
    """finAPI's Access v1 contract, as the committed facts carry it (tests/contract/generate.py)."""
    return generate.load("access-v1")


@pytest.fixture(scope="module")
def v2() -> dict[str, Any]:
    """finAPI's Access v2 digests, as the committed facts carry them (the users digest's models converted to JSON
    Schema; the bank data digest's are JSON Schema already)."""
    return v2_facts()


@pytest.fixture
def document(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    doc: dict[str, Any] = response.json()
    return doc


def served_operations(app: Emulator) -> set[tuple[str, str]]:
    operations: set[tuple[str, str]] = set()
    for route in app.routes.routes:
        assert isinstance(route.endpoint, Handlers), f"{route!r}: only routes of `route()` are expected"
        operations.update((method.lower(), route.path) for method in route.endpoint.handlers)
    return operations


def documented_operations(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method, path) for path, item in doc["paths"].items() for method in item if method in METHODS}


def test_the_served_document_is_a_valid_openapi_3_document(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.0.")
    try:
        validate(document)
    except OpenAPIValidationError as exc:  # pragma: no cover - the message is the point
        pytest.fail(f"/openapi.json is not a valid OpenAPI document: {exc}")


def test_every_route_the_app_serves_is_documented_and_nothing_else(app: Emulator, document: dict[str, Any]) -> None:
    served = served_operations(app)
    documented = documented_operations(document)
    assert served - documented == set(), "served but not in /openapi.json"
    assert documented - served == set(), "in /openapi.json but not served"
    assert {surface_of(path) for _, path in served} == {"v1", "v2", "webform", "emulator"}


def test_every_operation_documents_its_path_parameters(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        names = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        for method, operation in item.items():
            given = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert given == names, f"{method.upper()} {path}"


def _resolve(schemas: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = schemas[name]
    return schema


def _shape(schemas: dict[str, Any], schema: dict[str, Any] | None, depth: int = 0) -> Any:
    """Property names and required fields, also of nested models (ErrorMessage's ErrorDetails)."""
    if schema is None or depth > 3:
        return None
    resolved = _resolve(schemas, schema)
    if resolved.get("type") == "array":
        return ["array", _shape(schemas, resolved.get("items"), depth + 1)]
    if "properties" not in resolved:
        return None
    nested = {
        name: _shape(schemas, sub, depth + 1)
        for name, sub in resolved["properties"].items()
        if "$ref" in sub or sub.get("type") == "array"
    }
    return {"properties": sorted(resolved["properties"]), "required": sorted(resolved.get("required", [])), **nested}


def _responses(doc: dict[str, Any], operation: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
    found = {}
    for status, response in operation["responses"].items():
        media = (response.get("content") or {}).get("application/json")
        found[status] = media["schema"] if media else None
    return found


def test_v1_operations_declare_finapis_statuses_and_models(document: dict[str, Any], v1: dict[str, Any]) -> None:
    finapi = {(op["method"], op["path"]): op["responses"] for op in v1["operations"]}
    compared = 0
    for path, item in document["paths"].items():
        if surface_of(path) != "v1":
            continue
        for method, operation in item.items():
            theirs = finapi[method, path]
            ours = _responses(document, operation)
            assert set(theirs) <= set(ours), f"{method.upper()} {path}: statuses finAPI declares are missing"
            for status, model in theirs.items():
                schema = None if model is None else {"$ref": f"#/models/{model}"}
                shape = _shape(document["components"]["schemas"], ours[status])
                assert shape == _shape(v1["models"], schema), f"{method.upper()} {path} {status}"
                compared += 1
    assert compared > 50


def test_v2_operations_declare_finapis_statuses_and_models(document: dict[str, Any], v2: dict[str, Any]) -> None:
    models = v2["models"]
    compared = 0
    for op in v2["operations"]:
        operation = document["paths"].get(op["path"], {}).get(op["method"].lower())
        if operation is None:
            continue  # mandatorAdmin operations the emulator does not serve
        ours = _responses(document, operation)
        assert set(op["responses"]) <= set(ours), f"{op['method']} {op['path']}: statuses finAPI declares are missing"
        for status, model in op["responses"].items():
            if model not in models:
                continue  # no body, or a model the digest does not carry (ClientConfiguration)
            expected = set(models[model]["properties"]), set(models[model]["required"])
            shape = _shape(document["components"]["schemas"], ours[status])
            assert shape is not None, f"{op['method']} {op['path']} {status}"
            assert set(shape["properties"]) == expected[0], f"{op['method']} {op['path']} {status}"
            assert set(shape["required"]) >= expected[1], f"{op['method']} {op['path']} {status}: required fields"
            compared += 1
    assert compared > 40


def test_web_form_operations_declare_finapis_statuses_and_models(document: dict[str, Any]) -> None:
    """The Web Form 2.0 API's operations (WEBFORM.md §2): finAPI's statuses, and models with its fields (the
    document names them `WebForm`, `WebFormError`, ... where the digest says `webform.WebForm`, `webform.Error`)."""
    facts = web_form_facts()
    models = facts["models"]
    compared = 0
    for op in facts["operations"]:
        if op["path"] == "/api/webForms/bankConnectionUpdate":
            continue  # removed: served as 405 by /api/webForms/{id} (tests/api/test_webforms.py)
        operation = document["paths"][op["path"]][op["method"]]
        ours = _responses(document, operation)
        assert set(op["responses"]) <= set(ours), f"{op['method']} {op['path']}: statuses finAPI declares are missing"
        for status, model in op["responses"].items():
            if model is None:
                assert ours[status] is None, f"{op['method']} {op['path']} {status}: finAPI's has no body"
                continue
            expected = set(models[model]["properties"]), set(models[model].get("required", []))
            shape = _shape(document["components"]["schemas"], ours[status])
            assert shape is not None, f"{op['method']} {op['path']} {status}"
            assert set(shape["properties"]) == expected[0], f"{op['method']} {op['path']} {status}"
            assert set(shape["required"]) >= expected[1], f"{op['method']} {op['path']} {status}: required fields"
            compared += 1
    assert compared >= 20

"""Contract facts: what finAPI's published specs say about the operations mock-finapi emulates, kept in the repository.

    python tests/contract/generate.py           # (re)writes tests/contract/facts/*.json from ../shared/specs
    python tests/contract/generate.py --check   # exit 1 if the committed facts are not what the specs give

The contract tests (tests/contract/validator.py and every response the API tests receive) read the committed facts,
so a checkout without finAPI's specs beside it runs them all; tests/contract/test_facts.py checks that the facts are
what this script makes of the specs whenever ../shared/specs is there.

A facts file (one per source in SOURCES) holds:

- `operations`: every operation of the source, in its order: `method`, `path` and `responses` (status -> the name of
  a model in `models`, or null: no body); for the operations in the source's `emulated` list also `request` (the
  body's model) and `parameters` (name, in, required and, where the source gives one, schema);
- `models`: the models those emulated operations answer and take (and those the source names in `models`), and the
  models they use, as schemas with validation keywords only (types, formats, required, enums, lengths, patterns,
  bounds; no descriptions or examples); a reference is `#/models/<name>`. The operations outside `emulated` keep
  only paths, methods, statuses and model names (and `host` where the source gives one): their models are carried
  only where an emulated operation uses them too (the error models, mostly);
- `missing_models`: names the source refers to but does not define (the emulator's own schema stands in for them);
- `dialect`: how `models` are read: `openapi-3.0` (OAS 3.0 schema objects: `nullable`) or `json-schema-2020-12`.

Adding a source is one line in SOURCES: its file under ../shared/specs, the reader of its format, and the path
prefixes of the operations the emulator serves from it (or will; an operation listed before it is served costs
nothing). Only the standard library and PyYAML are used, so the script runs from any environment with PyYAML.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
FACTS = HERE / "facts"
SPECS = HERE.parents[2] / "shared" / "specs"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
MODELS = "#/models/"
ANNOTATIONS = frozenset({"description", "example", "examples", "title", "externalDocs"})
"""Schema keys that validate nothing: left out of the facts (so are `x-...` extensions)."""


@dataclass(frozen=True)
class Read:
    """A source read into the facts' terms: operations whose models are names, models whose refs are #/models/."""

    dialect: str
    operations: list[dict[str, Any]]  # method, path, responses, request, parameters (+ host where given)
    models: dict[str, Any]


# ---------------------------------------------------------------------------------------------------- schemas


def _model_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def clean(node: Any) -> Any:
    """A schema with its validation keywords only and its references rewritten to #/models/<name>."""
    if isinstance(node, list):
        return [clean(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ANNOTATIONS or key.startswith("x-"):
            continue
        if key == "$ref":
            out[key] = MODELS + _model_name(value)
        elif key == "properties":  # a map of names: a property may be called "description"
            out[key] = {name: clean(schema) for name, schema in value.items()}
        elif key in ("enum", "const", "default", "required"):  # values, not schemas
            out[key] = value
        else:
            out[key] = clean(value)
    return out


def _refs(node: Any) -> Iterable[str]:
    if isinstance(node, list):
        for item in node:
            yield from _refs(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield _model_name(value)
            elif key not in ("enum", "const", "default"):
                yield from _refs(value)


def _schema_or_name(schema: Any) -> Any:
    """A response or request schema: the model's name when it is one, else the schema itself (cleaned)."""
    if schema is None:
        return None
    if isinstance(schema, str):
        return _model_name(schema)
    if set(schema) == {"$ref"}:
        return _model_name(schema["$ref"])
    return clean(schema)


# ---------------------------------------------------------------------------------------------------- readers


class _NoTimestamps(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """The spec's examples hold dates: keep them strings, so the document stays JSON."""


_NoTimestamps.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _media_schema(content: dict[str, Any] | None) -> Any:
    content = content or {}
    media = content.get("application/json") or next(iter(content.values()), None)
    return media.get("schema") if media else None


def read_openapi(text: bytes) -> Read:
    """An OpenAPI 3.0 document (finAPI Access v1)."""
    doc = yaml.load(text, Loader=_NoTimestamps)  # noqa: S506 - a safe loader without timestamps
    operations = []
    for path, item in doc["paths"].items():
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method not in METHODS:
                continue
            parameters = [
                {
                    "name": p["name"],
                    "in": p["in"],
                    "required": bool(p.get("required", False)),
                    **({"schema": clean(p["schema"])} if "schema" in p else {}),
                }
                for p in [*shared, *op.get("parameters", [])]
            ]
            operations.append(
                {
                    "method": method,
                    "path": path,
                    "request": _schema_or_name(_media_schema((op.get("requestBody") or {}).get("content"))),
                    "parameters": parameters,
                    "responses": {
                        status: _schema_or_name(_media_schema(response.get("content")))
                        for status, response in op["responses"].items()
                    },
                }
            )
    models = {name: clean(schema) for name, schema in doc["components"]["schemas"].items()}
    return Read("openapi-3.0", operations, models)


_SCALARS = {
    "StrictStr": {"type": "string"},
    "str": {"type": "string"},
    "StrictInt": {"type": "integer"},
    "int": {"type": "integer"},
    "StrictBool": {"type": "boolean"},
    "bool": {"type": "boolean"},
    "StrictFloat": {"type": "number"},
    "float": {"type": "number"},
    "datetime": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$"},
    "date": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\d$"},
    "object": {"type": "object"},
}


def _split_args(text: str) -> list[str]:
    depth, start, parts = 0, 0, []
    for i, char in enumerate(text):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def _digest_type(text: str, models: dict[str, Any], field: dict[str, Any]) -> dict[str, Any]:
    """A digest type string (pydantic, as openapi-generator writes it) as JSON Schema."""
    text = text.strip()
    if text.startswith("Optional[") and text.endswith("]"):
        return {"anyOf": [_digest_type(text[9:-1], models, field), {"type": "null"}]}
    if text.startswith("List[") and text.endswith("]"):
        return {"type": "array", "items": _digest_type(text[5:-1], models, field)}
    if text.startswith("Annotated[") and text.endswith("]"):
        base = _digest_type(_split_args(text[10:-1])[0], models, field)
        if base.get("type") == "string":
            if "min_length" in field:
                base["minLength"] = field["min_length"]
            if "max_length" in field:
                base["maxLength"] = field["max_length"]
            if "pattern" in field:
                base["pattern"] = f"^(?:{field['pattern']})$"
        return base
    if text in _SCALARS:
        return dict(_SCALARS[text])
    if text in models:
        return {"$ref": MODELS + text}
    return {}  # a model the digest does not carry (MultiStepAuthenticationChallenge, ...): unconstrained


def _camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def read_model_digest(text: bytes) -> Read:
    """The Access v2 digest: operations with model names, models as pydantic field types (required, min/max
    length, pattern), read as JSON Schema: Optional[...] nullable, List[...] arrays, patterns anchored."""
    digest = json.loads(text)
    source: dict[str, Any] = digest["models"]
    models: dict[str, Any] = {}
    for name, model in source.items():
        if "_enum" in model:
            models[name] = {"type": "string", "enum": model["_enum"]}
            continue
        properties = {field: _digest_type(spec["type"], source, spec) for field, spec in model.items()}
        required = sorted(field for field, spec in model.items() if spec.get("required"))
        models[name] = {"type": "object", "properties": properties, "required": required}
    operations = []
    for op in digest["operations"]:
        body = [name for name, param in op["params"].items() if param["in"] == "body"]
        parameters = []
        for param in op["params"].values():
            where, _, name = param["in"].partition(":")
            if where != "body":
                parameters.append({"name": name, "in": where, "required": not param["optional"]})
        operations.append(
            {
                "method": op["method"].lower(),
                "path": op["path"],
                "request": _camel(body[0]) if body else None,
                "parameters": parameters,
                "responses": dict(op["responses"]),
            }
        )
    return Read("json-schema-2020-12", operations, models)


def read_schema_digest(text: bytes) -> Read:
    """A digest whose models are JSON Schema 2020-12 already (Web Form 2.0 and Access v2 bank data)."""
    digest = json.loads(text)
    operations = []
    for op in digest["operations"]:
        operations.append(
            {
                "method": op["method"].lower(),
                "path": op["path"],
                **({"host": op["host"]} if "host" in op else {}),
                "request": _schema_or_name(op.get("requestSchema")),
                "parameters": [clean(param) for param in op.get("params", [])],
                # `x-emulate-responses`: what the emulator answers instead (the removed update endpoint's 405)
                "responses": {
                    status: _schema_or_name(schema)
                    for status, schema in {**op["responses"], **op.get("x-emulate-responses", {})}.items()
                },
            }
        )
    models = {name: clean(schema) for name, schema in digest["schemas"].items()}
    return Read("json-schema-2020-12", operations, models)


# ---------------------------------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class Source:
    name: str  # the facts file: facts/<name>.json
    file: str  # under ../shared/specs
    read: Callable[[bytes], Read]
    emulated: tuple[str, ...]  # path prefixes of the operations whose models the facts carry
    models: tuple[str, ...] = ()  # models to carry that no emulated operation names


SOURCES = (
    Source(
        "access-v1",
        "finapi-access-v1-1.151.1.openapi.yaml",
        read_openapi,
        (
            "/oauth/token",
            "/oauth/revoke",
            "/api/v1/users",
            "/api/v1/clientConfiguration",
            "/api/v1/mandatorAdmin/getUserList",
            "/api/v1/mandatorAdmin/deleteUsers",
        ),
    ),
    Source(
        "access-v2",
        "finapi-access-v2-auth-users-digest.json",
        read_model_digest,
        (
            "/api/v2/oauth/token",
            "/api/v2/oauth/revoke",
            "/api/v2/users",
            "/api/v2/clientConfiguration",
            "/api/v2/mandatorAdmin/getUserList",
            "/api/v2/mandatorAdmin/deleteUsers",
        ),
        ("UserInfo",),  # the digest lacks PageableUserInfoList (getUserList's answer), not its items
    ),
    # Web Form 2.0 and Access v2 bank data
    Source(
        "webform2-access-data",
        "finapi-webform2-and-access-data-digest.json",
        read_schema_digest,
        (
            "/api/webForms",
            "/api/tasks",
            "/api/v2/bankConnections",
            "/api/v2/accounts",
            "/api/v2/transactions",
            "/api/v2/banks",
            "/api/v2/tests/mockBatchUpdate",
        ),
        ("webform.WebFormCompletedCallback", "webform.TaskCallback"),  # the callbacks' bodies
    ),
)


def _closure(roots: Iterable[str], models: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    todo = [name for name in roots if name in models]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(ref for ref in _refs(models[name]) if ref in models and ref not in seen)
    return seen


def _names(schema: Any) -> list[str]:
    return [schema] if isinstance(schema, str) else list(_refs(schema))


def extract(source: Source, text: bytes) -> dict[str, Any]:
    """The facts of one source, from the source file's bytes."""
    read = source.read(text)
    operations, roots, referenced = [], list(source.models), set()
    for op in read.operations:
        emulated = op["path"].startswith(source.emulated)
        used = [*_names(op["request"]), *(name for s in op["responses"].values() for name in _names(s))]
        referenced.update(used)
        if emulated:
            roots.extend(used)
            operations.append(op)
        else:
            operations.append({key: op[key] for key in ("method", "path", "host", "responses") if key in op})
    kept = _closure(roots, read.models)
    return {
        "about": f"finAPI's contract as mock-finapi's tests use it, extracted from {source.file} by "
        "tests/contract/generate.py: do not edit, regenerate.",
        "source": {"file": source.file, "sha256": hashlib.sha256(text).hexdigest()},
        "dialect": read.dialect,
        "emulated": list(source.emulated),
        "operations": operations,
        "models": {name: schema for name, schema in read.models.items() if name in kept},
        "missing_models": sorted(name for name in referenced if name not in read.models),
    }


def render(facts: dict[str, Any]) -> str:
    return json.dumps(facts, indent=1, ensure_ascii=False) + "\n"


def generate(specs: Path = SPECS) -> dict[str, str]:
    """facts file name -> its text, from the specs in `specs`."""
    return {f"{source.name}.json": render(extract(source, (specs / source.file).read_bytes())) for source in SOURCES}


def load(name: str) -> dict[str, Any]:
    """The committed facts of one source (`access-v1`, `access-v2`)."""
    facts: dict[str, Any] = json.loads((FACTS / f"{name}.json").read_text("utf-8"))
    return facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=Path, default=SPECS, help=f"finAPI's specs (default: {SPECS})")
    parser.add_argument("--check", action="store_true", help="compare with the committed facts, write nothing")
    args = parser.parse_args(argv)
    if not args.specs.is_dir():
        parser.error(f"no finAPI specs at {args.specs}")
    generated = generate(args.specs)
    stale = {name: text for name, text in generated.items() if _committed(name) != text}
    if args.check:
        for name in stale:
            print(f"{FACTS / name} is not what {args.specs} gives: run python tests/contract/generate.py")
        return 1 if stale else 0
    FACTS.mkdir(exist_ok=True)
    for name, text in generated.items():
        if name in stale:
            (FACTS / name).write_text(text, "utf-8")
        print(f"{FACTS / name}: {'written' if name in stale else 'unchanged'} ({len(text.encode()):,} bytes)")
    return 0


def _committed(name: str) -> str | None:
    path = FACTS / name
    return path.read_text("utf-8") if path.is_file() else None


if __name__ == "__main__":
    sys.exit(main())

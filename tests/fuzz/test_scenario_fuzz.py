"""Property-based fuzzing of the scenario loader with hypothesis (derandomized, bounded example counts).

Whatever text it is given, `load_text` returns a Scenario or raises a ScenarioError whose message names the source
file; it never raises anything else. A scenario it accepts must also build a World: the loader is the only gate.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mock_finapi.clock import Clock
from mock_finapi.errors import ScenarioError
from mock_finapi.scenarios import loader
from mock_finapi.scenarios.schema import Scenario
from mock_finapi.world import World, build_state

SOURCE = "fuzzed/scenario.yaml"
BUILTINS = {path.stem: path.read_text(encoding="utf-8") for path in sorted(loader.builtin_dir().glob("*.yaml"))}

FUZZ = settings(
    max_examples=100,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def load_or_refuse(text: str) -> Scenario | None:
    """The property: a Scenario that builds a World, or a ScenarioError naming the file; nothing else."""
    try:
        scenario = loader.load_text(text, SOURCE)
    except ScenarioError as exc:
        refusal = exc
    else:
        assert isinstance(scenario, Scenario)
        clock = Clock()
        World(scenario, 1, build_state(scenario, 1, clock.real(), journal_size=10), clock)
        return scenario
    assert refusal.source == SOURCE
    assert str(refusal).startswith(f"{SOURCE}:"), str(refusal)
    assert refusal.problem, str(refusal)
    return None


# ------------------------------------------------------------------------------------------------ raw text

YAML_PIECES = [
    *(": ", "- ", "-", ":", " ", "  ", "\n", "\n  ", "\n    ", "\t", "{", "}", "[", "]", ", ", "? ", "|", ">"),
    *("'", '"', "#", "&a ", "*a", "<<: *a", "---\n", "...\n", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "\\"),
    *("!!str ", "!!int ", "!!float ", "!!binary ", "!!timestamp ", "!!set ", "!!omap ", "!!python/object:os.system "),
    *("!custom ", "~", "null", "true", "no", "0x1F", "0o17", ".nan", "-.inf", "1e400", "2026-01-01", "12:30:00"),
    *("2026-01-01T09:00:00", "2026-01-01T09:00:00+01:00", "9999-12-31T23:59:59Z", "0001-01-01"),
    *(*loader.ROOT_KEYS, *loader.CLIENT_KEYS, *loader.USER_KEYS, *loader.PROCESSES_KEYS, *loader.SEEDED_PROCESS_KEYS),
    *("auto_register", "registered", "generate", "start", "frozen", "format", "reuse", "uuid", "finapi", "app"),
    *("match", "fault", "status", "times", "delay_ms", "method", "path", "USER_ONLY", "\u00e4", "\ufeff", "\x00"),
]

yamlish = st.lists(st.one_of(st.sampled_from(YAML_PIECES), st.text(max_size=4)), max_size=40).map("".join)


@FUZZ
@given(text=st.text(max_size=200))
@example(text="\x1f")  # found: yaml.reader.ReaderError escaped load_text (raised by the loader's constructor)
@example(text="name: x\nclock:\n  start: 2026-13-45")  # found: ValueError from PyYAML's implicit timestamp
def test_arbitrary_text_loads_or_names_the_file(text: str) -> None:
    load_or_refuse(text)


@FUZZ
@given(text=yamlish)
@example(text="!!float ''")  # found: IndexError from PyYAML's float constructor
@example(text="!!int A")  # found: ValueError from PyYAML's int constructor
@example(text="!!bool x")  # found: KeyError from PyYAML's bool constructor
@example(text="a: !!timestamp x")  # found: AttributeError from PyYAML's timestamp constructor
def test_yamlish_text_loads_or_names_the_file(text: str) -> None:
    load_or_refuse(text)


@FUZZ
@given(name=st.sampled_from(sorted(BUILTINS)), data=st.data())
def test_spliced_builtin_text_loads_or_names_the_file(name: str, data: st.DataObject) -> None:
    """A built-in scenario's text with YAML-ish pieces spliced in, or a span cut out."""
    text = BUILTINS[name]
    start = data.draw(st.integers(0, len(text)), label="start")
    end = data.draw(st.integers(start, min(len(text), start + 40)), label="end")
    insert = data.draw(yamlish, label="insert")
    load_or_refuse(text[:start] + insert + text[end:])


# --------------------------------------------------------------------------------------------- nested data

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["uuid", "finapi", "app", "mandator_admin", "2026-01-01T09:00:00+01:00", "https://x.test/cb"]),
    st.dates(),
    st.datetimes(),
)
keys = st.one_of(st.sampled_from([*loader.ROOT_KEYS, *loader.CLIENT_KEYS, *loader.USER_KEYS]), st.text(max_size=10))
nested = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=30,
)


@FUZZ
@given(data=nested)
def test_arbitrary_dumped_data_loads_or_names_the_file(data: Any) -> None:
    load_or_refuse(yaml.safe_dump(data, allow_unicode=True))


@pytest.mark.slow
@FUZZ
@given(data=st.dictionaries(st.sampled_from(loader.ROOT_KEYS), nested, max_size=len(loader.ROOT_KEYS)))
def test_root_keys_with_arbitrary_values_load_or_name_the_file(data: dict[str, Any]) -> None:
    load_or_refuse(yaml.safe_dump(data, allow_unicode=True))


# ------------------------------------------------------------------------------- mutated built-in scenarios

Where = tuple[str | int, ...]


def _paths(node: Any, prefix: Where = ()) -> list[Where]:
    """Every place in a parsed document: the root and each mapping value and list item beneath it."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _parent(doc: Any, path: Where) -> Any:
    for step in path[:-1]:
        doc = doc[step]
    return doc


# Small numbers only: a scenario may generate up to 100,000 Faker users, which is correct but slow to fuzz.
replacements = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 50),
    st.sampled_from([0.5, -1.0, float("nan"), float("inf"), 1e300, 2**64]),
    st.text(max_size=12),
    st.sampled_from(["", " ", "uuid", "USER_ONLY", "app", "2026-01-01T09:00:00+01:00", "9999-01-01T00:00:00Z"]),
    st.dates(),
    st.datetimes(),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.text(max_size=5), st.integers(0, 3), max_size=2),
)
MUTATIONS = ("drop", "replace", "unknown key", "duplicate item", "wrap in list", "empty")


def mutate(doc: Any, path: Where, how: str, value: Any, unknown: str) -> Any:
    if not path:
        return value if how == "replace" else doc
    parent, last = _parent(doc, path), path[-1]
    target = parent[last]
    if how == "drop":
        del parent[last]
    elif how == "replace":
        parent[last] = value
    elif how == "unknown key" and isinstance(target, dict):
        target[unknown] = value
    elif how == "duplicate item" and isinstance(parent, list):
        parent.insert(int(last), copy.deepcopy(target))
    elif how == "wrap in list":
        parent[last] = [target]
    elif how == "empty":
        parent[last] = type(target)() if isinstance(target, (dict, list, str)) else None
    return doc


PARSED = {name: yaml.safe_load(text) for name, text in BUILTINS.items()}


@pytest.mark.slow
@FUZZ
@given(name=st.sampled_from(sorted(PARSED)), data=st.data())
def test_mutated_builtin_scenarios_load_or_name_file_and_key(name: str, data: st.DataObject) -> None:
    doc = copy.deepcopy(PARSED[name])
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        path = data.draw(st.sampled_from(_paths(doc)), label="path")
        how = data.draw(st.sampled_from(MUTATIONS), label="how")
        value = data.draw(replacements, label="value")
        unknown = data.draw(st.text(min_size=1, max_size=8), label="unknown key")
        doc = mutate(doc, path, how, value, unknown)
    load_or_refuse(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))


@pytest.mark.parametrize("name", sorted(PARSED))
def test_every_builtin_survives_the_mutator_unchanged(name: str) -> None:
    """The mutator's baseline: each built-in round-trips through safe_dump and loads."""
    assert load_or_refuse(yaml.safe_dump(PARSED[name], allow_unicode=True, sort_keys=False)) is not None

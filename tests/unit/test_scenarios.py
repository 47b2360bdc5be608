"""Scenario loading and validation, without HTTP: every problem names file, line and key path."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mock_finapi.clock import FINAPI_TZ
from mock_finapi.errors import ScenarioError
from mock_finapi.scenarios import loader
from mock_finapi.scenarios.schema import GenerateUsers, UserSpec
from mock_finapi.state.models import User
from mock_finapi.world import World, build_state, resolve_seed
from tests.helpers import CLIENT_ID, CLIENT_SECRET, START
from tests.unit.support import now_of, world_of

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).resolve().parents[1] / "scenarios"
CLIENT = "clients: [{client_id: c, client_secret: s}]"


def bomb(levels: int) -> str:
    """A "billion laughs" list: each level repeats the one before ten times, through YAML aliases."""
    anchors = ["&l0 [x, x, x, x, x, x, x, x, x, x]"]
    anchors += [f"&l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, levels)]
    return f"[{', '.join(anchors)}]"


# (case, YAML with `#!` on the line the error must name, key path, words of the problem)
BROKEN = [
    ("unknown root key", f"name: t\ncolour: blue  #!\n{CLIENT}", "colour", "unknown key"),
    ("unknown clock key", f"name: t\nclock:\n  frozen: true\n  tick: 1  #!\n{CLIENT}", "clock.tick", "unknown key"),
    ("unknown tokens key", f"name: t\ntokens: {{format: uuid, ttl: 5}}  #!\n{CLIENT}", "tokens.ttl", "unknown key"),
    (
        "typo in client key",
        "name: t\nclients:\n  - client_id: c\n    client_secrt: s  #!",
        "clients[0].client_secrt",
        "did you mean 'client_secret'?",
    ),
    (
        "unknown user key",
        f"name: t\n{CLIENT}\nusers:\n  - id: a\n    password: secret1\n  - id: b\n    pasword: secret1  #!",
        "users[1].pasword",
        "did you mean 'password'?",
    ),
    (
        "user fields beside generate",
        f"name: t\n{CLIENT}\nusers:\n  - generate: 3\n    id: bob  #!",
        "users[0].id",
        "unknown key",
    ),
    ("wrong type of name", f"name: 5  #!\n{CLIENT}", "name", "must be a string, not an integer"),
    ("empty name", f"name: ''  #!\n{CLIENT}", "name", "must not be empty"),
    ("seed as text", f"name: t\nseed: one  #!\n{CLIENT}", "seed", "must be an integer, not a string"),
    ("seed as boolean", f"name: t\nseed: true  #!\n{CLIENT}", "seed", "must be an integer, not a boolean"),
    ("clock as list", f"name: t\nclock: [1]  #!\n{CLIENT}", "clock", "must be a mapping, not a list"),
    ("clients mapping, unknown key", "name: t\nclients: {client_id: c}  #!", "clients.client_id", "unknown key"),
    ("clients mapping, no auto_register", "name: t\nclients: {registered: []}  #!", "clients", "at least one client"),
    ("no clients", "name: t\nclients: []  #!", "clients", "at least one client"),
    ("client as string", "name: t\nclients:\n  - c  #!", "clients[0]", "must be a mapping, not a string"),
    ("frozen as text", f"name: t\nclock: {{frozen: maybe}}  #!\n{CLIENT}", "clock.frozen", "must be a boolean"),
    (
        "verified as number",
        f"name: t\n{CLIENT}\nusers:\n  - id: a\n    password: secret1\n    verified: 1  #!",
        "users[0].verified",
        "must be a boolean, not an integer",
    ),
    ("generate as text", f"name: t\n{CLIENT}\nusers:\n  - generate: ten  #!", "users[0].generate", "an integer"),
    ("generate negative", f"name: t\n{CLIENT}\nusers:\n  - generate: -1  #!", "users[0].generate", "between 0"),
    ("missing name", f"description: d  #!\n{CLIENT}", "name", "is required"),
    ("null name", f"name:  #!\n{CLIENT}", "name", "must be a string, not null"),
    ("missing client_id", "name: t\nclients:\n  - client_secret: s  #!", "clients[0].client_id", "is required"),
    (
        "missing client_secret",
        "name: t\nclients:\n  - client_id: a\n    client_secret: s\n  - client_id: b  #!\n    role: app",
        "clients[1].client_secret",
        "is required",
    ),
    (
        "empty client_secret",
        "name: t\nclients:\n  - {client_id: a, client_secret: ''}  #!",
        "clients[0].client_secret",
        "empty",
    ),
    (
        "missing user password",
        f"name: t\n{CLIENT}\nusers:\n  - generate: 2\n  - id: alice  #!\n    email: a@b.de",
        "users[1].password",
        "is required",
    ),
    ("duplicate root key", f"name: t\n{CLIENT}\nname: u  #!", "name", "duplicate key (first on line 1)"),
    (
        "duplicate client key",
        "name: t\nclients:\n  - client_id: a\n    client_secret: s\n    client_id: b  #!",
        "clients[0].client_id",
        "duplicate key",
    ),
    (
        "duplicate config key",
        "name: t\nclients:\n  - client_id: a\n    client_secret: s\n    config:\n      maxUserLoginAttempts: 3\n"
        "      maxUserLoginAttempts: 5  #!",
        "clients[0].config.maxUserLoginAttempts",
        "duplicate key",
    ),
    (
        "duplicate client id",
        "name: t\nclients:\n  - {client_id: a, client_secret: s}\n  - role: app\n    client_id: a  #!\n"
        "    client_secret: t",
        "clients[1].client_id",
        "duplicate client_id 'a' (first at clients[0])",
    ),
    (
        "duplicate user id in another case after generated users",
        f"name: t\n{CLIENT}\nusers:\n  - generate: 2\n  - {{id: Alice, password: secret1}}\n"
        "  - password: secret1\n    id: aLICE  #!",
        "users[2].id",
        "duplicate id 'aLICE' (first at users[1])",
    ),
    ("bad token format", f"name: t\ntokens:\n  format: jwt  #!\n{CLIENT}", "tokens.format", "uuid or finapi"),
    (
        "bad role",
        "name: t\nclients:\n  - client_id: a\n    client_secret: s\n    role: admin  #!",
        "clients[0].role",
        "app or mandator_admin",
    ),
    ("clock start no timestamp", f"name: t\nclock: {{start: tomorrow}}  #!\n{CLIENT}", "clock.start", "RFC 3339"),
    ("clock start as date", f"name: t\nclock: {{start: 2026-01-01}}  #!\n{CLIENT}", "clock.start", "not a date"),
    (
        "clock start without offset",
        f"name: t\nclock:\n  start: 2026-01-01 09:00:00  #!\n{CLIENT}",
        "clock.start",
        "needs a UTC offset",
    ),
    (
        "clock start beyond what dates can show",
        f"name: t\nclock: {{start: '9999-12-31T23:59:59-05:00'}}  #!\n{CLIENT}",
        "clock.start",
        "must lie between",
    ),
    (
        "clock start before 1970",
        f"name: t\nclock: {{start: '1969-12-31T23:59:59Z'}}  #!\n{CLIENT}",
        "clock.start",
        "between",
    ),
    *[
        (
            f"config {problem}",
            f"name: t\nclients:\n  - client_id: a\n    client_secret: s\n    config:\n      {override}  #!",
            f"clients[0].config.{override.split(':')[0]}",
            problem,
        )
        for override, problem in [
            ("maxLoginAttempts: 3", "unknown ClientConfiguration field"),
            ("maxUserLoginAttempts: '3'", "must be of type int"),
            ("maxUserLoginAttempts: -1", "must be >= 0"),
            ("userAccessTokensValidityPeriod: 30", "must be 0 (never expires) or between 60"),
            ("mandatorLicense: FREE", "must be one of"),
            ("isUserAutoVerificationEnabled: null", "must not be null"),
            (f"availableBankGroups: {bomb(5)}", "expands to more than"),
        ]
    ],
    (
        "user id with illegal characters",
        f"name: t\n{CLIENT}\nusers:\n  - password: secret1\n    id: 'no spaces'  #!",
        "users[0].id",
        "[a-zA-Z0-9-_.+@]",
    ),
    (
        "user id too long",
        f"name: t\n{CLIENT}\nusers:\n  - {{id: {'a' * 37}, password: secret1}}  #!",
        "users[0].id",
        "1 to 36",
    ),
    (
        "user password too short",
        f"name: t\n{CLIENT}\nusers:\n  - id: a\n    password: abc  #!",
        "users[0].password",
        "6 to 128",
    ),
    (
        "user email with illegal characters",
        f"name: t\n{CLIENT}\nusers:\n  - id: a\n    password: secret1\n    email: 'a<b>@c.de'  #!",
        "users[0].email",
        "characters",
    ),
    (
        "user of a mandator without client",
        f"name: t\n{CLIENT}\nusers:\n  - id: a\n    password: secret1\n    mandator_id: elsewhere  #!",
        "users[0].mandator_id",
        "mandator_id of one of the scenario's clients",
    ),
    (
        "generated users of a mandator without client",
        f"name: t\n{CLIENT}\nusers:\n  - {{generate: 1, mandator_id: elsewhere}}  #!",
        "users[0].mandator_id",
        "mandator_id of one of",
    ),
    ("YAML syntax error", "name: t\nclients:\n  - client_id: c\n   client_secret: s  #!", "", "expected <block end>"),
    ("unclosed flow list", "name: t\nclients: [\n  {client_id: c, client_secret: s}\n#!", "", "expected ',' or ']'"),
    ("tab indentation", "name: t\n\tclients: []  #!", "", "cannot start any token"),
    (
        "python object tag",
        f"name: t\ndescription: !!python/object/apply:os.system ['echo pwned']  #!\n{CLIENT}",
        "description",
        "could not determine a constructor",
    ),
    (
        "nested python tag",
        "name: t\nclients:\n  - client_id: c\n    client_secret: s\n    config:\n"
        "      enabledProducts: !!python/object:builtins.dict {}  #!",
        "clients[0].config.enabledProducts",
        "could not determine a constructor",
    ),
    ("recursive alias", f"name: t\n{CLIENT}\nusers: &u [*u]  #!", "users[0]", "recursive"),
    ("non-string key", f"name: t\n{CLIENT}\n1: one  #!", "", "keys must be strings, not an integer 1"),
    ("deep nesting", f"name: t\n{CLIENT}\nusers: {'[' * 3000}{']' * 3000}  #!", "", "nested too deeply"),
    ("empty file", "#!", "", "the scenario is empty"),
    ("list at the top", "- name: t  #!", "", "must be a mapping, not a list"),
]


def marked_line(text: str) -> int:
    [line] = [n for n, content in enumerate(text.splitlines(), 1) if "#!" in content]
    return line


@pytest.mark.parametrize(("text", "path", "problem"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN])
def test_broken_scenario_names_file_line_and_key_path(text: str, path: str, problem: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        loader.load_text(text, "broken.yaml")
    line = marked_line(text)
    assert (caught.value.source, caught.value.line, caught.value.path) == ("broken.yaml", line, path)
    assert str(caught.value).startswith(f"broken.yaml:{line}: {path or '<root>'}: ")
    assert problem in caught.value.problem
    assert len(caught.value.problems) == 1  # nothing that merely follows from it (a typo is not also "missing")


SEVERAL = """\
name: several
colour: blue
clock:
  start: tomorrow
  frozen: maybe
clients:
  - client_id: a
    client_secret: s
    config:
      userAccessTokenValidityPeriod: 3600
      maxUserLoginAttempts: -1
  - client_id: b
    role: admin
  - client_id: a
    client_secret: t
users:
  - id: alice
    pasword: secret1
  - id: 'no spaces'
    password: abc
  - {id: bob, password: secret1}
  - {id: BOB, password: secret1}
processes:
  seeded:
    - {process_token: nope, client: a}
faults:
  - {respond: {status: 500}, tims: 3}
  - delay_ms: -5
"""


def test_every_independent_problem_is_reported_in_file_order() -> None:
    with pytest.raises(ScenarioError) as caught:
        loader.load_text(SEVERAL, "s.yaml")

    assert caught.value.lines() == [
        "s.yaml:2: colour: unknown key (allowed: name, description, seed, clock, tokens, clients, users, processes, "
        "faults, banks, webforms)",
        "s.yaml:4: clock.start: must be an RFC 3339 timestamp like 2026-01-01T09:00:00+01:00",
        "s.yaml:5: clock.frozen: must be a boolean, not a string",
        "s.yaml:10: clients[0].config.userAccessTokenValidityPeriod: unknown ClientConfiguration field "
        "(did you mean userAccessTokensValidityPeriod?)",
        "s.yaml:11: clients[0].config.maxUserLoginAttempts: must be >= 0",
        "s.yaml:12: clients[1].client_secret: is required",
        "s.yaml:13: clients[1].role: must be app or mandator_admin",
        "s.yaml:14: clients[2].client_id: duplicate client_id 'a' (first at clients[0])",
        "s.yaml:18: users[0].pasword: unknown key (did you mean 'password'? allowed: id, password, email, phone, "
        "is_auto_update_enabled, verified, locked, mandator_id, bank_connections)",
        "s.yaml:19: users[1].id: must be 1 to 36 characters of [a-zA-Z0-9-_.+@]",
        "s.yaml:20: users[1].password: must be a string of 6 to 128 characters",
        "s.yaml:22: users[3].id: duplicate id 'BOB' (first at users[2])",
        "s.yaml:25: processes.seeded[0].process_token: must be a UUID like 3f1c6a52-8d0e-4b7a-9c1d-2e5f6a7b8c9d",
        "s.yaml:27: faults[0].tims: unknown key (did you mean 'times'? allowed: name, match, after, times, "
        "probability, respond, delay_ms, network)",
        "s.yaml:28: faults[1].delay_ms: must be between 0 and 600000",
    ]
    # the first problem as before; str() (the admin API's message, the reloader's log line) joins them all
    assert (caught.value.line, caught.value.path) == (2, "colour")
    assert str(caught.value) == "; ".join(caught.value.lines())


def test_checks_on_other_parts_wait_until_those_parts_are_sound() -> None:
    users = "users:\n  - {id: a, password: secret1, mandator_id: elsewhere}\n"
    seeded = "processes:\n  seeded:\n    - {process_token: 3f1c6a52-8d0e-4b7a-9c1d-2e5f6a7b8c9d, client: zzz}\n"
    sound = f"name: t\n{CLIENT}\n{users}{seeded}"
    with pytest.raises(ScenarioError) as caught:
        loader.load_text(sound, "s.yaml")
    assert [path for _, path, _ in caught.value.problems] == ["users[0].mandator_id", "processes.seeded[0].client"]

    broken_clients = sound.replace("client_secret: s", "client_secret: ''")
    with pytest.raises(ScenarioError) as caught:
        loader.load_text(broken_clients, "s.yaml")
    assert caught.value.lines() == ["s.yaml:2: clients[0].client_secret: must not be empty"]  # the rest may be fine


def test_a_missing_key_beside_an_unknown_one_is_taken_for_its_typo() -> None:
    with pytest.raises(ScenarioError) as caught:
        loader.load_text("nmae: t\nclient: [{client_id: c, client_secret: s}]\n", "s.yaml")
    assert [(line, path) for line, path, _ in caught.value.problems] == [(1, "nmae"), (2, "client")]
    assert "did you mean 'name'?" in caught.value.problem


def test_every_unknown_key_of_a_mapping_is_reported_also_inside_fault_rules() -> None:
    faults = (
        "faults:\n  - {tims: 3, aftr: 1, respond: {status: 500}}\n  - {match: {methd: GET}, respond: {status: 500}}\n"
    )
    with pytest.raises(ScenarioError) as caught:
        loader.load_text(f"name: t\ndescripton: d\nsed: 1\n{CLIENT}\n{faults}", "s.yaml")
    assert [(line, path, problem.split("?")[0]) for line, path, problem in caught.value.problems] == [
        (2, "descripton", "unknown key (did you mean 'description'"),
        (3, "sed", "unknown key (did you mean 'seed'"),
        (6, "faults[0].tims", "unknown key (did you mean 'times'"),
        (6, "faults[0].aftr", "unknown key (did you mean 'after'"),
        (7, "faults[1].match.methd", "unknown key (did you mean 'method'"),
    ]


def test_validation_stops_after_max_problems() -> None:
    users = "".join(f"  - {{id: user{i}, password: abc}}\n" for i in range(200))
    with pytest.raises(ScenarioError) as caught:
        loader.load_text(f"name: t\n{CLIENT}\nusers:\n{users}", "s.yaml")
    lines = caught.value.lines()
    assert len(lines) == loader.MAX_PROBLEMS + 1 == 51
    assert lines[0] == "s.yaml:4: users[0].password: must be a string of 6 to 128 characters"
    assert lines[-1] == "s.yaml: <root>: stopped after 50 problems: fix these first"


def test_an_alias_bomb_of_broken_users_stops_at_max_problems() -> None:
    bomb = f"name: bomb\n{CLIENT}\nusers: [&b {{id: 'x y', password: x}}{', *b' * 10_000}]\n"
    with pytest.raises(ScenarioError) as caught:
        loader.load_text(bomb, "s.yaml")
    assert len(caught.value.problems) == loader.MAX_PROBLEMS + 1  # two a user, up to the cap, and the stop


@pytest.mark.parametrize(
    ("field", "suggestion"),
    [
        ("userAccessTokenValidityPeriod", "did you mean userAccessTokensValidityPeriod?"),
        ("maxuserloginattempts", "did you mean maxUserLoginAttempts?"),
        ("isMandatorAdmim", "did you mean isMandatorAdmin?"),
        ("corsAllowedOrigin", "did you mean corsAllowedOrigins?"),
        ("fooBarBaz", "known: accountTypeRestrictions, aisEnabled, "),
    ],
)
def test_a_mistyped_config_field_gets_the_nearest_known_name(field: str, suggestion: str) -> None:
    text = f"name: t\nclients:\n  - client_id: a\n    client_secret: s\n    config:\n      {field}: 1\n"
    with pytest.raises(ScenarioError) as caught:
        loader.load_text(text, "s.yaml")
    assert len(caught.value.problems) == 1
    assert (caught.value.line, caught.value.path) == (6, f"clients[0].config.{field}")
    assert caught.value.problem.startswith(f"unknown ClientConfiguration field ({suggestion}")


@pytest.mark.parametrize("name", loader.builtin_names())
async def test_every_builtin_scenario_loads_and_builds_a_world(name: str) -> None:
    scenario = loader.load(name)
    assert scenario.name
    world = world_of(scenario)
    assert [c.client_id for c in await world.store.clients()] == [c.client_id for c in scenario.clients]


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.yaml")), ids=lambda p: p.name)
async def test_every_test_fixture_scenario_loads(path: Path) -> None:
    scenario = loader.load(str(path))
    world = world_of(scenario)
    assert [c.client_id for c in await world.store.clients()] == [c.client_id for c in scenario.clients]


def test_builtins_include_default_with_the_documented_client_and_no_user() -> None:
    """No user, so finAPI's guide can create `username` (tests/api/test_guide.py)."""
    assert "default" in loader.builtin_names()
    scenario = loader.load("default")
    assert scenario.name == "default"
    assert (scenario.clients[0].client_id, scenario.clients[0].client_secret) == (CLIENT_ID, CLIENT_SECRET)
    assert scenario.clock.start == START
    assert scenario.users == ()


def test_default_with_user_is_default_plus_finapis_example_user() -> None:
    default, with_user = loader.load("default"), loader.load("default-with-user")
    [user] = with_user.users
    assert isinstance(user, UserSpec)
    assert (user.id, user.password, user.email, user.phone, user.verified) == (
        "username",
        "password",
        "email@localhost.de",
        "+49 99 999999-999",
        True,
    )
    same = replace(with_user, name="default", source=default.source, description=default.description, users=())
    assert replace(same, text=default.text) == default


def test_load_from_a_path_names_that_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(f"name: t\n{CLIENT}\nbogus: 1\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=rf"^{path}:3: bogus: unknown key"):
        loader.load(str(path))


def test_unknown_scenario_reference_lists_the_builtins() -> None:
    with pytest.raises(ScenarioError, match=r"^no-such-scenario: <root>: no such file or built-in .*default"):
        loader.load("no-such-scenario")


def test_minimal_scenario_gets_documented_defaults() -> None:
    scenario = loader.load_text(f"name: t\n{CLIENT}", "s.yaml")
    assert (scenario.description, scenario.seed, scenario.users) == ("", None, ())
    assert (scenario.clock.start, scenario.clock.frozen) == (None, False)
    assert (scenario.tokens.format, scenario.tokens.reuse) == ("uuid", True)
    [client] = scenario.clients
    assert (client.role, client.config) == ("app", {})
    assert client.mandator_id == loader.load_text(f"name: u\n{CLIENT}", "u.yaml").clients[0].mandator_id


def test_full_scenario_reads_every_key() -> None:
    scenario = loader.load_text(
        """
name: full
description: every key
seed: 9
clock: {start: 2026-03-01T10:00:00+01:00, frozen: true}
tokens: {format: finapi, reuse: false}
clients:
  - {client_id: app, client_secret: s, mandator_id: m1, config: {availableBankGroups: [DE], maxUserLoginAttempts: 0}}
  - {client_id: admin, client_secret: s, role: mandator_admin, mandator_id: m2}
users:
  - {id: a, password: secret1, email: a@b.de, phone: '+49 1', is_auto_update_enabled: true, verified: false,
     locked: true, mandator_id: m2}
  - {generate: 4, verified: false}
""",
        "full.yaml",
    )
    assert (scenario.name, scenario.description, scenario.seed) == ("full", "every key", 9)
    assert scenario.clock.start == datetime(2026, 3, 1, 10, 0, tzinfo=FINAPI_TZ)
    assert (scenario.clock.frozen, scenario.tokens.format, scenario.tokens.reuse) == (True, "finapi", False)
    app, admin = scenario.clients
    assert app.config == {"availableBankGroups": ["DE"], "maxUserLoginAttempts": 0}
    assert type(app.config["availableBankGroups"]) is list  # plain types, as ClientConfiguration checks them
    assert (admin.role, admin.mandator_id) == ("mandator_admin", "m2")
    assert scenario.users == (
        UserSpec("a", "secret1", "m2", "a@b.de", "+49 1", is_auto_update_enabled=True, verified=False, locked=True),
        GenerateUsers(4, "m1", verified=False),
    )


GENERATED = f"name: t\n{CLIENT}\nusers:\n  - generate: 5\n"


async def generated_users(world: World) -> list[tuple[str, str, str | None, str | None]]:
    users = await world.store.users(None, await now_of(world))
    return sorted((u.id, u.password, u.email, u.phone) for u in users)


async def test_same_seed_makes_the_same_faker_users() -> None:
    scenario = loader.load_text(GENERATED, "s.yaml")
    first = await generated_users(world_of(scenario, seed=11))
    assert first == await generated_users(world_of(scenario, seed=11))
    assert len(first) == 5


async def test_different_seed_makes_different_faker_users() -> None:
    scenario = loader.load_text(GENERATED, "s.yaml")
    assert await generated_users(world_of(scenario, seed=11)) != await generated_users(world_of(scenario, seed=12))


async def test_scenario_seed_is_used_unless_overridden() -> None:
    seeded = loader.load_text(f"seed: 11\n{GENERATED}", "s.yaml")
    assert world_of(seeded).seed == 11
    assert await generated_users(world_of(seeded)) == await generated_users(world_of(seeded, seed=11))
    assert world_of(seeded, seed=12).seed == 12


def test_a_scenario_without_seed_gets_a_fresh_one_and_logs_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "mock_finapi")
    scenario = loader.load_text(GENERATED, "s.yaml")
    seed = resolve_seed(scenario, None)
    assert caplog.messages == [f"scenario t has no seed; using seed {seed} (pass --seed {seed} to replay)"]
    assert resolve_seed(scenario, 7) == 7


async def test_explicit_user_keeps_its_id_and_password_when_generated_users_are_listed_first() -> None:
    scenario = loader.load_text(f"name: t\nseed: 3\n{CLIENT}\nusers:\n  - generate: 1\n", "s.yaml")
    [(taken, *_)] = await generated_users(world_of(scenario))
    both = loader.load_text(
        f"name: t\nseed: 3\n{CLIENT}\nusers:\n  - generate: 1\n  - {{id: '{taken}', password: mine123}}\n", "s.yaml"
    )
    users = await generated_users(world_of(both))
    assert len(users) == 2
    assert (taken, "mine123") in [(u[0], u[1]) for u in users]


FULL_STATE = f"""
name: t
clock: {{start: "2026-03-01T10:00:00+01:00", frozen: true}}
{CLIENT}
users:
  - {{id: a, password: secret1, email: a@b.de, phone: '+49 1', is_auto_update_enabled: true, verified: false,
     locked: true}}
"""


async def test_the_state_a_scenario_starts_with_holds_its_clock_clients_and_users() -> None:
    scenario = loader.load_text(FULL_STATE, "s.yaml")
    world = world_of(scenario, seed=1)
    now = await now_of(world)
    assert now == datetime(2026, 3, 1, 10, 0, tzinfo=FINAPI_TZ).timestamp()
    assert (await world.store.prepare()).clock.frozen
    [client] = await world.store.clients()
    assert (client.client_id, client.secret, client.role, client.registered) == ("c", "s", "app", False)
    assert client.config["userAccessTokensValidityPeriod"] == 3600
    assert await world.store.users(None, now) == [
        User(client.mandator_id, "a", "secret1", "a@b.de", "+49 1", True, False, True, created_at=now)
    ]


async def test_freeze_at_starts_the_clock_there_frozen_whatever_the_scenario_says() -> None:
    scenario = loader.load_text(f"name: t\nclock: {{start: '2030-01-01T00:00:00Z'}}\n{CLIENT}", "s.yaml")
    store = build_state(scenario, 1, 50.0, journal_size=10, freeze_at=START)
    clock = (await store.prepare()).clock
    assert (clock.frozen, clock.time(5000.0)) == (True, START.timestamp())
    running = (await build_state(scenario, 1, 50.0, journal_size=10).prepare()).clock
    assert (running.frozen, running.time(60.0)) == (False, datetime(2030, 1, 1, tzinfo=UTC).timestamp() + 10)

"""A scenario's totals are capped, counted after YAML aliases are expanded (issue 16, point 5).

An alias repeats what it names, so a few bytes can ask for millions of users, rules or values. Each test checks a cap
exactly at its value (accepted) and one over (refused with the cap and the count), without building anything.
"""

from __future__ import annotations

import uuid

import pytest

from mock_finapi.errors import ScenarioError
from mock_finapi.scenarios import loader
from mock_finapi.scenarios.schema import GenerateUsers, Scenario

CLIENT = "clients: [{client_id: c, client_secret: s}]"


def refused(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        loader.load_text(text, "caps.yaml")
    return caught.value


def accepted(text: str) -> Scenario:
    return loader.load_text(text, "caps.yaml")


def test_the_caps_have_their_documented_values() -> None:
    assert (loader.MAX_USERS, loader.MAX_CLIENTS, loader.MAX_SEEDED_PROCESSES, loader.MAX_FAULT_RULES) == (
        100_000,
        1_000,
        10_000,
        1_000,
    )
    assert (loader.MAX_CONFIG_NODES, loader.MAX_SCENARIO_VALUES) == (10_000, 100_000)


def test_an_alias_bomb_of_generated_users_is_refused_naming_the_cap_and_the_count() -> None:
    bomb = f"name: bomb\n{CLIENT}\nusers: [&g {{generate: 100000}}, *g, *g]\n"
    assert len(bomb.encode()) < 100
    error = refused(bomb)
    assert str(error) == (
        "caps.yaml:3: users: the scenario creates 300000 users in total (listed and generated), at most 100000"
    )


def test_users_listed_and_generated_count_together_up_to_the_cap() -> None:
    at_cap = f"name: t\n{CLIENT}\nusers:\n  - generate: 99999\n  - {{id: alice, password: secret1}}\n"
    assert sum(u.count if isinstance(u, GenerateUsers) else 1 for u in accepted(at_cap).users) == 100_000
    error = refused(at_cap.replace("99999", "100000"))
    assert (error.line, error.path) == (3, "users")
    assert error.problem == "the scenario creates 100001 users in total (listed and generated), at most 100000"


def test_generated_users_of_several_mandators_count_together() -> None:
    clients = "clients:\n  - {client_id: a, client_secret: s, mandator_id: m1}\n"
    clients += "  - {client_id: b, client_secret: s, mandator_id: m2}\n"
    text = f"name: t\n{clients}users:\n  - {{generate: 60000, mandator_id: m1}}\n"
    text += "  - {generate: 40000, mandator_id: m2}\n"
    accepted(text)
    error = refused(text.replace("40000", "40001"))
    assert error.problem == "the scenario creates 100001 users in total (listed and generated), at most 100000"


def clients(count: int) -> str:
    return "".join(f"  - {{client_id: c{i}, client_secret: s}}\n" for i in range(count))


def test_clients_up_to_the_cap_in_either_form() -> None:
    assert len(accepted(f"name: t\nclients:\n{clients(1000)}").clients) == 1000
    assert len(accepted(f"name: t\nclients:\n  registered:\n{clients(1000)}").clients) == 1000
    error = refused(f"name: t\nclients:\n{clients(1001)}")
    assert str(error) == "caps.yaml:2: clients: the scenario has 1001 clients, at most 1000"
    error = refused(f"name: t\nclients:\n  auto_register: true\n  registered:\n{clients(1001)}")
    assert str(error) == "caps.yaml:4: clients.registered: the scenario has 1001 clients, at most 1000"


def test_aliased_clients_are_counted_before_their_configs_are_copied() -> None:
    config = f"{{categoryRestrictions: [{', '.join(['{a: 1}'] * 100)}]}}"
    text = f"name: t\nclients: [&c {{client_id: c, client_secret: s, config: {config}}}{', *c' * 1000}]\n"
    assert str(refused(text)) == "caps.yaml:2: clients: the scenario has 1001 clients, at most 1000"


@pytest.mark.slow
def test_seeded_processes_up_to_the_cap() -> None:
    entries = [f"    - {{process_token: {uuid.UUID(int=i + 1, version=4)}, client: c}}\n" for i in range(10_001)]
    head = f"name: t\n{CLIENT}\nprocesses:\n  seeded:\n"
    assert len(accepted(head + "".join(entries[:10_000])).processes.seeded) == 10_000
    error = refused(head + "".join(entries))
    assert str(error) == "caps.yaml:4: processes.seeded: the scenario has 10001 seeded processes, at most 10000"


def test_aliased_seeded_processes_are_refused_by_their_count() -> None:
    entry = "&p {process_token: 3f1c6a52-8d0e-4b7a-9c1d-2e5f6a7b8c9d, client: c}"
    text = f"name: t\n{CLIENT}\nprocesses:\n  seeded: [{entry}{', *p' * 10_000}]\n"
    assert str(refused(text)) == (
        "caps.yaml:4: processes.seeded: the scenario has 10001 seeded processes, at most 10000"
    )


def faults(count: int) -> str:
    return "".join(f"  - {{name: f{i}, delay_ms: 1}}\n" for i in range(count))


def test_fault_rules_up_to_the_cap() -> None:
    assert len(accepted(f"name: t\n{CLIENT}\nfaults:\n{faults(1000)}").faults) == 1000
    error = refused(f"name: t\n{CLIENT}\nfaults:\n{faults(1001)}")
    assert str(error) == "caps.yaml:3: faults: the scenario has 1001 fault rules, at most 1000"


def test_an_alias_bomb_of_unnamed_fault_rules_is_refused() -> None:
    text = f"name: t\n{CLIENT}\nfaults: [&f {{delay_ms: 1}}{', *f' * 1000}]\n"
    assert len(text) < 5000
    assert str(refused(text)) == "caps.yaml:3: faults: the scenario has 1001 fault rules, at most 1000"


def values(count: int) -> str:
    """A list of `count` values in all: the list itself and count - 1 strings."""
    return f"[{', '.join(['x'] * (count - 1))}]"


def test_a_fault_body_expands_to_at_most_10000_values() -> None:
    rule = "faults:\n  - respond:\n      status: 500\n      body: {}\n"
    at_cap = f"name: t\n{CLIENT}\n" + rule.format(values(10_000))
    [fault] = accepted(at_cap).faults
    assert len(fault.body) == 9_999
    error = refused(f"name: t\n{CLIENT}\n" + rule.format(values(10_001)))
    assert str(error) == "caps.yaml:6: faults[0].respond.body: expands to more than 10000 values"


def test_a_billion_laughs_fault_body_is_refused() -> None:
    levels = ["&l0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"&l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 9)]
    text = f"name: t\n{CLIENT}\nfaults:\n  - respond:\n      body: [{', '.join(levels)}]\n"
    assert len(text) < 600
    assert str(refused(text)) == "caps.yaml:5: faults[0].respond.body: expands to more than 10000 values"


def test_client_configs_and_fault_bodies_expand_to_at_most_100000_values_together() -> None:
    # each client's config is 10,000 values: categoryRestrictions' list, one mapping, its list and 9,997 strings
    config = f"&r [{{k: {values(9_998)}}}]"
    text = f"name: t\nclients:\n  - {{client_id: c0, client_secret: s, config: {{categoryRestrictions: {config}}}}}\n"
    text += "".join(
        f"  - {{client_id: c{i}, client_secret: s, config: {{categoryRestrictions: *r}}}}\n" for i in range(1, 10)
    )
    assert len(accepted(text).clients) == 10
    over = text + "faults:\n  - {respond: {status: 500, body: one}}\n"
    error = refused(over)
    assert str(error) == (
        "caps.yaml:14: faults[0].respond.body: client configs and fault bodies expand to more than 100000 values in "
        "total"
    )
    error = refused(text + "  - {client_id: c10, client_secret: s, config: {categoryRestrictions: *r}}\n")
    assert str(error) == (
        "caps.yaml:13: clients[10].config.categoryRestrictions: client configs and fault bodies expand to more than "
        "100000 values in total"
    )

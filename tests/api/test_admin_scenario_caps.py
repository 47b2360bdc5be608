"""`POST /__admin/scenario` refuses a scenario over a cap (issue 16, point 5): 400, and the old one keeps serving.

The caps count what YAML aliases expand to, so a body of a hundred bytes cannot ask for 300,000 users or a fault
body of a billion values.
"""

from __future__ import annotations

import httpx
import pytest

from tests.api.admin_helpers import assert_bad_request, ok
from tests.helpers import CLIENT_CREDENTIALS, SCENARIO, TOKEN_PATH, bearer, client_token

CLIENT = "clients: [{client_id: c, client_secret: s}]"
LAUGHS = ", ".join(
    ["&l0 [x, x, x, x, x, x, x, x, x, x]"] + [f"&l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 9)]
)
OVER_CAPS = [
    (
        f"name: bomb\n{CLIENT}\nusers: [&g {{generate: 100000}}, *g, *g]\n",
        "<admin>:3: users: the scenario creates 300000 users in total (listed and generated), at most 100000",
    ),
    (
        f"name: bomb\n{CLIENT}\nfaults: [&f {{delay_ms: 1}}{', *f' * 1000}]\n",
        "<admin>:3: faults: the scenario has 1001 fault rules, at most 1000",
    ),
    (
        f"name: bomb\n{CLIENT}\nfaults:\n  - respond:\n      body: [{LAUGHS}]\n",
        "<admin>:5: faults[0].respond.body: expands to more than 10000 values",
    ),
]


@pytest.mark.parametrize(("yaml", "message"), OVER_CAPS, ids=["users", "fault-rules", "fault-body"])
def test_a_scenario_over_a_cap_is_refused_and_the_old_one_keeps_serving(
    client: httpx.Client, yaml: str, message: str
) -> None:
    token = client_token(client)

    assert_bad_request(client.post("/__admin/scenario", json={"yaml": yaml}), message)

    assert ok(client.get("/__admin/health")) == {"status": "ok", "scenario": SCENARIO}
    assert client.get("/api/v2/clientConfiguration", headers=bearer(token)).status_code == 200
    assert client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS).status_code == 200
    assert ok(client.get("/__admin/faults")) == {"faults": []}

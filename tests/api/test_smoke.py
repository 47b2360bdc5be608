from mock_finapi.testing.inprocess import InProcessClient
from tests.helpers import bearer, client_token, user_tokens


def test_documented_user_flow_works_in_process(client: InProcessClient) -> None:
    token = client_token(client)
    created = client.post("/api/v2/users", json={"id": "alice", "password": "secret123"}, headers=bearer(token))
    assert (created.status_code, created.json()["id"]) == (201, "alice")
    tokens = user_tokens(client, "alice", "secret123")
    me = client.get("/api/v2/users", headers=bearer(tokens["access_token"]))
    assert me.json() == {"id": "alice", "password": "XXXXX", "email": None, "phone": None, "isAutoUpdateEnabled": False}

"""The Synapse fixture itself: a real homeserver answers, registers users and delivers messages
(on SQLite, and on the local PostgreSQL as in production)."""

import os
import subprocess
import uuid

from support.synapse import synapse_server

POSTGRES = os.environ.get("MATRIX_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def test_registered_users_exchange_a_message(synapse):
    _exchange(synapse)


def test_synapse_runs_on_postgresql_and_drops_its_database():
    servers = synapse_server(postgres_admin_url=POSTGRES)
    synapse = next(servers)
    try:
        assert synapse.database_url and "sqlite" not in (synapse.workdir / "homeserver.yaml").read_text()
        _exchange(synapse)
        name = synapse.database_url.rsplit("/", 1)[1]
        tables = _psql(synapse.database_url, "SELECT count(*) FROM events WHERE type = 'm.room.message'")
        assert int(tables) >= 1  # the message is in PostgreSQL, not in a file
    finally:
        next(servers, None)
    assert _psql(POSTGRES, f"SELECT count(*) FROM pg_database WHERE datname = '{name}'") == "0"


def _psql(url: str, sql: str) -> str:
    return subprocess.run(["psql", url, "-tAc", sql], check=True, capture_output=True, text=True).stdout.strip()


def _exchange(synapse):
    alice = synapse.register_user()
    bob = synapse.register_user()
    assert alice.user_id.endswith(":" + synapse.server_name)
    room = synapse.request("POST", "/_matrix/client/v3/createRoom", {"invite": [bob.user_id]}, alice.access_token)
    room_id = room["room_id"]
    synapse.request("POST", f"/_matrix/client/v3/join/{room_id}", {}, bob.access_token)
    txn = uuid.uuid4().hex
    synapse.request(
        "PUT",
        f"/_matrix/client/v3/rooms/{room_id}/send/m.room.message/{txn}",
        {"msgtype": "m.text", "body": "Guten Tag"},
        alice.access_token,
    )
    messages = synapse.request(
        "GET", f"/_matrix/client/v3/rooms/{room_id}/messages?dir=b&limit=10", None, bob.access_token
    )
    bodies = [event["content"].get("body") for event in messages["chunk"] if event["type"] == "m.room.message"]
    assert bodies == ["Guten Tag"]


def test_password_login_gives_a_new_device(synapse):
    carol = synapse.register_user()
    again = synapse.login(carol)
    assert again.user_id == carol.user_id
    assert again.device_id != carol.device_id

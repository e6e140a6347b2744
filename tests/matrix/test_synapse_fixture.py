"""The Synapse fixture itself: a real homeserver answers, registers users and delivers messages."""

import uuid


def test_registered_users_exchange_a_message(synapse):
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

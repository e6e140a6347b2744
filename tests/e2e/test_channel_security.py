"""Issue 13 against the real stack: the REST channel needs its token and never reaches another
channel's conversation, the action server answers only Rasa, the Rasa API token is not on any
command line, typed intent payloads count only where the assistant offered them."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from support.chat import RestChat
from support.forms import meldebescheinigung

pytestmark = pytest.mark.e2e


def post(url: str, body: dict | bytes, headers: dict | None = None) -> tuple[int, dict | list]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def tracker(stack, conversation_id: str) -> dict:
    s = stack.settings
    query = urllib.parse.urlencode({"token": s.rasa_api_token})
    url = f"{s.rasa_url}/conversations/{urllib.parse.quote(conversation_id)}/tracker?{query}"
    with urllib.request.urlopen(url, timeout=30) as resp:
        return json.loads(resp.read())


def user_events(stack, conversation_id: str) -> list[dict]:
    return [e for e in tracker(stack, conversation_id)["events"] if e["event"] == "user"]


# --- REST channel ---------------------------------------------------------------------------------
def test_rest_channel_refuses_callers_without_the_token(stack):
    url = f"{stack.settings.rasa_url}/webhooks/rest/webhook"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": stack.settings.rest_channel_token}):
        status, body = post(url, {"sender": "mallory", "message": "Hallo"}, headers)
        assert status == 401 and body["error"] == "unauthorized", headers
    assert user_events(stack, "mallory") == [] and user_events(stack, "rest-mallory") == []


def test_rest_sender_can_never_continue_a_web_chat_conversation(stack):
    victim = "wc-" + "0" * 32
    chat = RestChat(stack.settings, sender=victim)
    chat.say("Hallo")
    assert user_events(stack, victim) == []  # the web chat conversation got nothing
    assert [e["text"] for e in user_events(stack, "rest-" + victim)] == ["Hallo"]


def test_rest_channel_limits_the_message_size(stack, chat):
    url = chat.url
    status, body = post(
        url,
        {"sender": chat.sender, "message": "x" * 2001},
        {"Authorization": f"Bearer {stack.settings.rest_channel_token}"},
    )
    assert status == 413 and "höchstens 2000 Zeichen" in body["message"]
    status, body = post(url, b"{kaputt", {"Authorization": f"Bearer {stack.settings.rest_channel_token}"})
    assert status == 400 and body["error"] == "invalid_json"


# --- action server --------------------------------------------------------------------------------
def forged_call(action: str, sender_id: str) -> dict:
    """What an attacker sends the action server: a tracker they made up for a victim."""
    slots = {"procedure": "meldebescheinigung", **meldebescheinigung()}
    del slots["art_meldebescheinigung"], slots["email"]
    return {
        "next_action": action,
        "sender_id": sender_id,
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": sender_id,
            "slots": slots,
            "latest_message": {"text": "x", "intent": {}, "entities": []},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
            "latest_event_time": 0,
        },
    }


def test_action_server_answers_only_rasa(stack):
    s = stack.settings
    url = f"http://{s.host}:{s.action_port}/webhook"
    for action in ("action_show_summary", "action_login_status", "action_logout"):
        call = forged_call(action, "wc-" + "1" * 32)
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            status, body = post(url, call, headers)
            assert status == 401 and set(body) == {"error", "message"}, (action, headers)
            assert "Erika" not in json.dumps(body)
    # Rasa's token works (and shows what the forged tracker would have revealed).
    status, body = post(
        url, forged_call("action_show_summary", "wc-" + "1" * 32), {"Authorization": f"Bearer {s.action_server_token}"}
    )
    assert status == 200 and "Erika" in json.dumps(body, ensure_ascii=False)
    # The action list is closed too; only the health check is open.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://{s.host}:{s.action_port}/actions", timeout=10)
    assert refused.value.code == 401
    with urllib.request.urlopen(f"http://{s.host}:{s.action_port}/health", timeout=10) as resp:
        assert resp.status == 200


def listening_addresses(pid: int) -> set[str]:
    """Local addresses of the TCP sockets process ``pid`` listens on (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().as_posix()
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            parts = line.split()
            if parts[3] == "0A" and parts[9] in inodes:  # 0A = LISTEN
                found.add(parts[1].split(":")[0])
    return found


def test_no_service_listens_on_all_interfaces(stack):
    for service in stack.services:
        addresses = listening_addresses(service.process.pid)
        assert addresses, service.name
        assert addresses <= {"0100007F"}, (service.name, addresses)  # 127.0.0.1 only


def test_rasa_api_token_is_not_on_the_command_line(stack):
    for service in stack.services:
        cmdline = Path(f"/proc/{service.process.pid}/cmdline").read_bytes().decode(errors="replace")
        assert stack.settings.rasa_api_token not in cmdline, service.name
        assert stack.settings.action_server_token not in cmdline, service.name
        assert "auth-token" not in cmdline, service.name
    # …and the API still needs it.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{stack.settings.rasa_url}/conversations/x/tracker", timeout=10)
    assert refused.value.code == 401


# --- typed intent payloads ------------------------------------------------------------------------
def test_a_button_payload_counts_only_while_it_is_offered(stack, chat):
    reply = chat.say("Ausweis")
    payloads = [b["payload"] for m in reply for b in m.get("buttons") or [] if b["payload"].startswith("/choose")]
    assert len(payloads) >= 2, reply
    offered, old = payloads[0], payloads[1]
    chat.say(offered)  # the citizen clicks a button of the last message: accepted
    clicked = user_events(stack, chat.conversation_id)[-1]
    assert clicked["parse_data"]["intent"]["name"] == "choose_procedure"
    assert clicked["parse_data"]["entities"], clicked
    chat.say(old)  # a button of an earlier message: only text
    typed = user_events(stack, chat.conversation_id)[-1]
    assert typed["text"] == old.lstrip("/")
    assert typed["parse_data"]["entities"] == []


def test_an_intent_payload_nobody_offered_is_only_text(stack, chat):
    chat.say_text("Hallo")
    chat.say('/choose_procedure{"procedure": "meldebescheinigung"}')
    typed = user_events(stack, chat.conversation_id)[-1]
    assert not typed["text"].startswith("/") and typed["parse_data"]["entities"] == []
    # Harmless payloads (the same as typing "ja", "hallo") still work without an offer.
    chat.say("/greet")
    assert user_events(stack, chat.conversation_id)[-1]["parse_data"]["intent"]["name"] == "greet"

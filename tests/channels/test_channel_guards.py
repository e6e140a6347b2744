"""Units of issue 13's channel fixes, without processes: the REST channel's checks, the action
server's token check, the guard for typed intent payloads."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.training_data.message import Message

from actions import server as action_server
from rasa_runtime.channels import payload_guard
from rasa_runtime.channels.rest.channel import RestChannel
from rasa_runtime.channels.webchat.settings import WebChatSettings

TOKEN = "rest-token-" + "x" * 20
IBAN = "DE89370400440532013000"


class FakeStream:
    def __init__(self, body: bytes, chunk: int = 1000) -> None:
        self.chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)]
        self.read_bytes = 0

    async def read(self):
        if not self.chunks:
            return None
        chunk = self.chunks.pop(0)
        self.read_bytes += len(chunk)
        return chunk


def request(body, token: str | None = TOKEN, path: str = "/webhook", method: str = "POST"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return SimpleNamespace(
        headers=headers,
        stream=FakeStream(raw),
        path=path,
        method=method,
        app=SimpleNamespace(ctx=SimpleNamespace(agent=None)),
    )


def channel(**settings) -> RestChannel:
    return RestChannel(token=TOKEN, settings=WebChatSettings(**{"rate_limit": (3, 60), **settings}))


class Rasa:
    """Stands in for Rasa's ``on_new_message``: records the messages, answers one text."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.messages: list[UserMessage] = []
        self.fail = fail

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        if self.fail:
            raise self.fail
        await message.output_channel.send_text_message(message.sender_id, "Guten Tag!")


def body_of(resp) -> dict | list:
    return json.loads(resp.body)


# --- REST channel -------------------------------------------------------------------------------
def test_rest_channel_never_exists_without_a_token(monkeypatch):
    monkeypatch.delenv("REST_CHANNEL_TOKEN", raising=False)
    with pytest.raises(ValueError):
        RestChannel.from_credentials(None)
    monkeypatch.setenv("REST_CHANNEL_TOKEN", TOKEN)
    assert RestChannel.from_credentials(None).token == TOKEN


@pytest.mark.parametrize("token", [None, "", "wrong", TOKEN[:-1], TOKEN + "x"])
async def test_rest_channel_refuses_requests_without_the_token(token):
    rasa = Rasa()
    resp = await channel().receive(request({"sender": "wc-0123", "message": "Hallo"}, token), rasa)
    assert resp.status == 401 and body_of(resp)["error"] == "unauthorized"
    assert "Token" in body_of(resp)["message"]
    assert rasa.messages == []


async def test_rest_sender_ids_are_prefixed_so_they_never_reach_a_web_chat_conversation():
    rasa = Rasa()
    resp = await channel().receive(
        request(
            {
                "sender": "wc-0123456789abcdef",
                "message": "Hallo",
                "input_channel": "webchat",
                "metadata": {"x": 1, "lang": "de"},
            }
        ),
        rasa,
    )
    assert resp.status == 200
    assert body_of(resp) == [{"recipient_id": "rest-wc-0123456789abcdef", "text": "Guten Tag!"}]
    (message,) = rasa.messages
    assert message.sender_id == "rest-wc-0123456789abcdef"
    assert message.input_channel == "rest" and message.metadata == {"lang": "de"}


async def test_rest_answers_link_only_to_allowed_hosts():
    # Issue 13 item 6 on the REST channel: a link to a foreign host keeps only its words.
    class LinkingRasa(Rasa):
        async def __call__(self, message: UserMessage) -> None:
            await message.output_channel.send_text_message(
                message.sender_id,
                "Status: [Hier klicken](https://evil.example/login) oder "
                "[Stadt München](https://stadt.muenchen.de/service/)",
            )

    resp = await channel().receive(request({"sender": "erika", "message": "Status?"}), LinkingRasa())
    (answer,) = body_of(resp)
    assert "evil.example" not in answer["text"] and "Hier klicken" in answer["text"]
    assert "[Stadt München](https://stadt.muenchen.de/service/)" in answer["text"]


async def test_a_typed_login_code_is_redeemed_for_the_rest_conversation_only(monkeypatch):
    # The REST channel intercepts a login code like the web chat (rasa_runtime/channels/login_confirmation.py),
    # for its own prefixed sender; the text never reaches Rasa.
    from rasa_runtime.channels import login_confirmation

    seen = []

    async def intercept(agent, conversation_id, text, output):
        seen.append((conversation_id, text))
        await output.send_text_message(conversation_id, "Dieser Code stimmt nicht.")
        return True

    monkeypatch.setattr(login_confirmation, "intercept_text", intercept)
    rasa = Rasa()
    resp = await channel().receive(request({"sender": "wc-0123", "message": "4829-1736"}), rasa)
    assert seen == [("rest-wc-0123", "4829-1736")] and rasa.messages == []
    assert body_of(resp)[0]["text"] == "Dieser Code stimmt nicht."


@pytest.mark.parametrize(
    "body, status, code",
    [
        (b"{not json", 400, "invalid_json"),
        (b"\xff\xfe", 400, "invalid_json"),
        ([1, 2], 400, "invalid_json"),
        ({"message": "Hallo"}, 400, "invalid_sender"),
        ({"sender": "", "message": "Hallo"}, 400, "invalid_sender"),
        ({"sender": 5, "message": "Hallo"}, 400, "invalid_sender"),
        ({"sender": "x" * 129, "message": "Hallo"}, 400, "invalid_sender"),
        ({"sender": "a\nb", "message": "Hallo"}, 400, "invalid_sender"),
        ({"sender": "erika"}, 400, "invalid_message"),
        ({"sender": "erika", "message": "   "}, 400, "invalid_message"),
        ({"sender": "erika", "message": {"text": "x"}}, 400, "invalid_message"),
        ({"sender": "erika", "message": "x" * 2001}, 413, "message_too_long"),
        (b"x" * 20000, 413, "too_large"),
    ],
)
async def test_rest_channel_answers_bad_input_with_a_german_json_message(body, status, code):
    rasa = Rasa()
    ch = channel(max_message_chars=2000)
    req = request(body)
    resp = await ch.receive(req, rasa)
    assert (resp.status, body_of(resp)["error"]) == (status, code)
    assert body_of(resp)["message"] and rasa.messages == []
    assert req.stream.read_bytes <= ch.max_body_bytes + 1000  # never read much past the bound


async def test_rest_channel_limits_messages_per_sender():
    rasa, ch = Rasa(), channel()
    for _ in range(3):
        assert (await ch.receive(request({"sender": "erika", "message": "Hallo"}), rasa)).status == 200
    resp = await ch.receive(request({"sender": "erika", "message": "Hallo"}), rasa)
    assert resp.status == 429 and "warten Sie einen Moment" in body_of(resp)["message"]
    # Another sender is not affected.
    assert (await ch.receive(request({"sender": "max", "message": "Hallo"}), rasa)).status == 200


async def test_a_failing_message_is_logged_without_its_text(caplog):
    class Boom(RuntimeError):
        pass

    rasa = Rasa(fail=Boom(f"tracker with IBAN {IBAN}"))
    with caplog.at_level(logging.DEBUG):
        resp = await channel().receive(request({"sender": "erika", "message": f"Meine IBAN ist {IBAN}"}), rasa)
    assert resp.status == 500 and body_of(resp)["error"] == "processing_failed"
    assert "schiefgelaufen" in body_of(resp)["message"]
    assert "Boom" in caplog.text
    assert IBAN not in caplog.text
    assert all(r.exc_info is None for r in caplog.records)  # no traceback, so no local variables


# --- action server ------------------------------------------------------------------------------
async def test_action_server_requires_the_shared_secret():
    check = action_server.auth_middleware("act-secret")
    for headers in (
        {},
        {"authorization": "Bearer wrong"},
        {"authorization": "act-secret"},
        {"authorization": "Basic act-secret"},
        {"authorization": "Bearer act-secre"},
    ):
        refused = await check(SimpleNamespace(path="/webhook", method="POST", headers=headers))
        assert refused is not None and refused.status == 401, headers
        assert json.loads(refused.body)["error"] == "unauthorized"
    for path in ("/webhook", "/actions"):
        assert (
            await check(SimpleNamespace(path=path, method="POST", headers={"authorization": "Bearer act-secret"}))
            is None
        )
    refused = await check(SimpleNamespace(path="/actions", method="GET", headers={}))
    assert refused.status == 401
    assert await check(SimpleNamespace(path="/health", method="GET", headers={})) is None


def test_action_server_never_starts_without_a_secret(monkeypatch):
    monkeypatch.delenv("ACTION_SERVER_TOKEN", raising=False)
    with pytest.raises(SystemExit):
        action_server.create_app()


# --- typed intent payloads ----------------------------------------------------------------------
CHANGE = '/change_field{"field": "vorname"}'
CHOOSE = '/choose_procedure{"procedure": "meldebescheinigung"}'


def events(*turns):
    """Events of a conversation: each turn is (user text, [button payloads the bot offered])."""
    out = [ActionExecuted("action_listen")]
    for text, payloads in turns:
        out += [
            UserUttered(text),
            BotUttered("…", {"buttons": [{"title": p, "payload": p} for p in payloads]}),
            ActionExecuted("action_listen"),
        ]
    return out


def test_only_the_last_turn_s_buttons_count():
    history = events(("Ausweis", [CHOOSE]), ("Nein, etwas ändern", [CHANGE, "/affirm"]))
    assert payload_guard.offered_payloads(history) == {CHANGE, "/affirm"}
    as_dicts = [e.as_dict() for e in history]
    assert payload_guard.offered_payloads(as_dicts) == {CHANGE, "/affirm"}
    # After the citizen's next message, nothing from before is offered any more.
    assert payload_guard.offered_payloads([*history, UserUttered("Hallo")]) == set()


def test_offered_and_harmless_payloads_pass_everything_else_becomes_text():
    offered = payload_guard.offered_payloads(events(("Nein", [CHANGE])))
    assert payload_guard.guard_text(CHANGE, offered) == CHANGE
    assert payload_guard.guard_text("/affirm", set()) == "/affirm"
    assert payload_guard.guard_text("Hallo", set()) == "Hallo"
    assert payload_guard.guard_text(CHANGE, set()) == 'change_field{"field": "vorname"}'
    assert payload_guard.guard_text(CHOOSE, offered) == 'choose_procedure{"procedure": "meldebescheinigung"}'
    assert payload_guard.guard_text(' //  /session_start', set()) == "session_start"
    assert payload_guard.guard_text('/affirm{"procedure": "x"}', set()) == 'affirm{"procedure": "x"}'
    assert payload_guard.guard_text("/", set()) == "/"


def test_a_refused_payload_is_read_by_rasa_as_text():
    domain = Domain.from_dict({"intents": ["change_field", "affirm"], "entities": ["field"]})
    for text, is_intent in ((CHANGE, False), ("/affirm", True)):
        guarded = payload_guard.guard_text(text, set())
        unpacked = YAMLStoryReader.unpack_regex_message(Message({"text": guarded}), domain)
        assert (unpacked.get("intent") is not None) == is_intent, text
    offered = YAMLStoryReader.unpack_regex_message(
        Message({"text": payload_guard.guard_text(CHANGE, {CHANGE})}), domain
    )
    assert offered.get("intent")["name"] == "change_field"
    assert offered.get("entities")[0]["value"] == "vorname"

"""The web chat's part of exactly-once resends (issue 18), without a server: what the channel
puts into the messages the widget needs to show each message and each answer once. The real
resends (a Rasa process, a socket.io client, Chromium) are in tests/browser/test_widget_resend.py."""

from __future__ import annotations

from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_runtime import idempotency
from rasa_runtime.channels.webchat import conversations
from rasa_runtime.channels.webchat.channel import WebChatOutput


class RecordingSio:
    """What WebChatOutput needs of socket.io's server: ``emit``; records what was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict, str]] = []

    async def emit(self, event, data, room=None, **_kw):
        self.sent.append((event, data, room))


def _tracker() -> DialogueStateTracker:
    tracker = DialogueStateTracker("wc-1", slots=[])
    tracker.update(UserUttered("Ja", {"name": "affirm", "confidence": 1.0}, message_id="client-m1"))
    tracker.update(ActionExecuted("action_x"))
    tracker.update(BotUttered("Schritt 1 von 8: Wie lautet Ihr Vorname?"))
    tracker.update(ActionExecuted("action_listen"))
    # A message from a client without ids (Rasa made its id): no id in the history.
    tracker.update(UserUttered("Erika", {"name": "inform", "confidence": 1.0}, message_id="5f0c2a"))
    tracker.update(BotUttered("Wie lautet Ihr Familienname?"))
    return tracker


def test_history_gives_the_widget_its_ids_and_no_other():
    users = [item for item in conversations.history(_tracker(), frozenset()) if item["sender"] == "user"]
    assert users == [{"sender": "user", "text": "Ja", "id": "m1"}, {"sender": "user", "text": "Erika"}]


async def test_an_answer_names_its_message_and_a_saved_answer_is_marked_repeated():
    sio = RecordingSio()
    output = WebChatOutput(sio, link_hosts=frozenset(), reply_to="m1")
    await output.send_text_message("wc-1", "Schritt 1 von 8: Wie lautet Ihr Vorname?")
    await output.send_saved_responses("wc-1", [{"text": "Schritt 1 von 8: Wie lautet Ihr Vorname?"}])
    await output.send_text_message("wc-1", "Danach wieder neu.")
    first, repeated, after = (data for _event, data, _room in sio.sent)
    assert first == {"text": "Schritt 1 von 8: Wie lautet Ihr Vorname?", "reply_to": "m1"}
    assert repeated == {**first, "repeated": True}
    assert "repeated" not in after
    # Without an id (third-party widgets): Rasa's protocol, nothing added.
    plain = RecordingSio()
    await WebChatOutput(plain, link_hosts=frozenset()).send_text_message("wc-1", "Hallo")
    assert plain.sent == [("bot_uttered", {"text": "Hallo"}, "wc-1")]


class _Processor:
    def __init__(self, store) -> None:
        self.tracker_store = store
        self.processed: list[str] = []

    async def handle_message(self, message):
        self.processed.append(message.text)


async def test_a_known_id_replays_through_the_web_chat_output_marked_repeated():
    store = InMemoryTrackerStore(Domain.empty())
    await store.save(_tracker())
    processor = _Processor(store)
    handle = idempotency._wrap(_Processor.handle_message)
    sio = RecordingSio()
    output = WebChatOutput(sio, link_hosts=frozenset(), reply_to="m1")
    await handle(processor, UserMessage("Ja", output, "wc-1", message_id=idempotency.client_message_id("m1")))
    assert processor.processed == []
    assert [data for _e, data, _r in sio.sent] == [
        {"text": "Schritt 1 von 8: Wie lautet Ihr Vorname?", "reply_to": "m1", "repeated": True}
    ]


def test_the_client_id_is_read_back_only_from_client_ids():
    assert idempotency.client_id_of(idempotency.client_message_id("abc")) == "abc"
    assert idempotency.client_id_of("5f0c2a") is None
    assert idempotency.client_id_of(None) is None

"""A message sent again after a lost reply is not processed twice (issue 18, the replica run's
"Erika" twice): a REST client that gives each message an id (``message_id``) gets the saved
answer of that turn when it sends the message again, and the conversation holds the message
once (rasa_runtime/idempotency.py). Without an id, a resend is a new message: the last test
shows what that does, so the guarantee is real and not the default.

The units run Rasa's own tracker and event classes; the chats run the real stack over REST."""

from __future__ import annotations

import concurrent.futures
import json
import time
import urllib.error
import urllib.request

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from support.databases import user_texts
from support.forms import MELDEBESCHEINIGUNG_DIALOGUE, fill_in_chat, step

from bot.local_stack import rest_headers
from rasa_runtime import idempotency

# --------------------------------------------------------------------------- units


@pytest.mark.parametrize("raw", ["a", "0f8c1d2e-9a7b-4c3d-8e1f-123456789abc", "step_3", "x" * 64])
def test_a_client_id_is_taken_with_the_prefix(raw):
    assert idempotency.client_message_id(raw) == idempotency.CLIENT_PREFIX + raw


@pytest.mark.parametrize("raw", ["", "x" * 65, "Erika Mustermann", "a/b", 7, ["a"], "ä"])
def test_anything_else_is_refused(raw):
    with pytest.raises(ValueError):
        idempotency.client_message_id(raw)


def test_no_id_is_no_client_id():
    assert idempotency.client_message_id(None) is None


def _tracker(sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, slots=[])
    for message_id, text, answers in (
        ("client-1", "Ja", ["Schritt 1 von 8: Wie lautet Ihr Vorname?"]),
        ("client-2", "Erika", ["Danke.", "Schritt 2 von 8: Wie lautet Ihr Familienname?"]),
        (None, "Mustermann", ["Schritt 3 von 8: Wann sind Sie geboren?"]),
    ):
        tracker.update(UserUttered(text, {"name": "inform", "confidence": 1.0}, message_id=message_id))
        tracker.update(ActionExecuted("action_x"))
        for answer in answers:
            tracker.update(BotUttered(answer, {"buttons": [{"title": "Ja", "payload": "/affirm"}]}))
        tracker.update(ActionExecuted("action_listen"))
    return tracker


def test_the_answer_of_a_turn_is_read_from_its_events():
    events = list(_tracker("rest-u").events)
    replies = idempotency.answered_turn(events, "client-2")
    assert [r["text"] for r in replies] == ["Danke.", "Schritt 2 von 8: Wie lautet Ihr Familienname?"]
    assert replies[0]["buttons"] == [{"title": "Ja", "payload": "/affirm"}]
    assert idempotency.answered_turn(events, "client-3") is None


class _Processor:
    """What the wrapper needs of Rasa's MessageProcessor: its tracker store; records the calls."""

    def __init__(self, store) -> None:
        self.tracker_store = store
        self.processed: list[str] = []

    async def handle_message(self, message):
        self.processed.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, "neu bearbeitet")


async def test_a_known_id_is_answered_from_the_saved_turn_and_not_processed():
    store = InMemoryTrackerStore(Domain.empty())
    await store.save(_tracker("rest-u"))
    processor = _Processor(store)
    handle = idempotency._wrap(_Processor.handle_message)

    again = CollectingOutputChannel()
    await handle(processor, UserMessage("Erika", again, "rest-u", message_id="client-2"))
    assert processor.processed == []
    assert [m["text"] for m in again.messages] == ["Danke.", "Schritt 2 von 8: Wie lautet Ihr Familienname?"]

    for message in (
        UserMessage("Mustermann", CollectingOutputChannel(), "rest-u", message_id="client-9"),  # a new id
        UserMessage("Mustermann", CollectingOutputChannel(), "rest-u"),  # no id: Rasa's own
        UserMessage("Erika", CollectingOutputChannel(), "rest-other", message_id="client-2"),  # other chat
    ):
        await handle(processor, message)
    assert processor.processed == ["Mustermann", "Mustermann", "Erika"]


# --------------------------------------------------------------------------- the real stack


@pytest.fixture(scope="module")
def stack(default_stack):
    return default_stack  # tests/conftest.py: one stack with the default options for the session


def _post(stack, body: dict) -> tuple[int, list | dict]:
    request = urllib.request.Request(
        f"{stack.settings.rasa_url}/webhooks/rest/webhook",
        data=json.dumps(body).encode(),
        headers=rest_headers(stack.settings),
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _texts(answer) -> str:
    return "\n".join(m.get("text", "") for m in answer)


class _IdChat:
    """A REST client that numbers its messages, as bench_replicas' citizens do."""

    def __init__(self, stack, sender: str) -> None:
        self.stack, self.sender, self.number = stack, sender, 0

    def say_text(self, text: str) -> str:
        self.number += 1
        status, answer = _post(self.stack, {"sender": self.sender, "message": text, "message_id": f"m{self.number}"})
        assert status == 200, answer
        return _texts(answer)


def _tracker_url(stack) -> str:
    return stack.settings.tracker_store_url


@pytest.mark.e2e
def test_a_resend_with_its_id_gets_the_same_answer_and_is_stored_once(stack):
    sender = f"ids-{time.time_ns()}"
    chat = _IdChat(stack, sender)
    fill_in_chat(chat.say_text, stop=step("Erika"))
    body = {"sender": sender, "message": "Erika", "message_id": "vorname-1"}
    first = _post(stack, body)
    # The reply was lost: the client sends the same message with the same id again.
    again = _post(stack, body)
    assert first[0] == again[0] == 200
    assert "Familienname" in _texts(first[1])
    assert again[1] == first[1]
    # The form is still at the family name: the next message answers it.
    chat.number = 100
    fill_in_chat(chat.say_text, start=step("Mustermann"))
    typed = [text for text, _ in MELDEBESCHEINIGUNG_DIALOGUE]
    assert user_texts(_tracker_url(stack), f"rest-{sender}") == typed


@pytest.mark.e2e
def test_two_copies_at_the_same_moment_are_processed_once(stack):
    """The first copy still running (queued in a proxy, a slow replica) when the resend arrives:
    the conversation's lock orders them, the second finds the first's turn."""
    sender = f"ids-parallel-{time.time_ns()}"
    chat = _IdChat(stack, sender)
    fill_in_chat(chat.say_text, stop=step("Mustermann"))
    body = {"sender": sender, "message": "Mustermann", "message_id": "nachname-1"}
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(lambda _: _post(stack, body), range(3)))
    assert all(status == 200 for status, _ in answers), answers
    assert all("geboren" in _texts(answer) for _, answer in answers), answers
    texts = user_texts(_tracker_url(stack), f"rest-{sender}")
    assert texts.count("Mustermann") == 1, texts


@pytest.mark.e2e
def test_an_invalid_id_is_refused_in_german(stack):
    status, answer = _post(stack, {"sender": "x", "message": "Hallo", "message_id": "Erika Mustermann"})
    assert status == 400 and answer["error"] == "invalid_message_id"
    assert "message_id" in answer["message"]


@pytest.mark.e2e
def test_without_an_id_a_resend_is_a_new_message(stack):
    """What the id prevents: the same "Erika" again, without an id, is the next field's answer."""
    sender = f"no-ids-{time.time_ns()}"
    chat = _IdChat(stack, sender)
    fill_in_chat(chat.say_text, stop=step("Erika"))
    for _ in range(2):
        status, answer = _post(stack, {"sender": sender, "message": "Erika"})
        assert status == 200
    assert "geboren" in _texts(answer)  # "Erika" was taken as the family name too
    assert user_texts(_tracker_url(stack), f"rest-{sender}").count("Erika") == 2

"""Issue 15: a citizen who answers "Möchten Sie … jetzt hier im Chat beantragen?" with their name
instead of "ja" keeps that name through the login (and the prefill question): it becomes the
answer to the name question, echoed before it is stored. Tracker fixtures, no Rasa."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from rasa_sdk.executor import CollectingDispatcher
from support.trackers import make_tracker, slot_events, texts

from actions.dialogue import ActionStartApplication
from actions.forms import FROM_OFFER, OFFER_ANSWER, PENDING_SLOT, ValidateHundesteuerAnmeldenForm
from buergerassistent import identity as ids

PROC = "hundesteuer_anmelden"  # needs a service account (basisregistriert)


def run(tracker):
    dispatcher = CollectingDispatcher()
    return dispatcher, asyncio.run(ActionStartApplication().run(dispatcher, tracker, {}))


def login(conversation: str, **attributes) -> None:
    now = time.time()
    ids.store_identity(
        conversation,
        ids.Identity(
            level="substantiell",
            source="saml",
            subject="bPK2-test",
            attributes=attributes,
            logged_in_at=now,
            last_seen_at=now,
        ),
    )


@pytest.fixture
def conversation(monkeypatch):
    monkeypatch.setenv("BA_LOGIN_REQUIRED", "1")
    return f"unit-{uuid.uuid4().hex[:10]}"


def offer(conversation: str, text: str):
    return make_tracker(text=text, slots={"awaiting": "start_form", "procedure": PROC}, sender_id=conversation)


def after_login(conversation: str, pending, **slots):
    # The login service reports back: the latest message is no longer the citizen's answer.
    return make_tracker(
        text="/EXTERNAL_login_result",
        intent="EXTERNAL_login_result",
        slots={"procedure": PROC, PENDING_SLOT: pending, **slots},
        sender_id=conversation,
    )


@pytest.mark.parametrize("name", ["Jonte Beispielmann", "Malu"])
def test_the_name_given_instead_of_yes_survives_the_login(conversation, name):
    dispatcher, events = run(offer(conversation, name))
    assert "anmelden" in texts(dispatcher).lower()  # the login comes first
    pending = slot_events(events)[PENDING_SLOT]
    assert pending == {OFFER_ANSWER: {"procedure": PROC, "text": name}}

    login(conversation)  # an account without name attributes: nothing to prefill
    _, events = run(after_login(conversation, pending))
    slots = slot_events(events)
    assert slots["vorname"] == name and slots["requested_slot"] == "vorname"
    # echoed before it is stored; the form reads the kept text, not the login result
    assert slots[PENDING_SLOT] == {FROM_OFFER: True, OFFER_ANSWER: name}


def test_the_form_reads_the_kept_name_not_the_login_result():
    # On activation Rasa fills the first field from the latest message: the login result.
    login_text = "EXTERNAL: EXTERNAL_login_result"
    tracker = make_tracker(
        text=login_text,
        intent="EXTERNAL_login_result",
        slots={
            "requested_slot": "vorname",
            "vorname": login_text,
            PENDING_SLOT: {FROM_OFFER: True, OFFER_ANSWER: "Jonte"},
        },
        active_loop="hundesteuer_anmelden_form",
        events=[{"event": "slot", "name": "vorname", "value": login_text}],
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateHundesteuerAnmeldenForm().run(dispatcher, tracker, {}))
    slots = slot_events(events)
    assert slots[PENDING_SLOT] == {"values": {"vorname": "Jonte"}, "ask": "vorname"}
    assert "Vorname Jonte" in texts(dispatcher) and "EXTERNAL" not in texts(dispatcher)


def test_the_name_survives_the_prefill_question_when_prefill_is_declined(conversation):
    _, events = run(offer(conversation, "Jonte Beispielmann"))
    pending = slot_events(events)[PENDING_SLOT]
    login(conversation, given_name="Erika", family_name="Mustermann")
    # The account could fill the names: the prefill question comes first and keeps the answer.
    dispatcher, events = run(after_login(conversation, pending))
    assert slot_events(events)[PENDING_SLOT] == pending
    _, events = run(after_login(conversation, pending, login_prefill="declined"))
    assert slot_events(events)["vorname"] == "Jonte Beispielmann"


def test_a_kept_answer_belongs_to_its_procedure_only(conversation):
    login(conversation)
    kept = {OFFER_ANSWER: {"procedure": "sperrmuell", "text": "Jonte"}}
    _, events = run(after_login(conversation, kept))
    slots = slot_events(events)
    assert "vorname" not in slots or slots["vorname"] is None
    assert slots[PENDING_SLOT] is None  # and it is dropped


def test_yes_to_the_offer_keeps_nothing(conversation):
    _, events = run(offer(conversation, "ja gern"))
    assert PENDING_SLOT not in slot_events(events)

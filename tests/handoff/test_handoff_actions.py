"""The Rasa side of the handoff, run directly without Rasa: the offer (never forced, honest when
nobody can come), staff messages only while a person writes, hand-back resumes the paused form,
the timeout keeps what the citizen typed, and the call-back form (stored only with consent).
The HTTP path to the staff desk is covered end to end in test_handoff_e2e.py."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from support.trackers import make_tracker, slot_events, texts

from actions.conversation import ActionHumanAnswer
from actions.handoff import (
    ActionHandoffEnd,
    ActionHandoffTimeout,
    ActionStaffMessage,
    ActionSubmitCallback,
    ValidateCallbackForm,
)
from buergerassistent.handoff.office_hours import BERLIN, DAYS
from buergerassistent.handoff.store import HandoffStore

FORM = "meldebescheinigung_form"


def run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher, events


def payloads(dispatcher) -> list[str]:
    return [b["payload"] for m in dispatcher.messages for b in m.get("buttons") or []]


@pytest.fixture
def desk_open(monkeypatch):
    monkeypatch.setenv("STAFF_DESK_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("HANDOFF_OFFICE_HOURS", "Mo-So 00:00-23:59")
    monkeypatch.setenv("HANDOFF_HOLIDAY_REGION", "keine")


def test_without_a_staff_desk_the_offer_is_115_office_and_call_back(monkeypatch):
    monkeypatch.delenv("STAFF_DESK_URL", raising=False)
    tracker = make_tracker(
        text="ich will mit einem Menschen reden", intent="ask_human", slots={"procedure": "meldebescheinigung"}
    )
    dispatcher, events = run(ActionHumanAnswer(), tracker)
    assert "nicht an eine Person weiterleiten" in texts(dispatcher) and "115" in texts(dispatcher)
    assert "Bürgerbüro" in texts(dispatcher)  # the office from the catalogue's contact block
    assert payloads(dispatcher) == ["/request_callback", "/handoff_decline"] and events == []


def test_in_office_hours_a_person_is_offered_and_answers_are_shared_only_if_agreed(desk_open):
    tracker = make_tracker(text="Mitarbeiter bitte", intent="ask_human", slots={"vorname": "Erika"}, active_loop=FORM)
    dispatcher, _ = run(ActionHumanAnswer(), tracker)
    assert "Ich warte höchstens 5 Minuten" in texts(dispatcher)
    assert payloads(dispatcher) == [
        '/handoff_accept{"share_data": "ja"}',
        '/handoff_accept{"share_data": "nein"}',
        "/handoff_decline",
    ]


def test_outside_office_hours_says_so(desk_open, monkeypatch):
    other_day = DAYS[(dt.datetime.now(BERLIN).weekday() + 3) % 7]
    monkeypatch.setenv("HANDOFF_OFFICE_HOURS", f"{other_day} 08:00-09:00")  # not staffed today
    dispatcher, _ = run(ActionHumanAnswer(), make_tracker(text="Mensch bitte", intent="ask_human"))
    assert "niemand von den Mitarbeitenden im Chat erreichbar" in texts(dispatcher)
    assert "/request_callback" in payloads(dispatcher)


def test_staff_messages_only_while_a_person_writes():
    entities = [{"entity": "staff_text", "value": "Guten Tag!"}]
    shown, _ = run(
        ActionStaffMessage(),
        make_tracker(text="", intent="EXTERNAL_staff_message", slots={"handoff": "active"}, entities=entities),
    )
    assert texts(shown) == "Mitarbeiterin/Mitarbeiter: Guten Tag!"
    hidden, _ = run(ActionStaffMessage(), make_tracker(text="", intent="EXTERNAL_staff_message", entities=entities))
    assert texts(hidden) == ""


def test_hand_back_resumes_the_paused_form():
    tracker = make_tracker(
        text="",
        intent="EXTERNAL_handoff_end",
        slots={"handoff": "active", "handoff_case": "H-1", "handoff_return": f"form:{FORM}"},
    )
    dispatcher, events = run(ActionHandoffEnd(), tracker)
    assert "wieder mit dem Assistenten" in texts(dispatcher) and "beim Formular weiter" in texts(dispatcher)
    assert slot_events(events) == {"handoff": None, "handoff_case": None, "handoff_return": None}
    assert FollowupAction(FORM) in events
    assert "geholfen" not in texts(dispatcher)  # the form goes on; feedback comes at submission


def test_hand_back_without_a_form_asks_for_feedback_once():
    slots = {"handoff": "active", "handoff_case": "H-1", "handoff_return": None}
    dispatcher, events = run(ActionHandoffEnd(), make_tracker(text="", intent="EXTERNAL_handoff_end", slots=slots))
    assert "wieder mit dem Assistenten" in texts(dispatcher) and "Hat Ihnen dieser Chat geholfen?" in texts(dispatcher)
    assert slot_events(events)["feedback_asked"] is True
    asked = {**slots, "feedback_asked": True}
    again, _ = run(ActionHandoffEnd(), make_tracker(text="", intent="EXTERNAL_handoff_end", slots=asked))
    assert "geholfen" not in texts(again)


def test_timeout_keeps_what_the_citizen_typed_for_the_call_back():
    entities = [{"entity": "staff_text", "value": "Frage zur Hundesteuer"}]
    tracker = make_tracker(text="", intent="EXTERNAL_handoff_timeout", slots={"handoff": "waiting"}, entities=entities)
    dispatcher, events = run(ActionHandoffTimeout(), tracker)
    assert "niemand frei" in texts(dispatcher) and "115" in texts(dispatcher)
    assert slot_events(events)["callback_topic"] == "Frage zur Hundesteuer"
    late, _ = run(
        ActionHandoffTimeout(), make_tracker(text="", intent="EXTERNAL_handoff_timeout", slots={"handoff": "active"})
    )
    assert texts(late) == ""  # a person took it meanwhile: no timeout message


def test_call_back_form_reads_names_and_phone_or_email():
    form, dispatcher, tracker = ValidateCallbackForm(), CollectingDispatcher(), make_tracker(text="", intent="inform")
    assert form.validate_callback_name("Erika Mustermann", dispatcher, tracker, {}) == {
        "callback_name": "Erika Mustermann"
    }
    assert form.validate_callback_name("Erika", dispatcher, tracker, {}) == {"callback_name": None}
    assert form.validate_callback_contact("erika@example.org", dispatcher, tracker, {})["callback_contact"]
    assert form.validate_callback_contact("089 233-0", dispatcher, tracker, {})["callback_contact"]
    assert form.validate_callback_contact("morgen", dispatcher, tracker, {}) == {"callback_contact": None}
    assert "Vor- und Familienname" in texts(dispatcher)


def test_call_back_is_an_application_in_the_portal_backend_only_with_consent(monkeypatch, tmp_path):
    """The real portal backend (in this process, SQLite) and the real outbox: the request gets
    the backend's case number, the authority reads it with its token, the desk gets a notice
    without personal data, and "Gespräch löschen" unlinks it like an application."""
    from aiohttp import ClientSession, web
    from support.portal_auth import AUTHORITY

    from buergerassistent import privacy
    from buergerassistent.submission.outbox import Outbox
    from portal_backend.app import create_app

    url = f"sqlite:///{tmp_path / 'handoff.db'}"
    monkeypatch.setenv("HANDOFF_DATABASE_URL", url)
    monkeypatch.setenv("OUTBOX_DATABASE_URL", f"sqlite:///{tmp_path / 'outbox.db'}")
    monkeypatch.setenv("BA_VAR_DIR", str(tmp_path))
    slots = {"callback_name": "Erika Mustermann", "callback_contact": "089 233-0", "callback_topic": "Frage"}

    async def scenario():
        runner = web.AppRunner(create_app(f"sqlite:///{tmp_path / 'portal.db'}"))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        monkeypatch.setenv("PORTAL_BACKEND_URL", f"http://127.0.0.1:{port}")
        try:
            refused = CollectingDispatcher()
            await ActionSubmitCallback().run(
                refused, make_tracker(text="Nein", intent="deny", slots={**slots, "callback_consent": "nein"}), {}
            )
            saved = CollectingDispatcher()
            tracker = make_tracker(
                text="Ja",
                intent="affirm",
                slots={**slots, "callback_consent": "ja", "procedure": "meldebescheinigung"},
            )
            events = await ActionSubmitCallback().run(saved, tracker, {})
            number = texts(saved).split("Ihr Aktenzeichen ist ")[1].split(".")[0]
            async with ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/api/v1/applications/{number}", headers=AUTHORITY) as r:
                    application = (r.status, await r.json())
            return refused, saved, events, number, tracker.sender_id, application
        finally:
            await runner.cleanup()

    refused, saved, events, number, sender, (status, application) = asyncio.run(scenario())
    assert "nichts gespeichert" in texts(refused)
    assert number.startswith("BA-") and status == 200
    assert application["procedure"] == "rueckrufbitte"
    assert application["data"] == {
        "callback_name": "Erika Mustermann",
        "callback_contact": "089 233-0",
        "callback_topic": "Frage",
        "callback_consent": "ja",
        "callback_procedure": "Meldebescheinigung",
    }
    assert slot_events(events)["callback_name"] is None
    [notice] = HandoffStore(url).callback_notices()
    assert (notice.case_number, notice.conversation_id, notice.procedure) == (number, sender, "Meldebescheinigung")
    [entry] = Outbox.default().all()
    assert entry.state == "delivered" and entry.case_number == number and entry.procedure == "rueckrufbitte"
    privacy.forget_conversation(sender)
    assert HandoffStore(url).callback_notices()[0].conversation_id is None
    assert Outbox.default().for_conversation(sender) == []


def test_the_call_back_form_asks_the_fields_declared_as_data():
    import yaml

    from buergerassistent.handoff import callback
    from buergerassistent.handoff.store import default_store  # noqa: F401 (the module the action uses)

    domain = yaml.safe_load(open("bot/domain/handoff.yml", encoding="utf-8"))
    assert tuple(domain["forms"]["callback_form"]["required_slots"]) == callback.ASKED
    assert [f.name for f in callback.procedure().fields if f.required] == list(callback.ASKED)


def test_no_thanks_after_nobody_was_free_resumes_the_paused_form():
    from actions.handoff import ActionHandoffDecline

    tracker = make_tracker(text="/handoff_decline", intent="handoff_decline", slots={"handoff_return": f"form:{FORM}"})
    dispatcher, events = run(ActionHandoffDecline(), tracker)
    assert "machen wir hier weiter" in texts(dispatcher) and FollowupAction(FORM) in events
    inside, events = run(ActionHandoffDecline(), make_tracker(text="x", intent="handoff_decline", active_loop=FORM))
    assert events == []  # inside a form, the form's own rule asks again


def test_invalid_office_hours_mean_no_handoff_not_a_crash(desk_open, monkeypatch):
    monkeypatch.setenv("HANDOFF_OFFICE_HOURS", "Xy 08:00-09:00")
    dispatcher, _ = run(ActionHumanAnswer(), make_tracker(text="Mensch bitte", intent="ask_human"))
    assert "nicht an eine Person weiterleiten" in texts(dispatcher) and "115" in texts(dispatcher)


def _answer_field(form_class, form, slot, text, failures, intent="inform"):
    from actions.forms import FAILURES_SLOT

    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        text=text,
        intent=intent,
        slots={FAILURES_SLOT: failures, slot: text, "requested_slot": slot},
        active_loop=form,
        events=[{"event": "slot", "name": slot, "value": text}],
    )
    events = asyncio.run(form_class().run(dispatcher, tracker, {}))
    return dispatcher, slot_events(events).get(FAILURES_SLOT)


@pytest.mark.parametrize("open_desk", [True, False])
def test_a_field_that_failed_three_times_offers_a_person_and_later_answers_are_not_silent(monkeypatch, open_desk):
    """Issue 19: "a form field failed three times" → the handoff is offered (never forced), with
    what happens next and how long it may take; after that, "ja" and further wrong answers each
    get a message (before, they only re-asked the field without a word)."""
    from actions.forms import ValidateBewohnerparkausweisForm

    if open_desk:
        monkeypatch.setenv("STAFF_DESK_URL", "http://127.0.0.1:9")
        monkeypatch.setenv("HANDOFF_OFFICE_HOURS", "Mo-So 00:00-23:59")
        monkeypatch.setenv("HANDOFF_HOLIDAY_REGION", "keine")
        monkeypatch.setenv("HANDOFF_QUEUE_TIMEOUT_S", "300")
    else:
        monkeypatch.delenv("STAFF_DESK_URL", raising=False)
    form, slot, failures = "bewohnerparkausweis_form", "kennzeichen", None
    for _ in range(3):
        dispatcher, failures = _answer_field(
            ValidateBewohnerparkausweisForm, form, slot, "weiß nicht genau 12", failures
        )
    third = dispatcher.messages[-1]
    assert "Kurz erklärt" in third["text"] and "noch einmal versuchen" in third["text"]
    assert "/ask_human" in {b["payload"] for b in third["buttons"]}
    if open_desk:
        assert "höchstens 5 Minuten" in third["text"] and "Ich frage Sie vorher" in third["text"]
    else:
        assert "115" in third["text"] and "Rückruf" in third["text"]

    again, failures = _answer_field(ValidateBewohnerparkausweisForm, form, slot, "Ja", failures, intent="affirm")
    assert texts(again) == "Gut, versuchen wir es noch einmal. Zum Beispiel: M-AB 1234."
    assert failures == {slot: 3}

    wrong, failures = _answer_field(ValidateBewohnerparkausweisForm, form, slot, "Ja, irgendwas", failures, "affirm")
    assert texts(wrong) and "M-AB 1234" in texts(wrong)
    assert [b["payload"] for m in wrong.messages for b in m.get("buttons") or []] == ["/ask_human"]
    assert failures == {slot: 4}

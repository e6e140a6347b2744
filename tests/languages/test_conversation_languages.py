"""The conversation around the forms in English and Leichte Sprache (issue 20): handoff to staff
(offer, waiting, hand back, time-out, call-back), drafts, withdrawal, changes after the summary,
cancelling, the second misunderstanding and the explanation after failed answers. The actions
run directly (without Rasa); every message an English citizen gets is checked against the German
message catalogue and with the language detector (``support/german_text.py``), so a German text
that comes back in one of these paths fails here. Over REST: ``tests/e2e/test_languages.py``."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from rasa_sdk.executor import CollectingDispatcher
from support.german_text import catalogue_german, german_in
from support.trackers import make_tracker, slot_events, texts

from actions import submission_actions
from actions.conversation import ActionHumanAnswer, ActionOtherLanguage
from actions.dialogue import ActionCancelApplication, ActionChangeField, ActionHandleDeny
from actions.drafts import ActionResumeDraft, ActionSaveDraft, ActionSessionStart
from actions.fallbacks import ActionFallback
from actions.forms import CatalogueFormValidation
from actions.handoff import (
    ActionCallbackStart,
    ActionCancelCallback,
    ActionHandoffCancel,
    ActionHandoffDecline,
    ActionHandoffEnd,
    ActionHandoffTaken,
    ActionHandoffTimeout,
    ActionStaffMessage,
    ActionSubmitCallback,
    ValidateCallbackForm,
)
from actions.submission_actions import ActionWithdrawApplication
from buergerassistent import drafts, form_texts, handoff, translations
from buergerassistent.catalogue import default_catalogue
from buergerassistent.handoff import texts as handoff_texts
from buergerassistent.handoff.office_hours import BERLIN, DAYS, parse
from content import plain_language

FORM = "meldebescheinigung_form"
EN = {"language": "en", "language_source": "explicit"}
LS = {"language": "ls", "language_source": "explicit"}


def run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher, events


def assert_english(dispatcher) -> str:
    found = german_in(dispatcher.messages)
    assert not found, f"German in an English conversation: {found}\n{texts(dispatcher)}"
    assert texts(dispatcher).strip()
    return texts(dispatcher)


def assert_plain(dispatcher, *keys: str) -> str:
    """Leichte Sprache: the plain texts of ``keys`` are said, and the fixed sentences keep the rules."""
    said = texts(dispatcher)
    for key in keys:
        first = translations.message("ls", key).split("{")[0]
        assert first in said, (key, said)
    return said


@pytest.fixture
def no_desk(monkeypatch):
    monkeypatch.delenv("STAFF_DESK_URL", raising=False)


@pytest.fixture
def desk_open(monkeypatch):
    monkeypatch.setenv("STAFF_DESK_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("HANDOFF_OFFICE_HOURS", "Mo-So 00:00-23:59")
    monkeypatch.setenv("HANDOFF_HOLIDAY_REGION", "keine")


def test_the_german_check_would_catch_a_german_text():
    # The check itself: the German sentences it guards against are found, the English are not.
    german = translations.message("de", "handoff_unavailable")
    assert catalogue_german(german)
    assert german_in([{"text": german}]) and german_in([{"text": "x", "buttons": [{"title": "Nein, danke"}]}])
    assert not german_in([{"text": translations.message("en", "handoff_unavailable")}])


# ------------------------------------------------------------------------------------- handoff


def test_english_offer_without_a_desk_names_115_office_and_call_back(no_desk):
    tracker = make_tracker(
        text="I want to talk to a person", intent="ask_human", slots={**EN, "procedure": "meldebescheinigung"}
    )
    dispatcher, _ = run(ActionHumanAnswer(), tracker)
    said = assert_english(dispatcher)
    assert translations.message("en", "handoff_unavailable") in said and "115" in said
    assert translations.english("meldebescheinigung").name in said  # the office, with the English name
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == ["Ask for a call-back", "No, thank you"]


def test_english_offer_in_office_hours_with_the_form_answers(desk_open):
    tracker = make_tracker(text="human please", intent="ask_human", slots={**EN, "vorname": "Erika"}, active_loop=FORM)
    dispatcher, _ = run(ActionHumanAnswer(), tracker)
    said = assert_english(dispatcher)
    assert "I wait at most 5 minutes" in said
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == [
        '/handoff_accept{"share_data": "ja"}',
        '/handoff_accept{"share_data": "nein"}',
        "/handoff_decline",
    ]


def test_english_outside_office_hours_in_english_words(desk_open, monkeypatch):
    other_day = DAYS[(dt.datetime.now(BERLIN).weekday() + 3) % 7]
    monkeypatch.setenv("HANDOFF_OFFICE_HOURS", f"{other_day} 08:00-09:00")
    dispatcher, _ = run(ActionHumanAnswer(), make_tracker(text="a person", intent="ask_human", slots=EN))
    said = assert_english(dispatcher)
    assert "08:00–09:00" in said and "not on public holidays" in said, said


def test_office_hours_and_holidays_in_each_language():
    hours = parse("Mo-Do 08:00-12:00, 13:00-16:00; Fr 08:00-12:00", "BY")
    assert hours.describe("en") == (
        "Monday to Thursday 08:00–12:00 and 13:00–16:00, Friday 08:00–12:00, not on public holidays"
    )
    assert hours.describe() == (
        "Montag bis Donnerstag 08:00–12:00 Uhr und 13:00–16:00 Uhr, Freitag 08:00–12:00 Uhr, nicht an Feiertagen"
    )
    christmas = dt.datetime(2026, 12, 25, 10, tzinfo=BERLIN)
    text, _ = handoff_texts.closed(hours, None, now=christmas, lang="en")
    assert "public holiday (Christmas Day)" in text and "on Monday, 28 December from 08:00" in text, text
    assert not german_in([{"text": text}])
    plain, _ = handoff_texts.closed(hours, None, now=christmas, lang="ls")
    assert (
        "Heute ist ein Feiertag" in plain
        and plain_language.problems(translations.message("ls", "handoff_closed")) == []
    )


@pytest.mark.parametrize(
    "action, slots, entities",
    [
        (ActionHandoffTaken(), {handoff.SLOT: handoff.WAITING}, []),
        (ActionStaffMessage(), {handoff.SLOT: handoff.ACTIVE}, [{"entity": "staff_text", "value": "Hello!"}]),
        (ActionHandoffEnd(), {handoff.SLOT: handoff.ACTIVE, handoff.RETURN_SLOT: f"form:{FORM}"}, []),
        (ActionHandoffTimeout(), {handoff.SLOT: handoff.WAITING}, [{"entity": "staff_text", "value": "my passport"}]),
        (ActionHandoffCancel(), {handoff.SLOT: handoff.WAITING, handoff.RETURN_SLOT: f"form:{FORM}"}, []),
        (ActionHandoffDecline(), {}, []),
        (ActionCallbackStart(), {}, []),
        (ActionCancelCallback(), {}, []),
        (ActionSubmitCallback(), {"callback_consent": "nein"}, []),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, (dict, list)) else "",
)
def test_every_step_of_the_handoff_is_english(action, slots, entities, no_desk):
    tracker = make_tracker(text="…", intent="handoff_message", slots={**EN, **slots}, entities=entities)
    dispatcher, _ = run(action, tracker)
    assert_english(dispatcher)


def test_staff_message_and_waiting_in_english():
    entities = [{"entity": "staff_text", "value": "Guten Tag!"}]  # staff write what they write
    tracker = make_tracker(slots={**EN, handoff.SLOT: handoff.ACTIVE}, entities=entities)
    dispatcher, _ = run(ActionStaffMessage(), tracker)
    assert texts(dispatcher) == "Member of staff: Guten Tag!"
    started = handoff_texts.started("C-1", 300, "en")
    assert "“Stop waiting”" in started and handoff.leaves_queue("Stop waiting")
    assert handoff_texts.leave_button("en") == {"title": "Stop waiting", "payload": "Stop waiting"}


def test_call_back_form_errors_in_english():
    validator = ValidateCallbackForm()
    tracker = make_tracker(slots=EN)
    for slot, value in (("callback_name", "Erika"), ("callback_contact", "12"), ("callback_consent", "maybe")):
        dispatcher = CollectingDispatcher()
        result = getattr(validator, f"validate_{slot}")(value, dispatcher, tracker, {})
        assert result == {slot: None}
        assert_english(dispatcher)
    dispatcher = CollectingDispatcher()
    assert validator.validate_callback_consent("yes", dispatcher, tracker, {}) == {"callback_consent": "ja"}


def test_handoff_in_leichte_sprache(no_desk):
    tracker = make_tracker(text="Mensch", intent="ask_human", slots=LS)
    dispatcher, _ = run(ActionHumanAnswer(), tracker)
    assert_plain(dispatcher, "handoff_unavailable", "handoff_hotline", "handoff_callback_possible")


# ---------------------------------------------------------------- the explanation, fallbacks


def test_explanation_after_failed_answers_offers_a_person_in_english(no_desk):
    proc = default_catalogue()["meldebescheinigung"]
    field = proc.field("geburtsdatum")
    dispatcher = CollectingDispatcher()
    result = form_texts.check(proc, field, "soon", "en")
    CatalogueFormValidation._explain(dispatcher, proc, field, form_texts.error(proc, field, result, "en"), "en")
    said = assert_english(dispatcher)
    assert translations.message("en", "handoff_field_offer_unavailable").split("“")[0] in said, said
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == [
        "Continue later",
        "Cancel",
        "Write with a person",
    ]


def _after(*bot_texts: str) -> list[dict]:
    events = []
    for text in bot_texts:
        events += [{"event": "user", "text": "hm"}, {"event": "bot", "text": text}]
    return [*events, {"event": "user", "text": "qwertz"}]


def test_second_misunderstanding_in_english_offers_topics_and_a_person(no_desk):
    not_found = translations.message("en", "not_found")
    tracker = make_tracker(text="qwertz uiop", intent="other_language", slots=EN, events=_after(not_found))
    dispatcher, _ = run(ActionOtherLanguage(), tracker)
    said = assert_english(dispatcher)
    assert dispatcher.messages[0]["text"] == translations.message("en", "fallback_again_1")
    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert translations.english("wohnsitz_anmelden").name in titles and "Write with a person" in titles
    assert "115" in said
    # The German NLU's fallback in an English conversation: the same English answer.
    dispatcher, _ = run(
        ActionFallback(), make_tracker(text="xyz", intent="nlu_fallback", slots=EN, events=_after(not_found))
    )
    assert assert_english(dispatcher).startswith(translations.message("en", "fallback_again_1"))


# ------------------------------------------------------------------------------------ drafts


@pytest.fixture
def draft_db(tmp_path, monkeypatch):
    monkeypatch.setenv("BA_DRAFTS_DATABASE_URL", f"sqlite:///{tmp_path / 'drafts.db'}")
    monkeypatch.setenv("BA_IDENTITY_DATABASE_URL", f"sqlite:///{tmp_path / 'identity.db'}")
    drafts.default_store.cache_clear()
    yield
    drafts.default_store.cache_clear()


def test_draft_saved_offered_and_resumed_in_english(draft_db):
    sender = "lang-draft-en"
    tracker = make_tracker(text="continue later", slots={**EN, "vorname": "Erika"}, active_loop=FORM, sender_id=sender)
    dispatcher, _ = run(ActionSaveDraft(), tracker)
    assert "Certificate of registration" in assert_english(dispatcher)
    # A new session: its slots are empty, the draft remembers the language.
    dispatcher, events = run(ActionSessionStart(), make_tracker(sender_id=sender))
    assert "1 of 8 questions answered" in assert_english(dispatcher)
    assert slot_events(events)["language"] == "en"
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == ["Yes, continue", "No"]
    dispatcher, events = run(ActionResumeDraft(), make_tracker(text="yes", slots=EN, sender_id=sender))
    assert_english(dispatcher)
    assert slot_events(events)["vorname"] == "Erika"
    dispatcher, _ = run(ActionResumeDraft(), make_tracker(text="yes", slots=EN, sender_id=sender))
    assert texts(dispatcher) == translations.message("en", "draft_not_found")


def test_german_draft_stays_german(draft_db):
    sender = "lang-draft-de"
    run(ActionSaveDraft(), make_tracker(slots={"vorname": "Erika"}, active_loop=FORM, sender_id=sender))
    dispatcher, events = run(ActionSessionStart(), make_tracker(sender_id=sender))
    assert "Möchten Sie dort weitermachen?" in texts(dispatcher) and "language" not in slot_events(events)


def test_draft_in_leichte_sprache(draft_db):
    tracker = make_tracker(slots={**LS, "vorname": "Erika"}, active_loop=FORM, sender_id="lang-draft-ls")
    dispatcher, _ = run(ActionSaveDraft(), tracker)
    assert_plain(dispatcher, "draft_saved")


# --------------------------------------------------------------------- changes, cancel, withdrawal


def test_change_and_cancel_outside_a_form_in_english(draft_db):
    slots = {**EN, "procedure": "meldebescheinigung", "awaiting": None}
    dispatcher, _ = run(ActionChangeField(), make_tracker(slots=slots, entities=[{"entity": "field", "value": "x"}]))
    assert assert_english(dispatcher) == translations.message("en", "change_not_possible")
    dispatcher, _ = run(ActionCancelApplication(), make_tracker(text="cancel", slots=slots, active_loop=FORM))
    name = form_texts.procedure_name(default_catalogue()["meldebescheinigung"], "en")
    assert f"I have cancelled the application “{name}”" in assert_english(dispatcher)


def test_change_after_the_summary_in_english(draft_db):
    slots = {**EN, "procedure": "meldebescheinigung", "awaiting": "confirm_summary", "plz": "80331"}
    dispatcher, _ = run(ActionHandleDeny(), make_tracker(text="no", intent="deny", slots=slots))
    assert assert_english(dispatcher) == translations.message("en", "form_which_field")
    assert "Postcode" in [b["title"] for b in dispatcher.messages[0]["buttons"]]
    entities = [{"entity": "field", "value": "plz"}]
    _, events = run(ActionChangeField(), make_tracker(intent="change_field", slots=slots, entities=entities))
    assert slot_events(events)["requested_slot"] == "plz"


def test_withdrawal_without_an_application_in_english_and_leichte_sprache(tmp_path, monkeypatch):
    monkeypatch.setenv("OUTBOX_DATABASE_URL", f"sqlite:///{tmp_path / 'outbox.db'}")
    dispatcher, _ = run(ActionWithdrawApplication(), make_tracker(text="withdraw my application", slots=EN))
    assert assert_english(dispatcher) == translations.message("en", "withdraw_none")
    dispatcher, _ = run(ActionWithdrawApplication(), make_tracker(text="zurückziehen", slots=LS))
    assert texts(dispatcher) == translations.message("ls", "withdraw_none")
    assert submission_actions.outbox() is not None

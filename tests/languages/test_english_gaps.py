"""Gaps of issue 20 closed for English and Leichte Sprache: help and the first out-of-scope
answer in English, a change in words after the summary, "continue my application", one English
service name deciding, the Matrix connector's hints and notices, and the Leichte-Sprache help
and why texts of the form fields. Actions run directly (no Rasa); every English message is
checked against the German texts (``support/german_text.py``). Over REST with the trained
model: ``tests/e2e/test_languages.py``."""

from __future__ import annotations

import asyncio
import shutil
import types
from pathlib import Path

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher
from support.german_text import german_in
from support.trackers import make_tracker, slot_events, texts

from actions.context import ActionOfferDraft
from actions.dialogue import ActionChangeField
from actions.drafts import ActionSaveDraft
from actions.fallbacks import say_fallback
from actions.questions import ActionExplainField
from buergerassistent import drafts, fallback, form_questions, form_texts, language_state, translations
from buergerassistent.catalogue import default_catalogue
from buergerassistent.messenger_format import Option
from buergerassistent.procedure_finder import ANSWER, decide_english
from content import plain_language
from content.languages import check_form_texts
from matrix_connector import texts as matrix_texts
from matrix_connector.connector import MatrixConnector
from matrix_connector.reactions import keycap, reaction_hint
from rasa_runtime.intent_guard import apply_language

from .test_conversation_languages import assert_english, run

EN = {"language": "en", "language_source": "explicit"}
LS = {"language": "ls", "language_source": "explicit"}
PROC = default_catalogue()["meldebescheinigung"]
FILLED = {
    "vorname": "Erika",
    "nachname": "Mustermann",
    "geburtsdatum": "1964-08-12",
    "strasse": "Hauptstraße 5",
    "plz": "80331",
    "ort": "München",
    "art_meldebescheinigung": "einfach",
    "email": "erika@example.org",
}
CORE = Path(__file__).resolve().parents[2] / "bot" / "domain" / "core.yml"


@pytest.fixture
def draft_db(tmp_path, monkeypatch):
    monkeypatch.setenv("BA_DRAFTS_DATABASE_URL", f"sqlite:///{tmp_path / 'drafts.db'}")
    monkeypatch.setenv("BA_IDENTITY_DATABASE_URL", f"sqlite:///{tmp_path / 'identity.db'}")
    drafts.default_store.cache_clear()
    yield
    drafts.default_store.cache_clear()


# ------------------------------------------------------------------ help and out of scope


def _variants(response: str) -> dict[str, str]:
    domain = yaml.safe_load(CORE.read_text(encoding="utf-8"))
    out = {}
    for variant in domain["responses"][response]:
        condition = variant.get("condition") or [{}]
        out[condition[0].get("value", "de")] = variant["text"]
    return out


def test_help_and_out_of_scope_have_english_variants_that_the_fallback_count_knows():
    helps, scope = _variants("utter_help"), _variants("utter_out_of_scope")
    assert helps["en"].startswith(fallback.HELP_START_EN) and fallback.is_help_text(helps["en"])
    assert scope["en"].startswith(fallback.OUT_OF_SCOPE_START_EN) and fallback.is_fallback_text(scope["en"])
    for text in (helps["en"], scope["en"]):
        assert not german_in([{"text": text}]), text
        assert "115" in text  # the same way on as the German text
    assert helps["de"].startswith(fallback.HELP_START)


@pytest.mark.parametrize("kind, response", [("help", "utter_help"), ("out_of_scope", "utter_out_of_scope")])
def test_first_help_and_out_of_scope_in_english_are_the_english_responses(kind, response):
    dispatcher = CollectingDispatcher()
    say_fallback(dispatcher, make_tracker(text="what's the weather", slots=EN), kind, first_response=response)
    # Rasa picks the response's English variant by the slot (not the German "not found" text).
    assert dispatcher.messages[0]["response"] == response
    dispatcher = CollectingDispatcher()
    say_fallback(dispatcher, make_tracker(text="blah", slots=EN), "not_understood", first_response="utter_default")
    assert texts(dispatcher) == translations.message("en", "not_found")


def test_english_help_words_and_resume_are_read_in_an_english_conversation():
    english = language_state.State(language_state.ENGLISH, language_state.DETECTED)
    for text, intent in [
        ("help", "help"),
        ("What can you do?", "help"),
        ("continue my application", "resume_draft"),
        ("I want to continue my saved application", "resume_draft"),
        ("resume my draft please", "resume_draft"),
    ]:
        parse = {"text": text, "intent": {"name": "greet", "confidence": 0.5}}
        apply_language(parse, english)
        assert parse["intent"]["name"] == intent, (text, parse)
    parse = {"text": "I need a birth certificate", "intent": {"name": "greet", "confidence": 0.5}}
    apply_language(parse, english)
    assert parse["intent"]["name"] != "resume_draft"


# ------------------------------------------------------------------ continue my application


def test_continue_my_application_offers_the_draft_in_english(draft_db):
    sender = "gap-draft-en"
    # Saved in a German conversation; asked for in English: offered in English.
    run(
        ActionSaveDraft(),
        make_tracker(slots={"vorname": "Erika"}, active_loop="meldebescheinigung_form", sender_id=sender),
    )
    dispatcher, events = run(
        ActionOfferDraft(), make_tracker(text="continue my application", slots=EN, sender_id=sender)
    )
    said = assert_english(dispatcher)
    assert "Certificate of registration" in said and "1 of 8 questions answered" in said
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == ["Yes, continue", "No"]
    assert slot_events(events)["awaiting"] == "resume_draft"


def test_continue_without_a_draft_says_so_in_english_and_in_german(draft_db):
    dispatcher, _ = run(ActionOfferDraft(), make_tracker(text="continue my application", slots=EN, sender_id="none-en"))
    assert assert_english(dispatcher) == translations.message("en", "draft_none")
    dispatcher, _ = run(ActionOfferDraft(), make_tracker(text="weitermachen", sender_id="none-de"))
    assert texts(dispatcher).startswith("Ich finde keinen gespeicherten Antrag.")


# ------------------------------------------------------------------ change in words after the summary


@pytest.mark.parametrize(
    "text, name, value",
    [
        ("no, the postcode is 80333", "plz", "80333"),
        ("change my date of birth to 12 August 1964", "geburtsdatum", "1964-08-12"),
        ("the first name should be Erika-Maria", "vorname", "Erika-Maria"),
        ("my street is Marienplatz 8", "strasse", "Marienplatz 8"),
        ("change the type to extended", "art_meldebescheinigung", "erweitert"),
    ],
)
def test_change_after_the_summary_in_english_words(text, name, value):
    slots = {**EN, **FILLED, "procedure": "meldebescheinigung", "awaiting": "confirm_summary"}
    if name == "geburtsdatum":
        slots["geburtsdatum"] = "1964-12-08"
    tracker = make_tracker(text=text, intent="change_field", slots=slots)
    dispatcher, events = run(ActionChangeField(), tracker)
    assert slot_events(events)[name] == value, (texts(dispatcher), events)
    assert "I have changed" in assert_english(dispatcher) or "changed" in texts(dispatcher).lower()


def test_change_request_without_a_value_reopens_that_field_in_english():
    slots = {**EN, **FILLED, "procedure": "meldebescheinigung", "awaiting": "confirm_summary"}
    _, events = run(
        ActionChangeField(), make_tracker(text="please correct the street", intent="change_field", slots=slots)
    )
    assert slot_events(events).get("requested_slot") == "strasse", events


def test_the_guard_reads_an_english_change_at_the_summary():
    english = language_state.State(language_state.ENGLISH, language_state.EXPLICIT)
    filled = dict(FILLED)

    def corrects(text: str) -> bool:
        from buergerassistent import repair

        with form_texts.input_language("en"):
            return repair.reads_as_correction(
                form_texts.for_reading(PROC, "en"), form_texts.change_in_german(text, "en"), filled
            )

    parse = {"text": "no, the postcode is 80333", "intent": {"name": "deny", "confidence": 0.7}}
    apply_language(parse, english, awaiting="confirm_summary", corrects_answer=corrects)
    assert parse["intent"]["name"] == "change_field"
    parse = {"text": "no", "intent": {"name": "deny", "confidence": 0.9}}
    apply_language(parse, english, awaiting="confirm_summary", corrects_answer=corrects)
    assert parse["intent"]["name"] == "deny"
    # German words stay German: the reader's own cue words are untouched.
    assert form_texts.change_in_german("die Postleitzahl ist 80333", "de") == "die Postleitzahl ist 80333"


# ------------------------------------------------------------------ one English name decides


@pytest.mark.parametrize(
    "text, proc_id",
    [
        ("certificate of registration", "meldebescheinigung"),
        ("I need a certificate of registration", "meldebescheinigung"),
        ("registration certificate", "meldebescheinigung"),
    ],
)
def test_a_single_english_service_name_decides(text, proc_id):
    decision = decide_english(text)
    assert decision.decision == ANSWER and decision.candidates[0].id == proc_id, decision


def test_a_name_that_fits_a_lower_candidate_does_not_decide():
    # "registration certificate" names the Meldebescheinigung, but the car comes first: no override.
    decision = decide_english("I need a registration certificate for my car")
    assert decision.candidates[0].id != "meldebescheinigung"


# ------------------------------------------------------------------ Matrix connector


YES_NO = [Option(1, "Yes", "/affirm"), Option(2, "No", "/deny")]
THREE = [Option(1, "A", "a"), Option(2, "B", "b"), Option(3, "C", "c")]


def test_matrix_hints_and_notices_in_english():
    hint = reaction_hint(YES_NO, "en")
    assert hint.startswith("Answer with the number or the text.") and "👍 (Yes)" in hint and "👎 (No)" in hint
    assert f"{keycap(1)} to {keycap(3)}" in reaction_hint(THREE, "en")
    assert reaction_hint(THREE).startswith("Antworten Sie mit der Nummer")  # German stays the default
    for name in ("UNDECRYPTABLE", "NOT_TEXT", "UNAVAILABLE", "RECEIPT_FAILED", "REACTION_OLD", "REACTION_UNKNOWN"):
        english = matrix_texts.say(name, "en")
        assert english != getattr(matrix_texts, name) and not german_in([{"text": english}]), name
        assert matrix_texts.say(name) == getattr(matrix_texts, name)


def test_matrix_room_language_follows_the_assistant_answers():
    connector = types.SimpleNamespace(_language={})
    language = MatrixConnector.room_language
    assert language(connector, "!r") == "de"
    assert language(connector, "!r", [{"text": "Hello", "lang": "en"}, {"text": "…"}]) == "en"
    assert language(connector, "!r", [{"text": "no lang"}]) == "en"  # remembered
    assert language(connector, "!r", [{"text": "Hallo", "lang": "de"}]) == "de"


def test_matrix_channel_passes_the_language_on():
    from rasa_runtime.channels.matrix.channel import MatrixCollector

    collector = MatrixCollector()
    asyncio.run(collector.send_response("mx-1", {"text": "Hello", "lang": "en"}))
    asyncio.run(collector.send_response("mx-1", {"text": "Step 1", "metadata": {"lang": "en"}}))
    asyncio.run(collector.send_response("mx-1", {"text": "Hallo"}))
    assert [m.get("lang") for m in collector.messages] == ["en", "en", None]


# ------------------------------------------------------------------ Leichte Sprache help and why


def test_every_field_help_and_why_has_a_plain_text_that_keeps_the_rules():
    count = 0
    for proc in default_catalogue().with_forms():
        for f in proc.fields:
            plain = form_texts.field_text(proc, f, "ls")
            for key in ("help", "why"):
                german = getattr(f, key)
                if german:
                    count += 1
                    assert getattr(plain, key) != german, (proc.id, f.name, key)
                    assert plain_language.problems(getattr(plain, key)) == [], (proc.id, f.name, key)
    assert count > 100
    # German and English are untouched.
    f = PROC.field("art_meldebescheinigung")
    assert form_texts.field_text(PROC, f, "de").help == f.help


def test_plain_why_is_what_a_leichte_sprache_citizen_hears():
    f = PROC.field("art_meldebescheinigung")
    said = form_questions.explain_why(PROC, form_texts.in_language(PROC, f, "ls"))
    assert translations.plain_help(f.why) in said and f.why not in said
    slots = {**LS, "procedure": "meldebescheinigung", "requested_slot": "art_meldebescheinigung"}
    tracker = make_tracker(text="wozu?", intent="ask_why_field", slots=slots, active_loop="meldebescheinigung_form")
    dispatcher, _ = run(ActionExplainField(), tracker)
    # "wozu?" asks why: the plain why text, in plain sentences around it
    assert translations.plain_help(f.why) in texts(dispatcher)
    assert "Zu „" not in texts(dispatcher)


def test_the_lint_finds_a_missing_or_stale_plain_help(tmp_path):
    shutil.copytree(translations.TRANSLATIONS_DIR, tmp_path / "translations")
    shutil.copytree(translations.PLAIN_DIR, tmp_path / "plain")
    path = tmp_path / "plain" / translations.FIELD_HELP_FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    german = PROC.field("art_meldebescheinigung").why
    del data[german]
    data["Diesen Text sagt kein Feld."] = "Das ist ein Satz."
    data[PROC.field("plz").why if PROC.field("plz").why else next(iter(data))] = "Der Antrag wird z. B. geprüft."
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    problems = [m for _, m in check_form_texts(default_catalogue(), tmp_path / "translations", tmp_path / "plain")]
    assert any("Leichte Sprache fehlt für" in m and "art_meldebescheinigung.why" in m for m in problems), problems
    assert any("„Diesen Text sagt kein Feld.“ sagt kein Formularfeld" in m for m in problems), problems
    assert any("Abkürzung" in m for m in problems) and any("Passiv" in m for m in problems), problems
    assert [
        m for _, m in check_form_texts(default_catalogue(), translations.TRANSLATIONS_DIR, translations.PLAIN_DIR)
    ] == []


def test_an_off_topic_english_question_is_not_answered_with_the_focus():
    from buergerassistent import language_replies

    focus = PROC
    off = language_replies.reply("en", "explicit", "What is the weather tomorrow?", False, False, focus)
    assert off.texts == [translations.message("en", "not_found")] and off.procedure is None
    for follow_up in ("tell me more about it", "how much", "What do I need to bring?"):
        reply = language_replies.reply("en", "explicit", follow_up, False, False, focus)
        assert reply.procedure == "meldebescheinigung", (follow_up, reply.texts)

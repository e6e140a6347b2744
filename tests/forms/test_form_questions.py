"""Questions first: inside a form a question is answered and the same field asked again, for
every field type; nothing of the question is stored."""

from __future__ import annotations

import asyncio

import pytest

from actions.forms import FAILURES_SLOT, ValidateGewerbeAnmeldenForm, ValidateMeldebescheinigungForm
from buergerassistent import form_questions
from buergerassistent.catalogue import default_catalogue
from buergerassistent.repair import read_message
from tests.chat_actions.conftest import make_tracker, slot_events, texts

CATALOGUE = default_catalogue()
QUESTIONS = [
    "warum braucht ihr das?",
    "Wozu brauchen Sie das",
    "was ist das?",
    "was heißt das genau",
    "muss ich das angeben",
    "wie lange dauert das?",
    "so 2 bis 3?",
    "ja?",
    "was ist der Unterschied zwischen A und B?",
]
# Every field of every form: (procedure, field) — the question must win over any value match.
FIELDS = [(p.id, f.name) for p in CATALOGUE.with_forms() for f in p.fields]


@pytest.mark.parametrize("proc_id,field_name", FIELDS)
@pytest.mark.parametrize("question", QUESTIONS)
def test_a_question_is_never_stored_in_any_field(proc_id, field_name, question):
    proc = CATALOGUE[proc_id]
    r = read_message(proc, field_name, question, {})
    assert r.question and not r.values and not r.errors, (field_name, question, r)


@pytest.mark.parametrize(
    "proc_id,field_name,answer",
    [(p.id, f.name, f.example) for p in CATALOGUE.with_forms() for f in p.fields if f.example],
)
def test_the_fields_examples_are_no_questions(proc_id, field_name, answer):
    r = read_message(CATALOGUE[proc_id], field_name, answer, {})
    assert not r.question and field_name in r.values


def test_choice_difference_lists_the_choices_with_their_help():
    proc = CATALOGUE["meldebescheinigung"]
    field = proc.field("art_meldebescheinigung")
    text = "was ist der Unterschied zwischen einfach und erweitert?"
    assert read_message(proc, field.name, text, {}).question
    reply = form_questions.answer(proc, field, text)
    assert "1. Einfach" in reply and "2. Erweitert" in reply and "weitere Daten" in reply


def test_why_is_answered_from_the_fields_why_text():
    proc = CATALOGUE["gewerbe_anmelden"]
    field = proc.field("steuer_id")
    reply = form_questions.answer(proc, field, "warum braucht ihr meine Steuer-ID?")
    assert field.why in reply and "freiwillig" in reply and "Format" not in reply


def test_a_question_whether_one_can_cancel_later_is_answered():
    proc = CATALOGUE["meldebescheinigung"]
    text = "kann ich den Antrag später noch abbrechen, falls sich was ändert?"
    reply = form_questions.answer(proc, proc.field("plz"), text, "help")
    assert "„abbrechen“" in reply and "Antrag zurückziehen" in reply


def test_a_question_about_the_procedure_is_answered_from_the_catalogue():
    proc = CATALOGUE["meldebescheinigung"]
    reply = form_questions.answer(proc, proc.field("plz"), "was kostet das eigentlich?")
    assert "5 Euro" in reply


def test_a_vague_number_with_a_question_mark_gets_the_fields_help():
    proc = CATALOGUE["sperrmuell"]
    field = proc.field("menge_kubikmeter")
    assert read_message(proc, field.name, "so 2 bis 3?", {}).question
    reply = form_questions.answer(proc, field, "so 2 bis 3?")
    assert "Schätzung" in reply and "mindestens 1" not in reply


def test_a_correction_phrased_as_a_question_is_still_a_correction():
    proc = CATALOGUE["meldebescheinigung"]
    r = read_message(proc, "ort", "können Sie den Vornamen ändern?", {"vorname": "Erika"})
    assert not r.question and r.reopen == ["vorname"]


def test_skipping_with_a_question_mark_still_skips():
    proc = CATALOGUE["gewerbe_anmelden"]
    assert read_message(proc, "steuer_id", "kann ich das überspringen?", {}).skipped == "steuer_id"


def _run(action, form, slot, text, intent="inform", slots=None):
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        text=text,
        intent=intent,
        slots={**(slots or {}), slot: text, "requested_slot": slot},
        active_loop=form,
        events=[{"event": "slot", "name": slot, "value": text}],
    )
    return slot_events(asyncio.run(action.run(dispatcher, tracker, {}))), dispatcher


def test_the_validation_action_answers_and_asks_the_same_field_again():
    events, dispatcher = _run(
        ValidateMeldebescheinigungForm(),
        "meldebescheinigung_form",
        "art_meldebescheinigung",
        "was ist der Unterschied zwischen einfach und erweitert?",
    )
    assert events == {"art_meldebescheinigung": None}  # not stored, no failure counted
    assert "1. Einfach" in texts(dispatcher)


def test_a_question_does_not_count_as_a_failed_answer():
    events, dispatcher = _run(
        ValidateGewerbeAnmeldenForm(),
        "gewerbe_anmelden_form",
        "steuer_id",
        "warum braucht ihr meine Steuer-ID?",
        slots={FAILURES_SLOT: {"steuer_id": 2}},
    )
    assert events == {"steuer_id": None} and FAILURES_SLOT not in events
    assert "Finanzamt" in texts(dispatcher) and "Kurz erklärt" not in texts(dispatcher)


@pytest.mark.parametrize(
    "text", ["wia soll i des wissn", "wos is a Kubikmeter", "muas i des angebn", "koa Ahnung, wia vui des is"]
)
def test_a_bavarian_question_is_a_question(text):
    assert form_questions.is_question(text)


@pytest.mark.parametrize("text", ["Werner", "Wastl", "Wosnitza", "Wiesenweg 5"])
def test_names_that_start_like_bavarian_question_words_are_no_question(text):
    assert not form_questions.is_question(text)

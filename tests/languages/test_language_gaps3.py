"""Issue 20, third round (helper "english3"): the Matrix welcome is German and English; in
Leichte Sprache the questions asked inside a form ("Was ist der Unterschied?", "Was kostet das?")
are answered in plain sentences; the responsible office keeps its German name and gets an
English explanation, and ``make check-content`` names one without it."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil

import pytest
from rasa_sdk.executor import CollectingDispatcher
from support.german_text import german_in
from support.trackers import make_tracker, slot_events, texts

from actions.forms import CatalogueFormValidation
from actions.questions import ActionExplainField
from buergerassistent import answers, form_questions, form_texts, language, translations
from buergerassistent.catalogue import default_catalogue
from buergerassistent.handoff import texts as handoff_texts
from content import plain_language
from content.languages import check_languages
from matrix_connector import texts as matrix_texts
from portal_backend import receipt_pdf
from portal_backend.db import Application

CATALOGUE = default_catalogue()
MELDE = CATALOGUE["meldebescheinigung"]
CHOICE = MELDE.field("art_meldebescheinigung")
TOPICS = {
    "ask_fees": "Was kostet das?",
    "ask_documents": "Welche Unterlagen brauche ich?",
    "ask_processing_time": "Wie lange dauert das?",
    "ask_deadline": "Bis wann muss ich das machen?",
    "ask_where": "Welches Amt ist zuständig?",
    "ask_online": "Geht das auch online?",
}
# The standard-German sentences these questions got in Leichte Sprache before (form_questions,
# answers): none of them may come back.
STANDARD = (
    "Zu „",
    "Was die Möglichkeiten",
    "weiß ich leider nicht sicher",
    "Genaue Auskunft gibt",
    answers.UNKNOWN_HINT,
    "Gebühren für „",
    "Für „",
    "Dauer für „",
    "Fristen für „",
    "Zuständig für „",
    "Zuständig ist",
    "persönlich vorsprechen",
    "Die Angabe ist freiwillig",
    "jederzeit beenden",
)


# ---------------------------------------------------------------------------------- Matrix welcome


def test_matrix_welcome_is_german_then_english_with_the_way_to_english():
    german, english = matrix_texts.welcome().split("\n\n")
    assert german == translations.message("de", "matrix_welcome")
    assert english == translations.message("en", "matrix_welcome")
    assert german.startswith("Guten Tag!") and "„in Leichter Sprache“" in german
    assert "“English please”" in english
    assert language.detect(english) == "en"
    assert not german_in([{"text": english}]), english


# ---------------------------------------------------------------------- Leichte Sprache in the form


class ValidateMelde(CatalogueFormValidation):
    procedure_id = "meldebescheinigung"


def _ask_in_form(text: str, intent: str = "inform") -> tuple[str, dict]:
    """``text`` typed in Leichte Sprache while the form asks for the kind of certificate."""
    tracker = make_tracker(
        text=text,
        intent=intent,
        slots={"language": "ls", "language_source": "explicit", CHOICE.name: text, "requested_slot": CHOICE.name},
        active_loop="meldebescheinigung_form",
        events=[{"event": "slot", "name": CHOICE.name, "value": text}],
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateMelde().run(dispatcher, tracker, {}))
    return texts(dispatcher), slot_events(events)


def _no_standard(said: str) -> None:
    for sentence in STANDARD:
        assert sentence not in said, f"{sentence!r} in: {said}"


def test_difference_between_the_choices_in_leichte_sprache_during_the_form():
    said, slots = _ask_in_form("Was ist der Unterschied?")
    assert slots.get(CHOICE.name) is None  # a question, never the value
    _no_standard(said)
    plain_help = form_texts.field_text(MELDE, CHOICE, "ls").help
    assert said.startswith(f"Was heißt „{CHOICE.label}“? {plain_help}"), said
    assert "Sie können wählen: 1. Einfach, 2. Erweitert." in said


@pytest.mark.parametrize("topic, question", TOPICS.items())
def test_questions_about_the_procedure_in_leichte_sprache_during_the_form(topic, question):
    said, slots = _ask_in_form(question)
    assert slots.get(CHOICE.name) is None
    _no_standard(said)
    assert said == translations.plain_fact(MELDE, topic), said


def test_every_procedure_fact_and_choice_question_in_leichte_sprache_has_plain_sentences():
    """Every form, every choice field and every fact: plain sentences around the catalogue's
    values; with the values taken out, what is left keeps the Leichte-Sprache rules."""
    seen = 0
    for proc in CATALOGUE.with_forms():
        values = [proc.name, proc.fees, proc.processing_time, proc.authority, *proc.documents]
        values += [d.text for d in proc.deadlines] + [u.ask for u in proc.unknown.values()]
        values += [f"[{link.title}]({link.url})" for link in proc.links]
        for src in ("fees", "documents", "processing_time", "deadlines", "authority", "online"):
            source = proc.source_of(src)
            values.append(source.label if source else None)
        for f in proc.fields:
            questions = list(TOPICS.values()) + (["Was ist der Unterschied?"] if f.choices else [])
            for question in questions:
                said = form_texts.answer_question(proc, f, question, None, "ls")
                assert said, (proc.id, f.name, question)
                _no_standard(said)
                rest = said
                plain = form_texts.field_text(proc, f, "ls")
                for value in sorted({v for v in (*values, plain.label, plain.help) if v}, key=len, reverse=True):
                    rest = rest.replace(value, "X")
                assert not plain_language.problems(rest), (proc.id, f.name, question, rest)
                seen += 1
    assert seen > 100


def test_difference_without_a_plain_description_of_the_choices_says_so_plainly():
    proc = CATALOGUE["bewohnerparkausweis"]
    f = proc.field("fahrzeughalter")
    said = form_texts.answer_question(proc, f, "Was ist der Unterschied?", "ask_why_field", "ls")
    assert said.startswith(translations.message("ls", "fact_options_unknown", label=f.label)), said
    assert translations.message("ls", "fact_ask", authority=proc.authority) in said
    assert "Sie können wählen: 1." in said
    # German unchanged: the standard answer of form_questions.
    assert form_texts.answer_question(proc, f, "Was ist der Unterschied?", None, "de") is None
    assert "weiß ich leider nicht sicher" in form_questions.answer(proc, f, "Was ist der Unterschied?")


def test_explain_field_action_answers_the_difference_in_leichte_sprache():
    tracker = make_tracker(
        slots={"language": "ls", "requested_slot": CHOICE.name},
        active_loop="meldebescheinigung_form",
        text="Was ist der Unterschied zwischen einfach und erweitert?",
        intent="ask_why_field",
    )
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionExplainField().run(dispatcher, tracker, {}))
    said = texts(dispatcher)
    _no_standard(said)
    assert said.startswith(f"Was heißt „{CHOICE.label}“?") and "Dann schreiben Sie „abbrechen“." in said


def test_passed_deadline_in_leichte_sprache_says_so_plainly():
    proc = next(p for p in CATALOGUE if any(d.date for d in p.deadlines))
    day = next(d.date for d in proc.deadlines if d.date)
    late = translations.plain_fact(proc, "ask_deadline", today=day + dt.timedelta(days=1))
    assert translations.message("ls", "fact_deadline_passed", date=day.strftime("%d.%m.%Y")) in late
    assert translations.message("ls", "fact_deadline_late") in late
    early = translations.plain_fact(proc, "ask_deadline", today=day - dt.timedelta(days=1))
    assert translations.message("ls", "fact_deadline_until", date=day.strftime("%d.%m.%Y")) in early


# -------------------------------------------------------------------------- offices in English


def test_office_keeps_its_german_name_with_an_english_explanation():
    proc = CATALOGUE["aufenthaltstitel"]
    said = translations.english_answer(proc, "ask_where")
    assert "District Administration Department (Kreisverwaltungsreferat)" in said, said
    for proc in CATALOGUE:
        entry = translations.english(proc.id)
        if entry is None or not proc.authority:
            continue
        said = translations.english_answer(proc, "ask_where")
        assert entry.authority in said and "(" in entry.authority, (proc.id, said)
        assert not german_in([{"text": said}]), (proc.id, said)


def test_english_receipt_pdf_names_the_office_in_english(monkeypatch):
    proc = CATALOGUE["wohnsitz_anmelden"]
    office = translations.english_authority(proc)
    assert office == "City of Munich, citizens' office (Stadtverwaltung München, Bürgerbüro)"
    assert translations.english_authority(None) is None
    application = Application(
        case_number="BA-2026-000123",
        procedure=proc.id,
        status="eingegangen",
        received_at=dt.datetime(2026, 5, 4, 10, 30, tzinfo=dt.timezone.utc),
        data={},
        citizen=None,
    )
    written: list[str] = []
    clean = receipt_pdf._Receipt.clean
    monkeypatch.setattr(receipt_pdf._Receipt, "clean", lambda self, text: written.append(text) or clean(self, text))
    assert receipt_pdf.render(application, proc, "en").startswith(b"%PDF")
    assert office in written, written
    written.clear()
    receipt_pdf.render(application, proc, "de")
    assert proc.authority in written and office not in written


def test_handoff_names_the_english_office():
    proc = CATALOGUE["aufenthaltstitel"]
    said = handoff_texts.reach_office(proc, "en")
    entry = translations.english(proc.id)
    assert entry.contact["name"] in said, said
    assert proc.contact.name not in said.replace(entry.contact["name"], "")


def test_check_names_an_office_without_english_text(tmp_path):
    shutil.copytree(translations.TRANSLATIONS_DIR, tmp_path / "translations")
    path = tmp_path / "translations" / "en" / "aufenthaltstitel.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(line for line in lines if not line.startswith("authority:")) + "\n", encoding="utf-8")
    problems = [m for _, m in check_languages(translations_dir=tmp_path / "translations")]
    assert any(
        "Zuständige Stelle (authority) fehlt auf Englisch: „Ausländerbehörde des Wohnorts" in m for m in problems
    ), problems
    assert not [m for _, m in check_languages() if "authority" in m]


# -------------------------------------------------------------------- status questions in English


class _Outbox:
    def __init__(self, entries):
        self.entries = entries

    def for_conversation(self, conversation_id):
        return self.entries


class _Client:
    async def status_history(self, case_number):
        if case_number != OWN:
            return None
        return {
            "case_number": case_number,
            "procedure": "meldebescheinigung",
            "status": "in_bearbeitung",
            "history": [
                {"status": "eingegangen", "at": "2026-03-01T09:30:00Z", "note": None},
                {"status": "in_bearbeitung", "at": "2026-03-02T09:30:00Z", "note": None},
            ],
        }

    async def list_applications(self, citizen):
        return []


OWN = "BA-2026-7F3K9Q2M"


def _status(monkeypatch, text: str, lang: str, entries=()) -> str:

    from actions import submission_actions

    monkeypatch.setattr(submission_actions, "outbox", lambda: _Outbox(list(entries)))
    monkeypatch.setattr(submission_actions, "PortalClient", _Client)
    monkeypatch.setattr(submission_actions.login, "identity_for", lambda tracker: (None, "none"))
    tracker = make_tracker(text=text, intent="ask_status", slots={"language": lang})
    dispatcher = CollectingDispatcher()
    asyncio.run(submission_actions.ActionApplicationStatus().run(dispatcher, tracker, {}))
    return texts(dispatcher)


@pytest.mark.parametrize("lang", ["en", "ls", "de"])
def test_status_without_an_application_asks_for_the_case_number_in_the_language(monkeypatch, lang):
    said = _status(monkeypatch, "what is the status of my application?", lang)
    assert said == translations.message(lang, "status_which"), said
    if lang == "en":
        assert not german_in([{"text": said}]), said


def test_status_in_english_dates_and_refusal_are_english(monkeypatch):
    from types import SimpleNamespace

    from buergerassistent.submission.outbox import DELIVERED, PENDING

    mine = SimpleNamespace(state=DELIVERED, case_number=OWN, procedure="meldebescheinigung")
    waiting = SimpleNamespace(state=PENDING, case_number=None, procedure="meldebescheinigung")
    said = _status(monkeypatch, "status?", "en", [mine, waiting])
    assert "received on 1 March 2026: in progress (since 2 March 2026)" in said, said
    assert "saved, it is being sent" in said and "Certificate of registration" in said, said
    assert not german_in([{"text": said}]), said
    refused = _status(monkeypatch, "status of BA-2026-AB12CD34?", "en", [mine])
    assert refused.startswith("I cannot show you the status of application BA-2026-AB12CD34 here."), refused
    assert not german_in([{"text": refused}]), refused


# ------------------------------------------------------- Leichte Sprache: facts outside the form


@pytest.mark.parametrize("topic, question", [*TOPICS.items(), ("ask_contact", "Wie ist die Telefonnummer?")])
def test_fact_questions_outside_the_form_in_leichte_sprache(topic, question):
    from actions.questions import ActionAnswerInfo

    tracker = make_tracker(
        text=question, intent=topic, slots={"language": "ls", "language_source": "explicit", "procedure": MELDE.id}
    )
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAnswerInfo().run(dispatcher, tracker, {}))
    said = texts(dispatcher)
    _no_standard(said)
    assert said == translations.plain_fact(MELDE, topic), said
    # German unchanged.
    tracker = make_tracker(text=question, intent=topic, slots={"procedure": MELDE.id})
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAnswerInfo().run(dispatcher, tracker, {}))
    assert texts(dispatcher) == answers.ANSWERS_BY_INTENT[topic](MELDE)


def test_plain_where_names_the_links_of_the_catalogue():
    said = translations.plain_fact(MELDE, "ask_where")
    assert said.startswith(translations.message("ls", "fact_where", name=MELDE.name, authority=MELDE.authority))
    assert all(f"\n- [{link.title}]({link.url})" in said for link in MELDE.links), said
    assert translations.message("ls", "fact_links") in said


@pytest.mark.parametrize("lang", ["en", "ls", "de"])
def test_a_fact_question_without_a_service_asks_which_one_in_the_language(lang):
    from actions.questions import ActionAnswerInfo

    tracker = make_tracker(text="Was kostet das?", intent="ask_fees", slots={"language": lang})
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAnswerInfo().run(dispatcher, tracker, {}))
    assert texts(dispatcher) == translations.message(lang, "ask_which_procedure")
    if lang == "en":
        assert not german_in(dispatcher.messages), texts(dispatcher)


# ------------------------------------------------- English conversation: what the NLU cannot read


def test_english_conversation_reads_cancel_and_unreadable_messages_in_english():
    from buergerassistent import language_state
    from rasa_runtime.intent_guard import apply_language

    english = language_state.State(language_state.ENGLISH, language_state.EXPLICIT)
    for text, nlu, expected in [
        ("cancel", "nlu_fallback", "cancel"),  # outside a form: "no application is running"
        ("please cancel it", "greet", "cancel"),
        ("hmm whatever", "nlu_fallback", "other_language"),  # the English reply, not German discovery
        ("Ich möchte einen Hund anmelden", "nlu_fallback", "nlu_fallback"),  # German stays German
    ]:
        parse = {"text": text, "intent": {"name": nlu, "confidence": 0.3}}
        apply_language(parse, english)
        assert parse["intent"]["name"] == expected, (text, parse)
    german = {"text": "hmm whatever", "intent": {"name": "nlu_fallback", "confidence": 0.3}}
    apply_language(german, language_state.State())
    assert german["intent"]["name"] == "nlu_fallback"  # a German conversation is untouched


# ------------------------------------------- "ok" without a form, "thanks" after an answer


@pytest.mark.parametrize("lang", ["en", "ls", "de"])
def test_start_without_a_form_and_thanks_are_said_in_the_language(lang):
    from actions.dialogue import ActionStartApplication
    from actions.feedback import ActionThanks

    slots = {"language": lang, "procedure": "eheschliessung_anmelden"}  # a service without a form
    tracker = make_tracker(text="ok", intent="affirm", slots=slots)
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionStartApplication().run(dispatcher, tracker, {}))
    assert texts(dispatcher) == translations.message(lang, "form_which_application")
    answered = [{"event": "user", "text": "what does it cost?"}, {"event": "bot", "text": "Fees …"}]
    tracker = make_tracker(text="thanks", intent="thank", slots=slots, events=answered)
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionThanks().run(dispatcher, tracker, {}))
    said = [m.get("text") for m in dispatcher.messages]
    assert said[0] == translations.message(lang, "feedback_welcome"), said
    if lang == "en":
        assert not german_in(dispatcher.messages), said


@pytest.mark.parametrize("lang", ["en", "ls", "de"])
def test_yes_to_a_service_without_a_form_offers_its_facts_in_the_language(lang, monkeypatch):
    from actions import dialogue

    monkeypatch.setattr(dialogue, "proposed_last_turn", lambda tracker: True)
    slots = {"language": lang, "procedure": "eheschliessung_anmelden"}
    tracker = make_tracker(text="ok", intent="affirm", slots=slots)
    dispatcher = CollectingDispatcher()
    asyncio.run(dialogue.ActionHandleAffirm().run(dispatcher, tracker, {}))
    proc = CATALOGUE["eheschliessung_anmelden"]
    expected = translations.message(lang, "ask_about", name=form_texts.procedure_name(proc, lang))
    assert texts(dispatcher) == expected
    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert titles[0] == translations.message(lang, "ask_about_documents") and len(titles) == 4
    if lang == "en":
        assert not german_in(dispatcher.messages), dispatcher.messages
    if lang == "ls":
        assert not plain_language.problems(expected.replace(proc.name, "X"))


@pytest.mark.parametrize("language", ["ls", "de", "en"])
def test_help_in_leichte_sprache_is_plain_and_other_languages_keep_the_domain_response(language):
    from actions.fallbacks import ActionHelp

    tracker = make_tracker(slots={"language": language}, text="Hilfe", intent="help")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionHelp().run(dispatcher, tracker, {}))
    if language == "ls":
        said = texts(dispatcher)
        _no_standard(said)
        assert said == translations.message("ls", "help_text") and "115" in said
        assert not plain_language.problems(said)
    else:  # Rasa picks the German or English variation of the domain's utter_help
        assert dispatcher.messages == [dict(dispatcher.messages[0], response="utter_help")]


@pytest.mark.parametrize(
    ("response", "key"), [("utter_out_of_scope", "out_of_scope_text"), ("utter_default", "not_understood_text")]
)
def test_first_fallback_answers_in_leichte_sprache(response, key):
    from actions.fallbacks import say_fallback

    dispatcher = CollectingDispatcher()
    say_fallback(
        dispatcher, make_tracker(slots={"language": "ls"}, text="Wetter?"), "out_of_scope", first_response=response
    )
    said = texts(dispatcher)
    assert said == translations.message("ls", key) and not plain_language.problems(said)
    german = CollectingDispatcher()
    say_fallback(german, make_tracker(text="Wetter?"), "out_of_scope", first_response=response)
    assert german.messages[0]["response"] == response

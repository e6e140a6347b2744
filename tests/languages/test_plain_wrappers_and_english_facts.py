"""Issue 20, remaining gaps: the sentences around a plain help text are Leichte Sprache; the
English citizen gets processing time, deadlines and contact details in English (the German
entry's facts, translated as data); ``make check-content`` names a fact without English text
and a login-page or PDF text missing in a language."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import shutil

import pytest
from rasa_sdk.executor import CollectingDispatcher
from support.german_text import german_in
from support.trackers import make_tracker, texts

from actions.questions import ActionExplainField
from buergerassistent import form_texts, language_replies, translations
from buergerassistent.catalogue import default_catalogue
from content import plain_language
from content.languages import check_languages

CATALOGUE = default_catalogue()
ANMELDEN = CATALOGUE["wohnsitz_anmelden"]
STANDARD_WRAPPERS = ("Zu „", "Die Angabe ist freiwillig", "Für den Antrag hier im Chat brauche ich", "Gefragt ist")


def _plain_answers():
    for proc in CATALOGUE.with_forms():
        for f in proc.fields:
            yield proc, f, form_texts.answer_question(proc, f, "warum?", "ask_why_field", "ls")
            yield proc, f, form_texts.answer_question(proc, f, "was heißt das?", "help", "ls")


def test_plain_why_and_help_answers_have_plain_wrappers_and_follow_the_rules():
    seen = 0
    for proc, f, answer in _plain_answers():
        assert answer, f"{proc.id}.{f.name}"
        for standard in STANDARD_WRAPPERS:
            assert standard not in answer, f"{proc.id}.{f.name}: {answer}"
        assert not plain_language.problems(answer.replace(f"„{f.label}“", "„Angabe“")), answer
        seen += 1
    assert seen > 100


def test_plain_why_answer_uses_the_plain_why_text_and_says_whether_required():
    f = ANMELDEN.field("geburtsdatum")
    answer = form_texts.answer_question(ANMELDEN, f, "Warum brauchen Sie das?", None, "ls")
    assert answer.startswith("Warum frage ich nach „Geburtsdatum“? ")
    assert translations.plain_help(f.why) in answer
    assert answer.endswith("Ich brauche diese Antwort für den Antrag.")
    optional = next(f for p in CATALOGUE.with_forms() for f in p.fields if not f.required and not f.choices)
    proc = next(p for p in CATALOGUE.with_forms() if optional in p.fields)
    text = form_texts.answer_question(proc, optional, "was heißt das?", "help", "ls")
    if "überspringen" not in form_texts.field_text(proc, optional, "ls").help:
        assert "Sie müssen das nicht sagen." in text


def test_plain_question_about_the_procedure_gets_the_plain_fact_answer():
    f = ANMELDEN.field("vorname")
    # Since english3: a fact of the procedure in plain sentences (test_language_gaps3.py).
    assert form_texts.answer_question(ANMELDEN, f, "Was kostet das?", None, "ls") == translations.plain_fact(
        ANMELDEN, "ask_fees"
    )
    assert form_texts.answer_question(ANMELDEN, f, "warum?", None, "de") is None  # German unchanged


def test_explain_field_action_in_leichte_sprache():
    tracker = make_tracker(
        slots={"language": "ls", "requested_slot": "geburtsdatum"},
        active_loop="wohnsitz_anmelden_form",
        text="Wozu brauchen Sie das?",
        intent="ask_why_field",
    )
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionExplainField().run(dispatcher, tracker, {}))
    said = texts(dispatcher)
    assert "Warum frage ich nach „Geburtsdatum“?" in said and "Dann schreiben Sie „abbrechen“." in said
    assert "jederzeit beenden" not in said


# ------------------------------------------------------------------------------------- English facts

QUESTIONS = {
    "ask_processing_time": ["how long does it take?", "What is the processing time?", "how many weeks?"],
    "ask_deadline": ["what is the deadline?", "by when do I have to do it?", "am I too late?"],
    "ask_contact": ["what is their phone number?", "opening hours?", "how can I contact the office?"],
}


@pytest.mark.parametrize("topic, text", [(t, q) for t, qs in QUESTIONS.items() for q in qs])
def test_english_fact_questions_are_read(topic, text):
    assert translations.english_topic(text) == topic


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+", re.sub(r"\b(\d{1,2})\.\d{2}\.(\d{4})\b", r"\1 \2", text)))


def _assert_english(text: str) -> None:
    # the source line names the source as the catalogue does ("Bundesmeldegesetz", "Stadt München")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("Source: "))
    text = re.sub(r" \(Source: [^)]*\)", "", text)
    found = german_in([{"text": text}])
    assert not found, f"German in an English answer: {found}\n{text}"


@pytest.mark.parametrize("proc", [p for p in CATALOGUE.curated() if translations.english(p.id)], ids=lambda p: p.id)
def test_every_core_procedure_answers_facts_in_english_with_the_german_facts(proc):
    entry = translations.english(proc.id)
    timing = translations.english_answer(proc, "ask_processing_time")
    if proc.processing_time:
        assert entry.processing_time in timing
    else:
        assert "I do not know how long" in timing
    deadlines = translations.english_answer(proc, "ask_deadline")
    for text in entry.deadlines:
        assert text in deadlines
    assert len(entry.deadlines) == len(proc.deadlines)
    contact = translations.english_answer(proc, "ask_contact")
    if proc.contact is not None:
        assert entry.contact["name"] in contact
        for value in (proc.contact.phone, proc.contact.email, proc.contact.url):
            if value:
                assert value in contact  # numbers and links stay as they are
    # the numbers of each fact are the German entry's numbers: nothing lost (a German date
    # "31.12.1998" is "31 December 1998" in English: its month is a word)
    pairs = [(proc.processing_time or "", entry.processing_time or "")]
    pairs += list(zip([d.text for d in proc.deadlines], entry.deadlines, strict=True))
    for german, english in pairs:
        assert _numbers(german) <= _numbers(english), (german, english)
    _assert_english(timing + "\n" + deadlines)


def test_fixed_deadlines_in_english_say_whether_they_passed():
    proc = CATALOGUE["fuehrerschein_umtausch"]
    text = translations.english_deadlines(proc, translations.english(proc.id), today=dt.date(2026, 12, 3))
    assert "Card driving licence, issued 1999 to 2001: by 19 January 2026 (this deadline has passed)" in text
    assert "Card driving licence, issued 2002 to 2004: by 19 January 2027\n" in text
    assert "If your deadline has passed, please do it as soon as possible." in text


def test_contact_in_english_translates_the_german_texts():
    proc = CATALOGUE["bafoeg"]
    text = translations.english_answer(proc, "ask_contact")
    assert "Opening hours: General telephone hours" in text and "Tuesday 10:00 to 12:00" in text
    assert "Sprechzeiten" not in text and "Öffnungszeiten" not in text


def test_overview_no_longer_says_facts_are_german_only():
    assert "only give in German" not in translations.english_overview(ANMELDEN)


# --------------------------------------------------------------------------------------- the check


def test_check_names_a_fact_without_english_text(tmp_path):
    shutil.copytree(translations.TRANSLATIONS_DIR, tmp_path / "translations")
    path = tmp_path / "translations" / "en" / "wohnsitz_anmelden.yaml"
    text = path.read_text(encoding="utf-8")
    cut = text.index("\nprocessing_time:")
    path.write_text(text[:cut] + "\n", encoding="utf-8")  # processing time, deadlines, contact gone
    problems = [m for _, m in check_languages(translations_dir=tmp_path / "translations")]
    assert any("Dauer (processing_time) fehlt auf Englisch: „Die Anmeldung wird im Termin" in m for m in problems)
    assert any("Frist 2 (deadlines) fehlt auf Englisch: „Wer sich nicht rechtzeitig anmeldet" in m for m in problems)
    assert any("Kontakt (name) fehlt auf Englisch: „Bürgerbüro der Stadt München“" in m for m in problems)
    clean = [m for _, m in check_languages()]
    assert not [m for m in clean if "auf Englisch" in m]


def test_check_names_a_login_page_text_missing_in_leichte_sprache(tmp_path):
    shutil.copytree(translations.TRANSLATIONS_DIR, tmp_path / "translations")
    shutil.copytree(translations.PLAIN_DIR, tmp_path / "plain")
    path = tmp_path / "plain" / "messages.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text(
        "\n".join(line for line in lines if not line.startswith(("web_login_warning:", "pdf_receipt_note:"))) + "\n",
        encoding="utf-8",
    )
    problems = [m for _, m in check_languages(translations_dir=tmp_path / "translations", plain_dir=tmp_path / "plain")]
    assert any("'web_login_warning' fehlt" in m for m in problems)
    assert any("'pdf_receipt_note' fehlt" in m for m in problems)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("what is the deadline?", "wohnsitz_anmelden"),  # "deadline" is among another service's keywords
        ("how long does it take?", "wohnsitz_anmelden"),
        ("what is their phone number?", "wohnsitz_anmelden"),
        ("what is the deadline for exchanging my driving licence?", "fuehrerschein_umtausch"),
    ],
)
def test_a_fact_question_stays_with_the_service_in_focus_unless_another_is_asked_for(text, expected):
    reply = language_replies.reply("en", "detected", text, False, False, ANMELDEN)
    assert reply.procedure == expected
    assert translations.english(expected).name in reply.texts[0]

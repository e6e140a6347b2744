"""Forms in English and Leichte Sprache (buergerassistent/form_texts.py, the English reading of
answers in buergerassistent/validation, the lint in content/languages.py; issue 20)."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
import yaml

from buergerassistent import form_texts, language, language_state, translations
from buergerassistent.catalogue import default_catalogue
from buergerassistent.repair import read_message
from content.languages import check_form_texts, check_languages, validator_sentences
from rasa_runtime.intent_guard import ENGLISH_READING, apply_language

PROC = default_catalogue()["meldebescheinigung"]
TODAY = dt.date(2026, 12, 3)


def field(name):
    return PROC.field(name)


def test_every_form_text_exists_in_every_language():
    assert check_languages() == []
    for proc in default_catalogue().with_forms():
        for f in proc.fields:
            english = form_texts.field_text(proc, f, "en")
            assert english.label != f.label, (proc.id, f.name)
            assert english.prompt != f.prompt, (proc.id, f.name)
            assert set(english.choices) == {c.value for c in f.choices or ()}


def test_lint_fails_a_form_text_in_one_language_only(tmp_path):
    shutil.copytree(translations.TRANSLATIONS_DIR, tmp_path / "translations")
    shutil.copytree(translations.PLAIN_DIR, tmp_path / "plain")
    path = tmp_path / "translations" / "en" / "meldebescheinigung.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["fields"]["plz"]
    del data["fields"]["email"]["why"]
    data["fields"]["art_meldebescheinigung"]["choices"]["gold"] = "Gold"
    data["fields"]["haustier"] = {"label": "Pet", "prompt": "Do you have a pet?"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    validation = tmp_path / "plain" / "validation.yaml"
    plain = yaml.safe_load(validation.read_text(encoding="utf-8"))
    del plain["problems"]["Die Hausnummer fehlt."]
    plain["problems"]["Das sagt keiner."] = "Das sagt keiner."
    validation.write_text(yaml.safe_dump(plain, allow_unicode=True), encoding="utf-8")
    messages = tmp_path / "plain" / "messages.yaml"
    text = messages.read_text(encoding="utf-8").replace("form_summary_question:", "form_summary_frage:")
    messages.write_text(text, encoding="utf-8")

    problems = [m for _, m in check_form_texts(default_catalogue(), tmp_path / "translations", tmp_path / "plain")]
    assert any("Feld 'plz'" in m and "keinen englischen Text" in m for m in problems), problems
    assert any("Feld 'email': 'why' nur in einer Sprache" in m for m in problems), problems
    assert any("'gold' ist keine Auswahl" in m for m in problems), problems
    assert any("'haustier' ist kein Feld" in m for m in problems), problems
    assert any("„Die Hausnummer fehlt.“" in m and "fehlt in dieser Sprache" in m for m in problems), problems
    assert any("„Das sagt keiner.“ sagt keine Prüfung" in m for m in problems), problems
    assert any("'form_summary_question' fehlt" in m for m in problems), problems
    assert any("'form_summary_frage' fehlt" in m for m in problems), problems


def test_the_lint_finds_the_validators_sentences():
    sentences = validator_sentences()
    assert "Die Hausnummer fehlt." in sentences
    assert "Der Name ist länger als {} Zeichen." in sentences  # an f-string
    assert "Das Geburtsdatum liegt in der Zukunft." in sentences  # returned, not passed to fail()
    assert len(sentences) > 80


@pytest.mark.parametrize(
    "answer", ["12 August 1964", "Aug 12, 1964", "August 12th, 1964", "12.08.1964", "I was born on 12 August 1964"]
)
def test_english_dates(answer):
    result = form_texts.check(PROC, field("geburtsdatum"), answer, "en")
    assert result.ok and result.value == "1964-08-12", result


def test_an_ambiguous_english_date_is_asked_never_guessed():
    result = form_texts.check(PROC, field("geburtsdatum"), "08/12/1964", "en")
    assert not result.ok
    text = form_texts.error(PROC, field("geburtsdatum"), result, "en")
    assert "8 December 1964" in text and "12 August 1964" in text and language.detect(text) != "de", text
    # A German citizen's 08/12/1964 stays the 8th of December (German order), as before.
    assert form_texts.check(PROC, field("geburtsdatum"), "08/12/1964", "de").value == "1964-12-08"
    # Not ambiguous: 13/08/1964 and 12/12/1964.
    assert form_texts.check(PROC, field("geburtsdatum"), "13/08/1964", "en").value == "1964-08-13"


def test_english_relative_dates_and_yes_no():
    kfz = default_catalogue()["kfz_abmelden"]
    verlust = default_catalogue()["ausweis_verlust_melden"]
    assert form_texts.check(kfz, kfz.field("abmeldedatum"), "tomorrow", "en").ok
    assert form_texts.check(
        default_catalogue()["halteverbot_umzug"],
        default_catalogue()["halteverbot_umzug"].field("umzugstag"),
        "next Saturday",
        "en",
    ).ok
    for answer, value in (("yes", "ja"), ("yeah", "ja"), ("no", "nein"), ("nope", "nein")):
        assert form_texts.check(verlust, verlust.field("gestohlen"), answer, "en").value == value


def test_choices_by_english_label_keep_the_german_value():
    reading = read_message(form_texts.for_reading(PROC, "en"), "art_meldebescheinigung", "Extended", {})
    assert reading.values == {"art_meldebescheinigung": "erweitert"}
    assert form_texts.display(PROC, field("art_meldebescheinigung"), "erweitert", "en") == "Extended"
    assert form_texts.display(PROC, field("geburtsdatum"), "1964-08-12", "en") == "12 August 1964"
    assert form_texts.display(PROC, field("geburtsdatum"), "1964-08-12", "de") == "12.08.1964"


@pytest.mark.parametrize(
    "name,answer", [("plz", "8033"), ("email", "erika"), ("vorname", "12"), ("strasse", "Marienplatz")]
)
def test_validation_errors_in_english_and_plain_language(name, answer):
    result = form_texts.check(PROC, field(name), answer, "en")
    assert not result.ok
    english = form_texts.error_text(PROC, field(name), result.error, "en")
    assert english != result.error and language.detect(english) != "de", english
    plain = form_texts.error_text(PROC, field(name), result.error, "ls")
    assert plain != result.error, plain
    from content import plain_language

    assert plain_language.problems(plain) == [], plain


def test_english_reading_in_a_form_and_for_yes_no():
    english = language_state.State(language_state.ENGLISH, language_state.DETECTED)
    parse = {"text": "12 August 1964", "intent": {"name": "ask_deadline", "confidence": 0.6}}
    apply_language(parse, english, in_form=True)
    assert parse["intent"]["name"] == "inform" and parse["guard"]["reason"] == ENGLISH_READING
    parse = {"text": "cancel", "intent": {"name": "inform", "confidence": 0.6}}
    apply_language(parse, english, in_form=True)
    assert parse["intent"]["name"] == "cancel"
    parse = {"text": "yes", "intent": {"name": "greet", "confidence": 0.6}}
    apply_language(parse, english, awaiting="confirm_summary")
    assert parse["intent"]["name"] == "affirm"
    # German words keep the German NLU's reading.
    parse = {"text": "abbrechen", "intent": {"name": "cancel", "confidence": 0.9}}
    apply_language(parse, english, in_form=True)
    assert parse["intent"]["name"] == "cancel" and "guard" not in parse


def test_web_chat_marks_english_messages_for_screen_readers():
    from rasa_runtime.channels.webchat import conversations

    # A generated English form question carries metadata {lang: en}; an action's message lang=en.
    assert conversations.bot_message("Step 1 of 8: …", {"metadata": {"lang": "en"}})["lang"] == "en"
    assert conversations.bot_message("Yes", {"lang": "en"})["lang"] == "en"
    assert "lang" not in conversations.bot_message("Schritt 1 von 8: …", {})
    domain = yaml.safe_load(open("bot/domain/generated/forms.yml", encoding="utf-8"))
    english = [
        variant
        for variants in domain["responses"].values()
        for variant in variants
        if any(c.get("value") == "en" for c in variant.get("condition") or [])
    ]
    assert english and all(v["metadata"] == {"lang": "en"} for v in english)


async def test_actions_mark_their_messages_in_an_english_conversation():
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.forms import marks_language

    class Speaker:
        @marks_language
        async def run(self, dispatcher, tracker, domain):
            dispatcher.utter_message(text="Is that right?")
            return []

    for lang, expected in (("en", "en"), ("de", None), ("ls", None)):
        dispatcher = CollectingDispatcher()
        tracker = Tracker("t", {"language": lang}, {}, [], False, None, {}, "action_listen")
        await Speaker().run(dispatcher, tracker, {})
        assert dispatcher.messages[0].get("lang") == expected


def test_english_status_question_reads_as_ask_status():
    english = language_state.State(language_state.ENGLISH, language_state.DETECTED)
    parse = {"text": "What is the status of my application?", "intent": {"name": "greet", "confidence": 0.4}}
    apply_language(parse, english)
    assert parse["intent"]["name"] == "ask_status"


def test_an_english_date_with_a_comma_is_one_answer():
    text = form_texts.as_read(PROC, field("geburtsdatum"), "Aug 12, 1964", "en")
    reading = read_message(form_texts.for_reading(PROC, "en"), "geburtsdatum", text, {"vorname": "Erika"})
    assert reading.values == {"geburtsdatum": "1964-08-12"} and not reading.unassigned, reading
    # Not a date: left to the reader as it is (a street with a comma stays a street question).
    assert form_texts.as_read(PROC, field("strasse"), "Marienplatz 8, 2nd floor", "en") == "Marienplatz 8, 2nd floor"

"""Loaders, English answers and the language lints (buergerassistent/translations.py,
buergerassistent/language_replies.py, content/languages.py, content/plain_language.py; issue 20)."""

from __future__ import annotations

import shutil

import pytest

from buergerassistent import language_replies, translations
from buergerassistent.catalogue import default_catalogue
from content import plain_language
from content.languages import check_languages


def test_every_core_procedure_has_both_texts():
    catalogue = default_catalogue()
    for proc in catalogue.curated():
        entry = translations.english(proc.id)
        assert entry is not None and entry.name and entry.description, proc.id
        assert len(entry.documents) == len(proc.documents or ()), proc.id
        assert bool(entry.fees) == bool(proc.fees), proc.id
        assert translations.plain_description(proc.id), proc.id
    for proc in catalogue.with_forms():
        for field in proc.fields:
            assert translations.plain_prompt(field.name), (proc.id, field.name)
    assert check_languages() == []


def test_lint_fails_a_text_in_one_language_only(tmp_path):
    shutil.copytree(translations.TRANSLATIONS_DIR, tmp_path / "translations")
    shutil.copytree(translations.PLAIN_DIR, tmp_path / "plain")
    (tmp_path / "translations" / "en" / "kindergeld.yaml").unlink()
    (tmp_path / "plain" / "extra_procedure.yaml").write_text("id: extra_procedure\ndescription: Ein Satz.\n")
    text = (tmp_path / "plain" / "wohngeld.yaml").read_text(encoding="utf-8")
    (tmp_path / "plain" / "wohngeld.yaml").write_text(text + "  Der Antrag wird z. B. geprüft.\n", encoding="utf-8")
    translations.plain_prompts.cache_clear()
    problems = [m for _, m in check_languages(translations_dir=tmp_path / "translations", plain_dir=tmp_path / "plain")]
    assert any("Kindergeld" in m and "englischen Text" in m for m in problems)
    assert any("'extra_procedure' ist keine Leistung" in m for m in problems)
    assert any("Abkürzung „z. B.“" in m for m in problems)
    assert any("Passiv" in m for m in problems)


def test_english_entry_with_missing_document_fails(tmp_path):
    shutil.copytree(translations.TRANSLATIONS_DIR, tmp_path / "translations")
    path = tmp_path / "translations" / "en" / "wohnsitz_anmelden.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    first_doc = next(i for i, line in enumerate(lines) if line.startswith("  - "))
    path.write_text("\n".join(lines[:first_doc] + lines[first_doc + 1 :]) + "\n", encoding="utf-8")
    problems = [m for _, m in check_languages(translations_dir=tmp_path / "translations")]
    assert any("2 englische Unterlagen, aber 3 deutsche" in m for m in problems)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("Das ist z. B. ein Satz.", "Abkürzung"),
        ("Bringen Sie ggf. den Pass mit.", "Abkürzung"),
        ("Der Antrag wird vom Amt geprüft.", "Passiv"),
        ("Bitte bringen Sie die Wohnungsgeberbestätigung mit.", "langes Wort"),
        (
            "Eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf dreizehn vierzehn fünfzehn sechzehn.",
            "Satz mit 16",
        ),
    ],
)
def test_plain_language_rules(text, problem):
    assert any(problem in p for p in plain_language.problems(text))


def test_plain_language_accepts_plain_text():
    assert plain_language.problems("Bringen Sie die Wohnungs-Geber-Bestätigung mit. Das Amt prüft den Antrag.") == []


def test_find_by_english_synonym_and_german_name():
    curated = default_catalogue().curated()
    assert translations.find_english("How do I register my apartment?", curated) == "wohnsitz_anmelden"
    assert translations.find_english("I need a Meldebescheinigung", curated) == "meldebescheinigung"
    assert translations.find_english("how much is child benefit", curated) == "kindergeld"
    assert translations.find_english("What is the weather like?", curated) is None


def test_english_answers_come_from_the_files():
    proc = default_catalogue()["kindergeld"]
    entry = translations.english("kindergeld")
    assert entry.description in translations.english_answer(proc, None)
    assert entry.fees in translations.english_answer(proc, "ask_fees")
    docs = translations.english_answer(proc, "ask_documents")
    assert all(d in docs for d in entry.documents)
    assert translations.english_topic("What does it cost?") == "ask_fees"
    assert translations.english_topic("Which documents do I need?") == "ask_documents"


def test_replies():
    catalogue = default_catalogue()
    out = language_replies.reply("en", "detected", "How do I register my apartment?", False, False, None)
    assert out.procedure == "wohnsitz_anmelden" and out.offer_form
    assert translations.english("wohnsitz_anmelden").description in out.texts[0]
    out = language_replies.reply("ls", "explicit", "in Leichter Sprache", True, False, catalogue["wohngeld"])
    assert out.texts[0] == translations.message("ls", "switched")
    assert translations.plain_description("wohngeld") in out.texts[1]
    out = language_replies.reply("de", "explicit", "How are you?", False, False, None)
    assert out.texts == [translations.message("de", "german_chosen")]
    out = language_replies.reply("en", "explicit", "English please", True, True, catalogue["wohngeld"])
    assert out.texts == [translations.message("en", "switched_form")]

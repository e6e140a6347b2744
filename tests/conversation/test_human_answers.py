"""Human answers, English messages and fallbacks (issue 15), at the domain level.

Contact data: the catalogue's ``contact:`` block (shape in /work/wt/CONTACT_SCHEMA.md, loader in
branch `content`). These tests build their own procedure with such a block, so they do not
depend on the data of the catalogue.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Optional

import pytest

from buergerassistent import answers, fallback, human_answers, language
from buergerassistent.catalogue import Contact, Link, Procedure


@dataclasses.dataclass(frozen=True)
class WithContact(Procedure):
    contact: Optional[Any] = None


CONTACT = Contact(
    name="Bürgerbüro der Stadt Musterstadt",
    source="Testquelle",
    phone="089 123-45678",
    url="https://example.org/buergerbuero",
    as_of="2026-06",
)
PROC = WithContact(id="test", name="Meldebescheinigung", description="x", authority="Bürgerbüro", contact=CONTACT)
NO_CONTACT = Procedure(id="nix", name="Hundesteuer", description="x")


def test_bot_challenge_is_honest_and_names_a_way_to_a_person():
    text = human_answers.bot_challenge()
    assert "kein Mensch" in text and "Computerprogramm" in text and "115" in text
    assert "089 123-45678" in human_answers.bot_challenge(PROC)


def test_talk_to_someone_says_there_is_no_hand_over_yet():
    text = human_answers.ask_human(PROC)
    assert "noch nicht" in text and "115" in text
    assert "Bürgerbüro der Stadt Musterstadt" in text and "089 123-45678" in text
    assert "115" in human_answers.ask_human(None)


def test_contact_lists_what_is_known_and_says_what_is_not():
    text = human_answers.contact(PROC)
    assert "089 123-45678" in text and "https://example.org/buergerbuero" in text
    assert "Die Öffnungszeiten kenne ich leider nicht" in text and "115" in text
    assert "Quelle: Testquelle, Stand 06/2026" in text


def test_contact_is_the_catalogue_answer_with_its_fact_source():
    # One answer for one question: the human answer delegates to answers.contact.
    assert human_answers.contact(PROC) == answers.contact(PROC)
    dated = dataclasses.replace(CONTACT, source="Stadt München, Kreisverwaltungsreferat", checked="2026-12-03")
    text = answers.contact(WithContact(id="t", name="X", description="x", contact=dated))
    assert text.endswith("Quelle: Stadt München, Stand 06/2026")
    undated = dataclasses.replace(CONTACT, as_of=None)
    assert answers.contact(WithContact(id="t", name="X", description="x", contact=undated)).endswith(
        "Quelle: Testquelle"
    )


def test_contact_without_data_never_invents_any():
    text = human_answers.contact(NO_CONTACT)
    assert "kenne ich leider nicht" in text and "115" in text
    assert not any(ch.isdigit() for ch in text.replace("115", ""))
    assert "Für welche Leistung" in human_answers.contact(None)


def test_complaint_points_to_the_office_and_115():
    text = human_answers.complain(PROC)
    assert text.startswith("Das tut mir leid.") and "Bürgerbüro der Stadt Musterstadt" in text and "115" in text


@pytest.mark.parametrize(
    "text,death",
    [
        ("mein Vater ist gestorben", True),
        ("Meine Mutter ist verstorben, was muss ich tun?", True),
        ("Todesfall in der Familie", True),
        ("mein Mann ist tot", True),
        ("Ich brauche eine Sterbeurkunde für die Ahnenforschung", False),
        ("Ausweis verloren", False),
        ("Totalschaden am Auto", False),
    ],
)
def test_reports_of_a_death(text, death):
    assert human_answers.reports_death(text) is death


# -- English ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I need a new passport",
        "How can I register my address?",
        "Do you speak English?",
        "I lost my ID card, what can I do",
        "hello, can you help me please",
        "I moved to Munich last week",
    ],
)
def test_english_is_recognised(text):
    assert language.detect(text) == "en"


@pytest.mark.parametrize(
    "text",
    [
        "Ich brauche ein Appointment für meinen Pass",
        "ich brauche einen neuen Reisepass",
        "Hallo, I need help",  # too German ("Hallo") to be sure
        "Max Muster",
        "Hauptstraße 5",
        "okay",
        "Termin online buchen",
        "mein Handy ist kaputt, wie geht das online",
    ],
)
def test_german_mixed_and_short_messages_stay_german(text):
    assert language.detect(text) is None


def test_detection_is_fast_after_loading():
    language.warm_up()
    start = time.perf_counter()
    for _ in range(100):
        language.detect("How can I register my new address in the city?")
    assert (time.perf_counter() - start) / 100 < 0.02


def test_english_reply():
    text = language.reply_in_english("https://stadt.example/en/")
    assert "German" in text and "115" in text and "https://stadt.example/en/" in text
    assert language.english_pages([Link("de", "https://x/de/a"), Link("en", "https://x/en/a")]) == "https://x/en/a"
    assert language.english_pages([]) is None


# -- fallbacks ----------------------------------------------------------------------------


def test_fallbacks_get_shorter_and_offer_topics():
    first, topics = fallback.reply("not_understood", 0)
    assert not topics
    texts = [first]
    for before in range(1, 5):
        text, topics = fallback.reply("not_understood", before)
        assert topics
        texts.append(text)
    for a, b in zip(texts, texts[1:], strict=False):
        assert a != b or len(b) < 80, "the same text twice in a row"
        assert len(b) <= len(a)


def test_fallbacks_in_a_row_are_counted_from_the_assistants_texts():
    assert fallback.fallbacks_in_a_row([]) == 0
    turns = [[fallback.FIRST["not_understood"]], ["Guten Tag!"], [fallback.AGAIN[0]]]
    assert fallback.fallbacks_in_a_row(turns) == 1
    assert fallback.fallbacks_in_a_row([[fallback.AGAIN[0]], [fallback.FIRST["out_of_scope"]], ["x"]]) == 2


def test_topic_buttons_exist_in_the_catalogue():
    from buergerassistent.catalogue import default_catalogue

    catalogue = default_catalogue()
    buttons = fallback.topic_buttons(p.id for p in catalogue.curated())
    assert len(buttons) >= 5
    for button in buttons:
        assert button["payload"].startswith('/choose_procedure{"procedure": "')
    titles = {b["title"] for b in buttons}
    assert {"Umzug melden", "Personalausweis", "Kindergeld"} <= titles

"""Life situations over the REST channel against the real stack: for each of the seven, the
ordered checklist appears and the citizen can start one of its steps (by button, "das erste",
"Nummer 1", "2" or the step's name); one of them through to its form's first question."""

from __future__ import annotations

import pytest

from actions.life_situations import step_payload
from buergerassistent.catalogue import default_catalogue
from buergerassistent.life_situations import checklist, default_life_situations

pytestmark = pytest.mark.e2e

# (situation, what the citizen writes, the step that must come first)
SITUATIONS = [
    ("baby", "Wir bekommen ein Baby", "geburtsurkunde"),
    ("umzug", "Ich ziehe nach München", "halteverbot_umzug"),
    ("heirat", "Wir heiraten", "eheschliessung_anmelden"),
    ("todesfall", "Mein Vater ist gestorben", "sterbeurkunde"),
    ("selbststaendig", "Ich mache mich selbständig", "gewerbe_anmelden"),
    ("auto_gekauft", "Ich habe ein Auto gekauft", "kfz_zulassen"),
    ("studium", "Ich fange an zu studieren", "wohnsitz_anmelden"),
]


def _checklist_message(messages: list[dict]) -> dict:
    with_buttons = [m for m in messages if m.get("buttons")]
    assert with_buttons, messages
    return with_buttons[-1]


def _shows_checklist(chat, situation_id: str, text: str, first: str) -> list[dict]:
    messages = chat.say(text)
    message = _checklist_message(messages)
    expected = checklist(default_life_situations().get(situation_id), default_catalogue()).items
    assert expected[0].procedure == first
    # buttons in the order of the checklist, numbered
    assert [b["payload"] for b in message["buttons"]] == [step_payload(i.procedure) for i in expected]
    assert [b["title"] for b in message["buttons"]] == [f"{i.number}. {i.title}" for i in expected]
    # the text lists the same steps in the same order
    lines = message["text"].splitlines()
    rows = [next(n for n, line in enumerate(lines) if line.startswith(f"{i.number}. {i.title}")) for i in expected]
    assert rows == sorted(rows)
    for item in expected:
        if item.in_chat:
            assert f"{item.number}. {item.title} (hier im Chat möglich)" in message["text"]
    return messages


@pytest.mark.parametrize(("situation", "text", "first"), SITUATIONS, ids=[s[0] for s in SITUATIONS])
def test_the_checklist_appears_in_order(chat, situation, text, first):
    _shows_checklist(chat, situation, text, first)


def test_moving_das_erste_starts_the_halteverbot_form(chat):
    _shows_checklist(chat, "umzug", "Ich ziehe nach München", "halteverbot_umzug")
    offer = chat.say_text("das erste")
    assert "Halteverbot" in offer and "jetzt hier im Chat beantragen" in offer
    started = chat.say_text("Ja")
    assert "Schritt 1 von" in started and "Wie lautet Ihr Vorname?" in started


def test_self_employment_button_starts_the_trade_registration_form(chat):
    _shows_checklist(chat, "selbststaendig", "Ich mache mich selbständig", "gewerbe_anmelden")
    offer = chat.say_text(step_payload("gewerbe_anmelden"))
    assert "Gewerbe anmelden" in offer and "jetzt hier im Chat beantragen" in offer
    assert "Schritt 1 von" in chat.say_text("Ja")


def test_baby_button_presents_kindergeld(chat):
    _shows_checklist(chat, "baby", "wir bekommen nachwuchs", "geburtsurkunde")
    assert "Familienkasse" in chat.say_text(step_payload("kindergeld"))


def test_death_sympathy_first_then_the_certificate_by_name(chat):
    messages = _shows_checklist(chat, "todesfall", "Mein Vater ist gestorben", "sterbeurkunde")
    assert "Beileid" in (messages[0].get("text") or "")
    assert "Standesamt" in chat.say_text("Sterbeurkunde")


def test_wedding_nummer_1_presents_the_registration(chat):
    _shows_checklist(chat, "heirat", "Wir heiraten", "eheschliessung_anmelden")
    assert "Eheschließung anmelden" in chat.say_text("Nummer 1")


def test_car_2_presents_the_parking_permit_change(chat):
    _shows_checklist(chat, "auto_gekauft", "Ich habe ein Auto gekauft", "kfz_zulassen")
    assert "Bewohnerparkausweis" in chat.say_text("2")


def test_studies_das_zweite_presents_bafoeg(chat):
    _shows_checklist(chat, "studium", "Ich fange an zu studieren", "wohnsitz_anmelden")
    assert "BAföG" in chat.say_text("das zweite")


def test_a_named_procedure_still_goes_straight_to_it(chat):
    answer = chat.say_text("Elterngeld beantragen")
    assert "Elterngeld" in answer
    assert "der Reihe nach" not in answer


def test_after_declining_the_first_step_das_zweite_still_refers_to_the_checklist(chat):
    _shows_checklist(chat, "umzug", "Wir ziehen um", "halteverbot_umzug")
    assert "Halteverbot" in chat.say_text("das erste")
    chat.say_text("Nein")
    answer = chat.say_text("das zweite")
    assert "Wohnsitz anmelden" in answer and "jetzt hier im Chat beantragen" in answer

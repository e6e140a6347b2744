"""Life situations: recognition, the ordered checklist from the catalogue, choosing a step."""

from __future__ import annotations

import dataclasses

import pytest

from buergerassistent.catalogue import default_catalogue
from buergerassistent.life_situations import (
    LEBENSLAGEN_DIR,
    LifeSituationError,
    LifeSituations,
    checklist,
    checklist_text,
    deadline_texts,
    default_life_situations,
    first_checklist,
    load_situations,
    parse_situation,
    pick_step,
)

SITUATIONS = {
    "baby": [
        "wir bekommen ein Baby",
        "Wir bekommen Nachwuchs!",
        "ich bin schwanger",
        "wir bekomen ein babby",
        "Wir erwarten ein Kind",
    ],
    "umzug": ["ich ziehe nach München", "Umzug", "wir ziehen um", "ich bin umgezogen"],
    "heirat": ["wir heiraten", "Hochzeit", "Wir wollen nächstes Jahr heiraten, was müssen wir tun?"],
    "todesfall": ["mein Vater ist gestorben", "Todesfall in der Familie", "meine Mutter ist verstorbn"],
    "selbststaendig": ["ich mache mich selbständig", "Firma gründen", "ich mache mich selbststaendig"],
    "auto_gekauft": [
        "ich habe ein Auto gekauft",
        "Gebrauchtwagen gekauft",
        "hab nen neuen Gebrauchtwagen",
        "Auto vom Händler gekauft, was nun?",
    ],
    "studium": ["ich fange an zu studieren", "Studium beginnen", "Ich beginne im Oktober ein Studium"],
}


@pytest.fixture(scope="module")
def situations() -> LifeSituations:
    return default_life_situations()


@pytest.mark.parametrize(("expected", "text"), [(sid, text) for sid, texts in SITUATIONS.items() for text in texts])
def test_life_events_are_recognised(situations, expected, text):
    found = situations.recognise(text)
    assert found is not None and found.id == expected, text


@pytest.mark.parametrize(
    "text",
    [
        # a message naming one procedure goes straight to it
        "Elterngeld beantragen",
        "Kindergeld für unser Baby",
        "Sterbeurkunde beantragen, mein Vater ist gestorben",
        "Hochzeit anmelden",
        # what is said besides the event finds one procedure clearly
        "Halteverbot für den Umzug",
        "Zweitwohnsitz in München anmelden, weil ich hier studiere",
        # the other direction
        "ich habe mein Auto verkauft",
        "ich höre mit meiner Selbstständigkeit auf",
        "Umzug ins Ausland",
        "Ich ziehe nach Spanien, wie melde ich mich hier ab?",
        # nothing of the kind
        "Ich brauche eine Meldebescheinigung",
        "Hallo",
        "",
    ],
)
def test_requests_for_one_procedure_and_other_messages_are_no_life_situation(situations, text):
    assert situations.recognise(text) is None, text


def test_every_trigger_leads_to_its_own_situation(situations):
    for situation in situations:
        for trigger in situation.triggers:
            found = situations.recognise(trigger)
            assert found is not None and found.id == situation.id, (situation.id, trigger)


def test_the_seven_situations_are_declared_as_data():
    ids = {s.id for s in load_situations(LEBENSLAGEN_DIR)}
    assert ids == set(SITUATIONS)
    assert (LEBENSLAGEN_DIR / "README.md").exists()


def test_checklist_keeps_the_order_of_the_file_and_marks_what_can_be_done_in_the_chat(situations):
    catalogue = default_catalogue()
    cl = checklist(situations.get("umzug"), catalogue)
    assert [i.procedure for i in cl.items] == [s.procedure for s in situations.get("umzug").steps]
    assert [i.number for i in cl.items] == list(range(1, len(cl.items) + 1))
    for item in cl.items:
        assert item.in_chat == catalogue[item.procedure].has_form
    text = checklist_text(cl)
    lines = text.splitlines()
    positions = [next(n for n, line in enumerate(lines) if line.startswith(f"{i.number}. {i.title}")) for i in cl.items]
    assert positions == sorted(positions)
    assert "1. Halteverbot für einen Umzug beantragen (hier im Chat möglich)" in text
    assert "das erste" in text


def test_deadlines_come_only_from_the_catalogue_entry(situations):
    catalogue = default_catalogue()
    situation = situations.get("heirat")
    plain = checklist(situation, catalogue)
    assert all(item.deadlines == () for item in plain.items if not deadline_texts(catalogue[item.procedure]))
    assert "Frist" not in checklist_text(plain) or any(i.deadlines for i in plain.items)

    @dataclasses.dataclass(frozen=True)
    class Deadline:
        text: str

    entry = catalogue["eheschliessung_anmelden"]
    with_deadline = type("Entry", (), {})()
    for name in ("id", "name", "has_form"):
        setattr(with_deadline, name, getattr(entry, name))
    with_deadline.deadlines = (Deadline("frühestens sechs Monate vor dem Wunschtermin"),)

    class OneEntry:
        def get(self, proc_id):
            return with_deadline if proc_id == entry.id else catalogue.get(proc_id)

    cl = checklist(situation, OneEntry())
    assert cl.items[0].deadlines == ("frühestens sechs Monate vor dem Wunschtermin",)
    assert "Frist laut Katalog: frühestens sechs Monate vor dem Wunschtermin" in checklist_text(cl)
    # plain strings work too, and an entry without the field has none
    with_deadline.deadlines = ["bis zum 31.12."]
    assert deadline_texts(with_deadline) == ("bis zum 31.12.",)
    assert deadline_texts(object()) == ()


def test_a_reply_picks_a_step_by_position_or_by_name(situations):
    cl = checklist(situations.get("baby"), default_catalogue())
    ids = [i.procedure for i in cl.items]
    assert pick_step("das erste", cl) == ids[0]
    assert pick_step("die zweite bitte", cl) == ids[1]
    assert pick_step("Nummer 3", cl) == ids[2]
    assert pick_step("4", cl) == ids[3]
    assert pick_step("den letzten", cl) == ids[-1]
    assert pick_step("Kindergeld", cl) == "kindergeld"
    assert pick_step("mit dem Elterngeld", cl) == "elterngeld"
    assert pick_step("Nummer 9", cl) is None
    assert pick_step("nicht das erste", cl) is None
    assert pick_step("Was kostet das erste?", cl) is None
    assert pick_step("das erste oder das zweite", cl) is None
    assert pick_step("Hundesteuer", cl) is None


def test_a_reply_that_finds_another_procedure_is_a_new_request(situations):
    cl = checklist(situations.get("umzug"), default_catalogue())
    # "Personalausweis" is in a step's title (the address in the ID card), but this asks for a new card.
    assert situations.pick_step("Personalausweis beantragen", cl) is None
    assert situations.pick_step("das dritte", cl) == cl.items[2].procedure
    assert situations.pick_step("Anmeldung", cl) == "wohnsitz_anmelden"


def test_sympathy_only_for_a_death(situations):
    assert situations.get("todesfall").sympathy
    assert not any(s.sympathy for s in situations if s.id != "todesfall")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"id": "x", "intro": "i", "triggers": ["a"], "steps": [{"procedure": "meldebescheinigung"}]}, "name"),
        ({"id": "x", "name": "X", "intro": "i", "triggers": ["a"], "steps": []}, "no steps"),
        ({"id": "x", "name": "X", "intro": "i", "steps": [{"procedure": "meldebescheinigung"}]}, "no triggers"),
        ({"id": "x", "name": "X", "intro": "i", "triggers": ["a"], "steps": [{"note": "n"}]}, "without 'procedure'"),
    ],
)
def test_malformed_situations_are_refused(raw, problem):
    with pytest.raises(LifeSituationError, match=problem):
        parse_situation(raw, "x.yaml")


def test_a_step_can_leave_out_deadlines_that_do_not_fit_the_situation(situations):
    catalogue = default_catalogue()

    class Entry:
        def __init__(self, proc):
            self.id, self.name, self.has_form = proc.id, proc.name, proc.has_form
            self.deadlines = (f"Frist für {proc.id}",)

    class Catalogue:
        def get(self, proc_id):
            proc = catalogue.get(proc_id)
            return Entry(proc) if proc else None

    situation = situations.get("heirat")
    hidden = [s.procedure for s in situation.steps if not s.show_deadlines]
    assert hidden == ["personalausweis_beantragen"]
    text = checklist_text(checklist(situation, Catalogue()))
    assert "Frist laut Katalog: Frist für eheschliessung_anmelden" in text
    assert "Frist für personalausweis_beantragen" not in text


def test_deadlines_must_be_true_or_false():
    raw = {"id": "x", "name": "X", "intro": "i", "triggers": ["a"], "steps": [{"procedure": "p", "deadlines": "nein"}]}
    with pytest.raises(LifeSituationError, match="true or false"):
        parse_situation(raw, "x.yaml")


@pytest.mark.parametrize(
    ("text", "focus"),
    [
        ("Ich will nach der Geburt zwei Monate Elternzeit nehmen. Bekomme ich in der Zeit Geld?", "elterngeld"),
        ("Ich fange an zu studieren und brauche Geld vom Staat", "bafoeg"),
        ("Ich ziehe nach München", "wohnsitz_anmelden"),
    ],
)
def test_the_step_a_question_asks_about_is_offered_first(text, focus):
    cl = first_checklist(text)
    assert cl.focus == focus
    assert cl.offered[0] == focus
    # the others keep the checklist's order
    assert list(cl.offered[1:]) == [i.procedure for i in cl.items if i.procedure != focus]
    number = next(i.number for i in cl.items if i.procedure == focus)
    assert checklist_text(cl).startswith(f"Zu Ihrem Anliegen passt am ehesten Schritt {number}: ")


def test_a_question_that_names_a_step_gets_that_procedure_not_the_checklist():
    assert first_checklist("Unser Baby ist da, wo beantragen wir das Kindergeld für die Familienkasse?") is None


@pytest.mark.parametrize(
    "text", ["wir bekommen ein Baby", "Wir erwarten ein Kind", "Umzug", "Hochzeit", "meine Mutter ist verstorbn"]
)
def test_a_plain_life_event_keeps_the_checklist_order(text):
    cl = first_checklist(text)
    assert cl is not None
    assert cl.offered == tuple(i.procedure for i in cl.items)
    assert not checklist_text(cl).startswith("Zu Ihrem Anliegen")


def test_the_focus_leaves_the_list_in_the_order_of_time():
    # "Sie sind neu in München?" is about the registration, which comes after the parking ban
    cl = first_checklist("Sie sind neu in München?")
    assert cl.focus == "wohnsitz_anmelden"
    lines = checklist_text(cl).splitlines()
    assert lines[0] == "Zu Ihrem Anliegen passt am ehesten Schritt 2: Wohnsitz anmelden oder ummelden."
    assert [line[:2] for line in lines if line[:1].isdigit()] == ["1.", "2.", "3.", "4.", "5.", "6."][: len(cl.items)]

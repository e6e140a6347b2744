"""Facts of catalogue entries (issue 15): the loader reads deadlines, fact sources, unknown
markers and contact data, refuses malformed ones, and the answers state them with their source
or say honestly that they are unknown and where to ask."""

from __future__ import annotations

import datetime as dt

import pytest

from buergerassistent import answers
from buergerassistent.catalogue import CatalogueError, default_catalogue, parse_procedure

BASE = {"id": "x", "name": "Testverfahren", "description": "Sie testen etwas.", "authority": "Testamt"}


def parse(**extra):
    return parse_procedure({**BASE, **extra})


def test_old_entries_without_the_new_keys_still_load():
    proc = parse(documents=None, fees=None, processing_time=None)
    assert proc.deadlines == () and proc.fact_sources == {} and proc.unknown == {} and proc.contact is None


def test_unknown_facts_need_a_reason_and_where_to_ask():
    proc = parse(processing_time={"unknown": "Der Katalog nennt keine Dauer.", "ask": "Testamt"})
    assert proc.processing_time is None
    assert proc.unknown["processing_time"].ask == "Testamt"
    with pytest.raises(CatalogueError, match="ask"):
        parse(fees={"unknown": "Weiß niemand."})
    with pytest.raises(CatalogueError, match="reason"):
        parse(deadlines={"unknown": "", "ask": "Testamt"})
    with pytest.raises(CatalogueError, match="not both"):
        parse(online={"available": True, "unknown": "?", "ask": "Testamt"})


def test_deadlines_are_texts_or_fixed_days():
    proc = parse(deadlines=["Innerhalb von zwei Wochen.", {"text": "Karte von 2008", "date": dt.date(2029, 1, 19)}])
    assert proc.deadlines[0].date is None
    assert proc.deadlines[1].date == dt.date(2029, 1, 19)
    assert parse(deadlines=[{"text": "t", "date": "2029-01-19"}]).deadlines[0].date == dt.date(2029, 1, 19)
    with pytest.raises(CatalogueError, match="deadline date"):
        parse(deadlines=[{"text": "t", "date": "19.01.2029"}])
    with pytest.raises(CatalogueError, match="deadline"):
        parse(deadlines=[{"date": "2029-01-19"}])


def test_fact_sources_need_a_source_and_a_checked_date():
    proc = parse(
        fact_sources={"default": {"source": "Stadt München, Katalog", "as_of": "2026-06", "checked": "2026-12-03"}}
    )
    assert proc.source_of("fees").label == "Quelle: Stadt München, Stand 06/2026"
    with pytest.raises(CatalogueError, match="checked"):
        parse(fact_sources={"fees": {"source": "X"}})
    with pytest.raises(CatalogueError, match="unknown fact"):
        parse(fact_sources={"price": {"source": "X", "checked": "2026-12-03"}})
    with pytest.raises(CatalogueError, match="source"):
        parse(fact_sources={"fees": {"checked": "2026-12-03"}})


def test_contact_needs_name_and_source():
    proc = parse(contact={"name": "Testamt", "phone": "089 1", "source": "Q", "checked": "2026-12-03"})
    assert proc.contact.phone == "089 1" and proc.contact.opening_hours is None
    with pytest.raises(CatalogueError, match="contact"):
        parse(contact={"name": "Testamt", "phone": "089 1"})


# --------------------------------------------------------------------------- answers
@pytest.fixture(scope="module")
def catalogue():
    return default_catalogue()


def test_fact_intents_are_wired_to_answers():
    assert answers.ANSWERS_BY_INTENT["ask_processing_time"] is answers.processing_time
    assert answers.ANSWERS_BY_INTENT["ask_deadline"] is answers.deadlines
    assert answers.ANSWERS_BY_INTENT["ask_contact"] is answers.contact


def test_documents_are_known_for_the_entries_the_issue_names(catalogue):
    for pid in (
        "personalausweis_beantragen",
        "kfz_zulassen",
        "eheschliessung_anmelden",
        "gewerbe_anmelden",
        "wohngeld",
    ):
        text = answers.documents(catalogue[pid])
        assert "weiß ich leider nicht" not in text and "Quelle:" in text, pid


def test_registration_deadline_is_two_weeks_with_its_law(catalogue):
    text = answers.deadlines(catalogue["wohnsitz_anmelden"])
    assert "zwei Wochen" in text and "§ 17" in text and "Quelle: Bundesmeldegesetz" in text


def test_driving_licence_deadlines_are_staggered_and_say_which_have_passed(catalogue):
    proc = catalogue["fuehrerschein_umtausch"]
    dates = {d.text: d.date for d in proc.deadlines if d.date}
    assert len(set(dates.values())) == 12  # 2022 … 2033
    text = answers.deadlines(proc, today=dt.date(2026, 12, 3))
    lines = {line for line in text.splitlines() if line.startswith("- ") and "bis " in line}
    passed = {line for line in lines if "abgelaufen" in line}
    # all paper licences except holders born before 1953, and cards issued 1999–2001
    assert len(passed) == 5
    assert all("geboren vor 1953" not in line for line in passed)
    assert any("1999 bis 2001" in line and "19.01.2026" in line for line in passed)
    assert any("geboren vor 1953" in line and "19.01.2033" in line and "abgelaufen" not in line for line in lines)
    assert "Anlage 8e FeV" in text
    # the same data a year later: the 2027 deadline has passed too
    assert "2002 bis 2004: bis 19.01.2027 (diese Frist ist abgelaufen)" in answers.deadlines(
        proc, today=dt.date(2027, 6, 1)
    )
    # no single "bis 2033 for everyone" any more
    assert "spätestens bis 19. Januar 2033" not in proc.description


def test_unknown_processing_time_is_honest_and_says_where_to_ask(catalogue):
    text = answers.processing_time(catalogue["kindergeld"])
    assert "weiß ich leider nicht" in text and "Familienkasse" in text and "115" in text


def test_known_processing_time_names_its_source(catalogue):
    text = answers.processing_time(catalogue["reisepass_beantragen"])
    assert "drei bis sechs Arbeitstage" in text and "Quelle: Stadt München, Stand 06/2026" in text


def test_contact_answer_uses_the_catalogue_and_admits_unknown_opening_hours(catalogue):
    text = answers.contact(catalogue["personalausweis_beantragen"])
    assert "089 233-96000" in text and "Öffnungszeiten kenne ich leider nicht" in text and "Quelle:" in text
    unknown = answers.contact(catalogue["kindergeld"])
    assert "kenne ich leider nicht" in unknown and "115" in unknown
    hours = answers.contact(catalogue["bafoeg"])
    assert "Dienstag 10 bis 12 Uhr" in hours


def test_every_core_procedure_answers_every_fact_question(catalogue):
    for proc in catalogue.curated():
        for intent, answer in answers.ANSWERS_BY_INTENT.items():
            text = answer(proc)
            assert text and proc.name in text, (proc.id, intent)
            assert (
                "Quelle:" in text
                or "weiß ich leider nicht" in text
                or "kenne ich leider nicht" in text
                or ("keine Angaben" in text)
            ), (proc.id, intent, text)


def test_overview_lists_documents_and_the_deadline_with_sources(catalogue):
    text = answers.overview(catalogue["wohnsitz_anmelden"])
    assert "Unterlagen:\n- " in text and "Wohnungsgeberbestätigung" in text
    assert "Frist: Melden Sie sich innerhalb von zwei Wochen" in text
    assert text.splitlines()[-1].startswith("Quelle") and "Stadt München" in text.splitlines()[-1]
    # dated deadlines depend on the case: the overview sends the citizen to the deadline question
    assert "hängt von Ihrem Fall ab" in answers.overview(catalogue["fuehrerschein_umtausch"])

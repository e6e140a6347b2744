"""The handoff's domain (issue 19): office hours with Bavarian public holidays, the context card
and its masking, the store (one member of staff per case, audit of every access, call-back only
with consent, "Gespräch löschen"), the texts, and the guard that routes messages to staff."""

from __future__ import annotations

import datetime as dt

import pytest

from buergerassistent import handoff
from buergerassistent.catalogue import default_catalogue
from buergerassistent.handoff import card as cards
from buergerassistent.handoff import office_hours, texts
from buergerassistent.handoff.office_hours import BERLIN, OfficeHoursError, parse
from buergerassistent.handoff.store import HandoffStore, digest
from rasa_runtime import handoff_guard

HOURS = "Mo-Do 08:00-16:00; Fr 08:00-12:00"


def at(year, month, day, hour, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=BERLIN)


# -- office hours ------------------------------------------------------------------------------


def test_office_hours_per_weekday():
    hours = parse(HOURS)
    assert hours.is_open(at(2026, 12, 3, 10))  # Thursday
    assert not hours.is_open(at(2026, 12, 3, 16))  # end is exclusive
    assert not hours.is_open(at(2026, 12, 3, 7, 59))
    assert hours.is_open(at(2026, 12, 4, 11, 59)) and not hours.is_open(at(2026, 12, 4, 12))  # Friday
    assert not hours.is_open(at(2026, 12, 5, 10))  # Saturday


def test_bavarian_public_holidays_close_the_desk():
    bavaria, berlin = parse(HOURS, "BY"), parse(HOURS, "BE")
    # Fronleichnam (Thursday 4 June 2026) and Heilige Drei Könige (Wednesday 6 January 2027) are
    # holidays in Bavaria, not in Berlin.
    for day in (at(2026, 6, 4, 10), at(2027, 1, 6, 10)):
        assert not bavaria.is_open(day) and berlin.is_open(day)
    assert bavaria.closed_for_holiday(dt.date(2026, 6, 4)) == "Fronleichnam"
    assert not bavaria.is_open(at(2026, 12, 25, 10))  # everywhere
    assert parse(HOURS, "keine").is_open(at(2026, 12, 24, 10))  # Heiligabend is no holiday anyway
    assert parse(HOURS, "keine").is_open(at(2026, 6, 4, 10))


def test_next_opening_skips_holidays_and_the_weekend():
    hours = parse(HOURS, "BY")
    # Thursday 24 Dec after hours → 25/26 holidays, 27 Sunday → Monday 28 Dec, 08:00.
    assert hours.next_opening(at(2026, 12, 24, 17)) == at(2026, 12, 28, 8)
    assert hours.next_opening(at(2026, 12, 3, 7)) == at(2026, 12, 3, 8)
    assert hours.next_opening(at(2026, 12, 3, 10)) == at(2026, 12, 3, 10)
    assert parse("").next_opening(at(2026, 12, 3, 10)) is None


def test_office_hours_text_and_bad_settings():
    hours = parse("Mo-Do 08:00-12:00, 13:00-16:00; Fr 08:00-12:00")
    assert hours.describe() == (
        "Montag bis Donnerstag 08:00–12:00 Uhr und 13:00–16:00 Uhr, Freitag 08:00–12:00 Uhr, nicht an Feiertagen"
    )
    for bad, word in (("Xy 08:00-12:00", "Wochentag"), ("Mo 12:00-08:00", "endet vor"), ("Mo 8 bis 12", "HH:MM")):
        with pytest.raises(OfficeHoursError, match=word):
            parse(bad)


def test_configured_office_hours_come_from_the_settings(monkeypatch):
    monkeypatch.setenv("HANDOFF_OFFICE_HOURS", "Sa 10:00-11:00")
    monkeypatch.setenv("HANDOFF_HOLIDAY_REGION", "BY")
    hours = office_hours.configured()
    assert hours.is_open(at(2026, 12, 5, 10, 30)) and not hours.is_open(at(2026, 12, 3, 10))


# -- texts -------------------------------------------------------------------------------------

PROC = default_catalogue().get("meldebescheinigung")


def test_closed_says_why_when_again_and_other_ways():
    text, buttons = texts.closed(parse(HOURS, "BY"), PROC, now=at(2026, 12, 25, 10))
    assert "Feiertag (Erster Weihnachtstag)" in text and "am Montag, 28.12. ab 08:00 Uhr" in text
    assert "115" in text and "Rückruf" in text
    assert [b["payload"] for b in buttons] == ["/request_callback", "/handoff_decline"]
    evening, _ = texts.closed(parse(HOURS, "BY"), None, now=at(2026, 12, 3, 18))
    assert "besetzt: Montag bis Donnerstag" in evening and "morgen ab 08:00 Uhr" in evening


def test_offer_says_how_long_and_asks_before_showing_answers():
    text, buttons = texts.offer(300, has_answers=True)
    assert "höchstens 5 Minuten" in text and "nur, wenn Sie zustimmen" in text
    assert buttons[0]["payload"] == '/handoff_accept{"share_data": "ja"}'
    assert buttons[1]["payload"] == '/handoff_accept{"share_data": "nein"}'
    _, plain = texts.offer(60, has_answers=False)
    assert [b["payload"] for b in plain] == ["/handoff_accept", "/handoff_decline"]


# -- context card ------------------------------------------------------------------------------

ANSWERS = {"vorname": "Erika", "nachname": "Mustermann", "geburtsdatum": "1964-08-12"}
ASKED = ["Ich brauche eine Meldebescheinigung", "Meine Mail ist erika@example.org, Tel. 0151 23456789"]


def test_card_masks_personal_data_without_consent():
    card = cards.build(PROC, ASKED, ANSWERS, shared=False, channel="socketio", requested="strasse")
    shown = cards.render_case("H-TEST", card)
    for secret in ("Erika", "Mustermann", "1964", "erika@example.org", "0151"):
        assert secret not in shown
    assert "Formular: 3 von 8 Angaben ausgefüllt (Werte verborgen: keine Einwilligung)" in shown
    assert "→ Straße und Hausnummer: – (wird gerade gefragt)" in shown
    assert "Kanal: Web-Chat · Sprache: Deutsch" in shown and "Meldebescheinigung" in shown


def test_card_shows_answers_with_consent_and_queue_view_never():
    card = cards.build(PROC, ASKED, ANSWERS, shared=True, channel="socketio")
    assert "Vorname: Erika" in cards.render_case("H-TEST", card)
    queue = cards.render_queue("H-TEST", card)
    assert "Erika" not in queue and "Meldebescheinigung" in queue and "!übernehmen H-TEST" in queue
    assert "erika@example.org" not in queue and "Ich brauche" not in queue


# -- store -------------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path):
    return HandoffStore(f"sqlite:///{tmp_path / 'handoff.db'}")


def test_a_case_goes_to_one_member_of_staff_and_every_access_is_logged(store):
    case = store.open_case("conv-1", {"procedure": "Meldebescheinigung"})
    assert store.open_case("conv-1", {}).case_id == case.case_id  # a second "ja" opens no second case
    store.queue_message(case.case_id, "Hallo?")
    assert store.get(case.case_id).queued == ["Hallo?"]
    assert store.take(case.case_id, "@anna:test", "!room:test")
    assert not store.take(case.case_id, "@ben:test", "!other:test")
    assert store.case_in_room("!room:test").agent == "@anna:test"
    store.log_access("@anna:test", "conv-1", case.case_id, "take")
    store.log_access("@anna:test", "conv-1", case.case_id, "reply")
    entries = store.audit_for("conv-1")
    assert [(e["staff"], e["what"], e["case_id"]) for e in entries] == [
        ("@anna:test", "take", case.case_id),
        ("@anna:test", "reply", case.case_id),
    ]
    assert store.audit_for("conv-2") == []
    assert store.close(case.case_id) and store.open_case_of("conv-1") is None


def test_call_back_notices_hold_no_personal_data_and_deleting_the_chat(store):
    from buergerassistent.handoff import callback

    with pytest.raises(ValueError):
        callback.application({"callback_name": "Erika Mustermann", "callback_consent": "nein"}, None)
    store.note_callback("rueckrufbitte-1", "conv-1", "Meldebescheinigung", None)
    store.note_callback("rueckrufbitte-1", "conv-1", "Meldebescheinigung", "BA-2026-0123ABCD")  # delivered later
    [notice] = store.callback_notices(only_unannounced=True)
    assert (notice.case_number, notice.procedure) == ("BA-2026-0123ABCD", "Meldebescheinigung")
    assert store.callback_by_case_number("BA-2026-0123ABCD") == notice
    case = store.open_case("conv-1", {})
    store.log_access("@anna:test", "conv-1", case.case_id, "take")
    store.forget_conversation("conv-1")
    assert store.get(case.case_id) is None
    assert [(n.application_id, n.conversation_id) for n in store.callback_notices()] == [("rueckrufbitte-1", None)]
    store.mark_announced("rueckrufbitte-1")
    assert store.callback_notices(only_unannounced=True) == []
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT conversation_digest FROM handoff_audit").all()
    assert rows == [(digest("conv-1"),)]  # the audit keeps a hash, no conversation id


def test_waiting_cases_time_out(store):
    case = store.open_case("conv-1", {})
    assert store.waiting_since(case.created_at - 1) == []
    assert [c.case_id for c in store.waiting_since(case.created_at + 1)] == [case.case_id]


# -- the guard in the Rasa process ------------------------------------------------------------


def test_while_handed_over_every_message_goes_to_staff():
    parse_data = {"text": "abbrechen", "intent": {"name": "cancel", "confidence": 0.99}, "entities": [{"entity": "x"}]}
    handoff_guard.adjust(parse_data, handoff.ACTIVE)
    assert parse_data["intent"]["name"] == "handoff_message" and parse_data["entities"] == []
    assert parse_data["handoff"] == {"intent": "cancel"}
    untouched = {"text": "abbrechen", "intent": {"name": "cancel", "confidence": 0.99}}
    assert handoff_guard.adjust(dict(untouched), None) == untouched


def test_only_a_waiting_citizen_can_leave_the_queue():
    for text in ("Nicht mehr warten", "ich möchte nicht länger warten!", "zurück zum Assistenten bitte"):
        assert handoff.leaves_queue(text), text
    for text in ("Ich kann nicht warten, es ist dringend", "warten Sie bitte", "zurück"):
        assert not handoff.leaves_queue(text), text
    waiting = handoff_guard.adjust({"text": "Nicht mehr warten", "intent": {"name": "deny"}}, handoff.WAITING)
    assert waiting["intent"]["name"] == "handoff_cancel"
    active = handoff_guard.adjust({"text": "Nicht mehr warten", "intent": {"name": "deny"}}, handoff.ACTIVE)
    assert active["intent"]["name"] == "handoff_message"  # a person writes: they hand back


# -- typed answers to the offers ----------------------------------------------------------------

OFFER = {"/handoff_accept", "/handoff_decline"}
OFFER_WITH_ANSWERS = {
    '/handoff_accept{"share_data": "ja"}',
    '/handoff_accept{"share_data": "nein"}',
    "/handoff_decline",
}
CALLBACK_OFFER = {"/request_callback", "/handoff_decline"}


@pytest.mark.parametrize(
    "text", ["ja", "Ja bitte", "gerne", "Gerne!", "ok, verbinden Sie mich", "Okay", "ja, leiten Sie mich weiter"]
)
def test_a_typed_yes_right_after_the_offer_accepts_it_without_sharing_answers(text):
    for offered in (OFFER, OFFER_WITH_ANSWERS):
        parse_data = handoff_guard.adjust({"text": text, "intent": {"name": "affirm"}, "entities": []}, None, offered)
        assert parse_data["intent"]["name"] == "handoff_accept", text
        assert parse_data["entities"][0]["entity"] == "share_data" and parse_data["entities"][0]["value"] == "nein"
        assert parse_data["handoff"] == {"intent": "affirm"}


def test_answers_are_shared_only_when_the_citizen_says_so():
    shared = handoff_guard.adjust(
        {"text": "Ja, mit meinen Angaben", "intent": {"name": "affirm"}}, None, OFFER_WITH_ANSWERS
    )
    assert shared["intent"]["name"] == "handoff_accept" and shared["entities"][0]["value"] == "ja"
    kept = handoff_guard.adjust(
        {"text": "ja, ohne meine Angaben", "intent": {"name": "affirm"}}, None, OFFER_WITH_ANSWERS
    )
    assert kept["entities"][0]["value"] == "nein"


@pytest.mark.parametrize("text", ["nein", "Nein danke", "nein, danke.", "lieber nicht", "Nee"])
def test_a_typed_no_right_after_an_offer_declines_it(text):
    for offered in (OFFER, CALLBACK_OFFER):
        parse_data = handoff_guard.adjust({"text": text, "intent": {"name": "deny"}}, None, offered)
        assert parse_data["intent"]["name"] == "handoff_decline", text


@pytest.mark.parametrize(
    "text", ["Rückruf anfordern", "ja, rufen Sie mich zurück", "ja", "Ja bitte", "Ich möchte einen Rückruf"]
)
def test_a_typed_yes_to_the_call_back_offer_asks_for_the_call_back(text):
    parse_data = handoff_guard.adjust({"text": text, "intent": {"name": "affirm"}}, None, CALLBACK_OFFER)
    assert parse_data["intent"]["name"] == "request_callback", text


def test_elsewhere_yes_and_no_keep_their_other_meanings():
    # (The explanation after three failed answers has the button to a person, not the offer
    # itself: there "ja" means "noch einmal versuchen".)
    explained = {"/save_draft", "/cancel", "/ask_human"}
    for offered in (set(), {"/affirm", "/deny"}, {'/choose_procedure{"procedure": "meldebescheinigung"}'}, explained):
        for text in ("ja", "nein danke", "Rückruf anfordern"):
            before = {"text": text, "intent": {"name": "affirm"}, "entities": []}
            assert handoff_guard.adjust(dict(before), None, offered) == before
    # Right after the offer, a question or a longer message is left to the NLU.
    for text in (
        "ja, aber was kostet das?",
        "Erika",
        "Ich habe eine Frage zu meinem Bescheid über die Hundesteuer bitte",
    ):
        before = {"text": text, "intent": {"name": "inform"}, "entities": []}
        assert handoff_guard.adjust(dict(before), None, OFFER) == before
    # While handed over the citizen writes to staff: "ja" is a message for them.
    assert (
        handoff_guard.adjust({"text": "ja", "intent": {"name": "affirm"}}, handoff.ACTIVE, OFFER)["intent"]["name"]
        == "handoff_message"
    )

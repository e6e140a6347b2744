"""The generic validate_<form> action and the summary/change/cancel actions, on tracker fixtures."""

from __future__ import annotations

import asyncio

from actions.dialogue import ActionChangeField, ActionHandleDeny
from actions.forms import (
    CONFIRM_SLOT,
    FAILURES_SLOT,
    PENDING_SLOT,
    ValidateBewohnerparkausweisForm,
    ValidateMeldebescheinigungForm,
    ValidateSperrmuellForm,
    form_data,
)
from buergerassistent.catalogue import default_catalogue
from buergerassistent.repair import SKIPPED
from tests.chat_actions.conftest import make_tracker, slot_events, texts

FILLED = {
    "vorname": "Erika",
    "nachname": "Mustermann",
    "geburtsdatum": "1964-08-12",
    "strasse": "Marienplatz 8",
    "plz": "80331",
}


def run(action, tracker, dispatcher):
    return asyncio.run(action.run(dispatcher, tracker, {}))


def followups(events):
    return [e["name"] for e in events if e.get("event") == "followup"]


def answer(form, slot, text, slots=None, intent="inform"):
    return make_tracker(
        text=text,
        intent=intent,
        slots={**(slots or {}), slot: text, "requested_slot": slot},
        active_loop=form,
        events=[{"event": "slot", "name": slot, "value": text}],
    )


def test_correction_sets_the_named_field_and_asks_the_same_question_again(dispatcher):
    tracker = answer("meldebescheinigung_form", "ort", "nein, die Postleitzahl ist 80335", FILLED)
    events = slot_events(run(ValidateMeldebescheinigungForm(), tracker, dispatcher))
    assert events["plz"] == "80335"
    assert events["ort"] is None  # asked again
    assert "Postleitzahl" in texts(dispatcher) and "80335" in texts(dispatcher)


def test_change_request_reopens_the_field_first(dispatcher):
    tracker = answer("meldebescheinigung_form", "ort", "ändere das Geburtsdatum", FILLED)
    events = slot_events(run(ValidateMeldebescheinigungForm(), tracker, dispatcher))
    assert events["geburtsdatum"] is None and events["requested_slot"] == "geburtsdatum"


def test_several_values_at_once_are_echoed_and_stored_only_after_yes(dispatcher):
    tracker = answer("meldebescheinigung_form", "vorname", "Erika Mustermann, geboren 12.8.1964")
    events = slot_events(run(ValidateMeldebescheinigungForm(), tracker, dispatcher))
    # nothing stored yet: the values wait for the citizen's "Ja"
    assert events["vorname"] is None and "nachname" not in events and "geburtsdatum" not in events
    assert events["requested_slot"] == CONFIRM_SLOT
    pending = events[PENDING_SLOT]
    assert pending["values"] == {"vorname": "Erika", "nachname": "Mustermann", "geburtsdatum": "1964-08-12"}
    message = dispatcher.messages[-1]
    assert "Ich habe übernommen: Vorname Erika, Familienname Mustermann, Geburtsdatum 12.08.1964" in message["text"]
    assert [b["title"] for b in message["buttons"]] == ["Ja", "Korrigieren"]

    dispatcher.messages.clear()
    events = slot_events(run(ValidateMeldebescheinigungForm(), confirm("Ja", pending), dispatcher))
    assert (events["vorname"], events["nachname"], events["geburtsdatum"]) == ("Erika", "Mustermann", "1964-08-12")
    assert events[PENDING_SLOT] is None and events[CONFIRM_SLOT] is None
    assert "requested_slot" not in events  # the form asks the next open field


def confirm(text, pending, slots=None):
    return make_tracker(
        text=text,
        intent="inform",
        slots={**(slots or {}), PENDING_SLOT: pending, "requested_slot": CONFIRM_SLOT},
        active_loop="meldebescheinigung_form",
        events=[],
    )


def at_echo(text, intent, pending):
    """The message while the echo waits, as ActionFormInterruption gets it (NLU read a question)."""
    return make_tracker(
        text=text,
        intent=intent,
        slots={"procedure": "meldebescheinigung", PENDING_SLOT: pending, "requested_slot": CONFIRM_SLOT},
        active_loop="meldebescheinigung_form",
    )


def test_korrigieren_drops_the_values_and_asks_field_by_field(dispatcher):
    pending = {"values": {"vorname": "Anna", "nachname": "Lena"}, "ask": "vorname"}
    events = slot_events(run(ValidateMeldebescheinigungForm(), confirm("Korrigieren", pending), dispatcher))
    assert "vorname" not in events and "nachname" not in events
    assert events["requested_slot"] == "vorname" and events[PENDING_SLOT] == {"single": "vorname"}
    assert "Nichts davon ist gespeichert" in texts(dispatcher)
    # the next answer to the first name is taken whole, not split again
    dispatcher.messages.clear()
    tracker = answer("meldebescheinigung_form", "vorname", "Anna Lena", {PENDING_SLOT: {"single": "vorname"}})
    events = slot_events(run(ValidateMeldebescheinigungForm(), tracker, dispatcher))
    assert events["vorname"] == "Anna Lena" and "nachname" not in events and events[PENDING_SLOT] is None


def test_a_correction_at_the_echo_changes_that_value_and_echoes_again(dispatcher):
    pending = {"values": {"vorname": "Max", "nachname": "Mustermann"}, "ask": "vorname"}
    tracker = confirm("nein, der Familienname ist Muster", pending)
    events = slot_events(run(ValidateMeldebescheinigungForm(), tracker, dispatcher))
    assert "nachname" not in events  # still not stored
    assert events[PENDING_SLOT]["values"] == {"vorname": "Max", "nachname": "Muster"}
    assert "Familienname Muster" in texts(dispatcher) and "Stimmt das?" in texts(dispatcher)


def test_an_unclear_answer_at_the_echo_stores_nothing_and_asks_again(dispatcher):
    pending = {"values": {"vorname": "Max", "nachname": "Mustermann"}, "ask": "vorname"}
    events = slot_events(run(ValidateMeldebescheinigungForm(), confirm("Hauptstraße 5", pending), dispatcher))
    assert events.get("vorname") is None and events[PENDING_SLOT] == pending
    assert "Ja" in texts(dispatcher) and "Korrigieren" in texts(dispatcher)


def test_the_next_answer_instead_of_yes_keeps_the_echo_and_is_read_for_the_next_field(dispatcher):
    # Found as a citizen: "12.03.1985" after the echo of the full name got "Bitte antworten Sie
    # mit „Ja“ …" again and again. Going on with the next answer means the echo was right.
    pending = {"values": {"vorname": "Erika", "nachname": "Mustermann"}, "ask": "vorname"}
    events = slot_events(run(ValidateMeldebescheinigungForm(), confirm("12.03.1985", pending), dispatcher))
    assert (events["vorname"], events["nachname"], events["geburtsdatum"]) == ("Erika", "Mustermann", "1985-03-12")
    assert events[PENDING_SLOT] is None and events.get("requested_slot") != CONFIRM_SLOT
    assert "Vorname Erika, Familienname Mustermann gespeichert" in texts(dispatcher)
    assert "Bitte antworten Sie" not in texts(dispatcher)


def test_an_invalid_next_answer_after_the_echo_is_refused_like_any_answer(dispatcher):
    # A date in the future fits the date field's form, not its checks: the echo is kept, the date
    # is refused with the field's own message, nothing wrong is stored.
    pending = {"values": {"vorname": "Erika", "nachname": "Mustermann"}, "ask": "vorname"}
    events = slot_events(run(ValidateMeldebescheinigungForm(), confirm("12.03.2091", pending), dispatcher))
    assert events.get("geburtsdatum") is None and events.get("vorname") is None
    assert events[PENDING_SLOT] == pending and "Stimmt das?" in texts(dispatcher)


def test_several_next_answers_after_the_echo_are_echoed_again(dispatcher):
    pending = {"values": {"vorname": "Erika", "nachname": "Mustermann"}, "ask": "vorname"}
    tracker = confirm("12.03.1985, Hauptstraße 5", pending)
    events = slot_events(run(ValidateMeldebescheinigungForm(), tracker, dispatcher))
    assert (events["vorname"], events["nachname"]) == ("Erika", "Mustermann")  # the first echo, kept
    assert "geburtsdatum" not in events or events["geburtsdatum"] is None  # the new values wait
    assert events[PENDING_SLOT]["values"] == {"geburtsdatum": "1985-03-12", "strasse": "Hauptstraße 5"}
    assert events["requested_slot"] == CONFIRM_SLOT and "Stimmt das?" in texts(dispatcher)


def test_a_question_about_a_later_field_at_the_echo_is_answered_for_that_field(dispatcher):
    pending = {"values": {"vorname": "Erika", "nachname": "Mustermann"}, "ask": "vorname"}
    tracker = confirm("warum braucht ihr mei adress?", pending)
    events = slot_events(run(ValidateMeldebescheinigungForm(), tracker, dispatcher))
    street = default_catalogue()["meldebescheinigung"].field("strasse")
    assert street.label in texts(dispatcher) and (street.why or street.help)[:30] in texts(dispatcher)
    assert events[PENDING_SLOT] == pending and events["requested_slot"] == CONFIRM_SLOT  # still waiting


def test_a_question_without_a_field_at_the_echo_is_answered_for_the_field_asked(dispatcher):
    pending = {"values": {"vorname": "Erika", "nachname": "Mustermann"}, "ask": "vorname"}
    run(ValidateMeldebescheinigungForm(), confirm("wieso?", pending), dispatcher)
    assert "Zu „Vorname“" in texts(dispatcher) and "Stimmt das?" in texts(dispatcher)


def test_the_next_answer_read_as_a_question_by_nlu_keeps_the_echo(dispatcher):
    from actions.forms import ActionFormInterruption

    # NLU may read a choice ("erweitert") or a date as a question intent: the interruption then
    # gets the message. It is the next answer all the same.
    pending = {"values": {"vorname": "Erika", "nachname": "Mustermann"}, "ask": "vorname"}
    tracker = at_echo("12.03.1985", "ask_processing_time", pending)
    events = slot_events(run(ActionFormInterruption(), tracker, dispatcher))
    assert (events["vorname"], events["nachname"], events["geburtsdatum"]) == ("Erika", "Mustermann", "1985-03-12")
    assert events[PENDING_SLOT] is None and events["requested_slot"] is None
    assert "gespeichert" in texts(dispatcher)


def test_a_question_naming_a_field_read_by_nlu_at_the_echo_is_answered_for_that_field(dispatcher):
    from actions.forms import ActionFormInterruption

    pending = {"values": {"vorname": "Erika", "nachname": "Mustermann"}, "ask": "vorname"}
    tracker = at_echo("wozu braucht ihr die Postleitzahl?", "ask_why_field", pending)
    events = slot_events(run(ActionFormInterruption(), tracker, dispatcher))
    assert "Zu „Postleitzahl“" in texts(dispatcher) and "Vorname Erika, Familienname Mustermann" in texts(dispatcher)
    assert events["requested_slot"] == CONFIRM_SLOT and "nachname" not in events


def test_a_name_after_the_echo_is_no_sign_of_going_on(dispatcher):
    # A place or a name would pass any weak field: it is not taken as the next answer.
    pending = {"values": {"vorname": "Erika", "nachname": "Mustermann"}, "ask": "vorname"}
    events = slot_events(run(ValidateMeldebescheinigungForm(), confirm("Musterfrau", pending), dispatcher))
    assert events.get("vorname") is None and events[PENDING_SLOT] == pending


def test_a_name_for_the_next_field_at_the_echo_is_added_to_the_echo_not_stored(dispatcher):
    # Found as a citizen: after "Vorname Max. Stimmt das?" the family name got "Bitte antworten
    # Sie mit „Ja“ …" again and again. It may also be meant as a new first name, so it is shown
    # in the echo, and only "Ja" stores both.
    pending = {"values": {"vorname": "Max"}, "ask": "vorname"}
    events = slot_events(run(ValidateMeldebescheinigungForm(), confirm("Mustermann", pending), dispatcher))
    assert events.get("vorname") is None and events.get("nachname") is None
    assert events[PENDING_SLOT]["values"] == {"vorname": "Max", "nachname": "Mustermann"}
    assert events["requested_slot"] == CONFIRM_SLOT
    said = texts(dispatcher)
    assert "als „Familienname“ dazugenommen" in said and "Vorname Max, Familienname Mustermann" in said, said
    assert "Bitte antworten Sie" not in said
    dispatcher.messages.clear()
    events = slot_events(run(ValidateMeldebescheinigungForm(), confirm("Ja", events[PENDING_SLOT]), dispatcher))
    assert (events["vorname"], events["nachname"]) == ("Max", "Mustermann")


def test_the_echoed_value_typed_again_is_not_added_as_the_next_field(dispatcher):
    pending = {"values": {"vorname": "Max"}, "ask": "vorname"}
    events = slot_events(run(ValidateMeldebescheinigungForm(), confirm("max", pending), dispatcher))
    assert events[PENDING_SLOT] == pending and "Familienname" not in texts(dispatcher)


def test_korrigieren_after_the_grown_echo_asks_field_by_field(dispatcher):
    pending = {"values": {"vorname": "Max"}, "ask": "vorname"}
    events = slot_events(run(ValidateMeldebescheinigungForm(), confirm("Moritz", pending), dispatcher))
    events = slot_events(
        run(ValidateMeldebescheinigungForm(), confirm("Korrigieren", events[PENDING_SLOT]), dispatcher)
    )
    assert events.get("vorname") is None and events.get("nachname") is None
    assert events["requested_slot"] == "vorname"


def test_a_full_name_at_the_first_name_question_is_echoed(dispatcher):
    tracker = answer("meldebescheinigung_form", "vorname", "Max Mustermann")
    events = slot_events(run(ValidateMeldebescheinigungForm(), tracker, dispatcher))
    assert events[PENDING_SLOT]["values"] == {"vorname": "Max", "nachname": "Mustermann"}
    assert "Vorname Max, Familienname Mustermann" in texts(dispatcher)


def test_optional_field_is_skipped_and_left_out_of_the_submission(dispatcher):
    slots = {
        "vorname": "Erika",
        "nachname": "M",
        "strasse": "Marienplatz 8",
        "plz": "80331",
        "ort": "München",
        "gegenstaende": "Sofa",
        "menge_kubikmeter": "2",
        "wunschtermin": "2030-01-01",
    }
    tracker = answer("sperrmuell_form", "telefon", "überspringen", slots)
    events = slot_events(run(ValidateSperrmuellForm(), tracker, dispatcher))
    assert events["telefon"] == SKIPPED
    done = make_tracker(slots={**slots, "telefon": SKIPPED, "email": "e@example.org"})
    assert "telefon" not in form_data(default_catalogue()["sperrmuell"], done)


def test_required_field_cannot_be_skipped(dispatcher):
    tracker = answer("meldebescheinigung_form", "email", "keine Angabe", FILLED)
    events = slot_events(run(ValidateMeldebescheinigungForm(), tracker, dispatcher))
    assert events["email"] is None
    assert "nicht überspringen" in texts(dispatcher)


def test_third_failure_explains_the_field_and_offers_to_stop(dispatcher):
    failures = None
    for attempt in range(1, 4):
        dispatcher.messages.clear()
        tracker = answer("bewohnerparkausweis_form", "kennzeichen", "weiß nicht genau 12", {FAILURES_SLOT: failures})
        events = slot_events(run(ValidateBewohnerparkausweisForm(), tracker, dispatcher))
        failures = events[FAILURES_SLOT]
        assert failures == {"kennzeichen": attempt}
    message = dispatcher.messages[-1]
    assert "Kurz erklärt" in message["text"] and "M-AB 1234" in message["text"]
    assert "noch einmal versuchen" in message["text"]
    assert {b["payload"] for b in message["buttons"]} == {
        "/save_draft",
        "/cancel",
        "/ask_human",
    }  # issue 19: a person is offered too
    # a valid answer resets the count
    dispatcher.messages.clear()
    tracker = answer("bewohnerparkausweis_form", "kennzeichen", "M-AB 1234", {FAILURES_SLOT: failures})
    assert slot_events(run(ValidateBewohnerparkausweisForm(), tracker, dispatcher))[FAILURES_SLOT] is None


def test_change_at_the_summary_with_a_value_shows_the_summary_again(dispatcher):
    slots = {
        **FILLED,
        "procedure": "meldebescheinigung",
        "ort": "München",
        "awaiting": "confirm_summary",
        "art_meldebescheinigung": "einfach",
        "email": "e@example.org",
    }
    tracker = make_tracker(text="die Postleitzahl ist 80335", intent="change_field", slots=slots)
    events = run(ActionChangeField(), tracker, dispatcher)
    assert slot_events(events)["plz"] == "80335"
    assert followups(events) == ["action_show_summary"]


def test_deny_at_the_summary_with_a_correction_goes_to_change_field(dispatcher):
    slots = {**FILLED, "procedure": "meldebescheinigung", "awaiting": "confirm_summary"}
    tracker = make_tracker(text="Nein, das Geburtsdatum ist falsch", intent="deny", slots=slots)
    assert followups(run(ActionHandleDeny(), tracker, dispatcher)) == ["action_change_field"]


def test_change_at_the_summary_by_name_reopens_the_form(dispatcher):
    slots = {**FILLED, "procedure": "meldebescheinigung", "awaiting": "confirm_summary"}
    tracker = make_tracker(text="ändere das Geburtsdatum", intent="change_field", slots=slots)
    events = run(ActionChangeField(), tracker, dispatcher)
    assert slot_events(events)["geburtsdatum"] is None
    assert followups(events) == ["meldebescheinigung_form"]


def test_free_text_answer_misread_as_a_question_is_taken_as_the_answer(dispatcher):
    from actions.forms import ActionFormInterruption

    slots = {"requested_slot": "taetigkeit"}
    tracker = make_tracker(
        text="Onlinehandel mit Kinderkleidung", intent="ask_online", slots=slots, active_loop="gewerbe_anmelden_form"
    )
    events = run(ActionFormInterruption(), tracker, dispatcher)
    assert slot_events(events) == {"taetigkeit": "Onlinehandel mit Kinderkleidung"}
    assert dispatcher.messages == []


def test_a_real_question_in_a_free_text_field_is_answered(dispatcher):
    from actions.forms import ActionFormInterruption

    slots = {"requested_slot": "taetigkeit", "procedure": "gewerbe_anmelden"}
    tracker = make_tracker(
        text="Geht das online?", intent="ask_online", slots=slots, active_loop="gewerbe_anmelden_form"
    )
    events = run(ActionFormInterruption(), tracker, dispatcher)
    assert "taetigkeit" not in slot_events(events)
    assert "online" in texts(dispatcher)


def test_a_question_while_the_echo_waits_is_answered_and_the_echo_shown_again(dispatcher):
    from actions.forms import ActionFormInterruption

    pending = {"values": {"vorname": "Max", "nachname": "Mustermann"}, "ask": "vorname"}
    tracker = at_echo("Was kostet das?", "ask_fees", pending)
    events = slot_events(run(ActionFormInterruption(), tracker, dispatcher))
    assert "5 Euro" in texts(dispatcher) and "Vorname Max, Familienname Mustermann" in texts(dispatcher)
    assert events["requested_slot"] == CONFIRM_SLOT and "nachname" not in events


def test_the_form_resuming_after_a_question_keeps_waiting_for_the_echo(dispatcher):
    pending = {"values": {"vorname": "Max", "nachname": "Mustermann"}, "ask": "vorname"}
    tracker = confirm("Was kostet das?", pending)
    tracker.events = [  # the question was answered; the form resumes
        {"event": "user", "text": "Was kostet das?"},
        {"event": "action", "name": "action_form_interruption"},
        {"event": "action", "name": "meldebescheinigung_form"},
    ]
    events = run(ValidateMeldebescheinigungForm(), tracker, dispatcher)
    assert slot_events(events) == {"requested_slot": CONFIRM_SLOT} and dispatcher.messages == []


def test_a_question_about_the_procedure_at_the_echo_is_answered_and_the_echo_shown_again(dispatcher):
    pending = {"values": {"vorname": "Max", "nachname": "Mustermann"}, "ask": "vorname"}
    events = slot_events(run(ValidateMeldebescheinigungForm(), confirm("Was kostet das?", pending), dispatcher))
    assert "5 Euro" in texts(dispatcher) and "Vorname Max, Familienname Mustermann" in texts(dispatcher)
    assert "nachname" not in events and events[PENDING_SLOT] == pending


def test_a_choice_answer_misread_as_a_question_is_taken_as_the_answer(dispatcher):
    from actions.forms import ActionFormInterruption

    slots = {"requested_slot": "dokument", "procedure": "ausweis_verlust_melden"}
    tracker = make_tracker(
        text="den Personalausweis", intent="ask_documents", slots=slots, active_loop="ausweis_verlust_melden_form"
    )
    events = run(ActionFormInterruption(), tracker, dispatcher)
    assert slot_events(events) == {"dokument": "personalausweis"}
    assert dispatcher.messages == []


def test_a_question_about_documents_at_a_choice_is_still_answered(dispatcher):
    from actions.forms import ActionFormInterruption

    slots = {"requested_slot": "dokument", "procedure": "ausweis_verlust_melden"}
    tracker = make_tracker(
        text="Welche Unterlagen brauche ich?",
        intent="ask_documents",
        slots=slots,
        active_loop="ausweis_verlust_melden_form",
    )
    events = run(ActionFormInterruption(), tracker, dispatcher)
    assert "dokument" not in slot_events(events)
    assert dispatcher.messages


# --- the place checked against the postcode (Munich's postcodes are in catalogue/regional_keys) ---

ADDRESS = {k: v for k, v in FILLED.items()}  # plz 80331 = München


def test_a_misspelt_place_with_a_known_postcode_is_asked_not_stored(dispatcher):
    tracker = answer("meldebescheinigung_form", "ort", "Münchn", ADDRESS)
    events = slot_events(run(ValidateMeldebescheinigungForm(), tracker, dispatcher))
    assert events["ort"] is None and events["requested_slot"] == CONFIRM_SLOT
    assert "Meinen Sie „München“?" in texts(dispatcher)
    pending = events[PENDING_SLOT]
    dispatcher.messages.clear()
    events = slot_events(run(ValidateMeldebescheinigungForm(), confirm("ja", pending, ADDRESS), dispatcher))
    assert events["ort"] == "München" and events[PENDING_SLOT] is None


def test_no_to_the_suggested_place_asks_again_and_takes_the_place_when_repeated(dispatcher):
    tracker = answer("meldebescheinigung_form", "ort", "Berlin", ADDRESS)
    pending = slot_events(run(ValidateMeldebescheinigungForm(), tracker, dispatcher))[PENDING_SLOT]
    events = slot_events(run(ValidateMeldebescheinigungForm(), confirm("Nein", pending, ADDRESS), dispatcher))
    assert "ort" not in events and events["requested_slot"] == "ort"
    assert "PLZ" in texts(dispatcher)
    # the citizen insists: asked once, then it is the citizen's word
    dispatcher.messages.clear()
    tracker = answer("meldebescheinigung_form", "ort", "Berlin", {**ADDRESS, PENDING_SLOT: events[PENDING_SLOT]})
    events = slot_events(run(ValidateMeldebescheinigungForm(), tracker, dispatcher))
    assert events["ort"] == "Berlin" and events[PENDING_SLOT] is None


def test_the_place_written_again_at_the_suggestion_is_checked_again(dispatcher):
    tracker = answer("meldebescheinigung_form", "ort", "Münche", ADDRESS)
    pending = slot_events(run(ValidateMeldebescheinigungForm(), tracker, dispatcher))[PENDING_SLOT]
    events = slot_events(run(ValidateMeldebescheinigungForm(), confirm("muenchen", pending, ADDRESS), dispatcher))
    assert events["ort"] == "Muenchen" and events[PENDING_SLOT] is None


def test_a_district_of_the_postcodes_city_and_unknown_postcodes_are_taken_as_today(dispatcher):
    tracker = answer("meldebescheinigung_form", "ort", "München-Pasing", ADDRESS)
    assert slot_events(run(ValidateMeldebescheinigungForm(), tracker, dispatcher))["ort"] == "München-Pasing"
    tracker = answer("meldebescheinigung_form", "ort", "Frankfurt am Mian", {**ADDRESS, "plz": "60313"})
    assert slot_events(run(ValidateMeldebescheinigungForm(), tracker, dispatcher))["ort"] == "Frankfurt am Mian"


def test_the_municipalitys_name_in_another_language_fits_its_postcode(dispatcher):
    # "Munich" is München (catalogue/regional_keys/municipalities.csv, other_names): no "Meinen Sie …?".
    tracker = answer("meldebescheinigung_form", "ort", "Munich", ADDRESS)
    events = slot_events(run(ValidateMeldebescheinigungForm(), tracker, dispatcher))
    assert events["ort"] == "Munich" and not events.get(PENDING_SLOT), texts(dispatcher)


def test_a_misspelt_place_among_several_values_is_shown_corrected_in_the_echo(dispatcher):
    slots = {k: v for k, v in ADDRESS.items() if k not in ("strasse", "plz")}
    tracker = answer("meldebescheinigung_form", "strasse", "Marienplatz 8, 80331 Münche", slots)
    events = slot_events(run(ValidateMeldebescheinigungForm(), tracker, dispatcher))
    assert events[PENDING_SLOT]["values"]["ort"] == "München" and "ort" not in events
    said = texts(dispatcher)
    assert "Statt „Münche“ habe ich „München“ eingetragen" in said and "Ort München" in said


def test_a_deciding_answer_taken_by_the_interruption_settles_its_list(dispatcher):
    from actions.forms import ActionFormInterruption

    # "nein" to „Trifft einer dieser Punkte zu?“, read by NLU as something to interrupt for: the
    # form resumes without validating, so the interruption answers the list's points itself.
    proc = default_catalogue()["blaue_karte_eu"]
    points = [f.name for f in proc.fields if f.ask_if and f.ask_if[0] == "aufenthalt_besonderheiten"]
    tracker = make_tracker(
        text="nein",
        intent="ask_why_field",
        slots={"procedure": "blaue_karte_eu", "requested_slot": "aufenthalt_besonderheiten"},
        active_loop="blaue_karte_eu_form",
    )
    events = slot_events(run(ActionFormInterruption(), tracker, dispatcher))
    assert events["aufenthalt_besonderheiten"] == "nein"
    assert points and all(events.get(name) == "nein" for name in points), events


def test_one_value_beside_a_part_no_field_takes_is_echoed_not_stored(dispatcher):
    # "12.08.1964, glaube ich": the date, and a part that fits no field. Storing the date and
    # dropping the rest unseen would hide that something was not understood.
    tracker = answer("meldebescheinigung_form", "geburtsdatum", "12.08.1964, Hausnummer weiß ich nicht", FILLED)
    events = slot_events(run(ValidateMeldebescheinigungForm(), tracker, dispatcher))
    assert events["requested_slot"] == CONFIRM_SLOT and events[PENDING_SLOT]["values"] == {"geburtsdatum": "1964-08-12"}
    assert "Nicht sicher zuordnen konnte ich" in texts(dispatcher)


def test_an_english_question_at_the_echo_is_answered_for_the_field_it_names(dispatcher):
    from buergerassistent import language_state

    pending = {"values": {"vorname": "John", "nachname": "Smith"}, "ask": "vorname"}
    tracker = confirm("why do you need my address?", pending, {language_state.SLOT: language_state.ENGLISH})
    events = slot_events(run(ValidateMeldebescheinigungForm(), tracker, dispatcher))
    assert "Street and house number" in texts(dispatcher) and "Is that right?" in texts(dispatcher)
    assert events[PENDING_SLOT] == pending

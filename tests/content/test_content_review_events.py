"""The review inbox on hand-made tracker events (the e2e test uses a real tracker store)."""

from __future__ import annotations

from content.review import findings_of, group, render

FIELDS = {"vorname": "name", "nachname": "name", "email": "email", "art": "choice"}


def user(text, intent, confidence=0.95):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": confidence}}}


def action(name):
    return {"event": "action", "name": name}


def bot(text, buttons=None):
    return {"event": "bot", "text": text, "data": {"buttons": buttons}}


def slot(name, value):
    return {"event": "slot", "name": name, "value": value}


def choice(*ids):
    return [{"title": i, "payload": f'/choose_procedure{{"procedure": "{i}"}}'} for i in ids]


def test_fallback_low_confidence_clarification_and_correction():
    events = [
        user("Hallo", "greet"),
        action("utter_greet"),
        user("blubb quatsch", "nlu_fallback", 0.3),
        action("action_discover_procedure"),
        bot("Nicht verstanden"),
        user("Ausweis", "request_procedure", 0.9),
        action("action_discover_procedure"),
        bot("Welche?", choice("personalausweis_beantragen", "ausweis_verlust_melden")),
        user('/choose_procedure{"procedure": "ausweis_verlust_melden"}', "choose_procedure", 1.0),
        action("action_choose_procedure"),
        user("Was kostet der Spaß", "ask_fees", 0.41),
        action("action_answer_info"),
        user("Ich bin umgezogen", "request_procedure"),
        action("action_discover_procedure"),
        bot("Wohnsitz anmelden …"),
        user("Nein, ich meinte die Abmeldung", "deny", 0.8),
        action("action_handle_deny"),
        user("Nein", "deny"),
        action("action_handle_deny"),
    ]
    found = {f.text: f for f in findings_of("citizen-1", events, field_types=FIELDS)}
    assert set(found) == {
        "blubb quatsch",
        "Ausweis",
        "Was kostet der Spaß",
        "Ich bin umgezogen",
        "Nein, ich meinte die Abmeldung",
    }
    assert found["blubb quatsch"].reasons == {"fallback"}
    assert found["Ausweis"].reasons == {"clarification"}
    assert found["Ausweis"].chosen == "ausweis_verlust_melden"
    assert found["Ausweis"].offered == ["personalausweis_beantragen", "ausweis_verlust_melden"]
    assert found["Was kostet der Spaß"].reasons == {"low_confidence"}
    assert found["Ich bin umgezogen"].reasons == {"contradicted"}
    assert found["Nein, ich meinte die Abmeldung"].reasons == {"correction"}


def test_form_answers_are_not_listed_and_their_values_are_masked_elsewhere():
    events = [
        user("Meldebescheinigung", "request_procedure"),
        action("action_discover_procedure"),
        {"event": "active_loop", "name": "meldebescheinigung_form"},
        slot("requested_slot", "vorname"),
        user("Ozan", "nlu_fallback", 0.2),
        slot("vorname", "Ozan"),
        slot("requested_slot", "email"),
        user("ozan.k@example.org", "inform", 0.5),
        slot("email", "ozan.k@example.org"),
        {"event": "active_loop", "name": None},
        user("Ozan fragt: hilft mir wer bei 80331?", "nlu_fallback", 0.2),
        action("action_default_fallback"),
    ]
    found = findings_of("citizen-2", events, field_types=FIELDS)
    assert [f.text for f in found] == ["«Name» fragt: hilft mir wer bei «PLZ»?"]


def test_grouping_counts_messages_and_conversations_and_skips_decided_entries():
    a = findings_of("a", [user("blubb", "nlu_fallback", 0.2)], field_types=FIELDS)
    b = findings_of("b", [user("Blubb!", "nlu_fallback", 0.2), user("blubb", "nlu_fallback", 0.2)], field_types=FIELDS)
    c = findings_of("c", [user("was anderes", "greet", 0.3)], field_types=FIELDS)
    entries = group(a + b + c)
    assert [(e.text, e.count, e.conversations) for e in entries] == [("blubb", 3, 2), ("was anderes", 1, 1)]
    assert entries[0].reasons == {"fallback": 3}
    assert f"[{entries[0].id}]" in render(entries)
    assert [e.text for e in group(a + b + c, done=[entries[0].id])] == ["was anderes"]


def test_a_rejected_proposal_is_a_finding_and_is_masked():
    """ "Nein, das meine ich nicht" after a proposed procedure (actions/context.py recovers with
    other candidates) lists both messages: the one that led to the wrong proposal
    ("Antwort widersprochen") and the rejection ("Korrektur"), masked like every entry."""
    events = [
        user("Ich bin umgezogen, Erika Mustermann, Tel. 0171 2345678", "request_procedure"),
        action("action_discover_procedure"),
        bot("Wohnsitz anmelden …"),
        slot("procedure", "wohnsitz_anmelden"),
        slot("alternatives", ["meldebescheinigung"]),
        user("nein, das meine ich nicht", "deny", 0.99),
        action("action_handle_deny"),
        action("action_recover_procedure"),
        bot("Entschuldigung. Meinen Sie „Meldebescheinigung“?", choice("meldebescheinigung")),
        slot("procedure", None),
        # A short rejection the correction cue alone would not catch, after a proposal made by
        # another action than discovery (the choice above, taken with "ja").
        user("ja", "affirm"),
        action("action_handle_affirm"),
        action("action_choose_procedure"),
        slot("procedure", "meldebescheinigung"),
        user("falsch", "deny", 0.9),
        action("action_handle_deny"),
        action("action_recover_procedure"),
    ]
    found = {f.text: f for f in findings_of("citizen-3", events, field_types=FIELDS)}
    moved = [t for t in found if t.startswith("Ich bin umgezogen")]
    assert len(moved) == 1
    assert "0171" not in moved[0] and "Mustermann" not in moved[0], moved[0]
    assert "contradicted" in found[moved[0]].reasons
    assert "correction" in found["nein, das meine ich nicht"].reasons
    assert "correction" in found["falsch"].reasons
    assert found["ja"].reasons == {"contradicted"}  # the proposal "falsch" rejected
    entries = group(found.values())
    assert "Korrektur durch Bürger" in render(entries)


def test_a_reply_to_a_choice_answered_with_not_understood_is_a_fallback():
    events = [
        user("die fünfte", "inform", 0.9),
        action("action_discover_procedure"),
        {
            "event": "bot",
            "text": "Das habe ich leider nicht verstanden.",
            "metadata": {"utter_action": "utter_default"},
        },
    ]
    assert [f.reasons for f in findings_of("citizen-4", events, field_types=FIELDS)] == [{"fallback"}]

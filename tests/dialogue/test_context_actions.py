"""Context across turns, the Rasa side (actions/context.py and the actions that use it), run
directly on trackers as the action server receives them."""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk.executor import CollectingDispatcher
from support.trackers import make_tracker, slot_events, texts

from actions.context import CLARIFY, CLARIFY_AGAIN, ActionOfferDraft, ActionRecoverProcedure
from actions.dialogue import (
    ActionCancelApplication,
    ActionChooseProcedure,
    ActionDiscoverProcedure,
    ActionHandleAffirm,
    ActionHandleDeny,
)
from actions.questions import ActionAnswerInfo, offer_choice
from buergerassistent import drafts

CONTEXT_SLOTS = {"offered_procedures": None, "alternatives": None, "pending_needs": None}


def run(action, tracker, dispatcher=None):
    dispatcher = dispatcher or CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher, events


def tracker(text, intent="inform", **slots):
    return make_tracker(text=text, intent=intent, slots={**CONTEXT_SLOTS, **slots})


def followups(events):
    return [e["name"] for e in events if e.get("event") == "followup"]


def buttons(dispatcher):
    return [b for m in dispatcher.messages for b in m.get("buttons") or []]


# --------------------------------------------------------------------------- 1. follow-ups


@pytest.mark.parametrize(
    "text,intent",
    [
        ("kann ich das online machen?", "ask_online"),
        ("geht das auch per Post?", "ask_online"),
        ("was kostet das für Studenten?", "ask_fees"),
        ("welche Unterlagen brauche ich?", "ask_documents"),
        ("wo muss ich da hin?", "ask_where"),
    ],
)
def test_a_follow_up_is_answered_for_the_procedure_in_focus(text, intent):
    dispatcher, events = run(ActionAnswerInfo(), tracker(text, intent, procedure="meldebescheinigung"))
    assert "Meldebescheinigung" in texts(dispatcher)
    assert "procedure" not in slot_events(events)
    assert not buttons(dispatcher)


def test_a_question_naming_another_procedure_moves_the_focus():
    dispatcher, events = run(
        ActionAnswerInfo(), tracker("Was kostet ein Reisepass?", "ask_fees", procedure="meldebescheinigung")
    )
    assert "Reisepass" in texts(dispatcher)
    assert slot_events(events)["procedure"] == "reisepass_beantragen"


@pytest.mark.parametrize("text", ["und wie lange dauert das?", "geht das auch per Post?", "was kostet das eigentlich"])
def test_a_follow_up_nlu_did_not_understand_is_still_about_the_procedure_in_focus(text):
    dispatcher, events = run(ActionDiscoverProcedure(), tracker(text, "nlu_fallback", procedure="meldebescheinigung"))
    said = texts(dispatcher)
    assert "Meldebescheinigung" in said
    assert "Briefwahl" not in said and "keine passende Leistung" not in said
    assert "procedure" not in slot_events(events)


def test_an_open_offer_to_apply_is_asked_again_after_a_follow_up():
    state = tracker("geht das auch per Post?", "nlu_fallback", procedure="meldebescheinigung", awaiting="start_form")
    dispatcher, events = run(ActionDiscoverProcedure(), state)
    assert "Möchten Sie „Meldebescheinigung“ jetzt hier im Chat beantragen?" in texts(dispatcher)
    assert slot_events(events)["awaiting"] == "start_form"


def test_a_new_need_with_a_back_reference_is_not_taken_for_a_follow_up():
    state = tracker("Ich bin umgezogen, was muss ich da tun?", "request_procedure", procedure="meldebescheinigung")
    dispatcher, events = run(ActionDiscoverProcedure(), state)
    # The move is presented (the procedure, or the life situation's checklist that offers it),
    # not an answer about the Meldebescheinigung in focus.
    offered = [b["payload"] for m in dispatcher.messages for b in m.get("buttons") or []]
    assert slot_events(events).get("procedure") == "wohnsitz_anmelden" or any(
        "wohnsitz_anmelden" in p for p in offered
    ), (texts(dispatcher), offered)


def test_gibberish_with_a_procedure_in_focus_is_no_follow_up():
    dispatcher, _ = run(
        ActionDiscoverProcedure(), tracker("blubb quatsch", "nlu_fallback", procedure="meldebescheinigung")
    )
    assert "Meldebescheinigung" not in texts(dispatcher)


# --------------------------------------------------------------------------- 2. choices


OFFERED = ["personalausweis_beantragen", "reisepass_beantragen", "ausweis_verlust_melden"]


@pytest.mark.parametrize("action", [ActionDiscoverProcedure, ActionChooseProcedure])
@pytest.mark.parametrize(
    "reply,chosen",
    [
        ("die zweite", "reisepass_beantragen"),
        ("Nummer 3", "ausweis_verlust_melden"),
        ("Reisepass", "reisepass_beantragen"),
    ],
)
def test_a_reply_to_a_choice_is_a_choice(action, reply, chosen):
    state = tracker(reply, "inform", awaiting="choose_procedure", offered_procedures=OFFERED)
    dispatcher, events = run(action(), state)
    slots = slot_events(events)
    assert slots["procedure"] == chosen
    assert slots["offered_procedures"] is None
    # The others stay as alternatives for "nein, das meine ich nicht".
    assert set(slots["alternatives"]) == set(OFFERED) - {chosen}
    assert "nicht verstanden" not in texts(dispatcher)


def test_a_choice_misread_as_a_question_is_handed_to_the_choice():
    state = tracker("die zweite", "ask_where", awaiting="choose_procedure", offered_procedures=OFFERED)
    _, events = run(ActionAnswerInfo(), state)
    assert followups(events) == ["action_choose_procedure"]


def test_the_same_reply_without_an_offer_is_not_understood():
    dispatcher, events = run(ActionDiscoverProcedure(), tracker("die zweite", "inform"))
    assert [m.get("response") for m in dispatcher.messages] == ["utter_default"]
    assert "procedure" not in slot_events(events)


def test_a_single_suggestion_is_asked_as_meinen_sie_and_yes_starts_it():
    # The offer itself, not whatever discovery ranks today: one candidate is asked as "Meinen Sie …?".
    dispatcher = CollectingDispatcher()
    events = offer_choice(dispatcher, ["hundesteuer_anmelden"])
    slots = slot_events(events)
    assert "Meinen Sie" in texts(dispatcher)
    assert [b["title"] for b in buttons(dispatcher)] == ["Ja", "Nein"]
    offered = slots["offered_procedures"]
    assert offered == ["hundesteuer_anmelden"]
    # "ja" → action_handle_affirm chains action_choose_procedure, which reads the offer.
    _, events = run(
        ActionHandleAffirm(), tracker("ja", "affirm", awaiting="choose_procedure", offered_procedures=offered)
    )
    assert followups(events) == ["action_choose_procedure"]
    dispatcher, events = run(
        ActionChooseProcedure(), tracker("ja", "affirm", awaiting="choose_procedure", offered_procedures=offered)
    )
    assert slot_events(events)["procedure"] == offered[0]
    assert followups(events) == ["action_listen"]


def test_yes_to_several_options_asks_again():
    dispatcher, events = run(
        ActionChooseProcedure(), tracker("ja", "affirm", awaiting="choose_procedure", offered_procedures=OFFERED)
    )
    assert "die erste" in texts(dispatcher)
    assert [b["title"] for b in buttons(dispatcher)] == [
        "Personalausweis beantragen",
        "Reisepass beantragen",
        "Verlust oder Diebstahl von Personalausweis oder Reisepass melden",
    ]
    assert slot_events(events)["awaiting"] == "choose_procedure"


# --------------------------------------------------------------------------- 3. two needs


def test_two_needs_are_acknowledged_and_offered_one_after_the_other():
    text = "bin umgezogen und muss mein Auto ummelden"
    dispatcher, events = run(ActionDiscoverProcedure(), tracker(text, "request_procedure"))
    said = texts(dispatcher)
    assert "zwei Anliegen" in said
    assert "Wir beginnen mit „Wohnsitz anmelden oder ummelden“" in said
    assert "danach kümmern wir uns um „Fahrzeug zulassen (Kfz-Zulassung)“" in said
    slots = slot_events(events)
    assert slots["procedure"] == "wohnsitz_anmelden"
    assert slots["awaiting"] == "start_form"
    assert slots["pending_needs"] == ["kfz_zulassen"]

    # "nein" to the first form: the second need is offered.
    state = tracker(
        "nein", "deny", procedure="wohnsitz_anmelden", awaiting="start_form", pending_needs=["kfz_zulassen"]
    )
    dispatcher, events = run(ActionHandleDeny(), state)
    assert "Nun zu Ihrem nächsten Anliegen: „Fahrzeug zulassen (Kfz-Zulassung)“" in texts(dispatcher)
    slots = slot_events(events)
    assert slots["procedure"] == "kfz_zulassen"
    assert slots["pending_needs"] is None


def test_three_needs_are_offered_in_the_order_written():
    text = "Ich bin umgezogen, muss mein Auto ummelden und brauche eine Meldebescheinigung"
    dispatcher, events = run(ActionDiscoverProcedure(), tracker(text, "request_procedure"))
    assert "Sie haben drei Anliegen" in texts(dispatcher)
    assert "danach kümmern wir uns um „Fahrzeug zulassen (Kfz-Zulassung)“ und „Meldebescheinigung“" in texts(dispatcher)
    assert slot_events(events)["pending_needs"] == ["kfz_zulassen", "meldebescheinigung"]
    # Declining the first offers the second; the third still waits.
    state = tracker(
        "nein",
        "deny",
        procedure="wohnsitz_anmelden",
        awaiting="start_form",
        pending_needs=["kfz_zulassen", "meldebescheinigung"],
    )
    # Kfz-Zulassung has no form here: it is information only, so the third follows at once.
    dispatcher, events = run(ActionHandleDeny(), state)
    assert "„Fahrzeug zulassen (Kfz-Zulassung)“" in texts(dispatcher)
    assert "Möchten Sie „Meldebescheinigung“ jetzt hier im Chat beantragen?" in texts(dispatcher)
    slots = slot_events(events)
    assert (slots["procedure"], slots["awaiting"], slots["pending_needs"]) == ("meldebescheinigung", "start_form", None)


def test_cancelling_the_first_need_offers_the_second():
    state = tracker(
        "abbrechen", "cancel", procedure="wohnsitz_anmelden", awaiting="confirm_summary", pending_needs=["sperrmuell"]
    )
    dispatcher, events = run(ActionCancelApplication(), state)
    assert "abgebrochen" in texts(dispatcher)
    assert "„Sperrmüll abholen lassen“" in texts(dispatcher)
    slots = slot_events(events)
    assert slots["procedure"] == "sperrmuell"
    assert slots["awaiting"] == "start_form"  # the offer of the second form, not the reset before it


@pytest.mark.parametrize(
    ("awaiting", "lang", "said"),
    [
        ("status_consent", None, "Er bleibt bestehen."),
        ("status_consent", "ls", "Der Antrag gilt weiter."),
        ("status_consent", "en", "It stays as it is."),
        ("confirm_withdrawal", None, "Ihr Antrag bleibt bestehen."),
    ],
)
def test_cancel_after_the_submission_keeps_the_application(awaiting, lang, said):
    """Asked for status messages (or whether to withdraw), "abbrechen" says no: the confirmed
    application stays; never "abgebrochen und Ihre Angaben gelöscht"."""
    state = tracker(
        "abbrechen", "cancel", procedure="meldebescheinigung", awaiting=awaiting, case_number="BA-2026-0123ABCD"
    )
    if lang:
        state.slots["language"] = lang
    dispatcher, events = run(ActionCancelApplication(), state)
    assert said in texts(dispatcher)
    assert "abgebrochen" not in texts(dispatcher) and "gelöscht" not in texts(dispatcher)
    assert slot_events(events)["awaiting"] is None
    assert "procedure" not in slot_events(events) and "case_number" not in slot_events(events)  # kept for status


# --------------------------------------------------------------------------- 5. "nein, das meine ich nicht"


def test_rejecting_a_proposal_chains_the_recovery_a_plain_no_does_not():
    state = dict(procedure="wohnsitz_anmelden", awaiting="start_form", alternatives=["meldebescheinigung"])
    _, events = run(ActionHandleDeny(), tracker("nein, das meine ich nicht", "deny", **state))
    assert followups(events) == ["action_recover_procedure"]
    dispatcher, events = run(ActionHandleDeny(), tracker("nein", "deny", **state))
    assert followups(events) == ["action_listen"]
    assert "procedure" not in slot_events(events)


def test_recovery_offers_the_next_candidates():
    state = dict(
        procedure="wohnsitz_anmelden", awaiting="start_form", alternatives=["meldebescheinigung", "wohnsitz_abmelden"]
    )
    dispatcher, events = run(ActionRecoverProcedure(), tracker("nein, was anderes", "deny", **state))
    assert [b["title"] for b in buttons(dispatcher)] == ["Meldebescheinigung", "Wohnsitz abmelden"]
    slots = slot_events(events)
    assert slots["procedure"] is None  # the rejected procedure leaves the focus
    assert slots["offered_procedures"] == ["meldebescheinigung", "wohnsitz_abmelden"]
    assert slots["awaiting"] == "choose_procedure"


def test_recovery_without_candidates_asks_one_question():
    state = dict(procedure="wohnsitz_anmelden", awaiting="start_form", alternatives=None)
    dispatcher, events = run(ActionRecoverProcedure(), tracker("nein, was anderes", "deny", **state))
    assert texts(dispatcher) == CLARIFY
    assert "Worum geht es genau? " in CLARIFY and "zum Beispiel" in CLARIFY
    assert slot_events(events)["procedure"] is None


def test_rejection_classified_as_a_request_still_recovers():
    state = dict(procedure="wohnsitz_anmelden", awaiting="start_form", alternatives=["meldebescheinigung"])
    dispatcher, events = run(ActionDiscoverProcedure(), tracker("nein, was anderes", "request_procedure", **state))
    assert slot_events(events)["offered_procedures"] == ["meldebescheinigung"]
    assert "Meinen Sie „Meldebescheinigung“?" in texts(dispatcher)


def test_a_rejection_misread_as_yes_starts_nothing():
    state = dict(procedure="wohnsitz_anmelden", awaiting="start_form")
    _, events = run(ActionHandleAffirm(), tracker("das passt nicht", "affirm", **state))
    assert followups(events) == ["action_handle_deny"]
    _, events = run(ActionHandleAffirm(), tracker("ja", "affirm", **state))
    assert followups(events) == ["action_start_application"]


def test_a_rejection_that_says_what_is_meant_presents_it():
    state = dict(procedure="wohnsitz_anmelden", awaiting="start_form", alternatives=["meldebescheinigung"])
    _, events = run(ActionHandleDeny(), tracker("Nein, ich meinte die Abmeldung vom Wohnsitz", "deny", **state))
    assert followups(events) == ["action_recover_procedure"]
    dispatcher, events = run(
        ActionRecoverProcedure(), tracker("Nein, ich meinte die Abmeldung vom Wohnsitz", "deny", **state)
    )
    assert slot_events(events)["procedure"] == "wohnsitz_abmelden"
    assert "Wohnsitz abmelden" in texts(dispatcher)


def test_rejecting_the_clarifying_question_points_to_115():
    state = make_tracker(
        text="nein, was anderes",
        intent="deny",
        slots=CONTEXT_SLOTS,
        events=[
            {"event": "user", "text": "nein, was anderes"},
            {"event": "action", "name": "action_recover_procedure"},
            {"event": "bot", "text": CLARIFY},
            {"event": "slot", "name": "procedure", "value": None},
            {"event": "user", "text": "nein, was anderes"},
        ],
    )
    dispatcher, _ = run(ActionRecoverProcedure(), state)
    assert texts(dispatcher) == CLARIFY_AGAIN
    assert "115" in CLARIFY_AGAIN


def test_the_words_of_a_rejection_are_not_searched_for_a_procedure():
    """ "das passt nicht" must not offer the passport ("passt" ~ "Pass")."""
    state = dict(procedure="meldebescheinigung", awaiting="start_form", alternatives=None)
    dispatcher, events = run(ActionRecoverProcedure(), tracker("das passt nicht", "deny", **state))
    assert texts(dispatcher) == CLARIFY
    assert not buttons(dispatcher)


def test_a_new_request_with_a_rejection_word_is_no_rejection_without_a_proposal():
    text = "Mein Führungszeugnis ist falsch, ich brauche ein neues"
    _, events = run(ActionDiscoverProcedure(), tracker(text, "request_procedure"))
    assert slot_events(events).get("procedure") == "fuehrungszeugnis"


# --------------------------------------------------------------------------- 4. "ich möchte weitermachen"


@pytest.fixture
def draft_db(tmp_path, monkeypatch):
    monkeypatch.setenv("BA_DRAFTS_DATABASE_URL", f"sqlite:///{tmp_path / 'drafts.db'}")
    monkeypatch.setenv("BA_IDENTITY_DATABASE_URL", f"sqlite:///{tmp_path / 'identity.db'}")
    drafts.default_store.cache_clear()
    yield
    drafts.default_store.cache_clear()


def test_asking_to_continue_offers_the_saved_draft(draft_db):
    drafts.default_store().save("ctx-draft", None, "meldebescheinigung", {"vorname": "Erika"})
    state = make_tracker(text="wo war ich stehengeblieben", intent="resume_draft", sender_id="ctx-draft")
    dispatcher, events = run(ActionOfferDraft(), state)
    assert "Meldebescheinigung" in texts(dispatcher) and "weitermachen" in texts(dispatcher)
    assert slot_events(events) == {"procedure": "meldebescheinigung", "awaiting": "resume_draft"}


def test_asking_to_continue_without_a_draft_says_so(draft_db):
    state = make_tracker(text="ich möchte weitermachen", intent="resume_draft", sender_id="ctx-nothing")
    dispatcher, events = run(ActionOfferDraft(), state)
    assert "keinen gespeicherten Antrag" in texts(dispatcher)


def test_asking_to_continue_at_the_summary_shows_it_again(draft_db):
    state = make_tracker(
        text="ich möchte weitermachen",
        intent="resume_draft",
        slots={"procedure": "meldebescheinigung", "awaiting": "confirm_summary"},
    )
    _, events = run(ActionOfferDraft(), state)
    assert followups(events) == ["action_show_summary"]


def test_a_choice_of_entries_outside_the_core_names_where_to_ask():
    from rasa_sdk.executor import CollectingDispatcher

    from actions.questions import offer_choice
    from buergerassistent.catalogue import default_catalogue

    imported = [p.id for p in default_catalogue() if not p.curated][:2]
    dispatcher = CollectingDispatcher()
    offer_choice(dispatcher, imported)
    assert "115" in dispatcher.messages[0]["text"]
    dispatcher = CollectingDispatcher()
    offer_choice(dispatcher, ["reisepass_beantragen", "personalausweis_beantragen"])
    assert "115" not in dispatcher.messages[0]["text"]


def test_only_candidates_that_could_answer_alone_are_kept_for_the_recovery():
    # "Hilfe bei den Wohnkosten": Wohngeld, then Sozialhilfe; the Munich emergency help for
    # residence permits matches "Hilfe" alone and scores below MIN_SCORE
    from buergerassistent.discovery import MIN_SCORE
    from buergerassistent.procedure_finder import discovery

    text = "Hilfe bei den Wohnkosten"
    weak = [c.id for c in discovery().rank(text, top=6) if c.score < MIN_SCORE]
    assert weak  # the ranking has such candidates ...
    _, events = run(ActionDiscoverProcedure(), tracker(text, "request_procedure"))
    kept = slot_events(events)["alternatives"]
    assert "info_sozialhilfe" in kept
    assert not set(weak) & set(kept)  # ... and they are not offered after "nein"


def test_a_candidate_matching_only_the_verb_is_no_alternative_for_the_recovery():
    # Found talking to the assistant: after "nein" to the registration of the car, the dog tax
    # was offered because it matches "anmelden". It names none of the request's nouns.
    from buergerassistent.procedure_finder import discovery

    text = "Mein Auto war abgemeldet, ich will es wieder anmelden"
    assert "hundesteuer_anmelden" in [c.id for c in discovery().rank(text, top=6)]  # the ranking has it ...
    _, events = run(ActionDiscoverProcedure(), tracker(text, "request_procedure"))
    kept = slot_events(events)["alternatives"] or []
    assert "hundesteuer_anmelden" not in kept  # ... the recovery does not offer it
    assert "info_kfz_steuer_versicherung" in kept

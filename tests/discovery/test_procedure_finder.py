"""NLU intent + retrieval: the decision the chat and `bot discover` share."""

from buergerassistent.first_message import decide as first_decision
from buergerassistent.procedure_finder import decide, find


def test_a_procedure_request_keeps_the_retrieval_decision():
    decision = find("Ich brauche eine Meldebescheinigung", "request_procedure", 0.95)
    assert decision.kind == "confident"
    assert decision.best.id == "meldebescheinigung"


def test_without_an_intent_retrieval_alone_decides():
    assert find("Meldebescheinigung").best.id == "meldebescheinigung"


def test_confident_small_talk_turns_a_confident_match_into_a_question():
    decision = find("Meldebescheinigung", "out_of_scope", 0.9)
    assert decision.kind == "choose"
    assert decision.best.id == "meldebescheinigung"


def test_confident_out_of_scope_drops_vague_matches():
    decision = find("Wie wird das Wetter morgen?", "out_of_scope", 0.9)
    assert decision.kind == "unknown" and decision.candidates == []


def test_unsure_nlu_does_not_overrule_retrieval():
    decision = find("Ich brauche eine Meldebescheinigung", "out_of_scope", 0.3)
    assert decision.kind == "confident"


# ---- decide(): the one word `bot discover` prints and the chat acts on


def test_decide_answers_a_clear_request():
    from buergerassistent.procedure_finder import ANSWER

    d = decide("Ich brauche eine Meldebescheinigung", "request_procedure", 0.95)
    assert d.decision == ANSWER
    assert [c.id for c in d.candidates] == ["meldebescheinigung"]
    assert d.ranked[0].id == "meldebescheinigung"


def test_decide_offers_a_choice_when_nlu_doubts_a_clear_match():
    from buergerassistent.procedure_finder import CHOICE

    d = decide("Meldebescheinigung", "out_of_scope", 0.9)
    assert d.decision == CHOICE
    assert d.candidates[0].id == "meldebescheinigung"


def test_decide_says_none_for_small_talk_and_for_unrouted_intents():
    from buergerassistent.procedure_finder import NONE

    assert decide("Wie wird das Wetter morgen?", "out_of_scope", 0.9).decision == NONE
    unrouted = decide("Ich brauche eine Meldebescheinigung", "greet", 0.9, routed=False)
    assert unrouted.decision == NONE and unrouted.ranked == [] and unrouted.candidates == []


def test_ranked_is_empty_exactly_when_the_decision_is_none():
    from buergerassistent.procedure_finder import NONE, ranked

    for text in ("Perso verloren", "Wie wird das Wetter morgen?", "Gewerbe", "Hund"):
        assert (ranked(text, "request_procedure", 0.9) == []) == (
            decide(text, "request_procedure", 0.9).decision == NONE
        )


# ---- which intents reach discovery: read from the rules the model is trained with


def test_routes_follow_the_dialogue_rules():
    from bot.routes import runs_discovery, start_actions

    routes = start_actions()
    assert routes["request_procedure"] == "action_discover_procedure"
    assert routes["ask_fees"] == "action_answer_info"
    assert runs_discovery("request_procedure") and runs_discovery("nlu_fallback")
    assert runs_discovery("inform"), "an 'answer' outside a form is looked up, not dropped"
    assert not runs_discovery("greet") and not runs_discovery("thanks")
    # nothing to log out or cancel at the start: those actions hand the message to discovery
    assert runs_discovery("logout") and runs_discovery("cancel")
    assert not runs_discovery(None)


def test_routes_ignore_rules_that_need_an_active_form(tmp_path):
    from bot.routes import start_actions

    (tmp_path / "r.yml").write_text(
        "rules:\n"
        "- rule: in a form\n  condition:\n  - active_loop: x_form\n  steps:\n  - intent: ask_fees\n  - action: a_form\n"
        "- rule: awaiting\n  condition:\n  - slot_was_set:\n    - awaiting: start_form\n"
        "  steps:\n  - intent: affirm\n  - action: a_affirm\n"
        "- rule: outside\n  condition:\n  - active_loop: null\n  steps:\n  - intent: ask_fees\n  - action: a_info\n"
    )
    assert start_actions(tmp_path) == {"ask_fees": "a_info"}


def test_a_life_situation_is_its_checklist_as_the_chat_shows_it():
    # action_discover_procedure shows the checklist before any ranking; `bot discover` says so
    from buergerassistent.life_situations import first_checklist

    text = "Wir bekommen ein Baby"
    decision = first_decision(text, "request_procedure", 0.9, as_request=True)
    steps = [item.procedure for item in first_checklist(text).items]
    assert decision.decision == "choice"
    assert [c.id for c in decision.candidates] == [c.id for c in decision.ranked] == steps
    # an info question's action (action_answer_info) shows no checklist
    assert first_decision(text, "ask_fees", 0.9, as_request=False).ranked != steps


def test_two_needs_are_answered_with_the_first_as_the_chat_presents_them():
    decision = first_decision(
        "Ich bin umgezogen und muss mein Auto ummelden", "request_procedure", 0.9, as_request=True
    )
    assert decision.decision == "answer"
    assert [c.id for c in decision.ranked] == ["wohnsitz_anmelden", "kfz_zulassen"]

"""NLU intent + retrieval: the decision the chat and `bot discover` share."""

from buergerassistent.procedure_finder import find


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

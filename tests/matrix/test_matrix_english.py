"""An English conversation on Matrix (issue 20): the connector's own option hint and notices are
English there, as the assistant's answers are. Real Synapse and the real stack, as in
test_matrix_conversation.py."""

from __future__ import annotations

from buergerassistent import language
from matrix_connector import texts


def _text(messages) -> str:
    return "\n".join(m.body for m in messages)


def test_english_conversation_gets_english_hints_and_notices(citizen):
    # The welcome comes before the citizen wrote anything: German first, then English with the way
    # to go on in English (a newcomer who writes English is not greeted in German only).
    greeting = citizen.open(encrypted=True)
    assert len(greeting) == 1, [m.body for m in greeting]
    german, english = greeting[0].body.split("\n\n")
    assert german.startswith("Guten Tag!") and "Bürgerassistent" in german, german
    assert "in Leichter Sprache" in german, german
    assert english.startswith("Hello!") and "“English please”" in english, english
    assert language.detect(english) == "en" and language.detect(german) is None, greeting[0].body
    switched = _text(citizen.say("English please"))
    assert "English" in switched, switched
    offer = citizen.say("I need a certificate of registration")
    question = next(m for m in reversed(offer) if "👍" in m.body)
    assert "Would you like to apply" in question.body, question.body
    hint = question.body.splitlines()[-1]
    assert hint.startswith("Answer with the number or the text.") and "👍 (Yes)" in hint, hint
    assert "Antworten Sie" not in question.body and "reagieren" not in question.body
    # 👍 starts the form; the offer is an older question then: its notice is English too.
    form = _text(citizen.react(question, "👍"))
    assert "Step 1 of" in form, form
    old = _text(citizen.react(question, "✅"))
    assert old == texts.say("REACTION_OLD", "en"), old
    assert "cancelled" in citizen.say_text("cancel")

"""action_other_language run directly (rasa-sdk, without Rasa): the switch confirmation, English
answers with the offer to apply, and the lang mark for the web chat (issue 20)."""

from __future__ import annotations

import asyncio

from rasa_sdk.executor import CollectingDispatcher
from support.trackers import make_tracker

from actions.conversation import ActionOtherLanguage
from buergerassistent import translations


def _run(tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionOtherLanguage().run(dispatcher, tracker, {}))
    return dispatcher.messages, events


def _entities(lang, source="explicit"):
    return [{"entity": "language_choice", "value": lang}, {"entity": "language_source", "value": source}]


def test_switch_in_a_form_confirms_and_keeps_everything():
    tracker = make_tracker(
        text="in Leichter Sprache bitte",
        intent="other_language",
        slots={"vorname": "Erika", "requested_slot": "nachname"},
        active_loop="meldebescheinigung_form",
        entities=_entities("ls"),
    )
    messages, events = _run(tracker)
    assert [m["text"] for m in messages] == [translations.message("ls", "switched_form")]
    assert messages[0]["lang"] == "de"
    assert events == []  # no slot of the form touched


def test_english_question_is_answered_in_english_with_the_offer():
    tracker = make_tracker(
        text="How do I register my new apartment?", intent="other_language", entities=_entities("en", "detected")
    )
    messages, events = _run(tracker)
    assert translations.english("wohnsitz_anmelden").description in messages[0]["text"]
    assert all(m["lang"] == "en" for m in messages)
    assert [b["payload"] for b in messages[-1]["buttons"]] == ["/affirm", "/deny"]
    assert {"event": "slot", "name": "procedure", "value": "wohnsitz_anmelden"} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in events
    ]

"""Domain responses in the citizen's language where the domain has no variation for it."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from buergerassistent import form_texts, language_state, translations

# The Leichte-Sprache texts of domain responses (catalogue/leichte_sprache/messages.yaml). Not response variations in
# the domain: a domain change retrains the model, the texts are content.
_PLAIN_RESPONSES = {
    "utter_help": "help_text",
    "utter_out_of_scope": "out_of_scope_text",
    "utter_default": "not_understood_text",
}


def utter_response(dispatcher: CollectingDispatcher, tracker: Tracker, response: str) -> None:
    """The domain response ``response``, or its Leichte-Sprache text when the citizen chose it."""
    lang = form_texts.language_of(tracker.get_slot(language_state.SLOT))
    if lang == language_state.PLAIN and response in _PLAIN_RESPONSES:
        dispatcher.utter_message(text=translations.message(lang, _PLAIN_RESPONSES[response]))
    else:
        dispatcher.utter_message(response=response)

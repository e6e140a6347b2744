"""Derive the Rasa domain fragments and rules for forms from the procedure catalogue.

The catalogue (``catalogue/procedures/*.yaml``) is the single source of truth for form fields.
This module turns it into ``bot/domain/generated/forms.yml`` and
``bot/data/generated/form_rules.yml``. ``python -m bot generate`` writes them;
``python -m bot generate --check`` (and a test) fails when the committed files are out of date.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from buergerassistent import language_state
from buergerassistent.catalogue import Catalogue, Procedure, default_catalogue

BOT_DIR = Path(__file__).resolve().parent
FORMS_DOMAIN = BOT_DIR / "domain" / "generated" / "forms.yml"
FORM_RULES = BOT_DIR / "data" / "generated" / "form_rules.yml"
# Rasa test stories (not training data): run by tests/forms/test_rasa_stories.py.
FORM_TEST_STORIES = BOT_DIR / "tests" / "generated" / "form_test_stories.yml"

HEADER = (
    "# GENERATED from catalogue/procedures/*.yaml by `python -m bot generate`. Do not edit:\n"
    "# change the catalogue entry and regenerate.\n"
)

# Intents that interrupt a form instead of being taken as the answer to the current question.
# Each maps to the action that answers it; the form then asks the same question again.
# action_form_interruption (actions/forms.py) answers with action_answer_info or
# action_explain_field, unless the message is really a free-text answer.
# (actions/forms.py answers from buergerassistent/form_questions.py; a question the NLU does not
# recognise reaches the form's validation, which answers it too.)
INTERRUPTIONS = {
    "ask_fees": "action_form_interruption",
    "ask_documents": "action_form_interruption",
    "ask_online": "action_form_interruption",
    "ask_where": "action_form_interruption",
    "ask_why_field": "action_form_interruption",
    "help": "action_form_interruption",
    # Sent by the submission delivery worker (delivery_worker/worker.py), never typed.
    "EXTERNAL_submission_update": "action_announce_submissions",
    # Questions about the login and earlier applications are answered, then the form goes on.
    "login_status": "action_login_status",
    "ask_status": "action_application_status",
    # Issue 15: processing time and deadlines from the catalogue; human answers; English.
    "ask_processing_time": "action_form_interruption",
    "ask_deadline": "action_form_interruption",
    "bot_challenge": "action_human_answer",
    "ask_human": "action_human_answer",
    "ask_contact": "action_human_answer",
    "complain": "action_human_answer",
    "other_language": "action_other_language",
    # Issue 19: "Nein, danke" to the handoff offer (actions/handoff.py).
    "handoff_decline": "action_handoff_decline",
}
# Intents that end the form: each maps to the action that ends it. confirm_request (set by the
# intent guard, buergerassistent/intent_guard.py) pauses it to ask whether to save or cancel.
FORM_EXITS = {
    "cancel": "action_cancel_application",
    "save_draft": "action_save_draft",
    "confirm_request": "action_confirm_request",
    # Issue 19: the handoff to staff and the call-back request pause the form (actions/handoff.py).
    "handoff_accept": "action_handoff_start",
    "request_callback": "action_callback_start",
}
NOT_AN_ANSWER = sorted([*INTERRUPTIONS, *FORM_EXITS])


def _ask_responses(proc: Procedure, index: int) -> list[dict]:
    """The question, and its variants for a conversation in English and in Leichte Sprache (slot
    ``language`` = ``en`` / ``ls``; Rasa picks the variation whose condition holds, issue 20)."""
    from buergerassistent import form_texts

    responses = []
    for lang in (language_state.ENGLISH, language_state.PLAIN):
        text = form_texts.field_text(proc, proc.fields[index], lang)
        if text.prompt != proc.fields[index].prompt:
            condition = [{"type": "slot", "name": language_state.SLOT, "value": lang}]
            responses.append({"condition": condition, **_ask_response(proc, index, lang)})
    return [*responses, _ask_response(proc, index, language_state.GERMAN)]


def _ask_response(proc: Procedure, index: int, lang: str) -> dict:
    from buergerassistent import form_conditions, form_texts

    field = proc.fields[index]
    texts = form_texts.field_text(proc, field, lang)
    # Conditional questions count as part of their deciding question's step (form_conditions).
    numbers, total = form_conditions.steps(proc)
    text = form_texts.say(lang, "form_step", n=numbers[index], total=total, prompt=texts.prompt)
    response: dict = {"text": text}
    if lang == language_state.ENGLISH:
        # The web chat marks the text as English (lang attribute, for screen readers).
        response["metadata"] = {"lang": language_state.HTML_LANG[lang]}
    if field.choices:
        # Buttons send the choice's label as plain text, so it goes through the same validation
        # as a typed answer (an English label too: it is a synonym of the choice).
        labels = [texts.choices.get(c.value, c.label) for c in field.choices]
        response["buttons"] = [{"title": label, "payload": label} for label in labels]
    return response


def forms_domain(catalogue: Catalogue) -> dict:
    forms: dict = {}
    slots: dict = {}
    responses: dict = {}
    slot_types: dict[str, str] = {}
    for proc in catalogue.with_forms():
        forms[proc.form_name] = {"required_slots": [f.name for f in proc.fields]}
        for index, field in enumerate(proc.fields):
            known = slot_types.setdefault(field.name, field.type)
            if known != field.type:
                raise ValueError(
                    f"field '{field.name}' has type '{field.type}' in {proc.id} but '{known}' "
                    "elsewhere: a slot name must mean the same everywhere"
                )
            slot = slots.setdefault(
                field.name,
                {
                    "type": "text",
                    "influence_conversation": False,
                    "mappings": [{"type": "from_text", "not_intent": list(NOT_AN_ANSWER), "conditions": []}],
                },
            )
            slot["mappings"][0]["conditions"].append({"active_loop": proc.form_name, "requested_slot": field.name})
            responses[f"utter_ask_{proc.form_name}_{field.name}"] = _ask_responses(proc, index)
    return {
        "version": "3.1",
        "actions": [f"validate_{p.form_name}" for p in catalogue.with_forms()],
        "forms": forms,
        "slots": slots,
        "responses": responses,
    }


def form_rules(catalogue: Catalogue) -> dict:
    rules = []
    for proc in catalogue.with_forms():
        form = proc.form_name
        rules.append(
            {
                "rule": f"{form}: completed, show the summary",
                "condition": [{"active_loop": form}],
                "steps": [
                    {"action": form},
                    {"active_loop": None},
                    {"slot_was_set": [{"requested_slot": None}]},
                    {"action": "action_show_summary"},
                ],
            }
        )
        for intent, action in FORM_EXITS.items():
            rules.append(
                {
                    "rule": f"{form}: {intent}",
                    "condition": [{"active_loop": form}],
                    "steps": [{"intent": intent}, {"action": action}, {"active_loop": None}],
                }
            )
        # An answer NLU is unsure about ("Hauptstr. 5a") is still an answer: the validators
        # decide, not the "not understood" rule.
        rules.append(
            {
                "rule": f"{form}: unclear text is an answer",
                "condition": [{"active_loop": form}],
                "steps": [
                    {"intent": "nlu_fallback"},
                    {"action": form},
                    {"active_loop": form},
                ],
            }
        )
        for intent, action in INTERRUPTIONS.items():
            rules.append(
                {
                    "rule": f"{form}: answer {intent} and continue",
                    "condition": [{"active_loop": form}],
                    "steps": [
                        {"intent": intent},
                        {"action": action},
                        {"action": form},
                        {"active_loop": form},
                    ],
                }
            )
    return {"version": "3.1", "rules": rules}


def _answer_step(field) -> dict:
    """A test-story user turn answering ``field`` with its example (yes/no → affirm)."""
    from buergerassistent.validation import default_example

    text = field.example or default_example(field.type, choices=field.choices or None)
    intent = "inform"
    if field.type == "yes_no":
        intent = "affirm" if text.lower().startswith("ja") else "deny"
    return {"user": text, "intent": intent}


def _form_turns(proc: Procedure, upto: int, interrupt_at: int | None = None) -> list[dict]:
    """Steps answering the first ``upto`` fields; an ask_fees question before ``interrupt_at``."""
    form = proc.form_name
    steps: list[dict] = [{"active_loop": form}, {"slot_was_set": [{"requested_slot": proc.fields[0].name}]}]
    for i, field in enumerate(proc.fields[:upto]):
        if i == interrupt_at:
            steps += [
                {"user": "Was kostet das?", "intent": "ask_fees"},
                {"action": INTERRUPTIONS["ask_fees"]},
                {"action": form},
                {"active_loop": form},
                {"user": "Wozu brauchen Sie das?", "intent": "ask_why_field"},
                {"action": INTERRUPTIONS["ask_why_field"]},
                {"action": form},
                {"active_loop": form},
            ]
        steps.append(_answer_step(field))
        steps.append({"action": form})
        nxt = proc.fields[i + 1].name if i + 1 < len(proc.fields) else None
        if nxt:
            steps.append({"slot_was_set": [{"requested_slot": nxt}]})
    return steps


def form_test_stories(catalogue: Catalogue) -> dict:
    """Happy and unhappy paths of every form, checked with ``rasa test core``.

    The conversation starts inside the form (the form is opened by a follow-up action, which
    test stories cannot express); the start is covered by the end-to-end tests.
    """
    stories = []
    for proc in catalogue.with_forms():
        form = proc.form_name
        n = len(proc.fields)
        stories.append(
            {
                "story": f"{form}: answers with questions in the middle, summary, submit",
                "steps": _form_turns(proc, n, interrupt_at=min(1, n - 1))
                + [
                    {"active_loop": None},
                    {"slot_was_set": [{"requested_slot": None}]},
                    {"action": "action_show_summary"},
                    {"user": "Ja, absenden", "intent": "affirm"},
                    {"action": "action_handle_affirm"},
                ],
            }
        )
        stories.append(
            {
                "story": f"{form}: cancel in the middle",
                "steps": _form_turns(proc, min(1, n - 1))
                + [
                    {"user": "abbrechen", "intent": "cancel"},
                    {"action": "action_cancel_application"},
                    {"active_loop": None},
                ],
            }
        )
        stories.append(
            {
                "story": f"{form}: continue later",
                "steps": _form_turns(proc, min(2, n - 1))
                + [
                    {"user": "Ich möchte später weitermachen", "intent": "save_draft"},
                    {"action": "action_save_draft"},
                    {"active_loop": None},
                ],
            }
        )
    return {"version": "3.1", "stories": stories}


class _NoAliasDumper(yaml.SafeDumper):
    # Anchors and aliases would make the generated files hard to read for content editors.
    def ignore_aliases(self, data):
        return True


def _dump(data: dict) -> str:
    return HEADER + yaml.dump(data, Dumper=_NoAliasDumper, allow_unicode=True, sort_keys=False, width=100)


def rendered(catalogue: Catalogue | None = None) -> dict[Path, str]:
    catalogue = catalogue or default_catalogue()
    return {
        FORMS_DOMAIN: _dump(forms_domain(catalogue)),
        FORM_RULES: _dump(form_rules(catalogue)),
        FORM_TEST_STORIES: _dump(form_test_stories(catalogue)),
    }


def out_of_date(catalogue: Catalogue | None = None) -> list[Path]:
    return [
        path
        for path, text in rendered(catalogue).items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def write(catalogue: Catalogue | None = None) -> list[Path]:
    changed = []
    for path, text in rendered(catalogue).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed

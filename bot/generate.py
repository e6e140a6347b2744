"""Derive the Rasa domain fragments and rules for forms from the procedure catalogue.

The catalogue (``catalogue/procedures/*.yaml``) is the single source of truth for form fields.
This module turns it into ``bot/domain/generated/forms.yml`` and
``bot/data/generated/form_rules.yml``. ``python -m bot generate`` writes them;
``python -m bot generate --check`` (and a test) fails when the committed files are out of date.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from actions.catalogue import Catalogue, Procedure, default_catalogue

BOT_DIR = Path(__file__).resolve().parent
FORMS_DOMAIN = BOT_DIR / "domain" / "generated" / "forms.yml"
FORM_RULES = BOT_DIR / "data" / "generated" / "form_rules.yml"

HEADER = (
    "# GENERATED from catalogue/procedures/*.yaml by `python -m bot generate`. Do not edit:\n"
    "# change the catalogue entry and regenerate.\n"
)

# Intents that interrupt a form instead of being taken as the answer to the current question.
# Each maps to the action that answers it; the form then asks the same question again.
INTERRUPTIONS = {
    "ask_fees": "action_answer_info",
    "ask_documents": "action_answer_info",
    "ask_online": "action_answer_info",
    "ask_where": "action_answer_info",
    "ask_why_field": "action_explain_field",
    "help": "action_explain_field",
}
NOT_AN_ANSWER = sorted([*INTERRUPTIONS, "cancel"])


def _ask_response(proc: Procedure, index: int) -> dict:
    field = proc.fields[index]
    text = f"Schritt {index + 1} von {len(proc.fields)}: {field.prompt}"
    response: dict = {"text": text}
    if field.choices:
        # Buttons send the choice's label as plain text, so it goes through the same validation
        # as a typed answer.
        response["buttons"] = [{"title": c.label, "payload": c.label} for c in field.choices]
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
                    "mappings": [
                        {"type": "from_text", "not_intent": list(NOT_AN_ANSWER), "conditions": []}
                    ],
                },
            )
            slot["mappings"][0]["conditions"].append(
                {"active_loop": proc.form_name, "requested_slot": field.name}
            )
            responses[f"utter_ask_{proc.form_name}_{field.name}"] = [_ask_response(proc, index)]
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
        rules.append(
            {
                "rule": f"{form}: cancel",
                "condition": [{"active_loop": form}],
                "steps": [
                    {"intent": "cancel"},
                    {"action": "action_cancel_application"},
                    {"active_loop": None},
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


class _NoAliasDumper(yaml.SafeDumper):
    # Anchors and aliases would make the generated files hard to read for content editors.
    def ignore_aliases(self, data):
        return True


def _dump(data: dict) -> str:
    return HEADER + yaml.dump(
        data, Dumper=_NoAliasDumper, allow_unicode=True, sort_keys=False, width=100
    )


def rendered(catalogue: Catalogue | None = None) -> dict[Path, str]:
    catalogue = catalogue or default_catalogue()
    return {
        FORMS_DOMAIN: _dump(forms_domain(catalogue)),
        FORM_RULES: _dump(form_rules(catalogue)),
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

"""content/evaluate_external.py: the Familienlotse Markdown data reaches Rasa 3 intact."""

from __future__ import annotations

import yaml

from content.evaluate_external import markdown_to_yaml, rasa_default_config, table

MARKDOWN = """## intent:greet
- Hallo
- Guten Tag
- Hallo

## intent:familydescription_parent
- Ich bin die [Mutter](parent)
- ich bin [Papa]{"entity": "parent", "value": "Vater"}

## synonym:Vater
- Papa
- Papi

## regex:plz
- \\d{5}

## intent:greet
- Moin
"""


def test_markdown_becomes_rasa_yaml_with_intents_entities_and_synonyms(tmp_path):
    from rasa.shared.nlu.training_data.loading import load_data

    document = markdown_to_yaml(MARKDOWN)
    path = tmp_path / "nlu.yml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    data = load_data(str(path))
    by_intent: dict[str, list[str]] = {}
    for example in data.intent_examples:
        by_intent.setdefault(example.get("intent"), []).append(example.get("text"))
    # A repeated section is merged and a repeated line kept once.
    assert by_intent["greet"] == ["Hallo", "Guten Tag", "Moin"]
    assert by_intent["familydescription_parent"] == ["Ich bin die Mutter", "ich bin Papa"]
    entities = [e["value"] for ex in data.intent_examples for e in ex.get("entities") or []]
    assert entities == ["Mutter", "Vater"]
    assert data.entity_synonyms["Papi"] == "Vater"
    assert [r["pattern"] for r in data.regex_features] == ["\\d{5}"]


def test_rasa_default_pipeline_is_rasas_own_in_german():
    config = rasa_default_config()
    names = [component["name"] for component in config["pipeline"]]
    assert names[0] == "WhitespaceTokenizer"
    assert "DIETClassifier" in names
    assert config["language"] == "de"
    assert "policies" not in config


def test_table_prints_one_row_per_pipeline():
    rows = [
        {
            "pipeline": "a",
            "n": 10,
            "accuracy": 0.8,
            "classifier_accuracy": 0.85,
            "macro_f1": 0.7,
            "train_seconds": 3.0,
            "parse_ms": 4.2,
        },
        {
            "pipeline": "b",
            "n": 10,
            "accuracy": 0.75,
            "classifier_accuracy": 0.75,
            "macro_f1": 0.6,
            "train_seconds": 9.0,
            "parse_ms": 12.0,
        },
    ]
    text = table(rows)
    assert "| a | 10 | 0.800 | 0.850 | 0.700 | 3.0 | 4.2 |" in text
    assert "| b | 10 | 0.750 | 0.750 | 0.600 | 9.0 | 12.0 |" in text


def test_threshold_table_splits_messages_into_right_fallback_and_wrong():
    from content.evaluate import threshold_table

    scores = [("a", "a", 0.9), ("a", "b", 0.6), ("b", "b", 0.35), ("b", "a", 0.2)]
    rows = {row["threshold"]: row for row in threshold_table(scores, thresholds=(0.1, 0.3, 0.5, 0.95))}
    assert rows[0.1] == {"threshold": 0.1, "right": 0.5, "fallback": 0.0, "wrong": 0.5}
    assert rows[0.3] == {"threshold": 0.3, "right": 0.5, "fallback": 0.25, "wrong": 0.25}
    assert rows[0.5] == {"threshold": 0.5, "right": 0.25, "fallback": 0.5, "wrong": 0.25}
    assert rows[0.95] == {"threshold": 0.95, "right": 0.0, "fallback": 1.0, "wrong": 0.0}

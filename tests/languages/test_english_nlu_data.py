"""English NLU data (issue 20, nlu/en/): every intent has at least as many English examples as
German, no English example contradicts a German one, and the English held-out set is not
training data. (The English examples are not trained into the German model: docs/nlu.md.)"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
NLU = ROOT / "nlu" / "data"
ENGLISH = ROOT / "nlu" / "en"


def _examples(paths) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for path in paths:
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            if "intent" not in item:
                continue
            for line in str(item.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    out[item["intent"]].append(line.strip()[2:].strip())
    return out


def test_every_intent_has_at_least_as_many_english_examples_as_german():
    german = _examples(sorted(NLU.glob("*.yml")))
    english = _examples(sorted(ENGLISH.glob("*.yml")))
    short = {i: (len(german[i]), len(english.get(i, []))) for i in german if len(english.get(i, [])) < len(german[i])}
    assert not short, f"intent: (German, English) examples: {short}"
    assert set(english) <= set(german), "English intents must have the German intent names"


def test_no_english_example_is_also_another_intent():
    where: dict[str, set[str]] = defaultdict(set)
    for intent, texts in {**_examples(sorted([*NLU.glob("*.yml"), *ENGLISH.glob("*.yml")]))}.items():
        for text in texts:
            where[text.lower()].add(intent)
    clashes = {t: i for t, i in where.items() if len(i) > 1}
    assert not clashes
    english = _examples(sorted(ENGLISH.glob("*.yml")))
    dupes = [t for texts in english.values() for t, n in Counter(texts).items() if n > 1]
    assert not dupes


def test_english_examples_are_not_in_the_trained_data():
    # measured: one mixed model breaks the retraining and parse-time budgets (docs/nlu.md)
    assert not (NLU / "en").exists()


def test_english_held_out_set_is_not_training_data():
    train = {
        t.lower() for texts in _examples(sorted([*NLU.glob("*.yml"), *ENGLISH.glob("*.yml")])).values() for t in texts
    }
    held_out = _examples([ROOT / "tests" / "data" / "nlu_testset_en.yml"])
    copied = [t for texts in held_out.values() for t in texts if t.lower() in train]
    assert not copied
    assert set(held_out) == set(_examples(sorted(ENGLISH.glob("*.yml"))))

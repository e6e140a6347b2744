"""The evaluation report: charts are written and the comparison names what changed."""

from __future__ import annotations

from content import report
from content.evaluate import intent_metrics


def _summary(acc_pairs, top1):
    gold = [g for g, _ in acc_pairs]
    pred = [p for _, p in acc_pairs]
    intents = intent_metrics(gold, pred)
    intents["errors"] = [
        {"text": f"satz {i}", "gold": g, "predicted": p} for i, (g, p) in enumerate(acc_pairs) if g != p
    ]
    intents["_gold"], intents["_predicted"] = gold, pred
    discovery = {
        "per_procedure": {"meldebescheinigung": {"n": 10, "top1": top1, "top3": 1.0}},
        "by_split": {"test": {"n": 10, "top1": top1, "top3": 1.0, "rejection": 0.8}},
        "misses": [],
        "false_accepts": [],
    }
    summary = {
        "created": "2026-01-01 10:00",
        "model": "m.tar.gz",
        "seconds": 1.0,
        "intents": {k: v for k, v in intents.items() if not k.startswith("_")},
        "discovery": discovery,
        "cross_validation": None,
    }
    return summary, intents


def test_report_with_charts_and_what_got_better_or_worse(tmp_path):
    old, _ = _summary([("greet", "greet"), ("greet", "thanks"), ("thanks", "thanks"), ("deny", "deny")], 0.6)
    new, intents = _summary([("greet", "greet"), ("greet", "greet"), ("thanks", "thanks"), ("deny", "affirm")], 0.9)
    text = report.write(tmp_path, new, intents, None, old, "letzter Lauf", failures=[])
    for png in ("intent_f1.png", "confusion_matrix.png", "discovery.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    better = md.split("**Besser geworden:**")[1].split("**Schlechter geworden:**")[0]
    worse = md.split("**Schlechter geworden:**")[1]
    assert "Top-1 'meldebescheinigung': 60.0% → 90.0%" in better
    assert "jetzt richtig erkannt: „satz 1“" in better
    assert "F1 'deny'" in worse and "jetzt falsch: „satz 3“ (deny → affirm)" in worse
    assert "Alle Schwellen eingehalten." in text


def test_first_report_without_a_previous_one(tmp_path):
    new, intents = _summary([("greet", "greet")], 1.0)
    report.write(
        tmp_path, new, intents, None, None, "", failures=["intent_accuracy = 80.0% liegt unter der Schwelle 85%"]
    )
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "nichts zu vergleichen" in md and "unterschritten" in md

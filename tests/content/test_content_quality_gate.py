"""Quality gate: the assistant's NLU and discovery must not fall below quality/thresholds.yml.

Cheap: uses the cached trained model (trained only when the content changed), the held-out
NLU test set and the "test" split of the discovery test set; no cross-validation (that is
`make evaluate`). A failure lists the sentences that went wrong.
"""

from __future__ import annotations

import logging

import pytest

from content.evaluate import TrainedNlu, evaluate_discovery, evaluate_intents, gate, load_discovery_testset, thresholds


@pytest.fixture(scope="module")
def nlu(model_path):
    logging.disable(logging.WARNING)
    try:
        yield TrainedNlu(model_path)
    finally:
        logging.disable(logging.NOTSET)


def test_intents_and_discovery_meet_the_thresholds(nlu):
    intents = evaluate_intents(nlu)
    testset = load_discovery_testset()
    testset = {
        "procedures": {p: {"test": s.get("test")} for p, s in testset["procedures"].items()},
        "out_of_catalogue": {"test": testset["out_of_catalogue"].get("test")},
    }
    discovery = evaluate_discovery(nlu, testset)
    failures = gate({"intents": intents, "discovery": discovery}, thresholds())
    details = [f"{e['text']!r}: {e['gold']} -> {e['predicted']}" for e in intents["errors"]]
    details += [f"{m['text']!r}: {m['procedure']} -> {m['got']}" for m in discovery["misses"]]
    assert not failures, "\n".join(failures + ["", "Fehler:"] + details)


def test_the_gate_fails_below_a_threshold():
    summary = {
        "intents": {"accuracy": 0.80},
        "discovery": {"by_split": {"test": {"top1": 0.9, "top3": 0.99, "rejection": 0.5}}},
    }
    failures = gate(summary, {"intent_accuracy": 0.85, "discovery_top1": 0.85, "discovery_rejection": 0.75})
    assert len(failures) == 2
    assert any("intent_accuracy" in f for f in failures) and any("discovery_rejection" in f for f in failures)


def test_the_gate_checks_the_cross_validation_only_when_it_ran():
    limits = {"cv_intent_accuracy": 0.85, "cv_out_of_scope_f1": 0.8}
    quick = {"intents": {"accuracy": 0.9}, "discovery": {"by_split": {}}}
    assert gate(quick, limits) == []
    with_cv = dict(quick, cross_validation={"accuracy": 0.84, "per_intent": {"out_of_scope": {"f1": 0.81}}})
    failures = gate(with_cv, limits)
    assert len(failures) == 1 and "cv_intent_accuracy" in failures[0]
    with_cv["cross_validation"]["per_intent"]["out_of_scope"]["f1"] = 0.5
    assert len(gate(with_cv, limits)) == 2

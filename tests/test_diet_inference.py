"""The numpy path of our DIET (rasa_runtime/diet_inference.py, used by rasa_runtime/components.py) against Rasa's TensorFlow path, on the
trained model: every training and test sentence, plus odd input, must get the same scores."""

from __future__ import annotations

import asyncio
import copy

import numpy as np
import pytest

from bot.training import REPO_ROOT, ensure_model
from rasa_runtime.diet_inference import SentenceScorer

ODD_INPUT = [
    "?",
    "xyzzy qqq",
    "Ä" * 300,
    "12.08.1964",
    "80331",
    "erika.mustermann@example.org",
    "ICH BRAUCHE EINE MELDEBESCHEINIGUNG!!!",
    "Meldebescheinigung Meldebescheinigung " * 20,
]


@pytest.fixture(scope="module")
def agent():
    from rasa.core.agent import Agent

    return Agent.load(str(ensure_model(quiet=True)))


def diet_of(agent):
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier

    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    return next(node._component for node in nodes if isinstance(node._component, DIETClassifier))


def sentences() -> list[str]:
    from rasa.shared.nlu.training_data.loading import load_data

    texts = []
    for path in (REPO_ROOT / "nlu" / "data", REPO_ROOT / "tests" / "data" / "nlu_testset.yml"):
        texts += [example.get("text") for example in load_data(str(path)).intent_examples]
    return texts + ODD_INPUT


def test_scores_as_with_tensorflow(agent, monkeypatch):
    """Runs Rasa's own path (our classifier switched to it) and scores each message both ways."""
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier

    diet = diet_of(agent)
    monkeypatch.setattr(diet, "_ba_numpy", False)
    scorer = SentenceScorer.for_component(diet)
    assert scorer is not None, "our DIET configuration should be supported"
    original = DIETClassifier._predict
    compared = []

    def both(self, message):
        out = original(self, message)
        compared.append((message.get("text"), out["i_scores"], scorer.scores(message)))
        return out

    monkeypatch.setattr(DIETClassifier, "_predict", both)
    texts = sentences()
    assert len(texts) > 500

    async def parse_all():
        for text in texts:
            await agent.parse_message(text)

    asyncio.run(parse_all())
    assert len(compared) == len(texts)
    for text, expected, ours in compared:
        assert ours.shape == expected.shape and ours.dtype == expected.dtype, text
        assert np.abs(ours - expected).max() < 1e-5, text
        assert list(np.argsort(-ours[0])[:3]) == list(np.argsort(-expected[0])[:3]), text


def test_empty_text_goes_to_rasa(agent):
    from rasa.shared.nlu.training_data.message import Message

    # no features at all: Rasa's path decides (it predicts nothing)
    assert SentenceScorer.for_component(diet_of(agent)).scores(Message(data={"text": ""})) is None


def test_other_diet_shapes_keep_rasas_path(agent):
    diet = copy.copy(diet_of(agent))
    layer = diet.model._tf_layers["sequence_layer.text"]
    original = layer._has_transformer
    try:
        layer._has_transformer = True
        assert SentenceScorer.for_component(diet) is None
    finally:
        layer._has_transformer = original
    diet.component_config = dict(diet.component_config, entity_recognition=True)
    assert SentenceScorer.for_component(diet) is None
    diet.model = None
    assert SentenceScorer.for_component(diet) is None


def test_fast_classifier_gives_rasas_intents(agent, monkeypatch):
    """Our classifier in config.yml (rasa_runtime/components.py) takes the numpy path, and whole
    parse results (intent and ranking) are those of DIETClassifier's own process."""
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier

    from rasa_runtime.components import FastDIETClassifier

    diet = diet_of(agent)
    assert isinstance(diet, FastDIETClassifier)
    texts = sentences()[::7]

    async def parse_all():
        return [await agent.parse_message(text) for text in texts]

    monkeypatch.setattr(diet, "_ba_numpy", False)
    expected = asyncio.run(parse_all())
    monkeypatch.setattr(diet, "_ba_numpy", True)

    def tensorflow_path(self, message):
        raise AssertionError("numpy path not taken: " + str(message.get("text")))

    with monkeypatch.context() as m:
        m.setattr(DIETClassifier, "_predict", tensorflow_path)
        ours = asyncio.run(parse_all())
    for before, after in zip(expected, ours, strict=False):
        assert after["intent"]["name"] == before["intent"]["name"], before["text"]
        assert after["intent"]["confidence"] == pytest.approx(before["intent"]["confidence"], abs=1e-5)
        assert [r["name"] for r in after["intent_ranking"][:3]] == [r["name"] for r in before["intent_ranking"][:3]]


def test_features_wider_than_in_training_go_to_rasa(agent):
    """A featurizer that grew (say, a vocabulary from other training data) must not index past
    the trained weights: Rasa's path decides."""
    import scipy.sparse
    from rasa.shared.nlu.training_data.features import Features
    from rasa.shared.nlu.training_data.message import Message

    scorer = SentenceScorer.for_component(diet_of(agent))
    wide = scipy.sparse.coo_matrix(
        ([1.0], ([0], [len(scorer.sparse_kernel) + 5])), shape=(1, len(scorer.sparse_kernel) + 10)
    )
    message = Message(data={"text": "Hallo"}, features=[Features(wide, "sentence", "text", "X")])
    assert scorer.scores(message) is None

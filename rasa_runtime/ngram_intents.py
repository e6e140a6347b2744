"""A second opinion on the intent: a linear model over character and word n-grams, blended with DIET.

bot/config.yml places ``rasa_runtime.ngram_intents.NgramIntentClassifier`` after DIET. It reads
the message's text itself (TF-IDF over character n-grams inside words and word uni-/bigrams,
sublinear term frequency) and scores intents with a multinomial logistic regression; the
message's intent is then the weighted mean of DIET's confidences and this model's
probabilities. Why both: the linear model generalises better to unseen phrasings of our short,
misspelled form messages (cross-validation), DIET separates questions outside our scope better
(docs/nlu.md has the figures that chose the weight and the fallback threshold).

Where the n-grams are unsure, a joint model over the n-grams and the message's sentence embedding
reads it instead, blended with the intent of the nearest training examples by that embedding
(docs/nlu.md, fifteenth and sixteenth rounds).

The trained model is stored as plain arrays (numpy ``.npz`` without pickles, vocabularies as
JSON), so loading a model file never runs code from it. ``NgramIntentModel`` has no Rasa in it:
content/evaluate_external.py and tests use it directly.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Dict, List, Optional  # noqa: UP035 - Rasa validates these annotations

import numpy as np

logger = logging.getLogger(__name__)

_WORD_TOKENS = r"(?u)\b\w+\b"  # one-letter words count too ("a", "z"): they occur in form answers


class NgramIntentModel:
    """TF-IDF n-grams and a multinomial logistic regression (scikit-learn), stored as arrays."""

    def __init__(
        self,
        c: float = 20.0,
        char_ngrams: Sequence[int] = (1, 4),
        word_ngrams: Sequence[int] = (1, 2),
        class_weight: Optional[str] = None,
        min_df: int = 1,
        cluster_weight: float = 0.0,
        embedding_weight: float = 0.0,
        nearest_weight: float = 0.0,
        nearest_temperature: float = 0.01,
    ) -> None:
        self.c = float(c)
        # weight of the sentence embedding (nlu/sentence_encoder.py) in a second, joint model; 0: none
        self.embedding_weight = float(embedding_weight)
        # where training keeps the embeddings of its examples (None: computed every time)
        self.embedding_cache: Optional[Path] = None
        self._coef_joint: Optional[np.ndarray] = None
        self._intercept_joint: Optional[np.ndarray] = None
        # the nearest training example of each intent by the same embedding, blended into the
        # joint model's reading with this weight (0: none; docs/nlu.md, sixteenth round)
        self.nearest_weight = float(nearest_weight)
        self.nearest_temperature = float(nearest_temperature)
        self._examples: Optional[np.ndarray] = None  # the examples' embeddings, grouped by intent
        self._example_starts: Optional[np.ndarray] = None  # where each intent's rows start
        # weight of the words' Brown clusters (nlu/word_clusters.py) beside the n-grams; 0: none
        self.cluster_weight = float(cluster_weight)
        self.clusters: dict[str, str] = {}
        self.char_ngrams = (int(char_ngrams[0]), int(char_ngrams[1]))
        # (0, 0): no word n-grams, (0, 0) for char_ngrams: no character n-grams
        self.word_ngrams = (int(word_ngrams[0]), int(word_ngrams[1]))
        self.class_weight = class_weight  # None or "balanced"
        self.min_df = int(min_df)
        self.classes: list[str] = []
        self._vectorizers: list[Any] = []
        self._coef: Optional[np.ndarray] = None
        self._intercept: Optional[np.ndarray] = None
        self._analyzers: Optional[list] = None

    def _new_vectorizers(self) -> list[Any]:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizers = []
        if self.char_ngrams[1] > 0:
            vectorizers.append(
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=self.char_ngrams,
                    sublinear_tf=True,
                    min_df=self.min_df,
                    dtype=np.float32,
                )
            )
        if self.word_ngrams[1] > 0:
            vectorizers.append(
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=self.word_ngrams,
                    sublinear_tf=True,
                    token_pattern=_WORD_TOKENS,
                    min_df=self.min_df,
                    dtype=np.float32,
                )
            )
        if self.cluster_weight > 0:
            vectorizers.append(
                TfidfVectorizer(
                    analyzer=self._cluster_features, sublinear_tf=True, min_df=self.min_df, dtype=np.float32
                )
            )
        return vectorizers

    def _cluster_features(self, text: str) -> list[str]:
        from nlu.word_clusters import cluster_features

        return cluster_features(text, self.clusters)

    def _weights(self) -> list[float]:
        """Each vectorizer's weight in the features (the clusters' block last)."""
        weights = [1.0] * len(self._vectorizers)
        if self.cluster_weight > 0:
            weights[-1] = self.cluster_weight
        return weights

    def _stack(self, blocks: list) -> Any:
        from scipy.sparse import hstack

        return hstack([b * w if w != 1.0 else b for b, w in zip(blocks, self._weights(), strict=True)]).tocsr()

    def _features(self, texts: Iterable[str]) -> Any:
        texts = list(texts)
        return self._stack([v.transform(texts) for v in self._vectorizers])

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> NgramIntentModel:
        from scipy.sparse import csr_matrix, hstack

        if self.cluster_weight > 0 and not self.clusters:
            from nlu.word_clusters import german_clusters

            self.clusters = german_clusters()
        self._vectorizers = self._new_vectorizers()
        self._analyzers = None
        features = self._stack([v.fit_transform(texts) for v in self._vectorizers])
        self.classes, self._coef, self._intercept = self._regression(features, labels)
        self._coef_joint = self._intercept_joint = None
        if self.embedding_weight > 0:
            from nlu import sentence_encoder

            if self.embedding_cache is None:
                embeddings = sentence_encoder.encode(list(texts))
            else:
                embeddings = sentence_encoder.encode_cached(list(texts), self.embedding_cache)
            if embeddings is None:
                logger.warning("NgramIntentModel: no sentence encoder here, trained on the n-grams only")
            else:
                joint = hstack([features, csr_matrix(embeddings * self.embedding_weight)]).tocsr()
                # same labels, same classes; the dense block needs ~450 iterations at the default
                # tolerance, 1e-3 halves that with the same predictions (docs/nlu.md)
                _, self._coef_joint, self._intercept_joint = self._regression(joint, labels, tol=1e-3)
                if self.nearest_weight > 0:
                    self._keep_examples(embeddings, labels)
        return self

    def _keep_examples(self, embeddings: np.ndarray, labels: Sequence[str]) -> None:
        index = {name: i for i, name in enumerate(self.classes)}
        rows = [index[str(label)] for label in labels]
        order = np.argsort(rows, kind="stable")
        counts = np.bincount(rows, minlength=len(self.classes))
        self._examples = np.ascontiguousarray(embeddings[order], dtype=np.float32)
        self._example_starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)

    @property
    def has_nearest(self) -> bool:
        return self._examples is not None and self.has_embeddings

    def _nearest(self, embeddings: np.ndarray, joint: np.ndarray) -> np.ndarray:
        """The joint reading blended with the nearest examples: per intent the cosine of its
        nearest training example, as a softmax at ``nearest_temperature``, and both combined as
        ``blend``'s product with ``nearest_weight`` (a message that is nearly one example's twin
        gets that example's intent, however few n-grams it shares with it)."""
        closest = np.maximum.reduceat(embeddings @ self._examples.T, self._example_starts, axis=1)
        nearest = _softmax(closest / self.nearest_temperature)
        logs = self.nearest_weight * np.log(np.maximum(nearest, _FLOOR)) + (1.0 - self.nearest_weight) * np.log(
            np.maximum(joint, _FLOOR)
        )
        return _softmax(logs)

    def _regression(
        self, features: Any, labels: Sequence[str], tol: float = 1e-4
    ) -> tuple[list[str], np.ndarray, np.ndarray]:
        from sklearn.linear_model import LogisticRegression

        clf = LogisticRegression(C=self.c, class_weight=self.class_weight, max_iter=3000, tol=tol, random_state=42)
        clf.fit(features, list(labels))
        classes = [str(c) for c in clf.classes_]
        if len(classes) == 2:  # binary LR stores one row; keep the softmax form for both classes
            coef = np.vstack([-clf.coef_[0] / 2, clf.coef_[0] / 2]).astype(np.float32)
            intercept = np.array([-clf.intercept_[0] / 2, clf.intercept_[0] / 2], dtype=np.float32)
        else:
            coef = clf.coef_.astype(np.float32)
            intercept = clf.intercept_.astype(np.float32)
        return classes, coef, intercept

    @property
    def has_embeddings(self) -> bool:
        """Whether a joint model over n-grams and the sentence embedding was trained."""
        return self._coef_joint is not None

    @property
    def trained(self) -> bool:
        return self._coef is not None and len(self.classes) > 0

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities, one row per text, columns in the order of ``classes``.

        The features are computed here rather than with scikit-learn's ``transform``: the same
        TF-IDF values, but for one short message about 0.1 ms instead of 2-3 ms (the budget for
        the whole parse is 5 ms). tests/test_ngram_intents.py checks both give the same.
        """
        return _softmax(self._logits(texts, self._coef, self._intercept))

    def proba_joint(self, texts: Sequence[str]) -> Optional[np.ndarray]:
        """Probabilities of the joint model (n-grams and sentence embedding), None if it cannot run."""
        if not self.has_embeddings:
            return None
        from nlu import sentence_encoder

        embeddings = sentence_encoder.encode(list(texts))
        if embeddings is None:
            return None
        dense = self._coef_joint[:, -embeddings.shape[1] :].astype(np.float64)
        logits = self._logits(texts, self._coef_joint, self._intercept_joint)
        joint = _softmax(logits + (self.embedding_weight * embeddings) @ dense.T)
        return self._nearest(embeddings, joint) if self.has_nearest else joint

    def _logits(self, texts: Sequence[str], coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        """The n-gram part of a model's logits, computed without scikit-learn (the fast path)."""
        logits = np.empty((len(texts), len(self.classes)))
        for row, text in enumerate(texts):
            columns, values = self._sparse_row(text)
            score = intercept.astype(np.float64)
            if columns:
                score = score + coef[:, columns] @ values
            logits[row] = score
        return logits

    def _sparse_row(self, text: str) -> tuple[list[int], np.ndarray]:
        """The columns and values of the n-gram features of one text (the same for both models)."""
        if self._analyzers is None:
            self._analyzers = [
                (v.build_analyzer(), v.vocabulary_, np.asarray(v.idf_, dtype=np.float64), w)
                for v, w in zip(self._vectorizers, self._weights(), strict=True)
            ]
        columns: list[int] = []
        values: list[np.ndarray] = []
        offset = 0
        for analyze, vocabulary, idf, block_weight in self._analyzers:
            counts = Counter(i for i in map(vocabulary.get, analyze(text)) if i is not None)
            if counts:
                idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
                tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
                weights = tf * idf[idx]
                columns.extend((idx + offset).tolist())
                values.append(block_weight * weights / np.linalg.norm(weights))
            offset += len(vocabulary)
        return columns, (np.concatenate(values) if values else np.zeros(0))

    def proba_sklearn(self, texts: Sequence[str]) -> np.ndarray:
        """``proba`` through scikit-learn's own ``transform`` (the reference for the fast path)."""
        logits = np.asarray(self._features(texts) @ self._coef.T + self._intercept, dtype=np.float64)
        return _softmax(logits)

    def proba_joint_sklearn(self, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        """``proba_joint`` through scikit-learn's own ``transform`` (the reference for the fast path)."""
        from scipy.sparse import csr_matrix, hstack

        features = hstack([self._features(texts), csr_matrix(embeddings * self.embedding_weight)]).tocsr()
        logits = np.asarray(features @ self._coef_joint.T + self._intercept_joint, dtype=np.float64)
        joint = _softmax(logits)
        return self._nearest(embeddings, joint) if self.has_nearest else joint

    # ------------------------------------------------------------------ storage (no pickles)
    def save(self, directory: Path) -> None:
        meta = {
            "c": self.c,
            "char_ngrams": self.char_ngrams,
            "word_ngrams": self.word_ngrams,
            "class_weight": self.class_weight,
            "min_df": self.min_df,
            "cluster_weight": self.cluster_weight,
            "embedding_weight": self.embedding_weight if self.has_embeddings else 0.0,
            "nearest_weight": self.nearest_weight if self.has_nearest else 0.0,
            "nearest_temperature": self.nearest_temperature,
            "classes": self.classes,
            "vocabularies": [{k: int(i) for k, i in v.vocabulary_.items()} for v in self._vectorizers],
        }
        (directory / "ngram_intents.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        arrays = {"coef": self._coef, "intercept": self._intercept}
        if self.has_embeddings:
            arrays.update(coef_joint=self._coef_joint, intercept_joint=self._intercept_joint)
        if self.has_nearest:
            arrays.update(examples=self._examples, example_starts=self._example_starts)
        arrays.update({f"idf{i}": v.idf_.astype(np.float32) for i, v in enumerate(self._vectorizers)})
        np.savez(directory / "ngram_intents.npz", **arrays)
        if self.cluster_weight > 0:  # the clusters travel with the model: no lookup data at run time
            (directory / "ngram_clusters.json").write_text(json.dumps(self.clusters, ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, directory: Path) -> NgramIntentModel:
        meta = json.loads((directory / "ngram_intents.json").read_text(encoding="utf-8"))
        model = cls(
            meta["c"],
            meta["char_ngrams"],
            meta["word_ngrams"],
            meta.get("class_weight"),
            meta.get("min_df", 1),
            meta.get("cluster_weight", 0.0),
            meta.get("embedding_weight", 0.0),
            meta.get("nearest_weight", 0.0),
            meta.get("nearest_temperature", 0.01),
        )
        if model.cluster_weight > 0:
            model.clusters = json.loads((directory / "ngram_clusters.json").read_text(encoding="utf-8"))
        model.classes = list(meta["classes"])
        with np.load(directory / "ngram_intents.npz", allow_pickle=False) as arrays:
            model._coef = arrays["coef"]
            model._intercept = arrays["intercept"]
            if model.embedding_weight > 0:
                model._coef_joint = arrays["coef_joint"]
                model._intercept_joint = arrays["intercept_joint"]
            if model.nearest_weight > 0:
                model._examples = arrays["examples"]
                model._example_starts = arrays["example_starts"]
            model._vectorizers = model._new_vectorizers()
            for i, (vectorizer, vocabulary) in enumerate(zip(model._vectorizers, meta["vocabularies"], strict=True)):
                vectorizer.vocabulary_ = vocabulary
                vectorizer.idf_ = arrays[f"idf{i}"]
        return model


# a product of distributions (blend, NgramIntentModel._nearest): an intent one side gives 0 must
# not veto it outright
_FLOOR = 1e-6


def _softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def blend(
    diet: dict[str, float], ngram: dict[str, float], diet_weight: float, mode: str = "mean", sharpness: float = 1.0
) -> list[tuple[str, float]]:
    """Two intent distributions as one, best first (an intent missing in one counts 0 there).

    ``mean``: the weighted mean. ``product``: the weighted geometric mean, normalised (a product
    of experts): where both agree the result is as sure as the surer one, where they disagree
    it is unsure, so the fallback threshold and the intent guard's 0.85 keep their meaning.
    ``sharpness`` raises the blended distribution to that power and normalises it again (a
    temperature of 1/sharpness): above 1 the first intent becomes surer, below 1 less sure.
    """
    names = sorted(set(diet) | set(ngram))
    if mode == "product":
        logs = np.array(
            [
                diet_weight * np.log(max(diet.get(n, 0.0), _FLOOR))
                + (1.0 - diet_weight) * np.log(max(ngram.get(n, 0.0), _FLOOR))
                for n in names
            ]
        )
        logs = sharpness * logs
        mixed_values = np.exp(logs - logs.max())
        mixed_values /= mixed_values.sum()
        mixed = dict(zip(names, mixed_values.tolist(), strict=True))
    elif mode == "mean":
        mixed = {n: diet_weight * diet.get(n, 0.0) + (1.0 - diet_weight) * ngram.get(n, 0.0) for n in names}
        if sharpness != 1.0:
            powered = {n: v**sharpness for n, v in mixed.items()}
            total = sum(powered.values()) or 1.0
            mixed = {n: v / total for n, v in powered.items()}
    else:
        raise ValueError(f"unknown blend mode {mode!r} (mean or product)")
    return sorted(mixed.items(), key=lambda item: (-item[1], item[0]))


# ---------------------------------------------------------------------- the Rasa component
from rasa.engine.graph import ExecutionContext, GraphComponent  # noqa: E402 - the model above needs no Rasa
from rasa.engine.recipes.default_recipe import DefaultV1Recipe  # noqa: E402
from rasa.engine.storage.resource import Resource  # noqa: E402
from rasa.engine.storage.storage import ModelStorage  # noqa: E402
from rasa.nlu.classifiers.classifier import IntentClassifier  # noqa: E402
from rasa.shared.nlu.constants import INTENT, TEXT  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402
from rasa.shared.nlu.training_data.training_data import TrainingData  # noqa: E402


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class NgramIntentClassifier(GraphComponent, IntentClassifier):
    """Blends the intent ranking of the classifier before it (DIET) with ``NgramIntentModel``."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:  # noqa: UP006
        return {
            "C": 20.0,
            "char_ngrams": [1, 4],
            "word_ngrams": [1, 2],
            # weight of the previous classifier's confidences; 0 = the n-gram model alone
            "diet_weight": 0.5,
            "blend": "mean",  # or "product" (see blend)
            "sharpness": 1.0,  # power of the blended distribution (see blend)
            "class_weight": None,  # or "balanced"
            "min_df": 1,
            "cluster_weight": 0.0,  # weight of the words' Brown clusters (0: none)
            # weight of the sentence embedding in a second, joint model (0: none) and the blended
            # confidence of the n-grams below which a message is read by it (1.0: every message)
            "embedding_weight": 0.0,
            "embedding_below": 1.0,
            # weight of the nearest training examples in the joint reading (0: none) and the
            # temperature of their softmax
            "nearest_weight": 0.0,
            "nearest_temperature": 0.01,
            "embedding_cache": None,  # a folder for the training examples' embeddings (None: no cache)
            "ranking_length": 10,
        }

    def __init__(self, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource) -> None:  # noqa: UP006
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = NgramIntentModel(
            self.config["C"],
            self.config["char_ngrams"],
            self.config["word_ngrams"],
            self.config["class_weight"],
            self.config["min_df"],
            self.config["cluster_weight"],
            self.config["embedding_weight"],
            self.config["nearest_weight"],
            self.config["nearest_temperature"],
        )
        if self.config["embedding_cache"]:
            self.model.embedding_cache = Path(self.config["embedding_cache"])

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],  # noqa: UP006
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> NgramIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(TEXT) and e.get(INTENT)]
        if len({e.get(INTENT) for e in examples}) < 2:
            logger.debug("NgramIntentClassifier: fewer than two intents, nothing to learn")
            return self._resource
        self.model.fit([e.get(TEXT) for e in examples], [e.get(INTENT) for e in examples])
        with self._model_storage.write_to(self._resource) as directory:
            self.model.save(directory)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],  # noqa: UP006
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> NgramIntentClassifier:
        component = cls(config, model_storage, resource)
        try:
            with model_storage.read_from(resource) as directory:
                component.model = NgramIntentModel.load(directory)
        except (ValueError, FileNotFoundError):  # trained without intents: DIET's ranking stays
            logger.debug("NgramIntentClassifier: no trained model in %s", resource.name)
        return component

    def process(self, messages: List[Message]) -> List[Message]:  # noqa: UP006
        if not self.model.trained:
            return messages
        texts = [m.get(TEXT) or "" for m in messages]
        probabilities = self.model.proba(texts)
        weight = float(self.config["diet_weight"])
        length = int(self.config["ranking_length"])
        mode, sharpness = self.config["blend"], float(self.config["sharpness"])
        for message, text, row in zip(messages, texts, probabilities, strict=True):
            previous = {r["name"]: float(r["confidence"]) for r in message.get("intent_ranking") or []}
            diet_weight = weight if previous else 0.0
            ranking = blend(
                previous, dict(zip(self.model.classes, row.tolist(), strict=True)), diet_weight, mode, sharpness
            )
            # the sentence embedding costs milliseconds: only where the n-grams are unsure
            if ranking[0][1] < float(self.config["embedding_below"]) and self.model.has_embeddings:
                joint = self.model.proba_joint([text])
                if joint is not None:
                    ngram = dict(zip(self.model.classes, joint[0].tolist(), strict=True))
                    ranking = blend(previous, ngram, diet_weight, mode, sharpness)
            if length > 0:
                ranking = ranking[:length]
            name, confidence = ranking[0]
            message.set(INTENT, {"name": name, "confidence": confidence}, add_to_output=True)
            message.set("intent_ranking", [{"name": n, "confidence": c} for n, c in ranking], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

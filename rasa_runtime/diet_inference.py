"""Intent scores of our DIET model computed with numpy instead of a TensorFlow call.

Our DIET has no transformer layers and recognises no entities (bot/config.yml). Then every
position of its input is embedded on its own, and the intent is read at the sentence position
only, so the whole prediction is: sentence features -> dense layer -> embedding -> dot product
with the (fixed) label embeddings -> softmax. That is three small matrix products. Calling the
TensorFlow graph for it cost about 3 ms per message, mostly in checking and converting its ~20
inputs against the graph's signature; this costs about 0.15 ms.

Used by our intent classifier ``FastDIETClassifier`` (rasa_runtime/components.py, in
bot/config.yml). ``SentenceScorer.for_component`` returns None for every DIET it does not
reproduce exactly (transformer layers, entities, hidden layers, dense features, other similarity
or confidence types), and those keep Rasa's own path. tests/test_diet_inference.py compares both paths on all
training and test sentences.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _is_linear(activation) -> bool:
    import tensorflow as tf

    return activation is None or activation is tf.keras.activations.linear


@dataclass(frozen=True)
class SentenceScorer:
    featurizers: tuple[str, ...]
    sparse_kernel: np.ndarray  # (sentence feature columns, dense dimension)
    sparse_bias: np.ndarray
    embed_kernel: np.ndarray  # (dense dimension, embedding dimension)
    embed_bias: np.ndarray
    label_embeddings: np.ndarray  # (labels, embedding dimension), ordered by label id

    @classmethod
    def for_component(cls, diet) -> SentenceScorer | None:
        """The scorer for a trained ``DIETClassifier``, or None if its model has other parts."""
        from rasa.shared.nlu.constants import TEXT
        from rasa.utils.tensorflow.constants import (
            ENTITY_RECOGNITION,
            FEATURIZERS,
            INTENT_CLASSIFICATION,
            SENTENCE,
            SEQUENCE,
        )

        model = getattr(diet, "model", None)
        config = diet.component_config
        if model is None or not config[INTENT_CLASSIFICATION] or config[ENTITY_RECOGNITION]:
            return None
        try:
            sequence_layer = model._tf_layers[f"sequence_layer.{TEXT}"]
            combining = sequence_layer._tf_layers[sequence_layer.FEATURE_COMBINING]
            sentence_signature = model.data_signature[TEXT][SENTENCE]
            to_dense = combining._tf_layers[f"sparse_dense.{SENTENCE}"]._tf_layers["sparse_to_dense"]
            embed = model._tf_layers[f"embed.{TEXT}"]._dense
            loss = model._tf_layers["loss.label"]
        except (AttributeError, KeyError):
            return None
        if (
            sequence_layer._has_transformer
            or len(sequence_layer._tf_layers[sequence_layer.FFNN]._ffn_layers) > 0
            # a dimension-unifying layer would stand between the features and the sentence vector
            or any(name.startswith("unify_dims") for name in combining._tf_layers)
            # the sentence position holds the sentence features only if the sequence is there too
            or not model.data_signature[TEXT].get(SEQUENCE)
            or [s.is_sparse for s in sentence_signature] != [True]
            or not _is_linear(to_dense.activation)
            or not _is_linear(embed.activation)
            or loss.similarity_type != "inner"
            or loss.model_confidence != "softmax"
        ):
            return None
        if model.all_labels_embed is None:
            model.prepare_for_predict()
            model.prepared_for_prediction = True
        return cls(
            featurizers=tuple(config[FEATURIZERS]),
            sparse_kernel=to_dense.kernel.numpy(),
            sparse_bias=to_dense.bias.numpy() if to_dense.use_bias else np.zeros(to_dense.units, np.float32),
            embed_kernel=embed.kernel.numpy(),
            embed_bias=embed.bias.numpy() if embed.use_bias else np.zeros(embed.units, np.float32),
            label_embeddings=np.asarray(model.all_labels_embed),
        )

    def scores(self, message) -> np.ndarray | None:
        """Softmax confidences, shape (1, labels) as Rasa's ``i_scores``; None without features."""
        from rasa.shared.nlu.constants import TEXT

        _, sentence_features = message._filter_sparse_features(TEXT, list(self.featurizers))
        if not sentence_features:
            return None
        matrices = [feature.features.tocoo() for feature in sentence_features]
        if any(m.shape[0] != 1 for m in matrices) or sum(m.shape[1] for m in matrices) != len(self.sparse_kernel):
            return None  # features of another shape than in training: let Rasa decide
        hidden = self.sparse_bias.copy()
        offset = 0
        for matrix in matrices:  # columns as in Rasa's hstack of these features
            if matrix.nnz:
                hidden += matrix.data.astype(np.float32) @ self.sparse_kernel[offset + matrix.col]
            offset += matrix.shape[1]
        similarities = (hidden @ self.embed_kernel + self.embed_bias) @ self.label_embeddings.T
        exp = np.exp(similarities - similarities.max())
        return (exp / exp.sum())[np.newaxis, :].astype(np.float32)

"""Our intent classifier: Rasa's DIETClassifier, scoring intents with numpy where that gives the
same result (bot/config.yml: ``rasa_runtime.components.FastDIETClassifier``).

A subclass registered as a graph component, so no Rasa function is replaced: Rasa 3.6 finds it by
its module path in config.yml. It trains and persists as DIETClassifier (the model files carry
its class name). ``process`` scores a message with ``SentenceScorer`` (rasa_runtime/diet_inference.py)
when the trained model has the shape the scorer reproduces and the message's features fit it,
and leaves every other message to DIETClassifier's own ``process``. With the "diet_numpy" group
off (``BA_RASA_PATCHES=0`` or ``-diet_numpy``, or another Rasa version than
rasa_runtime.patches.RASA_VERSION) every message goes to DIETClassifier's ``process``.
tests/test_diet_inference.py compares both paths on every training and test sentence.
"""

from __future__ import annotations

from typing import Any, List  # noqa: UP035 - Rasa validates these annotations (typing.List as in its own)

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.shared.nlu.constants import INTENT
from rasa.shared.nlu.training_data.message import Message

from rasa_runtime.diet_inference import SentenceScorer
from rasa_runtime.patches import is_enabled

_NOT_SUPPORTED = object()


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True,
)
class FastDIETClassifier(DIETClassifier):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ba_numpy = is_enabled("diet_numpy")
        self._ba_scorer: Any = None

    def _scorer(self) -> SentenceScorer | None:
        if self._ba_scorer is None:  # after loading: the trained model is needed
            self._ba_scorer = SentenceScorer.for_component(self) or _NOT_SUPPORTED
        return None if self._ba_scorer is _NOT_SUPPORTED else self._ba_scorer

    def process(self, messages: List[Message]) -> List[Message]:  # noqa: UP006
        if not self._ba_numpy or self._execution_context.should_add_diagnostic_data:
            return super().process(messages)
        scorer = self._scorer()
        if scorer is None:
            return super().process(messages)
        for message in messages:
            scores = scorer.scores(message)
            if scores is None:  # features of another shape than in training: Rasa decides
                super().process([message])
                continue
            # The scorer exists only for intent classification without entities (for_component).
            label, ranking = self._predict_label({"i_scores": scores})
            message.set(INTENT, label, add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages

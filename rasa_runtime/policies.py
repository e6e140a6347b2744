"""Our RulePolicy: Rasa's, with the rule matching indexed (bot/config.yml:
``rasa_runtime.policies.IndexedRulePolicy``).

A subclass registered as a graph component, so no Rasa function is replaced: Rasa 3.6 finds it by
its module path in config.yml. It trains, persists and predicts as RulePolicy; only
``_get_possible_keys`` (which rules can still apply to the conversation) does less work. With
the "rule_index" group off (``BA_RASA_PATCHES=0`` or ``-rule_index``, or another Rasa version
than rasa_runtime.patches.RASA_VERSION) it is RulePolicy unchanged: every call goes to Rasa's own.

Rasa's recipe validator compares policies with ``== RulePolicy`` in two places: it warns at
training that "RulePolicy is not included" (harmless) and skips
``RulePolicy.raise_if_incompatible_with_domain``, which ``train`` therefore calls itself.
tests/test_rasa_patches.py compares the indexed matching with Rasa's on random rule sets.
"""

from __future__ import annotations

from typing import Any, List  # noqa: UP035 - Rasa validates these annotations (typing.List as in its own)

from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates

from rasa_runtime.patches import is_enabled


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class IndexedRulePolicy(RulePolicy):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ba_indexed = is_enabled("rule_index")

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:  # noqa: UP006
        # Rasa's validator runs this check only for RulePolicy itself (``==``), not subclasses.
        self.raise_if_incompatible_with_domain(self.config, domain)
        return super().train(training_trackers, domain, **kwargs)

    def _get_possible_keys(self, lookup, states):  # Rasa's signature
        if not self._ba_indexed:
            return super()._get_possible_keys(lookup, states)
        return _possible_rule_keys(self, lookup, states)


def _rules_by_last_action(self, lookup) -> tuple[dict, dict]:
    """Rule keys grouped by the action their last state requires (None: no such condition), and
    each rule's states from its last turn back (Rasa parsed and reversed them for every check)."""
    from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET

    # One index per lookup table (RulePolicy has several: rules, unhappy loop paths, …).
    indexes = self.__dict__.setdefault("_ba_rule_indexes", {})
    cached = indexes.get(id(lookup))
    if cached is None or cached[0] is not lookup or cached[1] != len(lookup):
        index: dict = {}
        backwards: dict = {}
        for key in lookup:
            rule_states = self._rule_key_to_state(key)
            backwards[key] = tuple(reversed(rule_states))
            name = (rule_states[-1].get(PREVIOUS_ACTION) or {}).get("action_name")
            index.setdefault(name if name and name != SHOULD_NOT_BE_SET else None, set()).add(key)
        cached = (lookup, len(lookup), index, backwards)
        indexes[id(lookup)] = cached
    return cached[2], cached[3]


def _applicable(rule_backwards: tuple, turn_index: int, conversation_state: dict, does_match) -> bool:  # noqa: ANN001
    """``RulePolicy._is_rule_applicable`` with the rule's states already reversed."""
    if turn_index >= len(rule_backwards):
        return True
    rule_state = rule_backwards[turn_index]
    current_previous_action = conversation_state.get(PREVIOUS_ACTION)
    rule_previous_action = rule_state.get(PREVIOUS_ACTION)
    if not rule_previous_action and not current_previous_action:
        return True
    if not rule_previous_action or not current_previous_action:
        return False
    return does_match(rule_state, conversation_state)


def _possible_rule_keys(self, lookup, states):
    """``RulePolicy._get_possible_keys`` with the same result for less work.

    Rasa checked every rule against every turn of the conversation on each prediction (10 % of
    the process's time). A rule whose last state requires a previous action can only match a
    conversation whose last action is that one, so only those rules and the ones without such a
    condition are checked for the last turn; and the walk stops once every remaining rule is
    shorter than the history looked at (Rasa's check accepts a rule at any turn beyond its
    length). Each rule's states are parsed and reversed once, not for every check.
    """
    from rasa.shared.core.constants import PREVIOUS_ACTION

    if not states:
        return set(lookup.keys())
    index, backwards = _rules_by_last_action(self, lookup)
    last_action = (states[-1].get(PREVIOUS_ACTION) or {}).get("action_name")
    possible_keys = set(index.get(None, ()))
    if last_action is not None:
        possible_keys |= index.get(last_action, set())
    does_match = self._does_rule_match_state
    for i, state in enumerate(reversed(states)):
        if not possible_keys or i >= max(len(backwards[key]) for key in possible_keys):
            break
        possible_keys = {key for key in possible_keys if _applicable(backwards[key], i, state, does_match)}
    return possible_keys

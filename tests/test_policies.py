"""The dialogue policies in bot/config.yml fit the dialogue training data.

Rules are learnt by the RulePolicy; stories only by a story policy (memoization, TED). We have
no stories, and a story policy without stories learns nothing but still costs time on every
turn, so it is left out; whoever adds stories is told here to add one.
"""

from __future__ import annotations

import yaml

from bot.training import CONFIG, DOMAIN, STORY_DATA

STORY_POLICIES = {"MemoizationPolicy", "AugmentedMemoizationPolicy", "TEDPolicy", "UnexpecTEDIntentPolicy"}


def story_steps():
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_dict(
        config_path=str(CONFIG), domain_path=str(DOMAIN), training_data_paths=[str(STORY_DATA)]
    )
    return importer.get_stories().story_steps


def policy_classes() -> list[type]:
    """The policy classes of config.yml, by Rasa's registry (names or module paths)."""
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe

    return [
        DefaultV1Recipe._from_registry(policy["name"]).clazz
        for policy in yaml.safe_load(CONFIG.read_text())["policies"]
    ]


def policy_kinds(classes: list[type]) -> set[str]:
    """Rasa's policy names the classes are (ours subclass them: IndexedRulePolicy is a RulePolicy;
    a RulePolicy, though a MemoizationPolicy subclass, learns no stories)."""
    kinds = set()
    for cls in classes:
        names = [base.__name__ for base in cls.__mro__ if base.__module__.startswith("rasa.")]
        kinds.add(names[0])
    return kinds


def test_policies_fit_the_training_data():
    from rasa.shared.core.training_data.structures import RuleStep

    steps = story_steps()
    policies = policy_kinds(policy_classes())
    stories = sorted({step.block_name for step in steps if not isinstance(step, RuleStep)})
    assert any(isinstance(step, RuleStep) for step in steps) and "RulePolicy" in policies
    if stories:
        assert policies & STORY_POLICIES, f"stories {stories[:3]} need a story policy in {CONFIG}"
    else:
        assert not policies & STORY_POLICIES, "a story policy without stories only costs time per turn"

"""The greeting's starter topics (catalogue/starter_topics.yaml) lead where their title promises."""

from __future__ import annotations

import pytest

from buergerassistent.catalogue import CatalogueError, default_catalogue
from buergerassistent.procedure_finder import find
from buergerassistent.starter_topics import MAX_TOPICS, as_buttons, load_starter_topics, starter_topics


def test_every_topic_names_a_known_procedure_and_discovery_finds_it():
    topics = starter_topics()
    assert 3 <= len(topics) <= MAX_TOPICS
    catalogue = default_catalogue()
    for topic in topics:
        assert topic.procedure in catalogue, topic
        decision = find(topic.message)
        assert decision.candidates and decision.candidates[0].id == topic.procedure, (topic, decision)


def test_buttons_send_text_never_an_intent():
    for button in as_buttons():
        assert not button["payload"].startswith("/"), button


@pytest.mark.parametrize(
    "text",
    ["topics:\n  - title: Umzug\n", "topics:\n  - title: ''\n    message: x\n    procedure: y\n"],
    ids=["missing-keys", "empty-title"],
)
def test_broken_file_is_refused_with_its_name(tmp_path, text):
    path = tmp_path / "starter_topics.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError, match="starter_topics.yaml"):
        load_starter_topics(path)

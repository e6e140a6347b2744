"""Starter topics: the first choices a channel offers on its greeting (``catalogue/starter_topics.yaml``).

Data, not code: the content team decides which topics a citizen sees first. A topic's button sends
its message as typed text, so it goes through discovery like anything the citizen writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from buergerassistent.catalogue import CATALOGUE_DIR, CatalogueError

STARTER_TOPICS_FILE = CATALOGUE_DIR / "starter_topics.yaml"
MAX_TOPICS = 8


@dataclass(frozen=True)
class StarterTopic:
    title: str
    message: str
    procedure: str


def load_starter_topics(path: Path = STARTER_TOPICS_FILE) -> tuple[StarterTopic, ...]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    topics = []
    for i, raw in enumerate(data.get("topics") or []):
        try:
            topic = StarterTopic(str(raw["title"]).strip(), str(raw["message"]).strip(), str(raw["procedure"]))
        except (KeyError, TypeError) as exc:
            raise CatalogueError(f"{path.name}: Thema {i + 1} braucht title, message und procedure") from exc
        if not topic.title or not topic.message:
            raise CatalogueError(f"{path.name}: Thema {i + 1} hat einen leeren Titel oder Text")
        topics.append(topic)
    if len(topics) > MAX_TOPICS:
        raise CatalogueError(f"{path.name}: höchstens {MAX_TOPICS} Themen, nicht {len(topics)}")
    return tuple(topics)


@lru_cache(maxsize=1)
def starter_topics() -> tuple[StarterTopic, ...]:
    return load_starter_topics()


def as_buttons() -> list[dict[str, str]]:
    """Buttons as the channels send them; the payload is plain text, never an /intent."""
    return [{"title": t.title, "payload": t.message} for t in starter_topics()]

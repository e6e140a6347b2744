"""A first message is analysed once per text, not once per question asked of it (review of round 11)."""

from __future__ import annotations

import contextlib

from buergerassistent import discovery as disc
from buergerassistent.first_message import decide

STORY = "Wir bekommen im Mai unser erstes Kind. Wer zahlt mir etwas, wenn ich danach ein Jahr zu Hause bleibe?"


def _counting(monkeypatch):
    texts: list[str] = []
    original = disc.Discovery._analyse_once

    def counting(self, text):
        texts.append(text)
        return original(self, text)

    monkeypatch.setattr(disc.Discovery, "_analyse_once", counting)
    return texts


def test_the_first_turn_analyses_each_text_once(monkeypatch):
    texts = _counting(monkeypatch)
    decision = decide(STORY, "request_procedure", 0.9, as_request=True)
    assert decision.ranked  # the checklist or the ranking: the turn did its work
    assert texts and len(texts) == len(set(texts)), texts
    # without the block the checklist, the focus and the decision each rank the whole story again
    texts.clear()
    monkeypatch.setattr("buergerassistent.first_message.one_message", contextlib.nullcontext)
    decide(STORY, "request_procedure", 0.9, as_request=True)
    assert texts.count(STORY) > 1


def test_outside_the_block_a_changed_constant_takes_effect(discovery):
    # the memo lives only within one message: tests and the bench's sweep change constants between calls
    text = "Ich will nächstes Jahr nach Japan reisen"
    with disc.one_message():
        first = discovery.rank(text)[0].score
        assert discovery.rank(text)[0].score == first
    saved = disc.TRAVEL_WEIGHT
    try:
        disc.TRAVEL_WEIGHT = 0.0
        assert discovery.rank(text)[0].score < first
    finally:
        disc.TRAVEL_WEIGHT = saved

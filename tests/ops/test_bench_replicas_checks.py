"""bench_replicas' checker names a doubled message by its cause (issue 18): the replica run's
"Erika" stored twice after a resend must be an anomaly (REST and web chat messages carry an id),
and say whether the copy ran late."""

from __future__ import annotations

from benchmarks.bench_replicas import DIALOGUE, Conversation, stored_order, stored_position

EXPECTED = [text for text, _ in DIALOGUE]


def _conv(kind: str, resent: set[int]) -> Conversation:
    return Conversation(kind, sender="s", conversation_id=f"{kind}-s", resent=resent)


def test_every_message_once_in_order_is_clean():
    assert stored_order(_conv("rest", set()), EXPECTED, EXPECTED) == []
    assert stored_position(EXPECTED, EXPECTED) == len(EXPECTED)


def test_a_rest_message_stored_twice_after_a_resend_is_an_anomaly_of_the_message_id():
    erika = EXPECTED.index("Erika")
    stored = EXPECTED[: erika + 1] + ["Erika"] + EXPECTED[erika + 1 :]
    problems = stored_order(_conv("rest", {erika}), stored, EXPECTED)
    assert problems == [
        "rest-s: 'Erika' sent again after a failure and processed twice, right after the first, despite its message id"
    ]
    assert stored_position(stored, EXPECTED) == len(EXPECTED)


def test_a_late_copy_in_the_web_chat_is_named_as_such():
    erika = EXPECTED.index("Erika")
    stored = EXPECTED[: erika + 2] + ["Erika"] + EXPECTED[erika + 2 :]
    problems = stored_order(_conv("webchat", {erika}), stored, EXPECTED)
    assert problems == [
        "webchat-s: 'Erika' sent again after a failure and processed twice, after later messages, "
        "despite its message id"
    ]


def test_a_duplicate_nobody_sent_again_is_out_of_order():
    erika = EXPECTED.index("Erika")
    stored = EXPECTED[: erika + 1] + ["Erika"] + EXPECTED[erika + 1 :]
    assert stored_order(_conv("rest", set()), stored, EXPECTED) == [
        "rest-s: message 'Erika' out of order or unexpected"
    ]

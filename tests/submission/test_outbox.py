"""The outbox store: stored before sending, claimed by one sender at a time, final states."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from buergerassistent.submission import outbox as outbox_module
from buergerassistent.submission.outbox import DELIVERED, PENDING, REJECTED

from .conftest import FILLED


def test_enqueue_commits_and_is_idempotent(outbox):
    first = outbox.enqueue("key-1", "meldebescheinigung", FILLED, "conv-1")
    again = outbox.enqueue("key-1", "meldebescheinigung", {"vorname": "Anders"}, "conv-1")
    assert first.state == PENDING and first.data == FILLED
    assert again.data == FILLED  # the first confirmation stands
    assert outbox.counts() == {PENDING: 1}


def test_only_one_sender_holds_an_entry(outbox):
    outbox.enqueue("key-2", "meldebescheinigung", FILLED)
    assert outbox.claim("key-2", lease_s=30) is not None
    assert outbox.claim("key-2", lease_s=30) is None
    assert outbox.due(10) == []  # held: not due for the worker either


@pytest.fixture
def clock(monkeypatch):
    """The outbox's clock, moved by the test instead of waiting."""
    now = [datetime(2026, 11, 29, 10, 0, tzinfo=timezone.utc)]
    monkeypatch.setattr(outbox_module, "_now", lambda: now[0])

    def advance(seconds: float) -> None:
        now[0] += timedelta(seconds=seconds)

    return advance


def test_an_expired_lease_frees_the_entry(outbox, clock):
    # A sender that crashed while holding the entry must not block it for ever.
    outbox.enqueue("key-3", "meldebescheinigung", FILLED)
    assert outbox.claim("key-3", lease_s=0.2) is not None
    clock(0.4)
    assert outbox.due(10) == ["key-3"]
    assert outbox.claim("key-3", lease_s=30) is not None


def test_retry_waits_then_is_due_again(outbox, clock):
    outbox.enqueue("key-4", "meldebescheinigung", FILLED)
    outbox.claim("key-4", lease_s=30)
    outbox.mark_retry("key-4", "unavailable", delay_s=0.3)
    assert outbox.due(10) == []
    clock(0.5)
    assert outbox.due(10) == ["key-4"]
    assert outbox.get("key-4").attempts == 1


def test_delivered_is_final_and_forgets_the_data(outbox):
    outbox.enqueue("key-5", "meldebescheinigung", FILLED, "conv-5")
    outbox.claim("key-5", lease_s=30)
    outbox.mark_delivered("key-5", "BA-2026-7F3K9Q2M", "2026-11-29T10:00:00Z")
    # A late second outcome (e.g. a slow concurrent sender) changes nothing.
    outbox.mark_rejected("key-5", "nein", {"vorname": "x"})
    outbox.mark_retry("key-5", "unavailable", 0)
    entry = outbox.get("key-5")
    assert entry.state == DELIVERED and entry.case_number == "BA-2026-7F3K9Q2M"
    assert entry.data == {}
    assert outbox.due(10) == []
    assert [e.id for e in outbox.unannounced()] == ["key-5"]
    assert outbox.mark_announced("key-5") is True
    assert outbox.mark_announced("key-5") is False  # told once
    assert outbox.unannounced() == []


def test_rejected_keeps_fields_and_data(outbox):
    outbox.enqueue("key-6", "meldebescheinigung", FILLED, "conv-6")
    outbox.claim("key-6", lease_s=30)
    outbox.mark_rejected("key-6", "Ungültig", {"plz": "Ungültig."}, announced=True)
    entry = outbox.get("key-6")
    assert entry.state == REJECTED
    assert entry.rejection == {"message": "Ungültig", "fields": {"plz": "Ungültig."}}
    assert entry.data == FILLED  # to restore the other answers in the chat
    assert entry.announced_at is not None


def test_for_conversation_lists_only_that_conversation(outbox):
    outbox.enqueue("a", "meldebescheinigung", FILLED, "conv-a")
    outbox.enqueue("b", "meldebescheinigung", FILLED, "conv-b")
    outbox.enqueue("c", "meldebescheinigung", FILLED, "conv-a")
    assert [e.id for e in outbox.for_conversation("conv-a")] == ["a", "c"]

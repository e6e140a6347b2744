"""Status messages with consent (issue 17): the outbox's watch table and the delivery worker's
status watcher (delivery_worker/status.py), with a backend that returns histories in the shape
of the reference backend's ``GET …/history`` and a notifier that records Rasa calls. The whole
path through Rasa to the web chat, Telegram and Threema runs in ``tests/channels_suite``."""

from __future__ import annotations

import pytest

from buergerassistent.submission.outbox import Outbox
from delivery_worker.status import MAX_NOTIFY_ATTEMPTS, StatusWatcher


class Backend:
    name = "fake"

    def __init__(self) -> None:
        self.histories: dict[str, list[dict]] = {}
        self.asked: list[str] = []

    async def submit(self, *args, **kwargs):  # pragma: no cover - not used here
        raise NotImplementedError

    async def status_history(self, case_number):
        self.asked.append(case_number)
        events = self.histories.get(case_number)
        if events is None:
            return None
        return {"case_number": case_number, "procedure": "x", "status": events[-1]["status"], "history": events}


class Notifier:
    enabled = True

    def __init__(self, ok: bool = True) -> None:
        self.calls: list[str] = []
        self.ok = ok

    async def notify(self, conversation_id):
        self.calls.append(conversation_id)
        return self.ok


def ev(status, note=None):
    return {"status": status, "at": "2026-12-03T08:00:00Z", "note": note}


@pytest.fixture
def outbox(tmp_path):
    store = Outbox.from_url(f"sqlite:///{tmp_path / 'outbox.db'}")
    yield store
    store.dispose()


def delivered(store: Outbox, app_id: str, conversation: str, case_number: str) -> None:
    store.enqueue(app_id, "meldebescheinigung", {"vorname": "Erika"}, conversation)
    store.mark_delivered(app_id, case_number, "2026-12-03T08:00:00Z", announced=True)


async def test_a_change_is_noticed_and_told_once(outbox):
    backend, notifier = Backend(), Notifier()
    delivered(outbox, "a1", "tg-1", "MB-2026-AAAA0001")
    delivered(outbox, "a2", "th-ECHOECHO", "MB-2026-AAAA0002")  # no consent: never asked about
    outbox.watch_status("a1", "tg-1")
    outbox.watch_status("a1", "tg-1")  # idempotent
    watcher = StatusWatcher(outbox, backend, notifier, interval_s=1)
    backend.histories["MB-2026-AAAA0001"] = [ev("eingegangen")]
    await watcher.run_if_due(now=10)
    assert notifier.calls == [] and backend.asked == ["MB-2026-AAAA0001"]

    backend.histories["MB-2026-AAAA0001"].append(ev("in_bearbeitung", "Wir prüfen."))
    await watcher.run_if_due(now=10.5)  # not due yet
    assert notifier.calls == []
    await watcher.run_if_due(now=11)
    assert notifier.calls == ["tg-1"]
    (notice,) = outbox.pending_notices("tg-1")
    assert notice.case_number == "MB-2026-AAAA0001"
    assert notice.notice == {"count": 2, "status": "in_bearbeitung", "note": "Wir prüfen."}
    # the announcing action takes it exactly once
    assert outbox.take_notice("a1", 2) is True
    assert outbox.take_notice("a1", 2) is False
    assert outbox.pending_notices("tg-1") == []
    await watcher.run_if_due(now=12)
    assert notifier.calls == ["tg-1"]  # nothing new


async def test_final_status_ends_the_watch(outbox):
    backend, notifier = Backend(), Notifier()
    delivered(outbox, "b1", "wc-1", "MB-2026-BBBB0001")
    outbox.watch_status("b1", "wc-1")
    backend.histories["MB-2026-BBBB0001"] = [ev("eingegangen"), ev("abgeschlossen")]
    watcher = StatusWatcher(outbox, backend, notifier, interval_s=1)
    await watcher.run_if_due(now=1)
    assert outbox.take_notice("b1", 2)
    backend.asked.clear()
    await watcher.run_if_due(now=5)
    assert backend.asked == [] and outbox.watched() == []


async def test_pending_application_is_watched_once_delivered(outbox):
    outbox.enqueue("c1", "meldebescheinigung", {}, "rest-x")
    outbox.watch_status("c1", "rest-x")  # consent given while the backend was down
    assert outbox.watched() == []
    outbox.mark_delivered("c1", "MB-2026-CCCC0001", "2026-12-03T08:00:00Z")
    assert [w.case_number for w in outbox.watched()] == ["MB-2026-CCCC0001"]


async def test_notice_rasa_did_not_take_is_retried_then_dropped(outbox):
    backend, notifier = Backend(), Notifier(ok=False)
    delivered(outbox, "d1", "tg-2", "MB-2026-DDDD0001")
    outbox.watch_status("d1", "tg-2")
    backend.histories["MB-2026-DDDD0001"] = [ev("eingegangen"), ev("in_bearbeitung")]
    watcher = StatusWatcher(outbox, backend, notifier, interval_s=1)
    for _ in range(MAX_NOTIFY_ATTEMPTS + 2):
        watcher._next_notify.clear()  # skip the backoff
        await watcher.run_if_due(now=watcher._next_poll)
    assert len(notifier.calls) == MAX_NOTIFY_ATTEMPTS
    assert outbox.pending_notices() == []


async def test_forgetting_the_conversation_removes_the_consent(outbox):
    delivered(outbox, "e1", "wc-9", "MB-2026-EEEE0001")
    outbox.watch_status("e1", "wc-9")
    outbox.forget_conversation("wc-9")
    assert outbox.watched() == [] and outbox.pending_notices() == []


def test_switched_off_without_interval_or_backend_method(outbox):
    class Old:
        name = "old"

        async def submit(self, *a, **k): ...

    assert not StatusWatcher(outbox, Backend(), Notifier(), interval_s=0).enabled
    assert not StatusWatcher(outbox, Old(), Notifier(), interval_s=5).enabled
    assert StatusWatcher(outbox, Backend(), Notifier(), interval_s=5).enabled

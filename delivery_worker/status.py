"""Status messages (issue 17): the citizen hears about a new status of an application in the
channel where they applied, once — when they agreed to it at submission.

The delivery worker asks the backend (``SubmissionBackend.status_history``) every
``STATUS_POLL_INTERVAL_S`` about each consented application that is delivered and not final
(``Outbox.watched``). A history longer than what was told becomes a *notice* in the outbox
database (``Outbox.status_changed``, conditional: one worker records it); then the worker triggers
``EXTERNAL_submission_update`` in the conversation (Rasa's ``trigger_intent`` with
``output_channel=latest``, the channel of the citizen's last message: web chat, Telegram,
Threema, Matrix). ``action_announce_submissions`` tells "Neuer Stand zu Ihrem Antrag …" and takes
the notice (``Outbox.take_notice``, conditional: told once even when Rasa runs it twice). A
notice Rasa did not accept is tried again with backoff, at most ``MAX_NOTIFY_ATTEMPTS`` times.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Optional

from buergerassistent.submission.backends import SubmissionBackend
from buergerassistent.submission.outbox import Outbox
from buergerassistent.submission.portal_client import PortalRejected, PortalUnavailable

logger = logging.getLogger(__name__)

MAX_NOTIFY_ATTEMPTS = 6


class StatusWatcher:
    def __init__(self, outbox: Outbox, backend: SubmissionBackend, notifier: Any, interval_s: float) -> None:
        self.outbox = outbox
        self.backend = backend
        self.notifier = notifier
        self.interval_s = interval_s
        self._next_poll = 0.0
        self._next_notify: dict[str, float] = {}

    @property
    def enabled(self) -> bool:
        return self.interval_s > 0 and self.notifier.enabled and hasattr(self.backend, "status_history")

    async def run_if_due(self, now: Optional[float] = None) -> None:
        now = time.monotonic() if now is None else now
        if not self.enabled or now < self._next_poll:
            return
        self._next_poll = now + self.interval_s
        await self.poll()
        await self.notify()

    async def poll(self) -> int:
        """Asks the backend about every watched application; returns the number of new notices."""
        found = 0
        for watch in await asyncio.to_thread(self.outbox.watched):
            try:
                history = await self.backend.status_history(watch.case_number)
            except (PortalUnavailable, PortalRejected) as exc:
                logger.warning("status history not available: %s", type(exc).__name__)
                continue
            if not history:
                continue
            events = list(history.get("history") or [])
            if len(events) <= watch.seen:
                continue
            last = events[-1] if events else {}
            status = str(last.get("status") or history.get("status") or "")
            note = last.get("note")
            if await asyncio.to_thread(self.outbox.status_changed, watch.id, len(events), status, note):
                found += 1
        return found

    async def notify(self) -> None:
        now = time.monotonic()
        for watch in await asyncio.to_thread(self.outbox.pending_notices):
            if self._next_notify.get(watch.id, 0) > now:
                continue
            if watch.notify_attempts >= MAX_NOTIFY_ATTEMPTS or not watch.conversation_id:
                await asyncio.to_thread(self.outbox.drop_notice, watch.id)
                self._next_notify.pop(watch.id, None)
                continue
            await asyncio.to_thread(self.outbox.count_status_notify, watch.id)
            ok = await self.notifier.notify(watch.conversation_id)
            self._next_notify[watch.id] = now + (5.0 if ok else 2 ** (watch.notify_attempts + 1))

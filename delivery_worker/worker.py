"""The delivery worker: sends every pending outbox entry until the backend has it, then tells
the conversation.

Runs as its own process (``python -m delivery_worker``, started by ``bot/stack.py``), so
that it keeps delivering while no one chats and survives restarts of the action server. The
action server also tries each new entry once right away, so the citizen usually gets the case
number in the same reply; both coordinate through the outbox lease.

Telling the conversation: Rasa's HTTP API ``POST /conversations/{id}/trigger_intent
?output_channel=latest`` with the intent ``EXTERNAL_submission_update`` (``RASA_URL``,
``RASA_API_TOKEN``). Rasa then runs ``action_announce_submissions``, which reads the outbox and
sends the case number (or the refusal) to the channel the citizen wrote on last. A conversation
that has been idle longer than ``SUBMISSION_NOTIFY_WINDOW_S`` (default: Rasa's session
expiration, 60 min) is not written to; the postbox holds the notice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Optional
from urllib.parse import quote

import aiohttp

from buergerassistent import metrics
from buergerassistent.settings import get_settings
from buergerassistent.submission import delivery
from buergerassistent.submission.backends import SubmissionBackend
from buergerassistent.submission.outbox import PENDING, Entry, Outbox

logger = logging.getLogger(__name__)

NOTIFY_INTENT = "EXTERNAL_submission_update"
NOTIFY_MAX_ATTEMPTS = 6


class RasaNotifier:
    def __init__(self, url: Optional[str] = None, token: Optional[str] = None, timeout_s: float = 10):
        self.url = (url if url is not None else (get_settings().rasa_url or "")).rstrip("/")
        self.token = token if token is not None else (get_settings().rasa_api_token or "")
        self.timeout_s = timeout_s

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    async def notify(self, conversation_id: str) -> bool:
        """True when Rasa accepted the intent (it then ran the announcing action)."""
        url = f"{self.url}/conversations/{quote(conversation_id, safe='')}/trigger_intent?output_channel=latest"
        params = {"token": self.token} if self.token else None
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_s)) as session:
                async with session.post(url, params=params, json={"name": NOTIFY_INTENT, "entities": {}}) as resp:
                    await resp.read()
                    if resp.status != 200:
                        logger.warning("Rasa trigger_intent answered HTTP %d", resp.status)
                    return resp.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            logger.warning("Rasa not reachable for a notification: %s", type(exc).__name__)
            return False


class DeliveryWorker:
    def __init__(
        self,
        outbox: Outbox,
        backend: SubmissionBackend,
        notifier: Optional[RasaNotifier] = None,
        *,
        concurrency: Optional[int] = None,
        poll_s: Optional[float] = None,
        notify_window_s: Optional[float] = None,
    ):
        settings = get_settings()
        concurrency = concurrency if concurrency is not None else settings.submission_worker_concurrency
        poll_s = poll_s if poll_s is not None else settings.submission_worker_poll_s
        notify_window_s = notify_window_s if notify_window_s is not None else settings.submission_notify_window_s
        self.outbox = outbox
        self.backend = backend
        self.notifier = notifier if notifier is not None else RasaNotifier()
        self.concurrency = concurrency
        self.poll_s = poll_s
        self.notify_window = timedelta(seconds=notify_window_s)
        self._next_notify: dict[str, float] = {}
        self._stopping = asyncio.Event()
        self.last_cycle_ok = True
        # Status messages the citizen agreed to (delivery_worker/status.py).
        from delivery_worker.status import StatusWatcher

        self.status = StatusWatcher(outbox, backend, self.notifier, get_settings().status_poll_interval_s)

    async def run_once(self) -> int:
        """One round: deliver what is due, then notify. Returns the number of entries tried."""
        due = await asyncio.to_thread(self.outbox.due, self.concurrency * 4)
        semaphore = asyncio.Semaphore(self.concurrency)

        async def one(application_id: str) -> None:
            async with semaphore:
                await delivery.attempt(self.outbox, self.backend, application_id)

        await asyncio.gather(*(one(i) for i in due))
        await self.notify_finished()
        await self.measure_depth()
        await self.status.run_if_due()
        return len(due)

    async def measure_depth(self) -> None:
        """``ba_outbox_depth{state}`` for /metrics (buergerassistent/metrics.py)."""
        counts = await asyncio.to_thread(self.outbox.counts)
        for state in sorted({*counts, PENDING}):
            metrics.OUTBOX_DEPTH.labels(state=state).set(counts.get(state, 0))

    async def notify_finished(self) -> None:
        entries = await asyncio.to_thread(self.outbox.unannounced)
        now_mono = time.monotonic()
        for entry in entries:
            if self._next_notify.get(entry.id, 0) > now_mono:
                continue
            if not self._should_notify(entry):
                # Too old, nobody to tell, or tried enough: the postbox holds the notice.
                await asyncio.to_thread(self.outbox.mark_announced, entry.id)
                self._next_notify.pop(entry.id, None)
                continue
            await asyncio.to_thread(self.outbox.count_notify_attempt, entry.id)
            # On success Rasa ran action_announce_submissions, which marks the entry announced.
            ok = await self.notifier.notify(entry.conversation_id)
            backoff = 2**entry.notify_attempts if not ok else 5.0
            self._next_notify[entry.id] = time.monotonic() + backoff

    def _should_notify(self, entry: Entry) -> bool:
        if not self.notifier.enabled or not entry.conversation_id:
            return False
        if entry.notify_attempts >= NOTIFY_MAX_ATTEMPTS:
            return False
        return datetime.now(timezone.utc) - entry.confirmed_at <= self.notify_window

    async def run_forever(self) -> None:
        logger.info(
            "delivery worker started (backend %s, notifications %s)",
            self.backend.name,
            "on" if self.notifier.enabled else "off",
        )
        while not self._stopping.is_set():
            try:
                tried = await self.run_once()
                self.last_cycle_ok = True
            except Exception:  # noqa: BLE001 - e.g. the outbox database is briefly unreachable
                logger.exception("delivery round failed; trying again")
                self.last_cycle_ok = False
                tried = 0
            if not tried:
                try:
                    await asyncio.wait_for(self._stopping.wait(), timeout=self.poll_s)
                except asyncio.TimeoutError:
                    pass

    def stop(self) -> None:
        self._stopping.set()

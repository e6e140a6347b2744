"""One delivery attempt of one outbox entry: claim it, send it, record the outcome."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Optional

from buergerassistent import metrics
from buergerassistent.settings import get_settings
from buergerassistent.submission.backends import SubmissionBackend
from buergerassistent.submission.outbox import Entry, Outbox
from buergerassistent.submission.portal_client import PortalRejected, PortalUnavailable

logger = logging.getLogger(__name__)

# SUBMISSION_LEASE_S: longer than one send with its client-side retries may take (PortalClient:
# 3 × 5 s + backoff). SUBMISSION_RETRY_BASE_S / SUBMISSION_RETRY_MAX_S: the backoff below.


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter, so that many waiting entries do not hit a recovering
    backend at the same moment."""
    settings = get_settings()
    delay = min(settings.submission_retry_max_s, settings.submission_retry_base_s * 2 ** min(attempts, 16))
    return delay * random.uniform(0.5, 1.0)


async def attempt(
    outbox: Outbox,
    backend: SubmissionBackend,
    application_id: str,
    *,
    announce: bool = False,
    budget_s: Optional[float] = None,
) -> Optional[Entry]:
    """Tries to deliver the entry now. Returns the entry as stored afterwards (``state`` tells
    the outcome), or ``None`` when someone else holds it at the moment.

    ``announce``: the caller tells the citizen the outcome itself (the chat reply), so the
    worker must not. ``budget_s``: give up this attempt after that long (the entry stays
    pending and the worker goes on with it).
    """
    entry = await asyncio.to_thread(outbox.claim, application_id, get_settings().submission_lease_s)
    if entry is None:
        return None
    try:
        send = backend.submit(entry.procedure, entry.data, entry.id, entry.citizen)
        receipt = await (asyncio.wait_for(send, budget_s) if budget_s else send)
    except PortalRejected as exc:
        # Field names only: the messages may quote what the citizen typed.
        logger.info("outbox %s rejected by %s: %s", _short(entry.id), backend.name, exc)
        await asyncio.to_thread(outbox.mark_rejected, entry.id, exc.message, exc.fields, announce)
        metrics.DELIVERY_ATTEMPTS.labels(result="rejected").inc()
    except (PortalUnavailable, asyncio.TimeoutError) as exc:
        kind = "timeout" if isinstance(exc, asyncio.TimeoutError) else "unavailable"
        delay = retry_delay(entry.attempts)
        logger.info("outbox %s: backend %s (%s), next try in %.1f s", _short(entry.id), kind, backend.name, delay)
        await asyncio.to_thread(outbox.mark_retry, entry.id, kind, delay)
        metrics.DELIVERY_ATTEMPTS.labels(result="retry").inc()
    except asyncio.CancelledError:
        # Release the lease so the worker can take over at once.
        await asyncio.shield(asyncio.to_thread(outbox.mark_retry, entry.id, "cancelled", 0))
        raise
    except Exception as exc:  # noqa: BLE001 - a bug must not lose the entry: retry later
        logger.exception("outbox %s: unexpected error", _short(entry.id))
        await asyncio.to_thread(outbox.mark_retry, entry.id, type(exc).__name__, retry_delay(entry.attempts))
        metrics.DELIVERY_ATTEMPTS.labels(result="retry").inc()
    else:
        logger.info("outbox %s delivered: %s", _short(entry.id), receipt.case_number)
        await asyncio.to_thread(outbox.mark_delivered, entry.id, receipt.case_number, receipt.received_at, announce)
        metrics.DELIVERY_ATTEMPTS.labels(result="delivered").inc()
    return await asyncio.to_thread(outbox.get, entry.id)


def _short(application_id: str) -> str:
    return application_id[:8]

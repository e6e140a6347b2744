"""Honest answers while the tracker store or the lock store is down (issue 18).

Rasa wraps every tracker store in ``FailSafeTrackerStore``: when the database fails, ``retrieve``
returns ``None`` (Rasa then starts an empty conversation) and ``save`` writes into an in-memory
store. So during a three-second PostgreSQL outage the citizen's valid answers were read against
an empty tracker ("Das habe ich leider nicht verstanden") and lost.

Here (``install``, called by rasa_runtime/process.py for every Rasa process, whatever
``BA_RASA_PATCHES`` says):

* ``FailSafeTrackerStore``'s error hooks raise ``StoreUnavailable`` instead of falling back: no
  reply is computed from an empty or stale conversation, nothing is kept only in memory;
* the lock store (``rasa_runtime/lock_store.py``) raises ``StoreUnavailable`` when it cannot take
  the conversation's lock;
* ``Agent.handle_message`` (the one entry every channel calls) catches ``StoreUnavailable`` and
  answers ``OUTAGE_TEXT``: a technical problem, please send the message again in a moment.
  Replies already collected for that turn (REST) are dropped: the turn was not saved, so they
  would announce a step the conversation has not taken. The conversation stays where it was
  saved last, at the same form field, and the citizen's next message continues there.

The log names the store and the error type only (never the conversation id or the text).
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

from buergerassistent import logs, metrics

logger = logging.getLogger(__name__)

OUTAGE_TEXT = (
    "Entschuldigung, bei uns gibt es gerade eine technische Störung. "
    "Ihre letzte Nachricht konnte ich deshalb nicht bearbeiten. "
    "Bitte senden Sie sie in einem Moment noch einmal. Ihre bisherigen Angaben bleiben erhalten."
)

TRACKER_STORE = "tracker_store"
LOCK_STORE = "lock_store"


class StoreUnavailable(RuntimeError):
    """A store the turn needs cannot be reached; ``store`` says which."""

    def __init__(self, store: str) -> None:
        super().__init__(f"{store} unavailable")
        self.store = store


class NotApplicable(RuntimeError):
    """Rasa no longer has the hooks this module relies on."""


def _raise_unavailable(self: Any, error: Exception) -> None:  # noqa: ARG001 - method signature
    raise StoreUnavailable(TRACKER_STORE) from error


def _drop_collected(output_channel: Any) -> None:
    messages = getattr(output_channel, "messages", None)
    if isinstance(messages, list):
        messages.clear()


async def answer_outage(message: Any, error: StoreUnavailable) -> None:
    """Tell the citizen; log and count without personal data."""
    cause = type(error.__cause__).__name__ if error.__cause__ is not None else "-"
    logger.warning("Nachricht nicht bearbeitet: %s nicht erreichbar (%s)", error.store, cause)
    metrics.STORE_OUTAGES.labels(store=error.store).inc()
    output = getattr(message, "output_channel", None)
    if output is None:
        return
    _drop_collected(output)
    try:
        await output.send_text_message(message.sender_id, OUTAGE_TEXT)
    except Exception as exc:  # noqa: BLE001 - the channel itself may be down with the store
        logger.warning("Störungshinweis nicht zugestellt: %s", type(exc).__name__)


def tag_request(message: Any) -> str:
    """The message's request id (buergerassistent/logs.py): kept in its metadata, so the
    UserUttered event and the tracker the action server receives carry it; set for this task's logs."""
    metadata = message.metadata if isinstance(getattr(message, "metadata", None), dict) else {}
    request_id = logs.valid(metadata.get(logs.METADATA_KEY)) or logs.new_request_id()
    metadata[logs.METADATA_KEY] = request_id
    message.metadata = metadata
    logs.REQUEST_ID.set(request_id)
    return request_id


def _wrap_handle_message(original: Any) -> Any:
    @functools.wraps(original)
    async def handle_message(self: Any, message: Any) -> Any:
        channel = metrics.channel_label(getattr(message, "input_channel", None))
        started = time.perf_counter()
        tag_request(message)
        outcome = "ok"
        try:
            return await original(self, message)
        except StoreUnavailable as error:
            outcome = "store_unavailable"
            await answer_outage(message, error)
            return None
        except BaseException:
            outcome = "error"
            raise
        finally:
            seconds = time.perf_counter() - started
            metrics.MESSAGES.labels(channel=channel, outcome=outcome).inc()
            metrics.MESSAGE_SECONDS.labels(channel=channel).observe(seconds)
            # One line per message, with its request id (buergerassistent/logs.py); no text, no conversation.
            logger.info("message handled: channel %s, %s, %.3f s", channel, outcome, seconds)

    handle_message._ba_outage = True  # type: ignore[attr-defined]
    return handle_message


def install() -> None:
    """Idempotent. Raises ``NotApplicable`` when Rasa's hooks are missing."""
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import FailSafeTrackerStore

    for name in ("on_tracker_store_error", "on_tracker_store_retrieve_error"):
        if not callable(getattr(FailSafeTrackerStore, name, None)):
            raise NotApplicable(f"FailSafeTrackerStore.{name} fehlt")
    if not callable(getattr(Agent, "handle_message", None)):
        raise NotApplicable("Agent.handle_message fehlt")
    FailSafeTrackerStore.on_tracker_store_error = _raise_unavailable
    FailSafeTrackerStore.on_tracker_store_retrieve_error = _raise_unavailable
    if not getattr(Agent.handle_message, "_ba_outage", False):
        Agent.handle_message = _wrap_handle_message(Agent.handle_message)

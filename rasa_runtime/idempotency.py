"""A message sent again after a lost reply is answered, not processed twice (issue 18).

The case: a REST client sends "Erika", the replica saves the turn and dies (or the proxy or the
client gives up) before the answer arrives; the client sends "Erika" again. Without an id Rasa
cannot tell a resend from a new message and applies it a second time: the same answer twice in
the conversation, or, when the first copy was still queued somewhere and runs after the client's
next message, an answer to the wrong question.

A client that wants this guarantee gives each message an id of its own (REST: ``message_id``
in the body; the same id when it sends the message again). The channel hands it to Rasa as
``UserMessage.message_id`` with the prefix ``CLIENT_PREFIX``, and Rasa stores it in the
``user`` event. ``install`` wraps ``MessageProcessor.handle_message``, which runs under the
conversation's lock (``Agent.handle_message``): when the conversation already holds a ``user``
event with this id, the message is not processed again; the bot messages that followed that
event (its turn) are sent instead, so the client gets the answer it lost. Messages without a
client id are processed as before (messengers, third-party web chat widgets). Our web chat
widget gives every message an id (``message_id`` in ``user_uttered``) and sends the unconfirmed
ones again after a reconnect (rasa_runtime/channels/webchat/channel.py).

Exactly once for messages with an id: a turn is either saved with its ``user`` event (then a
resend gets the saved answer) or not saved at all (Rasa saves a turn at its end; a replica that
dies before has stored nothing, and the resend is processed as the first copy would have been).
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any, Optional

logger = logging.getLogger(__name__)

CLIENT_PREFIX = "client-"
# What a client may send as its id: a UUID, a counter, a hash; nothing that could carry text.
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# What a client with a bad id is told (REST and web chat); the message is not processed.
INVALID_MESSAGE_ID = "Die Kennung unter „message_id“ darf 1 bis 64 Zeichen haben: Buchstaben, Ziffern, „-“ und „_“."
# BotUttered data keys a channel's send_response understands.
_RESPONSE_KEYS = ("buttons", "quick_replies", "elements", "custom", "image", "attachment")


def client_message_id(raw: Any) -> Optional[str]:
    """Rasa's ``message_id`` for a client's id; ``None`` when there is none; ``ValueError`` when
    it is not a valid id."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not CLIENT_ID.fullmatch(raw):
        raise ValueError("invalid message id")
    return CLIENT_PREFIX + raw


def client_id_of(message_id: Any) -> Optional[str]:
    """The client's own id in Rasa's ``message_id`` (without the prefix), or ``None`` when Rasa
    made the id itself."""
    if isinstance(message_id, str) and message_id.startswith(CLIENT_PREFIX):
        return message_id[len(CLIENT_PREFIX) :]
    return None


def answered_turn(events: list, message_id: str) -> Optional[list[dict[str, Any]]]:
    """The bot messages of the turn that began with the ``user`` event ``message_id``, or
    ``None`` when the conversation has no such event (the message is new)."""
    from rasa.shared.core.events import BotUttered, UserUttered

    replies: Optional[list[dict[str, Any]]] = None
    for event in events:
        if isinstance(event, UserUttered):
            if replies is not None:
                break  # the next citizen message: that turn is over
            if event.message_id == message_id:
                replies = []
        elif replies is not None and isinstance(event, BotUttered):
            data = event.data or {}
            message: dict[str, Any] = {"text": event.text} if event.text else {}
            message.update({key: data[key] for key in _RESPONSE_KEYS if data.get(key)})
            if message:
                replies.append(message)
    return replies


def _wrap(original):
    @functools.wraps(original)
    async def handle_message(self, message):
        message_id = getattr(message, "message_id", None)
        if isinstance(message_id, str) and message_id.startswith(CLIENT_PREFIX):
            tracker = await self.tracker_store.retrieve(message.sender_id)
            replies = answered_turn(list(tracker.events), message_id) if tracker is not None else None
            if replies is not None:
                logger.info("Nachricht schon bearbeitet: Antwort erneut gesendet (%d Teile)", len(replies))
                from buergerassistent import metrics

                metrics.DUPLICATE_MESSAGES.inc()
                output = getattr(message, "output_channel", None)
                replay = getattr(output, "send_saved_responses", None)
                if callable(replay):
                    # A channel that marks a repeated answer (the web chat: a tab that has shown
                    # the first one does not show it again).
                    await replay(message.sender_id, replies)
                elif output is not None:
                    for reply in replies:
                        await output.send_response(message.sender_id, reply)
                return None
        return await original(self, message)

    handle_message._ba_idempotent = True
    return handle_message


def install() -> None:
    """Idempotent: wrap ``MessageProcessor.handle_message`` once in this process."""
    from rasa.core.processor import MessageProcessor

    if not getattr(MessageProcessor.handle_message, "_ba_idempotent", False):
        MessageProcessor.handle_message = _wrap(MessageProcessor.handle_message)

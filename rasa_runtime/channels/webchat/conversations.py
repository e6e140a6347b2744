"""What the channel reads from and removes in Rasa's tracker store (inside the Rasa process).

History: the messages of the current dialogue session, so a reload, a second tab or a reconnect
shows the whole conversation without keeping personal data in the browser.
Deletion: Rasa 3.6 has no API that removes a conversation (replacing events only appends to an
SQL store), so we remove the stored conversation directly for the stores Rasa ships.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import BotUttered, Restarted, SessionStarted, UserUttered

from rasa_runtime import idempotency
from rasa_runtime.tracker_store import delete_events
from rasa_runtime.channels import outbound

logger = logging.getLogger(__name__)

DISPLAY_KEY = "display_text"


def _innermost(store):
    # Rasa wraps the configured store (FailSafeTrackerStore, AwaitableTrackerStore).
    while hasattr(store, "_tracker_store"):
        store = store._tracker_store
    return store


# Button emphasis the widget understands ("primary": the main answer, e.g. "Ja, absenden").
BUTTON_STYLES = frozenset({"primary", "secondary"})


def _reply(button: dict[str, Any]) -> dict[str, Any]:
    reply = {"content_type": "text", "title": button.get("title", ""), "payload": button.get("payload", "")}
    if button.get("style") in BUTTON_STYLES:
        reply["style"] = button["style"]
    return reply


def bot_message(text: Optional[str], data: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """A bot message as the socket.io protocol sends it (``bot_uttered``)."""
    data = data or {}
    message: dict[str, Any] = {}
    if text:
        message["text"] = text
    buttons = data.get("buttons") or data.get("quick_replies")
    if buttons:
        message["quick_replies"] = [_reply(b) for b in buttons]
    if data.get("image"):
        message["attachment"] = {"type": "image", "payload": {"src": data["image"]}}
    if data.get("attachment"):
        message["attachment"] = data["attachment"]
    if data.get("custom"):
        message["custom"] = data["custom"]
    lang = text_language(data)
    if lang in ("de", "en"):
        # The language of the text (issue 20), for the widget's lang attribute (screen readers).
        message["lang"] = lang
    return message


def text_language(data: Optional[dict[str, Any]]) -> Optional[str]:
    """The ``lang`` of a bot message: an action's ``utter_message(lang=…)`` or a domain
    response's ``metadata: {lang: …}`` (the English form questions, issue 20)."""
    data = data or {}
    nested = data.get("metadata")
    return data.get("lang") or (nested.get("lang") if isinstance(nested, dict) else None)


def history(tracker, link_hosts: Optional[frozenset] = None) -> list[dict[str, Any]]:
    """User and bot messages of the tracker's current session, oldest first; links in bot
    messages only to allowed hosts (``rasa_runtime/channels/outbound.py``), as when they were sent."""
    link_hosts = outbound.allowed_hosts() if link_hosts is None else link_hosts
    items: list[dict[str, Any]] = []
    if tracker is None:
        return items
    for event in tracker.events:
        if isinstance(event, (Restarted, SessionStarted)):
            items.clear()
        elif isinstance(event, UserUttered) and event.text:
            shown = (event.metadata or {}).get(DISPLAY_KEY) if isinstance(event.metadata, dict) else None
            item = {"sender": "user", "text": shown if isinstance(shown, str) else event.text}
            # The widget's id of the message: a message it still waits an answer for is in here
            # when its turn was saved, and is then not sent again (channel.py, issue 18).
            client_id = idempotency.client_id_of(event.message_id)
            if client_id:
                item["id"] = client_id
            items.append(item)
        elif isinstance(event, BotUttered):
            metadata = event.metadata if isinstance(event.metadata, dict) else {}
            message = bot_message(event.text, {**(event.data or {}), "lang": text_language(metadata)})
            if message:
                items.append({"sender": "bot", **outbound.neutralise_message(message, link_hosts)})
    return items


async def load_history(agent, conversation_id: str, link_hosts: Optional[frozenset] = None) -> list[dict[str, Any]]:
    tracker = await agent.tracker_store.retrieve(conversation_id)
    return history(tracker, link_hosts)


async def append_bot_note(agent, conversation_id: str, text: str) -> None:
    """Record a message the channel itself sent (e.g. an upload receipt) in the conversation."""
    async with agent.lock_store.lock(conversation_id):
        tracker = await agent.tracker_store.retrieve(conversation_id)
        # A conversation Rasa has not started yet gets no note: Rasa would then skip its
        # session start (greeting) on the first message.
        if tracker is None:
            return
        tracker.update(BotUttered(text=text))
        await agent.tracker_store.save(tracker)


async def delete_conversation(agent, conversation_id: str) -> None:
    """Remove every stored event of the conversation."""
    async with agent.lock_store.lock(conversation_id):
        store = _innermost(agent.tracker_store)
        kind = type(store).__name__
        if isinstance(store, SQLTrackerStore):
            delete_events(store, conversation_id)
        elif kind == "InMemoryTrackerStore":
            store.store.pop(conversation_id, None)
        elif kind == "RedisTrackerStore":
            store.red.delete(store.key_prefix + conversation_id)
        elif kind == "MongoTrackerStore":
            store.conversations.delete_one({"sender_id": conversation_id})
        else:
            # Unknown store: at least end the conversation, so nothing is shown or reused.
            logger.warning("Tracker store %s cannot delete; the conversation is only restarted", kind)
            tracker = await agent.tracker_store.get_or_create_tracker(conversation_id)
            tracker.update(Restarted())
            await agent.tracker_store.save(tracker)

"""Deleting a conversation ("Gespräch löschen"): every trace we hold of it, in one place.

``forget_conversation(conversation_id)`` calls each store's own deletion function:

| store | what it holds per conversation | what happens |
|---|---|---|
| Rasa's tracker store (``events``) | the messages and slots | deleted by the web chat channel in the Rasa process (``rasa_runtime/channels/webchat/conversations.py``), which owns the store |
| ``login_*`` (``buergerassistent/identity.py``) | who logged in, pending logins, the last outcome | deleted (``identity.forget_conversation``) |
| ``form_drafts`` (``actions/drafts.py``) | half-filled applications | deleted, also the draft stored for the logged-in account through this conversation |
| ``submission_outbox`` (``buergerassistent/submission/outbox.py``) | confirmed applications | finished rows (delivered, rejected) are deleted; an application still waiting for delivery keeps its data until the backend has it (the citizen confirmed it; deleting the chat does not withdraw it), but loses its link to the conversation at once, so it is never announced and nothing points back to the chat. Its data is emptied on delivery as always |
| uploads (``buergerassistent/uploads.py``) | documents | the conversation's folder is removed |
| review inbox (``content/review.py``) | nothing of its own: it reads the tracker store; decisions are keyed by masked text | gone with the tracker events |
| ``handoff_cases``, ``handoff_callback_notices`` (``buergerassistent/handoff/store.py``) | handovers to staff (context card, messages while waiting); notices of call-back requests (case number, no personal data; the request is an application in the outbox and the portal backend) | cases deleted; a notice loses its link to the conversation, the request the citizen confirmed stays in the backend like an application; the audit log (``handoff_audit``) holds only a hash of the conversation id and stays |
| insights (``buergerassistent/insights.py``, when switched on) | masked facts (outcomes, masked questions and comments) under a digest of the id | deleted; events of it still in the broker are dropped on arrival (``Insights.forget_conversation``); daily aggregates hold no conversation |

The portal backend's applications are the authority's record of a submitted application and are
not ours to delete from the chat (withdrawal: "Antrag zurückziehen").

The conversation's session tokens are revoked until they would have expired anyway
(``RevocationStore``): a SQL table that survives restarts, holding a hash of the conversation id
only. The web chat channel reads it (with Redis as a shared cache when configured).

Database: ``BA_PRIVACY_DATABASE_URL``, default SQLite ``$BA_VAR_DIR/privacy.db``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from functools import lru_cache
from pathlib import Path
from typing import Optional

from sqlalchemy import Column, Float, MetaData, String, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from buergerassistent import storage
from buergerassistent.settings import get_settings

logger = logging.getLogger(__name__)

metadata = MetaData(info={"store": "privacy"})  # its schema: migrations/versions/privacy
# Revoked web chat conversations, until their last token would have expired. The conversation id
# itself is not kept: only its SHA-256, which is all a check needs.
revoked = Table(
    "revoked_conversations",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("until", Float, nullable=False, index=True),
)


def database_url() -> str:
    return storage.database_url("BA_PRIVACY_DATABASE_URL", "privacy.db")


def digest(conversation_id: str) -> str:
    return hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()


class RevocationStore:
    """Persistent revocations (blocking SQLAlchemy; call from a thread in async code)."""

    def __init__(self, url: Optional[str] = None, engine: Optional[Engine] = None) -> None:
        self.engine = engine or storage.make_engine(url or database_url())
        storage.create_tables(metadata, self.engine)

    def revoke(self, conversation_id: str, until: float) -> None:
        key = digest(conversation_id)
        dialect = self.engine.dialect.name
        with self.engine.begin() as conn:
            conn.execute(delete(revoked).where(revoked.c.until < time.time()))
            if dialect in ("sqlite", "postgresql"):
                insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(revoked)
                conn.execute(
                    insert.values(digest=key, until=until).on_conflict_do_update(
                        index_elements=[revoked.c.digest], set_={"until": until}
                    )
                )
            else:
                conn.execute(delete(revoked).where(revoked.c.digest == key))
                conn.execute(revoked.insert().values(digest=key, until=until))

    def is_revoked(self, conversation_id: str) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(select(revoked.c.until).where(revoked.c.digest == digest(conversation_id))).first()
        return row is not None and row[0] >= time.time()

    def active(self) -> dict[str, float]:
        """digest → until of every revocation still in force."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(revoked.c.digest, revoked.c.until).where(revoked.c.until >= time.time()))
            return {d: u for d, u in rows}


@lru_cache(maxsize=4)
def _revocations_for(url: str) -> RevocationStore:
    return RevocationStore(url)


def default_revocations() -> RevocationStore:
    return _revocations_for(database_url())


def _upload_dir() -> Path:
    return get_settings().upload_dir


def forget_conversation(conversation_id: str, upload_dir: Optional[Path] = None) -> None:
    """Delete what the assistant's own stores hold of a conversation (see the module docstring).
    The tracker events are deleted by the channel, which owns Rasa's tracker store."""
    from buergerassistent import drafts, identity, insights, uploads
    from buergerassistent.handoff import store as handoff_store
    from buergerassistent.submission.outbox import Outbox

    identity.forget_conversation(conversation_id)
    drafts.forget_conversation(conversation_id)
    handoff_store.forget_conversation(conversation_id)
    Outbox.default().forget_conversation(conversation_id)
    uploads.delete_all(upload_dir or _upload_dir(), conversation_id)
    insights.forget_conversation(conversation_id)
    logger.info("conversation forgotten")

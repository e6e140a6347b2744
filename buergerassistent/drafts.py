"""Drafts: "später weitermachen" keeps a half-filled application on the server.

A draft is stored per conversation (the web session's sender id, which stays the same after
Rasa's session expiry) and, when the citizen is logged in (``buergerassistent.identity``), per account
subject too, so a logged-in citizen finds it again from another device. When a new session starts
(``action_session_start``, ``actions/drafts.py``) the assistant offers the newest draft; "ja"
restores the answers and the form continues at the first open question. This module is the
store; the Rasa actions are in ``actions/drafts.py``.

Storage: one SQLAlchemy table, SQLite in ``$BA_VAR_DIR/drafts.db`` by default,
``BA_DRAFTS_DATABASE_URL`` for another database (e.g. PostgreSQL). Drafts older than
``BA_DRAFT_MAX_AGE_DAYS`` (default 30) are deleted when drafts are read. The values are personal
data: they are never logged.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, delete, insert, or_, select
from sqlalchemy.engine import Engine

from buergerassistent import form_conditions, storage
from buergerassistent.catalogue import Procedure
from buergerassistent.settings import get_settings
from buergerassistent.storage import make_engine

logger = logging.getLogger(__name__)

metadata = MetaData(info={"store": "drafts"})  # its schema: migrations/versions/drafts
drafts = Table(
    "form_drafts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(255), nullable=False, index=True),
    Column("account", String(255), nullable=True, index=True),
    Column("procedure", String(100), nullable=False),
    Column("data", Text, nullable=False),  # JSON {field: normalised value}
    Column("updated_at", Float, nullable=False),
)


def database_url() -> str:
    return storage.database_url("BA_DRAFTS_DATABASE_URL", "drafts.db")


def max_age_seconds() -> float:
    return float(get_settings().ba_draft_max_age_days) * 86400


@dataclass
class Draft:
    procedure: str
    data: dict[str, Any]
    updated_at: float


class DraftStore:
    def __init__(self, url: Optional[str] = None):
        self.engine: Engine = make_engine(url or database_url())
        storage.create_tables(metadata, self.engine)

    @staticmethod
    def _owner(conversation_id: str, account: Optional[str]):
        if account:
            return or_(drafts.c.conversation_id == conversation_id, drafts.c.account == account)
        return drafts.c.conversation_id == conversation_id

    def save(self, conversation_id: str, account: Optional[str], procedure: str, data: dict[str, Any]) -> None:
        """One draft per citizen: a new one replaces the older."""
        with self.engine.begin() as conn:
            conn.execute(delete(drafts).where(self._owner(conversation_id, account)))
            conn.execute(
                insert(drafts).values(
                    conversation_id=conversation_id,
                    account=account,
                    procedure=procedure,
                    data=json.dumps(data, ensure_ascii=False),
                    updated_at=time.time(),
                )
            )

    def find(self, conversation_id: str, account: Optional[str] = None) -> Optional[Draft]:
        with self.engine.begin() as conn:
            conn.execute(delete(drafts).where(drafts.c.updated_at < time.time() - max_age_seconds()))
            row = (
                conn.execute(
                    select(drafts).where(self._owner(conversation_id, account)).order_by(drafts.c.updated_at.desc())
                )
                .mappings()
                .first()
            )
        if row is None:
            return None
        return Draft(procedure=row["procedure"], data=json.loads(row["data"]), updated_at=row["updated_at"])

    def delete(self, conversation_id: str, account: Optional[str] = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(drafts).where(self._owner(conversation_id, account)))


def progress(proc: Procedure, data: dict[str, Any]) -> tuple[int, int]:
    """(answered, total) in the form's steps, as the questions count them („Schritt 5 von 27“):
    a list question and the points it decides are one step; the step is answered when the list
    question and every point it still asks are. Counting fields instead would say „9 von 41“ for a
    Blue Card draft whose first list was answered „nein“ (its eight points filled by that answer)."""
    numbers, total = form_conditions.steps(proc)
    open_steps = {
        number
        for number, field in zip(numbers, proc.fields, strict=True)
        if data.get(field.name) is None and form_conditions.asked(field, data)
    }
    return total - len(open_steps), total


@lru_cache(maxsize=1)
def default_store() -> DraftStore:
    return DraftStore()


def account_of(conversation_id: str) -> Optional[str]:
    """The logged-in account's subject, if the identity module (buergerassistent/identity.py) knows one."""
    try:
        from buergerassistent.identity import current_identity
    except ImportError:  # identity module not installed in this build
        return None
    try:
        identity = current_identity(conversation_id)
    except Exception:  # the identity store being down must not break the form
        logger.warning("identity lookup failed; drafts fall back to the web session")
        return None
    return getattr(identity, "subject", None) if identity is not None else None


def forget_conversation(conversation_id: str) -> None:
    """ "Gespräch löschen": every draft saved through this conversation (also those stored for the
    logged-in account from here). Drafts the account saved in other conversations stay."""
    with default_store().engine.begin() as conn:
        conn.execute(delete(drafts).where(drafts.c.conversation_id == conversation_id))

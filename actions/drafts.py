"""Drafts: "später weitermachen" keeps a half-filled application on the server.

A draft is stored per conversation (the web session's sender id, which stays the same after
Rasa's session expiry) and, when the citizen is logged in (``actions.identity``), per account
subject too, so a logged-in citizen finds it again from another device. When a new session starts
(``action_session_start``) the assistant offers the newest draft; "ja" restores the answers and
the form continues at the first open question.

Storage: one SQLAlchemy table, SQLite in ``$BA_VAR_DIR/drafts.db`` by default,
``BA_DRAFTS_DATABASE_URL`` for another database (e.g. PostgreSQL). Drafts older than
``BA_DRAFT_MAX_AGE_DAYS`` (default 30) are deleted when drafts are read. The values are personal
data: they are never logged.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, EventType, FollowupAction, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, delete, insert, or_, select
from sqlalchemy.engine import Engine

from actions import storage
from actions.catalogue import Procedure, default_catalogue
from actions.storage import make_engine
from actions.turns import ends_turn

logger = logging.getLogger(__name__)

metadata = MetaData()
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
    return float(os.environ.get("BA_DRAFT_MAX_AGE_DAYS") or 30) * 86400


@dataclass
class Draft:
    procedure: str
    data: dict[str, Any]
    updated_at: float


class DraftStore:
    def __init__(self, url: Optional[str] = None):
        self.engine: Engine = make_engine(url or database_url())
        metadata.create_all(self.engine)

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
                    select(drafts)
                    .where(self._owner(conversation_id, account))
                    .order_by(drafts.c.updated_at.desc())
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


@lru_cache(maxsize=1)
def default_store() -> DraftStore:
    return DraftStore()


def account_of(conversation_id: str) -> Optional[str]:
    """The logged-in account's subject, if the identity module (actions/identity.py) knows one."""
    try:
        from actions.identity import current_identity
    except ImportError:  # identity module not installed in this build
        return None
    try:
        identity = current_identity(conversation_id)
    except Exception:  # the identity store being down must not break the form
        logger.warning("identity lookup failed; drafts fall back to the web session")
        return None
    return getattr(identity, "subject", None) if identity is not None else None


def _answers(proc: Procedure, tracker: Tracker) -> dict[str, Any]:
    return {f.name: tracker.get_slot(f.name) for f in proc.fields if tracker.get_slot(f.name) is not None}


def _draft_offer(proc: Procedure, draft: Draft) -> str:
    done = sum(1 for f in proc.fields if draft.data.get(f.name) is not None)
    when = time.strftime("%d.%m.%Y", time.localtime(draft.updated_at))
    return (
        f"Sie haben am {when} einen Antrag „{proc.name}“ angefangen ({done} von {len(proc.fields)} "
        "Angaben). Möchten Sie dort weitermachen?"
    )


def offer_draft(dispatcher: CollectingDispatcher, conversation_id: str) -> list[EventType]:
    draft = default_store().find(conversation_id, account_of(conversation_id))
    proc = default_catalogue().get(draft.procedure) if draft else None
    if draft is None or proc is None or not proc.has_form:
        return []
    dispatcher.utter_message(
        text=_draft_offer(proc, draft),
        buttons=[{"title": "Ja, weitermachen", "payload": "/affirm"}, {"title": "Nein", "payload": "/deny"}],
    )
    return [SlotSet("procedure", proc.id), SlotSet("awaiting", "resume_draft")]


class ActionSaveDraft(Action):
    """"später weitermachen": store the answers so far, end the form."""

    def name(self) -> str:
        return "action_save_draft"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        proc = default_catalogue().by_form_name(tracker.active_loop_name or "")
        if proc is None and tracker.get_slot("awaiting") in ("confirm_summary", "retry_submission"):
            proc = default_catalogue().get(tracker.get_slot("procedure"))
        if proc is None or not proc.has_form:
            dispatcher.utter_message(text="Es läuft gerade kein Antrag, den ich speichern könnte.")
            return []
        account = account_of(tracker.sender_id)
        default_store().save(tracker.sender_id, account, proc.id, _answers(proc, tracker))
        logger.info("draft saved for %s", proc.id)
        where = "in Ihrem Nutzerkonto und in diesem Chat" if account else "für diesen Chat"
        dispatcher.utter_message(
            text=f"Ich habe Ihre bisherigen Angaben zu „{proc.name}“ {where} gespeichert. Wenn Sie "
            "wiederkommen, biete ich Ihnen an, dort weiterzumachen. Der Entwurf wird nach "
            f"{int(max_age_seconds() // 86400)} Tagen gelöscht."
        )
        events: list[EventType] = []
        if tracker.active_loop_name:
            events.append(ActiveLoop(None))
        return events + [
            SlotSet("requested_slot", None),
            SlotSet("awaiting", None),
            SlotSet("application_id", None),
            *[SlotSet(f.name, None) for f in proc.fields],
        ]


class ActionResumeDraft(Action):
    """Restore a draft's answers and continue its form at the first open question."""

    def name(self) -> str:
        return "action_resume_draft"

    @ends_turn
    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        account = account_of(tracker.sender_id)
        store = default_store()
        draft = store.find(tracker.sender_id, account)
        proc = default_catalogue().get(draft.procedure) if draft else None
        if draft is None or proc is None:
            dispatcher.utter_message(text="Ich finde leider keinen gespeicherten Antrag mehr.")
            return [SlotSet("awaiting", None)]
        # The answers now live in the conversation again; "später weitermachen" saves anew.
        store.delete(tracker.sender_id, account)
        dispatcher.utter_message(text=f"Gut, wir machen mit „{proc.name}“ weiter.")
        values = {f.name: draft.data.get(f.name) for f in proc.fields}
        return [
            SlotSet("procedure", proc.id),
            SlotSet("awaiting", None),
            SlotSet("application_id", None),
            *[SlotSet(name, value) for name, value in values.items()],
            FollowupAction(proc.form_name),
        ]


def forget_conversation(conversation_id: str) -> None:
    """"Gespräch löschen": every draft saved through this conversation (also those stored for the
    logged-in account from here). Drafts the account saved in other conversations stay."""
    with default_store().engine.begin() as conn:
        conn.execute(delete(drafts).where(drafts.c.conversation_id == conversation_id))


def discard_draft(conversation_id: str) -> bool:
    """Delete the citizen's draft; True when there was one."""
    store = default_store()
    account = account_of(conversation_id)
    if store.find(conversation_id, account) is None:
        return False
    store.delete(conversation_id, account)
    return True


class ActionSessionStart(Action):
    """Rasa's session start, plus the offer to continue a saved draft."""

    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        try:
            events += offer_draft(dispatcher, tracker.sender_id)
        except Exception:  # a broken draft store must not block the conversation
            logger.exception("could not look up drafts")
        events.append(ActionExecuted("action_listen"))
        return events

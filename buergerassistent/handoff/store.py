"""What the handoff stores: cases, the audit log and call-back requests.

* ``handoff_cases`` – one row per handover: conversation, case number (``H-…``), state
  (``waiting`` → ``active`` → ``closed`` or ``timed_out``), the member of staff who took it,
  the Matrix room of the case, the context card (JSON; holds personal data only if the citizen
  agreed) and the messages the citizen wrote while nobody had taken the case yet.
* ``handoff_audit`` – every access of staff to a conversation: who (Matrix id), when, which
  conversation and case, what (``take``, ``read``, ``reply``, ``hand_back``). The conversation is
  kept as a SHA-256 only (like ``privacy.revoked_conversations``), so the log outlives
  "Gespräch löschen" without pointing back to the chat; whoever holds a conversation id can
  still find its entries (``audit_for``).
* ``handoff_callback_notices`` – one line per call-back request: the outbox entry, the case
  number the portal backend gave it, the procedure in focus, whether the desk announced it. The
  request itself (name, phone or e-mail, topic, consent) is an application in the portal backend
  (``callback.py``). Deleting the conversation removes the link to it, not the request the citizen
  confirmed (like an application).

Database: ``HANDOFF_DATABASE_URL``, default SQLite ``$BA_VAR_DIR/handoff.db``. Blocking
SQLAlchemy: call from a thread in async code. Nothing personal is logged.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Optional

from sqlalchemy import Boolean, Column, Float, Integer, MetaData, String, Table, Text, insert, select, update
from sqlalchemy.engine import Engine

from buergerassistent import storage

metadata = MetaData(info={"store": "handoff"})  # its schema: migrations/versions/handoff
cases = Table(
    "handoff_cases",
    metadata,
    Column("case_id", String(20), primary_key=True),
    Column("conversation_id", String(255), nullable=False, index=True),
    Column("state", String(20), nullable=False),
    Column("agent", String(255), nullable=True),
    Column("room_id", String(255), nullable=True),
    Column("card", Text, nullable=False),  # JSON, see card.py
    Column("queued", Text, nullable=False, default="[]"),  # JSON list of the citizen's messages
    Column("created_at", Float, nullable=False),
    Column("taken_at", Float, nullable=True),
    Column("closed_at", Float, nullable=True),
)
audit = Table(
    "handoff_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("staff", String(255), nullable=False),
    Column("conversation_digest", String(64), nullable=False, index=True),
    Column("case_id", String(20), nullable=False),
    Column("what", String(20), nullable=False),
)
# Call-back requests are applications in the portal backend (``callback.py``); the desk keeps only
# a notice per request to announce it: no name, no contact, no topic.
callback_notices = Table(
    "handoff_callback_notices",
    metadata,
    Column("application_id", String(200), primary_key=True),  # = the outbox entry's id
    Column("conversation_id", String(255), nullable=True, index=True),
    Column("procedure", String(200), nullable=True),  # the procedure in focus, by name
    Column("case_number", String(64), nullable=True, index=True),  # once the backend has it
    Column("created_at", Float, nullable=False),
    Column("announced", Boolean, nullable=False, default=False),
)

OPEN_STATES = ("waiting", "active")


def database_url() -> str:
    return storage.database_url("HANDOFF_DATABASE_URL", "handoff.db")


def digest(conversation_id: str) -> str:
    return hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()


def _number(prefix: str) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out on the phone
    return f"{prefix}-" + "".join(secrets.choice(alphabet) for _ in range(8))


@dataclass
class Case:
    case_id: str
    conversation_id: str
    state: str
    agent: Optional[str]
    room_id: Optional[str]
    card: dict[str, Any]
    queued: list[str] = field(default_factory=list)
    created_at: float = 0.0


@dataclass
class CallbackNotice:
    application_id: str
    conversation_id: Optional[str]
    procedure: Optional[str]
    case_number: Optional[str]
    created_at: float
    announced: bool


class HandoffStore:
    def __init__(self, url: Optional[str] = None) -> None:
        self.engine: Engine = storage.make_engine(url or database_url())
        storage.create_tables(metadata, self.engine)

    # -- cases ---------------------------------------------------------------------------------
    def open_case(self, conversation_id: str, card: dict[str, Any]) -> Case:
        """A new case, or the open one of this conversation (a second "ja" opens no second case)."""
        existing = self.open_case_of(conversation_id)
        if existing is not None:
            return existing
        case = Case(_number("H"), conversation_id, "waiting", None, None, card, [], time.time())
        with self.engine.begin() as conn:
            conn.execute(
                insert(cases).values(
                    case_id=case.case_id,
                    conversation_id=conversation_id,
                    state=case.state,
                    card=json.dumps(card, ensure_ascii=False),
                    queued="[]",
                    created_at=case.created_at,
                )
            )
        return case

    @staticmethod
    def _case(row: Any) -> Case:
        return Case(
            row.case_id,
            row.conversation_id,
            row.state,
            row.agent,
            row.room_id,
            json.loads(row.card),
            json.loads(row.queued or "[]"),
            row.created_at,
        )

    def get(self, case_id: str) -> Optional[Case]:
        with self.engine.connect() as conn:
            row = conn.execute(select(cases).where(cases.c.case_id == case_id)).first()
        return self._case(row) if row else None

    def open_case_of(self, conversation_id: str) -> Optional[Case]:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(cases)
                .where(cases.c.conversation_id == conversation_id, cases.c.state.in_(OPEN_STATES))
                .order_by(cases.c.created_at.desc())
            ).first()
        return self._case(row) if row else None

    def case_in_room(self, room_id: str) -> Optional[Case]:
        with self.engine.connect() as conn:
            row = conn.execute(select(cases).where(cases.c.room_id == room_id, cases.c.state == "active")).first()
        return self._case(row) if row else None

    def queue_message(self, case_id: str, text: str) -> None:
        """A message of the citizen before anyone took the case: kept for whoever takes it."""
        with self.engine.begin() as conn:
            row = conn.execute(select(cases.c.queued).where(cases.c.case_id == case_id)).first()
            if row is None:
                return
            queued = [*json.loads(row.queued or "[]"), text]
            conn.execute(update(cases).where(cases.c.case_id == case_id).values(queued=json.dumps(queued)))

    def take(self, case_id: str, agent: str, room_id: str) -> bool:
        """The case goes to ``agent`` if it is still waiting (only one member of staff gets it)."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(cases)
                .where(cases.c.case_id == case_id, cases.c.state == "waiting")
                .values(state="active", agent=agent, room_id=room_id, taken_at=time.time(), queued="[]")
            )
        return done.rowcount == 1

    def close(self, case_id: str, state: str = "closed") -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(cases)
                .where(cases.c.case_id == case_id, cases.c.state.in_(OPEN_STATES))
                .values(state=state, closed_at=time.time())
            )
        return done.rowcount == 1

    def waiting_since(self, before: float) -> list[Case]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(cases).where(cases.c.state == "waiting", cases.c.created_at < before)).all()
        return [self._case(r) for r in rows]

    # -- audit ---------------------------------------------------------------------------------
    def log_access(self, staff: str, conversation_id: str, case_id: str, what: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(audit).values(
                    at=time.time(), staff=staff, conversation_digest=digest(conversation_id), case_id=case_id, what=what
                )
            )

    def audit_for(self, conversation_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(audit).where(audit.c.conversation_digest == digest(conversation_id)).order_by(audit.c.id)
            ).all()
        return [{"at": r.at, "staff": r.staff, "case_id": r.case_id, "what": r.what} for r in rows]

    # -- call-back requests --------------------------------------------------------------------
    def note_callback(
        self,
        application_id: str,
        conversation_id: Optional[str],
        procedure: Optional[str],
        case_number: Optional[str],
    ) -> None:
        """A call-back request went to the outbox (``case_number`` once the backend has it)."""
        with self.engine.begin() as conn:
            exists = conn.execute(
                select(callback_notices.c.application_id).where(callback_notices.c.application_id == application_id)
            ).first()
            if exists:
                if case_number:
                    conn.execute(
                        update(callback_notices)
                        .where(callback_notices.c.application_id == application_id)
                        .values(case_number=case_number)
                    )
                return
            conn.execute(
                insert(callback_notices).values(
                    application_id=application_id,
                    conversation_id=conversation_id,
                    procedure=procedure,
                    case_number=case_number,
                    created_at=time.time(),
                    announced=False,
                )
            )

    @staticmethod
    def _notice(r: Any) -> CallbackNotice:
        return CallbackNotice(
            r.application_id, r.conversation_id, r.procedure, r.case_number, r.created_at, r.announced
        )

    def callback_notices(self, only_unannounced: bool = False) -> list[CallbackNotice]:
        query = select(callback_notices).order_by(callback_notices.c.created_at)
        if only_unannounced:
            query = query.where(callback_notices.c.announced.is_(False))
        with self.engine.connect() as conn:
            return [self._notice(r) for r in conn.execute(query).all()]

    def callback_by_case_number(self, case_number: str) -> Optional[CallbackNotice]:
        with self.engine.connect() as conn:
            row = conn.execute(select(callback_notices).where(callback_notices.c.case_number == case_number)).first()
        return self._notice(row) if row else None

    def mark_announced(self, application_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(callback_notices)
                .where(callback_notices.c.application_id == application_id)
                .values(announced=True)
            )

    # -- "Gespräch löschen" --------------------------------------------------------------------
    def forget_conversation(self, conversation_id: str) -> None:
        """Cases of the conversation are deleted (open ones are closed first by the desk, which
        finds none any more); call-back requests lose their link to it; the audit keeps its
        hash only."""
        with self.engine.begin() as conn:
            conn.execute(cases.delete().where(cases.c.conversation_id == conversation_id))
            conn.execute(
                update(callback_notices)
                .where(callback_notices.c.conversation_id == conversation_id)
                .values(conversation_id=None)
            )


@lru_cache(maxsize=4)
def _store_for(url: str) -> HandoffStore:
    return HandoffStore(url)


def default_store() -> HandoffStore:
    return _store_for(database_url())


def forget_conversation(conversation_id: str) -> None:
    default_store().forget_conversation(conversation_id)

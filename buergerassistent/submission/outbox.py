"""The transactional outbox: confirmed applications wait here until the backend has them.

One row per confirmed application, keyed by its idempotency key (the ``application_id`` slot).
States: ``pending`` → ``delivered`` (case number recorded) or ``rejected`` (the backend refused
it; the fields to fix are recorded). Several processes (action server, delivery worker) share
the table; a sender first *claims* a row with a lease (a conditional UPDATE), so at most one
sends it at a time, and a crashed sender's lease simply runs out. Even two concurrent sends
could not create two applications: the backend deduplicates on the idempotency key.

Blocking SQLAlchemy (1.4, 2.0 style); call from a thread (``asyncio.to_thread``).
Database: ``OUTBOX_DATABASE_URL``, default SQLite ``$BA_VAR_DIR/outbox.db``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import IntegrityError

from buergerassistent.storage import create_tables, database_url, make_engine

PENDING = "pending"
DELIVERED = "delivered"
REJECTED = "rejected"

metadata = MetaData(info={"store": "outbox"})  # its schema: migrations/versions/outbox

outbox = Table(
    "submission_outbox",
    metadata,
    # = idempotency key sent to the backend; chosen when the summary is shown.
    Column("id", String(200), primary_key=True),
    Column("conversation_id", String(255), nullable=True, index=True),
    Column("citizen", String(500), nullable=True),
    Column("procedure", String(100), nullable=False),
    # The application; emptied once the backend holds it (data minimisation).
    Column("data", JSON, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("confirmed_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("locked_until", DateTime(timezone=True), nullable=True),
    # Kind of the last failure (e.g. "unavailable"): never a message with personal data.
    Column("last_error", String(200), nullable=True),
    Column("case_number", String(64), nullable=True),
    Column("received_at", String(64), nullable=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    # {"message": ..., "fields": {name: message}} from the backend.
    Column("rejection", JSON, nullable=True),
    # The conversation was told (in the chat reply itself, or via Rasa's trigger_intent).
    Column("announced_at", DateTime(timezone=True), nullable=True),
    Column("notify_attempts", Integer, nullable=False, default=0),
)

# Status messages the citizen agreed to at submission (issue 17): one row per application, in
# the outbox's database. The delivery worker polls the backend's status history of these
# (``delivery_worker/status.py``); a change becomes a ``notice`` until the conversation was told.
status_watch = Table(
    "submission_status_watch",
    metadata,
    Column("id", String(200), primary_key=True),  # = the outbox entry's id
    Column("conversation_id", String(255), nullable=True, index=True),
    Column("consented_at", DateTime(timezone=True), nullable=False),
    # History entries already accounted for (1 = the initial "eingegangen").
    Column("seen", Integer, nullable=False, default=1),
    # {"count", "status", "note"}: a change not yet told; the note is deleted once told.
    Column("notice", JSON(none_as_null=True), nullable=True),
    Column("notify_attempts", Integer, nullable=False, default=0),
    Column("final", Integer, nullable=False, default=0),
)
FINAL_STATUSES = frozenset({"abgeschlossen", "abgelehnt", "zurueckgezogen"})


@dataclass(frozen=True)
class Watch:
    id: str
    conversation_id: Optional[str]
    seen: int
    notice: Optional[dict[str, Any]]
    notify_attempts: int
    final: bool
    case_number: Optional[str] = None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _utc(value: Optional[datetime]) -> Optional[datetime]:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def default_url() -> str:
    return database_url("OUTBOX_DATABASE_URL", "outbox.db")


@dataclass(frozen=True)
class Entry:
    id: str
    conversation_id: Optional[str]
    citizen: Optional[str]
    procedure: str
    data: dict[str, Any]
    state: str
    confirmed_at: datetime
    attempts: int
    case_number: Optional[str]
    received_at: Optional[str]
    delivered_at: Optional[datetime]
    rejection: Optional[dict[str, Any]]
    announced_at: Optional[datetime]
    notify_attempts: int

    @classmethod
    def from_row(cls, row: Any) -> Entry:
        return cls(
            id=row.id,
            conversation_id=row.conversation_id,
            citizen=row.citizen,
            procedure=row.procedure,
            data=row.data or {},
            state=row.state,
            confirmed_at=_utc(row.confirmed_at),
            attempts=row.attempts,
            case_number=row.case_number,
            received_at=row.received_at,
            delivered_at=_utc(row.delivered_at),
            rejection=row.rejection,
            announced_at=_utc(row.announced_at),
            notify_attempts=row.notify_attempts,
        )


class Outbox:
    def __init__(self, engine: Engine):
        self.engine = engine

    @classmethod
    def from_url(cls, url: Optional[str | URL] = None) -> Outbox:
        store = cls(make_engine(url or default_url()))
        store.create_tables()
        return store

    @classmethod
    def default(cls) -> Outbox:
        """The outbox at ``OUTBOX_DATABASE_URL`` (one per URL and process)."""
        return _default_for(default_url())

    def create_tables(self) -> None:
        create_tables(metadata, self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ writing

    def enqueue(
        self,
        application_id: str,
        procedure: str,
        data: dict[str, Any],
        conversation_id: Optional[str] = None,
        citizen: Optional[str] = None,
    ) -> Entry:
        """Commits the confirmed application; the same id again returns the first entry."""
        now = _now()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(outbox).values(
                        id=application_id,
                        conversation_id=conversation_id,
                        citizen=citizen,
                        procedure=procedure,
                        data=data,
                        state=PENDING,
                        confirmed_at=now,
                        attempts=0,
                        next_attempt_at=now,
                        notify_attempts=0,
                    )
                )
        except IntegrityError:
            pass  # confirmed twice (e.g. a double click): the first entry stands
        entry = self.get(application_id)
        assert entry is not None
        return entry

    def claim(self, application_id: str, lease_s: float) -> Optional[Entry]:
        """Takes the pending entry for ``lease_s`` seconds; ``None`` if it is not pending or
        someone else holds it."""
        now = _now()
        with self.engine.begin() as conn:
            result = conn.execute(
                update(outbox)
                .where(outbox.c.id == application_id)
                .where(outbox.c.state == PENDING)
                .where(or_(outbox.c.locked_until.is_(None), outbox.c.locked_until < now))
                .values(locked_until=now + timedelta(seconds=lease_s))
            )
            if result.rowcount != 1:
                return None
            row = conn.execute(select(outbox).where(outbox.c.id == application_id)).first()
        return Entry.from_row(row)

    def due(self, limit: int) -> list[str]:
        """Ids of pending entries whose next attempt is due and that nobody holds."""
        now = _now()
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(outbox.c.id)
                    .where(outbox.c.state == PENDING)
                    .where(outbox.c.next_attempt_at <= now)
                    .where(or_(outbox.c.locked_until.is_(None), outbox.c.locked_until < now))
                    .order_by(outbox.c.next_attempt_at)
                    .limit(limit)
                ).scalars()
            )

    def mark_delivered(self, application_id: str, case_number: str, received_at: str, announced: bool = False) -> None:
        # The data is dropped once the backend holds it: the outbox keeps no personal data longer
        # than needed.
        self._finish(
            application_id,
            announced,
            state=DELIVERED,
            case_number=case_number,
            received_at=received_at,
            data={},
            last_error=None,
        )

    def mark_rejected(self, application_id: str, message: str, fields: dict[str, str], announced: bool = False) -> None:
        self._finish(application_id, announced, state=REJECTED, rejection={"message": message, "fields": fields})

    def _finish(self, application_id: str, announced: bool, **values: Any) -> None:
        """End a pending entry's delivery (delivered or rejected); a finished entry stays as is."""
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == application_id)
                .where(outbox.c.state == PENDING)
                .values(
                    **values,
                    delivered_at=now,
                    locked_until=None,
                    attempts=outbox.c.attempts + 1,
                    announced_at=now if announced else None,
                )
            )

    def mark_retry(self, application_id: str, error_kind: str, delay_s: float) -> None:
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == application_id)
                .where(outbox.c.state == PENDING)
                .values(
                    attempts=outbox.c.attempts + 1,
                    next_attempt_at=now + timedelta(seconds=delay_s),
                    locked_until=None,
                    last_error=error_kind[:200],
                )
            )

    def mark_announced(self, application_id: str) -> bool:
        """True for the caller that announced first (so each result is told once)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(outbox)
                .where(outbox.c.id == application_id)
                .where(outbox.c.announced_at.is_(None))
                .values(announced_at=_now())
            )
        return result.rowcount == 1

    def count_notify_attempt(self, application_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox).where(outbox.c.id == application_id).values(notify_attempts=outbox.c.notify_attempts + 1)
            )

    def forget_conversation(self, conversation_id: str) -> None:
        """ "Gespräch löschen": finished entries of the conversation are deleted; an entry still
        waiting for delivery is delivered as the citizen confirmed it, but loses its link to the
        conversation now (it is then never announced; its data is emptied on delivery)."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(outbox).where(outbox.c.conversation_id == conversation_id).where(outbox.c.state != PENDING)
            )
            conn.execute(update(outbox).where(outbox.c.conversation_id == conversation_id).values(conversation_id=None))
            # No status messages to a deleted conversation.
            conn.execute(delete(status_watch).where(status_watch.c.conversation_id == conversation_id))

    # ------------------------------------------------------------------ status messages

    def watch_status(self, application_id: str, conversation_id: str) -> None:
        """The citizen agreed to status messages for this application (idempotent)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(status_watch).values(
                        id=application_id,
                        conversation_id=conversation_id,
                        consented_at=_now(),
                        seen=1,
                        notify_attempts=0,
                        final=0,
                    )
                )
        except IntegrityError:
            pass

    def watched(self, limit: int = 200) -> list[Watch]:
        """Consented, delivered applications whose status is not final and that have no notice
        waiting: the ones to ask the backend about."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(status_watch, outbox.c.case_number)
                .join(outbox, outbox.c.id == status_watch.c.id)
                .where(outbox.c.state == DELIVERED)
                .where(outbox.c.case_number.is_not(None))
                .where(status_watch.c.final == 0)
                .where(status_watch.c.notice.is_(None))
                .where(status_watch.c.conversation_id.is_not(None))
                .limit(limit)
            ).all()
        return [self._watch(r) for r in rows]

    def status_changed(self, application_id: str, count: int, status: str, note: Optional[str]) -> bool:
        """Records a change seen in the history (``count`` entries, the last ``status``) as a
        notice; False when it was recorded before (another worker) or nothing is new."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(status_watch)
                .where(status_watch.c.id == application_id)
                .where(status_watch.c.seen < count)
                .where(status_watch.c.notice.is_(None))
                .values(
                    notice={"count": count, "status": status, "note": note},
                    notify_attempts=0,
                    final=1 if status in FINAL_STATUSES else 0,
                )
            )
        return result.rowcount == 1

    def pending_notices(self, conversation_id: Optional[str] = None, limit: int = 200) -> list[Watch]:
        query = select(status_watch, outbox.c.case_number).join(outbox, outbox.c.id == status_watch.c.id)
        query = query.where(status_watch.c.notice.is_not(None))
        if conversation_id is not None:
            query = query.where(status_watch.c.conversation_id == conversation_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(limit)).all()
        return [self._watch(r) for r in rows]

    def count_status_notify(self, application_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(status_watch)
                .where(status_watch.c.id == application_id)
                .values(notify_attempts=status_watch.c.notify_attempts + 1)
            )

    def take_notice(self, application_id: str, count: int) -> bool:
        """True for the one caller that tells this change (exactly once); the note is dropped."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(status_watch)
                .where(status_watch.c.id == application_id)
                .where(status_watch.c.seen < count)
                .values(seen=count, notice=None)
            )
        return result.rowcount == 1

    def drop_notice(self, application_id: str) -> None:
        """A notice that could not be told (the conversation is gone): not tried again."""
        with self.engine.begin() as conn:
            row = conn.execute(select(status_watch.c.notice).where(status_watch.c.id == application_id)).first()
            count = (row.notice or {}).get("count") if row else None
            if count:
                conn.execute(
                    update(status_watch).where(status_watch.c.id == application_id).values(seen=count, notice=None)
                )

    @staticmethod
    def _watch(row: Any) -> Watch:
        return Watch(
            id=row.id,
            conversation_id=row.conversation_id,
            seen=row.seen,
            notice=row.notice,
            notify_attempts=row.notify_attempts,
            final=bool(row.final),
            case_number=row.case_number,
        )

    # ------------------------------------------------------------------ reading

    def get(self, application_id: str) -> Optional[Entry]:
        with self.engine.connect() as conn:
            row = conn.execute(select(outbox).where(outbox.c.id == application_id)).first()
        return None if row is None else Entry.from_row(row)

    def for_conversation(self, conversation_id: str) -> list[Entry]:
        """This conversation's applications, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox).where(outbox.c.conversation_id == conversation_id).order_by(outbox.c.confirmed_at)
            ).all()
        return [Entry.from_row(r) for r in rows]

    def unannounced(self, limit: int = 50) -> list[Entry]:
        """Finished entries whose conversation has not been told yet."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox)
                .where(outbox.c.state.in_([DELIVERED, REJECTED]))
                .where(outbox.c.announced_at.is_(None))
                .where(outbox.c.conversation_id.is_not(None))
                .order_by(outbox.c.delivered_at)
                .limit(limit)
            ).all()
        return [Entry.from_row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        from sqlalchemy import func

        with self.engine.connect() as conn:
            rows = conn.execute(select(outbox.c.state, func.count()).group_by(outbox.c.state)).all()
        return {state: n for state, n in rows}

    def all(self) -> list[Entry]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(outbox).order_by(outbox.c.confirmed_at)).all()
        return [Entry.from_row(r) for r in rows]


@lru_cache(maxsize=4)
def _default_for(url: str) -> Outbox:
    return Outbox.from_url(url)

"""Storage of the portal backend: engine, the ``applications`` table, and the store.

Synchronous SQLAlchemy (1.4 with 2.0-style ``future=True`` engines); the aiohttp handlers
call the store through ``asyncio.to_thread``. Tables are created at start-up (no migrations
framework yet). SQLite and PostgreSQL are supported.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import IntegrityError

from buergerassistent.settings import get_settings
from buergerassistent.storage import create_tables, make_engine, resolve_url  # noqa: F401 (make_engine: part of this module's API)
from portal_backend.case_numbers import new_case_number
from portal_backend.validation import Submission

logger = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite:///var/portal.db"
STATUS_RECEIVED = "eingegangen"
STATUS_IN_PROGRESS = "in_bearbeitung"
STATUS_DONE = "abgeschlossen"
STATUS_REFUSED = "abgelehnt"
STATUS_WITHDRAWN = "zurueckgezogen"
STATUSES = (STATUS_RECEIVED, STATUS_IN_PROGRESS, STATUS_DONE, STATUS_REFUSED, STATUS_WITHDRAWN)
# No change after these: a decided or withdrawn application stays so.
FINAL_STATUSES = (STATUS_DONE, STATUS_REFUSED, STATUS_WITHDRAWN)
STATUS_LABELS = {
    STATUS_RECEIVED: "eingegangen",
    STATUS_IN_PROGRESS: "in Bearbeitung",
    STATUS_DONE: "abgeschlossen",
    STATUS_REFUSED: "abgelehnt",
    STATUS_WITHDRAWN: "zurückgezogen",
}


metadata = MetaData(info={"store": "portal"})  # its schema: migrations/versions/portal

applications = Table(
    "applications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_number", String(32), nullable=False, unique=True),
    # Client-chosen; unique so that a retried submission can never create a second row.
    Column("idempotency_key", String(200), nullable=False, unique=True),
    # sha256 of procedure + data + citizen: tells a retry from a different request (409).
    Column("request_fingerprint", String(64), nullable=False),
    Column("procedure", String(100), nullable=False),
    Column("status", String(32), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("citizen", String(500), nullable=True),
    Column("data", JSON, nullable=False),
)

# Every status an application went through, oldest first (the first is always "eingegangen").
status_events = Table(
    "status_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_number", String(32), nullable=False, index=True),
    Column("status", String(32), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("note", String(500), nullable=True),
)

# The citizen's postbox: notices about their applications (receipt, status changes).
# ``citizen`` is the bPK2; without login it is NULL and the message is reachable only through
# the application (case number + idempotency key), until a login links it.
postbox_messages = Table(
    "postbox_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("citizen", String(500), nullable=True, index=True),
    Column("case_number", String(32), nullable=False, index=True),
    Column("subject", String(200), nullable=False),
    Column("body", String(2000), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


def database_url_from_env() -> str:
    return get_settings().portal_database_url or DEFAULT_DATABASE_URL


def describe_url(url: str | URL) -> str:
    """For logs: the URL without its password."""
    return resolve_url(url).render_as_string(hide_password=True)


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; we only ever store UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


@dataclass(frozen=True)
class Application:
    case_number: str
    procedure: str
    status: str
    received_at: datetime
    data: dict[str, Any]
    citizen: Optional[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "case_number": self.case_number,
            "procedure": self.procedure,
            "status": self.status,
            "received_at": _utc(self.received_at).isoformat().replace("+00:00", "Z"),
            "data": self.data,
            "citizen": self.citizen,
        }

    @classmethod
    def from_row(cls, row: Any) -> Application:
        return cls(
            case_number=row.case_number,
            procedure=row.procedure,
            status=row.status,
            received_at=_utc(row.received_at),
            data=row.data,
            citizen=row.citizen,
        )


def _iso(value: datetime) -> str:
    return _utc(value).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class StatusEvent:
    status: str
    at: datetime
    note: Optional[str]

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "at": _iso(self.at), "note": self.note}


@dataclass(frozen=True)
class PostboxMessage:
    id: int
    case_number: str
    subject: str
    body: str
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case_number": self.case_number,
            "subject": self.subject,
            "body": self.body,
            "created_at": _iso(self.created_at),
        }


class StatusConflict(Exception):
    """The requested status change is not allowed (final status, or not withdrawable)."""

    def __init__(self, error: str, message: str):
        super().__init__(error)
        self.error = error
        self.message = message


class IdempotencyConflict(Exception):
    """The idempotency key was already used for a different request."""

    def __init__(self, existing: Application):
        super().__init__("idempotency key reused with a different body")
        self.existing = existing


class ApplicationStore:
    """All database access of the backend. Blocking; call from a worker thread."""

    def __init__(
        self,
        engine: Engine,
        case_number_factory: Callable[[datetime], str] = new_case_number,
        max_attempts: int = 5,
        procedure_name: Callable[[str], str] = lambda procedure_id: procedure_id,
    ):
        self.engine = engine
        self._procedure_name = procedure_name
        self._new_case_number = case_number_factory
        self._max_attempts = max_attempts

    def create_tables(self) -> None:
        create_tables(metadata, self.engine)

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()

    def get(self, case_number: str) -> Optional[Application]:
        with self.engine.connect() as conn:
            row = conn.execute(select(applications).where(applications.c.case_number == case_number)).first()
        return None if row is None else Application.from_row(row)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(applications)).scalar_one()

    def find_by_idempotency_key(self, submission: Submission) -> Optional[Application]:
        """The application first stored under the submission's key, if any.

        Raises :class:`IdempotencyConflict` when the key was used for a different body.
        """
        with self.engine.connect() as conn:
            row = conn.execute(
                select(applications).where(applications.c.idempotency_key == submission.idempotency_key)
            ).first()
        if row is None:
            return None
        existing = Application.from_row(row)
        if row.request_fingerprint != submission.fingerprint():
            raise IdempotencyConflict(existing)
        return existing

    def create(self, submission: Submission) -> tuple[Application, bool]:
        """Stores the submission; returns ``(application, created)``.

        A concurrent request with the same idempotency key may win the race between the
        caller's look-up and our insert: the unique constraint then fails and we return the
        winner's row (``created=False``). Any other unique failure is a case-number
        collision, and we retry with a new number.
        """
        for attempt in range(1, self._max_attempts + 1):
            now = datetime.now(timezone.utc).replace(microsecond=0)
            application = Application(
                case_number=self._new_case_number(now),
                procedure=submission.procedure,
                status=STATUS_RECEIVED,
                received_at=now,
                data=submission.data,
                citizen=submission.citizen,
            )
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        insert(applications).values(
                            case_number=application.case_number,
                            idempotency_key=submission.idempotency_key,
                            request_fingerprint=submission.fingerprint(),
                            procedure=application.procedure,
                            status=application.status,
                            received_at=application.received_at,
                            citizen=application.citizen,
                            data=application.data,
                        )
                    )
                    # Same transaction: an application never exists without its first status
                    # and its receipt notice.
                    self._record_status(conn, application, STATUS_RECEIVED, now, None)
                return application, True
            except IntegrityError:
                existing = self.find_by_idempotency_key(submission)
                if existing is not None:
                    logger.info("idempotency key race resolved to %s", existing.case_number)
                    return existing, False
                logger.warning("case number collision (attempt %d), retrying", attempt)
        raise RuntimeError(f"no unique case number after {self._max_attempts} attempts")

    # ----------------------------------------------------------------- status and postbox

    def _record_status(self, conn, application: Application, status: str, at: datetime, note: Optional[str]) -> None:
        conn.execute(insert(status_events).values(case_number=application.case_number, status=status, at=at, note=note))
        if status == STATUS_RECEIVED:
            subject = f"Eingangsbestätigung {application.case_number}"
            body = (
                f"Ihr Antrag „{self._procedure_name(application.procedure)}“ ist am "
                f"{_utc(at).strftime('%d.%m.%Y um %H:%M')} Uhr (UTC) eingegangen. "
                f"Aktenzeichen: {application.case_number}."
            )
        else:
            subject = f"Neuer Stand zu {application.case_number}"
            body = f"Ihr Antrag {application.case_number} ist jetzt {STATUS_LABELS[status]}."
            if note:
                body += f" Hinweis: {note}"
        conn.execute(
            insert(postbox_messages).values(
                citizen=application.citizen,
                case_number=application.case_number,
                subject=subject,
                body=body,
                created_at=at,
            )
        )

    def history(self, case_number: str) -> list[StatusEvent]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(status_events).where(status_events.c.case_number == case_number).order_by(status_events.c.id)
            ).all()
        return [StatusEvent(r.status, _utc(r.at), r.note) for r in rows]

    def list_by_citizen(self, citizen: str) -> list[Application]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(applications)
                .where(applications.c.citizen == citizen)
                .order_by(applications.c.received_at.desc(), applications.c.id.desc())
            ).all()
        return [Application.from_row(r) for r in rows]

    def messages_for_citizen(self, citizen: str) -> list[PostboxMessage]:
        return self._messages(postbox_messages.c.citizen == citizen)

    def messages_for_case(self, case_number: str) -> list[PostboxMessage]:
        return self._messages(postbox_messages.c.case_number == case_number)

    def _messages(self, where) -> list[PostboxMessage]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(postbox_messages).where(where).order_by(postbox_messages.c.id.desc())).all()
        return [PostboxMessage(r.id, r.case_number, r.subject, r.body, _utc(r.created_at)) for r in rows]

    def idempotency_key_matches(self, case_number: str, key: str) -> bool:
        with self.engine.connect() as conn:
            stored = conn.execute(
                select(applications.c.idempotency_key).where(applications.c.case_number == case_number)
            ).scalar_one_or_none()
        return stored is not None and secrets.compare_digest(stored.encode(), key.encode())

    def change_status(
        self,
        case_number: str,
        status: str,
        note: Optional[str] = None,
        *,
        require_withdrawable: Optional[bool] = None,
    ) -> Optional[Application]:
        """Moves the application to ``status``; ``None`` if there is no such application.

        Raises :class:`StatusConflict` when the application's status is final, or for a
        withdrawal (``require_withdrawable`` given) when the procedure does not allow it.
        """
        now = datetime.now(timezone.utc).replace(microsecond=0)
        with self.engine.begin() as conn:
            row = conn.execute(select(applications).where(applications.c.case_number == case_number)).first()
            if row is None:
                return None
            application = Application.from_row(row)
            if require_withdrawable is False:
                raise StatusConflict(
                    "not_withdrawable",
                    "Dieser Antrag kann nicht online zurückgezogen werden.",
                )
            if application.status in FINAL_STATUSES:
                raise StatusConflict(
                    "status_final",
                    f"Der Antrag ist bereits {STATUS_LABELS[application.status]}.",
                )
            # Guarded update: of two concurrent changes only one passes the old status.
            result = conn.execute(
                update(applications)
                .where(applications.c.case_number == case_number)
                .where(applications.c.status == application.status)
                .values(status=status)
            )
            if result.rowcount != 1:
                raise StatusConflict("concurrent_change", "Der Antrag wurde gerade geändert. Bitte erneut versuchen.")
            self._record_status(conn, application, status, now, note)
        return Application(
            case_number=application.case_number,
            procedure=application.procedure,
            status=status,
            received_at=application.received_at,
            data=application.data,
            citizen=application.citizen,
        )

"""Storage of the portal backend: engine, the ``applications`` table, and the store.

Synchronous SQLAlchemy (1.4 with 2.0-style ``future=True`` engines); the aiohttp handlers
call the store through ``asyncio.to_thread``. Tables are created at start-up (no migrations
framework yet). SQLite and PostgreSQL are supported.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from portal_backend.case_numbers import new_case_number
from portal_backend.validation import Submission

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite:///var/portal.db"
STATUS_RECEIVED = "eingegangen"

metadata = MetaData()

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


def database_url_from_env() -> str:
    return os.environ.get("PORTAL_DATABASE_URL") or DEFAULT_DATABASE_URL


def resolve_url(url: str | URL) -> URL:
    """Relative SQLite paths are relative to the repository root; their folder is created."""
    u = make_url(url)
    if u.drivername == "postgres":  # the spelling some platforms hand out
        u = u.set(drivername="postgresql")
    if u.get_backend_name() == "sqlite":
        database = u.database
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database)
            if not path.is_absolute():
                path = REPO_ROOT / path
            path.parent.mkdir(parents=True, exist_ok=True)
            u = u.set(database=str(path))
    return u


def make_engine(url: str | URL) -> Engine:
    u = resolve_url(url)
    # hide_parameters: SQL errors and logs must never contain the applications' data.
    kwargs: dict[str, Any] = {"future": True, "hide_parameters": True}
    if u.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if not u.database or u.database == ":memory:":
            kwargs["poolclass"] = StaticPool
    elif u.get_backend_name() == "postgresql":
        kwargs["pool_pre_ping"] = True
        if u.get_driver_name() == "psycopg2" and "connect_timeout" not in u.query:
            kwargs["connect_args"] = {"connect_timeout": 5}
    return create_engine(u, **kwargs)


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
    def from_row(cls, row: Any) -> "Application":
        return cls(
            case_number=row.case_number,
            procedure=row.procedure,
            status=row.status,
            received_at=_utc(row.received_at),
            data=row.data,
            citizen=row.citizen,
        )


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
    ):
        self.engine = engine
        self._new_case_number = case_number_factory
        self._max_attempts = max_attempts

    def create_tables(self) -> None:
        metadata.create_all(self.engine)

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()

    def get(self, case_number: str) -> Optional[Application]:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(applications).where(applications.c.case_number == case_number)
            ).first()
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
                select(applications).where(
                    applications.c.idempotency_key == submission.idempotency_key
                )
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
                return application, True
            except IntegrityError:
                existing = self.find_by_idempotency_key(submission)
                if existing is not None:
                    logger.info("idempotency key race resolved to %s", existing.case_number)
                    return existing, False
                logger.warning("case number collision (attempt %d), retrying", attempt)
        raise RuntimeError(f"no unique case number after {self._max_attempts} attempts")

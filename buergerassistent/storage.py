"""SQLAlchemy engines for our own small databases (outbox, login identities, drafts, portal).

One place for what every store needs: SQLite by default in the var folder (``BA_VAR_DIR``),
PostgreSQL by URL; parameters hidden from errors and logs (they carry personal data);
pre-ping on server databases so a restarted database is noticed; WAL on SQLite files so that
several local processes can read while one writes. SQLite files are readable by the service user
only (0600, folder 0700; SQLite gives its -wal/-shm files the database file's mode).
Tables are created through ``create_tables`` only (Alembic revisions, buergerassistent/migrations.py):
several replicas may start at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import StaticPool

from buergerassistent.settings import get_settings

REPO_ROOT = Path(__file__).resolve().parent.parent

# pg_advisory_xact_lock key held while tables are created (any fixed bigint; "BA-SCHEM").
SCHEMA_LOCK_KEY = 0x42412D5343484D


@contextmanager
def schema_lock(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that holds the schema lock; committed at the end.

    PostgreSQL: a transaction-level advisory lock (it ends with the transaction, also when a
    process dies). SQLite: its write lock (``BEGIN IMMEDIATE``), taken before anyone looks.
    """
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
        yield conn
        conn.commit()


def create_tables(metadata: MetaData, engine: Engine) -> None:
    """Bring the tables of ``metadata`` to the current schema, safe when several processes do it
    at once.

    A store's ``MetaData(info={"store": name})`` has Alembic revisions
    (``migrations/``): they run here, so a service that starts before the
    migration Job finds the same schema. Other metadata (tests' own tables) gets ``create_all``.

    Both look for each table and then create what is missing. Two replicas starting before the
    migration Job both find a table missing, and the second ``CREATE TABLE`` fails
    (``pg_type_typname_nsp_index``): that replica stops. ``schema_lock`` serialises them; the
    next holder looks again after the lock and finds the tables (and the version) there.
    """
    if engine.dialect.name not in ("sqlite", "postgresql"):
        metadata.create_all(engine)
        return
    with schema_lock(engine) as conn:
        if metadata.info.get("store"):
            from buergerassistent import migrations

            migrations.upgrade(conn, metadata)
        else:
            metadata.create_all(conn)


def var_dir() -> Path:
    return get_settings().var_dir


def database_url(env_var: str, sqlite_file: str) -> str:
    """The URL from the setting ``env_var``, else a SQLite file in the var folder."""
    return getattr(get_settings(), env_var.lower()) or f"sqlite:///{var_dir() / sqlite_file}"


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) for the service user only (0700)."""
    missing = []
    for parent in [path, *path.parents]:
        if parent.exists():
            break
        missing.append(parent)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    for created in missing:
        os.chmod(created, 0o700)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` if missing, and make it readable by the service user only (0600)."""
    private_dir(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)
    return path


def private_sqlite_file(url: str | URL) -> None:
    """For an SQLite file URL: create the file 0600 before SQLite would create it 0644."""
    u = make_url(url)
    database = u.database
    if u.get_backend_name() == "sqlite" and database and database != ":memory:" and not database.startswith("file:"):
        private_file(Path(database))


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
            private_dir(path.parent)
            u = u.set(database=str(path))
    return u


def make_engine(url: str | URL) -> Engine:
    u = resolve_url(url)
    kwargs: dict[str, Any] = {"future": True, "hide_parameters": True}
    sqlite_file = False
    if u.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if not u.database or u.database == ":memory:":
            kwargs["poolclass"] = StaticPool
        else:
            sqlite_file = True
            private_sqlite_file(u)
    else:
        kwargs["pool_pre_ping"] = True
        if u.get_driver_name() == "psycopg2" and "connect_timeout" not in u.query:
            kwargs["connect_args"] = {"connect_timeout": 5}
    engine = create_engine(u, **kwargs)
    if sqlite_file:

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            _switch_to_wal(cursor)
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

    return engine


WAL_ATTEMPTS = 100  # x 0.05 s: far longer than another process needs to switch the same new file


def _switch_to_wal(cursor) -> None:
    """``PRAGMA journal_mode=WAL``, again while another process holds the lock. SQLite answers
    this pragma "database is locked" at once, without waiting for the busy timeout, while
    another connection switches the same new file: replicas that start at the same moment
    (tests/ops/test_schema_race.py) then failed their start."""
    import sqlite3
    import time

    for attempt in range(WAL_ATTEMPTS):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == WAL_ATTEMPTS - 1:
                raise
            time.sleep(0.05)

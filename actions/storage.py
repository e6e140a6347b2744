"""SQLAlchemy engines for our own small databases (outbox, login identities, drafts, portal).

One place for what every store needs: SQLite by default in the var folder (``BA_VAR_DIR``),
PostgreSQL by URL; parameters hidden from errors and logs (they carry personal data);
pre-ping on server databases so a restarted database is noticed; WAL on SQLite files so that
several local processes can read while one writes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import StaticPool

REPO_ROOT = Path(__file__).resolve().parent.parent


def var_dir() -> Path:
    return Path(os.environ.get("BA_VAR_DIR") or REPO_ROOT / "var")


def database_url(env_var: str, sqlite_file: str) -> str:
    """The URL from ``env_var``, else a SQLite file in the var folder."""
    return os.environ.get(env_var) or f"sqlite:///{var_dir() / sqlite_file}"


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
    kwargs: dict[str, Any] = {"future": True, "hide_parameters": True}
    sqlite_file = False
    if u.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if not u.database or u.database == ":memory:":
            kwargs["poolclass"] = StaticPool
        else:
            sqlite_file = True
    else:
        kwargs["pool_pre_ping"] = True
        if u.get_driver_name() == "psycopg2" and "connect_timeout" not in u.query:
            kwargs["connect_args"] = {"connect_timeout": 5}
    engine = create_engine(u, **kwargs)
    if sqlite_file:

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

    return engine

"""Replicas that start before the migration Job (issue 18): several real processes create every
table of every store in one fresh database at the same moment. Without a lock two of them race
on ``CREATE TABLE`` (PostgreSQL: ``DuplicateTable`` or ``pg_type_typname_nsp_index``; SQLite:
"table … already exists") and a replica fails its start. ``buergerassistent.storage.create_tables``
serialises them (PostgreSQL: an advisory lock; SQLite: ``BEGIN IMMEDIATE``). And no store
creates its tables any other way."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from support import services

REPO = Path(__file__).resolve().parents[2]
PROCESSES = 4

# Each process imports everything first, says it is ready, and starts creating tables only when
# the test says "go": the processes then really start at the same moment.
DRIVER = """
import sys, time
from pathlib import Path
import bot.container, rasa_runtime.tracker_store, portal_backend.db, buergerassistent.handoff.store
import buergerassistent.drafts, buergerassistent.identity, buergerassistent.privacy
import buergerassistent.submission.outbox
ready, go = Path(sys.argv[1]), Path(sys.argv[2])
ready.touch()
while not go.exists():
    time.sleep(0.005)
sys.exit(bot.container.migrate())
"""

URL_VARIABLES = (
    "PORTAL_DATABASE_URL",
    "OUTBOX_DATABASE_URL",
    "BA_IDENTITY_DATABASE_URL",
    "BA_DRAFTS_DATABASE_URL",
    "BA_PRIVACY_DATABASE_URL",
    "HANDOFF_DATABASE_URL",
    "TRACKER_STORE_URL",
)


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request, tmp_path):
    """A fresh database: a private PostgreSQL, or one SQLite file that local processes share (make
    run, the replica benchmark)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.db'}"
        return
    if services.missing() is not None:
        pytest.skip(services.missing() or "")
    postgres = services.PrivatePostgres().init()
    try:
        yield postgres.url
    finally:
        postgres.close()


def test_replicas_starting_at_once_create_the_schema_once_without_errors(tmp_path, database_url):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "BA_VAR_DIR": str(tmp_path / "var"),
        **{name: database_url for name in URL_VARIABLES},
    }
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{i}" for i in range(PROCESSES)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(r), str(go)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for r in ready
    ]
    try:
        deadline = time.monotonic() + 300
        while not all(r.exists() for r in ready):
            assert time.monotonic() < deadline, "processes did not get ready"
            assert all(p.poll() is None for p in processes), [p.communicate()[1][-2000:] for p in processes]
            time.sleep(0.1)
        go.touch()
        results = [(p.wait(timeout=300), *p.communicate()) for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
    failed = [err[-3000:] for code, _, err in results if code != 0]
    assert not failed, failed[0]
    engine = sa.create_engine(database_url, future=True)
    try:
        tables = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"events", "applications", "status_events"} <= tables and len(tables) >= 10, tables


def test_every_store_creates_its_tables_through_the_lock():
    """A new store that calls ``create_all`` itself would race again."""
    offenders = []
    for folder in (
        "buergerassistent",
        "rasa_runtime",
        "portal_backend",
        "bot",
        "delivery_worker",
        "login_service",
        "staff_desk",
        "insights",
        "matrix_connector",
        "actions",
        "content",
    ):
        for path in (REPO / folder).rglob("*.py"):
            if path == REPO / "buergerassistent" / "storage.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if re.search(r"\.create_all\(", line):
                    offenders.append(f"{path.relative_to(REPO)}:{number}")
    assert not offenders, offenders

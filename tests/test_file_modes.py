"""Files with personal data are readable by the service user only.

Attack (issue 13): the SQLite databases in var/ (tracker, portal, identities, drafts, outbox),
were world-readable (0644): any local account could read the conversations."""

from __future__ import annotations

import os
import stat
import sys

import pytest

from bot.settings import Settings


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def _open_umask():
    old = os.umask(0o022)  # as on a usual server: files 0644 unless we say otherwise
    yield
    os.umask(old)


def test_our_databases_are_private(tmp_path, monkeypatch):
    from buergerassistent import drafts, identity
    from buergerassistent.storage import make_engine
    from buergerassistent.submission.outbox import Outbox
    from portal_backend.db import ApplicationStore

    var = tmp_path / "var"
    monkeypatch.setenv("BA_VAR_DIR", str(var))
    drafts.DraftStore()
    identity._engine_for(identity.database_url()).connect().close()
    Outbox.from_url()
    store = ApplicationStore(make_engine(f"sqlite:///{var / 'portal.db'}"))
    store.create_tables()
    files = sorted(p.name for p in var.glob("*.db"))
    assert files == ["drafts.db", "identity.db", "outbox.db", "portal.db"]
    for path in var.iterdir():  # also the -wal/-shm files SQLite made
        assert mode(path) == 0o600, path
    assert mode(var) == 0o700


def test_the_revocation_table_is_private(tmp_path, monkeypatch):
    from buergerassistent import privacy

    monkeypatch.setenv("BA_VAR_DIR", str(tmp_path / "var"))
    privacy.RevocationStore()
    assert mode(tmp_path / "var" / "privacy.db") == 0o600


async def test_the_tracker_store_is_private(tmp_path):
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    from rasa_runtime.tracker_store import CachingSQLTrackerStore

    store = CachingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    await store.save(DialogueStateTracker("wc-1", []))
    assert mode(tmp_path / "tracker.db") == 0o600


def test_uploads_are_private_down_to_their_root(tmp_path):
    from buergerassistent import uploads

    root = tmp_path / "var" / "uploads"
    stored = uploads.store(root, "wc-1", b"%PDF-1.7", "a.pdf", 1024)
    assert mode(stored.path) == 0o600
    for folder in (stored.path.parent, root, tmp_path / "var"):
        assert mode(folder) == 0o700, folder


def test_logs_endpoints_and_what_the_services_create(tmp_path):
    from bot.stack import Service, Stack

    log = tmp_path / "var" / "logs" / "x.log"
    made = tmp_path / "made-by-service.txt"
    service = Service(
        "x",
        [sys.executable, "-c", f"open({str(made)!r}, 'w').write('data')"],
        "http://127.0.0.1:1/",
        dict(os.environ),
        log,
    )
    service.start()
    service.process.wait(30)
    assert mode(log) == 0o600 and mode(log.parent) == 0o700
    assert mode(made) == 0o600  # the services run with umask 077
    stack = Stack(Settings(var_dir=tmp_path / "var", rasa_port=5999), model=tmp_path / "model.tar.gz")
    assert mode(stack._write_endpoints()) == 0o600

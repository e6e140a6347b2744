""""Gespräch löschen" removes every trace of a conversation, and stays deleted after a restart.

The stores are not listed by hand: every SQLAlchemy table our code defines (and Rasa's tracker
store) is collected from the imported modules, and each table with a conversation/sender column
must be covered by the deletion: a new store that forget_conversation does not know fails here.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from types import SimpleNamespace

import pytest
from rasa.core.lock_store import InMemoryLockStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import MetaData, func, select

from bot.settings import REPO_ROOT

A = "wc-" + "a" * 32  # the conversation that is deleted
B = "wc-" + "b" * 32  # another citizen's, which must stay
CONVERSATION_COLUMNS = ("conversation_id", "sender_id")
# Tables with a conversation column that deliberately outlive the deletion, and why.
KEPT: dict[str, str] = {}
# (revoked_conversations has no conversation column: it keeps only a hash, and must survive.)

OUR_PACKAGES = ("buergerassistent", "actions", "rasa_runtime", "login_service", "delivery_worker", "content", "bot", "portal_backend")


def _import_everything() -> None:
    for package in OUR_PACKAGES:
        importlib.import_module(package)
        path = [str(REPO_ROOT / package)]
        for info in pkgutil.walk_packages(path, prefix=f"{package}."):
            if info.name.endswith("__main__"):
                continue
            importlib.import_module(info.name)


def _metadata_of_modules():
    """The MetaData our modules (and Rasa's tracker store) hold, as globals or via a declarative base.

    Not every MetaData in memory: Alembic's batch migrations and other tests reflect tables with
    the same names into MetaData of their own, and those are not stores of ours.
    """
    modules = [m for name, m in list(sys.modules.items())
               if m is not None and (name.split(".")[0] in OUR_PACKAGES or name == "rasa.core.tracker_store")]
    found = {}
    for module in modules:
        values = list(vars(module).values())
        # Class attributes too: Rasa's SQLTrackerStore keeps its declarative Base on the class.
        values += [v for cls in values if isinstance(cls, type) for v in list(vars(cls).values())]
        for value in values:
            metadata = value if isinstance(value, MetaData) else getattr(value, "metadata", None)
            if isinstance(metadata, MetaData):
                found[id(metadata)] = metadata
    return found.values()


def all_tables():
    _import_everything()
    tables = {}
    for metadata in _metadata_of_modules():
        for table in metadata.tables.values():
            tables.setdefault(table.name, table)
    return tables


@pytest.fixture
def var(tmp_path, monkeypatch):
    monkeypatch.setenv("BA_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("BA_SECRET_KEY", "unit-test-key-" + "x" * 32)
    for name in ("BA_IDENTITY_DATABASE_URL", "BA_DRAFTS_DATABASE_URL", "OUTBOX_DATABASE_URL",
                 "BA_PRIVACY_DATABASE_URL", "WEBCHAT_UPLOAD_DIR", "WEBCHAT_REDIS_URL",
                 "HANDOFF_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    from buergerassistent import drafts
    from buergerassistent import signing

    drafts.default_store.cache_clear()
    signing.secret_key.cache_clear()
    yield tmp_path
    drafts.default_store.cache_clear()
    signing.secret_key.cache_clear()


def _fill(conversation_id: str, upload_dir) -> None:
    from buergerassistent import drafts
    from buergerassistent import identity
    from buergerassistent.submission.outbox import Outbox
    from buergerassistent import uploads

    identity.store_identity(conversation_id, identity.Identity(
        level="substantiell", source="saml", subject="bpk2-" + conversation_id,
        attributes={"given_name": "Erika", "family_name": "Mustermann"}))
    identity.record_outcome(conversation_id, "cancelled")
    identity.start_pending(conversation_id, "substantiell", "saml")
    drafts.default_store().save(conversation_id, "bpk2-" + conversation_id, "meldebescheinigung",
                                {"vorname": "Erika", "iban": "DE89370400440532013000"})
    outbox = Outbox.default()
    for kind in ("delivered", "rejected", "pending"):
        outbox.enqueue(f"{conversation_id}-{kind}", "meldebescheinigung", {"vorname": "Erika"},
                       conversation_id=conversation_id, citizen="bpk2-" + conversation_id)
    outbox.mark_delivered(f"{conversation_id}-delivered", "BA-2026-AAAAAAAA", "2026-01-01T00:00:00Z")
    outbox.mark_rejected(f"{conversation_id}-rejected", "nein", {"vorname": "falsch"})
    uploads.store(upload_dir, conversation_id, b"%PDF-1.7 Ausweis", "ausweis.pdf", 1024)
    from buergerassistent.handoff import store as handoff_store  # issue 19

    handoff = handoff_store.default_store()
    handoff.open_case(conversation_id, {"procedure": "Meldebescheinigung"})
    handoff.note_callback("rueckrufbitte-1", conversation_id, "Meldebescheinigung", "BA-2026-0123ABCD")


def _rows(engine, table, conversation_id: str) -> int:
    columns = [c for c in table.columns if c.name in CONVERSATION_COLUMNS]
    with engine.connect() as conn:
        return sum(conn.execute(select(func.count()).select_from(table).where(c == conversation_id)).scalar()
                   for c in columns)


async def test_deleting_a_conversation_leaves_nothing_of_it_in_any_store(var):
    from buergerassistent import drafts
    from buergerassistent import identity
    from buergerassistent import privacy
    from buergerassistent.submission.outbox import PENDING, Outbox
    from rasa_runtime.tracker_store import CachingSQLTrackerStore
    from buergerassistent import uploads
    from rasa_runtime.channels.webchat.channel import WebChatInput
    from rasa_runtime.channels.webchat.settings import WebChatSettings
    from content import review

    domain = Domain.from_dict({"intents": ["greet", "nlu_fallback"], "slots": {}})
    tracker_store = CachingSQLTrackerStore(domain, dialect="sqlite", db=str(var / "tracker.db"))
    upload_dir = var / "uploads"
    for cid in (A, B):
        tracker = DialogueStateTracker(cid, domain.slots)
        tracker.update(UserUttered("Mein Name ist Erika Mustermann", {"name": "nlu_fallback", "confidence": 0.2}))
        tracker.update(SlotSet("vorname", "Erika"))
        tracker.update(BotUttered("Entschuldigung, das habe ich nicht verstanden."))
        await tracker_store.save(tracker)
        _fill(cid, upload_dir)

    # Every store that holds something per conversation, found in the code, with its database
    # (by MetaData: a table added to one of these modules' MetaData is checked as well).
    from buergerassistent.submission import outbox as outbox_module
    from buergerassistent.handoff import store as handoff_store

    databases = {
        id(identity.metadata): identity.engine(),
        id(drafts.metadata): drafts.default_store().engine,
        id(outbox_module.metadata): Outbox.default().engine,
        id(privacy.metadata): privacy.default_revocations().engine,
        id(handoff_store.metadata): handoff_store.default_store().engine,
        id(tracker_store.SQLEvent.metadata): tracker_store.engine,
    }
    tables = all_tables()
    per_conversation = {name: t for name, t in tables.items()
                        if any(c.name in CONVERSATION_COLUMNS for c in t.columns) and name not in KEPT}
    filled = {"login_identity", "login_outcome", "login_pending", "form_drafts", "submission_outbox", "events"}
    assert filled <= set(per_conversation)
    uncovered = {name for name, t in per_conversation.items() if id(t.metadata) not in databases}
    assert not uncovered, f"stores forget_conversation does not know: {uncovered}"
    engines = {name: databases[id(t.metadata)] for name, t in per_conversation.items()}
    for name in filled:
        assert _rows(engines[name], per_conversation[name], A) > 0, name  # the test really filled it

    channel = WebChatInput(settings=WebChatSettings(upload_dir=upload_dir))
    channel.app = SimpleNamespace(ctx=SimpleNamespace(
        agent=SimpleNamespace(tracker_store=tracker_store, lock_store=InMemoryLockStore())))
    await channel._delete(A)

    for name, table in per_conversation.items():
        assert _rows(engines[name], table, A) == 0, f"{name} still holds the deleted conversation"
        if name in filled:
            assert _rows(engines[name], table, B) > 0, f"{name} lost another conversation's data"
    assert not uploads.conversation_dir(upload_dir, A).exists()
    assert uploads.count_uploads(upload_dir, B) == 1
    assert await tracker_store.retrieve(A) is None
    # The review inbox reads the tracker store: nothing of A is left to show.
    findings = review.inbox(f"sqlite:///{var / 'tracker.db'}", var / "review")
    assert findings and all(f.conversations == 1 for f in findings)
    assert set(review.read_conversations(f"sqlite:///{var / 'tracker.db'}")) == {B}
    # The application A confirmed but the backend does not have yet is still delivered, without
    # any link to the deleted chat.
    pending = Outbox.default().get(f"{A}-pending")
    assert pending.state == PENDING and pending.conversation_id is None and pending.data
    assert Outbox.default().get(f"{A}-delivered") is None and Outbox.default().get(f"{A}-rejected") is None
    # Drafts of the account are gone with the conversation that saved them.
    assert drafts.default_store().find("wc-other", "bpk2-" + A) is None
    assert identity.current_identity(A) is None and identity.current_identity(B) is not None
    # The revocation keeps no conversation id, only its hash.
    with privacy.default_revocations().engine.connect() as conn:
        stored = [r[0] for r in conn.execute(select(privacy.revoked.c.digest))]
    assert stored == [privacy.digest(A)]


async def test_a_deleted_conversation_cannot_be_resumed_after_a_restart(var):
    from buergerassistent.privacy import RevocationStore
    from rasa_runtime.channels.webchat.sessions import SessionIssuer

    url = f"sqlite:///{var / 'privacy.db'}"
    before = SessionIssuer(3600, store=RevocationStore(url))
    session = before.new()
    other = before.new()
    await before.revoke(session.conversation_id)
    # A new process: fresh memory, a new engine on the same database.
    after = SessionIssuer(3600, store=RevocationStore(url))
    assert await after.resume(session.token) is None
    assert await after.is_revoked(session.conversation_id)
    assert (await after.resume(other.token)).conversation_id == other.conversation_id
    # Revoked in another process after this one started: refused too.
    await SessionIssuer(3600, store=RevocationStore(url)).revoke(other.conversation_id)
    assert await after.resume(other.token) is None


def test_the_channel_persists_revocations_by_default(var):
    from rasa_runtime.channels.webchat.channel import WebChatInput

    channel = WebChatInput()
    assert channel.sessions._store is not None
    assert str(channel.sessions._store.engine.url).endswith(str(var / "privacy.db"))

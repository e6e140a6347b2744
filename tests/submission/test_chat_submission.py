"""The chat actions of submission, status and withdrawal against the real reference portal
backend (in-process) and a real outbox (SQLite file)."""

from __future__ import annotations

import re
import zlib

import aiohttp
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import submission_actions as chat_actions
from actions.dialogue import ActionHandleAffirm, ActionHandleDeny, ActionSubmitApplication
from actions.submission_actions import (
    ActionAnnounceSubmissions,
    ActionApplicationStatus,
    ActionConfirmWithdrawal,
    ActionWithdrawApplication,
    outbox,
)
from buergerassistent.submission import delivery
from buergerassistent.submission.backends import backend_from_env
from buergerassistent.submission.outbox import DELIVERED, PENDING
from portal_backend import receipt_pdf
from portal_backend.app import STORE

from .conftest import FILLED, closed_port_url, make_tracker, slot_events, texts

CASE = re.compile(r"Aktenzeichen lautet (\S+?)\.")
LINK = re.compile(r"\((http[^)]+/receipts/[^)]+)\)")

pytestmark = pytest.mark.usefixtures("chat_env")


def confirmed(procedure: str = "meldebescheinigung", key: str = "app-1", **extra):
    return make_tracker(
        slots={**FILLED, "procedure": procedure, "application_id": key, "awaiting": "confirm_summary", **extra}
    )


async def submit(tracker) -> tuple[CollectingDispatcher, dict]:
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitApplication().run(dispatcher, tracker, {})
    return dispatcher, slot_events(events)


async def fetch(url: str) -> tuple[int, str, bytes]:
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as resp:
            return resp.status, resp.content_type, await resp.read()


def pdf_text(pdf: bytes) -> str:
    """Text of a PDF written with the Latin-1 core font (streams are Flate-compressed).

    Each stream is decompressed from its start until zlib says it ended: cutting it at
    "\r?\nendstream" lost the last byte whenever the compressed data ended in a carriage return
    (about one PDF in 256, depending on the case number and time), and the text came back empty."""
    out = []
    for start in re.finditer(rb"stream\r?\n", pdf):
        decompressor = zlib.decompressobj()
        try:
            text = decompressor.decompress(pdf[start.end() :])
        except zlib.error:
            continue
        if decompressor.eof:
            out.append(text.decode("latin-1"))
    return "\n".join(out)


async def test_confirmed_application_gets_case_number_and_receipt_link(backend, monkeypatch):
    dispatcher, slots = await submit(confirmed())
    reply = texts(dispatcher)
    case_number = CASE.search(reply).group(1)
    assert slots["case_number"] == case_number and slots["vorname"] is None
    entry = outbox().get("app-1")
    assert entry.state == DELIVERED and entry.announced_at is not None  # told in this reply

    # The link opens the PDF receipt; a tampered link does not.
    link = LINK.search(reply).group(1)
    monkeypatch.setenv("RECEIPT_FONT_DIR", "/nonexistent")  # readable text
    status, content_type, body = await fetch(link)
    assert (status, content_type) == (200, "application/pdf")
    text = pdf_text(body)
    for expected in (case_number, "Meldebescheinigung", "Mustermann", "12.08.1964", "Eingangsbest"):
        assert expected in text, expected
    status, _, _ = await fetch(link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB"))
    assert status == 403


async def test_receipt_pdf_prints_names_beyond_latin1(backend):
    # DejaVu (fonts-dejavu-core) is embedded: a Polish or Turkish name must not break the PDF.
    application = backend.app[STORE].create(
        __import__("portal_backend.validation", fromlist=["Submission"]).Submission(
            procedure="meldebescheinigung",
            data={**FILLED, "nachname": "Łukasiewicz-Şahin", "geburtsdatum": "1964-08-12"},
            idempotency_key="pdf-unicode",
        )
    )[0]
    pdf = receipt_pdf.render(application, None)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000


async def test_backend_down_saves_then_the_case_number_arrives_later(backend, monkeypatch):
    good_url = backend.make_url("").human_repr().rstrip("/")
    monkeypatch.setenv("PORTAL_BACKEND_URL", closed_port_url())
    dispatcher, slots = await submit(confirmed(key="app-down"))
    reply = texts(dispatcher)
    assert "gespeichert" in reply and "nicht erreichbar" in reply
    assert "Aktenzeichen" in reply and not CASE.search(reply)
    assert slots["vorname"] is None  # the outbox holds the data now
    assert outbox().get("app-down").state == PENDING

    # The backend is back; the worker's delivery step sends it. (Rasa's HTTP API is not
    # running here: the announcement is run directly, as Rasa does on the worker's
    # trigger_intent; tests/submission/test_e2e_submission.py runs the real chain.)
    monkeypatch.setenv("PORTAL_BACKEND_URL", good_url)
    outbox().mark_retry("app-down", "test: due now", 0)
    await delivery.attempt(outbox(), backend_from_env(), "app-down")
    assert outbox().get("app-down").state == DELIVERED

    dispatcher = CollectingDispatcher()
    events = await ActionAnnounceSubmissions().run(dispatcher, make_tracker(), {})
    announced = texts(dispatcher)
    case_number = CASE.search(announced).group(1)
    assert "jetzt übermittelt" in announced and LINK.search(announced)
    assert slot_events(events)["case_number"] == case_number
    assert backend.app[STORE].get(case_number) is not None
    # Told once: a second trigger says nothing.
    again = CollectingDispatcher()
    await ActionAnnounceSubmissions().run(again, make_tracker(), {})
    assert again.messages == []


async def test_rejection_reopens_the_form_at_the_refused_field(backend):
    dispatcher, slots = await submit(confirmed(key="app-bad", art_meldebescheinigung="gold"))
    assert slots["art_meldebescheinigung"] is None and "vorname" not in slots
    assert "Art der Bescheinigung" in texts(dispatcher)


async def test_rejection_found_later_restores_the_other_answers(backend):
    # Saved while the backend was down, refused when the worker sent it.
    outbox().enqueue("late-bad", "meldebescheinigung", {**FILLED, "art_meldebescheinigung": "gold"}, "test")
    await delivery.attempt(outbox(), backend_from_env(), "late-bad")
    dispatcher = CollectingDispatcher()
    events = await ActionAnnounceSubmissions().run(dispatcher, make_tracker(), {})
    slots = slot_events(events)
    assert slots["vorname"] == "Erika" and slots["art_meldebescheinigung"] is None
    assert any(e.get("event") == "followup" and e["name"] == "meldebescheinigung_form" for e in events)


async def test_status_by_typed_case_number_and_by_conversation(backend):
    dispatcher, _ = await submit(confirmed(key="app-st"))
    case_number = CASE.search(texts(dispatcher)).group(1)
    # The authority starts working on it.
    backend.app[STORE].change_status(case_number, "in_bearbeitung", "Unterlagen werden geprüft.")

    dispatcher = CollectingDispatcher()
    await ActionApplicationStatus().run(
        dispatcher, make_tracker(text="Wie ist der Stand meines Antrags?", intent="ask_status"), {}
    )
    reply = texts(dispatcher)
    assert case_number in reply and "in Bearbeitung" in reply and "eingegangen am" in reply
    assert "Unterlagen werden geprüft." in reply

    # Typed (with look-alikes) in the conversation that submitted it.
    typed = case_number[:8] + case_number[8:].lower().replace("0", "o").replace("1", "l")
    dispatcher = CollectingDispatcher()
    mine = make_tracker(text=f"Stand {typed}?", intent="ask_status")
    events = await ActionApplicationStatus().run(dispatcher, mine, {})
    assert case_number in texts(dispatcher) and "in Bearbeitung" in texts(dispatcher)
    assert "Mustermann" not in texts(dispatcher)  # status only, never personal data
    assert slot_events(events) == {"case_number": case_number}


async def test_status_of_another_conversations_application_is_refused(backend):
    # Issue 13 item 7: any chat read any application's status by typing its case number.
    dispatcher, _ = await submit(confirmed(key="app-victim"))
    case_number = CASE.search(texts(dispatcher)).group(1)
    backend.app[STORE].change_status(case_number, "abgelehnt", "Unterlagen fehlen.")

    dispatcher = CollectingDispatcher()
    stranger = make_tracker(text=f"Wie ist der Stand von {case_number}?", intent="ask_status", sender_id="someone-else")
    events = await ActionApplicationStatus().run(dispatcher, stranger, {})
    reply = texts(dispatcher)
    assert "kann ich Ihnen hier nicht zeigen" in reply and "zuständigen Stelle" in reply
    for leaked in ("abgelehnt", "Unterlagen fehlen", "Meldebescheinigung", "eingegangen am"):
        assert leaked not in reply
    assert events == []


async def test_status_without_any_case_number_asks_for_it(backend):
    dispatcher = CollectingDispatcher()
    await ActionApplicationStatus().run(dispatcher, make_tracker(text="Stand?"), {})
    assert "Aktenzeichen" in texts(dispatcher)


async def test_status_of_an_unknown_case_number_reveals_nothing(backend):
    # Unknown and someone else's get the same answer: no oracle for valid case numbers.
    dispatcher = CollectingDispatcher()
    await ActionApplicationStatus().run(dispatcher, make_tracker(text="BA-2026-ZZZZZZZZ"), {})
    assert "kann ich Ihnen hier nicht zeigen" in texts(dispatcher)
    assert "keinen Antrag" not in texts(dispatcher)


async def test_withdrawal_where_the_catalogue_does_not_allow_it(backend):
    await submit(confirmed(key="app-nw"))
    dispatcher = CollectingDispatcher()
    events = await ActionWithdrawApplication().run(dispatcher, make_tracker(text="Antrag zurückziehen"), {})
    assert "kein Zurückziehen über den Chat vorgesehen" in texts(dispatcher)
    assert events == []


async def test_withdrawal_where_allowed_after_confirmation(backend, withdrawable_catalogue, monkeypatch):
    monkeypatch.setattr(chat_actions, "default_catalogue", lambda: withdrawable_catalogue)
    monkeypatch.setattr("actions.dialogue.default_catalogue", lambda: withdrawable_catalogue)
    dispatcher, _ = await submit(confirmed("meldebescheinigung_widerruflich", key="app-w"))
    case_number = CASE.search(texts(dispatcher)).group(1)

    dispatcher = CollectingDispatcher()
    events = await ActionWithdrawApplication().run(dispatcher, make_tracker(text="Antrag zurückziehen"), {})
    assert "wirklich" in texts(dispatcher)
    slots = slot_events(events)
    assert slots == {"case_number": case_number, "awaiting": "confirm_withdrawal"}

    # "Nein" keeps it; "Ja" withdraws it.
    dispatcher = CollectingDispatcher()
    await ActionHandleDeny().run(dispatcher, make_tracker(slots=slots), {})
    assert "bleibt bestehen" in texts(dispatcher)
    affirm = await ActionHandleAffirm().run(CollectingDispatcher(), make_tracker(slots=slots), {})
    assert affirm[0]["name"] == "action_confirm_withdrawal"
    dispatcher = CollectingDispatcher()
    await ActionConfirmWithdrawal().run(dispatcher, make_tracker(slots=slots), {})
    assert "zurückgezogen" in texts(dispatcher)
    assert backend.app[STORE].get(case_number).status == "zurueckgezogen"
    postbox = backend.app[STORE].messages_for_case(case_number)
    assert [m.subject for m in postbox] == [f"Neuer Stand zu {case_number}", f"Eingangsbestätigung {case_number}"]


async def test_withdrawal_of_someone_elses_case_number_is_refused(backend):
    dispatcher = CollectingDispatcher()
    await ActionWithdrawApplication().run(dispatcher, make_tracker(text="BA-2026-7F3K9Q2M zurückziehen"), {})
    assert "in diesem Gespräch gestellt" in texts(dispatcher)


async def test_an_unavailable_backend_adapter_promises_nothing(backend, monkeypatch):
    monkeypatch.setenv("SUBMISSION_BACKEND", "fit-connect")
    dispatcher, slots = await submit(confirmed(key="app-fit"))
    assert "nicht speichern" in texts(dispatcher)
    assert slots == {"awaiting": "retry_submission"}  # the answers stay in the conversation
    assert outbox().get("app-fit") is None


@pytest.fixture
def identities(tmp_path, monkeypatch):
    """The login store (written by the login service in production), one SQLite file per test."""
    monkeypatch.setenv("BA_IDENTITY_DATABASE_URL", f"sqlite:///{tmp_path / 'identity.db'}")
    from buergerassistent import identity

    def login(conversation_id: str, subject: str) -> None:
        identity.store_identity(
            conversation_id,
            identity.Identity(
                level="substantiell",
                source="saml",
                subject=subject,
                attributes={"given_name": "Erika", "family_name": "Mustermann"},
            ),
        )

    return login


async def test_a_logged_in_citizen_sees_the_status_of_her_applications_from_any_chat(backend, identities):
    bpk = "bPK2:RXJpa2EtTXVzdGVybWFubg"
    identities("test", bpk)
    dispatcher, _ = await submit(confirmed(key="app-account"))
    case_number = CASE.search(texts(dispatcher)).group(1)
    # Linked to her account: the action server sent her citizen assertion with it.
    assert backend.app[STORE].get(case_number).citizen == bpk

    identities("her-other-chat", bpk)
    dispatcher = CollectingDispatcher()
    await ActionApplicationStatus().run(
        dispatcher, make_tracker(text=f"Stand {case_number}", intent="ask_status", sender_id="her-other-chat"), {}
    )
    assert case_number in texts(dispatcher) and "eingegangen" in texts(dispatcher)
    # Listed without typing, too.
    dispatcher = CollectingDispatcher()
    await ActionApplicationStatus().run(
        dispatcher, make_tracker(text="Wie ist der Stand?", intent="ask_status", sender_id="her-other-chat"), {}
    )
    assert case_number in texts(dispatcher)

    # Someone else, logged in with his own account, gets nothing about it.
    identities("his-chat", "bPK2:SmVtYW5kLUFuZGVyZXM")
    dispatcher = CollectingDispatcher()
    await ActionApplicationStatus().run(
        dispatcher, make_tracker(text=f"Stand {case_number}", intent="ask_status", sender_id="his-chat"), {}
    )
    assert "kann ich Ihnen hier nicht zeigen" in texts(dispatcher)
    assert "eingegangen" not in texts(dispatcher)

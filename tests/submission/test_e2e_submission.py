"""The whole stack on free ports (portal backend, action server, delivery worker, Rasa with a
SQL tracker store), chatting over the REST channel:

* a Rasa restart in the middle of a form resumes the same conversation at the same field;
* with the portal backend down at confirmation, the citizen is told the application is saved,
  and once the backend is back the worker delivers it and the case number arrives in the same
  conversation through Rasa's HTTP API (trigger_intent).

Only the named service is stopped and started again; the others keep running.
"""

from __future__ import annotations

import re
import time

import pytest
from support.portal_auth import fetch_application, status_without_token

from bot.local_stack import RestChat, start_local_stack
from bot.training import ensure_model

pytestmark = pytest.mark.e2e

CASE_NUMBER = re.compile(r"Aktenzeichen lautet (\S+?)\.(?:\s|$)")


@pytest.fixture(scope="module")
def stack(tmp_path_factory, monkeypatch_module):
    model = ensure_model(quiet=True)
    var = tmp_path_factory.mktemp("submission-stack")
    # Short retry backoff for the worker in this test; production defaults are longer.
    monkeypatch_module.setenv("SUBMISSION_RETRY_MAX_S", "2")
    monkeypatch_module.setenv("BA_LOGIN_REQUIRED", "0")
    stack = start_local_stack(model, var)  # SQLite: the SQL tracker store
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def fill_until_birth_date(chat: RestChat) -> None:
    offer = chat.say_text("Ich brauche eine Meldebescheinigung")
    assert "jetzt hier im Chat beantragen" in offer, offer
    started = chat.say_text("Ja")
    assert "Schritt 1 von 8" in started, started
    assert "Familienname" in chat.say_text("Erika")
    assert "geboren" in chat.say_text("Mustermann")


def test_rasa_restart_in_a_form_resumes_at_the_same_field(stack):
    chat = RestChat(stack.settings, sender=f"restart-{time.time_ns()}")
    fill_until_birth_date(chat)
    stack.service("rasa").restart()
    # The answer is taken for the field that was asked before the restart; nothing is lost.
    assert "Straße" in chat.say_text("12.08.1964")
    assert "Postleitzahl" in chat.say_text("Marienplatz 8")
    assert "Ort" in chat.say_text("80331")
    assert "einfache oder eine erweiterte" in chat.say_text("München")
    assert "E-Mail" in chat.say_text("einfach")
    summary = chat.say_text("erika.mustermann@example.org")
    for shown in ("Erika", "Mustermann", "12.08.1964", "Marienplatz 8"):
        assert shown in summary


def test_backend_down_saved_then_case_number_arrives_in_the_conversation(stack):
    chat = RestChat(stack.settings, sender=f"outbox-{time.time_ns()}")
    fill_until_birth_date(chat)
    for answer in ("12.08.1964", "Marienplatz 8", "80331", "München", "einfach"):
        chat.say_text(answer)
    assert "sende ich den Antrag ab" in chat.say_text("erika.mustermann@example.org")

    backend = stack.service("portal-backend")
    backend.stop()
    try:
        reply = chat.say_text("Ja, absenden")
        assert "gespeichert" in reply and "nicht erreichbar" in reply
        assert not CASE_NUMBER.search(reply)
    finally:
        backend.start()
        backend.wait_healthy()

    deadline = time.monotonic() + 90
    announced = None
    while time.monotonic() < deadline and announced is None:
        announced = next((t for t in chat.bot_texts() if CASE_NUMBER.search(t)), None)
        time.sleep(1)
    assert announced, "the case number never reached the conversation"
    case_number = CASE_NUMBER.search(announced).group(1)
    stored = fetch_application(stack, case_number)  # the delivery worker authenticated
    assert stored["data"]["nachname"] == "Mustermann"
    assert status_without_token(stack, case_number) == 401  # nobody else reads it
    # The receipt link came with it, and the status question now knows this application.
    assert any("/receipts/" in t for t in chat.bot_texts())
    assert case_number in chat.say_text("Wie ist der Stand meines Antrags?")
    # Another conversation that types the case number learns nothing about it (issue 13 item 7).
    stranger = RestChat(stack.settings, sender=f"stranger-{time.time_ns()}")
    refused = stranger.say_text(f"Wie ist der Stand von {case_number}?")
    assert "kann ich Ihnen hier nicht zeigen" in refused and "eingegangen am" not in refused

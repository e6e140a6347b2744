"""The whole stack on free ports (portal backend, action server, delivery worker, Rasa with a
SQL tracker store), chatting over the REST channel:

* a Rasa restart in the middle of a form resumes the same conversation at the same field;
* with the portal backend down at confirmation, the citizen is told the application is saved,
  and once the backend is back the worker delivers it and the case number arrives in the same
  conversation through Rasa's HTTP API (trigger_intent).

Only the named service is stopped and started again; the others keep running.
"""

from __future__ import annotations

import time

import pytest
from support.chat import RestChat
from support.forms import CASE_NUMBER, fill_in_chat, step
from support.portal_auth import fetch_application, status_without_token
from support.stacks import running_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    # SQLite: the SQL tracker store. Short retry backoff for the worker in this test; production
    # defaults are longer.
    with running_stack(tmp_path_factory.mktemp("submission-stack"), env={"SUBMISSION_RETRY_MAX_S": "2"}) as stack:
        yield stack


def test_rasa_restart_in_a_form_resumes_at_the_same_field(stack):
    chat = RestChat(stack.settings, sender=f"restart-{time.time_ns()}")
    fill_in_chat(chat.say_text, stop=step("12.08.1964"))
    stack.service("rasa").restart()
    # The answer is taken for the field that was asked before the restart; nothing is lost.
    summary = fill_in_chat(chat.say_text, start=step("12.08.1964"))
    for shown in ("Erika", "Mustermann", "12.08.1964", "Marienplatz 8"):
        assert shown in summary


def test_backend_down_saved_then_case_number_arrives_in_the_conversation(stack):
    chat = RestChat(stack.settings, sender=f"outbox-{time.time_ns()}")
    fill_in_chat(chat.say_text)  # up to the summary: "… sende ich den Antrag ab"

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

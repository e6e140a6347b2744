"""End to end (issue 19): outside office hours. The whole stack with the staff desk on a real
Synapse (tests/support/synapse.py), with office hours set to a weekday other than today: a web
chat citizen asks for a person, is told honestly that nobody is there, when staff are back, the
115 and a call-back; they type "ja, rufen Sie mich zurück" (no button), leave the request, and get
the portal backend's case number. The desk announces the request by that number in the queue
room; no case is opened for staff. Over the REST channel, "nein danke" to the same offer in the
middle of a form goes on with the form. Nothing here is a double."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from support.chat import RestChat, WebChat
from support.portal_auth import fetch_application
from support.stacks import running_stack

from buergerassistent.handoff.office_hours import BERLIN, DAY_NAMES, DAYS
from tests.handoff.agent import Agent

pytestmark = pytest.mark.e2e


def _another_day() -> int:
    """A weekday that is neither today nor tomorrow in Berlin (the test may run over midnight)."""
    today = dt.datetime.now(BERLIN).weekday()
    return (today + 3) % 7


@pytest.fixture(scope="module")
def closed_desk(synapse, tmp_path_factory):
    bot = synapse.register_user("schalter-zu")
    berta = synapse.register_user("berta")
    agent = Agent(synapse.base_url, berta.user_id, berta.access_token)
    queue = agent.create_room(invite=[bot.user_id])
    day = _another_day()
    env = {
        "STAFF_MATRIX_HOMESERVER": synapse.base_url,
        "STAFF_MATRIX_USER": bot.user_id,
        "STAFF_MATRIX_ACCESS_TOKEN": bot.access_token,
        "STAFF_MATRIX_QUEUE_ROOM": queue,
        "STAFF_MATRIX_AGENTS": berta.user_id,
        "HANDOFF_OFFICE_HOURS": f"{DAYS[day].capitalize()} 08:00-09:00",
        "HANDOFF_HOLIDAY_REGION": "keine",
    }
    with running_stack(tmp_path_factory.mktemp("handoff-closed-var"), env=env) as stack:
        yield stack, agent, queue, DAY_NAMES[day]


def test_outside_office_hours_the_citizen_is_told_and_leaves_a_call_back_request(closed_desk):
    stack, agent, queue, day_name = closed_desk
    chat = WebChat(stack)
    try:
        told = chat.say_text("Ich möchte mit einem Menschen sprechen")
        assert "Gerade ist leider niemand von den Mitarbeitenden im Chat erreichbar." in told, told
        assert f"besetzt: {day_name} 08:00–09:00 Uhr" in told and f"am {day_name}," in told
        assert "115" in told and "Rückruf" in told
        form = chat.say_text("ja, rufen Sie mich zurück")  # typed: the call-back offer's "ja"
        assert "Schritt 1 von 4" in form, form
        assert "Schritt 2 von 4" in chat.say_text("Erika Mustermann")
        assert "Schritt 3 von 4" in chat.say_text("erika.mustermann@example.org")
        assert "Schritt 4 von 4" in chat.say_text("Ich habe eine Frage zu meinem Bescheid.")
        saved = chat.say_text("Ja")
        assert "Ihr Aktenzeichen ist BA-" in saved, saved
        number = saved.split("Aktenzeichen ist ")[1].split(".")[0]
        application = fetch_application(stack, number)
        assert application["procedure"] == "rueckrufbitte"
        assert application["data"]["callback_contact"] == "erika.mustermann@example.org"
        notice = agent.wait_for(f"Neue Rückrufbitte {number}", room_id=queue)[2]
        assert "Erika" not in notice and "example.org" not in notice
        agent.sync()
        assert not any("Neuer Fall" in m[2] for m in agent.messages)  # no case was opened
        # Afterwards "ja" has its usual meaning again (no offer in the last turn).
        assert "Schritt 1 von 4" not in chat.say_text("ja")
    finally:
        chat.close()


def test_over_rest_a_typed_no_to_the_call_back_offer_goes_on_with_the_form(closed_desk):
    stack, _agent, _queue, _day_name = closed_desk
    chat = RestChat(stack.settings, sender=f"rest-handoff-{time.time_ns()}")
    assert "jetzt hier im Chat beantragen" in chat.say_text("Ich brauche eine Meldebescheinigung")
    assert "Schritt 1 von 8" in chat.say_text("Ja")  # "ja" without an offer: starts the form
    told = chat.say_text("Ich möchte mit einem Menschen sprechen")
    assert "niemand von den Mitarbeitenden im Chat erreichbar" in told and "Rückruf" in told, told
    declined = chat.say_text("nein danke")
    assert "machen wir hier weiter" in declined and "Vorname?" in declined, declined
    assert "Familienname" in chat.say_text("Erika")  # the form goes on; nothing was lost

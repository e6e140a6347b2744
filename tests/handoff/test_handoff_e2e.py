"""End to end (issue 19): a web chat citizen, the whole stack with the staff desk, and members of
staff in a real Synapse (tests/support/synapse.py) using the Matrix client-server API like Element.

1. The citizen asks for a person in the middle of the Meldebescheinigung form; a member of staff
   not listed in STAFF_MATRIX_AGENTS cannot take it; the listed one takes it, sees the context
   card (with the answers: the citizen agreed), they write both ways, the agent hands back with
   !zurück, the assistant asks the same field again and the citizen completes the form.
2. Nobody takes a second conversation within HANDOFF_QUEUE_TIMEOUT_S: the assistant says so and
   the citizen leaves a call-back request; what they typed while waiting becomes its topic. It is
   an application in the portal backend with a case number (read back with the authority's
   token); staff see it only through !rückruf, which is audited.
3. The citizen declines the offer by typing "nein danke", accepts the next one by typing
   "ok, verbinden Sie mich", and stops waiting.

The answers to the offers are typed as a citizen would (the buttons are checked to be there).

Nothing here is a double: Synapse, Rasa, the action server, the staff desk and the portal are
the real processes."""

from __future__ import annotations

import pytest
from support.chat import WebChat
from support.portal_auth import fetch_application
from support.stacks import running_stack

from buergerassistent.handoff.store import HandoffStore
from tests.handoff.agent import Agent

pytestmark = pytest.mark.e2e

TIMEOUT_S = 45


@pytest.fixture(scope="module")
def desk(synapse, tmp_path_factory):
    bot = synapse.register_user("schalter")
    anna = synapse.register_user("anna")
    mallory = synapse.register_user("mallory")
    agent = Agent(synapse.base_url, anna.user_id, anna.access_token)
    outsider = Agent(synapse.base_url, mallory.user_id, mallory.access_token)
    queue = agent.create_room(invite=[bot.user_id, mallory.user_id])
    outsider.join(queue)
    env = {
        "STAFF_MATRIX_HOMESERVER": synapse.base_url,
        "STAFF_MATRIX_USER": bot.user_id,
        "STAFF_MATRIX_ACCESS_TOKEN": bot.access_token,
        "STAFF_MATRIX_QUEUE_ROOM": queue,
        "STAFF_MATRIX_AGENTS": anna.user_id,
        "HANDOFF_OFFICE_HOURS": "Mo-So 00:00-23:59",
        "HANDOFF_HOLIDAY_REGION": "keine",
        "HANDOFF_QUEUE_TIMEOUT_S": str(TIMEOUT_S),
    }
    with running_stack(tmp_path_factory.mktemp("handoff-var"), env=env) as stack:
        store = HandoffStore(f"sqlite:///{stack.settings.var_dir / 'handoff.db'}")
        yield stack, agent, outsider, queue, store


def _payload(messages: list[dict], title: str) -> str:
    for message in messages:
        for button in (message.get("buttons") or []) + (message.get("quick_replies") or []):
            if button["title"] == title:
                return button["payload"]
    raise AssertionError(f"no button {title!r} in {messages}")


def _text(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def test_citizen_talks_to_staff_and_the_assistant_continues_the_form(desk):
    stack, agent, outsider, queue, store = desk
    chat = WebChat(stack)
    try:
        assert "jetzt hier im Chat beantragen" in chat.say_text("Ich brauche eine Meldebescheinigung")
        assert "Schritt 1 von 8" in chat.say_text("Ja")
        assert "Familienname" in chat.say_text("Erika")
        offer = chat.say("Ich möchte mit einem Menschen sprechen")
        assert "Ich warte höchstens eine Minute auf eine freie Person." in _text(offer)
        assert _payload(offer, "Ja, mit meinen Angaben")  # the buttons are there; the citizen types
        started = chat.say_text("Ja, mit meinen Angaben")
        assert "Ich habe Ihr Anliegen weitergegeben (Fall H-" in started, started
        case_id = started.split("(Fall ")[1].split(")")[0]

        card = agent.wait_for(f"!übernehmen {case_id}", room_id=queue)[2]
        assert "Meldebescheinigung" in card and "Erika" not in card  # the queue room sees nothing personal
        outsider.send(queue, f"!übernehmen {case_id}")
        agent.wait_for("Nur freigeschaltete Mitarbeitende", room_id=queue)
        mark = chat.mark()
        agent.send(queue, f"!übernehmen {case_id}")
        room, _, full_card = agent.wait_for(f"Fall {case_id}\n")
        assert room != queue and "Vorname: Erika" in full_card
        assert "→ Familienname: – (wird gerade gefragt)" in full_card
        assert "Kanal: Web-Chat" in full_card and "Sprache: Deutsch" in full_card
        chat.wait_for_bot("Sie schreiben jetzt mit einer Mitarbeiterin / einem Mitarbeiter.", mark)
        outsider.sync()
        assert room not in outsider.rooms and not any(m[0] == room for m in outsider.messages)

        # Citizen → staff: the assistant does not answer itself.
        answer = chat.say("Muss ich auch meinen Geburtsnamen angeben?")
        assert _text(answer) == ""
        agent.wait_for("Bürgerin/Bürger: Muss ich auch meinen Geburtsnamen angeben?", room_id=room)
        # Staff → citizen, in the citizen's channel and in the conversation's history.
        mark = chat.mark()
        agent.send(room, "Nein, nur den Familiennamen wie im Ausweis.")
        chat.wait_for_bot("Mitarbeiterin/Mitarbeiter: Nein, nur den Familiennamen wie im Ausweis.", mark)
        assert "Mitarbeiterin/Mitarbeiter: Nein, nur den Familiennamen wie im Ausweis." in chat.bot_texts()

        # Hand back: the assistant asks the same field again.
        mark = chat.mark()
        agent.send(room, "!zurück")
        back = chat.wait_for_bot("Familienname?", mark)
        assert any("wieder mit dem Assistenten" in t for t in back), back
        agent.wait_for("an den Assistenten zurückgegeben", room_id=room)

        assert "geboren" in chat.say_text("Mustermann")
        for answer_text, next_question in (
            ("12.08.1964", "Straße"),
            ("Marienplatz 8", "Postleitzahl"),
            ("80331", "Ort"),
            ("München", "einfache oder eine erweiterte"),
            ("einfach", "E-Mail"),
            ("erika.mustermann@example.org", "sende ich den Antrag ab"),
        ):
            reply = chat.say_text(answer_text)
            assert next_question in reply, (answer_text, reply)
        assert "ist eingegangen" in chat.say_text("Ja")

        audit = store.audit_for(chat.sender)
        assert [(e["staff"], e["what"], e["case_id"]) for e in audit] == [
            (agent.user_id, "take", case_id),
            (agent.user_id, "reply", case_id),
            (agent.user_id, "hand_back", case_id),
        ]
        assert store.get(case_id).state == "closed"
    finally:
        chat.close()


def test_nobody_free_the_citizen_leaves_a_call_back_request(desk):
    stack, agent, _outsider, queue, store = desk
    chat = WebChat(stack)
    try:
        chat.say("Kann ich mit einem Sachbearbeiter sprechen?")
        started = chat.say_text("ja bitte")  # typed, not the button
        case_id = started.split("(Fall ")[1].split(")")[0]
        agent.wait_for(f"!übernehmen {case_id}", room_id=queue)
        mark = chat.mark()
        chat.type("Ich habe eine Frage zu meinem Bescheid über die Hundesteuer.")
        texts = chat.wait_for_bot("war niemand frei", mark, timeout=TIMEOUT_S + 60)
        told = "\n".join(texts)
        assert "115" in told and "Rückruf" in told and "übernehme ich als Anliegen" in told
        agent.wait_for(f"Fall {case_id}: niemand frei", room_id=queue)
        assert store.get(case_id).state == "timed_out"

        assert _payload(chat.messages[mark:], "Rückruf anfordern") == "/request_callback"
        form = chat.say_text("Rückruf anfordern")  # typed, not the button
        assert "Schritt 1 von 4" in form
        assert "Telefonnummer oder E-Mail-Adresse" in chat.say_text("Erika Mustermann")
        asked = chat.say_text("089 233-0")
        assert "Schritt 4 von 4" in asked  # the topic was kept from the waiting time
        saved = chat.say_text("Ja")
        assert "Ihre Rückrufbitte ist eingegangen. Ihr Aktenzeichen ist BA-" in saved, saved
        number = saved.split("Aktenzeichen ist ")[1].split(".")[0]
        # Stored like an application: the authority reads it from the portal backend.
        application = fetch_application(stack, number)
        assert application["procedure"] == "rueckrufbitte"
        assert application["data"]["callback_topic"] == "Ich habe eine Frage zu meinem Bescheid über die Hundesteuer."
        assert application["data"]["callback_name"] == "Erika Mustermann"
        assert application["data"]["callback_consent"] == "ja"
        [notice] = [n for n in store.callback_notices() if n.case_number == number]
        assert notice.conversation_id == chat.sender

        notice = agent.wait_for(f"Neue Rückrufbitte {number}", room_id=queue)[2]
        assert "Erika" not in notice and "089" not in notice
        agent.send(queue, f"!rückruf {number}")
        details = agent.wait_for(f"Rückrufbitte {number} vom")[2]
        assert "Name: Erika Mustermann" in details and "Hundesteuer" in details
        assert [e["what"] for e in store.audit_for(chat.sender)] == ["read"]
    finally:
        chat.close()


def test_the_citizen_can_stop_waiting_and_the_form_goes_on(desk):
    stack, agent, _outsider, queue, store = desk
    chat = WebChat(stack)
    try:
        chat.say_text("Ich brauche eine Meldebescheinigung")
        assert "Schritt 1 von 8" in chat.say_text("Ja")
        assert "Ich warte höchstens" in chat.say_text("Ich möchte mit einem Menschen sprechen")
        declined = chat.say_text("nein danke")  # typed: declines, the form goes on
        assert "machen wir hier weiter" in declined and "Vorname?" in declined, declined
        chat.say("Ich möchte mit einem Menschen sprechen")
        started = chat.say("ok, verbinden Sie mich")
        case_id = _text(started).split("(Fall ")[1].split(")")[0]
        left = chat.say_text(_payload(started, "Nicht mehr warten"))
        assert "Sie warten nicht mehr" in left and "Vorname?" in left, left
        agent.wait_for(f"Fall {case_id}: Die Person hat das Gespräch beendet.", room_id=queue)
        assert store.get(case_id).state == "closed"
        assert "Familienname" in chat.say_text("Erika")  # the assistant answers again
    finally:
        chat.close()

"""The consent to status messages after "Ja, absenden" (issue 17), run as actions without Rasa:
"ja" stores it for this conversation's application, "nein" stores nothing; the announcing action
tells a recorded status change once."""

from __future__ import annotations

import pytest
from support.trackers import make_tracker, texts

from actions import submission_messages
from actions.dialogue import ActionHandleAffirm, ActionHandleDeny
from actions.submission_actions import ActionAnnounceSubmissions, outbox


@pytest.fixture(autouse=True)
def outbox_database(tmp_path, monkeypatch):
    monkeypatch.setenv("OUTBOX_DATABASE_URL", f"sqlite:///{tmp_path / 'outbox.db'}")


def submitted(conversation: str, app_id: str, case_number: str) -> None:
    store = outbox()
    store.enqueue(app_id, "meldebescheinigung", {"vorname": "Erika"}, conversation)
    store.mark_delivered(app_id, case_number, "2026-12-03T08:00:00Z", announced=True)


async def test_yes_stores_the_consent_for_the_last_application(dispatcher):
    submitted("tg-5", "app-old", "MB-2026-OLD00001")
    submitted("tg-5", "app-new", "MB-2026-NEW00001")
    tracker = make_tracker("Ja, bitte", intent="affirm", slots={"awaiting": "status_consent"}, sender_id="tg-5")
    events = await ActionHandleAffirm().run(dispatcher, tracker, {})
    assert submission_messages.STATUS_ON in texts(dispatcher)
    assert {"event": "slot", "name": "awaiting", "value": None, "timestamp": None} in events
    assert [w.id for w in outbox().watched()] == ["app-new"]


async def test_no_stores_nothing(dispatcher):
    submitted("tg-6", "app-6", "MB-2026-SIX00001")
    tracker = make_tracker("Nein, danke", intent="deny", slots={"awaiting": "status_consent"}, sender_id="tg-6")
    await ActionHandleDeny().run(dispatcher, tracker, {})
    assert submission_messages.STATUS_OFF in texts(dispatcher)
    assert outbox().watched() == []


async def test_a_recorded_change_is_told_once_with_the_case_number(dispatcher):
    submitted("th-ECHOECHO", "app-7", "MB-2026-SEV00001")
    store = outbox()
    store.watch_status("app-7", "th-ECHOECHO")
    assert store.status_changed("app-7", 2, "in_bearbeitung", "Wir prüfen.")
    tracker = make_tracker(intent="EXTERNAL_submission_update", sender_id="th-ECHOECHO")
    await ActionAnnounceSubmissions().run(dispatcher, tracker, {})
    assert "Neuer Stand zu Ihrem Antrag MB-2026-SEV00001: in Bearbeitung. Hinweis der Behörde: Wir prüfen." in texts(
        dispatcher
    )
    again = type(dispatcher)()
    await ActionAnnounceSubmissions().run(again, tracker, {})
    assert "Neuer Stand" not in texts(again)


@pytest.mark.parametrize(
    "answer,intent,action", [("Ja, bitte", "affirm", ActionHandleAffirm), ("Nein", "deny", ActionHandleDeny)]
)
async def test_one_closing_question_after_the_consent(dispatcher, answer, intent, action):
    # First the feedback question (once per session) and nothing else to answer at the same time;
    # once it was asked, "Kann ich sonst noch etwas für Sie tun?".
    submitted("wc-9", "app-9", "MB-2026-NIN00001")
    tracker = make_tracker(answer, intent=intent, slots={"awaiting": "status_consent"}, sender_id="wc-9")
    await action().run(dispatcher, tracker, {})
    responses = [m.get("response") for m in dispatcher.messages]
    assert "Hat Ihnen dieser Chat geholfen?" in texts(dispatcher)
    assert "utter_anything_else" not in responses
    later = type(dispatcher)()
    asked = make_tracker(
        answer, intent=intent, slots={"awaiting": "status_consent", "feedback_asked": True}, sender_id="wc-9"
    )
    await action().run(later, asked, {})
    assert [m.get("response") for m in later.messages][-1] == "utter_anything_else"
    assert "geholfen" not in texts(later)

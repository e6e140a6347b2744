"""A scripted set of conversations as Rasa's tracker store publishes them to the event broker
(``{"sender_id": …, **event.as_dict()}`` of Rasa's own event classes), and the figures they must
produce exactly."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SessionStarted, SlotSet, UserUttered

DAY1 = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()  # Monday
DAY2 = DAY1 + 86400
NEXT_WEEK = DAY1 + 7 * 86400


def marker(kind, **data):
    return SlotSet("insights", {"kind": kind, **data})


def _user(text, intent, channel):
    return UserUttered(text, {"name": intent, "confidence": 0.99}, input_channel=channel)


def conversation_a():
    """Web chat: finds the Meldebescheinigung, fills the form in 2 minutes, submits, rates 5 with a
    comment that names her."""
    ch = "webchat"
    ev = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        _user("Ich brauche eine Meldebescheinigung", "request_procedure", ch),
        ActionExecuted("action_discover_procedure"),
        BotUttered("Meldebescheinigung: …"),
        SlotSet("procedure", "meldebescheinigung"),
        marker("discovery", outcome="answer"),
        _user("ja", "affirm", ch),
        ActiveLoop("meldebescheinigung_form"),
        SlotSet("requested_slot", "vorname"),
        _user("Erika", "inform", ch),
        SlotSet("vorname", "Erika"),
        SlotSet("requested_slot", "nachname"),
        _user("Mustermann", "inform", ch),
        SlotSet("nachname", "Mustermann"),
        SlotSet("requested_slot", None),
        ActiveLoop(None),
        marker("submission", procedure="meldebescheinigung", state="delivered"),
        marker("feedback", rating=5, comment="Super, danke! Gruß Erika Mustermann, Tel. 0171 2345678"),
    ]
    return "wc-" + "a" * 32, DAY1, ev, [0, 0, 0, 0, 1, 1, 1, 1, 2, 10, 10, 60, 60, 60, 120, 120, 130, 130, 131, 140]


def conversation_b():
    """REST: two questions that find nothing (one with personal data), a failed login."""
    ch = "rest"
    ev = [
        SessionStarted(),
        _user("Wie trete ich aus der Kirche aus?", "request_procedure", ch),
        ActionExecuted("action_discover_procedure"),
        marker("discovery", outcome="none", text="Wie trete ich aus der Kirche aus?"),
        _user("Mein Name ist Max Musterberg, wo melde ich meinen Kanarienvogel an? 80331", "request_procedure", ch),
        marker(
            "discovery",
            outcome="none",
            text="Mein Name ist Max Musterberg, wo melde ich meinen Kanarienvogel an? 80331",
        ),
        _user("Wie trete ich aus der Kirche aus?", "request_procedure", ch),
        marker("discovery", outcome="none", text="Wie trete ich aus der Kirche aus?"),
        _user("/EXTERNAL_login_result", "EXTERNAL_login_result", ch),
        marker("login_result", outcome="level_too_low"),
    ]
    return "rest-citizen-b", DAY1 + 3600, ev, [i * 5 for i in range(len(ev))]


def conversation_c():
    """Web chat: a choice, then the Hundesteuer form; cancels at the date of birth; thumbs down."""
    ch = "webchat"
    ev = [
        SessionStarted(),
        _user("Hund", "request_procedure", ch),
        marker("discovery", outcome="choice"),
        SlotSet("offered_procedures", ["hundesteuer_anmelden", "hundesteuer_abmelden"]),
        _user('/choose_procedure{"procedure": "hundesteuer_anmelden"}', "choose_procedure", ch),
        SlotSet("procedure", "hundesteuer_anmelden"),
        ActiveLoop("hundesteuer_anmelden_form"),
        SlotSet("requested_slot", "geburtsdatum"),
        _user("abbrechen", "cancel", ch),
        ActiveLoop(None),
        SlotSet("requested_slot", None),
        marker("feedback", rating=1),
        marker("feedback", rating=5),  # asked once: a second rating in the session is ignored
    ]
    return "wc-" + "c" * 32, DAY1 + 7200, ev, [i * 10 for i in range(len(ev))]


def conversation_d():
    """Web chat, the next day: logs in, starts the Meldebescheinigung and goes quiet at the street;
    then a second session (a new conversation) that finds the Meldebescheinigung and submits it
    (saved, delivery follows) after 60 s of form."""
    ch = "webchat"
    ev = [
        SessionStarted(),
        _user("Meldebescheinigung", "request_procedure", ch),
        marker("discovery", outcome="answer"),
        SlotSet("procedure", "meldebescheinigung"),
        marker("login_result", outcome="success"),
        ActiveLoop("meldebescheinigung_form"),
        SlotSet("requested_slot", "strasse"),
        # quiet for two hours: the form counts as given up at the street
        SessionStarted(),
        _user("Meldebescheinigung bitte", "request_procedure", ch),
        marker("discovery", outcome="answer"),
        SlotSet("procedure", None),
        SlotSet("procedure", "meldebescheinigung"),
        ActiveLoop("meldebescheinigung_form"),
        SlotSet("requested_slot", "vorname"),
        SlotSet("requested_slot", None),
        ActiveLoop(None),
        marker("submission", procedure="meldebescheinigung", state="saved"),
        marker("feedback", rating=4),
    ]
    t = [0, 1, 2, 2, 3, 10, 10, 7210, 7211, 7212, 7212, 7212, 7220, 7220, 7270, 7280, 7281, 7290]
    return "wc-" + "d" * 32, DAY2, ev, t


def conversation_e():
    """Web chat, a week later: only a question that finds nothing (goes into the weekly figures)."""
    ch = "webchat"
    ev = [
        SessionStarted(),
        _user("Wie trete ich aus der Kirche aus?", "request_procedure", ch),
        marker("discovery", outcome="none", text="Wie trete ich aus der Kirche aus?"),
    ]
    return "wc-" + "e" * 32, NEXT_WEEK, ev, [0, 1, 2]


CONVERSATIONS = [conversation_a, conversation_b, conversation_c, conversation_d, conversation_e]


def published_events() -> list[dict]:
    """Every event as the broker carries it, in the order Rasa would publish them."""
    out = []
    for make in CONVERSATIONS:
        sender, start, events, offsets = make()
        assert len(events) == len(offsets), make.__name__
        for event, offset in zip(events, offsets, strict=True):
            event.timestamp = start + offset
            out.append({"sender_id": sender, **event.as_dict()})
    return out

"""Server-side identity: session limits, tickets, portal hand-over, and the login actions with
tracker fixtures (no Rasa)."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import login
from buergerassistent import identity as ids
from buergerassistent.catalogue import default_catalogue

ERIKA = {
    "given_name": "Erika",
    "family_name": "Mustermann",
    "birth_date": "1964-08-12",
    "street": "Heidestraße 17",
    "postcode": "51147",
    "city": "Köln",
    "email": "erika@example.org",
}


def conv() -> str:
    return f"unit-{uuid.uuid4().hex[:10]}"


def store(conversation: str, level: str, logged_in_at: float, last_seen_at: float = None) -> None:
    ids.store_identity(
        conversation,
        ids.Identity(
            level=level,
            source="saml",
            subject="bPK2-x",
            attributes=ERIKA,
            logged_in_at=logged_in_at,
            last_seen_at=last_seen_at or logged_in_at,
        ),
    )


@pytest.mark.parametrize(
    "level,age,idle,expired",
    [
        ("substantiell", 100 * 60, 29 * 60, False),
        ("substantiell", 100 * 60, 31 * 60, True),
        ("substantiell", 121 * 60, 1 * 60, True),
        ("hoch", 20 * 60, 4 * 60, False),
        ("hoch", 20 * 60, 6 * 60, True),
        ("hoch", 31 * 60, 1 * 60, True),
    ],
)
def test_session_limits_per_level(level, age, idle, expired):
    conversation, now = conv(), time.time()
    store(conversation, level, now - age, now - idle)
    ident, status = ids.identity_status(conversation, now=now)
    assert (status == "expired") is expired and (ident is None) is expired
    if expired:  # gone for good
        assert ids.identity_status(conversation, now=now)[1] == "none"


def test_idle_gap_between_messages_counts():
    conversation, now = conv(), time.time()
    store(conversation, "hoch", now - 20 * 60)
    # The citizen wrote 19, 12 and 1 minute(s) ago: a 7-minute pause in between ends a "hoch" session.
    activity = [now - 19 * 60, now - 12 * 60, now - 60]
    assert ids.identity_status(conversation, now=now, activity=activity)[1] == "expired"
    store(conversation, "hoch", now - 20 * 60)
    steady = [now - m * 60 for m in (19, 15, 11, 7, 3, 1)]
    assert ids.identity_status(conversation, now=now, activity=steady)[1] == "active"


def test_ticket_checks():
    conversation = conv()
    ticket = ids.issue_ticket(conversation, "hoch")
    with pytest.raises(ids.LoginRejected) as other:
        ids.consume_ticket(ticket, conv())
    assert other.value.reason == "ticket_other_conversation"
    assert ids.consume_ticket(ticket, conversation)["lvl"] == "hoch"
    with pytest.raises(ids.LoginRejected) as again:
        ids.consume_ticket(ticket, conversation)
    assert again.value.reason == "ticket_used"
    with pytest.raises(ids.LoginRejected) as wrong_purpose:
        ids.consume_ticket(ids.issue_ticket(conversation, "hoch"), conversation, purpose=ids.LOGOUT_PURPOSE)
    assert wrong_purpose.value.reason == "ticket_invalid"


@pytest.fixture
def portal_key(tmp_path, monkeypatch):
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "portal.pub").write_bytes(public)
    monkeypatch.setenv("BA_PORTAL_TOKEN_PUBLIC_KEY", str(tmp_path / "portal.pub"))
    return key


def portal_token(key, conversation: str, **overrides) -> str:
    now = int(time.time())
    claims = {
        "aud": ids.PORTAL_TOKEN_AUDIENCE,
        "cid": conversation,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 120,
        "auth_time": now - 300,
        "acr": "STORK-QAA-Level-3",
        "sub": "bPK2-portal",
        "given_name": "Erika",
        "family_name": "Mustermann",
        "birthdate": "1964-08-12",
        "street_address": "Heidestraße 17",
        "postal_code": "51147",
        "locality": "Köln",
    }
    claims.update(overrides)
    return jwt.encode(claims, key, algorithm="ES256")


def test_portal_token_hands_over_the_login(portal_key):
    conversation = conv()
    token = portal_token(portal_key, conversation)
    ident = ids.accept_portal_token(conversation, token)
    assert (ident.level, ident.source, ident.subject) == ("substantiell", "portal", "bPK2-portal")
    assert ids.current_identity(conversation).attributes["city"] == "Köln"
    with pytest.raises(ids.LoginRejected):  # single use
        ids.accept_portal_token(conversation, token)


@pytest.mark.parametrize(
    "overrides",
    [
        {"cid": "another-conversation"},
        {"aud": "someone-else"},
        {"exp": int(time.time()) - 1},
        {"exp": int(time.time()) + 3600},  # too long-lived
        {"acr": "unbekannt"},
        {"auth_time": int(time.time()) - 3 * 3600},  # portal session older than the limit
    ],
)
def test_portal_token_refused(portal_key, overrides):
    conversation = conv()
    with pytest.raises(ids.LoginRejected):
        ids.accept_portal_token(conversation, portal_token(portal_key, conversation, **overrides))
    assert ids.current_identity(conversation) is None


def test_portal_token_signed_by_another_key_is_refused(portal_key):
    conversation = conv()
    with pytest.raises(ids.LoginRejected):
        ids.accept_portal_token(conversation, portal_token(ec.generate_private_key(ec.SECP256R1()), conversation))


# --- actions with tracker fixtures ------------------------------------------------------------


def tracker(conversation: str, slots: dict) -> Tracker:
    all_slots = {"procedure": None, "awaiting": None, "login_prefill": None, "requested_slot": None}
    for f in default_catalogue()["meldebescheinigung"].fields:
        all_slots[f.name] = None
    all_slots.update(slots)
    return Tracker(
        conversation,
        all_slots,
        {"text": "", "intent": {"name": "affirm"}, "entities": []},
        [{"event": "user", "timestamp": time.time(), "text": "ja"}],
        False,
        None,
        {},
        "action_listen",
    )


@pytest.fixture
def enforced(monkeypatch):
    monkeypatch.setenv("BA_LOGIN_REQUIRED", "1")


def texts(dispatcher) -> str:
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


def test_form_waits_for_login_with_a_ticket_button(enforced):
    proc = default_catalogue()["meldebescheinigung"]
    conversation, dispatcher = conv(), CollectingDispatcher()
    events = login.before_form(dispatcher, tracker(conversation, {"procedure": proc.id}), proc)
    assert {"event": "slot", "name": "awaiting", "value": "login", "timestamp": None} in events
    button = dispatcher.messages[0]["buttons"][0]
    assert f"/login/start/{conversation}?ticket=" in button["payload"]
    assert "Vertrauensniveau substantiell" in texts(dispatcher) and "Passwort" in texts(dispatcher)


def test_too_low_level_offers_login_at_the_needed_level(enforced):
    proc = default_catalogue()["meldebescheinigung"]
    conversation, dispatcher = conv(), CollectingDispatcher()
    store(conversation, "basisregistriert", time.time())
    login.before_form(dispatcher, tracker(conversation, {"procedure": proc.id}), proc)
    assert "Basisregistrierung" in texts(dispatcher) and "substantiell nötig" in texts(dispatcher)
    claims = jwt.decode(
        dispatcher.messages[0]["buttons"][0]["payload"].split("ticket=")[1], options={"verify_signature": False}
    )
    assert claims["lvl"] == "substantiell"


def test_prefill_only_after_consent(enforced):
    proc = default_catalogue()["meldebescheinigung"]
    conversation = conv()
    store(conversation, "substantiell", time.time())
    dispatcher = CollectingDispatcher()
    events = login.before_form(dispatcher, tracker(conversation, {"procedure": proc.id}), proc)
    assert login.PREFILL_QUESTION in texts(dispatcher)
    assert events[0]["value"] == "prefill" and events[-1] == {
        "event": "followup",
        "name": "action_listen",
        "timestamp": None,
    }
    # Without consent: nothing from the account.
    declined = login.prefill_events(tracker(conversation, {"login_prefill": "declined"}), proc)
    assert [e for e in declined if e["name"] != "login_prefill"] == []
    accepted = login.prefill_events(tracker(conversation, {"login_prefill": "accepted"}), proc)
    values = {e["name"]: e["value"] for e in accepted}
    assert values["vorname"] == "Erika" and values["geburtsdatum"] == "1964-08-12"
    assert values["plz"] == "51147" and values["login_prefill"] is None
    assert "art_meldebescheinigung" not in values


def test_slots_cannot_log_anyone_in(enforced):
    """Identity comes only from the server-side store, whatever the slots say."""
    proc = default_catalogue()["meldebescheinigung"]
    conversation, dispatcher = conv(), CollectingDispatcher()
    t = tracker(conversation, {"procedure": proc.id, "login_prefill": "accepted", "vorname": "Mallory"})
    assert login.before_form(dispatcher, t, proc) is not None
    assert [e for e in login.prefill_events(t, proc) if e["name"] != "login_prefill"] == []

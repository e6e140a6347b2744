"""Outages of the stores, end to end (issue 18): the whole stack on free ports with the tracker
store on a private PostgreSQL, the lock store on a private Redis and the submission outbox on a
second private PostgreSQL (tests/support/services.py), chatting over the REST channel and the
web chat's socket (whose socket.io fan-out, revocations and rate limits are on the same Redis).
Each test stops one server in the middle of a form and starts it again:

* the citizen's answers are never read against an empty conversation ("nicht verstanden"), the
  assistant says there is a technical problem and asks to send the message again;
* afterwards the conversation continues at the same field, and the tracker store holds each
  answer exactly once, in order;
* an application confirmed while the outbox is down is not promised; "Ja" afterwards sends it,
  and it lands exactly once.

Only the named server is stopped; the machine's own PostgreSQL and Redis are never touched.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request

import pytest
import sqlalchemy as sa
from support import services
from support.chat import RestChat, WebChat
from support.databases import user_texts, user_texts_after
from support.forms import CASE_NUMBER, MELDEBESCHEINIGUNG_DIALOGUE, fill_in_chat, step
from support.stacks import running_stack

from rasa_runtime.channels.redis_guard import RETRY_AFTER_S
from rasa_runtime.outage import OUTAGE_TEXT

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(services.missing() is not None, reason=services.missing() or "")]

METRICS_TOKEN = secrets.token_urlsafe(24)
NOTICE = OUTAGE_TEXT.split(".")[0]  # "Entschuldigung, bei uns gibt es gerade eine technische Störung"


@pytest.fixture(scope="module")
def servers():
    tracker_db, outbox_db, redis = services.PrivatePostgres(), services.PrivatePostgres(), services.PrivateRedis()
    try:
        tracker_db.init()
        outbox_db.init()
        redis.start()
        yield tracker_db, outbox_db, redis
    finally:
        for server in (tracker_db, outbox_db, redis):
            server.close()


@pytest.fixture(scope="module")
def stack(servers, tmp_path_factory):
    tracker_db, outbox_db, redis = servers
    with running_stack(
        tmp_path_factory.mktemp("outage-stack"),
        tracker_store_url=tracker_db.url,
        lock_store_url=redis.url,
        metrics_token=METRICS_TOKEN,
        env={
            "OUTBOX_DATABASE_URL": outbox_db.url,
            "SUBMISSION_RETRY_MAX_S": "2",
            "BA_LOG_FORMAT": "json",
            # The web chat's socket.io fan-out, revocations and rate limits: the lock store's Redis.
            "WEBCHAT_REDIS_URL": redis.url,
        },
    ) as stack:
        yield stack


def typed() -> list[str]:
    return [text for text, _ in MELDEBESCHEINIGUNG_DIALOGUE]


def assert_outage_notice(reply: str) -> None:
    assert NOTICE in reply and "noch einmal" in reply, reply
    assert "nicht verstanden" not in reply, reply


def test_tracker_store_outage_in_a_form_asks_again_and_loses_nothing(stack, servers):
    tracker_db = servers[0]
    chat = RestChat(stack.settings, sender=f"pg-{time.time_ns()}")
    fill_in_chat(chat.say_text, stop=step("12.08.1964"))  # the assistant asks for the birth date

    tracker_db.stop()
    try:
        # The report: birth date and street were "nicht verstanden" and lost.
        assert_outage_notice(chat.say_text("12.08.1964"))
        assert_outage_notice(chat.say_text("Marienplatz 8"))
    finally:
        tracker_db.start()

    # The same field is still open: the birth date is taken for it, then the street.
    summary = fill_in_chat(chat.say_text, start=step("12.08.1964"))
    for shown in ("Erika", "Mustermann", "12.08.1964", "Marienplatz 8"):
        assert shown in summary
    # Every answer once, in order; the turns during the outage left no trace.
    assert user_texts(tracker_db.url, chat.conversation_id) == typed()


def test_lock_store_outage_in_a_form_asks_again_and_loses_nothing(stack, servers):
    tracker_db, _, redis = servers
    chat = RestChat(stack.settings, sender=f"redis-{time.time_ns()}")
    fill_in_chat(chat.say_text, stop=step("Marienplatz 8"))

    redis.stop()
    try:
        assert_outage_notice(chat.say_text("Marienplatz 8"))
    finally:
        redis.start()

    summary = fill_in_chat(chat.say_text, start=step("Marienplatz 8"))
    assert "Marienplatz 8" in summary and "80331" in summary
    assert user_texts(tracker_db.url, chat.conversation_id) == typed()


def test_web_chat_redis_outage_in_a_form_asks_again_and_loses_nothing(stack, servers):
    """The web chat's Redis (socket.io fan-out, revocations, rate limit, and here also the lock
    store) stops while the form asks for the street: the citizen's socket gets the notice, not
    silence and not "nicht verstanden"; afterwards the same socket continues at the street."""
    tracker_db, _, redis = servers
    chat = WebChat(stack)
    try:
        fill_in_chat(chat.say_text, stop=step("Marienplatz 8"))

        redis.stop()
        try:
            assert_outage_notice(chat.say_text("Marienplatz 8"))
            assert_outage_notice(chat.say_text("Marienplatz 8"))  # sent again too early: the same
        finally:
            redis.start()

        summary = fill_in_chat(chat.say_text, start=step("Marienplatz 8"))
        for shown in ("Erika", "Mustermann", "12.08.1964", "Marienplatz 8", "80331"):
            assert shown in summary
        assert user_texts_after(tracker_db.url, chat.sender, len(typed())) == typed()
    finally:
        chat.close()


def test_paused_redis_gives_the_notice_over_rest_and_web_chat_instead_of_a_hang(stack, servers):
    """Redis hangs (SIGSTOP) instead of refusing connections while the form asks for the street:
    the REST channel's rate limit, the web chat's revocations, rate limit and fan-out and the lock
    store each give up after 3 s, so both citizens get the notice instead of waiting for ever
    (the clients' timeouts below only catch a hang); afterwards both continue at the street."""
    tracker_db, _, redis = servers
    rest = RestChat(stack.settings, sender=f"paused-{time.time_ns()}", timeout=60)
    web = WebChat(stack)
    try:
        fill_in_chat(rest.say_text, stop=step("Marienplatz 8"))
        fill_in_chat(web.say_text, stop=step("Marienplatz 8"))

        redis.pause()
        try:
            assert_outage_notice(rest.say_text("Marienplatz 8"))
            assert_outage_notice(web.say_text("Marienplatz 8"))
        finally:
            redis.resume()
        # After a timeout the lock store skips Redis for RETRY_AFTER_S (rasa_runtime/lock_store.py);
        # a message inside that pause gets the notice again, like the ones above.
        time.sleep(RETRY_AFTER_S)

        for chat in (rest, web):
            summary = fill_in_chat(chat.say_text, start=step("Marienplatz 8"))
            assert "Marienplatz 8" in summary and "80331" in summary
        assert user_texts(tracker_db.url, rest.conversation_id) == typed()
        assert user_texts_after(tracker_db.url, web.sender, len(typed())) == typed()
    finally:
        web.close()


def test_outbox_outage_at_confirmation_promises_nothing_and_lands_once(stack, servers):
    _, outbox_db, _ = servers
    chat = RestChat(stack.settings, sender=f"outbox-{time.time_ns()}")
    fill_in_chat(chat.say_text)  # the summary

    outbox_db.stop()
    try:
        reply = chat.say_text("Ja, absenden")
        assert "nicht speichern" in reply and "noch einmal versuchen" in reply, reply
        assert not CASE_NUMBER.search(reply)
    finally:
        outbox_db.start()

    reply = chat.say_text("Ja")
    assert "Ihr Antrag „Meldebescheinigung“ ist eingegangen" in reply and CASE_NUMBER.search(reply), reply
    engine = sa.create_engine(outbox_db.url, future=True)
    try:
        with engine.connect() as conn:
            count = conn.execute(
                sa.text("SELECT count(*) FROM submission_outbox WHERE conversation_id = :c"),
                {"c": chat.conversation_id},
            ).scalar_one()
    finally:
        engine.dispose()
    assert count == 1


def scrape(url: str, token: str | None = METRICS_TOKEN) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as resp:
        return resp.read().decode()


def value(text: str, sample: str) -> float:
    """The value of one sample line (``name{labels}``) of a Prometheus text exposition, 0 if absent."""
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    return 0.0


def test_metrics_count_what_happened_and_hold_no_personal_data(stack):
    """Runs after the outage tests of this module (pytest keeps the file's order)."""
    s = stack.settings
    rasa = scrape(f"{s.rasa_url}/webhooks/metrics/")
    assert value(rasa, 'ba_store_unavailable_total{store="tracker_store"}') >= 2
    assert value(rasa, 'ba_store_unavailable_total{store="lock_store"}') >= 1
    assert value(rasa, 'ba_messages_total{channel="rest",outcome="store_unavailable"}') >= 3
    assert value(rasa, 'ba_messages_total{channel="rest",outcome="ok"}') >= 25
    assert value(rasa, 'ba_message_seconds_count{channel="rest"}') >= 28
    assert value(rasa, 'ba_nlu_messages_total{result="intent"}') >= 25

    actions = scrape(f"http://127.0.0.1:{s.action_port}/metrics")
    assert value(actions, 'ba_discovery_outcomes_total{outcome="answer"}') >= 3
    assert value(actions, 'ba_forms_total{outcome="completed",procedure="meldebescheinigung"}') >= 1
    assert value(actions, 'ba_delivery_attempts_total{result="delivered"}') >= 1

    for text in (rasa, actions):
        for personal in ("Erika", "Mustermann", "Marienplatz", "rest-", "12.08.1964"):
            assert personal not in text

    # Without the token: refused, on every process.
    for url in (
        f"{s.rasa_url}/webhooks/metrics/",
        f"http://127.0.0.1:{s.action_port}/metrics",
        f"{s.portal_url}/metrics",
    ):
        with pytest.raises(urllib.error.HTTPError) as refused:
            scrape(url, token=None)
        assert refused.value.code == 401
        with pytest.raises(urllib.error.HTTPError) as refused:
            scrape(url, token="falsch")
        assert refused.value.code == 401
    assert "# TYPE ba_outbox_depth gauge" in scrape(f"{s.portal_url}/metrics")


def json_lines(path) -> list[dict]:
    entries = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue
    return entries


def test_request_id_follows_the_confirmation_from_rasa_to_the_portal_backend(stack):
    """The submission of test_outbox_outage_…: its request id in the portal backend's JSON log line
    is the one the action server and Rasa logged for that message; no personal data in the lines."""
    portal = json_lines(stack.service("portal-backend").log_path)
    created = [e for e in portal if e["message"].startswith("application created")]
    assert created and all(e["request_id"] for e in created), portal[-5:]
    request_id = created[-1]["request_id"]
    actions = json_lines(stack.service("action-server").log_path)
    assert any(e["request_id"] == request_id and "application submitted" in e["message"] for e in actions)
    rasa = json_lines(stack.service("rasa").log_path)
    assert any(e["request_id"] == request_id and e["message"].startswith("message handled") for e in rasa)
    for entry in (*portal, *actions, *rasa):
        for personal in ("Erika", "Mustermann", "Marienplatz", "12.08.1964", "rest-outbox-"):
            assert personal not in entry["message"]

"""A page reload during a Redis outage, in Chromium (issue 18). The stack is set up as in
production: the tracker store on PostgreSQL, the lock store and the web chat's socket.io fan-out,
revocations and rate limit on one Redis (private servers, tests/support/services.py). The
citizen is in a form when Redis goes down, reloads the page, sees the conversation again, gets
the honest notice for the answer that could not be processed, and continues at the same field
when Redis is back, in the same conversation, with each answer stored once."""

from __future__ import annotations

import time

import jwt
import pytest
from playwright.sync_api import expect
from support import services
from support.databases import user_texts_after
from support.stacks import free_port, start_stack

from rasa_runtime.channels.redis_guard import RETRY_AFTER_S
from rasa_runtime.outage import OUTAGE_TEXT

from .conftest import Widget, _DemoServer

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(services.missing() is not None, reason=services.missing() or "")]

NOTICE = OUTAGE_TEXT.split(".")[0]  # "Entschuldigung, bei uns gibt es gerade eine technische Störung"


@pytest.fixture(scope="module")
def outage_stack(tmp_path_factory):
    tracker_db, redis = services.PrivatePostgres(), services.PrivateRedis()
    stack = demo = None
    try:
        tracker_db.init()
        redis.start()
        demo_port = free_port()
        demo_url = f"http://127.0.0.1:{demo_port}"
        stack = start_stack(
            tmp_path_factory.mktemp("redis-outage-browser"),
            tracker_store_url=tracker_db.url,
            lock_store_url=redis.url,
            env={"WEBCHAT_REDIS_URL": redis.url},
            cors_origins=(demo_url,),
            demo_port=demo_port,
        )
        demo = _DemoServer(stack.settings)
        demo.start()
        assert demo.ready.wait(15), "Demo-Seite startet nicht"
        yield stack, tracker_db, redis
    finally:
        if demo is not None and demo.is_alive():
            demo.stop()
        if stack is not None:
            stack.stop()
        tracker_db.close()
        redis.close()


@pytest.mark.parametrize("outage", ["stopped", "paused"])
def test_reload_while_redis_is_down_gives_the_notice_and_continues_after(browser, outage_stack, outage):
    """``stopped``: Redis refuses connections; ``paused`` (SIGSTOP): it accepts them and never
    answers, so every wait for it must end by itself."""
    stack, tracker_db, redis = outage_stack
    down, up = (redis.stop, redis.start) if outage == "stopped" else (redis.pause, redis.resume)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="de-DE")
    context.set_default_timeout(20_000)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(stack.settings.demo_url + "/")
        widget = Widget(page).open()
        widget.say("Ich brauche eine Meldebescheinigung", "jetzt hier im Chat beantragen")
        widget.choose("Ja", "Schritt 1 von 8")
        widget.say("Erika", "Familienname")
        widget.say("Mustermann", "geboren")
        widget.say("12.08.1964", "Straße")
        token = widget.token()
        before = widget.bot.count()

        down()
        try:
            page.reload()
            # The conversation is back (from the tracker store), the street question last.
            expect(widget.dialog).to_be_visible()
            expect(widget.bot).to_have_count(before)
            expect(widget.bot.last).to_contain_text("Straße")
            assert widget.token() == token
            # Redis (lock store) is down: the honest notice, not "nicht verstanden", not silence.
            notice = widget.say("Marienplatz 8", NOTICE)
            expect(notice).to_contain_text("noch einmal")
            expect(page.locator(".ba-msg.bot", has_text="nicht verstanden")).to_have_count(0)
        finally:
            up()
        if outage == "paused":
            # After a timeout the lock store skips Redis for RETRY_AFTER_S (rasa_runtime/lock_store.py);
            # the street sent inside that pause would get the notice again.
            time.sleep(RETRY_AFTER_S)

        # Redis is back: the same conversation continues at the street.
        widget.say("Marienplatz 8", "Postleitzahl")
        widget.say("80331", "Ort")
        assert widget.token() == token
        secret = (stack.settings.var_dir / "secret.key").read_text().strip().encode()
        conversation_id = jwt.decode(token, secret, algorithms=["HS256"], audience="webchat-session")["sub"]
        # Each answer once and in order; the one sent during the outage left no trace ("Ja" was a
        # button: its payload is stored, not the word).
        texts = user_texts_after(tracker_db.url, conversation_id, 7)
        assert texts[0] == "Ich brauche eine Meldebescheinigung" and len(texts) == 7, texts
        assert texts[2:] == ["Erika", "Mustermann", "12.08.1964", "Marienplatz 8", "80331"], texts
        assert not errors, errors
    finally:
        context.close()

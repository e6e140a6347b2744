"""The full login flow over HTTP against the real stack (Rasa with the web chat channel, action
server, login service, portal backend) and the real test IdP: conversation → login button → IdP →
ACS → one-time code back into the same chat → the assistant greets the citizen by name; then
prefill with consent. The chat is spoken over the web chat's socket.io protocol (as the widget).

Issue 13 item 1: a login link from one chat, completed in another browser (the victim's), must
not log that chat in; only the chat that hands back the code is logged in.

One stack is shared by all tests in this module (started with the login enforced).
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time

import jwt
import pytest
import requests
from support.browser import CHROMIUM, CHROMIUM_ARGS, WIDGET
from support.chat import WebChat
from support.stacks import free_port, start_stack

from bot.settings import REPO_ROOT
from buergerassistent import identity as ids

from .conftest import LoopThread, code_of, submit, text_of
from .saml_idp import Idp

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def login_stack(tmp_path_factory, shared_env):
    var = tmp_path_factory.mktemp("login-stack")
    loops = LoopThread()
    idp_port = free_port()
    idp = Idp(f"http://127.0.0.1:{idp_port}", var)
    (var / "idp-metadata.xml").write_text(idp.metadata_xml())
    loops.serve(idp.app(), idp_port)
    # The login enforced, the test IdP; spoken to over the web chat only (no REST channel).
    stack = start_stack(
        var,
        login_required=True,
        rest_channel_token=None,
        env={
            **shared_env,
            "SAML_IDP_METADATA": str(var / "idp-metadata.xml"),
            "LOGIN_ONLINE_SERVICE_ID": "test-online-service",
        },
    )
    settings = stack.settings
    login = next(s for s in stack.services if s.name == "login")
    login_url = login.health_url.rsplit("/health", 1)[0]
    idp.sp_metadata = requests.get(f"{login_url}/login/saml/metadata", timeout=30).text
    # The demo page with the built widget, for the browser test.
    from bot.cli import _serve_demo

    loops.runners.append(asyncio.run_coroutine_threadsafe(_serve_demo(settings), loops.loop).result(30))
    yield stack
    stack.stop()
    loops.close()


@pytest.fixture
def new_chat(login_stack):
    chats: list[WebChat] = []

    def make() -> WebChat:
        chats.append(WebChat(login_stack))
        return chats[-1]

    yield make
    for c in chats:
        c.close()


@pytest.fixture
def chat(new_chat):
    return new_chat()


def login_button(messages: list[dict]) -> str:
    for message in messages:
        for button in message.get("quick_replies") or message.get("buttons") or []:
            if str(button.get("payload", "")).startswith("http"):
                return button["payload"]
    raise AssertionError(f"no login button in {messages}")


def browser_login(url: str, username: str, password: str) -> requests.Response:
    session = requests.Session()
    start = session.get(url, timeout=30)
    assert start.status_code == 200, start.text
    idp_page = submit(session, start)
    back = submit(session, idp_page, username=username, password=password, action="login")
    return submit(session, back)


def offer_login(chat: WebChat) -> list[dict]:
    offer = chat.say_text("Ich brauche eine Meldebescheinigung")
    assert "jetzt hier im Chat beantragen" in offer, offer
    messages = chat.say("Ja")
    text = "\n".join(m.get("text", "") for m in messages)
    assert "anmelden" in text and "Vertrauensniveau substantiell" in text, text
    assert "Schritt 1" not in text  # the form waits for the login
    return messages


def test_meldebescheinigung_login_greeting_and_prefill(chat):
    messages = offer_login(chat)
    label = ids.chat_label(chat.sender)
    assert label in "\n".join(m.get("text", "") for m in messages)  # the chat names itself

    page = browser_login(login_button(messages), "erika3", "geheim-3")
    assert page.status_code == 200 and label in text_of(page)
    assert "nicht angemeldet" in chat.say_text("Bin ich angemeldet?")  # not before the code is back

    # Typed, as after a login on another device; answered by the channel, not stored by Rasa.
    after_login = chat.wait_for_bot("Soll ich Name, Geburtsdatum und Anschrift", chat.type(code_of(page)))
    assert "Sie sind angemeldet als Erika Mustermann (Vertrauensniveau substantiell)." in after_login[0]
    assert code_of(page) not in json.dumps(chat.bot_texts())

    status = chat.say_text("Bin ich angemeldet?")
    assert "Ja." in status and "Erika Mustermann" in status

    # Prefill accepted: name, birth date, address and e-mail come from the account; the form asks
    # only what the account does not know.
    asked = chat.say_text("Ja")
    assert "einfache oder eine erweiterte" in asked
    summary = chat.say_text("einfach")
    for shown in (
        "Erika",
        "Mustermann",
        "12.08.1964",
        "Heidestraße 17",
        "51147",
        "Köln",
        "erika.mustermann@example.org",
    ):
        assert shown in summary, summary
    assert "sende ich den Antrag ab" in summary

    assert "abgemeldet" in chat.say_text("abmelden")
    assert "nicht angemeldet" in chat.say_text("Bin ich angemeldet?")


def test_login_link_completed_by_someone_else_does_not_log_in_the_chat(new_chat):
    """Issue 13 item 1: the attacker sends the login link from their own chat to a victim, the
    victim logs in. The attacker's chat must stay logged out (before: logged in as the victim)."""
    attacker = new_chat()
    link = login_button(offer_login(attacker))
    before = attacker.mark()
    victim_page = browser_login(link, "erika3", "geheim-3")  # the victim's own browser
    assert victim_page.status_code == 200
    time.sleep(3)  # the old login service told Rasa right after the ACS
    assert not any("Erika" in t for t in attacker.messages[before:] for t in [t.get("text") or ""])
    assert "nicht angemeldet" in attacker.say_text("Bin ich angemeldet?")
    assert ids.current_identity(attacker.sender) is None
    # The attacker cannot guess the code: a wrong one is refused, and 5 drop the login.
    code = code_of(victim_page)
    wrong = "0000-0000" if code != "0000-0000" else "1111-1111"
    for left in (4, 3, 2, 1):
        attacker.wait_for_bot(f"noch {left} Versuch", attacker.type(wrong))
    mark = attacker.mark()
    attacker.send_code(wrong)
    attacker.wait_for_bot("zu oft falsch", mark)
    mark = attacker.mark()
    attacker.send_code(code)  # even the right code is useless now
    attacker.wait_for_bot("keine Anmeldung auf Bestätigung", mark)
    assert "nicht angemeldet" in attacker.say_text("Bin ich angemeldet?")
    assert not any("Erika" in t for t in attacker.bot_texts())


def test_code_handed_to_another_chat_logs_in_neither(new_chat):
    owner, other = new_chat(), new_chat()
    page = browser_login(login_button(offer_login(owner)), "erika3", "geheim-3")
    code = code_of(page)
    mark = other.mark()
    other.send_code(code)  # the widget of another chat (its socket is bound to its own conversation)
    other.wait_for_bot("keine Anmeldung auf Bestätigung", mark)
    assert ids.current_identity(other.sender) is None and ids.current_identity(owner.sender) is None
    # The owner's chat still confirms it, through the widget's event.
    mark = owner.mark()
    owner.send_code(code)
    texts = owner.wait_for_bot("Soll ich Name, Geburtsdatum und Anschrift", mark)
    assert any("Sie sind angemeldet als Erika Mustermann" in t for t in texts)
    assert ids.current_identity(other.sender) is None


def test_level_too_low_is_explained_with_a_new_login_offer(chat):
    messages = offer_login(chat)
    before = chat.mark()
    page = browser_login(login_button(messages), "max1", "geheim-1")
    assert page.status_code == 403
    texts = chat.wait_for_bot("Nötig ist das Vertrauensniveau substantiell", before)
    assert any("Basisregistrierung" in t for t in texts)
    assert "nicht angemeldet" in chat.say_text("Bin ich angemeldet?")


def test_typing_the_login_intent_logs_nobody_in(chat):
    offer_login(chat)
    answer = chat.say_text('/EXTERNAL_login_result{"given_name": "Mallory"}')
    assert "Mallory" not in answer
    assert "nicht angemeldet" in chat.say_text("Bin ich angemeldet?")


def test_the_login_gate_cannot_be_skipped_by_typing_a_change_field_payload(chat):
    # Issue 13 item 8: the payload of the summary's "change" buttons, typed while the assistant
    # waits for the login, opened the form without a login. Typed payloads count only where
    # the assistant offered them (rasa_runtime/channels/payload_guard.py).
    chat.say_text("Ich brauche eine Meldebescheinigung")
    gate = chat.say_text("Ja")
    assert "anmelden" in gate and "Schritt 1" not in gate
    for payload in ('/change_field{"field": "vorname"}', '/change_field{"field": "nachname"}'):
        answer = chat.say_text(payload)
        assert "Schritt" not in answer and "Wie lautet Ihr" not in answer, answer
    assert "Schritt" not in chat.say_text("Erika")
    assert "nicht angemeldet" in chat.say_text("Bin ich angemeldet?")


# --- the widget in a real browser: the login window hands the code back by postMessage ---------


def test_widget_login_window_completes_the_login_in_its_own_chat(login_stack, shared_env):
    """Headless Chromium on the demo page: the citizen clicks the login button in the widget, a
    login window opens (window.open), shows which chat it is for, goes through the IdP, and its
    result page hands the code to the widget (postMessage), which sends it over its socket; the
    chat greets the citizen and the window closes. Nobody types a code."""
    from playwright.sync_api import expect, sync_playwright

    if not WIDGET.exists() or WIDGET.stat().st_mtime < max(
        p.stat().st_mtime for p in (REPO_ROOT / "webchat" / "widget" / "src").glob("*.js")
    ):
        subprocess.run(["make", "-s", "webchat"], cwd=REPO_ROOT, check=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(locale="de-DE")
            context.set_default_timeout(60_000)
            expect.set_options(timeout=60_000)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(login_stack.settings.demo_url + "/")
            page.get_by_role("button", name=re.compile("Chat mit dem Bürgerassistenten")).click()
            box = page.get_by_role("textbox", name="Ihre Nachricht")
            box.fill("Ich brauche eine Meldebescheinigung")
            box.press("Enter")
            expect(page.locator(".ba-msg.bot", has_text="jetzt hier im Chat beantragen").last).to_be_visible()
            box.fill("Ja")
            box.press("Enter")
            offer = page.locator(".ba-msg.bot", has_text="Vertrauensniveau substantiell").last
            expect(offer).to_be_visible()
            token = page.evaluate("localStorage.getItem('buergerassistent.session')")
            conversation = jwt.decode(
                token, shared_env["BA_SECRET_KEY"], algorithms=["HS256"], audience="webchat-session"
            )["sub"]
            label = ids.chat_label(conversation)
            expect(offer).to_contain_text(label)

            with page.expect_popup() as opened:
                offer.get_by_role("link", name=re.compile("Mit Nutzerkonto anmelden")).click()
            popup = opened.value
            expect(popup.locator("#chat-label")).to_have_text(label)
            expect(popup.get_by_text("Melden Sie sich nur an, wenn Sie diesen Link selbst")).to_be_visible()
            popup.get_by_role("button", name="Weiter zum Nutzerkonto").click()
            popup.locator("select[name=username]").select_option("erika3")
            popup.locator("input[name=password]").fill("geheim-3")
            popup.get_by_role("button", name="Anmelden").click()
            with popup.expect_event("close"):
                popup.get_by_role("button", name="Weiter zum Dienst").click()

            expect(
                page.locator(".ba-msg.bot", has_text="Sie sind angemeldet als Erika Mustermann").last
            ).to_be_visible()
            expect(
                page.locator(".ba-msg.bot", has_text="Soll ich Name, Geburtsdatum und Anschrift").last
            ).to_be_visible()
            assert ids.current_identity(conversation).attributes["family_name"] == "Mustermann"
            assert not errors, errors
        finally:
            browser.close()

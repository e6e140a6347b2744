"""Protocol compatibility: the third-party `rasa-webchat` widget (npm) talks to our channel."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from bot.settings import REPO_ROOT

pytestmark = pytest.mark.e2e

BUNDLE = REPO_ROOT / "webchat" / "widget" / "node_modules" / "rasa-webchat" / "lib" / "index.js"


def test_rasa_webchat_completes_an_exchange(context, web_stack):
    page = context.new_page()
    # Served from the demo page's origin (an allowed origin), but only inside this browser.
    page_url = web_stack.demo_url + "/third-party-widget.html"
    config = {"selector": "#webchat", "socketUrl": web_stack.rasa_url, "socketPath": "/socket.io/",
              "title": "Bürgerassistent", "params": {"storage": "local"}}
    html = (
        '<!doctype html><html lang="de"><head><meta charset="utf-8"><title>rasa-webchat</title></head>'
        '<body><div id="webchat"></div><script src="/third-party-widget.js"></script>'
        f"<script>WebChat.default({json.dumps(config)}, null);</script></body></html>"
    )
    page.route(page_url, lambda route: route.fulfill(body=html, content_type="text/html"))
    page.route(web_stack.demo_url + "/third-party-widget.js", lambda route: route.fulfill(path=str(BUNDLE)))
    page.goto(page_url)

    page.locator(".rw-launcher").click()
    page.locator(".rw-new-message").fill("Ich brauche eine Meldebescheinigung")
    page.locator(".rw-new-message").press("Enter")
    expect(page.locator(".rw-response", has_text="jetzt hier im Chat beantragen")).to_be_visible()
    # Our buttons arrive as Rasa quick replies, which rasa-webchat renders and sends back.
    page.locator(".rw-reply", has_text="Ja").first.click()
    expect(page.locator(".rw-response", has_text="Schritt 1 von 8")).to_be_visible()

    # It stored the session id our server issued (a signed token), not one it made up.
    stored = page.evaluate("JSON.parse(localStorage.getItem('chat_session') || '{}').session_id")
    assert web_stack.conversation_id(stored).startswith("wc-")

"""Protocol compatibility: the third-party `rasa-webchat` widget (npm) talks to our channel."""

from __future__ import annotations

import functools
import json
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from bot.settings import REPO_ROOT

pytestmark = pytest.mark.e2e

BUNDLE = REPO_ROOT / "webchat" / "widget" / "node_modules" / "rasa-webchat" / "lib" / "index.js"


@pytest.fixture
def third_party_page(web_stack, tmp_path):
    """A page of another site embedding rasa-webchat, served by a plain local web server (a page
    made up inside the browser would not count as local and may not reach 127.0.0.1)."""
    config = {
        "selector": "#webchat",
        "socketUrl": web_stack.rasa_url,
        "socketPath": "/socket.io/",
        "title": "Bürgerassistent",
        "params": {"storage": "local"},
    }
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="de"><head><meta charset="utf-8"><title>rasa-webchat</title></head>'
        '<body><div id="webchat"></div><script src="rasa-webchat.js"></script>'
        f"<script>WebChat.default({json.dumps(config)}, null);</script></body></html>"
    )
    shutil.copy(BUNDLE, tmp_path / "rasa-webchat.js")

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/index.html"
    server.shutdown()
    server.server_close()


def test_rasa_webchat_completes_an_exchange(context, web_stack, third_party_page):
    page = context.new_page()
    page.goto(third_party_page)

    page.locator(".rw-launcher").click()
    page.locator(".rw-new-message").fill("Hallo")
    page.locator(".rw-new-message").press("Enter")
    expect(page.locator(".rw-response", has_text="Ich bin der Bürgerassistent")).to_be_visible()
    page.locator(".rw-new-message").fill("Ich brauche eine Meldebescheinigung")
    page.locator(".rw-new-message").press("Enter")
    expect(page.locator(".rw-response", has_text="jetzt hier im Chat beantragen")).to_be_visible()
    # Our buttons arrive as Rasa quick replies, which rasa-webchat renders and sends back.
    page.locator(".rw-reply", has_text="Ja").first.click()
    expect(page.locator(".rw-response", has_text="Schritt 1 von 8")).to_be_visible()

    # It keeps the session id our server issued (a signed token), not one it made up.
    stored = page.evaluate("JSON.parse(localStorage.getItem('chat_session') || '{}').session_id")
    assert web_stack.conversation_id(stored).startswith("wc-")

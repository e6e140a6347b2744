"""One real stack for all web chat tests: portal backend, action server, Rasa with the web chat
channel (socket.io rooms in a private Redis), the demo page with the built widget, and Debian's
Chromium driven by Playwright (no browser download)."""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import expect
from support.browser import CHROMIUM, CHROMIUM_ARGS, WIDGET
from support.stacks import free_port, start_stack

from bot.settings import REPO_ROOT, Settings
from bot.stack import Stack

WIDGET_DIR = REPO_ROOT / "webchat" / "widget"
ARTIFACTS = REPO_ROOT / "test-artifacts"
# Lower than the default (30/60), so the rate limit test sends few messages; still above what any
# single test sends in a minute.
RATE_LIMIT = 20


@dataclass
class WebStack:
    stack: Stack
    demo_url: str
    redis_url: str | None
    rate_limit: int
    portal_key: object = None  # the test portal's private key (ES256) for login hand-overs

    @property
    def settings(self) -> Settings:
        return self.stack.settings

    @property
    def rasa_url(self) -> str:
        return self.settings.rasa_url

    def secret_key(self) -> bytes:
        # The key Rasa signs session tokens with (buergerassistent/signing.py, in the stack's var dir).
        return (self.settings.var_dir / "secret.key").read_text().strip().encode()

    def conversation_id(self, token: str) -> str:
        return jwt.decode(token, self.secret_key(), algorithms=["HS256"], audience="webchat-session")["sub"]

    def tracker_rows(self, conversation_id: str) -> int:
        import sqlite3

        with sqlite3.connect(self.settings.var_dir / "tracker.db") as db:
            return db.execute("SELECT count(*) FROM events WHERE sender_id = ?", (conversation_id,)).fetchone()[0]


def _start_redis(port: int) -> subprocess.Popen | None:
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    return None


class _DemoServer(threading.Thread):
    """The demo page server of `python -m bot run`, in a thread with its own event loop."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(daemon=True)
        self.settings = settings
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()

    def run(self) -> None:
        from bot.cli import _serve_demo

        asyncio.set_event_loop(self.loop)
        runner = self.loop.run_until_complete(_serve_demo(self.settings))
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(runner.cleanup())

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.join(timeout=10)


def _ensure_widget() -> None:
    # `make test` builds it first; this covers running pytest directly.
    if not (WIDGET_DIR / "node_modules" / ".package-lock.json").exists() or not WIDGET.exists():
        subprocess.run(["make", "-s", "webchat"], cwd=REPO_ROOT, check=True)


# One stack for all web chat tests, stopped before other packages (e.g. tests/e2e) start theirs.
@pytest.fixture(scope="package")
def web_stack(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} fehlt: `apt-get install chromium` (siehe .ci/apt-packages.txt)")
    _ensure_widget()
    var = tmp_path_factory.mktemp("webchat-var")
    redis_port = free_port()
    redis = _start_redis(redis_port)
    redis_url = f"redis://127.0.0.1:{redis_port}/0" if redis else None
    portal_key = ec.generate_private_key(ec.SECP256R1())
    portal_public = var / "portal-token.pub"
    portal_public.write_bytes(
        portal_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    env = {
        "WEBCHAT_RATE_LIMIT": f"{RATE_LIMIT}/60",
        # The test plays the portal: it signs login hand-overs with this key.
        "BA_PORTAL_TOKEN_PUBLIC_KEY": str(portal_public),
        # The test IdP's host, which the login button of a replica's message opens.
        "BA_LINK_ALLOWED_HOSTS": "id.example.org",
        **({"WEBCHAT_REDIS_URL": redis_url} if redis_url else {}),
    }
    demo_port = free_port()
    demo_url = f"http://127.0.0.1:{demo_port}"
    stack = None
    demo = None
    try:
        # No IdP in this stack: the whole applications are written without login.
        stack = start_stack(var, login_required=False, env=env, cors_origins=(demo_url,), demo_port=demo_port)
        settings = stack.settings
        assert settings.demo_url == demo_url, settings.demo_url
        demo = _DemoServer(settings)
        demo.start()
        assert demo.ready.wait(15), "Demo-Seite startet nicht"
        yield WebStack(stack, settings.demo_url, redis_url, RATE_LIMIT, portal_key)
    finally:
        if demo is not None and demo.is_alive():
            demo.stop()
        if stack is not None:
            stack.stop()
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)


# Answers need the model, the action server and sometimes the portal backend; on a shared,
# busy machine that can take a few seconds.
expect.set_options(timeout=20_000)


# Module scope, not session: while sync Playwright runs, its event loop counts as running in
# this thread, and the asyncio tests of later modules could not start their own.
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    # A fresh browser profile per test: its own localStorage, i.e. its own citizen.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="de-DE")
    context.set_default_timeout(20_000)
    yield context
    context.close()


@pytest.fixture
def page(context, web_stack):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(web_stack.demo_url + "/")
    yield page
    assert not errors, f"JavaScript-Fehler auf der Seite: {errors}"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


class Widget:
    """The chat widget on a page, addressed the way a user perceives it (roles and names)."""

    def __init__(self, page) -> None:
        self.page = page
        self.launcher = page.get_by_role("button", name=re.compile("Chat mit dem Bürgerassistenten"))
        self.dialog = page.get_by_role("dialog", name=re.compile("Bürgerassistent"))
        self.input = page.get_by_role("textbox", name="Ihre Nachricht")
        self.bot = page.locator(".ba-msg.bot:not(.ba-intro)")
        self.user = page.locator(".ba-msg.user")
        self.log = page.locator(".ba-log")

    def open(self) -> Widget:
        self.launcher.click()
        expect(self.dialog).to_be_visible()
        # the dialog slides in for 0.15 s (styles.js, ba-in): measure its box only after that
        self.dialog.evaluate("el => Promise.all(el.getAnimations().map(a => a.finished))")
        return self

    def wait_for_bot(self, text: str, after: int = 0):
        """The last assistant message with ``text`` among those after the first ``after`` ones: a
        reply is waited for among the new messages, never found in an earlier one ("Ort" is also
        in "Antwort"), or the next message is typed before the reply has come."""
        deadline = time.monotonic() + 20
        wanted = " ".join(text.split()).lower()
        while True:
            new = self.page.locator(".ba-msg.bot").all_text_contents()[after:]
            if any(wanted in " ".join(t.split()).lower() for t in new):
                break
            assert time.monotonic() < deadline, f"no new assistant message with {text!r}: {new}"
            self.page.wait_for_timeout(100)
        found = self.page.locator(".ba-msg.bot", has_text=text).last
        expect(found).to_be_visible()
        return found

    def say(self, text: str, reply: str | None = None):
        before = self.page.locator(".ba-msg.bot").count()
        self.input.fill(text)
        self.input.press("Enter")
        if reply is not None:
            return self.wait_for_bot(reply, after=before)
        return None

    def choose(self, title: str, reply: str):
        before = self.page.locator(".ba-msg.bot").count()
        self.page.locator(".ba-msg.bot").last.get_by_role("button", name=title, exact=True).click()
        return self.wait_for_bot(reply, after=before)

    def token(self) -> str | None:
        return self.page.evaluate("localStorage.getItem('buergerassistent.session')")

    def axe_violations(self) -> list[dict]:
        # axe measures colours as rendered: mid fade-in (.15 s) the dialog's text is still
        # translucent and fails the contrast check. Wait until every animation has finished.
        self.page.wait_for_function(
            """() => {
                const root = document.getElementById("buergerassistent-chat")?.shadowRoot;
                const dialog = root?.querySelector(".ba-dialog");
                if (!dialog || dialog.hidden) return true;
                return dialog.getAnimations({subtree: true}).every(a => a.playState === "finished")
                    && getComputedStyle(dialog).opacity === "1";
            }"""
        )
        # Evaluated, not added as a <script> element: the page's Content-Security-Policy allows no
        # inline script (buergerassistent/http_security.py).
        source = (WIDGET_DIR / "node_modules" / "axe-core" / "axe.min.js").read_text()
        self.page.evaluate(f"() => {{\n{source}\n}}")
        return self.page.evaluate(
            """async () => {
                const result = await axe.run(document, {runOnly: {type: "tag",
                    values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}});
                return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => n.target.join(" "))}));
            }"""
        )


@pytest.fixture
def widget(page) -> Widget:
    return Widget(page)


@pytest.fixture
def widget_on():
    """Widget on another page (a second tab)."""
    return Widget

"""Fixtures for the login tests: a real SAML IdP (pysaml2 + xmlsec1), the npm ``oidc-provider``,
the login service in-process, and (for the e2e tests) the whole stack with the login enforced.

Everything binds to 127.0.0.1 on free ports. Nothing is written to ``os.environ`` for longer than
one test, so other test folders' stacks are not affected.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Optional
from urllib.parse import urljoin

import pytest
import requests
from aiohttp import web
from support.keys import secret_key
from support.stacks import free_port

from .saml_idp import Idp

OIDC_DIR = Path(__file__).parent / "oidc_provider"


class LoopThread:
    """aiohttp apps served from one background event loop (the tests talk to them over HTTP)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runners: list[web.AppRunner] = []

    def serve(self, app: web.Application, port: int) -> str:
        async def start():
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            return runner

        self.runners.append(asyncio.run_coroutine_threadsafe(start(), self.loop).result(30))
        return f"http://127.0.0.1:{port}"

    def close(self) -> None:
        for runner in self.runners:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@dataclass
class Form:
    action: str
    fields: dict[str, str]


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), {}))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1].fields[a["name"]] = a.get("value", "")


def form_of(response: requests.Response) -> Form:
    parser = _FormParser()
    parser.feed(response.text)
    assert parser.forms, response.text[:500]
    form = parser.forms[0]
    form.action = urljoin(response.url, form.action)
    return form


def submit(session: requests.Session, response: requests.Response, **extra) -> requests.Response:
    form = form_of(response)
    return session.post(form.action, data={**form.fields, **extra}, timeout=60)


# --- secrets and databases shared by in-process code and the stack ------------------------------


@pytest.fixture(scope="session")
def login_var(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("login-var")


@pytest.fixture(scope="session")
def shared_env(login_var) -> dict[str, str]:
    return {
        "BA_SECRET_KEY": secrets.token_urlsafe(32),
        "BA_IDENTITY_DATABASE_URL": f"sqlite:///{login_var / 'identity.db'}",
    }


@pytest.fixture(autouse=True)
def _shared_env(shared_env, monkeypatch):
    for key, value in shared_env.items():
        monkeypatch.setenv(key, value)
    with secret_key(monkeypatch, shared_env["BA_SECRET_KEY"]):
        yield


# --- the SAML IdP, the Rasa stand-in and the login service, in one background loop ---------------------


@dataclass
class RasaRecorder:
    """Stands in for Rasa's HTTP API in the in-process tests only (the e2e tests use real Rasa):
    records which conversations the login service notified."""

    calls: list[dict] = field(default_factory=list)

    async def trigger(self, request: web.Request) -> web.Response:
        self.calls.append(
            {"conversation": request.match_info["cid"], "body": await request.json(), "query": dict(request.query)}
        )
        return web.json_response({"messages": []})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/conversations/{cid}/trigger_intent", self.trigger)
        return app

    def wait_for(self, conversation: str, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for call in self.calls:
                if call["conversation"] == conversation:
                    return call
            time.sleep(0.05)
        raise AssertionError(f"conversation {conversation} was not notified")


@dataclass
class LoginWorld:
    idp: Idp
    idp_url: str
    login_url: str
    recorder: RasaRecorder
    settings: object
    oidc: Optional[OidcProvider] = None

    def link(self, conversation: str, level: str, lang: str = "de") -> str:
        from buergerassistent.identity import issue_ticket

        return f"{self.login_url}/login/start/{conversation}?ticket={issue_ticket(conversation, level, lang=lang)}"


@dataclass
class OidcProvider:
    issuer: str
    client_id: str
    client_secret: str
    process: subprocess.Popen


def start_oidc_provider(redirect_uri: str, log: Path) -> OidcProvider:
    if not (OIDC_DIR / "node_modules" / "oidc-provider").exists():
        pytest.fail("oidc-provider fehlt: `make test-login-deps` (npm ci in tests/login/oidc_provider)")
    port = free_port()
    client_id, client_secret = "buergerassistent", secrets.token_urlsafe(24)
    env = {
        **os.environ,
        "PORT": str(port),
        "CLIENT_ID": client_id,
        "CLIENT_SECRET": client_secret,
        "REDIRECT_URI": redirect_uri,
    }
    out = log.open("wb")
    process = subprocess.Popen(["node", "provider.mjs"], cwd=OIDC_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2).ok:
                return OidcProvider(issuer, client_id, client_secret, process)
        except requests.ConnectionError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    pytest.fail(f"oidc-provider did not start: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def world(login_var, shared_env):
    """IdP + OIDC provider + login service (in-process) + Rasa recorder."""
    from login_service.app import SP, create_app
    from login_service.keys import make_self_signed
    from login_service.settings import LoginSettings

    loops = LoopThread()
    idp_port, login_port, rasa_port = free_port(), free_port(), free_port()
    idp = Idp(f"http://127.0.0.1:{idp_port}", login_var)
    metadata = login_var / "idp-metadata.xml"
    metadata.write_text(idp.metadata_xml())
    oidc = start_oidc_provider(f"http://127.0.0.1:{login_port}/login/oidc/callback", login_var / "oidc.log")
    make_self_signed("test-sp", login_var / "sp.key", login_var / "sp.crt")
    make_self_signed("test-sp-enc", login_var / "sp-enc.key", login_var / "sp-enc.crt")
    saved = {k: os.environ.get(k) for k in shared_env}
    os.environ.update(shared_env)
    try:
        settings = LoginSettings(
            port=login_port,
            saml_idp_metadata=metadata,
            saml_key=login_var / "sp.key",
            saml_cert=login_var / "sp.crt",
            saml_enc_key=login_var / "sp-enc.key",
            saml_enc_cert=login_var / "sp-enc.crt",
            oidc_issuer=oidc.issuer,
            oidc_client_id=oidc.client_id,
            oidc_client_secret=oidc.client_secret,
            rasa_url=f"http://127.0.0.1:{rasa_port}",
            rasa_api_token="test-token",
        )
        app = create_app(settings)
        idp.sp_metadata = app[SP].metadata_xml()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    recorder = RasaRecorder()
    loops.serve(idp.app(), idp_port)
    loops.serve(recorder.app(), rasa_port)
    login_url = loops.serve(app, login_port)
    yield LoginWorld(idp, f"http://127.0.0.1:{idp_port}", login_url, recorder, settings, oidc)
    loops.close()
    oidc.process.terminate()
    oidc.process.wait(10)


def saml_login(
    world: LoginWorld,
    conversation: str,
    level: str,
    username: str,
    password: str,
    action: str = "login",
    lang: str = "de",
) -> tuple[requests.Session, requests.Response]:
    """Browser: login link → our start page → IdP login page → IdP's auto-post → our ACS."""
    session = requests.Session()
    start = session.get(world.link(conversation, level, lang), timeout=30)
    assert start.status_code == 200, start.text
    idp_page = submit(session, start)
    assert idp_page.status_code == 200, idp_page.text
    back = submit(session, idp_page, username=username, password=password, action=action)
    assert back.status_code == 200, back.text
    return session, submit(session, back)


@contextmanager
def nothing_logged(caplog, personal: tuple[str, ...]):
    """Around a test: every log record at DEBUG and above, none naming ``personal`` data."""
    caplog.set_level(logging.DEBUG)
    yield
    for word in personal:
        assert word not in caplog.text, f"personal data in the log: {word}"


def text_of(response: requests.Response) -> str:
    return re.sub(r"<[^>]+>", " ", response.text)


def code_of(response: requests.Response) -> str:
    """The one-time code the login service's result page shows (``4829-1736``)."""
    match = re.search(r'id="login-code">(\d{4}-\d{4})<', response.text)
    assert match, response.text[:1000]
    return match.group(1)


def confirm(conversation: str, response: requests.Response):
    """What the chat does with the code from the result page (here: the store call the channel
    makes, ``rasa_runtime/channels/login_confirmation.py``). Returns the identity now attached."""
    from buergerassistent import identity as ids

    result = ids.redeem_code(conversation, code_of(response))
    assert result.ok, result
    return result.identity

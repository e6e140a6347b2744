"""Security headers on every page and API we serve (buergerassistent/http_security.py): the demo page
and the widget's assets, the login service, the portal backend.

Attack (issue 13): no Content-Security-Policy, X-Frame-Options/frame-ancestors or nosniff on any
page: the login page could be framed (clickjacking), injected script would run."""

from __future__ import annotations

import re

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.settings import REPO_ROOT, Settings
from bot.stack import free_port


def assert_secure(headers, html: bool = True) -> None:
    csp = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'self'" in csp, csp
    assert headers.get("X-Frame-Options") == "SAMEORIGIN"
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("Referrer-Policy") == "no-referrer"
    if html:
        script = re.search(r"script-src ([^;]+)", csp).group(1)
        assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script and "*" not in script
        assert "object-src 'none'" in csp and "base-uri 'none'" in csp


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path):
    monkeypatch.delenv("BA_FRAME_ANCESTORS", raising=False)
    monkeypatch.setenv("BA_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("BA_SECRET_KEY", "unit-test-key-" + "x" * 32)


async def test_demo_page_and_widget_assets():
    from bot.cli import _serve_demo

    settings = Settings(demo_port=free_port(), rasa_port=free_port())
    runner = await _serve_demo(settings)
    try:
        async with aiohttp.ClientSession() as session:
            for path in ("/", "/demo.css", "/widget/buergerassistent-chat.js", "/nothing-here"):
                async with session.get(settings.demo_url + path) as resp:
                    assert_secure(resp.headers)
                    if path == "/":
                        page = await resp.text()
                        csp = resp.headers["Content-Security-Policy"]
        # The page has no inline script or style, and may reach the chat server (socket.io).
        assert not re.search(r"<script(?![^>]*\bsrc=)", page) and "<style" not in page
        assert not re.search(r"\son[a-z]+\s*=", page) and "style=" not in page
        assert f"connect-src 'self' {settings.rasa_url} ws://{settings.rasa_url[7:]}" in csp
    finally:
        await runner.cleanup()


def test_widget_source_uses_no_inline_handlers_or_eval():
    source = "\n".join(p.read_text() for p in (REPO_ROOT / "webchat" / "widget" / "src").glob("*.js"))
    assert "innerHTML" not in source and "eval(" not in source and "new Function" not in source
    assert not re.search(r"setAttribute\(\s*[\"']on", source)


async def test_login_service_pages():
    from login_service.app import RESULT_SCRIPT, create_app
    from login_service.settings import LoginSettings

    app = create_app(LoginSettings(port=free_port(), rasa_url="http://127.0.0.1:1", rasa_api_token="t"))
    async with TestClient(TestServer(app)) as client:
        for path in ("/health", "/login/start/wc-1?ticket=forged", "/nothing-here", RESULT_SCRIPT):
            resp = await client.get(path)
            assert_secure(resp.headers)
            # The login window keeps its opener (the chat) to hand back the login code.
            assert "Cross-Origin-Opener-Policy" not in resp.headers
        resp = await client.get("/login/start/wc-1?ticket=forged")
        assert "<script>" not in await resp.text()


async def test_portal_backend_api_and_receipts(tmp_path):
    from portal_backend.app import create_app

    app = create_app(f"sqlite:///{tmp_path / 'portal.db'}")
    async with TestClient(TestServer(app)) as client:
        for path in ("/health", "/openapi.yaml", "/api/v1/applications/BA-2026-AAAAAAAA", "/api/v1/receipts/forged"):
            resp = await client.get(path)
            assert_secure(resp.headers)


def test_frame_ancestors_come_from_the_setting(monkeypatch):
    from aiohttp import web

    from buergerassistent.http_security import apply_headers, content_security_policy

    monkeypatch.setenv("BA_FRAME_ANCESTORS", "'self' https://www.portal.example")
    response = web.Response(text="x", content_type="text/html")
    apply_headers(response, content_security_policy())
    assert "frame-ancestors 'self' https://www.portal.example" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers  # it cannot name another origin
    monkeypatch.setenv("BA_FRAME_ANCESTORS", "'none'")
    response = web.Response(text="x", content_type="text/html")
    apply_headers(response, content_security_policy())
    assert response.headers["X-Frame-Options"] == "DENY"
    pdf = web.Response(body=b"%PDF", content_type="application/pdf")
    apply_headers(pdf, content_security_policy())
    assert pdf.headers["Content-Security-Policy"] == "frame-ancestors 'none'"

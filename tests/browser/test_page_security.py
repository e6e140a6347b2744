"""The demo page runs under its Content-Security-Policy (buergerassistent/http_security.py) in a real
browser: the widget works without a single violation, and an injected inline script is blocked."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

RECORD = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""


def test_widget_works_under_the_pages_policy_and_inline_script_is_blocked(context, web_stack):
    context.add_init_script(RECORD)
    page = context.new_page()
    response = page.goto(web_stack.demo_url + "/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    launcher = page.get_by_role("button", name="Chat mit dem Bürgerassistenten")
    launcher.click()
    page.get_by_role("textbox", name="Ihre Nachricht").fill("Hallo")
    page.get_by_role("textbox", name="Ihre Nachricht").press("Enter")
    expect(page.locator(".ba-msg.bot", has_text="Bürgerassistent").last).to_be_visible()
    # The page's own style sheet applies (a file, not inline).
    assert page.evaluate("getComputedStyle(document.querySelector('.brand')).fontWeight") == "700"
    assert page.evaluate("window.__csp") == []
    # Script that an injection would place in the page does not run.
    page.evaluate("""() => { const s = document.createElement("script");
        s.textContent = "window.__injected = 1"; document.body.appendChild(s); }""")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__injected") is None
    assert any("script-src" in v for v in page.evaluate("window.__csp"))

"""The staff dashboard (content/dashboard.py) in the real browser (Debian's Chromium via
Playwright) with axe-core, behind its OIDC login against the npm ``oidc-provider`` the login tests
run: a staff account sees the figures of the scripted conversations, an account not on the list is
refused, and a question that found nothing becomes a training example in two clicks."""

from __future__ import annotations

import json
import secrets

import pytest
import requests
from playwright.sync_api import sync_playwright
from support.browser import CHROMIUM, CHROMIUM_ARGS
from support.stacks import free_port

from bot.settings import REPO_ROOT
from buergerassistent.insights import Insights

from .scripted import published_events

AXE = REPO_ROOT / "webchat" / "widget" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    from login.conftest import LoopThread, start_oidc_provider

    from content.dashboard import DashboardConfig, create_app

    var = tmp_path_factory.mktemp("dashboard")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BA_SECRET_KEY", secrets.token_urlsafe(32))
        from buergerassistent.settings import reload_settings

        reload_settings()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        oidc = start_oidc_provider(f"{base}/oidc/callback", var / "oidc.log")
        store = Insights(f"sqlite:///{var / 'insights.db'}")
        for event in published_events():
            store.ingest(event)
        nlu_dir = var / "nlu"
        nlu_dir.mkdir()
        (nlu_dir / "procedures.yml").write_text(
            'version: "3.1"\nnlu:\n- intent: request_procedure\n  examples: |\n    - Ich brauche eine Meldebescheinigung\n',
            encoding="utf-8",
        )
        config = DashboardConfig(
            issuer=oidc.issuer,
            client_id=oidc.client_id,
            client_secret=oidc.client_secret,
            base_url=base,
            staff=frozenset({"max1"}),
            nlu_dir=nlu_dir,
            catalogue_dir=var / "catalogue",
            review_dir=var / "review",
        )
        loops = LoopThread()
        loops.serve(create_app(config, store), port)
        try:
            yield base, config
        finally:
            loops.close()
            oidc.process.terminate()
            oidc.process.wait(10)
        reload_settings()


@pytest.fixture
def browser_page():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="de-DE")
        yield page
        browser.close()


def log_in(page, base: str, username: str, password: str) -> None:
    page.goto(base + "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[value=login]")
    page.wait_for_load_state()


def axe_violations(page) -> list[dict]:
    page.evaluate(f"() => {{\n{AXE.read_text()}\n}}")
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {runOnly: {type: "tag",
                values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" "))}));
        }"""
    )


def test_dashboard_requires_the_staff_login(dashboard):
    base, _ = dashboard
    response = requests.get(base + "/", allow_redirects=False, timeout=10)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    login = requests.get(base + "/login", allow_redirects=False, timeout=10)
    assert "code_challenge=" in login.headers["Location"] and "nonce=" in login.headers["Location"]
    assert requests.post(base + "/review", data={"text": "x"}, timeout=10).status_code == 403


def test_account_not_on_the_staff_list_is_refused(dashboard, browser_page):
    base, _ = dashboard
    log_in(browser_page, base, "erika3", "geheim-3")
    assert "Kein Zugang" in browser_page.content()
    assert "Gespräche" not in browser_page.content()


def test_staff_sees_figures_accessibly_and_adds_an_example_in_two_clicks(dashboard, browser_page):
    base, config = dashboard
    page = browser_page
    log_in(page, base, "max1", "geheim-1")
    page.goto(base + "/?days=365")
    assert page.locator("h1").inner_text() == "Wie der Bürgerassistent hilft"
    figures = page.locator("dl.figures").inner_text()
    assert "Gespräche\n6" in figures and "nichts gefunden\n4" in figures and "1 min 30 s" in figures
    assert page.locator("svg[role=img] title").count() >= 5
    questions = page.locator("ol.nothing li")
    assert "Wie trete ich aus der Kirche aus?" in questions.nth(0).inner_text()
    assert "«Name»" in questions.nth(1).inner_text()  # masked
    violations = axe_violations(page)
    assert violations == [], json.dumps(violations, ensure_ascii=False, indent=1)

    # Click 1: the procedure; click 2: "Als Trainingsbeispiel übernehmen".
    first = questions.nth(0)
    first.locator("select").select_option("meldebescheinigung")
    first.locator("button[value=example]").click()
    page.wait_for_load_state()
    assert "Als Trainingsbeispiel" in page.locator(".notice").inner_text()
    assert "Wie trete ich aus der Kirche aus?" in (config.nlu_dir / "procedures.yml").read_text(encoding="utf-8")
    decisions = (config.review_dir / "decisions.jsonl").read_text(encoding="utf-8")
    assert '"procedure": "meldebescheinigung"' in decisions
    assert axe_violations(page) == []

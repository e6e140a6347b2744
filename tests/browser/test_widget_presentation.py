"""How the web chat shows the important moments (issue 15): the greeting as the assistant with
starter topics, the summary as a table with the confirm button primary, the case number
highlighted with a copy button, long answers read from their beginning. In Chromium against the
real stack, with axe after each step. The same run takes the screenshots for the docs:

    make screenshots      (writes docs/screenshots/*.png)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from support.forms import CASE_NUMBER
from support.portal_auth import fetch_application

from bot.settings import REPO_ROOT
from buergerassistent.starter_topics import starter_topics

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def assert_no_violations(widget, where: str) -> None:
    violations = widget.axe_violations()
    assert violations == [], f"axe-core ({where}): " + json.dumps(violations, ensure_ascii=False, indent=1)


@pytest.fixture
def shots(request, artifacts) -> Path:
    """Where screenshots go: docs/screenshots with `--screenshots` (make screenshots), else the
    test artifacts (so a normal test run never changes the docs)."""
    target = REPO_ROOT / "docs" / "screenshots" if request.config.getoption("--screenshots") else artifacts
    target.mkdir(parents=True, exist_ok=True)
    return target


def shoot(page, path: Path, size: dict) -> None:
    page.set_viewport_size(size)
    page.screenshot(path=str(path))
    # A real picture of the right size, not an empty file.
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000, path
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (size["width"], size["height"]), (path, width, height)


def in_view(locator, container) -> bool:
    a, b = locator.bounding_box(), container.bounding_box()
    return bool(a and b and a["y"] >= b["y"] - 1 and a["y"] < b["y"] + b["height"])


def test_greeting_is_the_assistant_speaking_with_starter_topics(widget, shots):
    page = widget.page
    widget.open()
    intro = page.locator(".ba-msg.bot.ba-intro")
    expect(intro).to_have_count(1)
    # Screen readers hear who speaks: the same label as every answer of the assistant.
    expect(intro.locator(".ba-who")).to_have_text("Assistent:")
    topics = intro.get_by_role("group", name="Häufige Anliegen").get_by_role("button")
    expect(topics).to_have_count(len(starter_topics()))
    for i, topic in enumerate(starter_topics()):
        expect(topics.nth(i)).to_have_text(topic.title)
    assert_no_violations(widget, "Begrüßung mit Themen")
    shoot(page, shots / "webchat-greeting-desktop.png", DESKTOP)
    shoot(page, shots / "webchat-greeting-phone.png", PHONE)

    page.set_viewport_size(DESKTOP)
    topics.first.click()
    # The citizen's side shows the topic's title; the assistant answers its message.
    expect(widget.user.last).to_contain_text(starter_topics()[0].title)
    widget.wait_for_bot("Wohnsitz")
    # Once used, the greeting's buttons are history.
    expect(topics.first).to_be_disabled()


def test_summary_table_primary_confirm_and_case_number_copy(widget, web_stack, shots):
    page = widget.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    widget.open()
    widget.say("Ich brauche eine Meldebescheinigung", "jetzt hier im Chat beantragen")
    widget.choose("Ja", "Schritt 1 von 8")
    for answer, next_question in [
        ("Erika", "Familienname"),
        ("Mustermann", "geboren"),
        ("12.08.1964", "Straße"),
        ("Marienplatz 8", "Postleitzahl"),
        ("80331", "Ort"),
        ("München", "einfache oder eine erweiterte"),
    ]:
        widget.say(answer, next_question)
    widget.choose("Einfach", "E-Mail")
    widget.say("erika.mustermann@example.org", "sende ich den Antrag ab")

    table = page.locator("table.ba-summary").last
    expect(table).to_be_visible()
    expect(table.locator("tr", has_text="Vorname").locator("th")).to_have_text("Vorname")
    expect(table.locator("tr", has_text="Vorname").locator("td")).to_have_text("Erika")
    expect(table.locator("tr", has_text="Postleitzahl").locator("td")).to_have_text("80331")
    confirm = page.get_by_role("button", name="Ja, absenden")
    change = page.get_by_role("button", name="Nein, etwas ändern")
    # The confirm button is the primary one: filled, while the other is outlined.
    assert "ba-primary" in (confirm.get_attribute("class") or "")
    assert confirm.evaluate("b => getComputedStyle(b).backgroundColor") != change.evaluate(
        "b => getComputedStyle(b).backgroundColor"
    )
    # The table's first row is visible when the summary arrives (read from its beginning).
    assert in_view(page.locator(".ba-summary-title").last, widget.log)
    assert_no_violations(widget, "Zusammenfassung")
    shoot(page, shots / "webchat-summary-desktop.png", DESKTOP)
    shoot(page, shots / "webchat-summary-phone.png", PHONE)

    page.set_viewport_size(DESKTOP)
    final = widget.choose("Ja, absenden", "Aktenzeichen lautet")
    number = CASE_NUMBER.search(final.inner_text()).group(1)
    expect(final.locator(".ba-case-number")).to_have_text(number)
    assert fetch_application(web_stack.stack, number)["data"]["vorname"] == "Erika"
    copy = final.get_by_role("button", name=f"Kopieren (Aktenzeichen {number})")
    copy.click()
    expect(final.locator(".ba-copy-text")).to_have_text("Kopiert")
    assert page.evaluate("navigator.clipboard.readText()") == number
    expect(page.locator(".ba-sr[aria-live]")).to_contain_text(f"Aktenzeichen {number} kopiert.")
    assert_no_violations(widget, "Aktenzeichen")
    shoot(page, shots / "webchat-case-number-desktop.png", DESKTOP)
    shoot(page, shots / "webchat-case-number-phone.png", PHONE)


def test_long_answer_is_shown_from_its_beginning(widget):
    page = widget.page
    # A short window: the answer about a procedure is taller than the chat's history area.
    page.set_viewport_size({"width": 390, "height": 520})
    widget.open()
    widget.say("Ich bin umgezogen", "Wohnsitz")
    first_of_turn = page.locator(".ba-msg.user").last.locator("xpath=following-sibling::li[1]")
    expect(first_of_turn).to_be_visible()
    last = widget.bot.last
    turn_height = last.bounding_box()["y"] + last.bounding_box()["height"] - first_of_turn.bounding_box()["y"]
    log_height = widget.log.bounding_box()["height"]
    if turn_height <= log_height:
        pytest.fail(f"Die Antwort ist nicht länger als das Fenster ({turn_height} <= {log_height}); Test prüft nichts")
    # Its first line is in view, not scrolled away to show the end.
    assert in_view(first_of_turn, widget.log), (first_of_turn.bounding_box(), widget.log.bounding_box())
    assert re.search(r"Wohnsitz", first_of_turn.inner_text())

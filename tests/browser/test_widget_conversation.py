"""The widget in Chromium against the real stack: a whole application with buttons, reload,
keyboard-only use, accessibility audit, phone width and zoom."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect
from support.forms import CASE_NUMBER
from support.portal_auth import fetch_application

pytestmark = pytest.mark.e2e


def assert_no_violations(violations: list[dict], where: str) -> None:
    assert violations == [], f"axe-core ({where}): " + json.dumps(violations, ensure_ascii=False, indent=1)


def test_application_with_buttons_survives_reload_and_is_accessible(widget, web_stack, artifacts):
    page = widget.page
    expect(widget.launcher).to_be_visible()
    assert_no_violations(widget.axe_violations(), "geschlossener Launcher")

    widget.open()
    expect(widget.input).to_be_focused()
    assert_no_violations(widget.axe_violations(), "offener Dialog")

    widget.say("Ich brauche eine Meldebescheinigung", "jetzt hier im Chat beantragen")
    # The catalogue text uses **bold**: shown as emphasis, not as asterisks.
    expect(page.locator(".ba-msg.bot strong", has_text="Meldebescheinigung").first).to_be_visible()
    assert_no_violations(widget.axe_violations(), "Gespräch mit Knöpfen")
    page.screenshot(path=str(artifacts / "webchat-desktop.png"))

    widget.choose("Ja", "Schritt 1 von 8")
    # The answered question's buttons cannot be used again.
    expect(page.get_by_role("button", name="Ja", exact=True).first).to_be_disabled()
    widget.say("Erika", "Familienname")
    widget.say("Mustermann", "geboren")
    widget.say("12.08.1964", "Straße")
    widget.say("Marienplatz 8", "Postleitzahl")
    widget.say("80331", "Ort")
    widget.say("München", "einfache oder eine erweiterte")
    widget.choose("Einfach", "E-Mail")
    widget.say("erika.mustermann@example.org", "sende ich den Antrag ab")

    before = widget.bot.count()
    page.reload()
    # Reload: the dialog is open again and the whole conversation is back, buttons usable.
    expect(widget.dialog).to_be_visible()
    expect(widget.bot).to_have_count(before)
    expect(widget.user.first).to_have_text(re.compile("Ich brauche eine Meldebescheinigung"))
    expect(page.locator(".ba-summary tr", has_text="Vorname").locator("td")).to_have_text("Erika")

    final = widget.choose("Ja, absenden", "Aktenzeichen lautet")
    match = CASE_NUMBER.search(final.inner_text())
    assert match, final.inner_text()
    stored = fetch_application(web_stack.stack, match.group(1))
    assert stored["data"]["vorname"] == "Erika" and stored["data"]["plz"] == "80331"

    page.set_viewport_size({"width": 360, "height": 740})
    page.screenshot(path=str(artifacts / "webchat-phone-360.png"))


def test_keyboard_only(widget):
    page = widget.page

    def focused_class() -> str:
        return page.evaluate(
            "() => { let e = document.activeElement; while (e && e.shadowRoot && e.shadowRoot.activeElement)"
            " e = e.shadowRoot.activeElement; return e ? (e.className || e.tagName) : ''; }"
        )

    def focus_is_visible() -> bool:
        return page.evaluate(
            "() => { let e = document.activeElement; while (e.shadowRoot && e.shadowRoot.activeElement)"
            " e = e.shadowRoot.activeElement; const s = getComputedStyle(e);"
            " return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; }"
        )

    page.keyboard.press("Tab")
    assert "ba-launcher" in focused_class()
    assert focus_is_visible()
    page.keyboard.press("Enter")
    expect(widget.dialog).to_be_visible()
    expect(widget.input).to_be_focused()

    page.keyboard.type("Ich brauche eine Meldebescheinigung")
    page.keyboard.press("Enter")
    widget.wait_for_bot("jetzt hier im Chat beantragen")
    # From the input, Shift+Tab walks back into the answer options: "Nein", then "Ja".
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert "ba-option" in focused_class()
    assert focus_is_visible()
    page.keyboard.press("Enter")
    widget.wait_for_bot("Schritt 1 von 8")
    expect(widget.input).to_be_focused()
    page.keyboard.type("abbrechen")
    page.keyboard.press("Enter")
    widget.wait_for_bot("abgebrochen")

    # Escape closes the dialog and gives the focus back to the launcher.
    page.keyboard.press("Escape")
    expect(widget.dialog).to_be_hidden()
    assert "ba-launcher" in focused_class()


@pytest.mark.parametrize(
    "size", [{"width": 360, "height": 640}, {"width": 640, "height": 400}], ids=["phone-360px", "zoom-200pct"]
)
def test_fits_phone_width_and_200_percent_zoom(widget, size):
    # 640x400 CSS pixels is what a 1280x800 window shows at 200 % zoom.
    page = widget.page
    page.set_viewport_size(size)
    widget.open()
    widget.say("Hallo", "Bürgerassistent")
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    for part in (
        widget.dialog,
        widget.input,
        page.get_by_role("button", name="Senden"),
        page.get_by_role("button", name="Chat schließen"),
    ):
        box = part.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= size["width"] + 0.5, part
        assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"] + 0.5, part


def test_english_switch_keeps_the_conversation(widget):
    page = widget.page
    widget.open()
    widget.say("Hallo", "Bürgerassistent")
    page.get_by_role("button", name="Switch to English").click()
    expect(page.get_by_role("textbox", name="Your message")).to_be_visible()
    expect(page.get_by_role("button", name="Delete conversation")).to_be_visible()
    expect(widget.bot.first).to_contain_text("Bürgerassistent")
    page.get_by_role("button", name="Auf Deutsch umschalten").click()
    expect(widget.input).to_be_visible()

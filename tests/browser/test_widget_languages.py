"""The widget follows a language switch typed in words and marks each message with its language
(issue 20), in Chromium against the real stack."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from buergerassistent import translations

pytestmark = pytest.mark.e2e


def test_typed_switch_changes_the_widget_texts_and_marks_english_messages(widget):
    page = widget.page
    widget.open()
    switched = widget.say("English please", translations.message("en", "switched")[:40])
    # The widget's own texts follow the switch, without its language button.
    expect(page.get_by_role("textbox", name="Your message")).to_be_visible()
    expect(page.get_by_role("button", name="Delete conversation")).to_be_visible()
    expect(switched).to_have_attribute("lang", "en")
    # An English form question (a generated response variant) is marked English too.
    page.get_by_role("textbox", name="Your message").fill("I need a certificate of registration")
    page.get_by_role("textbox", name="Your message").press("Enter")
    # The one English service name decides (issue 20): the service is presented, no choice.
    name = translations.english("meldebescheinigung").name
    presented = widget.wait_for_bot(name)
    expect(presented).to_have_attribute("lang", "en")
    offer = widget.wait_for_bot("here in the chat?")
    expect(offer).to_have_attribute("lang", "en")
    offer.get_by_role("button", name="Yes", exact=True).click()
    question = widget.wait_for_bot("Step 1 of 8: What is your first name?")
    expect(question).to_have_attribute("lang", "en")
    # Back to German in words: texts and marks follow.
    page.get_by_role("textbox", name="Your message").fill("auf Deutsch bitte")
    page.get_by_role("textbox", name="Your message").press("Enter")
    german = widget.wait_for_bot(translations.message("de", "switched_form")[:30])
    expect(widget.input).to_be_visible()
    expect(german).to_have_attribute("lang", "de")

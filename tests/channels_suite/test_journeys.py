"""The same scripted journeys on every channel (issue 17): a channel is done when these pass on it.

Each test runs once per registered driver (``conftest.py``: REST, web chat, Telegram against a
Bot API double, Threema against a gateway double; Matrix adds its driver). The journeys check
what the citizen reads, so each channel's rendering (numbered options, plain text) is covered.
"""

from __future__ import annotations

import json
import urllib.request

from support.forms import MELDEBESCHEINIGUNG_DIALOGUE

from channels_suite.drivers import CASE_NUMBER, joined


def test_discovery_with_a_choice(driver):
    replies = driver.say("Ausweis")
    offered = [title for r in replies for title in r.options]
    assert len(offered) >= 2, replies
    chosen = next((t for t in offered if "Reisepass" in t), offered[1])
    answer = joined(driver.choose(chosen))
    assert chosen.split()[0] in answer, answer
    assert "nicht verstanden" not in answer


def test_info_question(driver):
    answer = driver.say_text("Was kostet eine Meldebescheinigung?")
    assert "5 Euro" in answer and "Quelle" in answer, answer


def test_full_form_with_a_correction_submit_and_status(driver):
    for text, expected in MELDEBESCHEINIGUNG_DIALOGUE[:4]:
        answer = driver.say_text(text)
        assert expected in answer, (text, answer)
    answer = driver.say_text("ändere den Vornamen")
    assert "Schritt 1 von 8" in answer, answer
    # back to the question that was open (the date of birth)
    assert "geboren" in driver.say_text("Anna")
    for text, expected in MELDEBESCHEINIGUNG_DIALOGUE[4:]:
        answer = driver.say_text(text)
        assert expected in answer, (text, answer)
    assert "Vorname: Anna" in answer, answer
    final = driver.choose("Ja, absenden")
    text = joined(final)
    found = CASE_NUMBER.search(text)
    assert found, text
    assert any("/receipts/" in link for r in final for link in r.links + r.files) or "/receipts/" in text, final
    if driver.channel in ("telegram", "threema"):
        # Messengers get the receipt PDF itself as a file.
        assert any(r.files for r in final), final
    assert "Stand Ihres Antrags ändert" in text, text  # the consent question
    status = driver.say_text("Wie ist der Stand meines Antrags?")
    assert found.group(1) in status, status


def _set_status(stack, case_number: str, status: str, note: str) -> None:
    """The authority changes the status (reference backend, the authority's token)."""
    request = urllib.request.Request(
        f"{stack.settings.portal_url}/api/v1/applications/{case_number}/status",
        data=json.dumps({"status": status, "note": note}).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {stack.secret('PORTAL_AUTHORITY_TOKEN')}",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        assert resp.status == 200


def test_status_message_after_consent_arrives_once(driver, suite_stack):
    for text, expected in MELDEBESCHEINIGUNG_DIALOGUE:
        assert expected in driver.say_text(text)
    final = joined(driver.choose("Ja, absenden"))
    case_number = CASE_NUMBER.search(final).group(1)
    assert "Sobald sich der Stand" in joined(driver.choose("Ja, bitte"))
    mark = len(driver.received())
    _set_status(suite_stack, case_number, "in_bearbeitung", "Wir prüfen Ihre Angaben.")
    got = driver.wait_for(f"Neuer Stand zu Ihrem Antrag {case_number}", timeout=60, after=mark)
    notice = [r.text for r in got if "Neuer Stand" in r.text]
    assert notice == [
        f"Neuer Stand zu Ihrem Antrag {case_number}: in Bearbeitung. Hinweis der Behörde: Wir prüfen Ihre Angaben."
    ]
    # Exactly once: a few more polling rounds add nothing.
    import time

    time.sleep(4)
    assert sum("Neuer Stand" in r.text for r in driver.received()[mark:]) == 1


def test_cancel(driver):
    driver.say_text("Ich brauche eine Meldebescheinigung")
    assert "Schritt 1 von 8" in driver.say_text("Ja")
    assert "abgebrochen" in driver.say_text("abbrechen")

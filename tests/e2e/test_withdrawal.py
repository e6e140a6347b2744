"""Withdrawal over the REST channel against the real stack: a Sperrmüll pickup request (the
catalogue entry says `withdrawable: true`) is submitted, withdrawn in the chat after a
confirmation, and the portal backend has it as withdrawn."""

from __future__ import annotations

import pytest
from support.forms import CASE_NUMBER, fill_from_examples
from support.portal_auth import fetch_application

from buergerassistent.catalogue import default_catalogue

pytestmark = pytest.mark.e2e


def test_a_sperrmuell_request_is_withdrawn_in_the_chat(chat, stack):
    sperrmuell = default_catalogue()["sperrmuell"]
    assert sperrmuell.withdrawable
    offer = chat.say_text("Ich möchte Sperrmüll abholen lassen")
    assert "jetzt hier im Chat beantragen" in offer, offer
    fill_from_examples(chat.say_text, sperrmuell)
    final = chat.say_text("Ja, absenden")
    match = CASE_NUMBER.search(final)
    assert match, final
    case_number = match.group(1)
    assert fetch_application(stack, case_number)["status"] == "eingegangen"

    question = chat.say_text("Antrag zurückziehen")
    assert f"„{sperrmuell.name}“ ({case_number}) wirklich zurückziehen?" in question, question
    assert fetch_application(stack, case_number)["status"] == "eingegangen"  # only after "Ja"
    done = chat.say_text("Ja")
    assert f"Ihr Antrag {case_number} ist jetzt als zurückgezogen vermerkt." in done, done
    assert fetch_application(stack, case_number)["status"] == "zurueckgezogen"

"""Two needs or one need with its life event (issue 15), in dialect too: a part that only tells
the move behind a parking ban is no second need, whether written "wir ziehen um" or "mia ziang
um"; a need asked for later in the message still counts. Phrasings of our own."""

from __future__ import annotations

import pytest

from buergerassistent.catalogue import default_catalogue
from buergerassistent.conversation_context import separate_needs
from buergerassistent.life_situations import default_life_situations
from buergerassistent.procedure_finder import discovery


def needs(text):
    return separate_needs(text, discovery(), default_catalogue(), situations=default_life_situations())


@pytest.mark.parametrize(
    "text",
    [
        "servus, mia ziang im Mai um und brauchan a Halteverbot für an Lastwagn",
        "mia ziagn um, und mia brauchad a Halteverbot vorm Haus",
        "Wir ziehen bald um und bräuchten ein Halteverbot für den Transporter",
    ],
)
def test_the_move_behind_a_parking_ban_is_no_second_need(text):
    assert needs(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "mia ziang um, i muas mi ummelden und brauch a Halteverbot",
        "Wir ziehen um, brauchen ein Halteverbot und außerdem muss ich mich ummelden",
    ],
)
def test_a_registration_asked_for_after_the_move_is_a_need_of_its_own(text):
    assert set(needs(text)) == {"wohnsitz_anmelden", "halteverbot_umzug"}


@pytest.mark.parametrize(
    "text",
    [
        "Ich hatte ein Zimmer in Augsburg als Nebenwohnsitz, das habe ich aufgegeben. Muss ich es abmelden?",
        "mei Studentenbude in Regensburg war mei Zweitwohnsitz, die is jetzt weg. Muss i die abmelden?",
    ],
)
def test_the_background_told_before_one_request_is_no_second_need(text):
    assert needs(text) == []

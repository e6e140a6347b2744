"""Reactions as answers (``matrix_connector/reactions.py``) and the options' event in the room
store, without processes. The whole path against Synapse: ``test_matrix_conversation.py``."""

from __future__ import annotations

from buergerassistent.messenger_format import Option, render_message
from matrix_connector.reactions import is_choice_key, keycap, match_reaction, reaction_hint
from matrix_connector.store import RoomStore

YES_NO = [Option(1, "Ja", "/affirm"), Option(2, "Nein", "/deny")]
THREE = [Option(1, "Ummelden", "/choose{\"id\":\"a\"}"), Option(2, "Halteverbot", "/choose"), Option(3, "Hund", "h")]


def test_keycap_digits_choose_by_number_as_element_and_other_clients_send_them():
    assert match_reaction("2\ufe0f\u20e3", THREE) == THREE[1]  # 2️⃣ with the variation selector
    assert match_reaction("3\u20e3", THREE) == THREE[2]  # without it
    assert match_reaction(keycap(1), THREE) == THREE[0]
    assert match_reaction("4\ufe0f\u20e3", THREE) is None  # no fourth option
    ten = [Option(n, f"O{n}", f"p{n}") for n in range(1, 12)]
    assert match_reaction("\U0001f51f", ten) == ten[9]


def test_thumbs_mean_yes_and_no_only_where_the_options_are_yes_and_no():
    assert match_reaction("👍", YES_NO) == YES_NO[0]
    assert match_reaction("👎", YES_NO) == YES_NO[1]
    assert match_reaction("👍🏽", YES_NO) == YES_NO[0]  # a skin tone says the same
    assert match_reaction("✅", YES_NO) == YES_NO[0]
    # Titles that start with Ja / Nein count when Rasa's payloads are other ones.
    resume = [Option(1, "Ja, weitermachen", "/choose_x"), Option(2, "Nein", "/other")]
    assert match_reaction("👍", resume) == resume[0] and match_reaction("👎", resume) == resume[1]
    assert match_reaction("👍", THREE) is None
    assert match_reaction("❤️", YES_NO) is None


def test_which_reactions_look_like_a_choice():
    assert is_choice_key("1️⃣") and is_choice_key("👍") and is_choice_key("👎🏻")
    assert not is_choice_key("❤️") and not is_choice_key("🙏") and not is_choice_key("1")


def test_the_options_say_which_reactions_work():
    hint = reaction_hint(YES_NO)
    assert "👍 (Ja)" in hint and "👎 (Nein)" in hint and hint.startswith("Antworten Sie mit der Nummer")
    assert f"{keycap(1)} bis {keycap(3)}" in reaction_hint(THREE)
    rendered = render_message(
        {"text": "Was möchten Sie?", "buttons": [{"title": o.title, "payload": o.payload} for o in THREE]},
        options_hint=reaction_hint,
    )
    assert rendered.plain.splitlines()[-1] == reaction_hint(THREE)
    # Without a channel's hint the text stays as for every messenger.
    plain = render_message({"text": "?", "buttons": [{"title": "Ja", "payload": "/affirm"}]})
    assert plain.plain.splitlines()[-1] == "Antworten Sie mit der Nummer oder dem Text."


def test_room_store_keeps_the_options_event_and_drops_it_with_the_options(tmp_path):
    store = RoomStore(tmp_path / "rooms.db", b"k" * 32)
    store.set_options("!abc:example.de", YES_NO, "$question")
    store.close()
    again = RoomStore(tmp_path / "rooms.db", b"k" * 32)
    assert again.options_event("!abc:example.de") == "$question" and again.options("!abc:example.de") == YES_NO
    again.set_options("!abc:example.de", [], "$ignored")
    assert again.options_event("!abc:example.de") == "" and again.options("!abc:example.de") == []
    assert again.options_event("!unknown:example.de") == ""


def test_a_room_store_from_before_reactions_gets_the_column(tmp_path):
    import sqlite3

    db = sqlite3.connect(tmp_path / "rooms.db")
    db.execute(
        "CREATE TABLE matrix_rooms (room_key TEXT PRIMARY KEY, room_id TEXT UNIQUE NOT NULL,"
        " options TEXT NOT NULL DEFAULT '[]')"
    )
    db.execute(
        "INSERT INTO matrix_rooms VALUES ('k1', '!old:example.de', '[{\"number\": 1, \"title\": \"Ja\", \"payload\": \"/affirm\"}]')"
    )
    db.commit()
    db.close()
    store = RoomStore(tmp_path / "rooms.db", b"k" * 32)
    assert store.options("!old:example.de") == [Option(1, "Ja", "/affirm")]
    assert store.options_event("!old:example.de") == ""  # no reaction answers an unknown event

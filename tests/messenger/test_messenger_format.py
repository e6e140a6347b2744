"""Rendering of bot messages for messengers (buergerassistent/messenger_format.py)."""

from __future__ import annotations

from buergerassistent import messenger_format as mf

ALLOWED = {"portal.example.de", "login.example.de"}


def allowed(url: str) -> bool:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname in ALLOWED


def test_text_with_link_and_bold():
    msg = {"text": "**Meldebescheinigung**: siehe [Stadt](https://portal.example.de/x?a=1&b=2) <script>"}
    r = mf.render_message(msg, allowed)
    assert r.plain == "Meldebescheinigung: siehe Stadt: https://portal.example.de/x?a=1&b=2 <script>"
    assert r.html == (
        '<b>Meldebescheinigung</b>: siehe <a href="https://portal.example.de/x?a=1&amp;b=2">Stadt</a> &lt;script&gt;'
    )
    assert r.options == [] and r.files == []


def test_link_to_foreign_host_keeps_only_its_title():
    r = mf.render_message({"text": "Klicken Sie [hier](https://evil.example.com/login)."}, allowed)
    assert r.plain == "Klicken Sie hier."
    assert "evil" not in r.html and "href" not in r.html


def test_default_allows_no_link():
    r = mf.render_message({"text": "[Portal](https://portal.example.de/)"})
    assert r.plain == "Portal" and "href" not in r.html


def test_buttons_become_numbered_options():
    msg = {
        "text": "Meinen Sie …",
        "buttons": [
            {"title": "Personalausweis", "payload": "/choose{\"p\":\"pa\"}"},
            {"title": "Reisepass", "payload": "/choose{\"p\":\"rp\"}"},
        ],
    }
    r = mf.render_message(msg, allowed)
    assert [(o.number, o.title) for o in r.options] == [(1, "Personalausweis"), (2, "Reisepass")]
    assert "1. Personalausweis\n2. Reisepass" in r.plain
    assert "2. Reisepass" in r.html
    unnumbered = mf.render_message(msg, allowed, numbered=False)
    assert unnumbered.plain == "Meinen Sie …" and len(unnumbered.options) == 2


def test_url_button_is_a_link_not_an_option():
    url = "https://login.example.de/login/start/rest-x?ticket=abc"
    msg = {"text": "Bitte melden Sie sich an.", "buttons": [{"title": "Mit Nutzerkonto anmelden", "payload": url}]}
    r = mf.render_message(msg, allowed)
    assert r.options == [] and r.links == [mf.Link("Mit Nutzerkonto anmelden", url)]
    assert f"Mit Nutzerkonto anmelden: {url}" in r.plain
    foreign = mf.render_message(
        {"text": "x", "buttons": [{"title": "Bank", "payload": "https://evil.example.com/"}]}, allowed
    )
    assert foreign.links == [] and foreign.options == [] and "evil" not in foreign.plain


def test_summary_table():
    msg = {
        "text": "Bitte prüfen Sie Ihre Angaben für „Meldebescheinigung“:\n- Vorname: Erika",
        "custom": {
            "type": "summary",
            "title": "Ihre Angaben",
            "rows": [{"label": "Vorname", "value": "Erika <b>"}, {"label": "Familienname", "value": "Mustermann"}],
        },
        "buttons": [{"title": "Ja, absenden", "payload": "/affirm"}, {"title": "Korrigieren", "payload": "/correct"}],
    }
    r = mf.render_message(msg, allowed, line_break="\n")
    assert r.plain.splitlines()[:3] == [
        "Bitte prüfen Sie Ihre Angaben für „Meldebescheinigung“:",
        "- Vorname: Erika <b>",
        "- Familienname: Mustermann",
    ]
    assert "Vorname: <b>Erika &lt;b&gt;</b>" in r.html
    assert "<br>" not in r.html


def test_case_number_and_receipt_file():
    msg = {
        "text": "Ihr Aktenzeichen lautet MB-2026-ABCD1234.",
        "custom": {"type": "case_number", "case_number": "MB-2026-ABCD1234"},
    }
    r = mf.render_message(msg, allowed)
    assert r.case_number == "MB-2026-ABCD1234" and "<b>MB-2026-ABCD1234</b>" in r.html
    receipt = "https://portal.example.de/receipts/eyJ.abc"
    r2 = mf.render_message(
        {
            "text": f"Ihre Eingangsbestätigung als PDF: [Eingangsbestätigung herunterladen]({receipt}) Der Link gilt 7 Tage."
        },
        allowed,
    )
    assert r2.files == [mf.FileRef(title="Eingangsbestätigung herunterladen", url=receipt)]
    blocked = mf.render_message({"text": "[PDF](https://evil.example.com/receipts/x)"}, allowed)
    assert blocked.files == []


def test_render_messages_skips_empty_and_last_options():
    rendered = mf.render_messages(
        [{"text": "a", "buttons": [{"title": "X", "payload": "/x"}]}, {}, {"text": "b"}], allowed
    )
    assert [r.plain.splitlines()[0] for r in rendered] == ["a", "b"]
    assert [o.payload for o in mf.last_options(rendered)] == ["/x"]


OPTIONS = [
    mf.Option(1, "Personalausweis beantragen", "/p1"),
    mf.Option(2, "Reisepass beantragen", "/p2"),
    mf.Option(3, "Führerschein umtauschen", "/p3"),
]


def test_match_option_by_number_and_ordinal():
    for text, payload in [
        ("2", "/p2"),
        ("2.", "/p2"),
        (" 3 ", "/p3"),
        ("Nr. 1", "/p1"),
        ("die zweite", "/p2"),
        ("das erste bitte", "/p1"),
        ("den letzten", "/p3"),
    ]:
        assert mf.match_option(text, OPTIONS) == payload, text
    assert mf.match_option("4", OPTIONS) is None
    assert mf.match_option("12", OPTIONS) is None


def test_match_option_by_words():
    assert mf.match_option("Reisepass beantragen", OPTIONS) == "/p2"
    assert mf.match_option("reisepass", OPTIONS) == "/p2"
    assert mf.match_option("Führerschein", OPTIONS) == "/p3"
    yes_no = [mf.Option(1, "Ja, absenden", "/affirm"), mf.Option(2, "Korrigieren", "/correct")]
    assert mf.match_option("ja, absenden", yes_no) == "/affirm"
    assert mf.match_option("korrigieren", yes_no) == "/correct"


def test_no_match_for_other_text():
    assert mf.match_option("Wie lange dauert das?", OPTIONS) is None
    assert mf.match_option("nicht das erste", OPTIONS) is None
    assert mf.match_option("Ich heiße Erika Mustermann und wohne in Köln", OPTIONS) is None
    assert mf.match_option("2", []) is None
    assert mf.match_option("", OPTIONS) is None

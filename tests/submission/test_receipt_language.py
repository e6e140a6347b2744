"""The receipt PDF follows the conversation's language (issue 20): an English conversation's
receipt link carries ``lang: en`` (signed), and the PDF behind it is English; the submitted
values are the same. A German conversation keeps the German PDF."""

from __future__ import annotations

import re

import pytest

from .conftest import texts
from .test_chat_submission import confirmed, fetch, pdf_text, submit

pytestmark = pytest.mark.usefixtures("chat_env")

LINK = re.compile(r"\((http[^)]+/receipts/[^)]+)\)")


async def _receipt(monkeypatch, **slots) -> tuple[str, str]:
    dispatcher, _ = await submit(confirmed(key=f"app-{slots.get('language', 'de')}", **slots))
    link = LINK.search(texts(dispatcher)).group(1)
    monkeypatch.setenv("RECEIPT_FONT_DIR", "/nonexistent")  # Latin-1 core font: readable text
    status, content_type, body = await fetch(link)
    assert (status, content_type) == (200, "application/pdf")
    return texts(dispatcher), pdf_text(body)


async def test_english_conversation_gets_an_english_receipt_pdf(backend, monkeypatch):
    reply, text = await _receipt(monkeypatch, language="en")
    assert "case number" in reply.lower()
    for expected in ("Confirmation of receipt", "Case number", "Your details", "Family name", "Mustermann"):
        assert expected in text, expected
    assert "12 August 1964" in text  # the date in English words; the stored value stays ISO
    for german in ("Eingangsbest", "Aktenzeichen", "Ihre Angaben", "Familienname", "Seite "):
        assert german not in text, german


async def test_german_conversation_keeps_the_german_receipt_pdf(backend, monkeypatch):
    _, text = await _receipt(monkeypatch)
    for expected in ("Eingangsbest", "Aktenzeichen", "Ihre Angaben", "12.08.1964"):
        assert expected in text, expected
    assert "Confirmation of receipt" not in text


async def test_leichte_sprache_conversation_gets_a_plain_receipt_pdf(backend, monkeypatch):
    reply, text = await _receipt(monkeypatch, language="ls")
    for expected in ("Das Amt hat Ihren Antrag bekommen", "Akten-Zeichen", "Das haben Sie geschrieben", "12.08.1964"):
        assert expected in text, expected
    assert "Mustermann" in text  # the values are the same
    for standard in ("Ihre Angaben", "belegt nur den Eingang", "Confirmation of receipt"):
        assert standard not in text, standard

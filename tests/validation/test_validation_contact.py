"""email and phone."""

from __future__ import annotations

import pytest

from buergerassistent.validation import validate


@pytest.mark.parametrize(
    "text,expected",
    [
        ("erika.mustermann@example.org", "erika.mustermann@example.org"),
        ("Erika.Mustermann@Example.ORG", "Erika.Mustermann@example.org"),  # domain lowercased
        ("  erika@example.org ", "erika@example.org"),
        ("mailto:erika@example.org", "erika@example.org"),
        ("<erika@example.org>", "erika@example.org"),
        ("erika+antrag@mail.de", "erika+antrag@mail.de"),
        ("müller@müller.de", "müller@müller.de"),
        ("E-Mail: erika@example.org", "erika@example.org"),
    ],
)
def test_email_valid(text, expected):
    r = validate("email", text)
    assert r.ok, r.error
    assert r.value == expected == r.display


@pytest.mark.parametrize(
    "text,reason",
    [
        ("erika", "@-Zeichen"),
        ("erika(at)example.org", "@-Zeichen"),
        ("erika mustermann@example.org", "Leerzeichen"),
        ("erika@", "nicht gültig"),
        ("erika@example", "nicht gültig"),
        ("erika@@example.org", "nicht gültig"),
        ("@example.org", "nicht gültig"),
        ("erika@exa_mple.org", "nicht gültig"),
        ("", "keine E-Mail-Adresse"),
    ],
)
def test_email_invalid(text, reason, german_error):
    r = validate("email", text)
    german_error(r, "erika.mustermann@example.org")
    assert reason in r.error


@pytest.mark.parametrize(
    "text,e164,display",
    [
        ("089 233-0", "+49892330", "089 2330"),
        ("089/233-0", "+49892330", "089 2330"),
        ("(089) 233 0", "+49892330", "089 2330"),
        ("+49 89 233-0", "+49892330", "089 2330"),
        ("+49 (0) 89 2330", "+49892330", "089 2330"),
        ("0049 89 2330", "+49892330", "089 2330"),
        ("Tel.: 089 2330", "+49892330", "089 2330"),
        ("0171 1234567", "+491711234567", "0171 1234567"),
        ("01711234567", "+491711234567", "0171 1234567"),
        ("030 12345678", "+493012345678", "030 12345678"),
        ("+44 20 7946 0958", "+442079460958", "+44 20 7946 0958"),
        ("+43 1 5880", "+4315880", "+43 1 5880"),
    ],
)
def test_phone_valid(text, e164, display):
    r = validate("phone", text)
    assert r.ok, r.error
    assert (r.value, r.display) == (e164, display)


@pytest.mark.parametrize(
    "text,reason",
    [
        ("12345", "zu kurz"),
        ("0800 FLOWERS", "nur aus Ziffern"),
        ("meine Nummer", "nur aus Ziffern"),
        ("+", "nur aus Ziffern"),
        ("+49 1", "zu kurz"),
        ("+49 0000 000000", "gibt es so nicht"),
        ("", "keine Telefonnummer"),
    ],
)
def test_phone_invalid(text, reason, german_error):
    r = validate("phone", text)
    german_error(r, "089 233-0")
    assert reason in r.error

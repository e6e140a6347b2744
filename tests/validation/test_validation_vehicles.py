"""kfz_kennzeichen and fin."""

from __future__ import annotations

import pytest

from buergerassistent.validation import validate


@pytest.mark.parametrize(
    "text,expected",
    [
        ("M-AB 1234", "M-AB 1234"),
        ("M AB 1234", "M-AB 1234"),
        ("m-ab 1234", "M-AB 1234"),
        ("M-AB1234", "M-AB 1234"),
        ("M AB1234", "M-AB 1234"),
        ("M - AB - 1234", "M-AB 1234"),
        ("BN-AZ 9999", "BN-AZ 9999"),
        ("MYK-AZ 999", "MYK-AZ 999"),
        ("LÖ-AB 12", "LÖ-AB 12"),
        ("lö ab 12", "LÖ-AB 12"),
        ("M-A 1", "M-A 1"),
        ("B-MW 123E", "B-MW 123E"),
        ("M-AB 123H", "M-AB 123H"),
        ("m ab 123 h", "M-AB 123H"),
        # without any separator only 1+1 or 3+2 letters split unambiguously
        ("ME12", "M-E 12"),
        ("MYKAZ999", "MYK-AZ 999"),
    ],
)
def test_kfz_valid(text, expected):
    r = validate("kfz_kennzeichen", text)
    assert r.ok, r.error
    assert r.value == expected == r.display


@pytest.mark.parametrize(
    "text,reason",
    [
        ("mab1234", "wo das Ortskürzel endet"),  # M-AB or MA-B?
        ("BNAZ 99", "wo das Ortskürzel endet"),
        ("M-AB 12345", "nicht als Kfz-Kennzeichen"),
        ("M-ABC 123", "nicht als Kfz-Kennzeichen"),
        ("MYKA-B 1", "nicht als Kfz-Kennzeichen"),
        ("M-AB", "nicht als Kfz-Kennzeichen"),
        ("12-AB 34", "nicht als Kfz-Kennzeichen"),
        ("M-ÄB 12", "nicht als Kfz-Kennzeichen"),
        ("MÄ 12", "ohne Umlaut"),
        ("maß 12", "nicht als Kfz-Kennzeichen"),  # "ß".upper() is "SS"
        ("M-AB 0123", "nicht mit 0"),
        ("MYK-AZ 9999", "höchstens 8 Zeichen"),
        ("MYK-AZ 999E", "höchstens 8 Zeichen"),  # the E counts
        ("", "kein Kennzeichen"),
    ],
)
def test_kfz_invalid(text, reason, german_error):
    r = validate("kfz_kennzeichen", text)
    german_error(r, "M-AB 1234")
    assert reason in r.error


@pytest.mark.parametrize(
    "text,expected",
    [
        ("WVWZZZ1JZ3W386752", "WVWZZZ1JZ3W386752"),
        ("wvwzzz1jz3w386752", "WVWZZZ1JZ3W386752"),
        ("WVW ZZZ 1JZ 3W 386752", "WVWZZZ1JZ3W386752"),
        ("FIN: WVWZZZ1JZ3W386752", "WVWZZZ1JZ3W386752"),
        ("1HGCM82633A004352", "1HGCM82633A004352"),  # North American, with check digit
        ("WDB1240221A123456", "WDB1240221A123456"),  # EU: no check digit required
    ],
)
def test_fin_valid(text, expected):
    r = validate("fin", text)
    assert r.ok, r.error
    assert r.value == expected


@pytest.mark.parametrize(
    "text,reason",
    [
        ("WVWZZZ1JZ3W38675", "17 Zeichen, Ihre Angabe hat 16"),
        ("WVWZZZ1JZ3W3867521", "17 Zeichen, Ihre Angabe hat 18"),
        ("WVWZZZ1JZ3W38675O", "I, O und Q"),
        ("WVWZZZ1JZ3W38675I", "I, O und Q"),
        ("QVWZZZ1JZ3W386752", "I, O und Q"),
        ("WVWZZZ1JZ3W38675Ä", "nur aus Buchstaben und Ziffern"),
        ("WVWZZZ1JZ3W38675#", "nur aus Buchstaben und Ziffern"),
        ("", "keine FIN"),
    ],
)
def test_fin_invalid(text, reason, german_error):
    r = validate("fin", text)
    german_error(r, "WVWZZZ1JZ3W386752")
    assert reason in r.error

"""iban, steuer_id, amount."""

from __future__ import annotations

import pytest

from buergerassistent.validation import validate

# ------------------------------------------------------------------------------------ IBAN


@pytest.mark.parametrize(
    "text,compact,grouped",
    [
        # the standard example IBAN
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "DE89 3704 0044 0532 0130 00"),
        ("DE89370400440532013000", "DE89370400440532013000", "DE89 3704 0044 0532 0130 00"),
        ("de89 3704 0044 0532 0130 00", "DE89370400440532013000", "DE89 3704 0044 0532 0130 00"),
        ("IBAN: DE89-3704-0044-0532-0130-00", "DE89370400440532013000", "DE89 3704 0044 0532 0130 00"),
        ("DE02 1203 0000 0000 2020 51", "DE02120300000000202051", "DE02 1203 0000 0000 2020 51"),
        # other SEPA countries' published example IBANs
        ("AT61 1904 3002 3457 3201", "AT611904300234573201", "AT61 1904 3002 3457 3201"),
        ("GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432", "GB82 WEST 1234 5698 7654 32"),
        ("NL91 ABNA 0417 1643 00", "NL91ABNA0417164300", "NL91 ABNA 0417 1643 00"),
    ],
)
def test_iban_valid(text, compact, grouped):
    r = validate("iban", text)
    assert r.ok, r.error
    assert (r.value, r.display) == (compact, grouped)


@pytest.mark.parametrize(
    "text,reason",
    [
        ("DE88 3704 0044 0532 0130 00", "Prüfziffer"),  # check digits changed
        ("DE89 3704 0044 0532 0131 00", "Prüfziffer"),  # one account digit changed
        ("DE89 3704 0044 0532 1030 00", "Prüfziffer"),  # two digits swapped
        ("DE89 3704 0044 0532 0130", "22 Stellen"),
        ("DE89 3704 0044 0532 0130 0000", "22 Stellen"),
        ("3704 0044 0532 0130 00", "Ländercode"),
        ("89 3704 0044 0532 0130 00", "Ländercode"),
        ("XX89 3704 0044 0532 0130 00", "Ländercode „XX“"),
        ("DE89 3704 0044 0532 0130 0A", "nur Ziffern"),
        ("AT28 1904 3002 3457 32A1", "keine gültige IBAN"),  # right checksum, letter in an Austrian BBAN
        ("", "keine IBAN"),
    ],
)
def test_iban_invalid(text, reason, german_error):
    r = validate("iban", text)
    german_error(r, "DE89 3704 0044 0532 0130 00")
    assert reason in r.error


# ------------------------------------------------------------------------------- Steuer-ID


def reference_check_digit(first10: str) -> int:
    """ISO 7064 MOD 11,10, written out as the BZSt describes it, independent of python-stdnum."""
    product = 10
    for ch in first10:
        total = (int(ch) + product) % 10 or 10
        product = (total * 2) % 11
    check = 11 - product
    return 0 if check == 10 else check


VALID_IDNR = [
    "36574261809",  # example in python-stdnum's documentation
    "12345678995",  # commonly published example (digit 9 twice)
    "12345678911",  # digit 1 twice
    "47726510382",  # digit 7 twice
    "11123456786",  # digit 1 three times (allowed since 2016)
    "11213456783",
]


@pytest.mark.parametrize("number", VALID_IDNR)
def test_steuer_id_test_numbers_have_a_correct_check_digit(number):
    assert reference_check_digit(number[:10]) == int(number[10])


@pytest.mark.parametrize("number", VALID_IDNR)
def test_steuer_id_valid(number):
    grouped = f"{number[:2]} {number[2:5]} {number[5:8]} {number[8:]}"
    for text in (number, grouped, f"Steuer-ID: {grouped}", number[:2] + "/" + number[2:]):
        r = validate("steuer_id", text)
        assert r.ok, (text, r.error)
        assert (r.value, r.display) == (number, grouped)


@pytest.mark.parametrize(
    "text,reason",
    [
        ("36574261890", "Prüfziffer"),
        ("36574261808", "Prüfziffer"),
        ("12345678990", "Prüfziffer"),
        ("36554266806", "keine gültige"),  # a digit four times
        ("86509731241", "keine gültige"),  # no digit repeated (check digit is right)
        ("01234567899", "keine gültige"),  # leading zero
        ("3657426180", "11 Ziffern"),
        ("365742618091", "11 Ziffern"),
        ("3657426180A", "nur aus Ziffern"),
        ("", "keine Steuer-ID"),
    ],
)
def test_steuer_id_invalid(text, reason, german_error):
    r = validate("steuer_id", text)
    german_error(r, "36 574 261 809")
    assert reason in r.error


def test_steuer_id_counter_examples_are_real_format_cases():
    # guards the invalid cases above: right check digit, only the digit rule is broken
    assert reference_check_digit("8650973124") == 1
    assert reference_check_digit("3657426180") != 0


# ---------------------------------------------------------------------------------- amount


@pytest.mark.parametrize(
    "text,value,display",
    [
        ("12,50 €", "12.50", "12,50\xa0€"),
        ("12,50€", "12.50", "12,50\xa0€"),
        ("€ 12,50", "12.50", "12,50\xa0€"),
        ("EUR 12,50", "12.50", "12,50\xa0€"),
        ("12,5", "12.50", "12,50\xa0€"),
        ("12", "12.00", "12,00\xa0€"),
        ("12,-", "12.00", "12,00\xa0€"),
        ("12 Euro", "12.00", "12,00\xa0€"),
        ("12 Euro 50", "12.50", "12,50\xa0€"),
        ("1.200 Euro", "1200.00", "1.200,00\xa0€"),
        ("1.200,50 €", "1200.50", "1.200,50\xa0€"),
        ("1 200 €", "1200.00", "1.200,00\xa0€"),
        ("1.000.000", "1000000.00", "1.000.000,00\xa0€"),
        ("12.50", "12.50", "12,50\xa0€"),  # decimal point as on a receipt
        ("1200.00", "1200.00", "1.200,00\xa0€"),  # the stored form
        ("0,99", "0.99", "0,99\xa0€"),
        ("0", "0.00", "0,00\xa0€"),
    ],
)
def test_amount_valid(text, value, display):
    r = validate("amount", text)
    assert r.ok, r.error
    assert (r.value, r.display) == (value, display)


@pytest.mark.parametrize(
    "text,reason",
    [
        ("-5", "negativ"),
        ("-5,00 €", "negativ"),
        ("12,505", "zwei Stellen"),
        ("1,200", "zwei Stellen"),  # an English thousands comma is not guessed
        ("12.5.0", "nicht als Betrag"),
        ("zwölf", "nicht als Betrag"),
        ("viel Geld", "nicht als Betrag"),
        ("5 Dollar", "nicht als Betrag"),
        ("2.000.000.000", "unrealistisch"),
        ("", "keinen Betrag"),
    ],
)
def test_amount_invalid(text, reason, german_error):
    r = validate("amount", text)
    german_error(r, "12,50 €")
    assert reason in r.error


@pytest.mark.parametrize("text, value", [("58,000 €", "58000.00"), ("1,200.50", "1200.50"), ("12,50", "12.50")])
def test_amount_written_in_english_uses_english_grouping(text, value):
    """A citizen who writes English groups thousands with a comma; "12,50" still reads German."""
    from buergerassistent.validation.base import INPUT_LANGUAGE

    token = INPUT_LANGUAGE.set("en")
    try:
        r = validate("amount", text)
    finally:
        INPUT_LANGUAGE.reset(token)
    assert r.ok and r.value == value, r
    assert not validate("amount", "58,000 €").ok  # in German, a thousands comma is not guessed

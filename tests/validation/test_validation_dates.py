"""birth_date, date, future_date — with a fixed today (Wednesday, 18 June 2025)."""

from __future__ import annotations

import datetime as dt

import pytest

from buergerassistent.validation import validate

TODAY = dt.date(2025, 6, 18)
assert TODAY.weekday() == 2  # the relative expectations below assume a Wednesday


# ----------------------------------------------------------------------------- birth_date


@pytest.mark.parametrize(
    "text,iso",
    [
        ("3. März 1985", "1985-03-03"),
        ("03.03.1985", "1985-03-03"),
        ("3.3.85", "1985-03-03"),
        ("1985-03-03", "1985-03-03"),
        ("12. Aug 1964", "1964-08-12"),
        ("12. Aug. 1964", "1964-08-12"),
        ("12. August 1964", "1964-08-12"),
        ("12 august 1964", "1964-08-12"),
        ("am 12.8.64", "1964-08-12"),
        ("am 12.08.1964", "1964-08-12"),
        ("den 3. März 1985", "1985-03-03"),
        ("Ich bin am 12.08.1964 geboren", "1964-08-12"),
        ("12.08.1964.", "1964-08-12"),
        ("12/08/1964", "1964-08-12"),
        ("12-08-1964", "1964-08-12"),
        ("12. 08. 1964", "1964-08-12"),
        ("12081964", "1964-08-12"),
        ("3. Maerz 1985", "1985-03-03"),
        ("3. Jänner 1990", "1990-01-03"),
        ("3. März 85", "1985-03-03"),
        ("29.02.1984", "1984-02-29"),
        ("01.01.1900", "1900-01-01"),
        ("18.06.2025", "2025-06-18"),  # born today: allowed (e.g. a birth registration)
        # two-digit years: 20xx unless that is in the future
        ("03.03.15", "2015-03-03"),
        ("18.06.25", "2025-06-18"),
        ("19.06.25", "1925-06-19"),
        ("03.03.30", "1930-03-03"),
        ("3. März 30", "1930-03-03"),
        ("01.01.00", "2000-01-01"),
    ],
)
def test_birth_date_valid(text, iso):
    r = validate("birth_date", text, today=TODAY)
    assert r.ok, r.error
    assert r.value == iso
    y, m, d = iso.split("-")
    assert r.display == f"{d}.{m}.{y}"


@pytest.mark.parametrize(
    "text,reason",
    [
        ("01.01.2030", "Zukunft"),
        ("19.06.2025", "Zukunft"),
        ("morgen", "Zukunft"),
        ("nächsten Dienstag", "Zukunft"),
        ("31.12.1899", "vor 1900"),
        ("1850-05-01", "vor 1900"),
        ("31.02.1985", "gibt es nicht"),
        ("29.02.1985", "gibt es nicht"),
        ("32.01.1985", "gibt es nicht"),
        ("12.13.1985", "gibt es nicht"),
        ("12.08.", "fehlt das Jahr"),
        ("12. August", "fehlt das Jahr"),
        ("hallo", "nicht als Datum"),
        ("12", "nicht als Datum"),  # dateparser alone would read the 12th of this month
        ("1234", "nicht als Datum"),  # … and this as the year 1234
        ("August 1964", "nicht als Datum"),  # a month is not a day
        ("1964", "nicht als Datum"),
        ("", "kein Datum"),
    ],
)
def test_birth_date_invalid(text, reason, german_error):
    r = validate("birth_date", text, today=TODAY)
    german_error(r, "12.08.1964")
    assert reason in r.error


def test_future_birth_date_message_matches_the_style_guide():
    r = validate("birth_date", "01.01.2030", today=TODAY)
    assert r.error == "Das Geburtsdatum liegt in der Zukunft. Bitte geben Sie es so an: 12.08.1964."


def test_field_example_is_used_in_date_messages():
    r = validate("birth_date", "01.01.2030", today=TODAY, example="24.12.1970")
    assert r.error.endswith("so an: 24.12.1970.")


# ----------------------------------------------------------------------------- future_date


@pytest.mark.parametrize(
    "text,iso",
    [
        ("heute", "2025-06-18"),
        ("morgen", "2025-06-19"),
        ("Morgen!", "2025-06-19"),
        ("übermorgen", "2025-06-20"),
        ("uebermorgen", "2025-06-20"),
        ("ab sofort", "2025-06-18"),
        ("nächsten Dienstag", "2025-06-24"),
        ("am nächsten Dienstag", "2025-06-24"),
        ("nächster Dienstag", "2025-06-24"),
        ("naechsten Dienstag", "2025-06-24"),
        ("kommenden Freitag", "2025-06-20"),
        ("Freitag", "2025-06-20"),
        ("am Freitag", "2025-06-20"),
        ("Mittwoch", "2025-06-18"),  # today's weekday: today
        ("nächsten Mittwoch", "2025-06-25"),  # "next" never means today
        ("übernächsten Montag", "2025-06-30"),
        ("Dienstag nächste Woche", "2025-06-24"),
        ("nächste Woche Freitag", "2025-06-27"),
        ("Freitag nächster Woche", "2025-06-27"),
        ("diese Woche Freitag", "2025-06-20"),
        ("in zwei Wochen", "2025-07-02"),
        # that weekday in the week N weeks ahead (today is Wednesday 18 June 2025)
        ("in drei Wochen am Samstag", "2025-07-12"),
        ("Samstag in drei Wochen", "2025-07-12"),
        ("am Montag in 2 Wochen", "2025-06-30"),
        ("in einer Woche am Freitag", "2025-06-27"),
        ("in 2 Wochen", "2025-07-02"),
        ("in drei Tagen", "2025-06-21"),
        ("in einem Monat", "2025-07-18"),
        ("in einem Jahr", "2026-06-18"),
        ("ab dem 1. Juli", "2025-07-01"),
        ("zum 1.7.", "2025-07-01"),
        ("1.6.", "2026-06-01"),  # already passed this year: next year
        ("3. März", "2026-03-03"),
        ("01.07.2025", "2025-07-01"),
        ("2027-06-18", "2027-06-18"),  # exactly two years ahead
        ("15.08.26", "2026-08-15"),
    ],
)
def test_future_date_valid(text, iso):
    r = validate("future_date", text, today=TODAY)
    assert r.ok, r.error
    assert r.value == iso


@pytest.mark.parametrize(
    "text,reason",
    [
        ("gestern", "Vergangenheit"),
        ("17.06.2025", "Vergangenheit"),
        ("letzten Freitag", "Vergangenheit"),
        ("2027-06-19", "mehr als 2 Jahre"),
        ("01.01.2030", "mehr als 2 Jahre"),
        ("nächste Woche", "genauen Tag"),
        ("nächsten Monat", "genauen Tag"),
        ("Anfang Juli", "genauen Tag"),
        ("bald", "genauen Tag"),
        ("Juli 2025", "nicht als Datum"),
        ("31.06.2025", "gibt es nicht"),
        ("irgendwas", "nicht als Datum"),
    ],
)
def test_future_date_invalid(text, reason, german_error):
    r = validate("future_date", text, today=TODAY)
    german_error(r, "02.07.2025")  # default example: two weeks from today
    assert reason in r.error


# ------------------------------------------------------------------------------------ date


@pytest.mark.parametrize(
    "text,iso",
    [
        ("12.08.", "2025-08-12"),  # dateparser alone would read the time 12:08
        ("gestern", "2025-06-17"),
        ("vorgestern", "2025-06-16"),
        ("letzten Freitag", "2025-06-13"),
        ("vergangenen Mittwoch", "2025-06-11"),
        ("vor drei Tagen", "2025-06-15"),
        ("1. Mai", "2025-05-01"),
        ("12.08.2030", "2030-08-12"),
        ("12.8.64", "1964-08-12"),
        ("12.8.34", "2034-08-12"),  # up to ten years ahead: 20xx
        ("12.8.36", "1936-08-12"),
        ("Mittwoch, 3. März 2027", "2027-03-03"),
    ],
)
def test_date_valid(text, iso):
    r = validate("date", text, today=TODAY)
    assert r.ok, r.error
    assert r.value == iso


@pytest.mark.parametrize(
    "text",
    [
        "01.01.1899",
        "01.01.2036",
        "2025/07/01",
        "hallo",
        "12",
        "nächstes Jahr",
        "4j -3",  # dateparser alone: four years ago
        "in 5 Minuten",  # not a day
        "3. März " * 40,  # long input: dateparser alone overflows its recursion
    ],
)
def test_date_invalid(text, german_error):
    german_error(validate("date", text, today=TODAY), "12.08.2024")


def test_relative_dates_follow_today():
    other = dt.date(2024, 12, 30)  # a Monday, across a year end
    assert validate("future_date", "übermorgen", today=other).value == "2025-01-01"
    assert validate("future_date", "nächsten Montag", today=other).value == "2025-01-06"
    assert validate("future_date", "in zwei Wochen", today=other).value == "2025-01-13"
    assert validate("future_date", "Montag", today=other).value == "2024-12-30"


def test_leap_day_two_years_ahead_is_allowed_up_to_28_february():
    leap = dt.date(2024, 2, 29)
    assert validate("future_date", "28.02.2026", today=leap).ok
    assert not validate("future_date", "01.03.2026", today=leap).ok


# past_date: an event that has happened (a loss). A future loss date was stored silently in
# the third blind conversation set (v3-form-09: "12.12.2026" on 3 December 2026).
@pytest.mark.parametrize(
    "text, iso",
    [
        ("12.06.2025", "2025-06-12"),
        ("heute", "2025-06-18"),
        ("gestern", "2025-06-17"),
        ("12.11.", "2024-11-12"),  # without a year: the last 12 November, not the next
        ("1.6.25", "2025-06-01"),
        ("3. März 2025", "2025-03-03"),
    ],
)
def test_past_date_valid(text, iso):
    result = validate("past_date", text, today=TODAY)
    assert result.ok, result.error
    assert result.value == iso


@pytest.mark.parametrize("text", ["19.06.2025", "morgen", "12.12.2025"])
def test_past_date_in_the_future_is_refused(text):
    result = validate("past_date", text, today=TODAY)
    assert not result.ok
    assert result.error.startswith("Das Datum liegt in der Zukunft. Es muss heute oder früher sein.")

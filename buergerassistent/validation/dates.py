"""Dates: ``birth_date``, ``date``, ``future_date`` and ``past_date`` (an event that has happened,
e.g. a loss: never after today).

Month names ("3. März 1985", "12. Aug 1964", "3. Jänner") and relative expressions ("morgen",
"übermorgen", "in zwei Wochen") are parsed by ``dateparser``. Around it sits a thin, tested layer
for what it gets wrong or does not know in German:

* purely numeric dates are parsed here, strictly: dateparser reads "12.08." as the time 12:08,
  "12" as the 12th of this month, "1234" as the year 1234 and "2025/07/01" as 7 January;
* the century of a two-digit year depends on the field (a birth date is never in the future);
* "nächsten Dienstag", "am Freitag", "Dienstag nächste Woche" are not understood by dateparser;
* filler words ("am", "den", "ab dem", "geboren am") make dateparser give up;
* ASCII spellings ("uebermorgen", "naechsten", "Maerz");
* vague answers ("nächste Woche", "nächsten Monat") are periods, not days: dateparser would
  quietly pick a day for them.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Optional

import dateparser

from .base import Context, Result, clean, english_input

EARLIEST = dt.date(1900, 1, 1)
GENERIC_YEARS_AHEAD = 10  # "date": any plausible date up to ten years ahead
FUTURE_YEARS_AHEAD = 2  # "future_date": e.g. a move-in or a parking ban
MAX_INPUT = 80  # no date needs more; dateparser even overflows its recursion on long texts

WEEKDAYS = {
    "montag": 0,
    "dienstag": 1,
    "mittwoch": 2,
    "donnerstag": 3,
    "freitag": 4,
    "samstag": 5,
    "sonnabend": 5,
    "sonntag": 6,
    # English (issue 20)
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
MONTH_WORD = re.compile(
    r"\b(jan|jän|feb|mär|mrz|mar|apr|mai|may|jun|jul|aug|sep|okt|oct|nov|dez|dec)[a-zä]*\.?", re.IGNORECASE
)

# Words citizens put around a date; removed before parsing.
_FILLER = re.compile(
    r"\b(?:ich|bin|wurde|geboren|ist|es|war|am|an|den|dem|der|ab|seit|vom|zum|bis|ca|circa|etwa|datum"
    r"|i|was|born|on|the|of|from|since|it|is|date|about)\b\.?"
)
_ORDINAL = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b")  # English "12th August"
_ASCII = [  # ASCII spellings of the words we (or dateparser) know
    (re.compile(r"\buebermorgen\b"), "übermorgen"),
    (re.compile(r"\bueber"), "über"),
    (re.compile(r"\bnaechst"), "nächst"),
    (re.compile(r"\bmaerz\b"), "märz"),
    (re.compile(r"\bjaenner\b"), "jänner"),
    (re.compile(r"\bfuenf\b"), "fünf"),
    (re.compile(r"\bzwoelf\b"), "zwölf"),
]
_VAGUE = re.compile(
    r"^(?:(?:nächste|kommende|diese|übernächste)[nrs]?\s+(?:woche|monat|jahr)|"
    r"(?:anfang|mitte|ende)\b.*|bald|demnächst|irgendwann|"
    r"(?:next|this|coming)\s+(?:week|month|year)|(?:beginning|middle|end)\b.*|soon|sometime)$"
)
# dateparser reads almost anything as relative ("4j -3" is four years ago): only words that
# name a day or a span go to it, besides month names.
_RELATIVE_WORD = re.compile(
    r"\b(?:heute|morgen|übermorgen|gestern|vorgestern|tag|tage|tagen|woche|wochen|"
    r"monat|monate|monaten|jahr|jahre|jahren|today|tomorrow|yesterday|day|days|week|weeks|month|months|"
    r"year|years)\b"
)
_SOON = re.compile(r"^(?:sofort|ab sofort|jetzt|gleich|so bald wie möglich|asap|now|immediately|as soon as possible)$")

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DMY = re.compile(r"(\d{1,2})\s*([./-])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})\.?")
_DM = re.compile(r"(\d{1,2})\s*\.\s*(\d{1,2})\s*\.?")
_COMPACT = re.compile(r"(\d{2})(\d{2})(\d{4}|\d{2})")  # 03031985 / 030385
_WEEKDAY = re.compile(
    r"(?:(?P<mod>(?:über)?nächste[nrs]?|kommende[nrs]?|diese[nrs]?|letzte[nrs]?|vergangene[nrs]?"
    r"|next|coming|this|last)\s+)?"
    r"(?P<wd>" + "|".join(WEEKDAYS) + r")"
    r"(?:\s+(?:in\s+)?(?P<week>nächste[nr]?|kommende[nr]?|diese[nr]?)\s+woche)?"
)
_WEEK_THEN_DAY = re.compile(r"(?P<week>nächste|kommende|diese)\s+woche\s+(?P<wd>" + "|".join(WEEKDAYS) + r")")
_COUNT_WORDS = {"ein": 1, "eine": 1, "einer": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "acht": 8}
_IN_WEEKS = r"in\s+(?P<n>\d{1,2}|" + "|".join(_COUNT_WORDS) + r")\s+wochen?"
# "in drei Wochen am Samstag" / "Samstag in drei Wochen": that weekday of the week N weeks ahead
# (dateparser reads "in drei Wochen" and drops the weekday).
_WEEKS_AND_DAY = re.compile(
    rf"{_IN_WEEKS}\s+(?P<wd>{'|'.join(WEEKDAYS)})|(?P<wd2>{'|'.join(WEEKDAYS)})\s+{_IN_WEEKS.replace('?P<n>', '?P<n2>')}"
)


_DATE_IN_SENTENCE = re.compile(r"(?<![\d.])\d{1,2}\.\s?\d{1,2}\.\s?(?:\d{4}|\d{2})(?![\w.])")


class _Problem(Exception):
    """Understood as a date, but not usable; the message says why."""


def _normalise(text: str) -> str:
    s = clean(text).lower().rstrip("!?")
    for pattern, repl in _ASCII:
        s = pattern.sub(repl, s)
    s = _ORDINAL.sub(r"\1", s)
    s = _FILLER.sub(" ", s)
    s = re.sub(r"\s*,\s*", " ", s)  # "Mittwoch, 3. März"
    return re.sub(r"\s+", " ", s).strip()


def _century(yy: int, kind: str, month: int, day: int, today: dt.date) -> int:
    """Full year for a two-digit year, depending on what the field is about."""
    recent, older = 2000 + yy, 1900 + yy  # valid until 2099, as are the limits below
    if kind == "birth_date":  # the latest year that is not in the future
        try:
            return recent if dt.date(recent, month, day) <= today else older
        except ValueError:  # 29.02. in a non-leap year: let the date check complain
            return recent if recent <= today.year else older
    if kind == "future_date":
        return recent
    if kind == "past_date":  # like a birth date: the latest year that is not in the future
        return recent if recent <= today.year else older
    return recent if recent <= today.year + GENERIC_YEARS_AHEAD else older


def _without_year(month: int, day: int, kind: str, today: dt.date) -> dt.date:
    if kind == "birth_date":
        raise _Problem("Beim Geburtsdatum fehlt das Jahr.")
    date = _make(today.year, month, day)
    if kind == "future_date" and date < today:  # "12.03." in June means next March
        date = _make(today.year + 1, month, day)
    if kind == "past_date" and date > today:  # "12.11." in March means last November
        date = _make(today.year - 1, month, day)
    return date


def _make(year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise _Problem("Dieses Datum gibt es nicht im Kalender.") from None


def _numeric(s: str, kind: str, today: dt.date) -> Optional[dt.date]:
    m = _ISO.fullmatch(s)
    if m:
        return _make(int(m[1]), int(m[2]), int(m[3]))
    m = _DMY.fullmatch(s)
    if m:
        day, month, year = int(m[1]), int(m[3]), m[4]
        if english_input() and m[2] != "." and day != month and day <= 12 and month <= 12:
            # "08/12/1964" is 8 December in Britain and 12 August in America: ask, never guess.
            y = _century(int(year), kind, month, day, today) if len(year) == 2 else int(year)
            one, other = _make(y, month, day), _make(y, day, month)
            raise _Problem(
                f"Meinen Sie den {one:%d.%m.%Y} oder den {other:%d.%m.%Y}? Bitte schreiben Sie den Monat als Wort."
            )
    else:
        m = _COMPACT.fullmatch(s)
        if m:
            day, month, year = int(m[1]), int(m[2]), m[3]
        else:
            m = _DM.fullmatch(s)
            if not m:
                return None
            return _without_year(int(m[2]), int(m[1]), kind, today)
    y = int(year)
    if len(year) == 2:
        y = _century(y, kind, month, day, today)
    return _make(y, month, day)


def _weekday(s: str, today: dt.date) -> Optional[dt.date]:
    weeks = _WEEKS_AND_DAY.fullmatch(s)
    if weeks:
        n = weeks["n"] or weeks["n2"]
        count = int(n) if n.isdigit() else _COUNT_WORDS[n]
        monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=count)
        return monday + dt.timedelta(days=WEEKDAYS[weeks["wd"] or weeks["wd2"]])
    m = _WEEKDAY.fullmatch(s) or _WEEK_THEN_DAY.fullmatch(s)
    if not m:
        return None
    wd = WEEKDAYS[m["wd"]]
    week = m.groupdict().get("week")
    if week:  # "Dienstag nächste Woche": that day of the next calendar week
        monday = today - dt.timedelta(days=today.weekday())
        if not week.startswith("diese"):
            monday += dt.timedelta(days=7)
        return monday + dt.timedelta(days=wd)
    mod = m.groupdict().get("mod") or ""
    if mod.startswith(("letzte", "vergangene", "last")):  # the most recent one before today
        return today - dt.timedelta(days=(today.weekday() - wd - 1) % 7 + 1)
    if mod.startswith(("nächste", "kommende", "übernächste", "next", "coming")):  # the next one after today
        ahead = (wd - today.weekday() - 1) % 7 + 1
        if mod.startswith("über"):
            ahead += 7
        return today + dt.timedelta(days=ahead)
    # "Dienstag", "diesen Dienstag": the coming one, today included
    return today + dt.timedelta(days=(wd - today.weekday()) % 7)


def _dateparser(s: str, prefer: str, today: dt.date, language: str = "de") -> Optional[dt.datetime]:
    return dateparser.parse(
        s,
        languages=[language],
        settings={
            "RELATIVE_BASE": dt.datetime.combine(today, dt.time()),
            "DATE_ORDER": "DMY",
            "PREFER_DATES_FROM": prefer,
            # "Juli 2025" names a month, not a day: ask rather than pick a day
            "REQUIRE_PARTS": ["day", "month"],
        },
    )


def _with_words(s: str, kind: str, today: dt.date) -> Optional[dt.date]:
    """Month names and relative expressions, through dateparser."""
    if not (MONTH_WORD.search(s) or _RELATIVE_WORD.search(s)):
        return None  # e.g. digits only: dateparser guesses too freely (see the module docstring)
    prefer = {"birth_date": "past", "past_date": "past", "future_date": "future"}.get(kind, "current_period")
    try:
        parsed = _dateparser(s, prefer, today)
        if parsed is None:  # English month names and words ("Aug 12 1964", "tomorrow"; issue 20)
            parsed = _dateparser(s, prefer, today, "en")
    except Exception:  # a library hiccup must not break the form: treat it as "not understood"
        return None
    if parsed is None:
        return None
    date = parsed.date()
    if MONTH_WORD.search(s):
        # Our own year rules for absolute dates, so that "3. März 85" behaves like "3.3.85".
        year4 = re.search(r"\b\d{4}\b", s)
        # a two-digit year only after "<day> <month>": in "März 12" the 12 is the day
        year2 = re.search(r"\d{1,2}\s*\.?\s*([a-zä]+)\s*\.?\s*(\d{2})$", s)
        if year4:
            pass
        elif year2 and MONTH_WORD.fullmatch(year2[1]):
            date = _make(_century(int(year2[2]), kind, date.month, date.day, today), date.month, date.day)
        else:
            date = _without_year(date.month, date.day, kind, today)
    return date


def parse_date(text: str, kind: str, today: dt.date) -> dt.date:
    """The date meant by ``text``; raises ``_Problem`` with a German reason otherwise."""
    s = _normalise(text)
    if not s:
        raise _Problem("Ich habe kein Datum erkannt.")
    if len(s) > MAX_INPUT:
        raise _Problem("Das habe ich nicht als Datum erkannt.")
    if _SOON.fullmatch(s):
        return today
    if _VAGUE.fullmatch(s):
        raise _Problem("Ich brauche einen genauen Tag.")
    for parser in (_numeric, lambda s, k, t: _weekday(s, t), _with_words):
        date = parser(s, kind, today)
        if date is not None:
            return date
    # "wir sind am 30.11.2026 eingezogen": one written-out date inside a sentence.
    found = _DATE_IN_SENTENCE.findall(s)
    if len(found) == 1:
        date = _numeric(found[0], kind, today)
        if date is not None:
            return date
    raise _Problem("Das habe ich nicht als Datum erkannt.")


def _add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _check_range(date: dt.date, kind: str, today: dt.date) -> Optional[str]:
    if kind == "birth_date":
        if date > today:
            return "Das Geburtsdatum liegt in der Zukunft."
        if date < EARLIEST:
            return "Das Geburtsdatum liegt vor 1900."
    elif kind == "past_date":
        if date > today:
            return "Das Datum liegt in der Zukunft. Es muss heute oder früher sein."
        if date < EARLIEST:
            return "Das Datum liegt vor 1900."
    elif kind == "future_date":
        if date < today:
            return "Das Datum liegt in der Vergangenheit. Es muss heute oder später sein."
        if date > _add_years(today, FUTURE_YEARS_AHEAD):
            return f"Das Datum liegt mehr als {FUTURE_YEARS_AHEAD} Jahre in der Zukunft."
    else:
        if date < EARLIEST:
            return "Das Datum liegt vor 1900."
        if date > _add_years(today, GENERIC_YEARS_AHEAD):
            return f"Das Datum liegt mehr als {GENERIC_YEARS_AHEAD} Jahre in der Zukunft."
    return None


def validate_date(text: str, ctx: Context) -> Result:
    kind = ctx.field_type
    try:
        date = parse_date(text, kind, ctx.today)
    except _Problem as p:
        return ctx.fail(str(p), refer=False)
    problem = _check_range(date, kind, ctx.today)
    if problem:
        return ctx.fail(problem)
    return Result.success(date.isoformat(), date.strftime("%d.%m.%Y"))


def default_example(kind: str, today: dt.date) -> str:
    if kind == "birth_date":
        return "12.08.1964"
    if kind == "future_date":  # must itself be valid, so it moves with today
        return (today + dt.timedelta(days=14)).strftime("%d.%m.%Y")
    return "12.08.2024"

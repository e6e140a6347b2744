"""Office hours of the staff: per weekday from the setting ``HANDOFF_OFFICE_HOURS``, closed on the
public holidays of ``HANDOFF_HOLIDAY_REGION`` (the ``holidays`` library; Bavaria by default).

Format: parts separated by ``;``, each ``<days> <HH:MM>-<HH:MM>[, <HH:MM>-<HH:MM>]``; days are
``Mo Di Mi Do Fr Sa So``, a range ``Mo-Do`` or a list ``Mo,Mi``. Example:
``Mo-Do 08:00-12:00, 13:00-16:00; Fr 08:00-12:00``. Times are German local time (Europe/Berlin).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional
from zoneinfo import ZoneInfo

import holidays

from buergerassistent import translations

BERLIN = ZoneInfo("Europe/Berlin")
DAYS = ("mo", "di", "mi", "do", "fr", "sa", "so")


def day_names(lang: str = "de") -> list[str]:
    """Monday … Sunday in ``lang`` (``handoff_days`` of its messages.yaml)."""
    return [d.strip() for d in translations.message(lang, "handoff_days").split(",")]


DAY_NAMES = tuple(day_names("de"))
_PART = re.compile(r"^\s*(?P<days>[A-Za-z,\- ]+?)\s+(?P<times>\d.*)$")
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class OfficeHoursError(ValueError):
    """The setting cannot be read; the message says where (German, for the operator)."""


Span = tuple[dt.time, dt.time]


@dataclass(frozen=True)
class OfficeHours:
    week: tuple[tuple[Span, ...], ...]  # index 0 = Monday
    region: str = "BY"

    def closed_for_holiday(self, day: dt.date, language: str = "de") -> Optional[str]:
        """The name of the public holiday on ``day`` (in ``language``: ``de`` or ``en_US``), else None."""
        return _holidays(self.region, day.year, language).get(day)

    def is_open(self, now: Optional[dt.datetime] = None) -> bool:
        local = _local(now)
        if self.closed_for_holiday(local.date()):
            return False
        return any(start <= local.time() < end for start, end in self.week[local.weekday()])

    def next_opening(self, now: Optional[dt.datetime] = None) -> Optional[dt.datetime]:
        """When staff are there next (within two weeks), local time; None if never."""
        local = _local(now)
        for offset in range(15):
            day = local.date() + dt.timedelta(days=offset)
            if self.closed_for_holiday(day):
                continue
            for start, end in self.week[day.weekday()]:
                begin = dt.datetime.combine(day, start, BERLIN)
                if offset == 0 and local.time() >= end:
                    continue
                return max(begin, local) if offset == 0 else begin
        return None

    def describe(self, lang: str = "de") -> str:
        """ "Montag bis Donnerstag 08:00–16:00 Uhr, Freitag 08:00–12:00 Uhr, nicht an Feiertagen"
        (for the citizen; the words are the ``handoff_*`` texts of ``lang``)."""

        def say(key: str, **values: str) -> str:
            return translations.message(lang, f"handoff_{key}", **values)

        names = day_names(lang)
        parts, i = [], 0
        while i < 7:
            j = i
            while j + 1 < 7 and self.week[j + 1] == self.week[i]:
                j += 1
            if self.week[i]:
                days = names[i] if i == j else say("day_range", first=names[i], last=names[j])
                spans = [say("time_span", start=f"{a:%H:%M}", end=f"{b:%H:%M}") for a, b in self.week[i]]
                parts.append(f"{days} " + f" {say('and')} ".join(spans))
            i = j + 1
        return ", ".join(parts) + ", " + say("hours_not_on_holidays") if parts else say("hours_none")


def _local(now: Optional[dt.datetime]) -> dt.datetime:
    now = now or dt.datetime.now(BERLIN)
    if now.tzinfo is None:
        now = now.replace(tzinfo=BERLIN)
    return now.astimezone(BERLIN)


NO_HOLIDAYS = ("keine", "none")


@lru_cache(maxsize=16)
def _holidays(region: str, year: int, language: str = "de") -> dict:
    """Public holidays of ``region`` (a German state code, e.g. BY); ``keine``: none (a desk
    that is also staffed on holidays, and the tests)."""
    if (region or "").strip().lower() in NO_HOLIDAYS:
        return {}
    return holidays.country_holidays("DE", subdiv=region or None, years=year, language=language)


def _day_index(token: str) -> int:
    key = token.strip().lower()[:2]
    if key not in DAYS:
        raise OfficeHoursError(
            f"HANDOFF_OFFICE_HOURS: unbekannter Wochentag „{token.strip()}“ (Mo, Di, Mi, Do, Fr, Sa, So)"
        )
    return DAYS.index(key)


def parse(text: str, region: str = "BY") -> OfficeHours:
    week: list[list[Span]] = [[] for _ in range(7)]
    for part in filter(str.strip, (text or "").split(";")):
        match = _PART.match(part)
        if not match:
            raise OfficeHoursError(f"HANDOFF_OFFICE_HOURS: „{part.strip()}“ ist nicht „<Tage> HH:MM-HH:MM“")
        days: set[int] = set()
        for item in match["days"].split(","):
            if "-" in item:
                first, last = (_day_index(t) for t in item.split("-", 1))
                if last < first:
                    raise OfficeHoursError(f"HANDOFF_OFFICE_HOURS: „{item.strip()}“ läuft rückwärts")
                days.update(range(first, last + 1))
            else:
                days.add(_day_index(item))
        for span in match["times"].split(","):
            m = _SPAN.match(span)
            if not m:
                raise OfficeHoursError(f"HANDOFF_OFFICE_HOURS: Zeit „{span.strip()}“ ist nicht HH:MM-HH:MM")
            try:
                start, end = dt.time(int(m[1]), int(m[2])), dt.time(int(m[3]), int(m[4]))
            except ValueError as exc:
                raise OfficeHoursError(f"HANDOFF_OFFICE_HOURS: Zeit „{span.strip()}“ gibt es nicht") from exc
            if end <= start:
                raise OfficeHoursError(f"HANDOFF_OFFICE_HOURS: „{span.strip()}“ endet vor dem Beginn")
            for day in days:
                week[day].append((start, end))
    return OfficeHours(tuple(tuple(sorted(spans)) for spans in week), region)


def configured() -> OfficeHours:
    from buergerassistent.settings import get_settings

    s = get_settings()
    return parse(s.handoff_office_hours, s.handoff_holiday_region)


OPEN, CLOSED, UNAVAILABLE = "open", "closed", "unavailable"


def availability(now: Optional[dt.datetime] = None) -> str:
    """``open`` (a staff desk is configured and staff are there now), ``closed`` (outside office
    hours or on a holiday) or ``unavailable`` (no staff desk, or the office hours cannot be read)."""
    from buergerassistent.settings import get_settings

    if not get_settings().staff_desk_url:
        return UNAVAILABLE
    try:
        hours = configured()
    except OfficeHoursError:
        return UNAVAILABLE
    return OPEN if hours.is_open(now) else CLOSED

"""Dates and times as French speakers write them, read in the group's time zone.

One-off: "demain 14h", "mardi prochain 9h30", "3 décembre 14h", "03/12 à 14h30",
"le 3/12/2026 14:00". Series: "chaque premier mardi du mois 14h", "tous les mardis 10h".
Anything ambiguous or in the past is refused with a message key naming the problem, never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.errors import RefusalError

WEEKDAYS = {"lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6}
MONTHS = {
    "janvier": 1,
    "janv": 1,
    "jan": 1,
    "fevrier": 2,
    "fevr": 2,
    "fev": 2,
    "mars": 3,
    "avril": 4,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "juil": 7,
    "aout": 8,
    "septembre": 9,
    "sept": 9,
    "sep": 9,
    "octobre": 10,
    "oct": 10,
    "novembre": 11,
    "nov": 11,
    "decembre": 12,
    "dec": 12,
}
ORDINALS = {
    "premier": 1,
    "1er": 1,
    "deuxieme": 2,
    "2e": 2,
    "2eme": 2,
    "second": 2,
    "troisieme": 3,
    "3e": 3,
    "3eme": 3,
    "quatrieme": 4,
    "4e": 4,
    "4eme": 4,
    "dernier": -1,
}
EARLIEST_HOUR = 7  # "2h" is far more often a slip for 14h than a meeting at night
MAX_AHEAD = timedelta(days=366)

_TIME_RE = re.compile(r"(?<!\d)(\d{1,2})\s*(?:h|heures?|:)\s*(\d{2})?(?!\d)|\b(midi)\b")
_NUMERIC_DATE_RE = re.compile(r"(?<!\d)(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?(?!\d)")
_TEXT_DATE_RE = re.compile(r"(?<!\d)(\d{1,2}|1er)\s+([a-z]+)\.?(?:\s+(\d{4}))?")
_MONTHLY_RE = re.compile(
    r"\b(?:chaque|tous les)\s+(\w+)\s+(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)s?\s+du\s+mois\b"
)
_WEEKLY_RE = re.compile(r"\b(?:chaque|tous les)\s+(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)s?\b")


class DateError(RefusalError):
    """A date or time that cannot be understood or used."""


@dataclass(frozen=True)
class Recurrence:
    """A series: every week on `weekday`, or every month on the `nth` `weekday` (-1: the last)."""

    weekday: int
    hour: int
    minute: int
    nth: int | None = None  # None: weekly

    def occurrences(self, after: datetime, zone: ZoneInfo, count: int) -> list[datetime]:
        """The next `count` starts strictly after `after`, as UTC, at the same local wall time."""
        local_after = after.astimezone(zone)
        found: list[datetime] = []
        day = local_after.date()
        while len(found) < count:
            if self.matches(day):
                start = datetime.combine(day, time(self.hour, self.minute), zone)
                if start > local_after:
                    found.append(start.astimezone(UTC))
            day += timedelta(days=1)
        return found

    def matches(self, day: date) -> bool:
        if day.weekday() != self.weekday:
            return False
        if self.nth is None:
            return True
        if self.nth == -1:
            return (day + timedelta(days=7)).month != day.month
        return (day.day - 1) // 7 + 1 == self.nth


def normalise(text: str) -> str:
    """Lower case, no accents, single spaces: what people type varies, the meaning does not."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.replace("’", "'").split())


def _parse_time(text: str) -> tuple[int, int] | None:
    matches = list(_TIME_RE.finditer(text))
    if not matches:
        return None
    if len(matches) > 1:
        raise DateError("date.error.two_times")
    match = matches[0]
    if match.group(3):
        return 12, 0
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        raise DateError("date.error.bad_time")
    if hour < EARLIEST_HOUR:
        raise DateError("date.error.night", hour=hour, afternoon=hour + 12)
    return hour, minute


def _strip_time(text: str) -> str:
    return _TIME_RE.sub(" ", text)


RECENT_PAST = timedelta(days=183)


def _year_for(day: int, month: int, today: date) -> date:
    """Without a year: this year if still ahead. A date passed within six months is a past date
    (a slip, not a meeting next year); an older one means next year ("5/1" written in November)."""
    try:
        candidate = date(today.year, month, day)
    except ValueError:
        candidate = None
    if candidate is not None and candidate >= today:
        return candidate
    if candidate is not None and today - candidate <= RECENT_PAST:
        raise DateError("date.error.past")
    try:
        return date(today.year + 1, month, day)
    except ValueError:
        raise DateError("date.error.bad_date") from None


def _make_date(day: int, month: int, year: int | None, today: date) -> date:
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        raise DateError("date.error.bad_date")
    if year is None:
        return _year_for(day, month, today)
    if year < 100:
        year += 2000
    try:
        return date(year, month, day)
    except ValueError:
        raise DateError("date.error.bad_date") from None


def _parse_day(text: str, today: date) -> date | None:
    weekday = next((number for name, number in WEEKDAYS.items() if re.search(rf"\b{name}\b", text)), None)
    found: date | None = None
    if re.search(r"\bapres[- ]demain\b", text):
        found = today + timedelta(days=2)
    elif re.search(r"\bdemain\b", text):
        found = today + timedelta(days=1)
    elif re.search(r"\baujourd'?hui\b|\bce soir\b", text):
        found = today
    elif match := _NUMERIC_DATE_RE.search(text):
        year = int(match.group(3)) if match.group(3) else None
        found = _make_date(int(match.group(1)), int(match.group(2)), year, today)
    elif (match := _TEXT_DATE_RE.search(text)) and match.group(2) in MONTHS:
        day = 1 if match.group(1) == "1er" else int(match.group(1))
        found = _make_date(day, MONTHS[match.group(2)], int(match.group(3)) if match.group(3) else None, today)
    if found is not None:
        if weekday is not None and found.weekday() != weekday:
            names = {v: k for k, v in WEEKDAYS.items()}
            raise DateError(
                "date.error.weekday_mismatch", date=found.strftime("%d/%m/%Y"), weekday=names[found.weekday()]
            )
        return found
    if weekday is not None:
        # "mardi" and "mardi prochain": the first Tuesday after today.
        ahead = (weekday - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    return None


def parse_when(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """A one-off date and time, returned in UTC. Raises DateError."""
    cleaned = normalise(text)
    if not cleaned:
        raise DateError("date.error.empty")
    if _MONTHLY_RE.search(cleaned) or _WEEKLY_RE.search(cleaned):
        raise DateError("date.error.series_here")
    clock = _parse_time(cleaned)
    today = now.astimezone(zone).date()
    day = _parse_day(_strip_time(cleaned), today)
    if day is None:
        raise DateError("date.error.no_date")
    if clock is None:
        raise DateError("date.error.no_time")
    local = datetime.combine(day, time(*clock), zone)
    # A wall time that does not exist or exists twice (DST) comes out of zoneinfo normalised.
    start = local.astimezone(UTC)
    if start <= now:
        raise DateError("date.error.past")
    if start - now > MAX_AHEAD:
        raise DateError("date.error.too_far")
    return start


def parse_until(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """A deadline, returned in UTC: a date and time as parse_when reads them, or a time alone
    ("18h"), which means today, or tomorrow once that time has passed. Raises DateError."""
    cleaned = normalise(text)
    clock = _parse_time(cleaned) if cleaned else None
    today = now.astimezone(zone).date()
    if clock is None or _strip_time(cleaned).strip() not in ("", "a"):
        return parse_when(text, now, zone)
    start = datetime.combine(today, time(*clock), zone).astimezone(UTC)
    if start <= now:
        start = datetime.combine(today + timedelta(days=1), time(*clock), zone).astimezone(UTC)
    return start


_DURATION_RE = re.compile(
    r"^(?:(?P<days>\d{1,2}|un|une)\s*(?:j|jours?)"
    r"|(?P<hours>\d{1,3}|un|une)\s*(?:h|heures?)\s*(?:(?P<and>\d{1,2})\s*(?:min|mn|minutes?)?)?"
    r"|(?P<half>une demi[- ]heure)"
    r"|(?P<minutes>\d{1,4}|un|une)\s*(?:min|mn|minutes?))$"
)


def parse_duration(text: str) -> timedelta | None:
    """ "5 min", "10 minutes", "1 h", "1h30", "2 heures", "une demi-heure", "3 jours"; None when
    the text is not a duration."""
    match = _DURATION_RE.match(normalise(text).removesuffix("."))
    if match is None:
        return None

    def number(name: str) -> int:
        value = match.group(name)
        return 1 if value in ("un", "une") else int(value)

    if match.group("days"):
        return timedelta(days=number("days"))
    if match.group("hours"):
        extra = int(match.group("and")) if match.group("and") else 0
        return None if extra > 59 else timedelta(hours=number("hours"), minutes=extra)
    if match.group("half"):
        return timedelta(minutes=30)
    return timedelta(minutes=number("minutes"))


def parse_series(text: str) -> Recurrence:
    """A repeating rule. Raises DateError."""
    cleaned = normalise(text)
    clock = _parse_time(cleaned)
    if (match := _MONTHLY_RE.search(cleaned)) is not None:
        nth = ORDINALS.get(match.group(1))
        if nth is None:
            raise DateError("date.error.bad_ordinal", word=match.group(1))
        rule = Recurrence(weekday=WEEKDAYS[match.group(2)], hour=0, minute=0, nth=nth)
    elif (match := _WEEKLY_RE.search(cleaned)) is not None:
        rule = Recurrence(weekday=WEEKDAYS[match.group(1)], hour=0, minute=0)
    else:
        raise DateError("date.error.no_series")
    if clock is None:
        raise DateError("date.error.no_time")
    return Recurrence(weekday=rule.weekday, hour=clock[0], minute=clock[1], nth=rule.nth)


_UNTIL_MONTH_RE = re.compile(r"\bjusqu'?\s*(?:en|a fin|a la fin de|fin)\s+([a-z]+)\b")
_UNTIL_DATE_RE = re.compile(r"\bjusqu'?\s*(?:au|a)\s+(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?\b")
_COUNT_RE = re.compile(r"\b(\d{1,2})\s*(?:fois|reunions?)\b")
SERIES_COUNT_MAX = 52


@dataclass(frozen=True)
class SeriesEnd:
    """When a series stops: after a last day, after a number of meetings, or never (both None)."""

    last_day: date | None = None
    meetings: int | None = None


def parse_series_end(text: str, today: date) -> SeriesEnd:
    """ "… jusqu'en juin", "… jusqu'au 30/06", "… 6 fois", "… pour 6 réunions". Raises DateError."""
    cleaned = normalise(text)
    if (match := _UNTIL_MONTH_RE.search(cleaned)) is not None:
        month = MONTHS.get(match.group(1))
        if month is None:
            raise DateError("date.error.bad_date")
        year = today.year if month >= today.month else today.year + 1
        following = date(year + (month == 12), month % 12 + 1, 1)
        return SeriesEnd(last_day=following - timedelta(days=1))
    if (match := _UNTIL_DATE_RE.search(cleaned)) is not None:
        day, month = int(match.group(1)), int(match.group(2))
        if match.group(3):
            last = _make_date(day, month, int(match.group(3)), today)
        else:  # a series ends ahead: a day already passed this year is next year's
            last = _make_date(day, month, today.year, today)
            if last < today:
                last = _make_date(day, month, today.year + 1, today)
        if last < today:
            raise DateError("date.error.past")
        return SeriesEnd(last_day=last)
    if (match := _COUNT_RE.search(cleaned)) is not None:
        count = int(match.group(1))
        if not 1 <= count <= SERIES_COUNT_MAX:
            raise DateError("date.error.series_count", high=SERIES_COUNT_MAX)
        return SeriesEnd(meetings=count)
    return SeriesEnd()


def is_series(text: str) -> bool:
    cleaned = normalise(text)
    return bool(_MONTHLY_RE.search(cleaned) or _WEEKLY_RE.search(cleaned))


def parse_day(text: str, now: datetime, zone: ZoneInfo) -> date:
    """A day without a time ("20/12", "vendredi", "le 3 janvier"), today or later. Raises DateError."""
    cleaned = normalise(text)
    if not cleaned:
        raise DateError("date.error.empty")
    today = now.astimezone(zone).date()
    day = _parse_day(_strip_time(cleaned), today)
    if day is None:
        raise DateError("date.error.no_date")
    if day < today:
        raise DateError("date.error.past")
    if day - today > MAX_AHEAD:
        raise DateError("date.error.too_far")
    return day

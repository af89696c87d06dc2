"""The period of a report, as facilitators write it after /bilan, in the group's time zone.

- nothing: the last 3 months, up to today;
- "2026": that calendar year;
- "septembre" or "sept 2025": that month (without a year, the latest one that has begun);
- "01/09 31/12" or "1/9/2025 31/12/2025": from one day to the other, both included (without a
  year, the current one; an end before its start is in the next year; a start still ahead goes
  back a year).

Anything else is refused with `report.error.period`; never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.dates import MONTHS, normalise
from bot.domain.errors import RefusalError

DEFAULT_MONTHS = 3
_DAY_RE = re.compile(r"^(\d{1,2})/(\d{1,2})(?:/(\d{4}))?$")
_YEAR_RE = re.compile(r"^(\d{4})$")


class PeriodError(RefusalError):
    """A period that cannot be understood."""


@dataclass(frozen=True)
class Period:
    start: date  # included
    end: date  # included

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The period as UTC instants: [start of the first day, start of the day after the last)."""
        begin = datetime.combine(self.start, time(0), zone).astimezone(UTC)
        finish = datetime.combine(self.end + timedelta(days=1), time(0), zone).astimezone(UTC)
        return begin, finish


def _months_back(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def _month(year: int, month: int) -> Period:
    following = date(year + month // 12, month % 12 + 1, 1)
    return Period(date(year, month, 1), following - timedelta(days=1))


def _valid_year(text: str) -> int:
    year = int(text)
    if not 2000 <= year <= 2100:
        raise PeriodError("report.error.period")
    return year


def _day(match: re.Match[str], year: int) -> date:
    try:
        return date(_valid_year(match.group(3)) if match.group(3) else year, int(match.group(2)), int(match.group(1)))
    except ValueError:
        raise PeriodError("report.error.period") from None


def parse_period(text: str, today: date) -> Period:
    """The period `text` names, seen from `today` (the group's local date). Raises PeriodError."""
    words = normalise(text).replace(" au ", " ").replace(" a ", " ").replace("du ", "").split()
    if not words:
        return Period(_months_back(today, DEFAULT_MONTHS), today)
    if len(words) == 1 and (whole := _YEAR_RE.match(words[0])):
        number = _valid_year(whole.group(1))
        return Period(date(number, 1, 1), date(number, 12, 31))
    if words[0] in MONTHS and len(words) <= 2:
        month = MONTHS[words[0]]
        if len(words) == 2:
            if not _YEAR_RE.match(words[1]):
                raise PeriodError("report.error.period")
            return _month(_valid_year(words[1]), month)
        year = today.year if month <= today.month else today.year - 1
        return _month(year, month)
    if len(words) == 2 and (first := _DAY_RE.match(words[0])) and (second := _DAY_RE.match(words[1])):
        start, end = _day(first, today.year), _day(second, today.year)
        if not first.group(3) and not second.group(3):
            if start > today:
                start, end = _day(first, today.year - 1), _day(second, today.year - 1)
            if end < start:
                end = _day(second, start.year + 1)
        if end < start or (end - start).days > 3 * 366:
            raise PeriodError("report.error.period")
        return Period(start, end)
    raise PeriodError("report.error.period")

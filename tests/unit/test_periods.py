"""/bilan's periods as facilitators write them: understood or refused with the period message,
never guessed; any text either way, never an exception (hypothesis)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.periods import Period, PeriodError, parse_period

TODAY = date(2026, 11, 2)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("", date(2026, 8, 2), TODAY),
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("2025", date(2025, 1, 1), date(2025, 12, 31)),
        ("septembre", date(2026, 9, 1), date(2026, 9, 30)),
        ("Février", date(2026, 2, 1), date(2026, 2, 28)),
        ("decembre", date(2025, 12, 1), date(2025, 12, 31)),  # not begun yet this year: last year's
        ("novembre", date(2026, 11, 1), date(2026, 11, 30)),  # the current month
        ("sept 2025", date(2025, 9, 1), date(2025, 9, 30)),
        ("01/09 31/12", date(2026, 9, 1), date(2026, 12, 31)),
        ("du 01/09 au 31/12", date(2026, 9, 1), date(2026, 12, 31)),
        ("1/9/2025 31/8/2026", date(2025, 9, 1), date(2026, 8, 31)),
        ("01/12 31/01", date(2025, 12, 1), date(2026, 1, 31)),  # started last year, ends in January
        ("01/10 31/01", date(2026, 10, 1), date(2027, 1, 31)),
    ],
)
def test_periods_as_written(text, start, end):
    assert parse_period(text, TODAY) == Period(start, end)


@pytest.mark.parametrize(
    "text", ["hier", "13/13 01/01", "31/02 01/03", "1999", "3000", "septembre 99", "01/09", "a b c", "2026 2027"]
)
def test_what_is_not_a_period_is_refused(text):
    with pytest.raises(PeriodError) as refused:
        parse_period(text, TODAY)
    assert refused.value.key == "report.error.period"


def test_bounds_are_the_local_days_in_utc():
    start, end = Period(date(2026, 3, 1), date(2026, 3, 31)).bounds(ZoneInfo("Europe/Paris"))
    assert start.isoformat() == "2026-02-28T23:00:00+00:00"
    assert end.isoformat() == "2026-03-31T22:00:00+00:00"  # summer time began on the 29th


@given(st.text(max_size=40), st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31)))
def test_any_text_is_a_period_or_refused(text, today):
    try:
        period = parse_period(text, today)
    except PeriodError as exc:
        assert exc.key == "report.error.period"
    else:
        assert period.start <= period.end

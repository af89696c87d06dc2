"""The French date parser: examples from the field, and properties over any input."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.dates import (
    MONTHS,
    WEEKDAYS,
    DateError,
    SeriesEnd,
    is_series,
    parse_duration,
    parse_series,
    parse_series_end,
    parse_until,
    parse_when,
)
from bot.domain.meetings import MeetingError, parse_offsets

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # Sunday 22 November, 10:00 in Paris
MONTH_NAMES = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


def local(text: str) -> str:
    return parse_when(text, NOW, PARIS).astimezone(PARIS).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("demain 14h", "2026-11-23 14:00"),
        ("après-demain 9h", "2026-11-24 09:00"),
        ("mardi prochain 9h30", "2026-11-24 09:30"),
        ("Mardi 14H", "2026-11-24 14:00"),
        ("3 décembre 14h", "2026-12-03 14:00"),
        ("le 3 decembre a 14h", "2026-12-03 14:00"),
        ("03/12 à 14h30", "2026-12-03 14:30"),
        ("le 3/12/2026 14:00", "2026-12-03 14:00"),
        ("3.12.26 14 h 15", "2026-12-03 14:15"),
        ("le 1er décembre à midi", "2026-12-01 12:00"),
        ("jeudi 3 décembre 14h", "2026-12-03 14:00"),
        ("5/1 10h", "2027-01-05 10:00"),
        ("aujourd'hui 18h", "2026-11-22 18:00"),
    ],
)
def test_examples(text, expected):
    assert local(text) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "date.error.empty"),
        ("demain", "date.error.no_time"),
        ("14h", "date.error.no_date"),
        ("3/11 14h", "date.error.past"),
        ("22/11 8h", "date.error.past"),
        ("30/02 14h", "date.error.bad_date"),
        ("demain 2h", "date.error.night"),
        ("demain 25h", "date.error.bad_time"),
        ("demain 14h ou 15h", "date.error.two_times"),
        ("mercredi 3 décembre 14h", "date.error.weekday_mismatch"),
        ("3/12/2028 14h", "date.error.too_far"),
        ("tous les mardis 14h", "date.error.series_here"),
        ("3/12/2025 14h", "date.error.past"),
    ],
)
def test_refusals_name_the_problem(text, key):
    with pytest.raises(DateError) as caught:
        parse_when(text, NOW, PARIS)
    assert caught.value.key == key


future = (
    st.datetimes(min_value=datetime(2026, 11, 23), max_value=datetime(2027, 11, 1))
    .map(lambda d: d.replace(second=0, microsecond=0))
    .filter(lambda d: d.hour >= 7)
)


@given(future)
def test_numeric_form_round_trips(moment):
    text = f"le {moment.day}/{moment.month}/{moment.year} à {moment.hour}h{moment.minute:02d}"
    assert parse_when(text, NOW, PARIS) == moment.replace(tzinfo=PARIS).astimezone(UTC)


@given(future, st.booleans())
def test_written_month_round_trips(moment, with_weekday):
    weekday = list(WEEKDAYS)[moment.weekday()] + " " if with_weekday else ""
    text = f"{weekday}{moment.day} {MONTH_NAMES[moment.month - 1]} {moment.year} {moment.hour}:{moment.minute:02d}"
    assert parse_when(text, NOW, PARIS) == moment.replace(tzinfo=PARIS).astimezone(UTC)


@settings(max_examples=300)
@given(st.text(max_size=80))
def test_any_text_gives_a_future_date_or_a_named_problem(text):
    try:
        start = parse_when(text, NOW, PARIS)
    except DateError as exc:
        assert exc.key.startswith("date.error.")
    else:
        assert NOW < start <= NOW + timedelta(days=366)
        assert start.astimezone(PARIS).hour >= 7


@given(
    st.sampled_from(list(WEEKDAYS)),
    st.integers(7, 22),
    st.sampled_from([0, 15, 30, 45]),
    st.sampled_from([None, "premier", "deuxième", "troisième", "quatrième", "dernier"]),
)
def test_series_occurrences_keep_weekday_and_local_time(day, hour, minute, nth):
    text = (
        f"tous les {day}s {hour}h{minute:02d}" if nth is None else f"chaque {nth} {day} du mois à {hour}h{minute:02d}"
    )
    assert is_series(text)
    rule = parse_series(text)
    starts = rule.occurrences(NOW, PARIS, 8)
    assert starts == sorted(starts) and starts[0] > NOW
    for start in starts:
        here = start.astimezone(PARIS)
        assert here.weekday() == WEEKDAYS[day] and (here.hour, here.minute) == (hour, minute)
        if nth == "dernier":
            assert (here + timedelta(days=7)).month != here.month
        elif nth is not None:
            assert (here.day - 1) // 7 + 1 == {"premier": 1, "deuxième": 2, "troisième": 3, "quatrième": 4}[nth]


@given(st.text(max_size=60))
def test_reminder_offsets_parse_or_name_the_problem(text):
    try:
        tokens = parse_offsets(text)
    except MeetingError as exc:
        assert exc.key.startswith("reminders.error.")
    else:
        assert 1 <= len(tokens) <= 5 and len(set(tokens)) == len(tokens)


def test_months_table_is_complete():
    assert set(MONTHS.values()) == set(range(1, 13))


# ----------------------------------------------------------------------------- deadlines for quick votes
@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("5 min", 5),
        ("10 minutes", 10),
        ("15mn", 15),
        ("une minute", 1),
        ("1 h", 60),
        ("1h30", 90),
        ("2 heures", 120),
        ("une heure", 60),
        ("une demi-heure", 30),
        ("3 jours", 3 * 24 * 60),
        ("5 MIN.", 5),
    ],
)
def test_durations_as_people_write_them(text, minutes):
    assert parse_duration(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["", "longtemps", "5", "1 h 70", "demain", "5 secondes", "-5 min"])
def test_what_is_not_a_duration(text):
    assert parse_duration(text) is None


@given(st.integers(min_value=0, max_value=9999), st.sampled_from(["min", "mn", "minute", "minutes", " min"]))
def test_any_number_of_minutes_reads_back(number, unit):
    assert parse_duration(f"{number}{unit}") == timedelta(minutes=number)


@given(st.text(max_size=40))
def test_durations_never_raise(text):
    found = parse_duration(text)
    assert found is None or found >= timedelta(0)


def test_a_time_alone_is_today_or_tomorrow_once_passed():
    assert parse_until("18h", NOW, PARIS) == datetime(2026, 11, 22, 17, 0, tzinfo=UTC)  # today
    assert parse_until("à 9h30", NOW, PARIS) == datetime(2026, 11, 23, 8, 30, tzinfo=UTC)  # 9h30 passed
    assert parse_until("10h", NOW, PARIS) == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # now is not ahead
    # With a day, the day decides, as for meetings; a day in the past is refused, not moved.
    assert parse_until("mardi 18h", NOW, PARIS) == datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
    with pytest.raises(DateError):
        parse_until("hier 18h", NOW, PARIS)
    with pytest.raises(DateError):
        parse_until("aujourd'hui 9h", NOW, PARIS)


def test_a_series_end_as_people_write_it():
    today = NOW.date()  # Sunday 22 November 2026
    assert parse_series_end("chaque premier mardi du mois 14h jusqu'en juin", today) == SeriesEnd(date(2027, 6, 30))
    assert parse_series_end("tous les mardis 10h jusqu'en décembre", today) == SeriesEnd(date(2026, 12, 31))
    assert parse_series_end("tous les mardis 10h jusqu'au 30/06", today) == SeriesEnd(date(2027, 6, 30))
    assert parse_series_end("chaque mardi 14h 6 fois", today) == SeriesEnd(meetings=6)
    assert parse_series_end("chaque mardi 14h pour 4 réunions", today) == SeriesEnd(meetings=4)
    assert parse_series_end("chaque mardi 14h", today) == SeriesEnd()
    for bad in ("chaque mardi 14h 99 fois", "chaque mardi 14h jusqu'en brumaire", "chaque mardi 14h jusqu'au 3/1/2020"):
        with pytest.raises(DateError):
            parse_series_end(bad, today)

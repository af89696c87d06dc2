"""Property-based tests for the proposal, poll, follow-up and action command parsers: any input
is either understood or refused with a message key, and what a facilitator writes comes back."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.domain.actions import parse_action
from bot.domain.dates import DateError, parse_day
from bot.domain.deeplinks import PROPOSE, derive_secret, group_payload, parse_group_payload, parse_payload
from bot.domain.errors import RefusalError
from bot.domain.polls import OPTIONS_MAX, parse_poll, parse_vote
from bot.domain.proposals import STATE_WORDS, ProposalError, parse_follow_up, parse_number
from bot.ui.i18n import catalogue

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
SECRET = derive_secret("123:abc")
# What people type in a segment: words, accents, punctuation, but not the separator.
WORDS = (
    st.text(
        alphabet=st.characters(blacklist_characters="|\n\r", blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
        min_size=1,
        max_size=60,
    )
    .map(lambda text: " ".join(text.split()))
    .filter(lambda text: text and not text.lower().startswith(("jusqu", "--", "—", "–", "-anonyme")))
)


def _refused_with_a_known_message(exc: Exception) -> None:
    assert isinstance(exc, RefusalError)
    assert exc.key in catalogue("fr"), exc.key


@given(st.text(max_size=2000))
def test_poll_parser_understands_or_refuses(text):
    try:
        spec = parse_poll(text)
    except Exception as exc:
        _refused_with_a_known_message(exc)
        return
    assert 2 <= len(spec.options) <= OPTIONS_MAX and 1 <= len(spec.question) <= 300
    assert all(1 <= len(option) <= 100 and "|" not in option for option in spec.options)


@given(
    WORDS,
    st.lists(WORDS, min_size=2, max_size=12, unique_by=str.casefold),
    st.booleans(),
    st.sampled_from(["", "demain 12h", "vendredi 18h"]),
)
def test_poll_round_trip(question, options, anonymous, deadline):
    assume(
        all(
            word.lower() not in ("--anonyme", "—anonyme", "–anonyme", "-anonyme", "--anonymous")
            for text in [question, *options]
            for word in text.split()
        )
    )
    command = " | ".join([question, *options] + ([f"jusqu'à {deadline}"] if deadline else [])) + (
        " --anonyme" if anonymous else ""
    )
    spec = parse_poll(command)
    assert spec.question == question and list(spec.options) == options
    assert spec.anonymous is anonymous and spec.deadline == (deadline or None)


def test_poll_limits_are_telegrams():
    for count, ok in ((1, False), (2, True), (12, True), (13, False)):
        command = "Q ? | " + " | ".join(f"option {i}" for i in range(count))
        try:
            assert len(parse_poll(command).options) == count and ok
        except ProposalError as exc:
            assert not ok and exc.key == "poll.error.options_count"


@given(st.text(max_size=300))
def test_vote_parser_understands_or_refuses(text):
    try:
        spec = parse_vote(text)
    except Exception as exc:
        _refused_with_a_known_message(exc)
        return
    assert spec.number >= 0


@given(
    st.integers(min_value=0, max_value=999_999),
    st.booleans(),
    st.sampled_from(["", "jusqu'à vendredi 18h", "jusqu’au 3/12 14h", "pendant 5 min", "10 minutes", "jusqu'à 18h"]),
)
def test_vote_round_trip(number, anonymous, deadline):
    spec = parse_vote(" ".join(part for part in (f"n°{number}", "--anonyme" if anonymous else "", deadline) if part))
    assert spec.number == number and spec.anonymous is anonymous
    assert (spec.deadline is None) == (deadline == "")


@pytest.mark.parametrize(
    ("command", "deadline"),
    [
        ("12 pendant 5 min", "pendant 5 min"),
        ("12 10 minutes", "pendant 10 minutes"),
        ("12 pendant 1h30", "pendant 1h30"),
        ("12 1h30", "1h30"),  # a time of day: half past one, as "jusqu'à 1h30" would be
        ("12 18h", "18h"),
        ("12 jusqu'à 18h", "18h"),
    ],
)
def test_vote_deadlines_as_durations_or_times(command, deadline):
    assert parse_vote(command).deadline == deadline


def test_a_poll_choice_that_looks_like_a_duration_stays_a_choice():
    spec = parse_poll("Combien de pause ? | 5 minutes | 10 minutes")
    assert spec.options == ("5 minutes", "10 minutes") and spec.deadline is None
    spec = parse_poll("Combien de pause ? | 5 minutes | 10 minutes | pendant 2 min")
    assert spec.options == ("5 minutes", "10 minutes") and spec.deadline == "pendant 2 min"


@given(st.text(max_size=500))
def test_follow_up_parser_understands_or_refuses(text):
    try:
        change = parse_follow_up(text)
    except Exception as exc:
        _refused_with_a_known_message(exc)
        return
    assert change.progress is None or 0 <= change.progress <= 100
    assert change.note is None or len(change.note) <= 300


@given(
    st.integers(min_value=1, max_value=999_999),
    st.sampled_from(sorted(STATE_WORDS)),
    st.one_of(st.none(), WORDS),
    st.one_of(st.none(), st.integers(min_value=0, max_value=100)),
    st.booleans(),
)
def test_follow_up_round_trip(number, word, note, progress, capitalise):
    state = STATE_WORDS[word]
    typed = word.replace("e", "é", 1) if word in ("acceptee", "realisee", "refusee") else word
    if capitalise:
        typed = typed.upper()
    assume(note is None or "%" not in note)  # "40%" in a note would read as the progress
    parts = [str(number), typed]
    if state == "in_progress" and progress is not None:
        parts.append(f"{progress}%")
    if note:
        parts.append(note)
    try:
        change = parse_follow_up(" ".join(parts))
    except ProposalError as exc:
        assert exc.key == "suivi.error.note_long"
        return
    assert change.number == number and change.state == state
    if state == "in_progress":
        assert change.progress == progress
    if note and state != "in_progress":
        assert change.note == (note.lstrip(" :-–—").strip() or None)  # a note of only dashes is no note


@given(st.text(max_size=600))
def test_action_parser_understands_or_refuses(text):
    try:
        spec = parse_action(text)
    except Exception as exc:
        _refused_with_a_known_message(exc)
        return
    assert spec.text and spec.due and len(spec.text) <= 300


@given(
    st.from_regex(r"[A-Za-z][A-Za-z0-9_]{3,31}", fullmatch=True),
    WORDS,
    st.dates(min_value=date(2026, 11, 2), max_value=date(2027, 10, 1)),
)
def test_action_round_trip(username, task, due):
    assume(not task.startswith("@"))
    spec = parse_action(f"@{username} {task} | {due.day}/{due.month}/{due.year}")
    assert spec.username == username and spec.text == task
    assert parse_day(spec.due, NOW, PARIS) == due


@given(st.text(max_size=100))
def test_day_parser_understands_or_refuses(text):
    try:
        day = parse_day(text, NOW, PARIS)
    except DateError as exc:
        _refused_with_a_known_message(exc)
        return
    assert day >= date(2026, 11, 2)


@given(st.text(max_size=30))
def test_number_parser(text):
    number = parse_number(text)
    assert number is None or (number >= 0 and str(number) in text)


@given(st.integers(min_value=1, max_value=10**17))
def test_propose_links_are_signed_and_distinct(group_id):
    payload = group_payload(SECRET, group_id, PROPOSE)
    assert len(payload) <= 64 and parse_payload(SECRET, payload) == (PROPOSE, group_id)
    assert parse_group_payload(SECRET, payload) is None  # a proposal link does not link a group
    assert parse_payload(derive_secret("other:token"), payload) is None


# ----------------------------------------------------------------------------- carpool
from datetime import UTC, timedelta  # noqa: E402

from bot.domain.carpool import (  # noqa: E402
    CarpoolError,
    nearest_place,
    parse_departure,
    parse_place,
    parse_seats,
)
from bot.domain.communes import EARTH_KM, haversine_km  # noqa: E402
from storage.models import Meeting, Place  # noqa: E402

LATITUDES = st.floats(min_value=-90, max_value=90, allow_nan=False)
LONGITUDES = st.floats(min_value=-180, max_value=180, allow_nan=False)


@given(st.text(max_size=200))
def test_place_parser_understands_or_refuses(text):
    try:
        spec = parse_place(text)
    except CarpoolError as exc:
        _refused_with_a_known_message(exc)
        return
    assert -90 <= spec.latitude <= 90 and -180 <= spec.longitude <= 180 and 1 <= len(spec.name) <= 60


@given(
    WORDS.filter(lambda name: len(name) <= 60),
    st.floats(min_value=-89.9, max_value=89.9),
    st.floats(min_value=-179.9, max_value=179.9),
    st.booleans(),
)
def test_place_round_trip(name, latitude, longitude, decimal_comma):
    lat, lon = f"{latitude:.5f}", f"{longitude:.5f}"
    if decimal_comma:
        lat, lon = lat.replace(".", ","), lon.replace(".", ",")
    spec = parse_place(f"{name} | {lat}, {lon}")
    assert spec.name == name and abs(spec.latitude - latitude) < 1e-4 and abs(spec.longitude - longitude) < 1e-4


@given(st.text(max_size=30))
def test_seats_parser(text):
    try:
        seats = parse_seats(text)
    except CarpoolError as exc:
        assert exc.key == "carpool.error.seats"
        return
    assert 1 <= seats <= 8


@given(st.integers(min_value=-5, max_value=120))
def test_seats_limits(seats):
    try:
        assert parse_seats(f"{seats} places") == seats and 1 <= seats <= 8
    except CarpoolError:
        assert not 1 <= seats <= 8


@given(st.text(max_size=30))
def test_departure_parser_before_the_meeting(text):
    meeting = Meeting(starts_at=datetime(2026, 11, 12, 13, 0, tzinfo=UTC))
    try:
        departs = parse_departure(text, meeting, PARIS, NOW)
    except CarpoolError as exc:
        _refused_with_a_known_message(exc)
        return
    assert NOW < departs < meeting.starts_at and meeting.starts_at - departs <= timedelta(hours=4)


@given(LATITUDES, LONGITUDES, LATITUDES, LONGITUDES, LATITUDES, LONGITUDES)
def test_haversine_is_a_distance(lat1, lon1, lat2, lon2, lat3, lon3):
    ab, ba = haversine_km(lat1, lon1, lat2, lon2), haversine_km(lat2, lon2, lat1, lon1)
    assert abs(ab - ba) < 1e-6 and 0 <= ab <= EARTH_KM * 3.1416
    assert haversine_km(lat1, lon1, lat1, lon1) < 1e-6
    # The triangle inequality, up to the formula's rounding near opposite points of the globe (< 1 m).
    assert ab <= haversine_km(lat1, lon1, lat3, lon3) + haversine_km(lat3, lon3, lat2, lon2) + 1e-3


def test_haversine_known_distance():
    assert 390 < haversine_km(48.8566, 2.3522, 45.7640, 4.8357) < 394  # Paris - Lyon, about 392 km


@given(st.lists(st.tuples(LATITUDES, LONGITUDES), min_size=1, max_size=10), LATITUDES, LONGITUDES)
def test_nearest_place_is_the_nearest(points, latitude, longitude):
    places = [Place(id=i, name=f"P{i}", latitude=lat, longitude=lon) for i, (lat, lon) in enumerate(points)]
    place, km = nearest_place(places, latitude, longitude)
    assert all(km <= haversine_km(latitude, longitude, p.latitude, p.longitude) + 1e-9 for p in places)


def test_minutes_are_measured_as_telegram_counts():
    """An emoji is two units for Telegram: 1,800 of them are 3,600, over the minutes' 3,500."""
    from bot.domain.minutes import TEXT_MAX, MinutesError, folded_lines

    assert folded_lines("🙂" * (TEXT_MAX // 2)) == "🙂" * (TEXT_MAX // 2)
    with pytest.raises(MinutesError) as refused:
        folded_lines("🙂" * 1800)
    assert refused.value.values == {"limit": TEXT_MAX, "length": 3600}

"""Meetings, series, answers and the planning of reminders, over a session on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.domain import meetings as m
from bot.domain.dates import parse_series
from bot.domain.errors import RefusalError
from bot.domain.events import EventKind
from storage.models import ScheduledEvent
from tests.support.world import NOW, SETTINGS, make_group, make_meeting, make_members


async def pending(session, meeting) -> dict[tuple[str, int], datetime]:
    rows = await session.scalars(
        select(ScheduledEvent).where(ScheduledEvent.meeting_id == meeting.id, ScheduledEvent.status == "pending")
    )
    return {(event.kind, event.offset_minutes): event.due_at for event in rows}


async def test_a_meeting_is_numbered_per_group_and_plans_its_reminders(session):
    group, other = await make_group(session, -1), await make_group(session, -2)
    first, second = await make_meeting(session, group), await make_meeting(session, group, days=20)
    elsewhere = await make_meeting(session, other)
    assert (first.number, second.number, elsewhere.number) == (1, 2, 1)
    events = await pending(session, first)
    # 12/11 at 14:00 Paris: J-7 and J-1 at 10:00 local time, the list the day before J-1.
    assert events[(EventKind.REMINDER, 7 * 24 * 60)] == datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
    assert events[(EventKind.REMINDER, 24 * 60)] == datetime(2026, 11, 11, 9, 0, tzinfo=UTC)
    assert events[(EventKind.DIGEST, 0)] == datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
    assert events[(EventKind.CHECKLIST, 0)] == first.starts_at + timedelta(minutes=SETTINGS.duration_minutes)
    assert (EventKind.SERIES_NEXT, 0) not in events  # a one-off meeting has no next


async def test_reminders_already_past_at_creation_are_not_sent_late(session):
    group = await make_group(session)
    soon = await make_meeting(session, group, days=3)
    events = await pending(session, soon)
    assert (EventKind.REMINDER, 7 * 24 * 60) not in events  # J-7 was last week
    assert (EventKind.REMINDER, 24 * 60) in events


async def test_a_past_or_empty_meeting_is_refused(session):
    group = await make_group(session)
    with pytest.raises(RefusalError, match="date.error.past"):
        await m.create_meeting(session, group, NOW - timedelta(hours=1), "Salle", "Sujet", None, None, NOW, SETTINGS)
    with pytest.raises(RefusalError):
        await m.create_meeting(session, group, NOW + timedelta(days=1), "  ", "Sujet", None, None, NOW, SETTINGS)


async def test_answers_count_change_and_close_at_the_start(session):
    group = await make_group(session)
    karim, julie, sami = await make_members(session, group, "Karim", "Julie", "Sami")
    meeting = await make_meeting(session, group)
    await m.record_answer(session, meeting, karim, "yes", NOW)
    await m.record_answer(session, meeting, julie, "no", NOW)
    await m.record_reason(session, meeting, julie, "health", NOW)
    await m.record_answer(session, meeting, sami, "maybe", NOW)
    assert await m.counts(session, meeting) == m.Counts(yes=1, no=1, maybe=1)
    changed = await m.record_answer(session, meeting, julie, "yes", NOW)
    assert changed.reason is None  # a reason belongs to a "no"
    assert await m.counts(session, meeting) == m.Counts(yes=2, no=0, maybe=1)
    with pytest.raises(RefusalError, match="button.expired"):
        await m.record_reason(session, meeting, julie, "health", NOW)  # she comes now
    with pytest.raises(RefusalError, match="button.invalid"):
        await m.record_answer(session, meeting, karim, "perhaps", NOW)
    with pytest.raises(RefusalError, match="rsvp.closed"):
        await m.record_answer(session, meeting, karim, "no", meeting.starts_at)


async def test_an_answer_says_whether_it_changed_and_the_same_answer_only_moves_its_moment(session):
    group = await make_group(session)
    (julie,) = await make_members(session, group, "Julie")
    meeting = await make_meeting(session, group)
    later = NOW + timedelta(minutes=5)
    assert await m.change_answer(session, meeting, julie, "no", NOW) is True  # the first
    await m.record_reason(session, meeting, julie, "transport", NOW)
    assert await m.change_answer(session, meeting, julie, "no", later) is False  # the same again
    rsvp = await m.record_answer(session, meeting, julie, "no", later)
    assert (rsvp.answer, rsvp.reason, rsvp.answered_at) == ("no", "transport", later)  # the reason stays
    assert await m.change_answer(session, meeting, julie, "maybe", later) is True
    rsvp = await m.record_answer(session, meeting, julie, "maybe", later)
    assert (rsvp.answer, rsvp.reason) == ("maybe", None)
    assert await m.counts(session, meeting) == m.Counts(yes=0, no=0, maybe=1)


async def test_moving_a_meeting_replans_and_cancelling_stops_everything(session):
    group = await make_group(session)
    meeting = await make_meeting(session, group, days=10)
    before = await pending(session, meeting)
    await m.move_meeting(session, meeting, group, meeting.starts_at + timedelta(days=7), NOW, SETTINGS)
    after = await pending(session, meeting)
    assert after[(EventKind.REMINDER, 24 * 60)] == before[(EventKind.REMINDER, 24 * 60)] + timedelta(days=7)
    await m.cancel_meeting(session, meeting, NOW)
    assert await pending(session, meeting) == {}
    with pytest.raises(RefusalError, match="meeting.error.not_open"):
        await m.move_meeting(session, meeting, group, meeting.starts_at + timedelta(days=1), NOW, SETTINGS)


async def test_group_reminders_replan_every_coming_meeting(session):
    group = await make_group(session)
    meeting = await make_meeting(session, group, days=10)
    count = await m.set_group_offsets(session, group, m.parse_offsets("2j 2h"), NOW, SETTINGS)
    assert count == 1
    events = await pending(session, meeting)
    assert (EventKind.REMINDER, 2 * 24 * 60) in events and (EventKind.REMINDER, 120) in events
    assert (EventKind.REMINDER, 7 * 24 * 60) not in events
    assert events[(EventKind.REMINDER, 120)] == meeting.starts_at - timedelta(hours=2)


async def test_a_series_plans_one_meeting_at_a_time_until_stopped(session):
    group = await make_group(session)
    series, first = await m.create_series(
        session, group, parse_series("chaque premier mardi du mois 14h"), "Salle", "Sujet", None, NOW, SETTINGS
    )
    assert first.starts_at == datetime(2026, 11, 3, 13, 0, tzinfo=UTC)  # Tuesday 3 November, 14h Paris
    assert (EventKind.SERIES_NEXT, 0) in await pending(session, first)
    assert await m.next_in_series(session, series, NOW, NOW, SETTINGS) is None  # one is already ahead
    assert await m.active_series(session, group) == [series]
    following = await m.next_in_series(session, series, first.starts_at, first.starts_at, SETTINGS)
    assert following is not None and following.starts_at == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    assert await m.next_of_series(session, series, first.starts_at) == following
    m.stop_series(series, NOW)
    assert await m.active_series(session, group) == []
    assert await m.next_in_series(session, series, following.starts_at, following.starts_at, SETTINGS) is None


async def test_editing_a_series_moves_the_meeting_already_announced(session):
    group = await make_group(session)
    series, first = await m.create_series(
        session, group, parse_series("chaque premier mardi du mois 14h"), "Salle", "Sujet", None, NOW, SETTINGS
    )
    moved = await m.edit_series(
        session, series, group, parse_series("tous les jeudis 10h"), "Mairie", "Bilan", first, NOW, SETTINGS
    )
    assert moved == datetime(2026, 11, 5, 9, 0, tzinfo=UTC) == first.starts_at
    assert (first.place, first.topic, series.place, series.hour) == ("Mairie", "Bilan", "Mairie", 10)

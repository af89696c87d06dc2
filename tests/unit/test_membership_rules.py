"""Membership over time, over a session on every backend: terms given, prolonged and recognised
when stale, the figures of a thank-you, the group line gathering arrivals, and the start date kept
on return."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.domain import membership as ms
from bot.domain.errors import RefusalError
from bot.domain.events import EventKind
from bot.domain.people import find_membership, record_departure, record_presence
from storage.models import Attendance, Proposal, ScheduledEvent
from tests.support.world import NOW, make_group, make_meeting, make_members


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31)), st.integers(0, 240))
def test_adding_months_keeps_the_day_or_takes_the_months_last(moment, months):
    later = ms.add_months(moment, months)
    assert (later.year * 12 + later.month) - (moment.year * 12 + moment.month) == months
    assert later.day == moment.day or (later.day < moment.day and (later + timedelta(days=1)).day == 1)
    assert later.time() == moment.time()


def test_adding_months_at_the_ends_of_months():
    assert ms.add_months(datetime(2027, 1, 31, tzinfo=UTC), 1) == datetime(2027, 2, 28, tzinfo=UTC)
    assert ms.add_months(datetime(2028, 1, 31, tzinfo=UTC), 1) == datetime(2028, 2, 29, tzinfo=UTC)
    assert ms.add_months(datetime(2026, 11, 2, tzinfo=UTC), 24) == datetime(2028, 11, 2, tzinfo=UTC)


async def term_events(session, membership):
    return list(
        await session.scalars(
            select(ScheduledEvent)
            .where(ScheduledEvent.subject_id == membership.id, ScheduledEvent.kind.in_(ms.TERM_EVENTS))
            .order_by(ScheduledEvent.id)
        )
    )


async def test_terms_are_given_with_a_months_notice_prolonged_and_stale_answers_refused(session):
    group = await make_group(session)
    karim, julie = await make_members(session, group, "Karim", "Julie")
    old = await find_membership(session, group, julie)
    old.joined_at = NOW - timedelta(days=800)  # terms configured long after she joined
    later = NOW + timedelta(days=10)
    due = await ms.give_terms(session, 24, later)
    karims, julies = await find_membership(session, group, karim), old
    assert karims.term_ends_at == datetime(2028, 11, 2, 9, 0, tzinfo=UTC)
    assert julies.term_ends_at == later + ms.TERM_NOTICE  # her term had passed: a month's notice
    assert later in due  # her notice is due at once
    assert await ms.give_terms(session, 24, later) == []  # given once
    events = await term_events(session, karims)
    assert [(e.kind, e.due_at, e.status) for e in events] == [
        (EventKind.TERM_NOTICE, karims.term_ends_at - ms.TERM_NOTICE, "pending"),
        (EventKind.TERM_END, karims.term_ends_at, "pending"),
    ]
    key = ms.minute_key(karims.term_ends_at)
    ms.record_wish(karims, key, "stay")
    assert karims.stay_wish == "stay"
    with pytest.raises(RefusalError, match="term.expired"):
        ms.record_wish(karims, key + 1, "stop")  # a button of another term
    await ms.renew_term(session, group, karims, 24, NOW)
    await session.flush()
    assert karims.term_ends_at == datetime(2030, 11, 2, 9, 0, tzinfo=UTC) and karims.stay_wish is None
    assert not ms.is_current(karims, key)
    events = await term_events(session, karims)
    assert [e.status for e in events] == ["cancelled", "cancelled", "pending", "pending"]
    assert events[-1].offset_minutes == ms.minute_key(karims.term_ends_at)


async def test_a_thank_you_counts_what_the_group_did_while_the_member_was_there(session):
    group = await make_group(session)
    karim, julie = await make_members(session, group, "Karim", "Julie")
    first, second = await make_meeting(session, group, days=5), await make_meeting(session, group, days=20)
    await make_meeting(session, group, days=60)  # after he left: not counted
    session.add(Attendance(meeting_id=first.id, person_id=karim.id, present=True))
    session.add(Attendance(meeting_id=second.id, person_id=karim.id, present=False))
    session.add(Attendance(meeting_id=second.id, person_id=julie.id, present=True))
    for number, state in enumerate(("new", "studying", "accepted", "done", "withdrawn"), start=1):
        session.add(
            Proposal(
                group_id=group.id,
                number=number,
                text=f"Proposition {number}",
                state=state,
                created_at=NOW + timedelta(days=number),
                state_changed_at=NOW,
            )
        )
    await session.flush()
    membership = await record_departure(session, group, karim.telegram_id, NOW + timedelta(days=40))
    facts = await ms.exit_facts(session, group, membership, NOW + timedelta(days=90))
    assert (facts.meetings, facts.attended) == (2, 1)
    assert (facts.proposals, facts.transmitted, facts.taken) == (4, 3, 2)  # the withdrawn one is gone
    assert facts.until == NOW + timedelta(days=40)
    assert await ms.deserves_thanks(session, membership, NOW + timedelta(days=40))
    assert ms.owes_farewell(membership)
    membership.farewell_at = NOW + timedelta(days=40)
    assert not ms.owes_farewell(membership)
    # He comes back: the start date is kept, the return dated, and a new stay may be thanked again.
    back = NOW + timedelta(days=100)
    again = await record_presence(session, group, karim, back)
    assert again.id == membership.id and again.joined_at == NOW and again.returned_at == back
    assert ms.owes_farewell(again)


async def test_someone_added_by_mistake_is_not_thanked(session):
    group = await make_group(session)
    (lina,) = await make_members(session, group, "Lina")
    membership = await record_departure(session, group, lina.telegram_id, NOW + timedelta(hours=2))
    assert not await ms.deserves_thanks(session, membership, NOW + timedelta(hours=2))


async def test_arrivals_a_minute_apart_share_one_group_line_but_not_in_the_groups_first_day(session):
    group = await make_group(session)
    karim, julie, sami = await make_members(session, group, "Karim", "Julie", "Sami")
    on_day_one = await ms.name_in_group_line(session, group, await find_membership(session, group, karim), NOW)
    assert on_day_one is None
    later = NOW + timedelta(days=3)
    due = await ms.name_in_group_line(session, group, await find_membership(session, group, julie), later)
    same = await ms.name_in_group_line(
        session, group, await find_membership(session, group, sami), later + timedelta(seconds=30)
    )
    assert due == same == later + ms.NEWS_GATHER
    await record_departure(session, group, sami.telegram_id, later + timedelta(seconds=40))
    event = await session.scalar(select(ScheduledEvent).where(ScheduledEvent.kind == EventKind.MEMBER_NEWS))
    arrived, left = await ms.named_in_line(session, event.id)
    assert [p.first_name for p in arrived] == ["Julie"] and [p.first_name for p in left] == ["Sami"]

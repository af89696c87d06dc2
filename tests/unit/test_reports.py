"""The report's figures over a session, on every backend: who was invited is who was a member on
the day, the attendance rate counts only filled sheets, proposals are those made in the period."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.people import find_membership, record_departure
from bot.domain.periods import Period
from bot.domain.reports import attendance_sheet, group_report
from storage.models import Attendance, Proposal, Rsvp
from tests.support.world import NOW, make_group, make_meeting, make_members

PERIOD = Period(date(2026, 11, 1), date(2026, 12, 31))


async def test_figures_of_a_period(session):
    group = await make_group(session)
    awa, karim, julie, sami = await make_members(session, group, "Awa", "Karim", "Julie", "Sami")
    first = await make_meeting(session, group, days=10)
    second = await make_meeting(session, group, days=20)
    later = await make_meeting(session, group, days=80)  # in February: outside the period
    await record_departure(session, group, sami.telegram_id, NOW + timedelta(days=15))  # gone for the second
    for person, answer in ((karim, "yes"), (julie, "yes"), (sami, "no")):
        session.add(Rsvp(meeting_id=first.id, person_id=person.id, answer=answer, answered_at=NOW))
    for person, present in ((awa, True), (karim, True), (julie, False), (sami, False)):
        session.add(Attendance(meeting_id=first.id, person_id=person.id, present=present))
    first.attendance_rate = 50
    session.add(Proposal(group_id=group.id, number=1, text="A", state="accepted", created_at=NOW, state_changed_at=NOW))
    session.add(Proposal(group_id=group.id, number=2, text="B", state="refused", created_at=NOW, state_changed_at=NOW))
    old = NOW - timedelta(days=60)
    session.add(Proposal(group_id=group.id, number=3, text="C", state="new", created_at=old, state_changed_at=old))
    await session.flush()
    report = await group_report(session, group, PERIOD)
    assert [(m.number, m.invited, m.coming, m.present, m.rate) for m in report.meetings] == [
        (first.number, 4, 2, 2, 50),
        (second.number, 3, 0, None, None),  # Sami had left; no sheet filled
    ]
    assert later.number not in [m.number for m in report.meetings]
    assert report.attendance_rate == 50  # over the filled sheet only
    assert report.proposals_made == 2 and report.taken_into_account_rate == 50
    assert [p.number for p in report.transmitted] == [1, 2]
    sheet = await attendance_sheet(session, group, PERIOD)
    assert [(line.name, line.present) for line in sheet] == [
        ("Awa", True),
        ("Julie", False),
        ("Karim", True),
        ("Sami", False),
    ]
    assert (await find_membership(session, group, sami)).status == "left"  # the world is as meant

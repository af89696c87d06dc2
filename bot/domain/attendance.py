"""Who came: a checklist prefilled from the answers, ticked by facilitators, turned into a rate."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.meetings import MeetingError, members_with_answers
from bot.domain.people import electorate_size
from storage.models import Attendance, Group, Meeting, Person


async def prefill_attendance(session: AsyncSession, meeting: Meeting) -> None:
    """One row per current member, present if they said they would come. Idempotent."""
    existing = set(await session.scalars(select(Attendance.person_id).where(Attendance.meeting_id == meeting.id)))
    for person, _, rsvp in await members_with_answers(session, meeting):
        if person.id not in existing:
            session.add(
                Attendance(meeting_id=meeting.id, person_id=person.id, present=bool(rsvp and rsvp.answer == "yes"))
            )
    await session.flush()


async def attendance_rows(session: AsyncSession, meeting: Meeting) -> list[tuple[Person, bool]]:
    rows = await session.execute(
        select(Person, Attendance.present)
        .join(Attendance, Attendance.person_id == Person.id)
        .where(Attendance.meeting_id == meeting.id)
        .order_by(Person.first_name, Person.id)
    )
    return [(person, present) for person, present in rows]


async def toggle_presence(session: AsyncSession, meeting: Meeting, person_id: int) -> None:
    row = await session.scalar(
        select(Attendance).where(Attendance.meeting_id == meeting.id, Attendance.person_id == person_id)
    )
    if row is None:
        raise MeetingError("button.invalid")
    row.present = not row.present


async def save_attendance(session: AsyncSession, meeting: Meeting, group: Group) -> tuple[int, int, int]:
    """Store the attendance rate for the reports; returns (present, members, rate %). The rate is
    over the members Telegram counts (those who were there before Relais too), never fewer than
    the checklist lists."""
    rows = await attendance_rows(session, meeting)
    if not rows:
        raise MeetingError("button.expired")
    present = sum(1 for _, here in rows if here)
    members = electorate_size(len(rows), group)
    rate = round(100 * present / members)
    meeting.attendance_rate = rate
    return present, members, rate

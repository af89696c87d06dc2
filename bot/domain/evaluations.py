"""The evaluation sheet ("faire remplir une fiche d'évaluation"): the day after a meeting, those
who came get in private the one-tap "utile ?" question and an optional free text, "Qu'attendez-vous
de la prochaine réunion ?". Facilitators read the texts without names unless the member signs;
counts and texts are in /bilan and on the dashboard."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.errors import RefusalError, folded_text
from storage.models import Attendance, Evaluation, Group, Meeting, Person, Rsvp

log = logging.getLogger(__name__)

USEFUL = ("very", "bit", "not")  # the same three answers as the group's poll, in its order
HOPE_MAX = 1000


class EvaluationError(RefusalError):
    """An evaluation that cannot be recorded."""


async def attendees(session: AsyncSession, meeting: Meeting) -> list[Person]:
    """Those who came: the attendance sheet when it was filled, otherwise who said "je viens"."""
    if meeting.attendance_rate is not None:
        query = (
            select(Person)
            .join(Attendance, Attendance.person_id == Person.id)
            .where(Attendance.meeting_id == meeting.id, Attendance.present.is_(True))
        )
    else:
        query = (
            select(Person)
            .join(Rsvp, Rsvp.person_id == Person.id)
            .where(Rsvp.meeting_id == meeting.id, Rsvp.answer == "yes")
        )
    return list(await session.scalars(query.order_by(Person.id)))


async def came(session: AsyncSession, meeting: Meeting, person: Person) -> bool:
    return any(found.id == person.id for found in await attendees(session, meeting))


async def _row(session: AsyncSession, meeting: Meeting, person: Person, now: datetime) -> Evaluation:
    found = await session.scalar(
        select(Evaluation).where(Evaluation.meeting_id == meeting.id, Evaluation.person_id == person.id)
    )
    if found is None:
        found = Evaluation(meeting_id=meeting.id, person_id=person.id, signed=False, answered_at=now)
        session.add(found)
    found.answered_at = now
    return found


async def record_useful(session: AsyncSession, meeting: Meeting, person: Person, useful: str, now: datetime) -> None:
    """Only someone who came evaluates; a second tap changes the answer. Raises EvaluationError."""
    if useful not in USEFUL:
        raise EvaluationError("button.invalid")
    if not await came(session, meeting, person):
        raise EvaluationError("evaluation.error.not_there")
    (await _row(session, meeting, person, now)).useful = useful
    await session.flush()


async def record_hope(
    session: AsyncSession, meeting: Meeting, person: Person, text: str, signed: bool, now: datetime
) -> Evaluation:
    if not await came(session, meeting, person):
        raise EvaluationError("evaluation.error.not_there")
    row = await _row(session, meeting, person, now)
    row.hope = folded_text(text, HOPE_MAX, "evaluation.error.empty", "evaluation.error.long", EvaluationError)
    row.signed = signed
    await session.flush()
    log.info("evaluation text for meeting %s (%s)", meeting.id, "signed" if signed else "unsigned")
    return row


@dataclass(frozen=True)
class Hope:
    meeting_id: int
    text: str
    name: str | None  # only when the member signed


async def useful_counts(session: AsyncSession, meeting_ids: list[int]) -> dict[int, dict[str, int]]:
    """Meeting id -> answer -> members, for the private answers."""
    rows = await session.execute(
        select(Evaluation.meeting_id, Evaluation.useful, func.count())
        .where(Evaluation.meeting_id.in_(meeting_ids), Evaluation.useful.is_not(None))
        .group_by(Evaluation.meeting_id, Evaluation.useful)
    )
    found: dict[int, dict[str, int]] = {}
    for meeting_id, useful, count in rows:
        found.setdefault(meeting_id, {})[str(useful)] = int(count)
    return found


async def hopes(session: AsyncSession, meeting_ids: list[int]) -> list[Hope]:
    rows = await session.execute(
        select(Evaluation, Person.first_name)
        .join(Person, Person.id == Evaluation.person_id)
        .where(Evaluation.meeting_id.in_(meeting_ids), Evaluation.hope.is_not(None))
        .order_by(Evaluation.answered_at)
    )
    return [Hope(row.meeting_id, row.hope or "", name if row.signed else None) for row, name in rows]


async def latest_attended(
    session: AsyncSession, group: Group, person: Person, since: datetime, now: datetime
) -> Meeting | None:
    """The latest meeting of the group, started between `since` and `now`, that the person came to."""
    meetings = await session.scalars(
        select(Meeting)
        .where(
            Meeting.group_id == group.id,
            Meeting.status == "scheduled",
            Meeting.starts_at >= since,
            Meeting.starts_at <= now,
        )
        .order_by(Meeting.starts_at.desc())
    )
    for meeting in meetings:
        if await came(session, meeting, person):
            return meeting
    return None

"""What members need to come to a meeting, beside a ride: childcare (how many children) and, when
the meeting has a meal, a dietary need. Said in private with one tap; facilitators get counts,
never names (the day-before list, /bilan); the group sees nothing. The field: childcare and meals
are barriers beside transport."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.errors import RefusalError
from storage.models import Meeting, MeetingNeed, Person

CHILDREN_MAX = 6  # the buttons offer 1 to 6; more is said at the meeting
DIETS = ("vegetarian", "no_pork", "no_gluten", "allergy")


class NeedsError(RefusalError):
    """A need that cannot be recorded."""


@dataclass(frozen=True)
class NeedCounts:
    children: int = 0  # children to look after
    families: int = 0  # members who asked for childcare
    diets: dict[str, int] = field(default_factory=dict)  # dietary need -> members

    @property
    def any(self) -> bool:
        return bool(self.children or self.diets)


async def _row(session: AsyncSession, meeting: Meeting, person: Person, now: datetime) -> MeetingNeed:
    found = await session.scalar(
        select(MeetingNeed).where(MeetingNeed.meeting_id == meeting.id, MeetingNeed.person_id == person.id)
    )
    if found is None:
        found = MeetingNeed(meeting_id=meeting.id, person_id=person.id, children=0, updated_at=now)
        session.add(found)
    found.updated_at = now
    return found


async def set_children(session: AsyncSession, meeting: Meeting, person: Person, children: int, now: datetime) -> None:
    """0 takes a childcare request back. Raises NeedsError."""
    if not 0 <= children <= CHILDREN_MAX:
        raise NeedsError("needs.error.children", high=CHILDREN_MAX)
    (await _row(session, meeting, person, now)).children = children
    await session.flush()


async def set_diet(session: AsyncSession, meeting: Meeting, person: Person, diet: str | None, now: datetime) -> None:
    """None takes a dietary need back. Raises NeedsError (no meal at this meeting, unknown need)."""
    if not meeting.meal:
        raise NeedsError("needs.error.no_meal")
    if diet is not None and diet not in DIETS:
        raise NeedsError("button.invalid")
    (await _row(session, meeting, person, now)).diet = diet
    await session.flush()


async def counts(session: AsyncSession, meeting: Meeting) -> NeedCounts:
    return (await counts_for(session, [meeting.id])).get(meeting.id, NeedCounts())


async def counts_for(session: AsyncSession, meeting_ids: list[int]) -> dict[int, NeedCounts]:
    """Each meeting's counts, in two statements whatever the number of meetings."""
    if not meeting_ids:
        return {}
    children = {
        meeting_id: (int(total), int(families))
        for meeting_id, total, families in await session.execute(
            select(MeetingNeed.meeting_id, func.sum(MeetingNeed.children), func.count())
            .where(MeetingNeed.meeting_id.in_(meeting_ids), MeetingNeed.children > 0)
            .group_by(MeetingNeed.meeting_id)
        )
    }
    diets: dict[int, dict[str, int]] = {}
    for meeting_id, diet, number in await session.execute(
        select(MeetingNeed.meeting_id, MeetingNeed.diet, func.count())
        .where(MeetingNeed.meeting_id.in_(meeting_ids), MeetingNeed.diet.is_not(None))
        .group_by(MeetingNeed.meeting_id, MeetingNeed.diet)
    ):
        diets.setdefault(meeting_id, {})[str(diet)] = int(number)
    return {
        meeting_id: NeedCounts(*children.get(meeting_id, (0, 0)), diets=diets.get(meeting_id, {}))
        for meeting_id in set(children) | set(diets)
    }


async def of_person(session: AsyncSession, meeting: Meeting, person: Person) -> MeetingNeed | None:
    return await session.scalar(
        select(MeetingNeed).where(MeetingNeed.meeting_id == meeting.id, MeetingNeed.person_id == person.id)
    )

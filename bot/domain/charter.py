"""The group's charter: the ground rules recalled at every meeting (confidentialité,
bienveillance, respect, écoute). A default in plain French until the group writes its own with
/charte; posted and pinned; each member reads it once ("✅ J'ai lu"); facilitators see who has not."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.errors import RefusalError
from bot.domain.events import EventKind, subject_event
from storage.models import CharterReading, Group, Membership, Person, ScheduledEvent

log = logging.getLogger(__name__)

CHARTER_MAX = 1500
CHARTER_POST = EventKind.CHARTER_POST


class CharterError(RefusalError):
    """A charter that cannot be recorded."""


def set_charter(group: Group, text: str) -> None:
    """The group's own charter, lines kept; everyone is asked to read it again. Raises CharterError."""
    kept = "\n".join(line.rstrip() for line in text.strip().splitlines())
    if not kept:
        raise CharterError("charter.error.empty")
    if len(kept) > CHARTER_MAX:
        raise CharterError("charter.error.long", limit=CHARTER_MAX, length=len(kept))
    group.charter = kept


async def forget_readings(session: AsyncSession, group: Group) -> None:
    """A new charter: it has to be read again."""
    await session.execute(delete(CharterReading).where(CharterReading.group_id == group.id))


async def plan_post(session: AsyncSession, group: Group, now: datetime) -> None:
    """Posted (and pinned when the bot may) by the outbox, once, after the commit. Each /charte is
    an event of its own: numbered in the offset, which a group subject does not otherwise use."""
    posts = await session.scalar(
        select(func.count())
        .select_from(ScheduledEvent)
        .where(ScheduledEvent.kind == CHARTER_POST, ScheduledEvent.subject_id == group.id)
    )
    session.add(subject_event(group.id, CHARTER_POST, group.id, now, offset=int(posts or 0)))


async def read(session: AsyncSession, group: Group, person: Person, now: datetime) -> bool:
    """True the first time; a second "J'ai lu" changes nothing."""
    found = await session.scalar(
        select(CharterReading).where(CharterReading.group_id == group.id, CharterReading.person_id == person.id)
    )
    if found is not None:
        return False
    session.add(CharterReading(group_id=group.id, person_id=person.id, read_at=now))
    await session.flush()
    return True


async def not_read(session: AsyncSession, group: Group) -> list[Person]:
    readers = select(CharterReading.person_id).where(CharterReading.group_id == group.id)
    return list(
        await session.scalars(
            select(Person)
            .join(Membership, Membership.person_id == Person.id)
            .where(Membership.group_id == group.id, Membership.status == "member", Person.id.not_in(readers))
            .order_by(Person.first_name)
        )
    )

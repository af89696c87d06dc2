"""Facilitators who cannot be reached in private: their reports are held (bot/outbox/claims.py's
`release_held` sends them when they start the bot) and the group is told, once per kind of
report, that a message waits for them in private, with the link that opens the private chat.
The group learns nothing of what the report says."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.people import reachable_in_private
from bot.ui.mentions import mention as mention_of
from storage.models import Delivery, Group, Person, ReachOut


async def reach_out(session: AsyncSession, group: Group, waiting: list[Person], kind: str, now: datetime) -> bool:
    """Record that these facilitators are told in the group about this kind of report; True when
    at least one of them had not been told yet (so the group message is needed)."""
    if not waiting:
        return False
    told = set(
        await session.scalars(
            select(ReachOut.person_id).where(
                ReachOut.group_id == group.id,
                ReachOut.kind == kind,
                ReachOut.person_id.in_([person.id for person in waiting]),
            )
        )
    )
    new = [person for person in waiting if person.id not in told]
    for person in new:
        session.add(ReachOut(group_id=group.id, person_id=person.id, kind=kind, created_at=now))
    return bool(new)


async def waiting_for(session: AsyncSession, event_id: int) -> list[Person]:
    """Those whose report of this event is still held (they have not started the bot yet)."""
    return list(
        await session.scalars(
            select(Person)
            .join(Delivery, Delivery.person_id == Person.id)
            .where(Delivery.event_id == event_id, Delivery.status == "held")
            .order_by(Person.first_name)
        )
    )


def mention(person: Person) -> str:
    """The person's first name as a Telegram mention (they get a notification)."""
    return mention_of(person.telegram_id, person.first_name)


def still_unreachable(people: list[Person]) -> list[Person]:
    return [person for person in people if not reachable_in_private(person)]

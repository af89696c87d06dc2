"""What waits to go out, read from the database (so every process sees the same): the figures
`/metrics` and `relais status` give."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery, DialogueState, Notice, ScheduledEvent

WAITING = ("pending", "sending")  # not yet out: due, planned for later, or in flight


@dataclass(frozen=True)
class Backlog:
    deliveries: int  # planned messages not yet sent (due or not), in flight included
    notices: int  # notices of a change not yet sent
    events_due: int  # scheduled events due and not yet turned into messages
    oldest_due_at: datetime | None  # the oldest message that is due and not yet out
    dialogues: int  # guided dialogues open

    def oldest_due_seconds(self, now: datetime) -> float:
        return max(0.0, (now - self.oldest_due_at).total_seconds()) if self.oldest_due_at else 0.0


async def read_backlog(session: AsyncSession, now: datetime) -> Backlog:
    deliveries = await session.scalar(select(func.count()).where(Delivery.status.in_(WAITING)))
    notices = await session.scalar(select(func.count()).where(Notice.status.in_(WAITING)))
    due = (ScheduledEvent.status == "pending", ScheduledEvent.due_at <= now)
    events_due, oldest_event = (
        await session.execute(select(func.count(), func.min(ScheduledEvent.due_at)).where(*due))
    ).one()
    oldest = [
        await session.scalar(
            select(func.min(model.not_before)).where(model.status.in_(WAITING), model.not_before <= now)
        )
        for model in (Delivery, Notice)
    ]
    moments = [moment for moment in (*oldest, oldest_event) if moment is not None]
    dialogues = await session.scalar(select(func.count()).select_from(DialogueState))
    return Backlog(deliveries or 0, notices or 0, events_due or 0, min(moments) if moments else None, dialogues or 0)


async def last_sent_at(session: AsyncSession) -> datetime | None:
    """When a planned message last went out (a scan of the sent ones: for `relais status`)."""
    return await session.scalar(select(func.max(Delivery.sent_at)).where(Delivery.status == "sent"))

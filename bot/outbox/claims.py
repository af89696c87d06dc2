"""The outbox's rows: deliveries are claimed before they are sent and finished after. With
PostgreSQL, rows are claimed with FOR UPDATE SKIP LOCKED, so several Relais processes share the
work and each message is sent once; SQLite has one writer at a time anyway. A delivery left in
'sending' longer than the lease belonged to a process that died: it is taken again."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.sms import SMS_KINDS
from storage.models import Delivery, Meeting, ScheduledEvent

WORKER_ID = f"{socket.gethostname()[:30]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def locking(session: AsyncSession) -> bool:
    """Whether rows can be claimed with FOR UPDATE SKIP LOCKED (PostgreSQL)."""
    return session.bind.dialect.name == "postgresql"  # type: ignore[union-attr]


def add_delivery(
    session: AsyncSession,
    event: ScheduledEvent,
    kind: str,
    now: datetime,
    person_id: int | None = None,
    priority: int = 1,
    status: str = "pending",
) -> None:
    """One message to send for this event: to a person in private, or to the group. A report for
    a facilitator who has not started the bot is `held` until they do (`release_held`)."""
    channel = "sms" if kind in SMS_KINDS else "person"  # bot/outbox/sms_gateway.py sends the SMS
    recipient = f"{channel}:{person_id}" if person_id is not None else "group"
    session.add(
        Delivery(
            event_id=event.id,
            meeting_id=event.meeting_id,
            recipient=recipient,
            person_id=person_id,
            kind=kind,
            priority=priority,
            status=status,
            attempts=0,
            not_before=now,
        )
    )


async def due_events(session: AsyncSession, now: datetime, limit: int) -> list[ScheduledEvent]:
    """Pending events whose time has come, oldest first (locked on PostgreSQL)."""
    query = (
        select(ScheduledEvent)
        .where(ScheduledEvent.status == "pending", ScheduledEvent.due_at <= now)
        .order_by(ScheduledEvent.due_at, ScheduledEvent.id)
        .limit(limit)
    )
    if locking(session):
        query = query.with_for_update(skip_locked=True)
    return list(await session.scalars(query))


def ready_or_abandoned(model: Any, now: datetime, lease: timedelta) -> Any:
    """Rows to take (deliveries, notices): pending and due, or claimed by a process that died (its
    lease ran out)."""
    return or_(
        and_(model.status == "pending", model.not_before <= now),
        and_(model.status == "sending", model.claimed_at < now - lease),
    )


async def claim_deliveries(
    session: AsyncSession,
    now: datetime,
    limit: int,
    lease: timedelta,
    worker: str = WORKER_ID,
    by_sms: bool | None = None,
) -> list[Delivery]:
    """Take up to `limit` deliveries ready to go (group messages first): those that go by SMS
    (`by_sms` True), the others (False), or all (None). A delivery left in 'sending' longer than
    the lease belonged to a process that died: it is taken again."""
    query = (
        select(Delivery)
        .where(ready_or_abandoned(Delivery, now, lease))
        .order_by(Delivery.priority, Delivery.id)
        .limit(limit)
    )
    if by_sms is not None:
        texted = Delivery.recipient.startswith("sms:")
        query = query.where(texted if by_sms else ~texted)
    if locking(session):
        query = query.with_for_update(skip_locked=True)
    deliveries = list(await session.scalars(query))
    for delivery in deliveries:
        delivery.status, delivery.claimed_by, delivery.claimed_at = "sending", worker, now
        delivery.attempts += 1
    await session.flush()
    return deliveries


async def renew_claims(session: AsyncSession, now: datetime, lease: timedelta, worker: str = WORKER_ID) -> int:
    """Keep this process's claims alive while their sends wait (a long 429 pause, a slow
    Telegram): a claim older than a third of the lease is renewed, so that no other process, and
    no later run of this one, takes it over and sends the message a second time."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.status == "sending", Delivery.claimed_by == worker, Delivery.claimed_at < now - lease / 3)
        .values(claimed_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def finish(
    session: AsyncSession,
    delivery_id: int,
    status: str,
    now: datetime,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    values: dict[str, Any] = {"status": status, "error": error}
    if status == "sent":
        values["sent_at"] = now
    if status == "pending":
        values["not_before"] = retry_at or now
    await session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))


async def pending_due_times(
    session: AsyncSession,
    meeting_id: int | None = None,
    group_id: int | None = None,
    before: datetime | None = None,
) -> list[datetime]:
    """The distinct moments pending events fall due (all, one meeting's or one group's): what the
    in-memory scheduler is built from. Each form is served by an index; a group's events are its
    meetings' plus its own subjects', read as two indexed halves rather than one OR across a join."""
    pending = ScheduledEvent.status == "pending"
    if group_id is not None:
        meetings = select(Meeting.id).where(Meeting.group_id == group_id)
        both = union(
            select(ScheduledEvent.due_at).where(ScheduledEvent.meeting_id.in_(meetings), pending),
            select(ScheduledEvent.due_at).where(ScheduledEvent.group_id == group_id, pending),
        )
        return sorted(set(await session.scalars(select(both.subquery().c.due_at))))
    query = select(ScheduledEvent.due_at).where(pending).distinct()
    if before is not None:  # the moments of the next hour only (jobs/scheduler.py: HORIZON)
        query = query.where(ScheduledEvent.due_at < before)
    if meeting_id is not None:
        query = query.where(ScheduledEvent.meeting_id == meeting_id)
    return list(await session.scalars(query.order_by(ScheduledEvent.due_at)))


async def release_held(session: AsyncSession, person_id: int, now: datetime) -> int:
    """The person started the bot: the reports held for them go out now. Returns how many."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.person_id == person_id, Delivery.status == "held")
        .values(status="pending", not_before=now)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


async def forget_finished_deliveries(session: AsyncSession, before: datetime) -> int:
    """Deliveries sent, skipped or failed before `before` are not kept: their event is done, so
    nothing will expand it again and no copy can be made."""
    finished = Delivery.status.in_(("sent", "skipped", "failed"))
    old = or_(Delivery.sent_at < before, and_(Delivery.sent_at.is_(None), Delivery.not_before < before))
    result = await session.execute(delete(Delivery).where(finished, old))
    return int(getattr(result, "rowcount", 0) or 0)

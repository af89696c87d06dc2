"""The outbox: due events become one delivery row per recipient, and deliveries are claimed
before sending. With PostgreSQL, rows are claimed with FOR UPDATE SKIP LOCKED, so several Relais
processes share the work and each message is sent once; SQLite has one writer at a time anyway."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import carpool, polls, proposals
from bot.domain import meetings as m
from bot.domain.actions import ACTION_REMINDER
from bot.domain.facilitators import AdminLookup, meeting_runners
from bot.domain.priorities import PRIORITY_CLOSE, close_round
from bot.domain.settings import ProposalsSection
from storage.models import (
    ActionItem,
    Delivery,
    Group,
    Meeting,
    MeetingSeries,
    Person,
    Poll,
    PriorityRound,
    ProposalChange,
    ScheduledEvent,
)

log = logging.getLogger(__name__)

WORKER_ID = f"{socket.gethostname()[:30]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
FEEDBACK_LATEST = timedelta(days=2)


def _locking(session: AsyncSession) -> bool:
    return session.bind.dialect.name == "postgresql"  # type: ignore[union-attr]


async def _add_delivery(
    session: AsyncSession,
    event: ScheduledEvent,
    kind: str,
    now: datetime,
    person_id: int | None = None,
    priority: int = 1,
) -> None:
    recipient = f"person:{person_id}" if person_id is not None else "group"
    session.add(
        Delivery(
            event_id=event.id,
            meeting_id=event.meeting_id,
            recipient=recipient,
            person_id=person_id,
            kind=kind,
            priority=priority,
            status="pending",
            attempts=0,
            not_before=now,
        )
    )


async def _facilitator_ids(session: AsyncSession, meeting: Meeting, group: Group, admins: AdminLookup) -> list[int]:
    """Person ids of those who run the meeting and can be written to in private."""
    runners = await meeting_runners(session, meeting, group, admins)
    return [person.id for person in runners if person.private_status == "started"]


async def _news_deliveries(session: AsyncSession, event: ScheduledEvent, change: ProposalChange, now: datetime) -> None:
    for person in await proposals.news_recipients(session, change):
        await _add_delivery(session, event, "proposal_news", now, person.id)


async def add_news(session: AsyncSession, group: Group, change: ProposalChange, now: datetime) -> None:
    """A proposal's change, sent now in private to its author and followers."""
    event = proposals.news_event(group, change, now)
    event.status, event.done_at = "done", now
    session.add(event)
    await session.flush()
    await _news_deliveries(session, event, change, now)


async def _expand_group_event(
    session: AsyncSession, event: ScheduledEvent, now: datetime, settings, proposal_settings: ProposalsSection
) -> None:
    """Events about a group's polls, priority rounds, action items, proposals and digest."""
    group = await session.get(Group, event.group_id) if event.group_id else None
    if group is None or not group.active:
        event.status = "skipped"
        return
    if event.kind == proposals.PROPOSAL_NEWS:
        change = await session.get(ProposalChange, event.subject_id)
        if change is not None:
            await _news_deliveries(session, event, change, now)
    elif event.kind in (polls.POLL_REMINDER, polls.POLL_CLOSE):
        poll = await session.get(Poll, event.subject_id)
        if poll is None or poll.status != "open":
            event.status = "skipped"
        elif event.kind == polls.POLL_CLOSE:
            result = await polls.close_poll(session, poll, group, now)
            await _add_delivery(session, event, "poll_close", now, priority=0)
            if result.change is not None:
                await add_news(session, group, result.change, now)
        elif poll.anonymous:  # nobody knows who voted: one reminder in the group instead
            await _add_delivery(session, event, "poll_group_reminder", now, priority=0)
        else:
            for person in await polls.non_voters(session, poll):
                await _add_delivery(session, event, "poll_nudge", now, person.id)
    elif event.kind == PRIORITY_CLOSE:
        round_ = await session.get(PriorityRound, event.subject_id)
        if round_ is None or round_.status != "open":
            event.status = "skipped"
        else:
            await close_round(session, round_, now)
            await _add_delivery(session, event, "priority_close", now, priority=0)
    elif event.kind == ACTION_REMINDER:
        action = await session.get(ActionItem, event.subject_id)
        owner = await session.get(Person, action.owner_id) if action and action.owner_id else None
        if action is None or action.status != "open":
            event.status = "skipped"
        elif owner is not None and owner.private_status == "started":
            await _add_delivery(session, event, "action_reminder", now, owner.id)
        else:  # the owner cannot be written to in private: remind them in the group
            await _add_delivery(session, event, "action_reminder", now, priority=0)
    elif event.kind == proposals.PROPOSALS_DIGEST:
        await proposals.ensure_digest(session, group, now, proposal_settings, settings)
        if await proposals.board(session, group):
            await _add_delivery(session, event, "proposals_digest", now, priority=0)
        else:
            event.status = "skipped"
    else:
        log.warning("event %s of unknown kind %s", event.id, event.kind)
        event.status = "skipped"


async def expand_due_events(
    session: AsyncSession,
    now: datetime,
    admins: AdminLookup,
    settings,
    limit: int = 200,
    proposal_settings: ProposalsSection | None = None,
) -> int:
    """Turn due events into deliveries; returns how many events were handled."""
    query = (
        select(ScheduledEvent)
        .where(ScheduledEvent.status == "pending", ScheduledEvent.due_at <= now)
        .order_by(ScheduledEvent.due_at, ScheduledEvent.id)
        .limit(limit)
    )
    if _locking(session):
        query = query.with_for_update(skip_locked=True)
    events = list(await session.scalars(query))
    for event in events:
        event.status, event.done_at = "done", now
        if event.meeting_id is None:
            await _expand_group_event(session, event, now, settings, proposal_settings or ProposalsSection())
            continue
        meeting = await session.get(Meeting, event.meeting_id)
        group = await session.get(Group, meeting.group_id) if meeting else None
        if meeting is None or group is None or not group.active:
            event.status = "skipped"
            continue
        if event.kind == m.SERIES_NEXT:
            series = await session.get(MeetingSeries, meeting.series_id) if meeting.series_id else None
            if series is not None:
                upcoming = await m.next_in_series(session, series, meeting.starts_at, now, settings)
                if upcoming is not None:
                    announce = ScheduledEvent(
                        meeting_id=upcoming.id,
                        kind="announcement",
                        offset_minutes=0,
                        due_at=now,
                        status="done",
                        done_at=now,
                    )
                    session.add(announce)
                    await session.flush()
                    await _add_delivery(session, announce, "announcement", now, priority=0)
            continue
        if event.kind in (m.RIDES_REMINDER, m.RIDES_ALERT):
            if not m.is_open(meeting, now):
                event.status = "skipped"
            elif event.kind == m.RIDES_REMINDER:
                for _offer, driver, _, riders in await carpool.matched_rides(session, meeting):
                    await _add_delivery(session, event, "ride_reminder", now, driver.id)
                    for rider, _ in riders:
                        await _add_delivery(session, event, "ride_reminder", now, rider.id)
            elif await carpool.unmatched(session, meeting):
                for person_id in await _facilitator_ids(session, meeting, group, admins):
                    await _add_delivery(session, event, "rides_unmatched", now, person_id)
            continue
        if event.kind in (m.REMINDER, m.DIGEST):
            if not m.is_open(meeting, now):
                event.status = "skipped"
                continue
            if event.kind == m.REMINDER:
                later = await session.scalar(
                    select(ScheduledEvent.id)
                    .where(
                        ScheduledEvent.meeting_id == meeting.id,
                        ScheduledEvent.kind == m.REMINDER,
                        ScheduledEvent.status == "pending",
                        ScheduledEvent.due_at <= now,
                        ScheduledEvent.due_at > event.due_at,
                    )
                    .limit(1)
                )
                if later is not None:  # missed while down: only the latest one that was due goes out
                    event.status = "skipped"
                    continue
                await _add_delivery(session, event, "group_reminder", now, priority=0)
                for person, _membership, rsvp in await m.members_with_answers(session, meeting):
                    if person.private_status == "started" and (rsvp is None or rsvp.answer != "no"):
                        await _add_delivery(
                            session, event, "nudge" if rsvp is None else "private_reminder", now, person.id
                        )
            else:
                for person_id in await _facilitator_ids(session, meeting, group, admins):
                    await _add_delivery(session, event, "digest", now, person_id)
        elif meeting.status != "scheduled":
            event.status = "skipped"
        elif event.kind == m.CHECKLIST:
            for person_id in await _facilitator_ids(session, meeting, group, admins):
                await _add_delivery(session, event, "checklist", now, person_id)
        elif event.kind == m.FEEDBACK:
            if now - event.due_at > FEEDBACK_LATEST:  # weeks after the meeting, the question makes no sense
                event.status = "skipped"
                continue
            await _add_delivery(session, event, "feedback", now, priority=0)
    await session.flush()
    return len(events)


async def claim_deliveries(
    session: AsyncSession, now: datetime, limit: int, lease: timedelta, worker: str = WORKER_ID
) -> list[Delivery]:
    """Take up to `limit` deliveries ready to go (group messages first). A delivery left in
    'sending' longer than the lease belonged to a process that died: it is taken again."""
    ready = or_(
        and_(Delivery.status == "pending", Delivery.not_before <= now),
        and_(Delivery.status == "sending", Delivery.claimed_at < now - lease),
    )
    query = select(Delivery).where(ready).order_by(Delivery.priority, Delivery.id).limit(limit)
    if _locking(session):
        query = query.with_for_update(skip_locked=True)
    deliveries = list(await session.scalars(query))
    for delivery in deliveries:
        delivery.status, delivery.claimed_by, delivery.claimed_at = "sending", worker, now
        delivery.attempts += 1
    await session.flush()
    return deliveries


async def finish(
    session: AsyncSession,
    delivery_id: int,
    status: str,
    now: datetime,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    values: dict = {"status": status, "error": error}
    if status == "sent":
        values["sent_at"] = now
    if status == "pending":
        values["not_before"] = retry_at or now
    await session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))


async def pending_due_times(
    session: AsyncSession, meeting_id: int | None = None, group_id: int | None = None
) -> list[datetime]:
    """When pending events fall due (all, one meeting's or one group's): what the in-memory
    scheduler is built from."""
    query = select(ScheduledEvent.due_at).where(ScheduledEvent.status == "pending")
    if meeting_id is not None:
        query = query.where(ScheduledEvent.meeting_id == meeting_id)
    if group_id is not None:
        query = query.outerjoin(Meeting, Meeting.id == ScheduledEvent.meeting_id).where(
            or_(Meeting.group_id == group_id, ScheduledEvent.group_id == group_id)
        )
    return list(await session.scalars(query.order_by(ScheduledEvent.due_at)))

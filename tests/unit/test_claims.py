"""Claims on deliveries: a process's claims stay its own while its sends wait (renewed), so that
neither another process nor a later run of its own takes them over and sends twice; a claim left
by a process that died is taken over once its lease has run out."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.outbox.claims import claim_deliveries, renew_claims
from bot.outbox.dispatch import LEASE
from storage.models import Delivery, ScheduledEvent
from tests.support.world import NOW, make_group, make_meeting


async def test_a_waiting_claim_is_renewed_and_not_taken_over(session):
    group = await make_group(session)
    meeting = await make_meeting(session, group)
    event = await session.scalar(select(ScheduledEvent).where(ScheduledEvent.meeting_id == meeting.id))
    waiting, fresh, dead = (
        Delivery(
            event_id=event.id,
            meeting_id=meeting.id,
            recipient=f"person:{index}",
            kind="private_reminder",
            status="sending",
            claimed_by=worker,
            claimed_at=NOW - age,
            not_before=NOW - timedelta(minutes=5),
        )
        for index, (worker, age) in enumerate(
            (("alive", timedelta(seconds=40)), ("alive", timedelta(seconds=5)), ("dead", timedelta(seconds=40)))
        )
    )
    session.add_all([waiting, fresh, dead])
    await session.flush()
    assert await renew_claims(session, NOW, LEASE, worker="alive") == 1  # only the one past a third of the lease
    await session.refresh(waiting)
    assert waiting.claimed_at == NOW
    # 30 s later the dead process's claim has run out; the living one's has not.
    later = NOW + timedelta(seconds=30)
    taken = await claim_deliveries(session, later, 10, LEASE, worker="other")
    assert [delivery.id for delivery in taken] == [dead.id]

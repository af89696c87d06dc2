"""How due events become deliveries and deliveries messages, over a session on every backend: who
gets what, what is skipped, what an unknown kind does, and that rendering never writes."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.domain import meetings as m
from bot.domain.events import EventKind, subject_event
from bot.domain.settings import ProposalsSection
from bot.outbox import kinds
from bot.outbox.claims import claim_deliveries, pending_due_times
from bot.outbox.kinds import DeliveryKind, RenderWroteError, expand_due_events, render_delivery
from bot.outbox.outgoing import OutboxSettings
from storage.models import Attendance, Delivery, ScheduledEvent
from tests.support.world import NOW, SETTINGS, make_group, make_meeting, make_members


async def no_admins(chat_id: int) -> frozenset[int]:
    return frozenset()


OUTBOX = OutboxSettings(SETTINGS, ProposalsSection(), no_admins, "relais_bot", b"secret")


async def deliveries(session) -> list[tuple[str, int | None]]:
    rows = await session.scalars(select(Delivery).order_by(Delivery.id))
    return [(delivery.kind, delivery.person_id) for delivery in rows]


async def event(session, meeting, kind, offset=0) -> ScheduledEvent:
    return await session.scalar(
        select(ScheduledEvent).where(
            ScheduledEvent.meeting_id == meeting.id,
            ScheduledEvent.kind == kind,
            ScheduledEvent.offset_minutes == offset,
        )
    )


async def test_a_reminder_goes_to_the_group_and_privately_to_who_did_not_decline(session):
    group = await make_group(session)
    karim, julie, sami = await make_members(session, group, "Karim", "Julie", "Sami")
    [lina] = await make_members(session, group, "Lina", started=False)
    meeting = await make_meeting(session, group)
    await m.record_answer(session, meeting, karim, "yes", NOW)
    await m.record_answer(session, meeting, sami, "no", NOW)
    j7 = await event(session, meeting, m.REMINDER, 7 * 24 * 60)
    assert await expand_due_events(session, j7.due_at, OUTBOX) == 1
    assert await deliveries(session) == [
        ("reach_nudge", None),  # with the first reminder, before it: Lina never opened the chat
        ("group_reminder", None),
        ("nudge", julie.id),  # no answer yet: the reminder carries the buttons
        ("private_reminder", karim.id),
    ]  # Sami declined; Lina never started the bot (no facilitator among them gets the list)
    assert j7.status == "done" and lina.private_status != "started"


async def test_reminders_missed_while_down_send_only_the_latest(session):
    group = await make_group(session)
    meeting = await make_meeting(session, group)
    j1 = await event(session, meeting, m.REMINDER, 24 * 60)
    await expand_due_events(session, j1.due_at, OUTBOX)
    j7 = await event(session, meeting, m.REMINDER, 7 * 24 * 60)
    assert (j7.status, j1.status) == ("skipped", "done")
    assert [kind for kind, _ in await deliveries(session)] == ["group_reminder"]


async def test_nothing_goes_to_a_group_that_removed_the_bot(session):
    group = await make_group(session)
    meeting = await make_meeting(session, group)
    group.active = False
    j7 = await event(session, meeting, m.REMINDER, 7 * 24 * 60)
    await expand_due_events(session, j7.due_at, OUTBOX)
    assert j7.status == "skipped" and await deliveries(session) == []


async def test_an_unknown_kind_fails_loudly(session, caplog):
    group = await make_group(session)
    stray = ScheduledEvent(group_id=group.id, kind="from_the_future", subject_id=1, offset_minutes=0, due_at=NOW)
    session.add(stray)
    await session.flush()
    with caplog.at_level(logging.ERROR):
        await expand_due_events(session, NOW, OUTBOX)
    assert stray.status == "failed"
    assert "unknown kind 'from_the_future'" in caplog.text


async def test_the_checklist_is_prefilled_when_expanded_and_rendering_only_reads(session):
    group = await make_group(session)
    awa, karim = await make_members(session, group, "Awa", "Karim")
    meeting = await make_meeting(session, group, creator=awa)
    await m.record_answer(session, meeting, karim, "yes", NOW)
    checklist = await event(session, meeting, m.CHECKLIST)
    await expand_due_events(session, checklist.due_at, OUTBOX)
    assert await deliveries(session) == [("checklist", awa.id)]  # she created it, so she runs it
    present = {row.person_id: row.present for row in await session.scalars(select(Attendance))}
    assert present == {awa.id: False, karim.id: True}
    [delivery] = await claim_deliveries(session, checklist.due_at, 10, timedelta(seconds=60), "test")
    out = await render_delivery(session, delivery, OUTBOX)
    assert out is not None and out.chat_id == awa.telegram_id
    assert [button.text for row in out.markup.inline_keyboard for button in row][:2] == ["⬜ Awa", "✅ Karim"]


async def test_a_renderer_that_writes_is_an_error(session, monkeypatch):
    group = await make_group(session)
    [karim] = await make_members(session, group, "Karim")
    meeting = await make_meeting(session, group)
    j7 = await event(session, meeting, m.REMINDER, 7 * 24 * 60)
    await expand_due_events(session, j7.due_at, OUTBOX)
    claimed = await claim_deliveries(session, j7.due_at, 10, timedelta(seconds=60), "test")

    async def writing(rendering) -> bool:
        rendering.meeting.topic = "changed while rendering"
        return True

    monkeypatch.setitem(kinds.DELIVERIES, DeliveryKind.NUDGE, writing)
    nudge = next(delivery for delivery in claimed if delivery.kind == "nudge")
    with pytest.raises(RenderWroteError):
        await render_delivery(session, nudge, OUTBOX)
    assert karim.id == nudge.person_id


async def test_a_reminder_to_someone_who_declined_since_is_not_sent(session):
    group = await make_group(session)
    [karim] = await make_members(session, group, "Karim")
    meeting = await make_meeting(session, group)
    j7 = await event(session, meeting, m.REMINDER, 7 * 24 * 60)
    await expand_due_events(session, j7.due_at, OUTBOX)
    await m.record_answer(session, meeting, karim, "no", NOW)
    claimed = await claim_deliveries(session, j7.due_at, 10, timedelta(seconds=60), "test")
    rendered = {delivery.kind: await render_delivery(session, delivery, OUTBOX) for delivery in claimed}
    assert rendered["nudge"] is None and rendered["group_reminder"] is not None


async def test_pending_due_times_of_a_meeting_of_a_group_and_of_all(session):
    group, other = await make_group(session, -1), await make_group(session, -2)
    meeting = await make_meeting(session, group)
    await make_meeting(session, other, days=40)  # a month later: none of its moments is the group's
    own = subject_event(group.id, EventKind.POLL_CLOSE, 1, NOW + timedelta(hours=5))
    session.add(own)
    await session.flush()
    of_meeting = await pending_due_times(session, meeting_id=meeting.id)
    of_group = await pending_due_times(session, group_id=group.id)
    everything = await pending_due_times(session)
    assert of_meeting == sorted(set(of_meeting)) and of_meeting  # distinct, in order
    assert of_group == sorted({*of_meeting, own.due_at})  # the group's meetings and its own subjects
    of_other = await pending_due_times(session, group_id=other.id)
    assert of_other and not set(of_other) & set(of_group)  # another group's events are not the group's
    assert set(everything) == set(of_group) | set(of_other)

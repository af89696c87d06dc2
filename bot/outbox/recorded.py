"""What a delivery kind records once Telegram took it (its entry in kinds.AFTER_SENT): the id of a
message to edit or stop later, the poll whose counts are the meeting's evaluation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message

from bot.domain.meetings import set_announcement
from bot.domain.minutes import set_message as set_minutes_message
from bot.domain.polls import record_evaluation_poll
from bot.outbox.outgoing import Outgoing
from bot.outbox.refresh import keep_tail
from storage.models import Meeting


async def announcement(session: AsyncSession, out: Outgoing, sent: Message, now: datetime) -> None:
    """Its counts are edited in that message from then on."""
    if out.meeting_id is not None:
        await set_announcement(session, out.meeting_id, sent.message_id)


async def group_reminder(session: AsyncSession, out: Outgoing, sent: Message, now: datetime) -> None:
    """Its counts are edited when someone answers under it: the edit keeps its other blocks."""
    if out.tail and out.meeting_id is not None:
        await keep_tail(session, "group_reminder", out.chat_id, sent.message_id, out.meeting_id, out.tail, now)


async def minutes(session: AsyncSession, out: Outgoing, sent: Message, now: datetime) -> None:
    """The group's copy, linked from later messages."""
    if out.subject_id is not None:
        await set_minutes_message(session, out.subject_id, sent.message_id)


async def feedback(session: AsyncSession, out: Outgoing, sent: Message, now: datetime) -> None:
    """The anonymous poll "utile ?": its counts are the meeting's evaluation (reports)."""
    meeting = await session.get(Meeting, out.meeting_id) if out.meeting_id is not None else None
    if meeting is not None and sent.poll is not None and out.poll is not None:
        poll = out.poll
        await record_evaluation_poll(
            session, meeting, sent.poll.id, sent.message_id, poll["question"], poll["options"], now
        )

"""What is recorded once Telegram took a message: the id of a message to edit or stop later, the
poll whose votes name it, the question a dialogue's answer must reply to.

- For the dispatcher's deliveries, by kind (their entries in kinds.AFTER_SENT).
- For an update's answers, by name (`ANSWER_RECORDS`): an answer carries its record as an
  `AfterSent` (a name and JSON arguments), written down with the answer, so that a process that
  sends it after a crash records it the same way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message

from bot.domain import actions, date_polls, dialogues, priorities
from bot.domain.meetings import set_announcement
from bot.domain.minutes import set_message as set_minutes_message
from bot.domain.polls import PollDraft, record_evaluation_poll
from bot.domain.polls import record_sent as record_poll_sent
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


# What an update's answer records once sent: (session, the message Telegram returned, the
# arguments) -> the moments the dispatcher must run at (a poll's reminder and closing).
AnswerRecord = Callable[[AsyncSession, Message, dict[str, Any]], Awaitable[list[datetime]]]


@dataclass(frozen=True)
class AfterSent:
    """What an answer records once it is out: an entry of ANSWER_RECORDS and its arguments."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


async def _announcement(session: AsyncSession, sent: Message, args: dict[str, Any]) -> list[datetime]:
    await set_announcement(session, args["id"], sent.message_id)  # its counts are edited there
    return []


async def _date_poll(session: AsyncSession, sent: Message, args: dict[str, Any]) -> list[datetime]:
    await date_polls.set_message(session, args["id"], sent.message_id)
    return []


async def _priorities(session: AsyncSession, sent: Message, args: dict[str, Any]) -> list[datetime]:
    await priorities.set_message(session, args["id"], sent.message_id)
    return []


async def _action(session: AsyncSession, sent: Message, args: dict[str, Any]) -> list[datetime]:
    await actions.set_message(session, args["id"], sent.message_id)
    return []


async def _prompt(session: AsyncSession, sent: Message, args: dict[str, Any]) -> list[datetime]:
    """The dialogue's answer must reply to this question (in a group, privacy mode)."""
    await dialogues.set_prompt(session, args["user"], args["chat"], args["kind"], args["step"], sent.message_id)
    return []


async def _poll(session: AsyncSession, sent: Message, args: dict[str, Any]) -> list[datetime]:
    """A native poll is kept once Telegram has it: its id is what the votes name."""
    if sent.poll is None:
        return []
    draft = PollDraft(
        args["group"],
        args["question"],
        tuple(args["options"]),
        args["anonymous"],
        args["proposal"],
        args["creator"],
        datetime.fromisoformat(args["opened_at"]),
        datetime.fromisoformat(args["closes"]),
        datetime.fromisoformat(args["remind"]),
    )
    return await record_poll_sent(session, draft, sent.poll.id, sent.message_id)


ANSWER_RECORDS: dict[str, AnswerRecord] = {
    "announcement": _announcement,
    "date_poll": _date_poll,
    "priorities": _priorities,
    "action": _action,
    "prompt": _prompt,
    "poll": _poll,
}


def after_sent(name: str, **args: Any) -> AfterSent:
    """The record an answer makes once sent (arguments: JSON values, datetimes as ISO text)."""
    if name not in ANSWER_RECORDS:
        raise KeyError(f"no answer record named {name!r}")
    return AfterSent(name, args)


def poll_record(draft: PollDraft) -> AfterSent:
    return after_sent(
        "poll",
        group=draft.group_id,
        question=draft.question,
        options=list(draft.options),
        anonymous=draft.anonymous,
        proposal=draft.proposal_id,
        creator=draft.creator_id,
        opened_at=draft.opened_at.isoformat(),
        closes=draft.closes.isoformat(),
        remind=draft.remind.isoformat(),
    )

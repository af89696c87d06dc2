"""Closing a poll, a proposal vote or a priority round before its deadline (/clore, or the
"🔒 Clore" button under it). Its closing event is brought forward to now, so the outbox posts the
outcome exactly as it would have at the deadline, once, whichever process sends it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.events import EventKind, move_pending
from bot.domain.proposals import ProposalError, find_proposal
from storage.models import Group, Poll, PriorityRound, Proposal

POLL, ROUND = "poll", "round"
_CLOSING = {POLL: EventKind.POLL_CLOSE, ROUND: EventKind.PRIORITY_CLOSE}


@dataclass(frozen=True)
class Closable:
    """Something open that a facilitator may close now."""

    kind: str  # POLL (a /sondage or a /vote) | ROUND (/priorites)
    subject_id: int
    question: str  # the poll's question; empty for a round
    proposal_number: int | None  # the proposal a vote is about


async def open_items(session: AsyncSession, group: Group) -> list[Closable]:
    """The group's open polls, votes and priority round, oldest first. Evaluation polls are
    Telegram's to close (their open_period) and are not listed."""
    polls = await session.execute(
        select(Poll, Proposal.number)
        .outerjoin(Proposal, Proposal.id == Poll.proposal_id)
        .where(Poll.group_id == group.id, Poll.status == "open", Poll.meeting_id.is_(None))
        .order_by(Poll.id)
    )
    items = [Closable(POLL, poll.id, poll.question, number) for poll, number in polls]
    rounds = await session.scalars(
        select(PriorityRound.id).where(PriorityRound.group_id == group.id, PriorityRound.status == "open")
    )
    return items + [Closable(ROUND, round_id, "", None) for round_id in rounds]


async def vote_on(session: AsyncSession, group: Group, number: int) -> Closable:
    """The open vote on proposal n°`number`. Raises ProposalError."""
    proposal = await find_proposal(session, group, number)
    if proposal is None:
        raise ProposalError("proposal.error.unknown", number=number)
    found = next(
        (item for item in await open_items(session, group) if item.proposal_number == number),
        None,
    )
    if found is None:
        raise ProposalError("close.error.no_vote", number=number)
    return found


async def poll_of_message(session: AsyncSession, group: Group, message_id: int) -> Poll | None:
    """The poll a "🔒 Clore" button sits under (the button is sent with the poll, before its id)."""
    return await session.scalar(select(Poll).where(Poll.group_id == group.id, Poll.message_id == message_id))


async def close_now(session: AsyncSession, group: Group, kind: str, subject_id: int, now: datetime) -> bool:
    """Bring the closing forward to now; False when it is already closed (or not this group's)."""
    subject: Poll | PriorityRound | None = (
        await session.get(Poll, subject_id) if kind == POLL else await session.get(PriorityRound, subject_id)
    )
    if subject is None or subject.group_id != group.id or subject.status != "open":
        return False
    if not await move_pending(session, _CLOSING[kind], subject_id, now):
        return False  # its closing is already being sent
    subject.closes_at = min(subject.closes_at, now)
    return True

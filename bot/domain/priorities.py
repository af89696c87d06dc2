"""Prioritising together: the dot-vote groups run on paper. Each member picks up to N open
proposals, one tap each; at the deadline the ranking is posted."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.events import EventKind, subject_event
from bot.domain.proposals import OPEN, ProposalError, open_proposals, opened
from storage.models import Group, Person, PriorityPick, PriorityRound, Proposal

log = logging.getLogger(__name__)

PRIORITY_CLOSE = EventKind.PRIORITY_CLOSE


async def open_round(session: AsyncSession, group: Group) -> PriorityRound | None:
    return await session.scalar(
        select(PriorityRound).where(PriorityRound.group_id == group.id, PriorityRound.status == "open")
    )


async def start_round(
    session: AsyncSession, group: Group, creator: Person | None, now: datetime, closes: datetime, max_picks: int
) -> tuple[PriorityRound, list[Proposal]]:
    """A new round over the open proposals; one round at a time per group."""
    if await open_round(session, group) is not None:
        raise ProposalError("priorities.error.running")
    proposals = await open_proposals(session, group)
    if len(proposals) < 2:
        raise ProposalError("priorities.error.too_few")
    round_ = PriorityRound(
        group_id=group.id,
        max_picks=min(max_picks, len(proposals) - 1),
        **opened(creator, now, closes),
    )
    session.add(round_)
    await session.flush()
    session.add(subject_event(group.id, PRIORITY_CLOSE, round_.id, closes))
    await session.flush()
    log.info("priority round %s opened in group %s", round_.id, group.id)
    return round_, proposals


async def toggle_pick(
    session: AsyncSession, round_: PriorityRound, person: Person, proposal_id: int
) -> tuple[bool, int]:
    """Pick or unpick one proposal; returns (now picked, how many this person has picked)."""
    if round_.status != "open":
        raise ProposalError("priorities.error.closed")
    proposal = await session.get(Proposal, proposal_id)
    if proposal is None or proposal.group_id != round_.group_id:
        raise ProposalError("button.invalid")
    mine = select(PriorityPick).where(PriorityPick.round_id == round_.id, PriorityPick.person_id == person.id)
    found = await session.scalar(mine.where(PriorityPick.proposal_id == proposal.id))
    count = len(list(await session.scalars(mine)))
    if found is not None:
        await session.delete(found)
        return False, count - 1
    if proposal.state not in OPEN:
        raise ProposalError("priorities.error.not_open", number=proposal.number)
    if count >= round_.max_picks:
        raise ProposalError("priorities.error.full", limit=round_.max_picks)
    session.add(PriorityPick(round_id=round_.id, person_id=person.id, proposal_id=proposal.id))
    await session.flush()
    return True, count + 1


async def participants(session: AsyncSession, round_: PriorityRound) -> int:
    return (
        await session.scalar(
            select(func.count(func.distinct(PriorityPick.person_id))).where(PriorityPick.round_id == round_.id)
        )
        or 0
    )


async def ranking(session: AsyncSession, round_: PriorityRound) -> list[tuple[Proposal, int]]:
    """Proposals by picks, most first; ties by number (the older first)."""
    rows = await session.execute(
        select(Proposal, func.count(PriorityPick.id))
        .join(PriorityPick, PriorityPick.proposal_id == Proposal.id)
        .where(PriorityPick.round_id == round_.id)
        .group_by(Proposal.id)
        .order_by(func.count(PriorityPick.id).desc(), Proposal.number)
    )
    return [(proposal, count) for proposal, count in rows]


async def close_round(session: AsyncSession, round_: PriorityRound, now: datetime) -> None:
    round_.status, round_.closed_at = "closed", now
    log.info("priority round %s closed", round_.id)


async def set_message(session: AsyncSession, round_id: int, message_id: int) -> None:
    """The group message that shows it, once sent (edited when it changes)."""
    row = await session.get(PriorityRound, round_id)
    if row is not None:
        row.message_id = message_id

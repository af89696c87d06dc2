"""A member's right to see and erase what Relais keeps about them."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import dialogues
from bot.domain.people import find_person, forget_seen
from storage.models import (
    ActionItem,
    Group,
    Meeting,
    Membership,
    Place,
    Poll,
    PollVote,
    Proposal,
    ProposalFollower,
    RideOffer,
    RideRequest,
)

log = logging.getLogger(__name__)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def _with_group(session: AsyncSession, model: Any, condition: Any, order: Any) -> list[tuple[Any, Group]]:
    """Rows of a group-owned table that are the person's, each with its group."""
    rows = await session.execute(
        select(model, Group).join(Group, Group.id == model.group_id).where(condition).order_by(order)
    )
    return [(row, group) for row, group in rows]


async def _rides(session: AsyncSession, model: Any, condition: Any) -> list[tuple[Any, Meeting, Place]]:
    """The person's ride offers or requests, each with its meeting and departure point."""
    rows = await session.execute(
        select(model, Meeting, Place)
        .join(Meeting, Meeting.id == model.meeting_id)
        .join(Place, Place.id == model.place_id)
        .where(condition)
        .order_by(model.id)
    )
    return [(ride, meeting, place) for ride, meeting, place in rows]


async def export_person(session: AsyncSession, telegram_id: int, now: datetime) -> dict[str, Any]:
    """Everything stored about the person, as plain JSON-ready data."""
    person = await find_person(session, telegram_id)
    data: dict[str, Any] = {"exported_at": now.isoformat(), "telegram_id": telegram_id, "stored": person is not None}
    if person is None:
        return data
    data["person"] = {
        "first_name": person.first_name,
        "username": person.username,
        "language_code": person.language_code,
        "private_messages": person.private_status,
        "started_at": _iso(person.started_at),
        "unreachable_at": _iso(person.unreachable_at),
        "first_seen_at": _iso(person.created_at),
    }
    rows = await _with_group(session, Membership, Membership.person_id == person.id, Membership.joined_at)
    data["groups"] = [
        {
            "group": group.display_name,
            "status": membership.status,
            "joined_at": _iso(membership.joined_at),
            "left_at": _iso(membership.left_at),
            "last_seen_at": _iso(membership.last_seen_at),
            "facilitator": membership.named_facilitator,
            "private_reminders": membership.private_reminders,
        }
        for membership, group in rows
    ]
    proposals = await _with_group(session, Proposal, Proposal.author_id == person.id, Proposal.id)
    data["proposals"] = [
        {
            "group": group.display_name,
            "number": proposal.number,
            "text": proposal.text,
            "state": proposal.state,
            "created_at": _iso(proposal.created_at),
        }
        for proposal, group in proposals
    ]
    following = await session.execute(
        select(Proposal, Group)
        .join(ProposalFollower, ProposalFollower.proposal_id == Proposal.id)
        .join(Group, Group.id == Proposal.group_id)
        .where(ProposalFollower.person_id == person.id)
        .order_by(Proposal.id)
    )
    data["following"] = [{"group": group.display_name, "number": proposal.number} for proposal, group in following]
    votes = await session.execute(
        select(PollVote, Poll)
        .join(Poll, Poll.id == PollVote.poll_id)
        .where(PollVote.person_id == person.id)
        .order_by(PollVote.id)
    )
    data["poll_votes"] = [
        {
            "question": poll.question,
            "choices": [
                json.loads(poll.options)[int(i)]
                for i in vote.option_ids.split(",")
                if i.isdigit() and int(i) < len(json.loads(poll.options))
            ],
            "voted_at": _iso(vote.voted_at),
        }
        for vote, poll in votes
    ]
    actions = await _with_group(session, ActionItem, ActionItem.owner_id == person.id, ActionItem.id)
    offers = await _rides(session, RideOffer, RideOffer.driver_id == person.id)
    data["ride_offers"] = [
        {
            "meeting": meeting.number,
            "from": place.name,
            "seats": offer.seats,
            "departs_at": _iso(offer.departs_at),
            "status": offer.status,
        }
        for offer, meeting, place in offers
    ]
    asked = await _rides(session, RideRequest, RideRequest.person_id == person.id)
    data["ride_requests"] = [
        {"meeting": meeting.number, "from": place.name, "status": request.status} for request, meeting, place in asked
    ]
    data["actions"] = [
        {"group": group.display_name, "text": action.text, "due_on": action.due_on.isoformat(), "status": action.status}
        for action, group in actions
    ]
    data["dialogues_in_progress"] = [
        {"dialogue": dialogue.kind, "step": dialogue.step, "answers_so_far": dialogue.data}
        for dialogue in await dialogues.of_person(session, telegram_id)
    ]
    return data


async def erase_person(session: AsyncSession, telegram_id: int) -> bool:
    """Delete the person and their memberships, follows, votes, priority picks and rides (the
    database cascades). Proposals they wrote and actions they owned stay with the group, without the
    name (author and owner set to NULL, shown as "un membre")."""
    await dialogues.forget_person(session, telegram_id)  # a half-written proposal is theirs too
    person = await find_person(session, telegram_id)
    if person is None:
        return False
    # Their passengers are not left in a car that no longer exists: back in the queue.
    offers = select(RideOffer.id).where(RideOffer.driver_id == person.id)
    await session.execute(
        update(RideRequest)
        .where(RideRequest.offer_id.in_(offers), RideRequest.status.in_(("proposed", "matched")))
        .values(status="waiting", offer_id=None, matched_at=None)
    )
    await session.execute(delete(Membership).where(Membership.person_id == person.id))
    await session.delete(person)
    forget_seen(session)
    await session.flush()
    log.info("a person erased their data")
    return True

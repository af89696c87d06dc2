"""A member's rights over what Relais keeps about them (GDPR articles 15 to 17): to see all of it
(`export_person`), to erase all of it (`erase_person`), and to stop Relais writing to them in
private without erasing anything (`pause_private`). What is kept only as long as it is useful is
erased on time (`forget_old_reasons`: absence reasons, `privacy.reasons_days` after the meeting).

`PERSON_COLUMNS` lists every column that points at a person, with the export section that shows
it; a test reads the models and fails when a column is missing here, and another fills every
column and checks the export shows it and the erasure leaves none.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import dialogues
from bot.domain.people import find_person, forget_seen
from bot.domain.sms import forget_person_sms
from storage.models import (
    ActionItem,
    Attendance,
    CharterReading,
    CostClaim,
    DateOption,
    DatePoll,
    DateTick,
    Delivery,
    Evaluation,
    Group,
    Meeting,
    MeetingNeed,
    Membership,
    Minutes,
    MinutesReview,
    Notice,
    Person,
    Place,
    Poll,
    PollVote,
    PriorityPick,
    PriorityRound,
    Proposal,
    ProposalChange,
    ProposalFollower,
    Question,
    ReachOut,
    RideOffer,
    RideRequest,
    Rsvp,
    SmsContact,
    WebLogin,
    WebSession,
)

log = logging.getLogger(__name__)

# (table, column) -> the export section that shows it. dialogues.user_id holds a Telegram id.
PERSON_COLUMNS: dict[tuple[str, str], str] = {
    ("memberships", "person_id"): "groups",
    ("meetings", "created_by_id"): "meetings_created",
    ("rsvps", "person_id"): "meeting_answers",
    ("sms_contacts", "person_id"): "sms_numbers",
    ("attendance", "person_id"): "attendance",
    ("deliveries", "person_id"): "messages_sent_or_planned",
    ("notices", "person_id"): "notices_waiting",
    ("reach_outs", "person_id"): "told_in_group_to_open_private_chat",
    ("proposals", "author_id"): "proposals",
    ("proposal_changes", "by_id"): "proposal_changes_made",
    ("proposal_followers", "person_id"): "following",
    ("polls", "created_by_id"): "polls_created",
    ("poll_votes", "person_id"): "poll_votes",
    ("priority_rounds", "created_by_id"): "priority_rounds_created",
    ("priority_picks", "person_id"): "priority_picks",
    ("action_items", "owner_id"): "actions",
    ("action_items", "created_by_id"): "actions_created",
    ("ride_offers", "driver_id"): "ride_offers",
    ("ride_requests", "person_id"): "ride_requests",
    ("dialogues", "user_id"): "dialogues_in_progress",
    ("web_logins", "person_id"): "dashboard_links",
    ("web_sessions", "person_id"): "dashboard_sessions",
    ("questions", "person_id"): "questions_asked",
    ("questions", "answered_by_id"): "questions_answered",
    ("meeting_needs", "person_id"): "meeting_needs",
    ("date_ticks", "person_id"): "dates_you_can_make",
    ("date_polls", "created_by_id"): "date_polls_created",
    ("evaluations", "person_id"): "evaluations",
    ("minutes", "created_by_id"): "minutes_written",
    ("minutes_reviews", "person_id"): "minutes_reviews",
    ("cost_claims", "person_id"): "cost_claims",
    ("cost_claims", "decided_by_id"): "cost_claims_decided",
    ("charter_readings", "person_id"): "charter_read",
}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _group_name(group: Group | None) -> str | None:
    return group.display_name if group is not None else None


async def _rows(session: AsyncSession, query: Any) -> list[Any]:
    return list((await session.execute(query)).all())


def _meeting(meeting: Meeting, group: Group) -> dict[str, Any]:
    return {"group": group.display_name, "meeting": meeting.number, "starts_at": _iso(meeting.starts_at)}


async def _groups(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    rows = await _rows(
        session,
        select(Membership, Group)
        .join(Group, Group.id == Membership.group_id)
        .where(Membership.person_id == person.id)
        .order_by(Membership.joined_at),
    )
    return [
        {
            "group": group.display_name,
            "status": membership.status,
            "joined_at": _iso(membership.joined_at),
            "left_at": _iso(membership.left_at),
            "last_seen_at": _iso(membership.last_seen_at),
            "facilitator": membership.named_facilitator,
            "private_reminders": membership.private_reminders,
            "returned_at": _iso(membership.returned_at),
            "term_ends_at": _iso(membership.term_ends_at),
            "stay_wish": membership.stay_wish,
            "thanked_at": _iso(membership.farewell_at),
        }
        for membership, group in rows
    ]


async def _meetings_created(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    rows = await _rows(
        session,
        select(Meeting, Group)
        .join(Group, Group.id == Meeting.group_id)
        .where(Meeting.created_by_id == person.id)
        .order_by(Meeting.id),
    )
    return [_meeting(meeting, group) | {"topic": meeting.topic, "status": meeting.status} for meeting, group in rows]


async def _with_meeting(session: AsyncSession, model: Any, column: Any, person: Person) -> list[Any]:
    """The person's rows of a table about meetings, each with its meeting and group."""
    return await _rows(
        session,
        select(model, Meeting, Group)
        .join(Meeting, Meeting.id == model.meeting_id)
        .join(Group, Group.id == Meeting.group_id)
        .where(column == person.id)
        .order_by(Meeting.starts_at),
    )


async def _with_proposal(session: AsyncSession, model: Any, column: Any, person: Person) -> list[Any]:
    """The person's rows of a table about proposals, each with its proposal and group."""
    return await _rows(
        session,
        select(model, Proposal, Group)
        .join(Proposal, Proposal.id == model.proposal_id)
        .join(Group, Group.id == Proposal.group_id)
        .where(column == person.id)
        .order_by(model.id),
    )


async def _answers(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    rows = await _with_meeting(session, Rsvp, Rsvp.person_id, person)
    return [
        _meeting(meeting, group)
        | {"answer": rsvp.answer, "absence_reason": rsvp.reason, "answered_at": _iso(rsvp.answered_at)}
        for rsvp, meeting, group in rows
    ]


async def _attendance(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    rows = await _with_meeting(session, Attendance, Attendance.person_id, person)
    return [_meeting(meeting, group) | {"present": row.present} for row, meeting, group in rows]


async def _deliveries(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    rows = await session.scalars(select(Delivery).where(Delivery.person_id == person.id).order_by(Delivery.id))
    return [{"kind": d.kind, "status": d.status, "sent_at": _iso(d.sent_at)} for d in rows]


async def _notices(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    rows = await session.scalars(select(Notice).where(Notice.person_id == person.id).order_by(Notice.id))
    return [{"kind": n.kind, "text": n.text, "status": n.status, "written_at": _iso(n.created_at)} for n in rows]


async def _reach_outs(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    rows = await _rows(
        session,
        select(ReachOut, Group).join(Group, Group.id == ReachOut.group_id).where(ReachOut.person_id == person.id),
    )
    return [{"group": group.display_name, "about": r.kind, "at": _iso(r.created_at)} for r, group in rows]


async def _proposals(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    rows = await _rows(
        session,
        select(Proposal, Group)
        .join(Group, Group.id == Proposal.group_id)
        .where(Proposal.author_id == person.id)
        .order_by(Proposal.id),
    )
    return [
        {
            "group": group.display_name,
            "number": proposal.number,
            "text": proposal.text,
            "state": proposal.state,
            "created_at": _iso(proposal.created_at),
        }
        for proposal, group in rows
    ]


async def _changes_made(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    rows = await _with_proposal(session, ProposalChange, ProposalChange.by_id, person)
    return [
        {"group": group.display_name, "proposal": proposal.number, "state": change.state, "at": _iso(change.at)}
        for change, proposal, group in rows
    ]


async def _following(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    rows = await _with_proposal(session, ProposalFollower, ProposalFollower.person_id, person)
    return [{"group": group.display_name, "number": proposal.number} for _, proposal, group in rows]


async def _polls_created(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    rows = await _rows(
        session,
        select(Poll, Group).join(Group, Group.id == Poll.group_id).where(Poll.created_by_id == person.id),
    )
    return [
        {"group": group.display_name, "question": poll.question, "at": _iso(poll.created_at)} for poll, group in rows
    ]


async def _votes(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    rows = await _rows(
        session,
        select(PollVote, Poll).join(Poll, Poll.id == PollVote.poll_id).where(PollVote.person_id == person.id),
    )
    votes = []
    for vote, poll in rows:
        options = json.loads(poll.options)
        chosen = [options[int(i)] for i in vote.option_ids.split(",") if i.isdigit() and int(i) < len(options)]
        votes.append({"question": poll.question, "choices": chosen, "voted_at": _iso(vote.voted_at)})
    return votes


async def _rounds_created(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    rows = await _rows(
        session,
        select(PriorityRound, Group)
        .join(Group, Group.id == PriorityRound.group_id)
        .where(PriorityRound.created_by_id == person.id),
    )
    return [{"group": group.display_name, "at": _iso(round_.created_at)} for round_, group in rows]


async def _picks(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    rows = await _with_proposal(session, PriorityPick, PriorityPick.person_id, person)
    return [{"group": group.display_name, "round": pick.round_id, "proposal": p.number} for pick, p, group in rows]


async def _actions(session: AsyncSession, person: Person, column: Any) -> list[dict[str, Any]]:
    rows = await _rows(
        session,
        select(ActionItem, Group).join(Group, Group.id == ActionItem.group_id).where(column == person.id),
    )
    return [
        {"group": group.display_name, "text": a.text, "due_on": a.due_on.isoformat(), "status": a.status}
        for a, group in rows
    ]


async def _rides(session: AsyncSession, model: Any, column: Any, person: Person) -> list[tuple[Any, Meeting, Place]]:
    rows = await _rows(
        session,
        select(model, Meeting, Place)
        .join(Meeting, Meeting.id == model.meeting_id)
        .join(Place, Place.id == model.place_id)
        .where(column == person.id)
        .order_by(model.id),
    )
    return [(ride, meeting, place) for ride, meeting, place in rows]


async def _offers(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    return [
        {
            "meeting": meeting.number,
            "from": place.name,
            "seats": offer.seats,
            "departs_at": _iso(offer.departs_at),
            "status": offer.status,
        }
        for offer, meeting, place in await _rides(session, RideOffer, RideOffer.driver_id, person)
    ]


async def _requests(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    return [
        {"meeting": meeting.number, "from": place.name, "status": request.status}
        for request, meeting, place in await _rides(session, RideRequest, RideRequest.person_id, person)
    ]


async def _dialogues(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    return [
        {"dialogue": dialogue.kind, "step": dialogue.step, "answers_so_far": dialogue.data}
        for dialogue in await dialogues.of_person(session, person.telegram_id)
    ]


async def _dashboard_links(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    """Login links /tableau sent (their secret is not kept, only a hash of it)."""
    return [
        {"sent_at": _iso(login.created_at), "expires_at": _iso(login.expires_at), "used_at": _iso(login.used_at)}
        for login in await session.scalars(
            select(WebLogin).where(WebLogin.person_id == person.id).order_by(WebLogin.id)
        )
    ]


async def _dashboard_sessions(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    return [
        {"opened_at": _iso(found.created_at), "last_used_at": _iso(found.last_seen_at), "language": found.language}
        for found in await session.scalars(
            select(WebSession).where(WebSession.person_id == person.id).order_by(WebSession.id)
        )
    ]


async def _questions(session: AsyncSession, person: Person, column: Any) -> list[dict[str, Any]]:
    """Questions asked about meetings (with their answers), or answered as a facilitator."""
    rows = await _with_meeting(session, Question, column, person)
    return [
        _meeting(meeting, group)
        | {
            "question": question.text,
            "asked_at": _iso(question.asked_at),
            "answer": question.answer,
            "answered_at": _iso(question.answered_at),
        }
        for question, meeting, group in rows
    ]


async def _needs(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    rows = await _with_meeting(session, MeetingNeed, MeetingNeed.person_id, person)
    return [
        _meeting(meeting, group) | {"children_to_look_after": need.children, "meal_need": need.diet}
        for need, meeting, group in rows
    ]


async def _date_ticks(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    rows = await _rows(
        session,
        select(DateTick, DateOption, DatePoll, Group)
        .join(DateOption, DateOption.id == DateTick.option_id)
        .join(DatePoll, DatePoll.id == DateOption.date_poll_id)
        .join(Group, Group.id == DatePoll.group_id)
        .where(DateTick.person_id == person.id)
        .order_by(DateTick.id),
    )
    return [
        {"group": group.display_name, "topic": poll.topic, "date": _iso(option.starts_at), "at": _iso(tick.ticked_at)}
        for tick, option, poll, group in rows
    ]


async def _date_polls_created(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    rows = await _rows(
        session,
        select(DatePoll, Group).join(Group, Group.id == DatePoll.group_id).where(DatePoll.created_by_id == person.id),
    )
    return [{"group": group.display_name, "topic": poll.topic, "at": _iso(poll.created_at)} for poll, group in rows]


async def _evaluations(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    rows = await _with_meeting(session, Evaluation, Evaluation.person_id, person)
    return [
        _meeting(meeting, group) | {"useful": row.useful, "for_next_meeting": row.hope, "signed": row.signed}
        for row, meeting, group in rows
    ]


async def _minutes_written(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    rows = await _with_meeting(session, Minutes, Minutes.created_by_id, person)
    return [_meeting(meeting, group) | {"status": row.status} for row, meeting, group in rows]


async def _minutes_reviews(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    rows = await _rows(
        session,
        select(MinutesReview, Meeting, Group)
        .join(Minutes, Minutes.id == MinutesReview.minutes_id)
        .join(Meeting, Meeting.id == Minutes.meeting_id)
        .join(Group, Group.id == Meeting.group_id)
        .where(MinutesReview.person_id == person.id),
    )
    return [
        _meeting(meeting, group) | {"agreed": review.agreed, "comment": review.comment, "at": _iso(review.at)}
        for review, meeting, group in rows
    ]


async def _claims(session: AsyncSession, person: Person, column: Any) -> list[dict[str, Any]]:
    """Cost claims (the receipt is a Telegram file id; the photo itself is Telegram's)."""
    rows = await _with_meeting(session, CostClaim, column, person)
    return [
        _meeting(meeting, group)
        | {
            "category": claim.category,
            "amount_euros": claim.amount_cents / 100,
            "receipt_file_id": claim.file_id,
            "status": claim.status,
            "reason": claim.reason,
            "claimed_at": _iso(claim.created_at),
        }
        for claim, meeting, group in rows
    ]


async def _charter_read(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    rows = await _rows(
        session,
        select(CharterReading, Group)
        .join(Group, Group.id == CharterReading.group_id)
        .where(CharterReading.person_id == person.id),
    )
    return [{"group": group.display_name, "read_at": _iso(row.read_at)} for row, group in rows]


Section = Callable[[AsyncSession, Person], Awaitable[list[dict[str, Any]]]]


async def _sms_numbers(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(SmsContact, Group.title)
        .join(Group, Group.id == SmsContact.group_id)
        .where(SmsContact.person_id == person.id)
    )
    return [
        {
            "group": title,
            "number": contact.number,
            "status": contact.status,
            "registered_at": _iso(contact.created_at),
            "consented_at": _iso(contact.consented_at),
            "stopped_at": _iso(contact.stopped_at),
        }
        for contact, title in rows
    ]


SECTIONS: dict[str, Section] = {
    "groups": _groups,
    "meetings_created": _meetings_created,
    "meeting_answers": _answers,
    "attendance": _attendance,
    "messages_sent_or_planned": _deliveries,
    "notices_waiting": _notices,
    "told_in_group_to_open_private_chat": _reach_outs,
    "proposals": _proposals,
    "proposal_changes_made": _changes_made,
    "following": _following,
    "polls_created": _polls_created,
    "poll_votes": _votes,
    "priority_rounds_created": _rounds_created,
    "priority_picks": _picks,
    "actions": lambda session, person: _actions(session, person, ActionItem.owner_id),
    "actions_created": lambda session, person: _actions(session, person, ActionItem.created_by_id),
    "sms_numbers": _sms_numbers,
    "ride_offers": _offers,
    "ride_requests": _requests,
    "dialogues_in_progress": _dialogues,
    "dashboard_links": _dashboard_links,
    "dashboard_sessions": _dashboard_sessions,
    "questions_asked": lambda session, person: _questions(session, person, Question.person_id),
    "questions_answered": lambda session, person: _questions(session, person, Question.answered_by_id),
    "meeting_needs": _needs,
    "dates_you_can_make": _date_ticks,
    "date_polls_created": _date_polls_created,
    "evaluations": _evaluations,
    "minutes_written": _minutes_written,
    "minutes_reviews": _minutes_reviews,
    "cost_claims": lambda session, person: _claims(session, person, CostClaim.person_id),
    "cost_claims_decided": lambda session, person: _claims(session, person, CostClaim.decided_by_id),
    "charter_read": _charter_read,
}


async def export_person(session: AsyncSession, telegram_id: int, now: datetime) -> dict[str, Any]:
    """Everything stored about the person, as plain JSON-ready data, section by section."""
    person = await find_person(session, telegram_id)
    data: dict[str, Any] = {"exported_at": now.isoformat(), "telegram_id": telegram_id, "stored": person is not None}
    if person is None:
        return data
    data["person"] = {
        "first_name": person.first_name,
        "username": person.username,
        "language_code": person.language_code,
        "private_messages": person.private_status,
        "private_messages_paused": person.private_paused,
        "started_at": _iso(person.started_at),
        "unreachable_at": _iso(person.unreachable_at),
        "first_seen_at": _iso(person.created_at),
    }
    for name, section in SECTIONS.items():
        data[name] = await section(session, person)
    return data


async def erase_person(session: AsyncSession, telegram_id: int) -> bool:
    """Delete the person and everything that is only theirs (memberships, answers, attendance,
    follows, votes, picks, rides, messages planned for them: the database cascades). What they
    made for the group stays with the group without their name (a proposal's text, an action,
    a meeting they created: the reference is set to NULL, shown as "un membre")."""
    person = await find_person(session, telegram_id)
    if person is None:
        await dialogues.forget_person(session, telegram_id)
        return False
    await erase(session, person)
    log.info("a person erased their data")
    return True


async def erase(session: AsyncSession, person: Person) -> None:
    """The erasure itself (by the person's choice, or by the retention job)."""
    await dialogues.forget_person(session, person.telegram_id)  # a half-written proposal is theirs too
    # Their passengers are not left in a car that no longer exists: back in the queue.
    offers = select(RideOffer.id).where(RideOffer.driver_id == person.id)
    await session.execute(
        update(RideRequest)
        .where(RideRequest.offer_id.in_(offers), RideRequest.status.in_(("proposed", "matched")))
        .values(status="waiting", offer_id=None, matched_at=None)
    )
    await session.execute(delete(Membership).where(Membership.person_id == person.id))
    await forget_person_sms(session, person)  # before their numbers go (the SMS would stay, unlinked)
    # Answers to them still waiting to go (a retry after Telegram failed): named by their chat.
    await session.execute(delete(Notice).where(Notice.chat_id == person.telegram_id))
    await session.delete(person)
    forget_seen(session)
    await session.flush()


async def pause_private(session: AsyncSession, telegram_id: int, paused: bool) -> bool:
    """ "🔕 Ne plus recevoir de rappels" (paused) or "🔔 Recevoir à nouveau": Relais stops (or
    resumes) writing to the person in private on its own initiative; nothing is erased. False when
    the person is unknown."""
    person = await find_person(session, telegram_id)
    if person is None:
        return False
    if person.private_paused != paused:
        person.private_paused = paused
        log.info("person %s %s private messages", person.id, "paused" if paused else "resumed")
    return True


async def forget_old_reasons(session: AsyncSession, now: datetime, days: int) -> int:
    """Absence reasons (health among them) are erased `days` after their meeting: they serve the
    facilitators preparing it, not a file about people. Returns how many were erased."""
    old = select(Meeting.id).where(Meeting.starts_at < now - timedelta(days=days))
    result = await session.execute(
        update(Rsvp).where(Rsvp.meeting_id.in_(old), Rsvp.reason.is_not(None)).values(reason=None)
    )
    erased = result.rowcount or 0  # type: ignore[attr-defined]
    if erased:
        log.info("absence reasons erased after %s days: %s", days, erased)
    return erased

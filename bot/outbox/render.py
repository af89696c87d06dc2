"""Rendering the deliveries that belong to a group rather than a meeting: proposal news, poll
reminders and summaries, priority rankings, action-item reminders and the monthly digest."""

from __future__ import annotations

import logging

from sqlalchemy import select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import carpool
from bot.domain import meetings as m
from bot.domain import proposals as p
from bot.domain.deeplinks import PROPOSE, group_payload, start_url
from bot.domain.polls import electorate
from bot.domain.priorities import participants, ranking
from bot.outbox.outgoing import Outgoing
from bot.services import Services
from bot.ui.carpool import driver_reminder, rider_reminder, unmatched_text
from bot.ui.i18n import pick_language, plain
from bot.ui.proposals import (
    action_keyboard,
    action_reminder_text,
    change_sentence,
    changes_block,
    digest_text,
    news_text,
    poll_group_reminder_text,
    poll_link,
    poll_nudge_text,
    poll_summary,
    propose_keyboard,
    ranking_text,
)
from storage.models import (
    ActionItem,
    Delivery,
    Group,
    Meeting,
    Person,
    Poll,
    PollVote,
    PriorityRound,
    Proposal,
    ProposalChange,
    ScheduledEvent,
)

log = logging.getLogger(__name__)


async def proposals_moved_block(session, delivery: Delivery, group: Group, meeting: Meeting, settings) -> str:
    """The first reminder of a meeting (J-7 by default) lists the proposals whose follow-up
    moved since the previous meeting."""
    event = await session.get(ScheduledEvent, delivery.event_id)
    if event is None or event.kind != m.REMINDER:
        return ""
    first = max(m.offset_minutes(token) for token in m.group_offsets(group, settings))
    if event.offset_minutes != first:
        return ""
    previous = await p.last_meeting_before(session, group.id, meeting.starts_at)
    since = (
        previous.starts_at if previous is not None and previous.id != meeting.id else p.since_default(meeting.starts_at)
    )
    moved = await p.changes_since(session, group, since)
    return "\n\n" + changes_block(group.language, moved) if moved else ""


async def ride_text(session, kind: str, language: str, group: Group, meeting: Meeting, person: Person) -> str:
    """The day-before carpool reminder (driver or passenger), or the facilitators' list of
    requests without a seat; empty when there is nothing to say any more."""
    if kind == "rides_unmatched":
        waiting = await carpool.unmatched(session, meeting)
        return unmatched_text(language, group, meeting, waiting) if waiting else ""
    for offer, driver, start, riders in await carpool.matched_rides(session, meeting):
        if driver.id == person.id:
            return driver_reminder(language, group, meeting, offer, start, riders)
        for rider, pickup in riders:
            if rider.id == person.id:
                return rider_reminder(language, group, meeting, offer, driver, pickup)
    return ""


async def render_group_delivery(session, delivery: Delivery, svc: Services) -> Outgoing | None:
    event = await session.get(ScheduledEvent, delivery.event_id)
    group = await session.get(Group, event.group_id) if event and event.group_id else None
    if event is None or group is None or not group.active:
        return None
    person = await session.get(Person, delivery.person_id) if delivery.person_id else None
    out = Outgoing(
        delivery.id,
        delivery.kind,
        person.telegram_id if person else group.chat_id,
        group.id,
        None,
        person.telegram_id if person else None,
        delivery.attempts,
    )
    language = pick_language(person.language_code, group.language) if person else group.language
    kind = delivery.kind
    if kind == "proposal_news":
        change = await session.get(ProposalChange, event.subject_id)
        proposal = await session.get(Proposal, change.proposal_id) if change else None
        if proposal is None:
            return None
        target = (
            await session.get(Proposal, proposal.merged_into_id)
            if change.state == "merged" and proposal.merged_into_id
            else None
        )
        out.text = news_text(
            language, group, change_sentence(language, proposal, change.state, change.note, change.progress, target)
        )
    elif kind in ("poll_nudge", "poll_group_reminder", "poll_close"):
        poll = await session.get(Poll, event.subject_id)
        if poll is None:
            return None
        if kind == "poll_close":
            proposal = await session.get(Proposal, poll.proposal_id) if poll.proposal_id else None
            out.text = poll_summary(language, group, poll, await electorate(session, poll), proposal)
            out.stop_poll_message_id = poll.message_id
        elif poll.status != "open":
            return None
        elif kind == "poll_group_reminder":
            out.text, out.reply_to = poll_group_reminder_text(language, group, poll), poll.message_id
        else:
            voted = await session.scalar(
                select(PollVote.id).where(PollVote.poll_id == poll.id, PollVote.person_id == person.id)
            )
            if voted is not None:
                return None  # voted since the reminder was planned
            out.text = poll_nudge_text(language, group, poll)
            if link := poll_link(group, poll):
                out.markup = InlineKeyboardMarkup(
                    [[InlineKeyboardButton(plain(language, "button.open_poll"), url=link)]]
                )
    elif kind == "priority_close":
        round_ = await session.get(PriorityRound, event.subject_id)
        if round_ is None:
            return None
        out.text = ranking_text(language, await ranking(session, round_), await participants(session, round_))
    elif kind == "action_reminder":
        action = await session.get(ActionItem, event.subject_id)
        if action is None or action.status != "open":
            return None
        owner = person or (await session.get(Person, action.owner_id) if action.owner_id else None)
        name = owner.first_name if owner else plain(language, "someone")
        out.text = action_reminder_text(language, group, action, name, private=person is not None)
        out.markup = action_keyboard(language, action)
    elif kind == "proposals_digest":
        board = await p.board(session, group)
        moved = await p.changes_since(session, group, p.since_default(event.due_at))
        out.text = digest_text(language, group, board, moved)
        url = start_url(svc.bot_username, group_payload(svc.link_secret, group.id, PROPOSE))
        out.markup = propose_keyboard(language, url)
    else:
        log.warning("delivery %s of unknown kind %s", delivery.id, kind)
        return None
    return out

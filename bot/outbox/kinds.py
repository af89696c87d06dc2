"""The registry of kinds: each kind of event declares once how it expands into deliveries, and
each kind of delivery how it renders. Nothing here is matched by hand elsewhere.

`check_registry()` runs at start-up and in the tests: an event kind without an expansion, or a
delivery kind without a rendering, stops Relais before it sends anything. A row of a kind this
release does not know (written by a newer one, or by hand) is marked failed and logged as an
error, never silently skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message

from bot.domain.events import MEETING_EVENTS, EventKind
from bot.domain.people import reachable_in_private
from bot.outbox import expand, recorded, render
from bot.outbox.claims import due_events
from bot.outbox.expand import Expansion
from bot.outbox.outgoing import OutboxSettings, Outgoing
from bot.outbox.render import Rendering
from bot.ui.i18n import pick_language
from storage.models import Delivery, Group, Meeting, Person, ScheduledEvent

log = logging.getLogger(__name__)


class DeliveryKind(StrEnum):
    ANNOUNCEMENT = "announcement"
    GROUP_REMINDER = "group_reminder"
    PRIVATE_REMINDER = "private_reminder"
    NUDGE = "nudge"
    DIGEST = "digest"
    CHECKLIST = "checklist"
    FEEDBACK = "feedback"
    RIDE_REMINDER = "ride_reminder"
    RIDES_UNMATCHED = "rides_unmatched"
    PROPOSAL_NEWS = "proposal_news"
    POLL_CLOSE = "poll_close"
    POLL_GROUP_REMINDER = "poll_group_reminder"
    POLL_NUDGE = "poll_nudge"
    PRIORITY_CLOSE = "priority_close"
    ACTION_REMINDER = "action_reminder"
    PROPOSALS_DIGEST = "proposals_digest"
    REACH_OUT = "reach_out"  # in the group: a report waits in private for facilitators not reached
    DATE_POLL_CLOSE = "date_poll_close"
    EVALUATION = "evaluation"  # the day after, in private, to those who came
    MINUTES = "minutes"  # the group's copy of the minutes, pinned
    MINUTES_ABSENT = "minutes_absent"  # in private, to members who did not come
    CHARTER = "charter"  # the group's charter, pinned
    UNREACHABLE = "unreachable"  # with the first reminder, to those who run it: whom to phone
    REACH_NUDGE = "reach_nudge"  # in the group, at most monthly: "Recevoir mes rappels en privé"
    TERM_ASK = "term_ask"  # to the member, a month before their term ends: stay or stop?
    TERM_WARN = "term_warn"  # to the facilitators, then: prolong or let it end
    TERM_ENDED = "term_ended"  # to the facilitators: the term is over (it can still be prolonged)
    FAREWELL = "farewell"  # to someone who left or whose term ended: thanks, attestation, other groups
    MEMBER_NEWS = "member_news"  # in the group: welcome to the newcomers, thanks to those who left
    SMS_CONSENT = "sms_consent"  # by SMS: "Répondez OUI" (nothing else before it)
    SMS_REMINDER = "sms_reminder"  # by SMS, with each reminder wave: the meeting, 1 / 2 / 3, a number to call
    SMS_REPLY = "sms_reply"  # by SMS: the confirmation of a OUI or a STOP
    SMS_CHANGE = "sms_change"  # by SMS: the meeting is cancelled, or moved (and 1 / 2 / 3 again)
    SMS_LIMIT = "sms_limit"  # to those who run the meeting: the month's SMS are spent, whom to phone
    ANSWER_LINK = "answer_link"  # to whoever transmitted a proposal: the addressee's answer link
    ANSWER_FORWARD = "answer_forward"  # a week before the deadline (no mail): forward the link again
    ANSWER_OVERDUE = "answer_overdue"  # in the group: no answer yet, so many days after
    ANSWER_OVERDUE_REPORT = "answer_overdue_report"  # to the facilitators and coordinators: the same


class RegistryError(RuntimeError):
    """A kind without its expansion or rendering: a programming error, found at start-up."""


class RenderWroteError(RuntimeError):
    """A renderer changed the database: rendering must only read (a programming error)."""


@dataclass(frozen=True)
class EventSpec:
    expand: Callable[[Expansion], Awaitable[None]]
    delivers: frozenset[DeliveryKind]


D = DeliveryKind
EVENTS: dict[EventKind, EventSpec] = {
    EventKind.ANNOUNCEMENT: EventSpec(expand.announcement, frozenset({D.ANNOUNCEMENT})),
    EventKind.SERIES_NEXT: EventSpec(expand.series_next, frozenset({D.ANNOUNCEMENT})),
    EventKind.REMINDER: EventSpec(
        expand.reminder,
        frozenset(
            {
                D.GROUP_REMINDER,
                D.PRIVATE_REMINDER,
                D.NUDGE,
                D.UNREACHABLE,
                D.REACH_NUDGE,
                D.SMS_REMINDER,
                D.SMS_LIMIT,
                D.REACH_OUT,
            }
        ),
    ),
    EventKind.REACH_LIST: EventSpec(expand.written_done, frozenset({D.UNREACHABLE})),
    EventKind.REACH_NUDGE: EventSpec(expand.written_done, frozenset({D.REACH_NUDGE})),
    EventKind.SMS_LIMIT: EventSpec(expand.written_done, frozenset({D.SMS_LIMIT, D.REACH_OUT})),
    EventKind.DIGEST: EventSpec(expand.facilitator_digest, frozenset({D.DIGEST, D.REACH_OUT})),
    EventKind.CHECKLIST: EventSpec(expand.checklist, frozenset({D.CHECKLIST, D.REACH_OUT})),
    EventKind.FEEDBACK: EventSpec(expand.feedback, frozenset({D.FEEDBACK, D.EVALUATION})),
    EventKind.RIDES_REMINDER: EventSpec(expand.rides_reminder, frozenset({D.RIDE_REMINDER})),
    EventKind.RIDES_ALERT: EventSpec(expand.rides_alert, frozenset({D.RIDES_UNMATCHED, D.REACH_OUT})),
    EventKind.PROPOSAL_NEWS: EventSpec(expand.proposal_news, frozenset({D.PROPOSAL_NEWS})),
    EventKind.POLL_CLOSE: EventSpec(expand.poll_close, frozenset({D.POLL_CLOSE, D.PROPOSAL_NEWS})),
    EventKind.POLL_REMINDER: EventSpec(expand.poll_reminder, frozenset({D.POLL_GROUP_REMINDER, D.POLL_NUDGE})),
    EventKind.PRIORITY_CLOSE: EventSpec(expand.priority_close, frozenset({D.PRIORITY_CLOSE})),
    EventKind.ACTION_REMINDER: EventSpec(expand.action_reminder, frozenset({D.ACTION_REMINDER})),
    EventKind.PROPOSALS_DIGEST: EventSpec(expand.proposals_digest, frozenset({D.PROPOSALS_DIGEST})),
    EventKind.DATE_POLL_CLOSE: EventSpec(expand.date_poll_close, frozenset({D.DATE_POLL_CLOSE, D.ANNOUNCEMENT})),
    EventKind.MINUTES_PUBLISH: EventSpec(expand.minutes_publish, frozenset({D.MINUTES, D.MINUTES_ABSENT})),
    EventKind.CHARTER_POST: EventSpec(expand.charter_post, frozenset({D.CHARTER})),
    EventKind.TERM_NOTICE: EventSpec(expand.term_notice, frozenset({D.TERM_ASK, D.TERM_WARN, D.REACH_OUT})),
    EventKind.TERM_END: EventSpec(expand.term_end, frozenset({D.FAREWELL, D.TERM_ENDED, D.REACH_OUT})),
    EventKind.FAREWELL: EventSpec(expand.farewell, frozenset({D.FAREWELL})),
    EventKind.MEMBER_NEWS: EventSpec(expand.member_news, frozenset({D.MEMBER_NEWS})),
    EventKind.SMS_CONSENT: EventSpec(expand.sms_consent, frozenset({D.SMS_CONSENT})),
    EventKind.SMS_REPLY: EventSpec(expand.sms_reply, frozenset({D.SMS_REPLY})),
    EventKind.SMS_CHANGE: EventSpec(expand.sms_change, frozenset({D.SMS_CHANGE})),
    EventKind.ANSWER_LINK: EventSpec(expand.answer_link, frozenset({D.ANSWER_LINK, D.REACH_OUT})),
    EventKind.ANSWER_REMINDER: EventSpec(expand.answer_reminder, frozenset({D.ANSWER_FORWARD, D.REACH_OUT})),
    EventKind.ANSWER_OVERDUE: EventSpec(
        expand.answer_overdue, frozenset({D.ANSWER_OVERDUE, D.ANSWER_OVERDUE_REPORT, D.REACH_OUT})
    ),
}

DELIVERIES: dict[DeliveryKind, Callable[[Rendering], Awaitable[bool]]] = {
    D.ANNOUNCEMENT: render.announcement,
    D.GROUP_REMINDER: render.group_reminder,
    D.PRIVATE_REMINDER: render.private_reminder,
    D.NUDGE: render.private_reminder,
    D.DIGEST: render.digest,
    D.CHECKLIST: render.checklist,
    D.FEEDBACK: render.feedback,
    D.RIDE_REMINDER: render.ride_reminder,
    D.RIDES_UNMATCHED: render.rides_unmatched,
    D.PROPOSAL_NEWS: render.proposal_news,
    D.POLL_CLOSE: render.poll_close,
    D.POLL_GROUP_REMINDER: render.poll_group_reminder,
    D.POLL_NUDGE: render.poll_nudge,
    D.PRIORITY_CLOSE: render.priority_close,
    D.ACTION_REMINDER: render.action_reminder,
    D.PROPOSALS_DIGEST: render.proposals_digest,
    D.REACH_OUT: render.reach_out,
    D.DATE_POLL_CLOSE: render.date_poll_close,
    D.EVALUATION: render.evaluation,
    D.MINUTES: render.minutes,
    D.MINUTES_ABSENT: render.minutes,
    D.UNREACHABLE: render.unreachable,
    D.CHARTER: render.charter,
    D.REACH_NUDGE: render.reach_nudge,
    D.TERM_ASK: render.term_ask,
    D.TERM_WARN: render.term_warn,
    D.TERM_ENDED: render.term_ended,
    D.FAREWELL: render.farewell,
    D.MEMBER_NEWS: render.member_news,
    D.SMS_CONSENT: render.sms_consent,
    D.SMS_REMINDER: render.sms_reminder,
    D.SMS_REPLY: render.sms_reply,
    D.SMS_LIMIT: render.sms_limit,
    D.SMS_CHANGE: render.sms_change,
    D.ANSWER_LINK: render.answer_link,
    D.ANSWER_FORWARD: render.answer_forward,
    D.ANSWER_OVERDUE: render.answer_overdue,
    D.ANSWER_OVERDUE_REPORT: render.answer_overdue_report,
}


# What a delivery kind records once Telegram took it (the message's id, a poll); most record nothing.
AFTER_SENT: dict[DeliveryKind, Callable[[AsyncSession, Outgoing, Message, datetime], Awaitable[None]]] = {
    D.ANNOUNCEMENT: recorded.announcement,
    D.GROUP_REMINDER: recorded.group_reminder,
    D.MINUTES: recorded.minutes,
    D.FEEDBACK: recorded.feedback,
}


async def record_sent(session: AsyncSession, out: Outgoing, sent: object, now: datetime) -> None:
    """The kind's own record of a message Telegram took, when it has one."""
    effect = AFTER_SENT.get(out.kind)  # type: ignore[call-overload]  # a str, as the enum's values are
    if effect is not None and isinstance(sent, Message):
        await effect(session, out, sent, now)


def check_registry() -> None:
    """Every event kind expands, every delivery kind renders, every declared delivery renders."""
    missing = [f"event {kind}" for kind in EventKind if kind not in EVENTS]
    missing += [f"delivery {kind}" for kind in DeliveryKind if kind not in DELIVERIES]
    missing += [
        f"delivery {kind} (from {event})"
        for event, spec in EVENTS.items()
        for kind in spec.delivers
        if kind not in DELIVERIES
    ]
    if missing:
        raise RegistryError("kinds without expansion or rendering: " + ", ".join(missing))


def event_spec(kind: str) -> EventSpec:
    """The registered expansion of a kind; RegistryError for a kind this release does not know."""
    try:
        return EVENTS[EventKind(kind)]
    except (ValueError, KeyError):
        raise RegistryError(f"unknown event kind {kind!r}") from None


def renderer(kind: str) -> Callable[[Rendering], Awaitable[bool]]:
    try:
        return DELIVERIES[DeliveryKind(kind)]
    except (ValueError, KeyError):
        raise RegistryError(f"unknown delivery kind {kind!r}") from None


async def _group_and_meeting(
    session: AsyncSession, meeting_id: int | None, group_id: int | None
) -> tuple[Group | None, Meeting | None]:
    meeting = await session.get(Meeting, meeting_id) if meeting_id is not None else None
    if meeting_id is not None and meeting is None:
        return None, None
    group_id = meeting.group_id if meeting is not None else group_id
    group = await session.get(Group, group_id) if group_id is not None else None
    return (group if group is not None and group.active else None), meeting


async def expand_due_events(session: AsyncSession, now: datetime, outbox: OutboxSettings, limit: int = 200) -> int:
    """Turn due events into deliveries; returns how many events were handled."""
    events = await due_events(session, now, limit)
    for event in events:
        event.status, event.done_at = "done", now
        try:
            spec = event_spec(event.kind)
        except RegistryError:
            log.error("event %s: unknown kind %r, marked failed", event.id, event.kind)
            event.status = "failed"
            continue
        group, meeting = await _group_and_meeting(session, event.meeting_id, event.group_id)
        if group is None or (event.kind in MEETING_EVENTS and meeting is None):
            event.status = "skipped"  # the group removed the bot, or the meeting is gone
            continue
        await spec.expand(Expansion(session, event, group, meeting, now, outbox, frozenset(spec.delivers)))
    await session.flush()
    return len(events)


async def render_delivery(session: AsyncSession, delivery: Delivery, outbox: OutboxSettings) -> Outgoing | None:
    """The message for a claimed delivery, or None when it is no longer needed. Rendering must not
    write: a renderer that changes a row raises, so the test suite catches it."""
    render_kind = renderer(delivery.kind)
    event = await session.get(ScheduledEvent, delivery.event_id)
    if event is None:
        return None
    group, meeting = await _group_and_meeting(session, delivery.meeting_id, event.group_id)
    if group is None:
        return None
    person = await session.get(Person, delivery.person_id) if delivery.person_id else None
    by_sms = delivery.recipient.startswith("sms:")
    if person is not None and not by_sms and not reachable_in_private(person):
        return None  # blocked the bot, or paused its messages, since the wave was planned
    out = Outgoing(
        delivery.id,
        delivery.kind,
        person.telegram_id if person else group.chat_id,
        group.id,
        meeting.id if meeting else None,
        person.telegram_id if person else None,
        delivery.attempts,
    )
    if by_sms:
        out.chat_id = 0  # no chat: bot/outbox/sms_gateway.py sends it to out.sms_to
    language = pick_language(person.language_code, group.language) if person else group.language
    rendering = Rendering(session, delivery, event, group, meeting, person, language, out, outbox)
    before = set(session.dirty) | set(session.new)
    with session.no_autoflush:  # a write would otherwise be flushed by the next query, unseen
        needed = await render_kind(rendering)
    if (set(session.dirty) | set(session.new)) - before or session.deleted:
        raise RenderWroteError(f"rendering {delivery.kind} changed the database")
    return out if needed else None

"""What can be planned: every kind of scheduled event, declared once.

A scheduled event (storage: scheduled_events) belongs to a meeting or to a group subject (a poll,
a priority round, an action item, a proposal change, the monthly digest). When it falls due, the
outbox expands it into deliveries (bot/outbox/kinds.py says how, kind by kind).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ScheduledEvent


class EventKind(StrEnum):
    # About a meeting
    ANNOUNCEMENT = "announcement"  # a series' next meeting, announced when the previous one starts
    REMINDER = "reminder"  # J-7, J-1...: the group, and in private who did not decline
    DIGEST = "facilitator_digest"  # the day before the J-1 reminder: who has not answered, who declined
    CHECKLIST = "attendance_checklist"  # after the meeting, to those who ran it
    FEEDBACK = "feedback_poll"  # the next day, in the group
    SERIES_NEXT = "series_next"  # when an occurrence starts, announce the next one
    RIDES_REMINDER = "rides_reminder"  # the day before, drivers and passengers: who, where, when
    RIDES_ALERT = "rides_unmatched"  # carpool_alert_days before, facilitators: requests without a seat
    REACH_LIST = "reach_list"  # written done with the first reminder: whom no private reminder reaches
    REACH_NUDGE = "reach_nudge"  # written done with it, at most monthly: the group offered private reminders
    SMS_LIMIT = "sms_limit"  # written done with a reminder, at most monthly: the month's SMS are spent
    # About a group's subject
    PROPOSAL_NEWS = "proposal_news"  # private notices of a change, to the author and followers
    PROPOSALS_DIGEST = "proposals_digest"  # monthly, in the group
    POLL_REMINDER = "poll_reminder"
    POLL_CLOSE = "poll_close"
    PRIORITY_CLOSE = "priority_close"
    ACTION_REMINDER = "action_reminder"
    DATE_POLL_CLOSE = "date_poll_close"  # /quand's deadline: the best date becomes the meeting
    MINUTES_PUBLISH = "minutes_publish"  # the minutes' review is over: to the group and the absent
    CHARTER_POST = "charter_post"  # /charte: the charter posted (and pinned) in the group
    # About a membership (bot/domain/membership.py)
    TERM_NOTICE = "term_notice"  # a month before a term ends: the member asked, the facilitators told
    TERM_END = "term_end"  # the term is over: the member thanked, the facilitators told
    FAREWELL = "farewell"  # someone left: their thank-you, in private
    MEMBER_NEWS = "member_news"  # in the group: the arrivals and departures of the last minute
    # By SMS (bot/domain/sms.py)
    SMS_CONSENT = "sms_consent"  # a number registered: the SMS that asks for a OUI
    SMS_REPLY = "sms_reply"  # a OUI or a STOP received: its one confirmation
    SMS_CHANGE = "sms_change"  # a meeting cancelled or moved: those who get SMS are told
    # A proposal transmitted: the answer link to whoever transmitted it (and by mail to the addressee).
    ANSWER_LINK = "answer_link"
    ANSWER_REMINDER = "answer_reminder"  # a week before the deadline, no answer yet: the addressee reminded
    ANSWER_OVERDUE = "answer_overdue"  # the deadline, no answer: the group, facilitators, coordinators told


MEETING_EVENTS = frozenset(
    {
        EventKind.ANNOUNCEMENT,
        EventKind.REMINDER,
        EventKind.DIGEST,
        EventKind.CHECKLIST,
        EventKind.FEEDBACK,
        EventKind.SERIES_NEXT,
        EventKind.RIDES_REMINDER,
        EventKind.RIDES_ALERT,
        EventKind.REACH_LIST,
        EventKind.REACH_NUDGE,
        EventKind.SMS_LIMIT,
    }
)


def subject_event(group_id: int, kind: EventKind, subject_id: int, due: datetime, offset: int = 0) -> ScheduledEvent:
    """A pending event about one of a group's subjects (a poll, a round, an action, a change)."""
    return ScheduledEvent(
        group_id=group_id, kind=kind, subject_id=subject_id, offset_minutes=offset, due_at=due, status="pending"
    )


async def move_pending(session: AsyncSession, kind: EventKind, subject_id: int, due: datetime) -> bool:
    """A subject's pending event of this kind, now due at `due` (a poll closed early, minutes
    posted sooner); False when none is pending (it is already being sent, or done)."""
    moved = await session.execute(
        update(ScheduledEvent)
        .where(
            ScheduledEvent.kind == kind,
            ScheduledEvent.subject_id == subject_id,
            ScheduledEvent.status == "pending",
        )
        .values(due_at=due)
    )
    return bool(getattr(moved, "rowcount", 0))

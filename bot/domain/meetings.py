"""Domain rules for meetings: creation, answers, changes, and what gets scheduled for each one."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.dates import Recurrence, SeriesEnd, normalise
from bot.domain.errors import RefusalError, folded_text
from bot.domain.events import EventKind
from bot.domain.groups import next_number
from bot.domain.settings import MeetingsSection
from storage.db import UpsertPerDialect, table_of
from storage.models import Delivery, Group, Meeting, MeetingSeries, Membership, Person, Rsvp, ScheduledEvent

log = logging.getLogger(__name__)

ANSWERS = ("yes", "no", "maybe")
REASONS = ("health", "work", "transport", "childcare", "other")
PLACE_MAX = TOPIC_MAX = 200
AGENDA_MAX = 1500
OFFSET_RE = re.compile(r"^(\d{1,3})(j|h|min)$")
MAX_OFFSETS = 5
MAX_OFFSET = timedelta(days=30)

# Kinds of scheduled events
REMINDER = EventKind.REMINDER
DIGEST = EventKind.DIGEST  # the day before the J-1 reminder: who has not answered, who declined
CHECKLIST = EventKind.CHECKLIST  # after the meeting, to the facilitators
FEEDBACK = EventKind.FEEDBACK  # the next day, in the group
SERIES_NEXT = EventKind.SERIES_NEXT  # when an occurrence starts, announce the next one
RIDES_REMINDER = EventKind.RIDES_REMINDER  # the day before, drivers and passengers: who, where, when
RIDES_ALERT = EventKind.RIDES_ALERT  # carpool_alert_days before, facilitators: requests without a seat
AHEAD_ONLY = (REMINDER, DIGEST, RIDES_REMINDER, RIDES_ALERT)  # pointless once past: not sent late on creation


class MeetingError(RefusalError):
    """A meeting that cannot be created, changed or answered as asked."""


@dataclass(frozen=True)
class Counts:
    yes: int = 0
    no: int = 0
    maybe: int = 0


# ----------------------------------------------------------------------------- reminder offsets
def parse_offsets(text: str) -> list[str]:
    """'/rappels 7j 1j 2h' -> ['7j', '1j', '2h'], largest first. Raises MeetingError."""
    tokens = [token.lower().replace("jours", "j").replace("jour", "j") for token in text.split()]
    if not tokens:
        raise MeetingError("reminders.error.empty")
    if len(tokens) > MAX_OFFSETS:
        raise MeetingError("reminders.error.too_many", limit=MAX_OFFSETS)
    seen: dict[str, timedelta] = {}
    for token in tokens:
        match = OFFSET_RE.match(token)
        if not match or int(match.group(1)) == 0:
            raise MeetingError("reminders.error.token", token=token[:20])
        delta = offset_delta(token)
        if delta > MAX_OFFSET:
            raise MeetingError("reminders.error.too_far", token=token)
        seen[token] = delta
    return sorted(seen, key=lambda token: seen[token], reverse=True)


def offset_delta(token: str) -> timedelta:
    match = OFFSET_RE.match(token)
    assert match is not None
    amount, unit = int(match.group(1)), match.group(2)
    return {"j": timedelta(days=amount), "h": timedelta(hours=amount), "min": timedelta(minutes=amount)}[unit]


def offset_minutes(token: str) -> int:
    return int(offset_delta(token).total_seconds() // 60)


def group_offsets(group: Group, settings: MeetingsSection) -> list[str]:
    return parse_offsets(group.reminder_offsets or settings.default_reminders)


def at_reminder_time(day: date, zone: ZoneInfo, settings: MeetingsSection) -> datetime:
    """That local day at the configured reminder time, in UTC: when day-based messages go out."""
    hour, minute = settings.reminder_time.split(":")
    return datetime.combine(day, time(int(hour), int(minute)), zone).astimezone(UTC)


def reminder_due(starts_at: datetime, token: str, zone: ZoneInfo, settings: MeetingsSection) -> datetime:
    """Day offsets fire at the reminder time on that local day; hours and minutes, exactly before."""
    if token.endswith("j"):
        local_day = starts_at.astimezone(zone).date() - offset_delta(token)
        return at_reminder_time(local_day, zone, settings)
    return starts_at - offset_delta(token)


# ----------------------------------------------------------------------------- scheduling
def planned_events(meeting: Meeting, group: Group, settings: MeetingsSection) -> list[tuple[EventKind, int, datetime]]:
    """(kind, offset in minutes, due) for everything a meeting needs."""
    zone = ZoneInfo(group.timezone)
    events = [
        (REMINDER, offset_minutes(token), reminder_due(meeting.starts_at, token, zone, settings))
        for token in group_offsets(group, settings)
    ]
    day_before = reminder_due(meeting.starts_at, "1j", zone, settings)
    events.append((DIGEST, 0, day_before - timedelta(days=1)))
    events.append((RIDES_REMINDER, 0, day_before))
    events.append((RIDES_ALERT, 0, reminder_due(meeting.starts_at, f"{settings.carpool_alert_days}j", zone, settings)))
    events.append((CHECKLIST, 0, meeting.starts_at + timedelta(minutes=settings.duration_minutes)))
    next_day = meeting.starts_at.astimezone(zone).date() + timedelta(days=1)
    events.append((FEEDBACK, 0, at_reminder_time(next_day, zone, settings)))
    if meeting.series_id is not None:
        events.append((SERIES_NEXT, 0, meeting.starts_at))
    return events


async def schedule_events(
    session: AsyncSession, meeting: Meeting, group: Group, settings: MeetingsSection, now: datetime
) -> None:
    """(Re)build the meeting's pending events. What is already past is not sent on creation:
    the announcement itself tells people. Delivered events are left as they are."""
    await session.execute(
        delete(ScheduledEvent).where(
            ScheduledEvent.meeting_id == meeting.id, ScheduledEvent.status.in_(("pending", "skipped", "cancelled"))
        )
    )
    await _drop_pending_deliveries(session, meeting, "rescheduled")
    done = {
        (kind, offset)
        for kind, offset in (
            await session.execute(
                select(ScheduledEvent.kind, ScheduledEvent.offset_minutes).where(
                    ScheduledEvent.meeting_id == meeting.id
                )
            )
        ).all()
    }
    for kind, offset, due in planned_events(meeting, group, settings):
        if (kind, offset) in done:
            continue
        past = due <= now and kind in AHEAD_ONLY
        session.add(
            ScheduledEvent(
                meeting_id=meeting.id,
                kind=kind,
                offset_minutes=offset,
                due_at=due,
                status="skipped" if past else "pending",
            )
        )
    await session.flush()


async def _drop_pending_deliveries(session: AsyncSession, meeting: Meeting, why: str) -> None:
    """Messages planned for the meeting but not yet sent are dropped (`why` is kept on them)."""
    await session.execute(
        update(Delivery)
        .where(Delivery.meeting_id == meeting.id, Delivery.status == "pending")
        .values(status="skipped", error=why)
    )


async def cancel_events(session: AsyncSession, meeting: Meeting) -> None:
    await session.execute(
        update(ScheduledEvent)
        .where(ScheduledEvent.meeting_id == meeting.id, ScheduledEvent.status == "pending")
        .values(status="cancelled")
    )
    await _drop_pending_deliveries(session, meeting, "cancelled")


# ----------------------------------------------------------------------------- meetings
MEAL_FLAGS = {"repas", "avec repas", "repas partage", "meal"}


def is_meal_flag(segment: str) -> bool:
    """ "/reunion … | repas": the meeting has a meal (members may say a dietary need)."""
    return normalise(segment) in MEAL_FLAGS


def validate_place(place: str) -> str:
    return folded_text(place, PLACE_MAX, "meeting.error.no_place", "meeting.error.place_long", MeetingError)


def validate_details(place: str, topic: str, agenda: str | None = None) -> tuple[str, str, str | None]:
    place = validate_place(place)
    topic = folded_text(topic, TOPIC_MAX, "meeting.error.no_topic", "meeting.error.topic_long", MeetingError)
    agenda = agenda.strip() if agenda else None
    if agenda and len(agenda) > AGENDA_MAX:
        raise MeetingError("meeting.error.agenda_long", limit=AGENDA_MAX)
    return place, topic, agenda or None


async def create_meeting(
    session: AsyncSession,
    group: Group,
    starts_at: datetime,
    place: str,
    topic: str,
    agenda: str | None,
    creator: Person | None,
    now: datetime,
    settings: MeetingsSection,
    series: MeetingSeries | None = None,
    meal: bool = False,
) -> Meeting:
    place, topic, agenda = validate_details(place, topic, agenda)
    if starts_at <= now:
        raise MeetingError("date.error.past")
    number = await next_number(session, group, "next_meeting_number")
    meeting = Meeting(
        group_id=group.id,
        number=number,
        starts_at=starts_at,
        place=place,
        topic=topic,
        agenda=agenda,
        status="scheduled",
        created_by_id=creator.id if creator else None,
        created_at=now,
        series_id=series.id if series else None,
        meal=meal,
    )
    session.add(meeting)
    await session.flush()
    await schedule_events(session, meeting, group, settings, now)
    log.info("meeting %s (n°%s) created in group %s", meeting.id, number, group.id)
    return meeting


async def create_series(
    session: AsyncSession,
    group: Group,
    rule: Recurrence,
    place: str,
    topic: str,
    creator: Person | None,
    now: datetime,
    settings: MeetingsSection,
    end: SeriesEnd | None = None,
) -> tuple[MeetingSeries, Meeting]:
    place, topic, _ = validate_details(place, topic)
    series = MeetingSeries(group_id=group.id, place=place, topic=topic, active=True, created_at=now)
    if end is not None:
        series.ends_on, series.max_meetings = end.last_day, end.meetings
    _apply_rule(series, rule)
    session.add(series)
    await session.flush()
    first = rule.occurrences(now, ZoneInfo(group.timezone), 1)[0]
    meeting = await create_meeting(session, group, first, place, topic, None, creator, now, settings, series)
    return series, meeting


def _apply_rule(series: MeetingSeries, rule: Recurrence) -> None:
    series.weekday, series.nth, series.hour, series.minute = rule.weekday, rule.nth, rule.hour, rule.minute


def series_rule(series: MeetingSeries) -> Recurrence:
    return Recurrence(weekday=series.weekday, hour=series.hour, minute=series.minute, nth=series.nth)


async def next_in_series(
    session: AsyncSession, series: MeetingSeries, after: datetime, now: datetime, settings: MeetingsSection
) -> Meeting | None:
    """Create the series' next occurrence after `after`, unless the series stopped or one exists."""
    if not series.active:
        return None
    group = await session.get(Group, series.group_id)
    if group is None or not group.active:
        return None
    upcoming = await session.scalar(
        select(Meeting).where(
            Meeting.series_id == series.id, Meeting.status == "scheduled", Meeting.starts_at > max(after, now)
        )
    )
    if upcoming is not None:
        return None
    zone = ZoneInfo(group.timezone)
    start = series_rule(series).occurrences(max(after, now), zone, 1)[0]
    if series.ends_on is not None and start.astimezone(zone).date() > series.ends_on:
        return None  # the series has reached its last day
    if series.max_meetings is not None:
        held = await session.scalar(
            select(func.count())
            .select_from(Meeting)
            .where(Meeting.series_id == series.id, Meeting.status == "scheduled")
        )
        if (held or 0) >= series.max_meetings:
            return None  # as many meetings as it was meant to have
    return await create_meeting(session, group, start, series.place, series.topic, None, None, now, settings, series)


async def series_position(session: AsyncSession, meeting: Meeting) -> tuple[MeetingSeries, int] | None:
    """A meeting of a series that has an end, with its rank in the series (for its announcement)."""
    series = await session.get(MeetingSeries, meeting.series_id) if meeting.series_id else None
    if series is None or (series.ends_on is None and series.max_meetings is None):
        return None
    rank = await session.scalar(
        select(func.count())
        .select_from(Meeting)
        .where(Meeting.series_id == series.id, Meeting.status == "scheduled", Meeting.starts_at <= meeting.starts_at)
    )
    return series, int(rank or 1)


async def find_meeting(session: AsyncSession, group: Group, number: int) -> Meeting | None:
    return await session.scalar(select(Meeting).where(Meeting.group_id == group.id, Meeting.number == number))


async def upcoming_meetings(session: AsyncSession, group: Group, now: datetime, limit: int = 10) -> list[Meeting]:
    return list(
        await session.scalars(
            select(Meeting)
            .where(Meeting.group_id == group.id, Meeting.status == "scheduled", Meeting.starts_at > now)
            .order_by(Meeting.starts_at)
            .limit(limit)
        )
    )


def is_open(meeting: Meeting, now: datetime) -> bool:
    return meeting.status == "scheduled" and meeting.starts_at > now


async def cancel_meeting(session: AsyncSession, meeting: Meeting, now: datetime) -> None:
    if not is_open(meeting, now):
        raise MeetingError("meeting.error.not_open", number=meeting.number)
    meeting.status, meeting.cancelled_at = "cancelled", now
    await cancel_events(session, meeting)
    log.info("meeting %s cancelled", meeting.id)


async def move_meeting(
    session: AsyncSession, meeting: Meeting, group: Group, starts_at: datetime, now: datetime, settings: MeetingsSection
) -> None:
    if not is_open(meeting, now):
        raise MeetingError("meeting.error.not_open", number=meeting.number)
    if starts_at <= now:
        raise MeetingError("date.error.past")
    meeting.starts_at = starts_at
    # Reminders already sent for the old date are sent again for the new one.
    await session.execute(
        delete(ScheduledEvent).where(ScheduledEvent.meeting_id == meeting.id, ScheduledEvent.status != "pending")
    )
    await schedule_events(session, meeting, group, settings, now)
    log.info("meeting %s moved", meeting.id)


# ----------------------------------------------------------------------------- answers
async def record_answer(session: AsyncSession, meeting: Meeting, person: Person, answer: str, now: datetime) -> Rsvp:
    await change_answer(session, meeting, person, answer, now)
    rsvp = await session.scalar(
        select(Rsvp)
        .where(Rsvp.meeting_id == meeting.id, Rsvp.person_id == person.id)
        .execution_options(populate_existing=True)  # written by a statement, not through the session
    )
    assert rsvp is not None
    return rsvp


async def change_answer(session: AsyncSession, meeting: Meeting, person: Person, answer: str, now: datetime) -> bool:
    """Record the person's answer; whether it changed (True the first time)."""
    if answer not in ANSWERS:
        raise MeetingError("button.invalid")
    if not is_open(meeting, now):
        raise MeetingError("rsvp.closed")
    values = {"b_meeting_id": meeting.id, "b_person_id": person.id, "b_answer": answer, "b_now": now}
    if (await session.execute(_ANSWER(session), values)).first() is not None:
        return True  # a first answer, or a changed one
    # The same answer, given again: only its moment moves (rare; the tap changed nothing shown).
    await session.execute(_ANSWERED_AGAIN, values)
    return False


# Built once: every tap on an announcement runs it. The first answer is inserted; a changed one
# replaces the old (and the reason that explained an earlier "no"); the same answer again matches
# nothing, so that RETURNING tells whether anything changed, in one statement, and two taps of one
# person at the same moment cannot both insert.
# Plain SQL on the table: the Rsvp read after it (record_answer) asks for the row as it is now.
_RSVP = table_of(Rsvp)


def _answer(insert: Any) -> Any:
    first = insert(_RSVP).values(
        meeting_id=bindparam("b_meeting_id"),
        person_id=bindparam("b_person_id"),
        answer=bindparam("b_answer"),
        answered_at=bindparam("b_now"),
    )
    return first.on_conflict_do_update(
        index_elements=["meeting_id", "person_id"],
        set_={"answer": first.excluded.answer, "answered_at": first.excluded.answered_at, "reason": None},
        where=_RSVP.c.answer != first.excluded.answer,
    ).returning(_RSVP.c.id)


_ANSWER = UpsertPerDialect(_answer)
_ANSWERED_AGAIN = (
    update(_RSVP)
    .where(_RSVP.c.meeting_id == bindparam("b_meeting_id"), _RSVP.c.person_id == bindparam("b_person_id"))
    .values(answered_at=bindparam("b_now"))
)


async def record_reason(session: AsyncSession, meeting: Meeting, person: Person, reason: str, now: datetime) -> Rsvp:
    if reason not in REASONS:
        raise MeetingError("button.invalid")
    rsvp = await session.scalar(select(Rsvp).where(Rsvp.meeting_id == meeting.id, Rsvp.person_id == person.id))
    if rsvp is None or rsvp.answer != "no" or not is_open(meeting, now):
        raise MeetingError("button.expired")
    rsvp.reason = reason
    return rsvp


# Built once: every edit of an announcement's counts runs it.
_COUNTS = (
    select(Rsvp.answer, func.count())
    .join(Membership, (Membership.person_id == Rsvp.person_id) & (Membership.group_id == bindparam("group_id")))
    .where(Rsvp.meeting_id == bindparam("meeting_id"), Membership.status == "member")
    .group_by(Rsvp.answer)
)


async def counts(session: AsyncSession, meeting: Meeting) -> Counts:
    found = await session.execute(_COUNTS, {"group_id": meeting.group_id, "meeting_id": meeting.id})
    rows: dict[str, int] = dict(found.all())
    return Counts(yes=rows.get("yes", 0), no=rows.get("no", 0), maybe=rows.get("maybe", 0))


async def coming_with_answers(
    session: AsyncSession, group: Group, person: Person | None, now: datetime, limit: int = 3
) -> list[tuple[Meeting, str | None]]:
    """The group's next meetings with this person's answer (yes, no, maybe, or None)."""
    found = []
    for meeting in await upcoming_meetings(session, group, now, limit=limit):
        rsvp = await answer_of(session, meeting, person)
        found.append((meeting, rsvp.answer if rsvp else None))
    return found


async def answer_of(session: AsyncSession, meeting: Meeting, person: Person | None) -> Rsvp | None:
    if person is None:
        return None
    return await session.scalar(select(Rsvp).where(Rsvp.meeting_id == meeting.id, Rsvp.person_id == person.id))


async def members_with_answers(session: AsyncSession, meeting: Meeting) -> list[tuple[Person, Membership, Rsvp | None]]:
    """Current members of the meeting's group, with their answer if any."""
    rows = await session.execute(
        select(Person, Membership, Rsvp)
        .join(Membership, Membership.person_id == Person.id)
        .outerjoin(Rsvp, (Rsvp.person_id == Person.id) & (Rsvp.meeting_id == meeting.id))
        .where(Membership.group_id == meeting.group_id, Membership.status == "member")
        .order_by(Person.first_name, Person.id)
    )
    return [(person, membership, rsvp) for person, membership, rsvp in rows]


async def set_group_offsets(
    session: AsyncSession, group: Group, tokens: list[str], now: datetime, settings: MeetingsSection
) -> int:
    """Store the group's reminders and reschedule every upcoming meeting; returns how many."""
    group.reminder_offsets = " ".join(tokens)
    meetings = await upcoming_meetings(session, group, now, limit=100)
    for meeting in meetings:
        await schedule_events(session, meeting, group, settings, now)
    return len(meetings)


# ----------------------------------------------------------------------------- series
async def active_series(session: AsyncSession, group: Group) -> list[MeetingSeries]:
    return list(
        await session.scalars(
            select(MeetingSeries)
            .where(MeetingSeries.group_id == group.id, MeetingSeries.active.is_(True))
            .order_by(MeetingSeries.id)
        )
    )


async def next_of_series(session: AsyncSession, series: MeetingSeries, now: datetime) -> Meeting | None:
    """The series' meeting still ahead, if one is planned (a series plans one at a time)."""
    return await session.scalar(
        select(Meeting).where(Meeting.series_id == series.id, Meeting.status == "scheduled", Meeting.starts_at > now)
    )


def stop_series(series: MeetingSeries, now: datetime) -> None:
    """/serie arreter: no meeting after the one already announced."""
    series.active, series.stopped_at = False, now


async def edit_series(
    session: AsyncSession,
    series: MeetingSeries,
    group: Group,
    rule: Recurrence,
    place: str,
    topic: str,
    upcoming: Meeting | None,
    now: datetime,
    settings: MeetingsSection,
) -> datetime | None:
    """/serie modifier: the new rule, place and topic; the meeting already announced moves to the
    rule's next date. Returns that date (None when no meeting was ahead)."""
    _apply_rule(series, rule)
    series.place, series.topic = place, topic
    if upcoming is None:
        return None
    starts = rule.occurrences(now, ZoneInfo(group.timezone), 1)[0]
    upcoming.place, upcoming.topic = place, topic
    await move_meeting(session, upcoming, group, starts, now, settings)
    return starts


async def set_announcement(session: AsyncSession, meeting_id: int, message_id: int) -> None:
    """The group message announcing the meeting, once sent: its counts are edited there."""
    meeting = await session.get(Meeting, meeting_id)
    if meeting is not None:
        meeting.announcement_message_id = message_id


@dataclass(frozen=True)
class ReminderReach:
    """When a meeting's reminders go out, and how many members get them in private too."""

    moments: list[datetime]
    in_private: int
    members: int


async def reminder_reach(session: AsyncSession, meeting: Meeting) -> ReminderReach:
    moments = list(
        await session.scalars(
            select(ScheduledEvent.due_at)
            .where(
                ScheduledEvent.meeting_id == meeting.id,
                ScheduledEvent.kind == EventKind.REMINDER,
                ScheduledEvent.status == "pending",
            )
            .order_by(ScheduledEvent.due_at)
        )
    )
    rows = (
        await session.execute(
            select(Person.private_status, Person.private_paused)
            .join(Membership, Membership.person_id == Person.id)
            .where(Membership.group_id == meeting.group_id, Membership.status == "member")
        )
    ).all()
    reachable = sum(1 for status, paused in rows if status == "started" and not paused)
    return ReminderReach(moments, reachable, len(rows))

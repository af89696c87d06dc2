"""/quand: choosing the date together ("s'assurer que les horaires conviennent à tous"). A
facilitator proposes 2 to 6 dates and times; members tick those they can make; at the deadline,
or when a facilitator chooses, one date becomes the meeting (announced as usual) and the others
are released."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import meetings as m
from bot.domain.dates import parse_when
from bot.domain.errors import RefusalError
from bot.domain.events import EventKind, subject_event
from bot.domain.polls import closing_time, deadline_text
from bot.domain.settings import MeetingsSection, ProposalsSection
from storage.models import DateOption, DatePoll, DateTick, Group, Meeting, Person

log = logging.getLogger(__name__)

OPTIONS_MIN, OPTIONS_MAX = 2, 6
DATE_POLL_CLOSE = EventKind.DATE_POLL_CLOSE


class DatePollError(RefusalError):
    """A /quand that cannot be run."""


@dataclass(frozen=True)
class DatePollSpec:
    place: str
    topic: str
    dates: tuple[str, ...]  # as written, each read by the French date parser
    deadline: str | None


def parse_date_poll(text: str) -> DatePollSpec:
    """'lieu | sujet | date 1 | date 2 [| … date 6] [| jusqu'à vendredi 18h]'. Raises DatePollError."""
    segments = [" ".join(segment.split()) for segment in text.split("|")]
    deadline = None
    if len(segments) > 2 and (found := deadline_text(segments[-1], bare_duration=False)) is not None:
        deadline, segments = found, segments[:-1]
    if len(segments) < 2 + OPTIONS_MIN or not segments[0] or not segments[1]:
        raise DatePollError("when.error.form")
    dates = tuple(segment for segment in segments[2:] if segment)
    if not OPTIONS_MIN <= len(dates) <= OPTIONS_MAX:
        raise DatePollError("when.error.count", count=len(dates), low=OPTIONS_MIN, high=OPTIONS_MAX)
    place, topic, _ = m.validate_details(segments[0], segments[1])
    return DatePollSpec(place, topic, dates, deadline)


async def open_date_poll(
    session: AsyncSession,
    group: Group,
    spec: DatePollSpec,
    creator: Person | None,
    now: datetime,
    settings: ProposalsSection,
) -> tuple[DatePoll, list[DateOption]]:
    """Read every date (each one a date and time to come, all different), then record the poll and
    its closing. Raises DateError (naming the date) or DatePollError."""
    zone = ZoneInfo(group.timezone)
    starts: list[datetime] = []
    for index, written in enumerate(spec.dates, start=1):
        try:
            starts.append(parse_when(written, now, zone))
        except RefusalError as exc:
            raise DatePollError("when.error.date", index=index, date=written, why=exc.key, **exc.values) from None
    if len(set(starts)) != len(starts):
        raise DatePollError("when.error.duplicate")
    closes = closing_time(spec.deadline, now, zone, settings)
    if closes >= min(starts):
        raise DatePollError("when.error.deadline_after")
    poll = DatePoll(
        group_id=group.id,
        place=spec.place,
        topic=spec.topic,
        created_by_id=creator.id if creator else None,
        created_at=now,
        closes_at=closes,
        status="open",
    )
    session.add(poll)
    await session.flush()
    options = [DateOption(date_poll_id=poll.id, starts_at=start) for start in sorted(starts)]
    session.add_all(options)
    session.add(subject_event(group.id, DATE_POLL_CLOSE, poll.id, closes))
    await session.flush()
    log.info("date poll %s opened in group %s with %s dates", poll.id, group.id, len(options))
    return poll, options


async def options_of(session: AsyncSession, poll: DatePoll) -> list[DateOption]:
    return list(
        await session.scalars(
            select(DateOption).where(DateOption.date_poll_id == poll.id).order_by(DateOption.starts_at)
        )
    )


async def tick_counts(session: AsyncSession, poll: DatePoll) -> dict[int, int]:
    """Option id -> how many members can make it."""
    rows = await session.execute(
        select(DateTick.option_id, func.count())
        .join(DateOption, DateOption.id == DateTick.option_id)
        .where(DateOption.date_poll_id == poll.id)
        .group_by(DateTick.option_id)
    )
    return {option_id: int(count) for option_id, count in rows}


async def who_can_come(session: AsyncSession, poll: DatePoll) -> dict[int, list[Person]]:
    """Option id -> the members who ticked it (for facilitators only)."""
    rows = await session.execute(
        select(DateTick.option_id, Person)
        .join(DateOption, DateOption.id == DateTick.option_id)
        .join(Person, Person.id == DateTick.person_id)
        .where(DateOption.date_poll_id == poll.id)
        .order_by(Person.first_name)
    )
    found: dict[int, list[Person]] = {}
    for option_id, person in rows:
        found.setdefault(option_id, []).append(person)
    return found


async def toggle(session: AsyncSession, option: DateOption, person: Person, now: datetime) -> bool:
    """Tick or untick a date; returns whether it is now ticked. Raises DatePollError when closed."""
    poll = await session.get(DatePoll, option.date_poll_id)
    if poll is None or poll.status != "open":
        raise DatePollError("when.error.closed")
    found = await session.scalar(
        select(DateTick).where(DateTick.option_id == option.id, DateTick.person_id == person.id)
    )
    if found is not None:
        await session.delete(found)
        await session.flush()
        return False
    session.add(DateTick(option_id=option.id, person_id=person.id, ticked_at=now))
    await session.flush()
    return True


async def best_option(session: AsyncSession, poll: DatePoll) -> DateOption:
    """At the deadline: the date most members can make; on a tie, the earliest."""
    counts = await tick_counts(session, poll)
    options = await options_of(session, poll)
    return max(options, key=lambda option: (counts.get(option.id, 0), -option.starts_at.timestamp()))


async def choose(
    session: AsyncSession,
    poll: DatePoll,
    option: DateOption,
    group: Group,
    creator: Person | None,
    now: datetime,
    settings: MeetingsSection,
) -> Meeting:
    """The chosen date becomes the meeting (its reminders planned as for any); the poll is closed
    and its other dates released. Raises DatePollError (closed, or the date has passed)."""
    if poll.status != "open" or option.date_poll_id != poll.id:
        raise DatePollError("when.error.closed")
    if option.starts_at <= now:
        raise DatePollError("when.error.past")
    meeting = await m.create_meeting(
        session, group, option.starts_at, poll.place, poll.topic, None, creator, now, settings
    )
    poll.status, poll.meeting_id, poll.closed_at = "chosen", meeting.id, now
    log.info("date poll %s: meeting %s chosen", poll.id, meeting.id)
    return meeting


async def set_message(session: AsyncSession, poll_id: int, message_id: int) -> None:
    row = await session.get(DatePoll, poll_id)
    if row is not None:
        row.message_id = message_id

"""Membership over time: terms and their renewal, the supported exit, and the one group line that
greets newcomers and thanks those who leave.

- A member's start date is kept when they come back (`joined_at`; the return is `returned_at`).
- With `[membership] term_months`, each member has a term. A month before it ends, the member is
  asked in private whether they want to stay and the facilitators are told; the facilitators
  decide (prolong, or let it end). At its end the member is thanked, as when they leave.
- Someone who leaves (or whose term ends) gets, in private, a thank-you naming what the group did
  while they were there, their attestation on one tap, and the department's other groups.
- Arrivals and departures a minute apart share one group line ("Bienvenue à…", "…quitte le
  groupe"), so that twenty people added at once cost one message, not the group's whole minute.

Term events are named by the term's end (their offset, in minutes since 1970), so that a renewed
term's events never collide with the old ones and a stale button is recognised.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.errors import RefusalError
from bot.domain.events import EventKind, subject_event
from bot.domain.people import unreachable_members
from bot.domain.proposals import GONE, TAKEN_INTO_ACCOUNT, TRANSMITTED
from storage.db import insert_if_absent
from storage.models import Attendance, Group, Meeting, Membership, Person, Proposal, ScheduledEvent

log = logging.getLogger(__name__)
TERM_NOTICE = timedelta(days=30)  # "a month before a term ends"
NEWS_GATHER = timedelta(minutes=1)  # arrivals and departures this close share one group line
SETUP_DAY = timedelta(days=1)  # in a group's first day everyone is being added: no line for each
THANKED_AFTER = timedelta(days=30)  # someone who leaves sooner, having never come, joined by mistake
TERM_EVENTS = (EventKind.TERM_NOTICE, EventKind.TERM_END)
WISHES = ("stay", "stop")


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later (the month's last day when it is shorter: 31 March + 1 → 30 April)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def minute_key(moment: datetime) -> int:
    """A moment as whole minutes since 1970: the offset naming a term's (or a line's) events."""
    return int(moment.timestamp() // 60)


def stay_started(membership: Membership) -> datetime:
    """When the current stay began: the start date, or the latest return."""
    return membership.returned_at or membership.joined_at


def term_ended(membership: Membership, now: datetime) -> bool:
    return membership.term_ends_at is not None and membership.term_ends_at <= now


# ----------------------------------------------------------------------------- terms
def _plan_term_events(session: AsyncSession, group: Group, membership: Membership, now: datetime) -> list[datetime]:
    end = membership.term_ends_at
    assert end is not None
    key = minute_key(end)
    notice = max(end - TERM_NOTICE, now)
    session.add(subject_event(group.id, EventKind.TERM_NOTICE, membership.id, notice, key))
    session.add(subject_event(group.id, EventKind.TERM_END, membership.id, end, key))
    return [notice, end]


async def give_terms(session: AsyncSession, months: int, now: datetime, limit: int = 500) -> list[datetime]:
    """Members of active groups who have no term yet get one, counted from their start date but
    ending at least a month from now, so that nobody's term ends unannounced (terms were just
    configured, or the member arrived). Returns the events' due times."""
    rows = await session.execute(
        select(Membership, Group)
        .join(Group, Group.id == Membership.group_id)
        .where(Group.active.is_(True), Membership.status == "member", Membership.term_ends_at.is_(None))
        .order_by(Membership.id)
        .limit(limit)
    )
    due: list[datetime] = []
    for membership, group in rows:
        due += start_term(session, group, membership, months, now)
    if due:
        await session.flush()
        log.info("terms given to %s members", len(due) // 2)
    return due


def start_term(
    session: AsyncSession, group: Group, membership: Membership, months: int, now: datetime
) -> list[datetime]:
    """A member without a term gets one: from their start date, ending at least a month from now."""
    if membership.term_ends_at is not None:
        return []
    membership.term_ends_at = max(add_months(membership.joined_at, months), now + TERM_NOTICE)
    return _plan_term_events(session, group, membership, now)


async def membership_in_group(
    session: AsyncSession, group: Group, membership_id: int | None
) -> tuple[Membership, Person] | None:
    """The membership an event names, when it is this group's (not erased since), with its person."""
    membership = await session.get(Membership, membership_id) if membership_id is not None else None
    if membership is None or membership.group_id != group.id:
        return None
    person = await session.get(Person, membership.person_id)
    return (membership, person) if person is not None else None


def is_current(membership: Membership | None, term_key: int) -> bool:
    """Whether an event or a button made for the term ending at `term_key` is still about a
    member's current term (not renewed since, not gone)."""
    return (
        membership is not None
        and membership.status == "member"
        and membership.term_ends_at is not None
        and minute_key(membership.term_ends_at) == term_key
    )


async def renew_term(
    session: AsyncSession, group: Group, membership: Membership, months: int, now: datetime
) -> list[datetime]:
    """The facilitators prolong the term by `months` (from its end, or from now once it ended)."""
    await session.execute(
        update(ScheduledEvent)
        .where(
            ScheduledEvent.kind.in_(TERM_EVENTS),
            ScheduledEvent.subject_id == membership.id,
            ScheduledEvent.status == "pending",
        )
        .values(status="cancelled")
    )
    end = membership.term_ends_at
    membership.term_ends_at = add_months(end if end is not None and end > now else now, months)
    membership.stay_wish = None
    if membership.farewell_at is not None and membership.farewell_at >= stay_started(membership):
        membership.farewell_at = None  # thanked at a term's end that is now undone
    log.info("term of membership %s prolonged", membership.id)
    return _plan_term_events(session, group, membership, now)


def record_wish(membership: Membership, term_key: int, wish: str) -> None:
    """The member's answer to "Voulez-vous continuer ?" (the facilitators decide)."""
    if wish not in WISHES or not is_current(membership, term_key):
        raise RefusalError("term.expired")
    membership.stay_wish = wish


# ----------------------------------------------------------------------------- leaving
@dataclass(frozen=True)
class ExitFacts:
    """What the group did while the member was there, for their thank-you."""

    since: datetime
    until: datetime
    meetings: int  # held by the group meanwhile
    attended: int  # of which the member came to (the attendance sheets)
    proposals: int  # made by the group meanwhile
    transmitted: int  # of which carried to the decision-makers
    taken: int  # of which accepted, under way or done


async def exit_facts(session: AsyncSession, group: Group, membership: Membership, now: datetime) -> ExitFacts:
    since = membership.joined_at
    until = membership.left_at if membership.status == "left" and membership.left_at else now
    held = (
        Meeting.group_id == group.id,
        Meeting.status == "scheduled",
        Meeting.starts_at >= since,
        Meeting.starts_at <= until,
    )
    meetings = await session.scalar(select(func.count()).select_from(Meeting).where(*held)) or 0
    attended = (
        await session.scalar(
            select(func.count())
            .select_from(Attendance)
            .join(Meeting, Meeting.id == Attendance.meeting_id)
            .where(*held, Attendance.person_id == membership.person_id, Attendance.present.is_(True))
        )
        or 0
    )
    states = await session.execute(
        select(Proposal.state, func.count())
        .where(
            Proposal.group_id == group.id,
            Proposal.created_at >= since,
            Proposal.created_at <= until,
            Proposal.state.not_in(GONE),
        )
        .group_by(Proposal.state)
    )
    counts: dict[str, int] = dict(states.all())
    return ExitFacts(
        since,
        until,
        meetings,
        attended,
        sum(counts.values()),
        sum(n for state, n in counts.items() if state in TRANSMITTED),
        sum(n for state, n in counts.items() if state in TAKEN_INTO_ACCOUNT),
    )


async def deserves_thanks(session: AsyncSession, membership: Membership, now: datetime) -> bool:
    """Whether leaving is worth a thank-you and a group line: someone who came to a meeting, or
    stayed a month; not someone added by mistake and gone the same day."""
    if (membership.left_at or now) - membership.joined_at >= THANKED_AFTER:
        return True
    came = await session.scalar(
        select(func.count())
        .select_from(Attendance)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(
            Meeting.group_id == membership.group_id,
            Attendance.person_id == membership.person_id,
            Attendance.present.is_(True),
        )
    )
    return bool(came)


def owes_farewell(membership: Membership) -> bool:
    """Not thanked yet for this stay (a member thanked at their term's end is not thanked again
    when they then leave the chat)."""
    return membership.farewell_at is None or membership.farewell_at < stay_started(membership)


async def plan_farewell(session: AsyncSession, group: Group, membership: Membership, now: datetime) -> datetime:
    """The thank-you for someone who left, sent through the outbox (at once)."""
    values = {
        "group_id": group.id,
        "kind": EventKind.FAREWELL.value,
        "subject_id": membership.id,
        "offset_minutes": minute_key(now),
        "due_at": now,
        "status": "pending",
    }
    await insert_if_absent(session, ScheduledEvent, values, ["kind", "subject_id", "offset_minutes"])
    return now


async def other_groups(session: AsyncSession, group: Group, person: Person) -> list[Group]:
    """The department's groups a coordinator listed (/groupes), but this one and the person's own."""
    own = select(Membership.group_id).where(Membership.person_id == person.id, Membership.status == "member")
    return list(
        await session.scalars(
            select(Group)
            .where(Group.active.is_(True), Group.listed.is_(True), Group.id != group.id, Group.id.not_in(own))
            .order_by(func.coalesce(Group.name, Group.title), Group.id)
            .limit(10)
        )
    )


async def listed_groups(session: AsyncSession) -> list[Group]:
    """Every active group, for a coordinator to choose which are offered (/groupes)."""
    query = select(Group).where(Group.active.is_(True)).order_by(func.coalesce(Group.name, Group.title), Group.id)
    return list(await session.scalars(query.limit(60)))


# ----------------------------------------------------------------------------- /membres
ROSTER_WINDOW = timedelta(days=183)  # attendance "over the last 6 months"


@dataclass(frozen=True)
class RosterLine:
    person: Person
    membership: Membership
    attended: int  # meetings they came to in the window
    held: int  # meetings the group held in the window since they joined
    unreachable: str | None  # why private reminders do not reach them (bot/domain/people.py), or None


async def roster(session: AsyncSession, group: Group, now: datetime) -> list[RosterLine]:
    """The current members with their start date, term, attendance and reach, by first name."""
    members = (
        await session.execute(
            select(Person, Membership)
            .join(Membership, Membership.person_id == Person.id)
            .where(Membership.group_id == group.id, Membership.status == "member")
            .order_by(Person.first_name, Person.id)
        )
    ).all()
    held = (
        Meeting.group_id == group.id,
        Meeting.status == "scheduled",
        Meeting.starts_at >= now - ROSTER_WINDOW,
        Meeting.starts_at <= now,
    )
    starts = list(await session.scalars(select(Meeting.starts_at).where(*held)))
    attended = await session.execute(
        select(Attendance.person_id, func.count())
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(*held, Attendance.present.is_(True))
        .group_by(Attendance.person_id)
    )
    came: dict[int, int] = dict(attended.all())
    why = {person.id: reason for person, reason in await unreachable_members(session, group)}
    return [
        RosterLine(
            person,
            membership,
            came.get(person.id, 0),
            sum(1 for start in starts if start >= membership.joined_at),
            why.get(person.id),
        )
        for person, membership in members
    ]


# ----------------------------------------------------------------------------- the group line
async def name_in_group_line(
    session: AsyncSession, group: Group, membership: Membership, now: datetime
) -> datetime | None:
    """Name this arrival or departure in the group's next line, gathered over a minute; None in
    the group's first day, when the facilitators are adding everyone at once."""
    if now - group.created_at < SETUP_DAY:
        return None
    pending = await session.scalar(
        select(ScheduledEvent)
        .where(
            ScheduledEvent.kind == EventKind.MEMBER_NEWS,
            ScheduledEvent.group_id == group.id,
            ScheduledEvent.status == "pending",
        )
        .limit(1)
    )
    if pending is None:
        due = now + NEWS_GATHER
        pending = subject_event(group.id, EventKind.MEMBER_NEWS, group.id, due, minute_key(due))
        session.add(pending)
        await session.flush()
    membership.news_event_id = pending.id
    return pending.due_at


async def named_in_line(session: AsyncSession, event_id: int) -> tuple[list[Person], list[Person]]:
    """Who the line greets (still members) and who it thanks (still gone)."""
    rows = await session.execute(
        select(Person, Membership.status)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.news_event_id == event_id)
        .order_by(Person.first_name, Person.id)
    )
    arrived: list[Person] = []
    left: list[Person] = []
    for person, status in rows:
        (arrived if status == "member" else left).append(person)
    return arrived, left

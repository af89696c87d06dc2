"""A group's report for a period (/bilan): the three indicators the field's guide asks for, le taux
de présence, le taux de propositions prises en compte, le nombre de contributions du groupe, and
the carpool figures. Counts for the group, never a score per person (members reject anything that
looks like being watched); the attendance sheet, per person, is the facilitators' own record.

A fixed number of grouped statements, whatever the group's age.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import sms
from bot.domain.answers import group_record
from bot.domain.costs import CostTotals
from bot.domain.costs import totals as cost_totals
from bot.domain.evaluations import USEFUL, Hope, hopes
from bot.domain.evaluations import useful_counts as private_useful
from bot.domain.needs import counts_for
from bot.domain.periods import Period
from bot.domain.polls import evaluations
from bot.domain.proposals import TRANSMITTED, contributions, taken_into_account_rate, transmitted_and_taken
from storage.models import (
    Attendance,
    Group,
    Meeting,
    Membership,
    Person,
    Proposal,
    RideOffer,
    RideRequest,
    Rsvp,
)


@dataclass(frozen=True)
class MeetingFigures:
    number: int
    starts_at: datetime
    topic: str
    invited: int  # members of the group on the day
    coming: int  # "je viens" answers
    present: int | None  # ticked on the attendance sheet; None when the sheet was not filled
    evaluation: list[tuple[str, int]] = field(default_factory=list)  # "utile ?": (option, votes)

    @property
    def rate(self) -> int | None:
        """Le taux de présence: present over invited, in percent."""
        if self.present is None or not self.invited:
            return None
        return round(100 * self.present / self.invited)


@dataclass(frozen=True)
class SheetLine:
    """One line of the attendance sheet (the facilitators' own record, for attestations)."""

    number: int
    starts_at: datetime
    name: str
    present: bool


@dataclass
class Report:
    period: Period
    meetings: list[MeetingFigures] = field(default_factory=list)
    proposals_by_state: dict[str, int] = field(default_factory=dict)
    transmitted: list[Proposal] = field(default_factory=list)  # with what became of them (their state)
    proposals: list[Proposal] = field(default_factory=list)  # made during the period, for the CSV
    proposals_made: int = 0
    votes_cast: int = 0
    actions_done: int = 0
    ride_offers: int = 0
    ride_seats: int = 0
    ride_requests: int = 0
    rides_matched: int = 0
    hopes: list[Hope] = field(default_factory=list)  # "Qu'attendez-vous de la prochaine réunion ?"
    meeting_ids: list[int] = field(default_factory=list)
    costs: CostTotals = field(default_factory=CostTotals)  # 🧾 claims for the period's meetings
    children_to_look_after: int = 0  # 🧸 over the period's meetings
    meal_needs: int = 0  # 🍽 dietary needs said
    sms_sent: int = 0  # 📱 to members Telegram does not reach
    answers_in_time: int = 0  # 📬 the decision-makers' answers given before their deadline...
    answers_due: int = 0  # ... of those given, or due by now
    sms_answers: int = 0  # and what they sent back

    @property
    def attendance_rate(self) -> int | None:
        """Over the meetings whose sheet was filled: everyone present over everyone invited."""
        counted = [m for m in self.meetings if m.present is not None and m.invited]
        invited = sum(m.invited for m in counted)
        return round(100 * sum(m.present or 0 for m in counted) / invited) if invited else None

    @property
    def taken_into_account_rate(self) -> int | None:
        return taken_into_account_rate(self.proposals_by_state)

    @property
    def rides_unmet(self) -> int:
        return self.ride_requests - self.rides_matched


PRIVATE_LABELS = ("👍", "🙂", "👎")  # the group poll's options begin with these, in this order


def _with_private_answers(
    polls: dict[int, list[tuple[str, int]]], private: dict[int, dict[str, int]]
) -> dict[int, list[tuple[str, int]]]:
    """Each meeting's "utile ?": the group poll's counts plus the answers given in private (the
    evaluation sheet), option by option; without a poll, the private answers under the poll's
    emoji."""
    merged = dict(polls)
    for meeting_id, answers in private.items():
        extra = [answers.get(useful, 0) for useful in USEFUL]
        pairs = merged.get(meeting_id)
        if pairs and len(pairs) == len(USEFUL):
            merged[meeting_id] = [(option, votes + add) for (option, votes), add in zip(pairs, extra, strict=True)]
        else:
            merged[meeting_id] = list(zip(PRIVATE_LABELS, extra, strict=True))
    return merged


async def group_report(session: AsyncSession, group: Group, period: Period, now: datetime | None = None) -> Report:
    """The group's figures over the period; the decision-makers' answers as at `now` (the
    period's end when not given)."""
    start, end = period.bounds(ZoneInfo(group.timezone))
    report = Report(period)
    held = (
        Meeting.group_id == group.id,
        Meeting.status == "scheduled",
        Meeting.starts_at >= start,
        Meeting.starts_at < end,
    )
    meetings = list(await session.scalars(select(Meeting).where(*held).order_by(Meeting.starts_at)))
    ids = [meeting.id for meeting in meetings]
    on_the_day = and_(
        Membership.group_id == group.id,
        Membership.joined_at <= Meeting.starts_at,
        or_(Membership.left_at.is_(None), Membership.left_at > Meeting.starts_at),
    )
    invited_rows = await session.execute(
        select(Meeting.id, func.count(Membership.id)).join(Membership, on_the_day).where(*held).group_by(Meeting.id)
    )
    invited = dict(invited_rows.all())
    coming = dict(
        (
            await session.execute(
                select(Rsvp.meeting_id, func.count())
                .where(Rsvp.meeting_id.in_(ids), Rsvp.answer == "yes")
                .group_by(Rsvp.meeting_id)
            )
        ).all()
    )
    sheets = dict(
        (
            await session.execute(
                select(Attendance.meeting_id, func.count().filter(Attendance.present.is_(True)))
                .where(Attendance.meeting_id.in_(ids))
                .group_by(Attendance.meeting_id)
            )
        ).all()
    )
    evaluated = _with_private_answers(await evaluations(session, ids), await private_useful(session, ids))
    report.meetings = [
        MeetingFigures(
            m.number,
            m.starts_at,
            m.topic,
            invited.get(m.id, 0),
            coming.get(m.id, 0),
            sheets.get(m.id) if m.attendance_rate is not None else None,
            evaluated.get(m.id, []),
        )
        for m in meetings
    ]
    made = (Proposal.group_id == group.id, Proposal.created_at >= start, Proposal.created_at < end)
    report.proposals_by_state = dict(
        (await session.execute(select(Proposal.state, func.count()).where(*made).group_by(Proposal.state))).all()
    )
    report.proposals_made = sum(report.proposals_by_state.values())
    report.proposals = list(await session.scalars(select(Proposal).where(*made).order_by(Proposal.number)))
    report.transmitted = [proposal for proposal in report.proposals if proposal.state in TRANSMITTED]
    made_here = await contributions(session, group, start, end)
    report.votes_cast, report.actions_done = made_here.votes, made_here.actions_done
    offers, seats = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(RideOffer.seats), 0)).where(
                RideOffer.meeting_id.in_(ids), RideOffer.status == "open"
            )
        )
    ).one()
    report.ride_offers, report.ride_seats = int(offers), int(seats)
    requests, matched = (
        await session.execute(
            select(func.count(), func.count().filter(RideRequest.status == "matched")).where(
                RideRequest.meeting_id.in_(ids), RideRequest.status != "cancelled"
            )
        )
    ).one()
    report.ride_requests, report.rides_matched = int(requests), int(matched)
    report.hopes = await hopes(session, ids)
    report.meeting_ids, report.costs = ids, await cost_totals(session, ids)
    needs = (await counts_for(session, ids)).values()
    report.children_to_look_after = sum(found.children for found in needs)
    report.meal_needs = sum(sum(found.diets.values()) for found in needs)
    report.sms_sent, report.sms_answers = await sms.figures(session, group, start, end)
    record = await group_record(session, group, min(now or end, end))
    report.answers_in_time, report.answers_due = record.in_time, record.due
    return report


@dataclass
class GroupLine:
    """One group's indicators side by side with others (the department's view), or their sum
    (`group_id` None): rates from the summed counts, never an average of rates."""

    group_id: int | None
    name: str
    meetings: int = 0
    invited: int = 0  # over the meetings whose attendance sheet was filled
    present: int = 0
    proposals: int = 0
    transmitted: int = 0
    taken: int = 0
    votes: int = 0
    actions: int = 0
    rides: int = 0

    @property
    def attendance_rate(self) -> int | None:
        return round(100 * self.present / self.invited) if self.invited else None

    @property
    def taken_rate(self) -> int | None:
        return round(100 * self.taken / self.transmitted) if self.transmitted else None

    @property
    def contributions(self) -> int:
        """Le nombre de contributions émanant du groupe: proposals made, votes cast, actions done."""
        return self.proposals + self.votes + self.actions


def group_line(group: Group, report: Report) -> GroupLine:
    counted = [m for m in report.meetings if m.present is not None]
    transmitted, taken = transmitted_and_taken(report.proposals_by_state)
    return GroupLine(
        group.id,
        group.display_name,
        meetings=len(report.meetings),
        invited=sum(m.invited for m in counted),
        present=sum(m.present or 0 for m in counted),
        proposals=report.proposals_made,
        transmitted=transmitted,
        taken=taken,
        votes=report.votes_cast,
        actions=report.actions_done,
        rides=report.rides_matched,
    )


async def attendance_sheet(session: AsyncSession, group: Group, period: Period) -> list[SheetLine]:
    """Who was ticked present or absent at each meeting of the period."""
    start, end = period.bounds(ZoneInfo(group.timezone))
    rows = await session.execute(
        select(Meeting.number, Meeting.starts_at, Person.first_name, Attendance.present)
        .join(Attendance, Attendance.meeting_id == Meeting.id)
        .join(Person, Person.id == Attendance.person_id)
        .where(Meeting.group_id == group.id, Meeting.starts_at >= start, Meeting.starts_at < end)
        .order_by(Meeting.starts_at, Person.first_name)
    )
    return [SheetLine(number, starts_at, name, present) for number, starts_at, name, present in rows]


@dataclass(frozen=True)
class AttendedMeeting:
    starts_at: datetime
    topic: str


@dataclass(frozen=True)
class AttestationFacts:
    """What an attestation of participation states: the meetings the person attended (from the
    attendance sheet) and what the group carried during that time."""

    meetings: list[AttendedMeeting]
    since: datetime  # when the person joined the group
    until: datetime
    proposals: int  # made by the group between the first and the last meeting attended


async def attestation_facts(session: AsyncSession, group: Group, person: Person, now: datetime) -> AttestationFacts:
    membership = await session.scalar(
        select(Membership).where(Membership.group_id == group.id, Membership.person_id == person.id)
    )
    rows = await session.execute(
        select(Meeting.starts_at, Meeting.topic)
        .join(Attendance, Attendance.meeting_id == Meeting.id)
        .where(Meeting.group_id == group.id, Attendance.person_id == person.id, Attendance.present.is_(True))
        .order_by(Meeting.starts_at)
    )
    attended = [AttendedMeeting(starts_at, topic) for starts_at, topic in rows]
    since = membership.joined_at if membership is not None else (attended[0].starts_at if attended else now)
    until = membership.left_at if membership is not None and membership.left_at else now
    proposals = 0
    if attended:
        proposals = (
            await session.scalar(
                select(func.count()).where(
                    Proposal.group_id == group.id,
                    Proposal.created_at >= attended[0].starts_at - timedelta(days=31),
                    Proposal.created_at <= attended[-1].starts_at + timedelta(days=1),
                )
            )
            or 0
        )
    return AttestationFacts(attended, min(since, attended[0].starts_at) if attended else since, until, proposals)


@dataclass(frozen=True)
class OwnAttendance:
    group: str
    starts_at: datetime
    topic: str
    timezone: str
    present: bool


async def own_attendance(session: AsyncSession, person: Person, limit: int = 30) -> list[OwnAttendance]:
    """What the attendance sheets say of this person, the latest first ("📋 Mes présences")."""
    rows = await session.execute(
        select(Group, Meeting.starts_at, Meeting.topic, Attendance.present)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .join(Group, Group.id == Meeting.group_id)
        .where(Attendance.person_id == person.id)
        .order_by(Meeting.starts_at.desc())
        .limit(limit)
    )
    return [
        OwnAttendance(group.display_name, starts_at, topic, group.timezone, present)
        for group, starts_at, topic, present in rows
    ]

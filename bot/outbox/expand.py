"""How each kind of due event becomes deliveries: one function per kind, registered in
bot/outbox/kinds.py. An expander may write (close a poll, prefill the attendance sheet, plan the
next digest): it runs in the transaction that marks its event done.

Each expander gets an `Expansion`: the event, its group (active) and meeting, the time, and
`deliver()` to add a message for a person or the group.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import answers, carpool, date_polls, evaluations, minutes, polls, proposals, sms
from bot.domain import meetings as m
from bot.domain.attendance import prefill_attendance
from bot.domain.events import EventKind
from bot.domain.facilitators import group_facilitators, meeting_runners
from bot.domain.membership import is_current, membership_in_group, named_in_line, owes_farewell
from bot.domain.people import NEVER_STARTED, reachable_in_private, unreachable_members
from bot.domain.priorities import close_round
from bot.outbox.claims import add_delivery
from bot.outbox.mail import write_mail
from bot.outbox.outgoing import OutboxSettings
from bot.outbox.reach import reach_out
from bot.ui.answers import answer_url, mail_text
from storage.models import (
    ActionItem,
    Addressee,
    DatePoll,
    Group,
    Meeting,
    MeetingSeries,
    Membership,
    Minutes,
    Person,
    Poll,
    PriorityRound,
    Proposal,
    ProposalChange,
    ScheduledEvent,
    SmsContact,
    SmsReceived,
)

FEEDBACK_LATEST = timedelta(days=2)
GROUP, PRIVATE = 0, 1  # delivery priorities: group messages go first


class UndeclaredDeliveryError(RuntimeError):
    """An expander added a delivery kind its registry entry does not declare."""


@dataclass
class Expansion:
    """One due event being expanded."""

    session: AsyncSession
    event: ScheduledEvent
    group: Group
    meeting: Meeting | None
    now: datetime
    outbox: OutboxSettings
    declared: frozenset[str]

    def deliver(
        self,
        kind: str,
        person_id: int | None = None,
        event: ScheduledEvent | None = None,
        priority: int = PRIVATE,
        status: str = "pending",
    ) -> None:
        if kind not in self.declared:
            raise UndeclaredDeliveryError(f"{self.event.kind} does not declare {kind}")
        add_delivery(self.session, event or self.event, kind, self.now, person_id, priority, status)

    def to_group(self, kind: str, event: ScheduledEvent | None = None) -> None:
        self.deliver(kind, None, event, GROUP)

    def skip(self) -> None:
        self.event.status = "skipped"

    @property
    def the_meeting(self) -> Meeting:
        if self.meeting is None:  # kinds.py only gives meeting events an Expansion with a meeting
            raise RuntimeError(f"{self.event.kind} needs a meeting")
        return self.meeting

    async def report(self, kind: str, readers: list[Person], event: ScheduledEvent | None = None) -> None:
        """A report for those who run the meeting, in private. One who never opened a private chat
        with the bot (or blocked it) gets it as soon as they start the bot (the delivery is held),
        and the group is told once per kind of report, without details, with the link that opens
        the private chat. One who paused Relais' private messages chose not to get it."""
        waiting: list[Person] = []
        for person in readers:
            if reachable_in_private(person):
                self.deliver(kind, person.id, event)
            elif not person.private_paused:
                self.deliver(kind, person.id, event, status="held")
                waiting.append(person)
        if await reach_out(self.session, self.group, waiting, kind, self.now):
            self.to_group("reach_out", event)

    async def runners(self) -> list[Person]:
        return await meeting_runners(self.session, self.the_meeting, self.group, self.outbox.admins)


# ----------------------------------------------------------------------------- meetings
async def announcement(x: Expansion) -> None:
    x.to_group("announcement")


async def series_next(x: Expansion) -> None:
    """When an occurrence starts, the series' next meeting is created and announced."""
    meeting = x.the_meeting
    series = await x.session.get(MeetingSeries, meeting.series_id) if meeting.series_id else None
    if series is None:
        return
    upcoming = await m.next_in_series(x.session, series, meeting.starts_at, x.now, x.outbox.meetings)
    if upcoming is None:
        return
    announce = ScheduledEvent(
        meeting_id=upcoming.id,
        kind=EventKind.ANNOUNCEMENT,
        offset_minutes=0,
        due_at=x.now,
        status="done",
        done_at=x.now,
    )
    x.session.add(announce)
    await x.session.flush()
    x.to_group("announcement", announce)


async def reminder(x: Expansion) -> None:
    """The group, and in private everyone who started the bot and did not decline (a nudge with
    the buttons for those who have not answered). Missed while down: only the latest one due."""
    meeting = x.the_meeting
    if not m.is_open(meeting, x.now):
        x.skip()
        return
    later = await x.session.scalar(
        select(ScheduledEvent.id)
        .where(
            ScheduledEvent.meeting_id == meeting.id,
            ScheduledEvent.kind == EventKind.REMINDER,
            ScheduledEvent.status == "pending",
            ScheduledEvent.due_at <= x.now,
            ScheduledEvent.due_at > x.event.due_at,
        )
        .limit(1)
    )
    if later is not None:
        x.skip()
        return
    if x.event.offset_minutes == max(m.offset_minutes(t) for t in m.group_offsets(x.group, x.outbox.meetings)):
        await _reach_everyone(x)  # first: the reminder is then the group's latest message
    x.to_group("group_reminder")
    texted = {c.person_id for c in await sms.active_contacts(x.session, x.group)} if x.outbox.sms else set()
    spent = bool(texted) and await sms.sent_this_month(x.session, x.now) >= x.outbox.sms_monthly_limit
    for person, _membership, rsvp in await m.members_with_answers(x.session, meeting):
        if rsvp is not None and rsvp.answer == "no":
            continue
        if reachable_in_private(person):
            x.deliver("nudge" if rsvp is None else "private_reminder", person.id)
        elif person.id in texted and not spent:  # Telegram cannot reach them: the SMS they agreed to
            x.deliver("sms_reminder", person.id)
    if spent and sms.limit_news_due(x.group, x.now):  # those who run it phone them instead
        x.group.sms_limit_told_at = x.now
        await x.report("sms_limit", await x.runners(), await _done_event(x, EventKind.SMS_LIMIT))


REACH_NUDGE_EVERY = timedelta(days=30)


async def _reach_everyone(x: Expansion) -> None:
    """With a meeting's first reminder (J-7 by default): those who run it get, in private, the
    members whom no private reminder reaches (to phone or text them); and, at most once a month,
    the group is offered "Recevoir mes rappels en privé" when some never opened the private chat."""
    unreachable = await unreachable_members(x.session, x.group)
    if not unreachable:
        return
    # Events of their own (written done): the reminder has a delivery for these people and for
    # the group. The list goes to those who run the meeting and can be written to; the others get
    # it with /joignables once they open the private chat.
    listed = await _done_event(x, EventKind.REACH_LIST)
    for runner in await x.runners():
        if reachable_in_private(runner):
            x.deliver("unreachable", runner.id, listed)
    never = any(why == NEVER_STARTED for _, why in unreachable)
    last = x.group.reach_nudged_at
    if never and (last is None or x.now - last >= REACH_NUDGE_EVERY):
        x.group.reach_nudged_at = x.now
        x.to_group("reach_nudge", await _done_event(x, EventKind.REACH_NUDGE))


async def _done_event(x: Expansion, kind: EventKind) -> ScheduledEvent:
    event = ScheduledEvent(
        meeting_id=x.the_meeting.id, kind=kind, offset_minutes=0, due_at=x.now, status="done", done_at=x.now
    )
    x.session.add(event)
    await x.session.flush()
    return event


async def written_done(x: Expansion) -> None:
    """An event the first reminder writes done (REACH_LIST, REACH_NUDGE): never due on its own."""
    x.skip()


async def facilitator_digest(x: Expansion) -> None:
    """The day-before list, to those who run the meeting (with absence reasons for those who may
    read them: bot/domain/facilitators.py)."""
    if not m.is_open(x.the_meeting, x.now):
        x.skip()
        return
    # Everyone who runs the meeting gets the list; only those the rule allows see the reasons in it.
    await x.report("digest", await x.runners())


async def checklist(x: Expansion) -> None:
    """After the meeting: the attendance sheet, prefilled from the answers, to those who ran it."""
    if x.the_meeting.status != "scheduled":
        x.skip()
        return
    await prefill_attendance(x.session, x.the_meeting)
    await x.report("checklist", await x.runners())


async def feedback(x: Expansion) -> None:
    if x.the_meeting.status != "scheduled" or x.now - x.event.due_at > FEEDBACK_LATEST:
        x.skip()  # weeks after the meeting, the question makes no sense
        return
    # In private to those who came (the evaluation sheet); the group's anonymous poll too when one
    # of them cannot be written to in private, or when nobody is known to have come.
    came = await evaluations.attendees(x.session, x.the_meeting)
    for person in came:
        if reachable_in_private(person):
            x.deliver("evaluation", person.id)
    if not came or not all(reachable_in_private(person) for person in came):
        x.to_group("feedback")


async def rides_reminder(x: Expansion) -> None:
    if not m.is_open(x.the_meeting, x.now):
        x.skip()
        return
    for _offer, driver, _, riders in await carpool.matched_rides(x.session, x.the_meeting):
        x.deliver("ride_reminder", driver.id)
        for rider, _ in riders:
            x.deliver("ride_reminder", rider.id)


async def rides_alert(x: Expansion) -> None:
    if not m.is_open(x.the_meeting, x.now):
        x.skip()
        return
    if await carpool.unmatched(x.session, x.the_meeting):
        await x.report("rides_unmatched", await x.runners())


# ----------------------------------------------------------------------------- a group's subjects
async def _news_deliveries(x: Expansion, change: ProposalChange, event: ScheduledEvent | None = None) -> None:
    for person in await proposals.news_recipients(x.session, change):
        x.deliver("proposal_news", person.id, event)


async def proposal_news(x: Expansion) -> None:
    change = await x.session.get(ProposalChange, x.event.subject_id)
    if change is not None:
        await _news_deliveries(x, change)


async def add_news(x: Expansion, change: ProposalChange) -> None:
    """A proposal's change caused by this event (a poll's outcome), sent now in private to its
    author and followers."""
    event = proposals.news_event(x.group, change, x.now)
    event.status, event.done_at = "done", x.now
    x.session.add(event)
    await x.session.flush()
    await _news_deliveries(x, change, event)


async def poll_close(x: Expansion) -> None:
    poll = await x.session.get(Poll, x.event.subject_id)
    if poll is None or poll.status != "open":
        x.skip()
        return
    result = await polls.close_poll(x.session, poll, x.group, x.now)
    x.to_group("poll_close")
    if result.change is not None:
        await add_news(x, result.change)


async def poll_reminder(x: Expansion) -> None:
    poll = await x.session.get(Poll, x.event.subject_id)
    if poll is None or poll.status != "open":
        x.skip()
    elif poll.anonymous:  # nobody knows who voted: one reminder in the group instead
        x.to_group("poll_group_reminder")
    else:
        for person in await polls.non_voters(x.session, poll):
            x.deliver("poll_nudge", person.id)


async def priority_close(x: Expansion) -> None:
    round_ = await x.session.get(PriorityRound, x.event.subject_id)
    if round_ is None or round_.status != "open":
        x.skip()
        return
    await close_round(x.session, round_, x.now)
    x.to_group("priority_close")


async def date_poll_close(x: Expansion) -> None:
    """/quand's deadline: the date most members can make becomes the meeting, announced as usual;
    with no date ticked, the group is told that none was chosen."""
    poll = await x.session.get(DatePoll, x.event.subject_id)
    if poll is None or poll.status != "open":
        x.skip()
        return
    if not await date_polls.tick_counts(x.session, poll):
        poll.status, poll.closed_at = "closed", x.now
        x.to_group("date_poll_close")
        return
    creator = await x.session.get(Person, poll.created_by_id) if poll.created_by_id else None
    option = await date_polls.best_option(x.session, poll)
    meeting = await date_polls.choose(x.session, poll, option, x.group, creator, x.now, x.outbox.meetings)
    x.to_group("date_poll_close")
    announce = ScheduledEvent(
        meeting_id=meeting.id, kind=EventKind.ANNOUNCEMENT, offset_minutes=0, due_at=x.now, status="done", done_at=x.now
    )
    x.session.add(announce)
    await x.session.flush()
    x.to_group("announcement", announce)


async def minutes_publish(x: Expansion) -> None:
    """The review of the minutes is over: the group gets them (pinned when the bot may pin), and
    the members who did not come get them in private."""
    found = await x.session.get(Minutes, x.event.subject_id)
    meeting = await x.session.get(Meeting, found.meeting_id) if found else None
    if found is None or meeting is None or found.status != "review":
        x.skip()
        return
    minutes.mark_published(found, x.now)
    x.to_group("minutes")
    # Those who ran the meeting were there, ticked or not: never told "Vous n'étiez pas là".
    came = await evaluations.attendees(x.session, meeting)
    came += await meeting_runners(x.session, meeting, x.group, x.outbox.admins)
    for person in await minutes.absent_members(x.session, meeting, came):
        if reachable_in_private(person):
            x.deliver("minutes_absent", person.id)


async def charter_post(x: Expansion) -> None:
    x.to_group("charter")


async def action_reminder(x: Expansion) -> None:
    action = await x.session.get(ActionItem, x.event.subject_id)
    owner = await x.session.get(Person, action.owner_id) if action and action.owner_id else None
    if action is None or action.status != "open":
        x.skip()
    elif owner is not None and reachable_in_private(owner):
        x.deliver("action_reminder", owner.id)
    else:  # the owner cannot be written to in private: remind them in the group
        x.to_group("action_reminder")


async def proposals_digest(x: Expansion) -> None:
    await proposals.ensure_digest(x.session, x.group, x.now, x.outbox.proposals, x.outbox.meetings)
    if await proposals.board(x.session, x.group):
        x.to_group("proposals_digest")
    else:
        x.skip()


# ----------------------------------------------------------------------------- memberships
async def _membership(x: Expansion) -> tuple[Membership, Person] | None:
    return await membership_in_group(x.session, x.group, x.event.subject_id)


async def _facilitators_but(x: Expansion, person: Person) -> list[Person]:
    return [p for p in await group_facilitators(x.session, x.group, x.outbox.admins) if p.id != person.id]


async def _term_applies(x: Expansion, found: tuple[Membership, Person] | None) -> bool:
    """Terms are the members': not the group's Telegram administrators (the professionals who
    run it); and an event is about the current term only (not one renewed since)."""
    if found is None or x.outbox.membership.term_months is None or not is_current(found[0], x.event.offset_minutes):
        return False
    return found[1].telegram_id not in await x.outbox.admins(x.group.chat_id)


async def term_notice(x: Expansion) -> None:
    """A month before a term ends: the member is asked whether they want to stay, and the
    facilitators (who decide) are told, with the buttons to prolong or let it end."""
    found = await _membership(x)
    if found is None or not await _term_applies(x, found):
        x.skip()  # renewed since, gone, an administrator, or terms switched off
        return
    _, member = found
    if reachable_in_private(member):
        x.deliver("term_ask", member.id)
    await x.report("term_warn", await _facilitators_but(x, member))


async def term_end(x: Expansion) -> None:
    """The term is over and nobody prolonged it: the member is thanked, the facilitators told."""
    found = await _membership(x)
    if found is None or not await _term_applies(x, found) or not owes_farewell(found[0]):
        x.skip()
        return
    membership, member = found
    membership.farewell_at = x.now
    if reachable_in_private(member):
        x.deliver("farewell", member.id)
    await x.report("term_ended", await _facilitators_but(x, member))


async def farewell(x: Expansion) -> None:
    """Someone left the group: their thank-you in private, once for this stay."""
    found = await _membership(x)
    if found is None or found[0].status != "left" or not owes_farewell(found[0]):
        x.skip()  # came back meanwhile, erased, or already thanked at their term's end
        return
    membership, member = found
    membership.farewell_at = x.now
    if reachable_in_private(member):
        x.deliver("farewell", member.id)


async def member_news(x: Expansion) -> None:
    """The last minute's arrivals and departures, in one group line."""
    arrived, left = await named_in_line(x.session, x.event.id)
    if arrived or left:
        x.to_group("member_news")
    else:
        x.skip()  # they all came back or left again, or were erased


# ----------------------------------------------------------------------------- SMS
async def _texted(x: Expansion, contact_id: int | None) -> SmsContact | None:
    contact = await x.session.get(SmsContact, contact_id) if contact_id is not None else None
    if not x.outbox.sms or contact is None or contact.group_id != x.group.id:
        x.skip()
        return None
    return contact


async def sms_consent(x: Expansion) -> None:
    """The first SMS to a registered number: it asks for a OUI (skipped if a STOP came first)."""
    contact = await _texted(x, x.event.subject_id)
    if contact is not None and contact.status == sms.ASKED:
        x.deliver("sms_consent", contact.person_id)
    elif contact is not None:
        x.skip()


async def sms_reply(x: Expansion) -> None:
    """The one confirmation of a OUI or a STOP (the SMS received is the event's subject)."""
    received = await x.session.get(SmsReceived, x.event.subject_id)
    contact = await _texted(x, received.contact_id if received is not None else None)
    if contact is not None:
        x.deliver("sms_reply", contact.person_id)


async def sms_change(x: Expansion) -> None:
    """A meeting cancelled or moved: each member who gets SMS is told (the event's subject)."""
    meeting = await x.session.get(Meeting, x.event.subject_id)
    if not x.outbox.sms or meeting is None or meeting.group_id != x.group.id:
        x.skip()
        return
    for contact in await sms.active_contacts(x.session, x.group):
        x.deliver("sms_change", contact.person_id)


# ----------------------------------------------------------------------------- the decision-maker's answer
async def _transmitters(x: Expansion, proposal: Proposal) -> list[Person]:
    """Whoever marked the proposal transmitted; the group's facilitators when nobody did (a
    change from the dashboard by someone since gone)."""
    by_id = await x.session.scalar(
        select(ProposalChange.by_id)
        .where(ProposalChange.proposal_id == proposal.id, ProposalChange.state == "sent")
        .order_by(ProposalChange.id.desc())
        .limit(1)
    )
    person = await x.session.get(Person, by_id) if by_id is not None else None
    if person is not None:
        return [person]
    return await group_facilitators(x.session, x.group, x.outbox.admins)


async def _transmitted(x: Expansion) -> Proposal | None:
    proposal = await x.session.get(Proposal, x.event.subject_id)
    if proposal is None or proposal.group_id != x.group.id or not answers.still_waiting(proposal, x.event):
        x.skip()  # answered, moved on, or transmitted again since (its own events follow)
        return None
    return proposal


async def _mail_addressee(x: Expansion, proposal: Proposal, reminder: bool) -> bool:
    """The link by mail to the addressee, when mail is on and the list has their address."""
    addressee = await x.session.get(Addressee, proposal.addressee_id) if proposal.addressee_id else None
    if not x.outbox.mail or addressee is None or not addressee.email:
        return False
    url = answer_url(x.outbox.dashboard_url, answers.answer_token(x.outbox.link_secret, proposal))
    subject, body = mail_text(x.group.language, x.group, proposal, url, reminder)
    write_mail(x.session, addressee.email, subject, body, x.now, proposal.id)
    return True


async def answer_link(x: Expansion) -> None:
    """Transmitted: the link to whoever transmitted it (to forward), and by mail to the addressee."""
    proposal = await _transmitted(x)
    if proposal is None:
        return
    await _mail_addressee(x, proposal, reminder=False)
    await x.report("answer_link", await _transmitters(x, proposal))


async def answer_reminder(x: Expansion) -> None:
    """A week before the deadline, no answer: the addressee reminded by mail, or the facilitator
    asked to forward the link again."""
    proposal = await _transmitted(x)
    if proposal is None:
        return
    if not await _mail_addressee(x, proposal, reminder=True):
        await x.report("answer_forward", await _transmitters(x, proposal))


async def answer_overdue(x: Expansion) -> None:
    """The deadline, no answer: the group told plainly, the facilitators and the coordinators in
    private, the proposal flagged overdue."""
    proposal = await _transmitted(x)
    if proposal is None:
        return
    proposal.overdue_at = x.now
    x.to_group("answer_overdue")
    readers = await group_facilitators(x.session, x.group, x.outbox.admins)
    await x.report("answer_overdue_report", readers)
    known = {person.id for person in readers}
    if x.outbox.coordinators:
        for person in await x.session.scalars(select(Person).where(Person.telegram_id.in_(x.outbox.coordinators))):
            if person.id not in known and reachable_in_private(person):
                x.deliver("answer_overdue_report", person.id)

"""How each kind of delivery is rendered into a message: one function per kind, registered in
bot/outbox/kinds.py. Rendering reads and never writes (kinds.py checks it): what must change in
the database changes when the event is expanded (bot/outbox/expand.py).

Each renderer gets a `Rendering` (the delivery, its event, group, meeting, recipient, language and
the message being built in `out`) and returns False when the message is no longer needed (the
person declined since the wave was planned, voted since the reminder, the ride ended...).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import answers, carpool, date_polls, sms
from bot.domain import meetings as m
from bot.domain import proposals as p
from bot.domain.attendance import attendance_rows
from bot.domain.deeplinks import PROPOSE, group_payload, start_url
from bot.domain.events import EventKind
from bot.domain.facilitators import nameable, reads_absence_reasons, runs_meeting
from bot.domain.membership import exit_facts, is_current, membership_in_group, named_in_line, other_groups
from bot.domain.minutes import previous_published
from bot.domain.needs import counts as needs_counts
from bot.domain.people import electorate_size, known_members, reachable_in_private, unreachable_members
from bot.domain.polls import electorate
from bot.domain.priorities import participants, ranking
from bot.outbox.outgoing import OutboxSettings, Outgoing
from bot.outbox.reach import mention, waiting_for
from bot.ui import answers as answer_ui
from bot.ui import meetings as ui
from bot.ui import sms as sms_ui
from bot.ui.carpool import driver_reminder, rider_reminder, unmatched_text
from bot.ui.charter import charter_keyboard, charter_text
from bot.ui.date_polls import date_poll_outcome
from bot.ui.evaluations import evaluation_question, useful_keyboard
from bot.ui.i18n import Markup, plain, t, tn
from bot.ui.membership import (
    decision_keyboard,
    discover_keyboard,
    farewell_keyboard,
    farewell_text,
    group_line,
    term_over,
    term_question,
    term_warning,
    wish_keyboard,
)
from bot.ui.minutes import minutes_line, minutes_text
from bot.ui.needs import counts_lines
from bot.ui.proposals import (
    action_keyboard,
    action_reminder_text,
    change_sentence,
    changes_block,
    digest_keyboard,
    excerpt,
    news_text,
    poll_group_reminder_text,
    poll_link,
    poll_nudge_text,
    poll_summary,
    ranking_text,
)
from bot.ui.proposals import digest_text as proposals_digest_text
from bot.ui.reach import presence_keyboard, unreachable_text
from storage.models import (
    ActionItem,
    Addressee,
    DatePoll,
    Delivery,
    Group,
    Meeting,
    Membership,
    Minutes,
    Person,
    Poll,
    PollVote,
    PriorityRound,
    Proposal,
    ProposalChange,
    ScheduledEvent,
)


@dataclass
class Rendering:
    """One claimed delivery being rendered."""

    session: AsyncSession
    delivery: Delivery
    event: ScheduledEvent
    group: Group
    meeting: Meeting | None
    person: Person | None
    language: str
    out: Outgoing
    outbox: OutboxSettings

    @property
    def the_meeting(self) -> Meeting:
        if self.meeting is None:  # kinds.py only renders meeting kinds with their meeting
            raise RuntimeError(f"{self.delivery.kind} needs a meeting")
        return self.meeting

    @property
    def recipient(self) -> Person:
        if self.person is None:  # private kinds always have a person (expand.py)
            raise RuntimeError(f"{self.delivery.kind} needs a person")
        return self.person


# ----------------------------------------------------------------------------- meetings
async def _proposals_moved_block(r: Rendering) -> str:
    """The first reminder of a meeting (J-7 by default) lists the proposals whose follow-up
    moved since the previous meeting."""
    meeting, group = r.the_meeting, r.group
    if r.event.kind != EventKind.REMINDER:
        return ""
    first = max(m.offset_minutes(token) for token in m.group_offsets(group, r.outbox.meetings))
    if r.event.offset_minutes != first:
        return ""
    previous = await p.last_meeting_before(r.session, group.id, meeting.starts_at)
    since = (
        previous.starts_at if previous is not None and previous.id != meeting.id else p.since_default(meeting.starts_at)
    )
    moved = await p.changes_since(r.session, group, since)
    return "\n\n" + changes_block(group.language, moved) if moved else ""


async def _minutes_block(r: Rendering) -> str:
    """The J-7 reminder links to the previous meeting's minutes, once they are posted."""
    if ui.days_until(r.the_meeting, r.group.timezone, r.event.due_at) != 7:
        return ""
    found = await previous_published(r.session, r.the_meeting)
    return "\n\n" + minutes_line(r.language, r.group, found) if found is not None else ""


async def group_reminder(r: Rendering) -> bool:
    meeting = r.the_meeting
    r.out.text = ui.reminder_text(r.group, meeting, await m.counts(r.session, meeting), r.event.due_at)
    r.out.tail = await _minutes_block(r) + await _proposals_moved_block(r)
    r.out.text += r.out.tail
    r.out.markup = ui.rsvp_keyboard(r.language, meeting)
    return True


async def announcement(r: Rendering) -> bool:
    meeting = r.the_meeting
    counts, series = await m.counts(r.session, meeting), await m.series_position(r.session, meeting)
    r.out.text = ui.announcement_text(r.group, meeting, counts, series)
    r.out.markup = ui.rsvp_keyboard(r.language, meeting)
    return True


async def private_reminder(r: Rendering) -> bool:
    """The reminder in private (or the nudge, to someone who has not answered)."""
    meeting = r.the_meeting
    rsvp = await m.answer_of(r.session, meeting, r.recipient)
    if rsvp is not None and rsvp.answer == "no":
        return False  # declined since the wave was planned: nobody who declined is reminded
    answered = rsvp.answer if rsvp else None
    r.out.text = ui.private_reminder_text(r.language, r.group, meeting, answered, r.event.due_at)
    r.out.text += await _minutes_block(r)
    if answered is None:
        r.out.markup = ui.rsvp_keyboard(r.language, meeting, with_calendar=True, with_pause=True)
    else:
        r.out.markup = ui.answered_keyboard(r.language, meeting)
    return True


def _too_late(r: Rendering) -> bool:
    """A report held for a facilitator who started the bot only after the meeting began."""
    return r.the_meeting.starts_at <= r.delivery.not_before


async def digest(r: Rendering) -> bool:
    """The day-before list for those who run the meeting (absence reasons included)."""
    meeting = r.the_meeting
    if _too_late(r):
        return False
    admin_ids = await r.outbox.admins(r.group.chat_id)
    members = await m.members_with_answers(r.session, meeting)  # the runners are among them: one query
    runners = {person.id for person, membership, _ in members if runs_meeting(person, membership, meeting, admin_ids)}
    reasons = reads_absence_reasons(r.recipient, meeting, admin_ids)
    texted = (
        frozenset(c.person_id for c in await sms.active_contacts(r.session, r.group)) if r.outbox.sms else frozenset()
    )
    r.out.text = ui.digest_text(r.language, r.group, meeting, members, runners, reasons, texted)
    if lines := counts_lines(r.language, await needs_counts(r.session, meeting)):  # childcare, meal
        r.out.text += "\n" + "\n".join(lines)
    return True


async def charter(r: Rendering) -> bool:
    """The group's charter with "✅ J'ai lu", pinned when the bot may pin."""
    r.out.text, r.out.markup = charter_text(r.language, r.group), charter_keyboard(r.language, r.group)
    r.out.pin = True
    return True


async def unreachable(r: Rendering) -> bool:
    """Those who run the meeting: the members no private reminder reaches, and why."""
    found = await unreachable_members(r.session, r.group)
    known = await known_members(r.session, r.group)
    if not found and electorate_size(known, r.group) <= known:
        return False
    r.out.text = unreachable_text(r.language, r.group, found, r.the_meeting, known)
    return True


async def reach_nudge(r: Rendering) -> bool:
    r.out.text = t(r.language, "reach.nudge") + "\n" + t(r.language, "reach.nudge_members")
    url = start_url(r.outbox.bot_username, group_payload(r.outbox.link_secret, r.group.id))
    r.out.markup = presence_keyboard(r.language, r.group, url)
    return True


async def evaluation(r: Rendering) -> bool:
    """The day after, in private: "utile ?" with one tap (then, if they like, a free text)."""
    r.out.text = evaluation_question(r.language, r.group, r.the_meeting)
    r.out.markup = useful_keyboard(r.language, r.the_meeting)
    return True


async def checklist(r: Rendering) -> bool:
    meeting = r.the_meeting
    r.out.text = (
        t(r.language, "attendance.intro", group=r.group.display_name)
        + "\n"
        + ui.meeting_body(r.group, meeting, language=r.language)
    )
    r.out.markup = ui.attendance_keyboard(r.language, meeting, await attendance_rows(r.session, meeting))
    return True


async def feedback(r: Rendering) -> bool:
    language = r.group.language
    r.out.poll = {
        "question": plain(
            language,
            "feedback.question",
            when=ui.when_text(r.the_meeting.starts_at, r.group.timezone, language),
            place=excerpt(r.the_meeting.place, 150),  # the question is 300 characters at most
        ),
        "options": [plain(language, f"feedback.option{i}") for i in (1, 2, 3)],
    }
    return True


async def ride_reminder(r: Rendering) -> bool:
    """The day-before carpool reminder, for the driver or a passenger (nothing if the ride ended)."""
    meeting, person = r.the_meeting, r.recipient
    for offer, driver, start, riders in await carpool.matched_rides(r.session, meeting):
        if driver.id == person.id:
            r.out.text = driver_reminder(r.language, r.group, meeting, offer, start, riders)
            return True
        for rider, pickup in riders:
            if rider.id == person.id:
                r.out.text = rider_reminder(r.language, r.group, meeting, offer, driver, pickup)
                return True
    return False


async def rides_unmatched(r: Rendering) -> bool:
    """Facilitators: the requests still without a seat (nothing if they all found one)."""
    waiting = await carpool.unmatched(r.session, r.the_meeting)
    if not waiting or _too_late(r):
        return False
    r.out.text = unmatched_text(r.language, r.group, r.the_meeting, waiting)
    return True


# ----------------------------------------------------------------------------- a group's subjects
async def proposal_news(r: Rendering) -> bool:
    change = await r.session.get(ProposalChange, r.event.subject_id)
    proposal = await r.session.get(Proposal, change.proposal_id) if change else None
    if change is None or proposal is None:
        return False
    merged = change.state == "merged" and proposal.merged_into_id
    target = await r.session.get(Proposal, proposal.merged_into_id) if merged else None
    sentence = change_sentence(r.language, proposal, change.state, change.note, change.progress, target)
    r.out.text = news_text(r.language, r.group, sentence)
    return True


async def poll_close(r: Rendering) -> bool:
    poll = await r.session.get(Poll, r.event.subject_id)
    if poll is None:
        return False
    proposal = await r.session.get(Proposal, poll.proposal_id) if poll.proposal_id else None
    r.out.text = poll_summary(r.language, r.group, poll, await electorate(r.session, poll), proposal)
    r.out.stop_poll_message_id = poll.message_id
    return True


async def poll_group_reminder(r: Rendering) -> bool:
    poll = await r.session.get(Poll, r.event.subject_id)
    if poll is None or poll.status != "open":
        return False
    r.out.text, r.out.reply_to = poll_group_reminder_text(r.language, r.group, poll), poll.message_id
    return True


async def poll_nudge(r: Rendering) -> bool:
    poll = await r.session.get(Poll, r.event.subject_id)
    if poll is None or poll.status != "open":
        return False
    voted = await r.session.scalar(
        select(PollVote.id).where(PollVote.poll_id == poll.id, PollVote.person_id == r.recipient.id)
    )
    if voted is not None:
        return False  # voted since the reminder was planned
    r.out.text = poll_nudge_text(r.language, r.group, poll)
    if link := poll_link(r.group, poll):
        r.out.markup = InlineKeyboardMarkup([[InlineKeyboardButton(plain(r.language, "button.open_poll"), url=link)]])
    return True


async def priority_close(r: Rendering) -> bool:
    round_ = await r.session.get(PriorityRound, r.event.subject_id)
    if round_ is None:
        return False
    r.out.text = ranking_text(r.language, await ranking(r.session, round_), await participants(r.session, round_))
    return True


async def date_poll_close(r: Rendering) -> bool:
    """/quand's outcome, in reply to the dates' message: the date chosen, or none."""
    poll = await r.session.get(DatePoll, r.event.subject_id)
    if poll is None:
        return False
    meeting = await r.session.get(Meeting, poll.meeting_id) if poll.meeting_id else None
    counts = await date_polls.tick_counts(r.session, poll)
    r.out.text = date_poll_outcome(r.language, r.group, poll, meeting, counts)
    r.out.reply_to = poll.message_id
    return True


async def minutes(r: Rendering) -> bool:
    """The published minutes: in the group (pinned when the bot may), or in private to a member
    who did not come; a document is sent again by its file id, the title as its caption."""
    found = await r.session.get(Minutes, r.event.subject_id)
    meeting = await r.session.get(Meeting, found.meeting_id) if found else None
    if found is None or meeting is None:
        return False
    r.out.text = minutes_text(r.language, r.group, meeting, found, private=r.person is not None)
    r.out.document_id, r.out.subject_id = found.file_id, found.id
    r.out.pin = r.person is None
    return True


async def action_reminder(r: Rendering) -> bool:
    action = await r.session.get(ActionItem, r.event.subject_id)
    if action is None or action.status != "open":
        return False
    owner = r.person or (await r.session.get(Person, action.owner_id) if action.owner_id else None)
    name = owner.first_name if owner else plain(r.language, "someone")
    r.out.text = action_reminder_text(r.language, r.group, action, name, private=r.person is not None)
    r.out.markup = action_keyboard(r.language, action)
    return True


async def proposals_digest(r: Rendering) -> bool:
    board = await p.board(r.session, r.group)
    moved = await p.changes_since(r.session, r.group, p.since_default(r.event.due_at))
    r.out.text = proposals_digest_text(r.language, r.group, board, moved)
    url = start_url(r.outbox.bot_username, group_payload(r.outbox.link_secret, r.group.id, PROPOSE))
    r.out.markup = digest_keyboard(r.language, url)
    return True


async def reach_out(r: Rendering) -> bool:
    """In the group: a message waits in private for these facilitators (no detail of what)."""
    waiting = await waiting_for(r.session, r.delivery.event_id)
    if not waiting:
        return False  # they all started the bot since
    named = nameable(waiting, await r.outbox.anonymous(r.group.chat_id))
    if named:
        names = Markup(", ".join(mention(person) for person in named))
        r.out.text = tn(r.group.language, "reach.group", len(named), names=names)
    else:  # anonymous administrators only: the message says who it is for without naming them
        r.out.text = t(r.group.language, "reach.group_unnamed")
    url = start_url(r.outbox.bot_username, group_payload(r.outbox.link_secret, r.group.id))
    r.out.markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(plain(r.group.language, "button.open_private"), url=url)]]
    )
    return True


# ----------------------------------------------------------------------------- memberships
async def _current_term(r: Rendering) -> tuple[Membership, Person] | None:
    """The membership whose term the event was planned for, while that term is still current."""
    found = await membership_in_group(r.session, r.group, r.event.subject_id)
    return found if found is not None and is_current(found[0], r.event.offset_minutes) else None


async def term_ask(r: Rendering) -> bool:
    """To the member: "Voulez-vous continuer ?", with one tap for each answer."""
    if (found := await _current_term(r)) is None:
        return False
    r.out.text, r.out.markup = term_question(r.language, r.group, found[0]), wish_keyboard(r.language, found[0])
    return True


async def term_warn(r: Rendering) -> bool:
    """To the facilitators: a member's term ends in a month; prolong it, or let it end."""
    if (found := await _current_term(r)) is None:
        return False
    membership, member = found
    r.out.text = term_warning(r.language, r.group, member, membership, reachable_in_private(member))
    r.out.markup = decision_keyboard(r.language, membership)
    return True


async def term_ended(r: Rendering) -> bool:
    if (found := await _current_term(r)) is None:
        return False
    membership, member = found
    r.out.text = term_over(r.language, r.group, member, membership)
    r.out.markup = decision_keyboard(r.language, membership, ended=True)
    return True


async def farewell(r: Rendering) -> bool:
    """The thank-you: the group's figures while they were there, the attestation, other groups."""
    found = await membership_in_group(r.session, r.group, r.event.subject_id)
    if found is None:
        return False
    membership, member = found
    facts = await exit_facts(r.session, r.group, membership, r.event.due_at)
    others = await other_groups(r.session, r.group, member)
    contact = r.outbox.membership.other_groups_contact
    r.out.text = farewell_text(r.language, r.group, member, facts, others, contact)
    r.out.markup = farewell_keyboard(r.language, r.group)
    return True


async def member_news(r: Rendering) -> bool:
    """In the group: welcome to the newcomers (with the button that opens the group's card in
    private) and thanks to those who left; never why."""
    arrived, left = await named_in_line(r.session, r.event.id)
    if not arrived and not left:
        return False
    r.out.text = group_line(r.language, arrived, left)
    if arrived:
        url = start_url(r.outbox.bot_username, group_payload(r.outbox.link_secret, r.group.id))
        r.out.markup = discover_keyboard(r.language, url)
    return True


# ----------------------------------------------------------------------------- SMS
async def _number(r: Rendering, *statuses: str) -> str | None:
    """The member's number in this group, when its contact is in one of these states."""
    contact = await sms.contact_of(r.session, r.group, r.recipient)
    return contact.number if contact is not None and contact.status in statuses else None


SMS_SPENT = "relais.sms_spent"  # session.info: the month's SMS counted so far, as (year, month) -> n


async def _spend(r: Rendering) -> bool:
    """One SMS of the month's (`sms.monthly_limit`), if any is left. Counted: those sent this
    month, those in flight from earlier claims (dispatch.py primes it before its claim), and
    those this claim has rendered so far; a wave larger than what is left sends what is left."""
    month = (r.event.due_at.year, r.event.due_at.month)
    spent: dict[tuple[int, int], int] = r.session.info.setdefault(SMS_SPENT, {})
    if month not in spent:
        spent[month] = await sms.sent_this_month(r.session, r.event.due_at)
    if spent[month] >= r.outbox.sms_monthly_limit:
        return False
    spent[month] += 1
    return True


async def sms_consent(r: Rendering) -> bool:
    r.out.sms_to = await _number(r, sms.ASKED)
    r.out.text = sms_ui.consent_text(r.group.language, r.group)
    return r.out.sms_to is not None and await _spend(r)


async def sms_reminder(r: Rendering) -> bool:
    meeting = r.the_meeting
    rsvp = await m.answer_of(r.session, meeting, r.recipient)
    if rsvp is not None and rsvp.answer == "no":
        return False
    r.out.sms_to = await _number(r, sms.ACTIVE)
    r.out.text = sms_ui.reminder_text(r.group.language, r.group, meeting)
    return r.out.sms_to is not None and await _spend(r)


async def sms_reply(r: Rendering) -> bool:
    contact = await sms.contact_of(r.session, r.group, r.recipient)
    if contact is None:
        return False
    r.out.sms_to = contact.number
    r.out.text = sms_ui.reply_text(r.group.language, stopped=contact.status == sms.STOPPED)
    return True


async def sms_limit(r: Rendering) -> bool:
    """The month's SMS are spent: the reminders by SMS stop until the first of the next month;
    the members they would have reached, to phone."""
    names = []
    for contact in await sms.active_contacts(r.session, r.group):
        person = await r.session.get(Person, contact.person_id)
        if person is not None:
            names.append(person.first_name)
    r.out.text = t(r.language, "sms.limit_reached", limit=r.outbox.sms_monthly_limit, names=", ".join(names))
    return bool(names)


async def sms_change(r: Rendering) -> bool:
    """The meeting as it is when the SMS goes: cancelled, or at its new date."""
    meeting = await r.session.get(Meeting, r.event.subject_id)
    if meeting is None:
        return False
    r.out.sms_to = await _number(r, sms.ACTIVE)
    r.out.text = sms_ui.change_text(r.group.language, r.group, meeting)
    return r.out.sms_to is not None and await _spend(r)


# ----------------------------------------------------------------------------- the decision-maker's answer
async def _transmitted(r: Rendering) -> Proposal | None:
    proposal = await r.session.get(Proposal, r.event.subject_id)
    return proposal if answers.still_waiting(proposal, r.event) else None


def _answer_url(r: Rendering, proposal: Proposal) -> str:
    return answer_ui.answer_url(r.outbox.dashboard_url, answers.answer_token(r.outbox.link_secret, proposal))


async def answer_link(r: Rendering) -> bool:
    """To whoever transmitted it: the link to forward (and whether Relais mailed it already)."""
    proposal = await _transmitted(r)
    if proposal is None:
        return False
    addressee = await r.session.get(Addressee, proposal.addressee_id) if proposal.addressee_id else None
    mailed = r.outbox.mail and addressee is not None and bool(addressee.email)
    r.out.text = answer_ui.link_text(r.language, r.group, proposal, _answer_url(r, proposal), mailed)
    return True


async def answer_forward(r: Rendering) -> bool:
    proposal = await _transmitted(r)
    if proposal is None:
        return False
    r.out.text = answer_ui.forward_text(r.language, r.group, proposal, _answer_url(r, proposal))
    return True


async def answer_overdue(r: Rendering) -> bool:
    proposal = await r.session.get(Proposal, r.event.subject_id)
    if proposal is None or proposal.answered_at is not None or proposal.state != "sent":
        return False  # answered meanwhile: the group reads the answer instead
    r.out.text = answer_ui.overdue_group_text(r.language, proposal)
    return True


async def answer_overdue_report(r: Rendering) -> bool:
    proposal = await r.session.get(Proposal, r.event.subject_id)
    if proposal is None or proposal.answered_at is not None or proposal.state != "sent":
        return False
    r.out.text = answer_ui.overdue_report_text(r.language, r.group, proposal)
    return True

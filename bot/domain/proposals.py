"""Domain rules for proposals: submission, editing, merging, withdrawal, and the follow-up ("le
suivi") from nouvelle to réalisée, with the history that feeds the digest and the indicators."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import answers
from bot.domain.dates import normalise
from bot.domain.errors import RefusalError, folded_text
from bot.domain.events import EventKind, subject_event
from bot.domain.groups import next_number
from bot.domain.meetings import at_reminder_time
from bot.domain.settings import MeetingsSection, ProposalsSection
from storage.models import (
    ActionItem,
    Group,
    Meeting,
    Person,
    Poll,
    PollVote,
    PriorityPick,
    Proposal,
    ProposalChange,
    ProposalFollower,
    ScheduledEvent,
)

log = logging.getLogger(__name__)

# The follow-up, in the field's order. not_adopted is a vote's outcome; withdrawn and merged are
# facilitators' decisions outside the follow-up.
STATES = (
    "new",
    "adopted",
    "not_adopted",
    "sent",
    "studying",
    "accepted",
    "refused",
    "in_progress",
    "done",
    "withdrawn",
    "merged",
)
FOLLOW_UP = ("new", "adopted", "not_adopted", "sent", "studying", "accepted", "refused", "in_progress", "done")
# How far along the follow-up a state is: a merge keeps the further one (a "non retenue" duplicate
# does not pull its twin back).
RANK = {"adopted": 1, "sent": 2, "studying": 3, "accepted": 4, "refused": 4, "in_progress": 5, "done": 6}
OPEN = ("new", "adopted")  # what a priority round offers
GONE = ("withdrawn", "merged")  # no longer on the board
TRANSMITTED = ("sent", "studying", "accepted", "refused", "in_progress", "done")
TAKEN_INTO_ACCOUNT = ("accepted", "in_progress", "done")
NOTE_REQUIRED = {"sent": "suivi.error.to_whom", "refused": "suivi.error.reason", "withdrawn": "proposal.error.reason"}
NOTE_MAX = 300
NUMBER_RE = re.compile(r"^(?:n°|no|n|#)?\s*(\d{1,6})$", re.IGNORECASE)
PROGRESS_RE = re.compile(r"(?<!\d)(\d{1,3})\s*%")

# What facilitators type after the number in /suivi, accents and case ignored; longest first.
STATE_WORDS = {
    "non retenue": "not_adopted",
    "non retenu": "not_adopted",
    "a l'etude": "studying",
    "a letude": "studying",
    "en cours": "in_progress",
    "nouvelle": "new",
    "nouveau": "new",
    "retenue": "adopted",
    "retenu": "adopted",
    "transmise": "sent",
    "transmis": "sent",
    "etude": "studying",
    "acceptee": "accepted",
    "accepte": "accepted",
    "refusee": "refused",
    "refuse": "refused",
    "realisee": "done",
    "realise": "done",
}

PROPOSAL_NEWS = EventKind.PROPOSAL_NEWS  # private notices of a change, to the author and followers
PROPOSALS_DIGEST = EventKind.PROPOSALS_DIGEST  # monthly, in the group


class ProposalError(RefusalError):
    """A refusal with the message key that explains it."""


def parse_number(token: str) -> int | None:
    match = NUMBER_RE.match(token.strip())
    return int(match.group(1)) if match else None


def validate_text(text: str, limit: int) -> str:
    return folded_text(text, limit, "proposal.error.empty", "proposal.error.long", ProposalError)


def validate_note(note: str | None) -> str | None:
    return folded_text(note or "", NOTE_MAX, None, "suivi.error.note_long", ProposalError) or None


@dataclass(frozen=True)
class StateChange:
    """What `/suivi 12 transmise Commission insertion` asks: a state, a note, a progress."""

    number: int
    state: str
    note: str | None = None
    progress: int | None = None


def parse_state(text: str) -> tuple[str, str]:
    """'transmise à la commission' -> ('sent', 'à la commission'); the note keeps its accents."""
    words = text.split()
    for size in (3, 2, 1):
        if len(words) < size:
            continue
        head = normalise(" ".join(words[:size]))
        # A word that normalises to nothing (a lone accent) is part of the note, not the state.
        if head in STATE_WORDS and len(head.split()) == size:
            rest = " ".join(words[size:])
            return STATE_WORDS[head], rest
    raise ProposalError("suivi.error.state", word=(words[0] if words else "")[:30])


def parse_follow_up(text: str) -> StateChange:
    """The arguments of /suivi: '12 en cours 40%', '12 refusée trop coûteux'. Raises ProposalError."""
    parts = text.split(maxsplit=1)
    if not parts:
        raise ProposalError("suivi.error.form")
    number = parse_number(parts[0])
    if number is None:
        raise ProposalError("proposal.error.number", token=parts[0][:20])
    if len(parts) < 2:
        raise ProposalError("suivi.error.form")
    state, rest = parse_state(parts[1])
    progress = None
    if state == "in_progress" and (match := PROGRESS_RE.search(rest)):
        progress = int(match.group(1))
        if progress > 100:
            raise ProposalError("suivi.error.progress")
        rest = (rest[: match.start()] + rest[match.end() :]).strip()
    rest = rest.lstrip(" :-–—").strip()
    # "transmise à la commission": the note is who it went to; keep it as written.
    return StateChange(number=number, state=state, note=validate_note(rest), progress=progress)


# ----------------------------------------------------------------------------- proposals
async def create_proposal(
    session: AsyncSession,
    group: Group,
    author: Person | None,
    text: str,
    now: datetime,
    settings: ProposalsSection,
    meetings: MeetingsSection,
) -> tuple[Proposal, ScheduledEvent]:
    """Record a proposal (numbered per group) and make sure the group's monthly digest is
    planned; returns both, the digest for the scheduler."""
    text = validate_text(text, settings.text_max)
    number = await next_number(session, group, "next_proposal_number")
    proposal = Proposal(
        group_id=group.id,
        number=number,
        text=text,
        author_id=author.id if author else None,
        state="new",
        created_at=now,
        state_changed_at=now,
    )
    session.add(proposal)
    await session.flush()
    session.add(ProposalChange(proposal_id=proposal.id, state="new", by_id=author.id if author else None, at=now))
    digest = await ensure_digest(session, group, now, settings, meetings)
    log.info("proposal %s (n°%s) created in group %s", proposal.id, number, group.id)
    return proposal, digest


def opened(creator: Person | None, now: datetime, closes: datetime) -> dict[str, object]:
    """What a poll and a priority round record when they open: who, when, until when."""
    return {"created_by_id": creator.id if creator else None, "created_at": now, "closes_at": closes, "status": "open"}


async def find_proposal(session: AsyncSession, group: Group, number: int) -> Proposal | None:
    return await session.scalar(select(Proposal).where(Proposal.group_id == group.id, Proposal.number == number))


async def require_proposal(session: AsyncSession, group: Group, number: int, live: bool = True) -> Proposal:
    """The group's proposal n°`number`; one withdrawn or merged counts as unknown when `live`."""
    proposal = await find_proposal(session, group, number)
    if proposal is None:
        raise ProposalError("proposal.error.unknown", number=number)
    if live and proposal.state in GONE:
        raise ProposalError("proposal.error.gone", number=number)
    return proposal


async def numbered(
    session: AsyncSession, group: Group, args: str, form: str, text_required: bool = False
) -> tuple[Proposal, str]:
    """'12 the rest': the group's live proposal n°12 and the rest; the refusal `form` when the
    number (or a required rest) is missing."""
    head, _, rest = args.partition(" ")
    number = parse_number(head) if head else None
    if number is None or (text_required and not rest.strip()):
        raise ProposalError(form)
    return await require_proposal(session, group, number), rest


async def edit_proposal(session: AsyncSession, proposal: Proposal, text: str, settings: ProposalsSection) -> None:
    proposal.text = validate_text(text, settings.text_max)
    log.info("proposal %s edited", proposal.id)


async def change_state(
    session: AsyncSession,
    proposal: Proposal,
    state: str,
    note: str | None,
    progress: int | None,
    by: Person | None,
    now: datetime,
    settings: ProposalsSection | None = None,
) -> ProposalChange:
    """Move a proposal in the follow-up. RefusalError needs a reason, transmission a recipient.
    Transmitted (`settings` given): the answer's deadline starts ("délai 30 jours" in the note
    sets it; bot/domain/answers.py)."""
    if state not in STATES:
        raise ProposalError("suivi.error.state", word=state)
    if proposal.state in GONE:
        raise ProposalError("proposal.error.gone", number=proposal.number)
    days = None
    if state == "sent":
        note, days = answers.split_deadline(note)
    note = validate_note(note)
    if state in NOTE_REQUIRED and not note:
        raise ProposalError(NOTE_REQUIRED[state], number=proposal.number)
    if progress is not None and not 0 <= progress <= 100:
        raise ProposalError("suivi.error.progress")
    if state == proposal.state and progress == proposal.progress and note == proposal.state_note:
        raise ProposalError("suivi.error.same", number=proposal.number)
    proposal.state, proposal.state_note, proposal.state_changed_at = state, note, now
    proposal.progress = progress if state == "in_progress" else (100 if state == "done" else None)
    change = ProposalChange(
        proposal_id=proposal.id, state=state, note=note, progress=proposal.progress, by_id=by.id if by else None, at=now
    )
    session.add(change)
    if state == "sent" and note and settings is not None:
        await answers.transmitted(
            session, proposal, note, days or settings.answer_days, settings.answer_reminder_days, now
        )
    elif state in answers.ANSWERED and proposal.transmitted_at is not None and proposal.answered_at is None:
        proposal.answered_at = now  # an answer the facilitator records (given by phone, by letter)
    await session.flush()
    log.info("proposal %s moved to %s", proposal.id, state)
    return change


async def withdraw(
    session: AsyncSession, proposal: Proposal, reason: str | None, by: Person | None, now: datetime
) -> ProposalChange:
    return await change_state(session, proposal, "withdrawn", reason, None, by, now)


async def merge(
    session: AsyncSession, source: Proposal, target: Proposal, by: Person | None, now: datetime
) -> ProposalChange:
    """Fold a duplicate into another proposal: its followers, author, priority picks and polls
    carry over; the target keeps the further of the two states in the follow-up."""
    if source.id == target.id:
        raise ProposalError("proposal.error.merge_self")
    if target.state in GONE:
        raise ProposalError("proposal.error.gone", number=target.number)
    follower_ids = set(
        await session.scalars(
            select(ProposalFollower.person_id).where(ProposalFollower.proposal_id.in_((source.id, target.id)))
        )
    )
    follower_ids |= {person_id for person_id in (source.author_id,) if person_id and person_id != target.author_id}
    await session.execute(delete(ProposalFollower).where(ProposalFollower.proposal_id == source.id))
    existing = set(
        await session.scalars(select(ProposalFollower.person_id).where(ProposalFollower.proposal_id == target.id))
    )
    for person_id in follower_ids - existing:
        session.add(ProposalFollower(proposal_id=target.id, person_id=person_id))
    # A member who picked both keeps one pick; the others move to the target.
    picks = list(await session.scalars(select(PriorityPick).where(PriorityPick.proposal_id == source.id)))
    for pick in picks:
        clash = await session.scalar(
            select(PriorityPick.id).where(
                PriorityPick.round_id == pick.round_id,
                PriorityPick.person_id == pick.person_id,
                PriorityPick.proposal_id == target.id,
            )
        )
        if clash is None:
            pick.proposal_id = target.id
        else:
            await session.delete(pick)
    # Polls about the duplicate now count for the target.
    await session.execute(update(Poll).where(Poll.proposal_id == source.id).values(proposal_id=target.id))
    if RANK.get(source.state, 0) > RANK.get(target.state, 0):
        target.state, target.state_note, target.progress, target.state_changed_at = (
            source.state,
            source.state_note,
            source.progress,
            now,
        )
    source.merged_into_id = target.id
    change = await change_state(session, source, "merged", f"n°{target.number}", None, by, now)
    log.info("proposal %s merged into %s", source.id, target.id)
    return change


# ----------------------------------------------------------------------------- followers
async def toggle_follow(session: AsyncSession, proposal: Proposal, person: Person) -> bool:
    """Follow, or stop following; returns whether the person now follows."""
    found = await session.scalar(
        select(ProposalFollower).where(
            ProposalFollower.proposal_id == proposal.id, ProposalFollower.person_id == person.id
        )
    )
    if found is not None:
        await session.delete(found)
        return False
    session.add(ProposalFollower(proposal_id=proposal.id, person_id=person.id))
    await session.flush()
    return True


async def news_recipients(session: AsyncSession, change: ProposalChange) -> list[Person]:
    """The author and the followers, except whoever made the change and people known to be
    unreachable in private (someone who never started the bot is tried: they asked to follow)."""
    proposal = await session.get(Proposal, change.proposal_id)
    if proposal is None:
        return []
    # A merged duplicate's followers now follow the proposal it joined.
    followed = proposal.merged_into_id if change.state == "merged" and proposal.merged_into_id else proposal.id
    ids = set(await session.scalars(select(ProposalFollower.person_id).where(ProposalFollower.proposal_id == followed)))
    if proposal.author_id:
        ids.add(proposal.author_id)
    ids.discard(change.by_id)
    if not ids:
        return []
    return list(
        await session.scalars(
            select(Person)
            .where(Person.id.in_(ids), Person.private_status != "unreachable", Person.private_paused.is_(False))
            .order_by(Person.id)
        )
    )


async def plan_news(session: AsyncSession, group: Group, change: ProposalChange, now: datetime) -> datetime:
    """The change goes to the author and followers in private, through the outbox, now."""
    session.add(news_event(group, change, now))
    await session.flush()
    return now


def news_event(group: Group, change: ProposalChange, now: datetime) -> ScheduledEvent:
    """The outbox row that sends a change privately to the author and followers."""
    return subject_event(group.id, PROPOSAL_NEWS, change.id, now)


# ----------------------------------------------------------------------------- board and digest
async def board(session: AsyncSession, group: Group) -> dict[str, list[Proposal]]:
    """Live proposals by state, in the follow-up's order."""
    rows = await session.scalars(
        select(Proposal).where(Proposal.group_id == group.id, Proposal.state.not_in(GONE)).order_by(Proposal.number)
    )
    found: dict[str, list[Proposal]] = {state: [] for state in FOLLOW_UP}
    for proposal in rows:
        found[proposal.state].append(proposal)
    return {state: items for state, items in found.items() if items}


BOARD_PAGE = 20  # proposals a page on the dashboard's board (each comes with its own form)


@dataclass
class BoardPage:
    counts: dict[str, int]  # live proposals by state, in the follow-up's order
    proposals: list[Proposal]  # this page's, of the state asked (all live ones when none)
    page: int
    pages: int


async def board_page(session: AsyncSession, group: Group, state: str = "", page: int = 1) -> BoardPage:
    """One page of the board, by state, counted and chosen in the database: two years of
    proposals cost what one month does."""
    live = (Proposal.group_id == group.id, Proposal.state.not_in(GONE))
    rows = await session.execute(select(Proposal.state, func.count()).where(*live).group_by(Proposal.state))
    by_state: dict[str, int] = {}
    for name, count in rows:
        by_state[name] = int(count)
    counts = {name: by_state[name] for name in FOLLOW_UP if by_state.get(name)}
    shown = (*live, Proposal.state == state) if state in counts else live
    total = counts.get(state, 0) if state in counts else sum(counts.values())
    pages = max(1, -(-total // BOARD_PAGE))
    page = min(max(1, page), pages)
    chosen = await session.scalars(
        select(Proposal).where(*shown).order_by(Proposal.number).offset((page - 1) * BOARD_PAGE).limit(BOARD_PAGE)
    )
    return BoardPage(counts, list(chosen), page, pages)


async def open_proposals(session: AsyncSession, group: Group, limit: int = 30) -> list[Proposal]:
    return list(
        await session.scalars(
            select(Proposal)
            .where(Proposal.group_id == group.id, Proposal.state.in_(OPEN))
            .order_by(Proposal.number)
            .limit(limit)
        )
    )


async def changes_since(session: AsyncSession, group: Group, since: datetime) -> list[Proposal]:
    """Proposals whose follow-up moved since `since` (creation does not count), by number."""
    return list(
        await session.scalars(
            select(Proposal)
            .where(
                Proposal.group_id == group.id, Proposal.state.not_in(("new", *GONE)), Proposal.state_changed_at > since
            )
            .order_by(Proposal.number)
        )
    )


async def last_meeting_before(session: AsyncSession, group_id: int, moment: datetime) -> Meeting | None:
    return await session.scalar(
        select(Meeting)
        .where(Meeting.group_id == group_id, Meeting.status == "scheduled", Meeting.starts_at < moment)
        .order_by(Meeting.starts_at.desc())
        .limit(1)
    )


def next_digest_due(group: Group, now: datetime, settings: ProposalsSection, meetings: MeetingsSection) -> datetime:
    """The next digest_day of a month at the reminder time, in the group's zone."""
    zone = ZoneInfo(group.timezone)
    local = now.astimezone(zone)
    year, month = local.year, local.month
    while True:
        candidate = at_reminder_time(date(year, month, settings.digest_day), zone, meetings)
        if candidate > now:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


async def ensure_digest(
    session: AsyncSession, group: Group, now: datetime, settings: ProposalsSection, meetings: MeetingsSection
) -> ScheduledEvent:
    """The group's next monthly digest, once (the unique key is the month)."""
    due = next_digest_due(group, now, settings, meetings)
    local = due.astimezone(ZoneInfo(group.timezone))
    month_key = local.year * 100 + local.month
    existing = await session.scalar(
        select(ScheduledEvent).where(
            ScheduledEvent.kind == PROPOSALS_DIGEST,
            ScheduledEvent.subject_id == group.id,
            ScheduledEvent.offset_minutes == month_key,
        )
    )
    if existing is not None:
        return existing
    event = subject_event(group.id, PROPOSALS_DIGEST, group.id, due, month_key)
    session.add(event)
    await session.flush()
    return event


# ----------------------------------------------------------------------------- indicators
@dataclass
class Indicators:
    """What the guide asks facilitators to report: proposals per state, the share taken into
    account by the institution, the group's contributions (totals: the members reject anything
    that looks like a score per person), and the attendance rate."""

    by_state: dict[str, int] = field(default_factory=dict)
    transmitted: int = 0
    taken_into_account: int = 0
    proposals_made: int = 0
    votes_cast: int = 0
    actions_done: int = 0
    meetings_recorded: int = 0
    attendance_rate: int | None = None

    @property
    def taken_rate(self) -> int | None:
        return taken_into_account_rate(self.by_state)


def transmitted_and_taken(by_state: dict[str, int]) -> tuple[int, int]:
    """Of proposals counted by state: how many were transmitted, and how many of those were taken
    into account (accepted, in progress or realised)."""
    transmitted = sum(count for state, count in by_state.items() if state in TRANSMITTED)
    taken = sum(count for state, count in by_state.items() if state in TAKEN_INTO_ACCOUNT)
    return transmitted, taken


def taken_into_account_rate(by_state: dict[str, int]) -> int | None:
    """Le taux de propositions prises en compte: taken into account over transmitted, in percent
    (None when none was transmitted)."""
    transmitted, taken = transmitted_and_taken(by_state)
    return round(100 * taken / transmitted) if transmitted else None


@dataclass(frozen=True)
class Contributions:
    """Le nombre de contributions du groupe: totals, never per person."""

    proposals: int
    votes: int
    actions_done: int


async def contributions(
    session: AsyncSession, group: Group, start: datetime | None = None, end: datetime | None = None
) -> Contributions:
    """Proposals made, votes cast (non-anonymous polls) and actions done, all time or in [start, end)."""

    def within(column: Any) -> list[Any]:
        return [column >= start, column < end] if start is not None and end is not None else []

    proposals = await session.scalar(
        select(func.count()).where(Proposal.group_id == group.id, *within(Proposal.created_at))
    )
    votes = await session.scalar(
        select(func.count())
        .select_from(PollVote)
        .join(Poll, Poll.id == PollVote.poll_id)
        .where(Poll.group_id == group.id, *within(PollVote.voted_at))
    )
    actions = await session.scalar(
        select(func.count()).where(
            ActionItem.group_id == group.id, ActionItem.status == "done", *within(ActionItem.done_at)
        )
    )
    return Contributions(proposals or 0, votes or 0, actions or 0)


async def indicators(session: AsyncSession, group: Group) -> Indicators:
    result = Indicators()
    rows = await session.execute(
        select(Proposal.state, func.count())
        .where(Proposal.group_id == group.id, Proposal.state.not_in(GONE))
        .group_by(Proposal.state)
    )
    result.by_state = dict(rows.all())
    result.transmitted, result.taken_into_account = transmitted_and_taken(result.by_state)
    made = await contributions(session, group)
    result.proposals_made, result.votes_cast, result.actions_done = made.proposals, made.votes, made.actions_done
    rates = [
        rate
        for rate in await session.scalars(
            select(Meeting.attendance_rate).where(Meeting.group_id == group.id, Meeting.attendance_rate.is_not(None))
        )
        if rate is not None
    ]
    result.meetings_recorded = len(rates)
    result.attendance_rate = round(sum(rates) / len(rates)) if rates else None
    return result


def since_default(now: datetime) -> datetime:
    """Without a previous meeting, "since the last meeting" means the last month."""
    return now - timedelta(days=31)

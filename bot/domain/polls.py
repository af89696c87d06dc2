"""Domain rules for quick polls (/sondage) and proposal votes (/vote): reading the commands,
recording votes from poll updates, the reminder to non-voters, and the outcome at the deadline."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.dates import normalise, parse_duration, parse_until
from bot.domain.events import EventKind, subject_event
from bot.domain.people import electorate_size, known_members
from bot.domain.proposals import ProposalError, change_state, find_proposal, opened, parse_number
from bot.domain.settings import ProposalsSection
from storage.db import UpsertPerDialect, get_row, table_of
from storage.models import Group, Meeting, Membership, Person, Poll, PollVote, Proposal, ProposalChange

EVALUATION_OPEN = timedelta(days=2)  # how long the evaluation poll stays open (Telegram's open_period)

log = logging.getLogger(__name__)

QUESTION_MAX = 300  # Telegram's limits for sendPoll
OPTION_MAX = 100
OPTIONS_MIN, OPTIONS_MAX = 2, 12
SHORTEST = timedelta(minutes=1)  # a quick vote in the room (Telegram itself allows 5 seconds)
LONGEST = timedelta(days=30)
QUICK = timedelta(hours=1)  # a vote shorter than this is run in the room: no reminder in private
VOTE_OPTIONS = ("vote.option_for", "vote.option_against", "vote.option_unsure")
# Phones turn "--" into a dash; all spellings mean the same.
ANONYMOUS_FLAGS = {"--anonyme", "—anonyme", "–anonyme", "-anonyme", "--anonymous"}
_DEADLINE_RE = re.compile(r"^jusqu'?\s*(?:a|au|aux)\b\s*(.*)$")
_FOR_RE = re.compile(r"^(?:pendant|durant|pour)\s+(.*)$")
_CLOCK_RE = re.compile(r"^\d{1,2}\s*h\s*(\d{2})?$")
FOR = "pendant "  # how a deadline given as a duration is kept in PollSpec.deadline

POLL_REMINDER = EventKind.POLL_REMINDER
POLL_CLOSE = EventKind.POLL_CLOSE


@dataclass(frozen=True)
class PollSpec:
    question: str
    options: tuple[str, ...]
    anonymous: bool
    deadline: str | None  # "vendredi 18h" (after "jusqu'à") or "pendant 5 min", read when used


@dataclass(frozen=True)
class VoteSpec:
    number: int
    anonymous: bool
    deadline: str | None


def _take_flag(text: str) -> tuple[str, bool]:
    tokens = text.split(" ")
    kept = [token for token in tokens if token.lower() not in ANONYMOUS_FLAGS]
    return " ".join(kept), len(kept) != len(tokens)


def deadline_text(segment: str, bare_duration: bool = True) -> str | None:
    """The deadline a segment gives, or None when it gives none:
    "jusqu'à vendredi 18h" -> "vendredi 18h"; "pendant 5 min" and (when `bare_duration`) "5 min"
    -> "pendant 5 min". A poll's last choice may well be "10 minutes": there, only "pendant" says
    it is a duration."""
    cleaned = normalise(segment)
    if match := _DEADLINE_RE.match(cleaned):
        return match.group(1)
    if match := _FOR_RE.match(cleaned):
        return FOR + match.group(1)
    if bare_duration and parse_duration(cleaned) is not None:
        # "18h" alone is a time of day, not eighteen hours: "jusqu'à 18h" is what people mean.
        return cleaned if _CLOCK_RE.match(cleaned) else FOR + cleaned
    return None


def parse_poll(text: str) -> PollSpec:
    """'Question ? | A | B [| jusqu'à demain 12h]' with an optional --anonyme. Raises ProposalError."""
    text, anonymous = _take_flag(" ".join(text.replace("\n", " ").split(" ")))
    segments = [segment.strip() for segment in text.split("|")]
    deadline = None
    if len(segments) > 1 and (found := deadline_text(segments[-1], bare_duration=False)) is not None:
        deadline = found
        segments = segments[:-1]
    question, options = " ".join(segments[0].split()), [" ".join(option.split()) for option in segments[1:]]
    if not question or not options:
        raise ProposalError("poll.error.form")
    if len(question) > QUESTION_MAX:
        raise ProposalError("poll.error.question_long", limit=QUESTION_MAX, length=len(question))
    if not OPTIONS_MIN <= len(options) <= OPTIONS_MAX:
        raise ProposalError("poll.error.options_count", count=len(options), low=OPTIONS_MIN, high=OPTIONS_MAX)
    for index, option in enumerate(options, start=1):
        if not option:
            raise ProposalError("poll.error.option_empty", index=index)
        if len(option) > OPTION_MAX:
            raise ProposalError("poll.error.option_long", index=index, limit=OPTION_MAX, length=len(option))
    if len({option.casefold() for option in options}) != len(options):
        raise ProposalError("poll.error.duplicate")
    return PollSpec(question=question, options=tuple(options), anonymous=anonymous, deadline=deadline)


def parse_vote(text: str) -> VoteSpec:
    """'12 [--anonyme] [jusqu'à vendredi 18h | pendant 5 min | 10 minutes]'. Raises ProposalError."""
    text, anonymous = _take_flag(" ".join(text.split()))
    head, _, rest = text.strip().partition(" ")
    number = parse_number(head) if head else None
    if number is None:
        raise ProposalError("vote.error.form")
    rest = rest.strip()
    deadline = deadline_text(rest) if rest else None
    if rest and deadline is None:
        raise ProposalError("vote.error.form")
    return VoteSpec(number=number, anonymous=anonymous, deadline=deadline)


def closing_time(deadline: str | None, now: datetime, zone: ZoneInfo, settings: ProposalsSection) -> datetime:
    """When a poll closes: the deadline written, or the default duration. Raises DateError or ProposalError."""
    if not deadline:
        return now + timedelta(hours=settings.poll_hours)
    if deadline.startswith(FOR):
        duration = parse_duration(deadline.removeprefix(FOR))
        if duration is None:
            raise ProposalError("poll.error.duration")
        closes = now + duration
    else:
        closes = parse_until(deadline, now, zone)
    if closes - now < SHORTEST:
        raise ProposalError("poll.error.deadline_soon")
    if closes - now > LONGEST:
        raise ProposalError("poll.error.deadline_far", days=LONGEST.days)
    return closes


def reminder_time(created: datetime, closes: datetime, settings: ProposalsSection) -> datetime:
    """poll_reminder_hours before the deadline, or half-way for a short poll."""
    return max(closes - timedelta(hours=settings.poll_reminder_hours), created + (closes - created) / 2)


async def votable_proposal(session: AsyncSession, group: Group, number: int) -> Proposal:
    """A proposal the group can vote on: new, or not retained and put back to the vote; no
    other poll on it open."""
    proposal = await find_proposal(session, group, number)
    if proposal is None:
        raise ProposalError("proposal.error.unknown", number=number)
    if proposal.state not in ("new", "not_adopted"):
        raise ProposalError("vote.error.state", number=number)
    running = await session.scalar(select(Poll.id).where(Poll.proposal_id == proposal.id, Poll.status == "open"))
    if running is not None:
        raise ProposalError("vote.error.running", number=number)
    return proposal


async def record_poll(
    session: AsyncSession,
    group: Group,
    telegram_poll_id: str,
    message_id: int,
    question: str,
    options: list[str],
    anonymous: bool,
    proposal: Proposal | None,
    creator: Person | None,
    now: datetime,
    closes: datetime,
    remind: datetime,
) -> tuple[Poll, list[datetime]]:
    """Store a poll Telegram accepted, with its reminder (`reminder_time`) and closing; returns
    the due times."""
    poll = Poll(
        group_id=group.id,
        telegram_poll_id=telegram_poll_id,
        message_id=message_id,
        question=question,
        options=json.dumps(options, ensure_ascii=False),
        counts=json.dumps([0] * len(options)),
        voters=0,
        anonymous=anonymous,
        proposal_id=proposal.id if proposal else None,
        **opened(creator, now, closes),
    )
    session.add(poll)
    await session.flush()
    moments = [closes]
    session.add(subject_event(group.id, POLL_CLOSE, poll.id, closes))
    if remind > now and closes - now >= QUICK:
        session.add(subject_event(group.id, POLL_REMINDER, poll.id, remind))
        moments.append(remind)
    await session.flush()
    log.info("poll %s opened in group %s", poll.id, group.id)
    return poll, moments


async def find_poll(session: AsyncSession, telegram_poll_id: str) -> Poll | None:
    return await session.scalar(_BY_TELEGRAM_ID, {"b_poll": telegram_poll_id})


async def find_poll_and_group(session: AsyncSession, telegram_poll_id: str) -> tuple[Poll, Group] | None:
    """The poll and its group in one query (every vote needs both)."""
    found = (await session.execute(_WITH_GROUP, {"b_poll": telegram_poll_id})).first()
    return (found[0], found[1]) if found else None


# Built once: every vote and every new count runs one.
_BY_TELEGRAM_ID = select(Poll).where(Poll.telegram_poll_id == bindparam("b_poll"))
_WITH_GROUP = (
    select(Poll, Group).join(Group, Group.id == Poll.group_id).where(Poll.telegram_poll_id == bindparam("b_poll"))
)


async def record_counts(session: AsyncSession, telegram_poll_id: str, counts: list[int], voters: int) -> Poll | None:
    """A `poll` update: the counts per option (the only record an anonymous poll has)."""
    poll = await find_poll(session, telegram_poll_id)
    if poll is None or poll.status != "open" or len(counts) != len(json.loads(poll.options)):
        return None
    poll.counts, poll.voters = json.dumps(counts), voters
    return poll


async def record_vote(session: AsyncSession, poll: Poll, person: Person, option_ids: list[int], now: datetime) -> None:
    """A `poll_answer` update: who voted (non-anonymous polls); no options means the vote was taken back."""
    if poll.status != "open":
        return
    values = {"b_poll_id": poll.id, "b_person_id": person.id}
    if not option_ids:
        await session.execute(_VOTE_TAKEN_BACK, values)
        return
    choice = ",".join(str(index) for index in option_ids)[:64]
    await session.execute(_VOTE(session), values | {"b_options": choice, "b_now": now})


_POLL_VOTE = table_of(PollVote)  # plain SQL: no vote is loaded in the update's session


def _vote(insert: Any) -> Any:
    first = insert(_POLL_VOTE).values(
        poll_id=bindparam("b_poll_id"),
        person_id=bindparam("b_person_id"),
        option_ids=bindparam("b_options"),
        voted_at=bindparam("b_now"),
    )
    return first.on_conflict_do_update(
        index_elements=["poll_id", "person_id"],
        set_={"option_ids": first.excluded.option_ids, "voted_at": first.excluded.voted_at},
    )


# Built once: every vote runs one. A first or changed vote in one statement (a changed vote can
# arrive while the first one is being recorded: the second waits for the first's row).
_VOTE = UpsertPerDialect(_vote)
_VOTE_TAKEN_BACK = delete(_POLL_VOTE).where(
    _POLL_VOTE.c.poll_id == bindparam("b_poll_id"), _POLL_VOTE.c.person_id == bindparam("b_person_id")
)


async def electorate(session: AsyncSession, poll: Poll) -> int:
    """Who could vote, for the participation rate and the quorum: the group's members as Telegram
    counts them (people there before Relais included), never fewer than Relais knows nor than the
    voters."""
    group = await get_row(session, Group, poll.group_id)
    return max(electorate_size(await known_members(session, group), group), poll.voters)


async def non_voters(session: AsyncSession, poll: Poll) -> list[Person]:
    """Members who can be written to in private and have not voted (non-anonymous polls only)."""
    voted = select(PollVote.person_id).where(PollVote.poll_id == poll.id)
    return list(
        await session.scalars(
            select(Person)
            .join(Membership, Membership.person_id == Person.id)
            .where(
                Membership.group_id == poll.group_id,
                Membership.status == "member",
                Person.private_status == "started",
                Person.private_paused.is_(False),
                Person.id.not_in(voted),
            )
            .order_by(Person.id)
        )
    )


@dataclass
class PollResult:
    poll: Poll
    options: list[str]
    counts: list[int]
    voters: int
    members: int
    outcome: str  # adopted | not_adopted | no_quorum | option:<i> | tie | none
    winners: list[int]
    proposal: Proposal | None = None
    change: ProposalChange | None = None


async def close_poll(session: AsyncSession, poll: Poll, group: Group, now: datetime) -> PollResult:
    """Close at the deadline with the counts Telegram reported; a proposal vote decides its
    state by the group's rule: a simple majority of votes cast (Pour against Contre; "Je ne sais
    pas" is counted for participation only), once the quorum of members is reached."""
    options, counts = json.loads(poll.options), json.loads(poll.counts)
    members = await electorate(session, poll)
    poll.status, poll.closed_at = "closed", now
    result = PollResult(
        poll=poll, options=options, counts=counts, voters=poll.voters, members=members, outcome="none", winners=[]
    )
    if poll.proposal_id is not None:
        proposal = await session.get(Proposal, poll.proposal_id)
        result.proposal = proposal
        quorum_met = group.quorum_percent == 0 or (members and 100 * poll.voters >= group.quorum_percent * members)
        if not quorum_met:
            result.outcome = "no_quorum"
        else:
            result.outcome = "adopted" if counts[0] > counts[1] else "not_adopted"
            if proposal is not None and proposal.state in ("new", "not_adopted") and proposal.state != result.outcome:
                result.change = await change_state(session, proposal, result.outcome, None, None, None, now)
    elif poll.voters:
        best = max(counts)
        result.winners = [index for index, count in enumerate(counts) if count == best]
        result.outcome = f"option:{result.winners[0]}" if len(result.winners) == 1 else "tie"
    poll.outcome = result.outcome
    log.info("poll %s closed: %s", poll.id, result.outcome)
    return result


QUORUM_MAX = 100


def set_quorum(group: Group, value: str) -> None:
    """/quorum 50: a proposal vote counts only when half the members voted; 0: no quorum."""
    if not value.isdigit() or int(value) > QUORUM_MAX:
        raise ProposalError("quorum.error")
    group.quorum_percent = int(value)


@dataclass(frozen=True)
class PollDraft:
    """A poll asked for in an update, recorded once Telegram has it (its id names the votes)."""

    group_id: int
    question: str
    options: tuple[str, ...]
    anonymous: bool
    proposal_id: int | None
    creator_id: int | None
    opened_at: datetime
    closes: datetime
    remind: datetime  # the reminder to vote (`reminder_time`)


async def record_sent(
    session: AsyncSession, draft: PollDraft, telegram_poll_id: str, message_id: int
) -> list[datetime]:
    """Store a poll Telegram accepted (see record_poll); returns the due times to wake at."""
    group = await session.get(Group, draft.group_id)
    if group is None:
        return []
    proposal = await session.get(Proposal, draft.proposal_id) if draft.proposal_id is not None else None
    creator = await session.get(Person, draft.creator_id) if draft.creator_id is not None else None
    _, moments = await record_poll(
        session,
        group,
        telegram_poll_id,
        message_id,
        draft.question,
        list(draft.options),
        draft.anonymous,
        proposal,
        creator,
        draft.opened_at,
        draft.closes,
        draft.remind,
    )
    return moments


async def record_evaluation_poll(
    session: AsyncSession,
    meeting: Meeting,
    telegram_poll_id: str,
    message_id: int,
    question: str,
    options: list[str],
    now: datetime,
) -> None:
    """The evaluation poll sent the day after a meeting: kept so that the counts Telegram reports
    (it is anonymous: counts are all there is) become the meeting's evaluation in the reports."""
    session.add(
        Poll(
            group_id=meeting.group_id,
            telegram_poll_id=telegram_poll_id,
            message_id=message_id,
            question=question[:300],
            options=json.dumps(options),
            counts=json.dumps([0] * len(options)),
            voters=0,
            anonymous=True,
            meeting_id=meeting.id,
            created_at=now,
            closes_at=now + EVALUATION_OPEN,
            status="open",
        )
    )


async def evaluations(session: AsyncSession, meeting_ids: list[int]) -> dict[int, list[tuple[str, int]]]:
    """Each meeting's evaluation: (option, votes) as last reported by Telegram."""
    rows = await session.execute(
        select(Poll.meeting_id, Poll.options, Poll.counts).where(Poll.meeting_id.in_(meeting_ids)).order_by(Poll.id)
    )
    return {
        meeting_id: list(zip(json.loads(options), json.loads(counts), strict=False))
        for meeting_id, options, counts in rows
        if meeting_id is not None
    }

"""The decision-maker's answer, on the clock.

A proposal marked "transmise" goes to an addressee (a service or an elected official, from the
department's list kept by the coordinators, or as typed) with a deadline (`proposals.answer_days`,
or "délai 30 jours" in the note). The addressee answers through a signed link that needs no
account: for that proposal only, until the deadline plus a grace period; a later answer is an
update. A week before the deadline without an answer the addressee is reminded; at the deadline
the group, the facilitators and the coordinators are told, and the proposal is flagged overdue.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.dates import normalise
from bot.domain.errors import RefusalError, folded_text
from bot.domain.events import EventKind, subject_event
from storage.models import Addressee, Group, Proposal, ProposalAnswer, ScheduledEvent

log = logging.getLogger(__name__)

NAME_MAX, EMAIL_MAX, TEXT_MAX = 120, 254, 300
ANSWER_EVENTS = (EventKind.ANSWER_LINK, EventKind.ANSWER_REMINDER, EventKind.ANSWER_OVERDUE)
# What the answer form offers, by the value a browser posts, and the proposal's state it means.
ANSWER_STATES = {"acceptee": "accepted", "refusee": "refused", "etude": "studying", "en_cours": "in_progress"}
# A state a facilitator records after the transmission is an answer too (given by phone, by letter).
ANSWERED = frozenset({"accepted", "refused", "studying", "in_progress", "done"})
_DEADLINE = re.compile(r"[\s,;(–-]*\bd[ée]lai\s*:?\s*(\d{1,3})\s*(?:j|jours?)\b[).]?", re.IGNORECASE)
_PREPOSITION = re.compile(r"^(?:à\s+la\s+|à\s+l['’]\s*|aux\s+|au\s+|à\s+)", re.IGNORECASE)
_EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[A-Za-z]{2,}")


class AnswerError(RefusalError):
    """A refusal with the message key that explains it (the answer page, the addressees' list)."""


# ----------------------------------------------------------------------------- transmission
def split_deadline(note: str | None) -> tuple[str | None, int | None]:
    """'Service mobilité délai 30 jours' -> ('Service mobilité', 30). Raises AnswerError for 0."""
    if not note:
        return note, None
    match = _DEADLINE.search(note)
    if match is None:
        return note, None
    days = int(match.group(1))
    if not 1 <= days <= 365:
        raise AnswerError("answer.error.days")
    rest = (note[: match.start()] + note[match.end() :]).strip(" ,;:-–")
    return rest or None, days


def bare_name(note: str) -> str:
    """'au Service mobilité' -> 'Service mobilité': the addressee, without the French preposition."""
    return _PREPOSITION.sub("", note.strip(), count=1) or note.strip()


async def find_addressee(session: AsyncSession, note: str) -> Addressee | None:
    """The department's addressee the note names (the longest name found in it), if any."""
    said = f" {normalise(note)} "
    found = [a for a in await addressees(session) if f" {normalise(a.name)} " in said]
    return max(found, key=lambda a: len(a.name)) if found else None


async def transmitted(
    session: AsyncSession, proposal: Proposal, note: str, days: int, reminder_days: int, now: datetime
) -> None:
    """The proposal went to the addressee `note` names: its deadline, and the link, the reminder
    and the deadline planned (those of an earlier transmission are dropped)."""
    addressee = await find_addressee(session, note)
    proposal.addressee_id = addressee.id if addressee is not None else None
    proposal.addressee_name = (addressee.name if addressee is not None else bare_name(note))[:NAME_MAX]
    proposal.transmitted_at, proposal.answer_due = now, now + timedelta(days=days)
    proposal.answered_at = proposal.overdue_at = None
    await session.execute(
        update(ScheduledEvent)
        .where(
            ScheduledEvent.group_id == proposal.group_id,
            ScheduledEvent.subject_id == proposal.id,
            ScheduledEvent.kind.in_([str(kind) for kind in ANSWER_EVENTS]),
            ScheduledEvent.status == "pending",
        )
        .values(status="skipped")
    )
    # One set of events per transmission (a subject's event is unique by kind and offset): the
    # offset is the transmission's minute.
    mark = int(now.timestamp() // 60)
    session.add(subject_event(proposal.group_id, EventKind.ANSWER_LINK, proposal.id, now, mark))
    reminder = proposal.answer_due - timedelta(days=reminder_days)
    if reminder > now:
        session.add(subject_event(proposal.group_id, EventKind.ANSWER_REMINDER, proposal.id, reminder, mark))
    session.add(subject_event(proposal.group_id, EventKind.ANSWER_OVERDUE, proposal.id, proposal.answer_due, mark))
    log.info("proposal %s transmitted, answer due in %s days", proposal.id, days)


def still_waiting(proposal: Proposal | None, event: ScheduledEvent) -> bool:
    """A reminder or a deadline still means something: transmitted before it, unanswered."""
    return (
        proposal is not None
        and proposal.state == "sent"
        and proposal.answered_at is None
        and proposal.transmitted_at is not None
        and proposal.transmitted_at <= event.due_at
    )


# ----------------------------------------------------------------------------- the answer link
def _mac(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, b"answer|" + payload.encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode()


def answer_token(secret: bytes, proposal: Proposal) -> str:
    """The link's token: the proposal and its transmission, signed (a new transmission, a new link)."""
    assert proposal.transmitted_at is not None
    payload = f"{proposal.id}-{int(proposal.transmitted_at.timestamp())}"
    return f"{payload}-{_mac(secret, payload)}"


async def proposal_for(session: AsyncSession, secret: bytes, token: str, now: datetime, grace_days: int) -> Proposal:
    """The proposal a link is for. AnswerError: forged or altered (404), for an earlier
    transmission or expired (410)."""
    parts = token.split("-", 2)  # the signature is base64url: it may hold a "-" itself
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or len(token) > 80:
        raise AnswerError("answer.error.link")
    payload = f"{parts[0]}-{parts[1]}"
    if not hmac.compare_digest(_mac(secret, payload), parts[2]):
        raise AnswerError("answer.error.link")
    proposal = await session.get(Proposal, int(parts[0]))
    if proposal is None or proposal.transmitted_at is None or proposal.answer_due is None:
        raise AnswerError("answer.error.link")
    if int(proposal.transmitted_at.timestamp()) != int(parts[1]):
        raise AnswerError("answer.error.replaced")
    if now > proposal.answer_due + timedelta(days=grace_days):
        raise AnswerError("answer.error.expired")
    return proposal


@dataclass(frozen=True)
class AnswerForm:
    state: str  # accepted | refused | studying | in_progress
    text: str | None
    until: date | None


def parse_answer_form(fields: dict[str, str], today: date) -> AnswerForm:
    """The form's fields. A refusal needs its reason, "à l'étude" a date to come. AnswerError."""
    state = ANSWER_STATES.get(fields.get("etat", ""))
    if state is None:
        raise AnswerError("answer.error.state")
    text = folded_text(fields.get("reponse", ""), TEXT_MAX, None, "answer.error.long", AnswerError) or None
    if state == "refused" and not text:
        raise AnswerError("answer.error.reason")
    until = None
    if state == "studying":
        raw = fields.get("jusqu_au", "").strip()
        try:
            until = date.fromisoformat(raw)
        except ValueError:
            raise AnswerError("answer.error.until") from None
        if until <= today or until > today + timedelta(days=730):
            raise AnswerError("answer.error.until")
    return AnswerForm(state, text, until)


async def answers_of(session: AsyncSession, proposal: Proposal) -> list[ProposalAnswer]:
    return list(
        await session.scalars(
            select(ProposalAnswer).where(ProposalAnswer.proposal_id == proposal.id).order_by(ProposalAnswer.id)
        )
    )


async def record_answer(session: AsyncSession, proposal: Proposal, form: AnswerForm, now: datetime) -> ProposalAnswer:
    """The addressee's answer (the caller then moves the proposal, as /suivi does); a later one is
    an update. Answered in time: before the deadline."""
    earlier = await answers_of(session, proposal)
    assert proposal.answer_due is not None and proposal.addressee_name is not None
    answer = ProposalAnswer(
        proposal_id=proposal.id,
        addressee_name=proposal.addressee_name,
        state=form.state,
        text=form.text,
        until=form.until,
        at=now,
        is_update=bool(earlier),
        in_time=now <= proposal.answer_due,
    )
    session.add(answer)
    if proposal.answered_at is None:
        proposal.answered_at = now
    await session.flush()
    log.info("proposal %s answered through its link (%s)", proposal.id, "update" if earlier else "first")
    return answer


# ----------------------------------------------------------------------------- the department's list
async def addressees(session: AsyncSession) -> list[Addressee]:
    return list(await session.scalars(select(Addressee).where(Addressee.active).order_by(Addressee.name)))


def validate_email(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    if len(text) > EMAIL_MAX or not _EMAIL.fullmatch(text):
        raise AnswerError("addressee.error.email")
    return text


async def add_addressee(session: AsyncSession, name: str, email: str, now: datetime) -> Addressee:
    name = folded_text(name, NAME_MAX, "addressee.error.name", "addressee.error.name", AnswerError)
    mail = validate_email(email)
    existing = await session.scalar(select(Addressee).where(Addressee.name == name))
    if existing is not None:
        existing.email, existing.active = mail, True
        return existing
    addressee = Addressee(name=name, email=mail, active=True, created_at=now)
    session.add(addressee)
    await session.flush()
    return addressee


async def remove_addressee(session: AsyncSession, addressee_id: int) -> bool:
    """Off the list (the proposals sent to it keep its name)."""
    addressee = await session.get(Addressee, addressee_id)
    if addressee is None or not addressee.active:
        return False
    addressee.active = False
    return True


# ----------------------------------------------------------------------------- figures
@dataclass
class Responsiveness:
    """One addressee's record (or a group's): transmitted, answered in time or late, overdue (no
    answer past the deadline), waiting (before it), and the median days to an answer."""

    name: str
    transmitted: int = 0
    in_time: int = 0
    late: int = 0
    overdue: int = 0
    waiting: int = 0
    days: list[float] | None = None

    @property
    def median_days(self) -> float | None:
        return round(statistics.median(self.days), 1) if self.days else None

    @property
    def due(self) -> int:
        """Those whose answer is in, or should be: the base of "in time"."""
        return self.in_time + self.late + self.overdue

    def count(self, proposal: Proposal, now: datetime) -> None:
        assert proposal.transmitted_at is not None and proposal.answer_due is not None
        self.transmitted += 1
        if proposal.answered_at is not None:
            if proposal.answered_at <= proposal.answer_due:
                self.in_time += 1
            else:
                self.late += 1
            self.days = (self.days or []) + [(proposal.answered_at - proposal.transmitted_at).total_seconds() / 86400]
        elif now > proposal.answer_due:
            self.overdue += 1
        else:
            self.waiting += 1


async def _transmitted(session: AsyncSession, group: Group | None = None) -> list[Proposal]:
    query = select(Proposal).where(Proposal.transmitted_at.is_not(None), Proposal.state.not_in(("withdrawn",)))
    if group is not None:
        query = query.where(Proposal.group_id == group.id)
    return list(await session.scalars(query.order_by(Proposal.id)))


async def by_addressee(session: AsyncSession, now: datetime) -> list[Responsiveness]:
    """The department's view: each addressee's record, the slowest first."""
    found: dict[str, Responsiveness] = {}
    for proposal in await _transmitted(session):
        name = proposal.addressee_name or "?"
        found.setdefault(name, Responsiveness(name)).count(proposal, now)
    return sorted(found.values(), key=lambda r: (-r.overdue, -(r.median_days or 0), r.name.casefold()))


async def group_record(session: AsyncSession, group: Group, now: datetime) -> Responsiveness:
    """The group's answers: "réponses dans les délais 3 sur 4" in /bilan."""
    record = Responsiveness(group.display_name)
    for proposal in await _transmitted(session, group):
        record.count(proposal, now)
    return record

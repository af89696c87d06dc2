"""Action items: who does what by when. The owner is reminded before the due date and reports
done or blocked with one tap; the group sees the result."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.dates import parse_day
from bot.domain.events import EventKind, subject_event
from bot.domain.meetings import at_reminder_time
from bot.domain.proposals import ProposalError
from bot.domain.settings import MeetingsSection
from storage.models import ActionItem, Group, Person

log = logging.getLogger(__name__)

TEXT_MAX = 300
ACTION_REMINDER = EventKind.ACTION_REMINDER
STATUSES = ("open", "done", "blocked")
_USERNAME_RE = re.compile(r"^@([A-Za-z][A-Za-z0-9_]{3,31})$")


@dataclass(frozen=True)
class ActionSpec:
    username: str | None  # None: the person whose message the command replied to
    text: str
    due: str


def parse_action(text: str) -> ActionSpec:
    """'@pseudo Appeler la CAF | 20/12', or 'Appeler la CAF | 20/12' in reply to the owner's
    message. Raises ProposalError."""
    body, bar, due = text.rpartition("|")
    if not bar or not body.strip() or not due.strip():
        raise ProposalError("action.error.form")
    words = body.split()
    username = None
    if words and words[0].startswith("@"):
        match = _USERNAME_RE.match(words[0])
        if match is None:
            raise ProposalError("action.error.username", token=words[0][:40])
        username, words = match.group(1), words[1:]
    task = " ".join(words)
    if not task:
        raise ProposalError("action.error.form")
    if len(task) > TEXT_MAX:
        raise ProposalError("action.error.long", limit=TEXT_MAX, length=len(task))
    return ActionSpec(username=username, text=task, due=due.strip())


def due_day(spec: ActionSpec, now: datetime, zone: ZoneInfo) -> date:
    return parse_day(spec.due, now, zone)


def reminder_due(due_on: date, zone: ZoneInfo, settings: MeetingsSection, now: datetime) -> datetime | None:
    """The day before at the reminder time; the day itself when that is past; none when both are."""
    for day in (due_on - timedelta(days=1), due_on):
        moment = at_reminder_time(day, zone, settings)
        if moment > now:
            return moment
    return None


async def create_action(
    session: AsyncSession,
    group: Group,
    owner: Person,
    text: str,
    due_on: date,
    creator: Person | None,
    now: datetime,
    settings: MeetingsSection,
) -> tuple[ActionItem, datetime | None]:
    action = ActionItem(
        group_id=group.id,
        owner_id=owner.id,
        text=text,
        due_on=due_on,
        status="open",
        created_by_id=creator.id if creator else None,
        created_at=now,
    )
    session.add(action)
    await session.flush()
    remind = reminder_due(due_on, ZoneInfo(group.timezone), settings, now)
    if remind is not None:
        session.add(subject_event(group.id, ACTION_REMINDER, action.id, remind))
        await session.flush()
    log.info("action %s created in group %s", action.id, group.id)
    return action, remind


async def set_status(session: AsyncSession, action: ActionItem, status: str, now: datetime) -> bool:
    """Done or blocked; returns False when it already was (a second tap changes nothing)."""
    if status not in STATUSES[1:]:
        raise ProposalError("button.invalid")
    if action.status == status:
        return False
    action.status, action.done_at = status, now if status == "done" else None
    log.info("action %s %s", action.id, status)
    return True


async def open_actions(session: AsyncSession, group: Group) -> list[tuple[ActionItem, Person | None]]:
    rows = await session.execute(
        select(ActionItem, Person)
        .outerjoin(Person, Person.id == ActionItem.owner_id)
        .where(ActionItem.group_id == group.id, ActionItem.status != "done")
        .order_by(ActionItem.due_on, ActionItem.id)
    )
    return [(action, person) for action, person in rows]


async def set_message(session: AsyncSession, action_id: int, message_id: int) -> None:
    """The group message that shows it, once sent (edited when it changes)."""
    row = await session.get(ActionItem, action_id)
    if row is not None:
        row.message_id = message_id

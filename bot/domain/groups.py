"""Domain rules for groups: registration, set-up, deactivation, supergroup migration."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.errors import RefusalError, folded_text
from storage.models import ActionItem, DatePoll, DialogueState, Group, Meeting, Minutes, Poll, PriorityRound, Refresh

log = logging.getLogger(__name__)

NAME_MAX = 80
# Zones offered by the set-up buttons: metropolitan France and the overseas departments.
TIMEZONE_CHOICES = (
    "Europe/Paris",
    "America/Guadeloupe",
    "America/Martinique",
    "America/Cayenne",
    "Indian/Reunion",
    "Indian/Mayotte",
)


class GroupSettingError(RefusalError):
    """A group name or time zone that cannot be used."""


@dataclass
class GroupSetup:
    name: str
    timezone: str


# Built once: every update in a group runs it (a statement built per call costs as much again as
# its execution: SQLAlchemy's construction and cache key; bench/RESULTS.md, issue 30).
_BY_CHAT = select(Group).where(Group.chat_id == bindparam("chat_id"))


async def find_group(session: AsyncSession, chat_id: int, active_only: bool = True) -> Group | None:
    group = await session.scalar(_BY_CHAT, {"chat_id": chat_id})
    if group is not None and active_only and not group.active:
        return None
    return group


async def warn_once(
    session: AsyncSession, chat_id: int, told: Literal["topic_warned_at", "rights_warned_at"], now: datetime
) -> Group | None:
    """The group to tell something once (`told`: when it was): marked now, or None when it was
    told already (or is unknown). Marked by one statement that only one of two refusals at the
    same moment can make (each in its own transaction, from the sender and the refresher)."""
    column = getattr(Group, told)
    marked = await session.scalar(
        update(Group)
        .where(Group.chat_id == chat_id, column.is_(None))
        .values({told: now})
        .returning(Group.id)
        .execution_options(synchronize_session="evaluate")
    )
    return await session.get(Group, marked) if marked is not None else None


async def find_group_by_id(session: AsyncSession, group_id: int | None, active_only: bool = True) -> Group | None:
    group = await session.get(Group, group_id) if group_id is not None else None
    if group is not None and active_only and not group.active:
        return None
    return group


async def register_group(
    session: AsyncSession, chat_id: int, title: str, now: datetime, timezone: str, language: str
) -> tuple[Group, bool]:
    """Record the group the bot was added to; returns (group, is_new). Re-adding reactivates it."""
    group = await find_group(session, chat_id, active_only=False)
    if group is None:
        group = Group(
            chat_id=chat_id, title=title[:255], timezone=timezone, language=language, active=True, created_at=now
        )
        session.add(group)
        await session.flush()
        log.info("group %s registered (chat %s)", group.id, chat_id)
        return group, True
    group.title = title[:255]
    group.active = True
    group.deactivated_at = None
    log.info("group %s reactivated", group.id)
    return group, False


async def deactivate_group(session: AsyncSession, chat_id: int, now: datetime) -> Group | None:
    group = await find_group(session, chat_id, active_only=False)
    if group is not None and group.active:
        group.active = False
        group.deactivated_at = now
        log.info("group %s deactivated", group.id)
    return group


async def migrate_group(session: AsyncSession, old_chat_id: int, new_chat_id: int) -> Group | None:
    """Follow a basic group upgraded to a supergroup. Every record hangs on the internal id,
    so changing the chat id carries everything over. Idempotent: both service messages call it."""
    if old_chat_id == new_chat_id:
        return await find_group(session, new_chat_id, active_only=False)
    group = await find_group(session, old_chat_id, active_only=False)
    if group is None:
        return await find_group(session, new_chat_id, active_only=False)
    clash = await find_group(session, new_chat_id, active_only=False)
    if clash is not None and clash.id != group.id:
        # The new chat was registered first (its update arrived before the old one's): keep the
        # older record, which owns the history, and drop the empty newcomer.
        await session.delete(clash)
        await session.flush()
    group.chat_id = new_chat_id
    await _forget_old_messages(session, group, old_chat_id)
    log.info("group %s migrated to a supergroup", group.id)
    return group


async def _forget_old_messages(session: AsyncSession, group: Group, old_chat_id: int) -> None:
    """The supergroup numbers its messages from 1: an id kept from the basic group means nothing
    there, or another message. Nothing is edited, stopped, quoted or linked by one again: the
    live announcements are posted again (handlers/groups.py), polls close with the votes counted,
    questions asked in the old chat are forgotten."""
    owned = {"group_id": group.id}
    await session.execute(update(Meeting).filter_by(**owned).values(announcement_message_id=None))
    for model in (Poll, PriorityRound, ActionItem, DatePoll, Minutes):
        await session.execute(update(model).filter_by(**owned).values(message_id=None))
    await session.execute(delete(Refresh).where(Refresh.chat_id == old_chat_id))
    await session.execute(delete(DialogueState).where(DialogueState.chat_id == old_chat_id))


def validate_setup(name: str, timezone: str | None, default_timezone: str) -> GroupSetup:
    name = " ".join(name.split())
    if not name:
        raise GroupSettingError("setup.error.name_empty")
    if len(name) > NAME_MAX:
        raise GroupSettingError("setup.error.name_long", limit=NAME_MAX)
    zone = (timezone or default_timezone).strip()
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise GroupSettingError("setup.error.timezone", zone=zone) from None
    return GroupSetup(name=name, timezone=zone)


def apply_setup(group: Group, setup: GroupSetup) -> None:
    group.name = setup.name
    group.timezone = setup.timezone


def choose_topic(group: Group, topic_id: int | None) -> None:
    """In a forum: Relais' own messages go to this topic from now on (None: General). A warning
    that it had to write elsewhere may be given again for the new place."""
    if group.topic_id != topic_id:
        group.topic_id, group.topic_warned_at = topic_id, None


def saw_topic(group: Group, topic_id: int | None) -> bool:
    """A command came from this topic: somewhere Relais may write if the chosen place closes.
    True when that is news."""
    if topic_id is None or group.seen_topic_id == topic_id:
        return False
    group.seen_topic_id = topic_id
    return True


async def next_number(session: AsyncSession, group: Group, counter: str) -> int:
    """The group's next meeting or proposal number (`counter` names the column). The row lock
    (PostgreSQL) keeps two processes from taking the same n°."""
    locked = await session.scalar(select(Group).where(Group.id == group.id).with_for_update())
    if locked is None:
        raise LookupError(f"group {group.id} is gone")
    number: int = getattr(locked, counter)
    setattr(locked, counter, number + 1)
    return number


CARD_MAX = 400  # each answer of /presentation: a few lines, read on a phone


class CardError(RefusalError):
    """A group card that cannot be recorded."""


def set_card(group: Group, purpose: str | None = None, usual: str | None = None) -> None:
    """/presentation's answers: what the group is for, when and where it usually meets."""
    if purpose is not None:
        group.card_purpose = folded_text(purpose, CARD_MAX, "card.error.empty", "card.error.long", CardError)
    if usual is not None:
        group.card_usual = folded_text(usual, CARD_MAX, "card.error.empty", "card.error.long", CardError)

"""Domain rules for people and memberships."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import insert_if_absent
from storage.models import Group, Membership, Person

log = logging.getLogger(__name__)
LAST_SEEN_STEP = timedelta(hours=1)
# Telegram's own accounts, never members or authors: the "Telegram" user behind a linked channel's
# automatic forwards (not flagged as a bot), and the bot that anonymous administrators' messages
# come from (only a group's own anonymous administrators can write as it, in that group).
TELEGRAM_SERVICE = 777000
GROUP_ANONYMOUS_BOT = 1087968824


@dataclass(frozen=True)
class UserInfo:
    """What Telegram tells us about a person, reduced to what Relais keeps."""

    telegram_id: int
    first_name: str
    username: str | None = None
    language_code: str | None = None


# Members without Telegram (SMS only, bot/domain/sms.py) are people with an id Telegram never
# gives: below this (Telegram's users are positive, its groups above -10**13).
SMS_ONLY_IDS = -(10**15)


def has_telegram(person: Person) -> bool:
    return person.telegram_id > SMS_ONLY_IDS


# Built once, run for nearly every update (see bot/domain/groups.py, _BY_CHAT).
_BY_TELEGRAM_ID = select(Person).where(Person.telegram_id == bindparam("telegram_id"))
_WITH_MEMBERSHIP = (
    select(Person, Membership)
    .outerjoin(Membership, (Membership.person_id == Person.id) & (Membership.group_id == bindparam("group_id")))
    .where(Person.telegram_id == bindparam("telegram_id"))
)


async def find_person(session: AsyncSession, telegram_id: int) -> Person | None:
    return await session.scalar(_BY_TELEGRAM_ID, {"telegram_id": telegram_id})


async def upsert_person(session: AsyncSession, info: UserInfo, now: datetime) -> Person:
    person = await find_person(session, info.telegram_id)
    if person is None:
        await insert_if_absent(
            session,
            Person,
            {
                "telegram_id": info.telegram_id,
                "first_name": info.first_name[:128],
                "created_at": now,
                "private_status": "unknown",
            },
            ["telegram_id"],
        )
        person = await find_person(session, info.telegram_id)
        assert person is not None
    _told(person, info)
    await session.flush()
    return person


def _told(person: Person, info: UserInfo) -> None:
    """What Telegram says of them now (a name changes): an update only if it did."""
    person.first_name = info.first_name[:128]
    person.username = info.username[:64] if info.username else None
    person.language_code = info.language_code


async def seen_in_group(
    session: AsyncSession, group: Group, info: UserInfo, now: datetime
) -> tuple[Person, Membership]:
    """`upsert_person` then `record_presence`, for every update in a group: one query when the
    person is known (the membership joined to them), which is nearly always."""
    found = (await session.execute(_WITH_MEMBERSHIP, {"group_id": group.id, "telegram_id": info.telegram_id})).first()
    if found is None:
        person = await upsert_person(session, info, now)
        return person, await record_presence(session, group, person, now)
    person, membership = found
    _told(person, info)
    return person, await _present(session, group, person, membership, now)


async def find_membership(session: AsyncSession, group: Group, person: Person) -> Membership | None:
    return await session.scalar(
        select(Membership).where(Membership.group_id == group.id, Membership.person_id == person.id)
    )


async def record_presence(session: AsyncSession, group: Group, person: Person, now: datetime) -> Membership:
    """The person is in the group (they joined, spoke or tapped a button)."""
    return await _present(session, group, person, await find_membership(session, group, person), now)


async def _present(
    session: AsyncSession, group: Group, person: Person, membership: Membership | None, now: datetime
) -> Membership:
    if membership is None:
        await insert_if_absent(
            session,
            Membership,
            {
                "group_id": group.id,
                "person_id": person.id,
                "status": "member",
                "joined_at": now,
                "last_seen_at": now,
                "named_facilitator": False,
                "private_reminders": False,
            },
            ["group_id", "person_id"],
        )
        membership = await find_membership(session, group, person)
        assert membership is not None
        log.info("person %s joined group %s", person.id, group.id)
    elif membership.status != "member":
        # Welcomed back: the start date is kept, the return is dated.
        membership.status, membership.returned_at, membership.left_at = "member", now, None
        log.info("person %s back in group %s", person.id, group.id)
    # To the hour: a write on every tap would cost more than the figure is worth.
    if membership.last_seen_at is None or now - membership.last_seen_at >= LAST_SEEN_STEP:
        membership.last_seen_at = now
    _seen_in_transaction(session)[(group.id, person.telegram_id)] = (person, membership)
    return membership


def _seen_in_transaction(session: AsyncSession) -> dict[tuple[int, int], tuple[Person, Membership]]:
    """Who was found in which group during this transaction: the presence tracking that runs
    before every feature has just loaded them, so the feature's own lookup needs no query."""
    seen: dict[tuple[int, int], tuple[Person, Membership]] = session.info.setdefault("relais.members", {})
    return seen


def forget_seen(session: AsyncSession) -> None:
    """After rows were deleted (erasure), nothing is taken from the memo."""
    session.info.pop("relais.members", None)


async def record_departure(session: AsyncSession, group: Group, telegram_id: int, now: datetime) -> Membership | None:
    """The member left the group; their membership, or None when they were not a member."""
    person = await find_person(session, telegram_id)
    if person is None:
        return None
    membership = await find_membership(session, group, person)
    if membership is None or membership.status != "member":
        return None
    membership.status, membership.left_at = "left", now
    # A facilitator role given by the group does not survive leaving it.
    membership.named_facilitator = False
    log.info("person %s left group %s", person.id, group.id)
    return membership


async def find_member_by_username(
    session: AsyncSession, group: Group, username: str
) -> tuple[Person, Membership] | None:
    row = (
        await session.execute(
            select(Person, Membership)
            .join(Membership, Membership.person_id == Person.id)
            .where(Membership.group_id == group.id, func.lower(Person.username) == username.lower().lstrip("@"))
        )
    ).first()
    return (row[0], row[1]) if row else None


async def mark_started(session: AsyncSession, person: Person, now: datetime) -> None:
    if person.private_status != "started":
        person.private_status, person.started_at, person.unreachable_at = "started", now, None
        log.info("person %s started the bot", person.id)


def reachable_in_private(person: Person) -> bool:
    """Whether Relais may write to the person in private on its own initiative: they started the
    bot, have not blocked it, and have not paused its messages ("🔕 Ne plus recevoir de rappels")."""
    return person.private_status == "started" and not person.private_paused


async def mark_unreachable(session: AsyncSession, telegram_id: int, now: datetime) -> None:
    """A 403 in private: the person never started the bot or blocked it. Not an error."""
    person = await find_person(session, telegram_id)
    if person is not None and person.private_status != "unreachable":
        person.private_status, person.unreachable_at = "unreachable", now
        log.info("person %s unreachable in private", person.id)


async def person_in_group(session: AsyncSession, group: Group, telegram_id: int) -> tuple[Person, Membership] | None:
    seen = _seen_in_transaction(session).get((group.id, telegram_id))
    if seen is not None:
        return seen
    row = (
        await session.execute(
            select(Person, Membership)
            .join(Membership, Membership.person_id == Person.id)
            .where(Membership.group_id == group.id, Person.telegram_id == telegram_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def known_members(session: AsyncSession, group: Group) -> int:
    """How many current members Relais knows (has seen join, type or tap)."""
    current = (Membership.group_id == group.id, Membership.status == "member")
    count = await session.scalar(select(func.count()).select_from(Membership).where(*current))
    return int(count or 0)


def note_member_count(group: Group, count: int | None, now: datetime) -> None:
    """What Telegram counts (bots aside): members who were there before Relais are in it."""
    if count is not None:
        group.member_count, group.member_count_at = count, now


def electorate_size(known: int, group: Group) -> int:
    """Whom a rate is over: the members Telegram counts when it said, never fewer than Relais knows."""
    return max(known, group.member_count or 0)


async def groups_of(session: AsyncSession, person: Person) -> list[Group]:
    """The active groups a person is a member of, oldest first."""
    return list(
        await session.scalars(
            select(Group)
            .join(Membership, Membership.group_id == Group.id)
            .where(Membership.person_id == person.id, Membership.status == "member", Group.active.is_(True))
            .order_by(Group.id)
        )
    )


async def only_group(session: AsyncSession, person: Person) -> Group | None:
    """The one active group a person is in, when there is exactly one (a command in private)."""
    groups = await groups_of(session, person)
    return groups[0] if len(groups) == 1 else None


async def link_private(session: AsyncSession, group: Group, person: Person, now: datetime) -> Membership:
    """Someone started the bot from their group's link: a member who wants reminders in private."""
    membership = await record_presence(session, group, person, now)
    membership.private_reminders = True
    return membership


NEVER_STARTED, BLOCKED, PAUSED = "never", "blocked", "paused"


async def unreachable_members(session: AsyncSession, group: Group) -> list[tuple[Person, str]]:
    """The group's members who cannot get private reminders, and why: they never opened the
    private chat, blocked the bot, or stopped its messages. Facilitators phone or text them."""
    rows = await session.scalars(
        select(Person)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.group_id == group.id, Membership.status == "member")
        .order_by(Person.first_name, Person.id)
    )
    found = []
    for person in rows:
        if person.private_status == "unreachable":
            found.append((person, BLOCKED))
        elif person.private_status != "started":
            found.append((person, NEVER_STARTED))
        elif person.private_paused:
            found.append((person, PAUSED))
    return found

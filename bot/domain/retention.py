"""People who left are not kept for ever: `privacy.retention_months` (12) after they left their
last group, a person is erased with everything only they owned, as `/oublier` would (what they
made for a group stays with it, unsigned). Someone who never belonged to a group (they only
opened the private chat) is erased that long after Relais first saw them, coordinators excepted
(they follow groups without being members). A group whose bot was removed is over for its
members: their membership there ends, for this count, the day Relais left it. Run by the hourly
housekeeping job; what it erased is logged as counts, never as names."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.membership import add_months
from bot.domain.privacy import PERSON_COLUMNS, erase
from storage.models import Base, Group, Membership, Person

BATCH = 200  # people per run: a first run on an old database spreads over a few hours


@dataclass
class RetentionReport:
    people: int = 0
    erased: Counter[str] = field(default_factory=Counter)  # table -> rows erased with them
    anonymised: Counter[str] = field(default_factory=Counter)  # table -> rows kept, without their name

    def summary(self) -> str:
        def listed(counts: Counter[str]) -> str:
            return ", ".join(f"{table} {count}" for table, count in sorted(counts.items())) or "none"

        return f"{self.people} people; rows erased: {listed(self.erased)}; kept unsigned: {listed(self.anonymised)}"


async def departed_people(
    session: AsyncSession, now: datetime, months: int, keep: frozenset[int] = frozenset(), limit: int = BATCH
) -> list[Person]:
    """Who is due for erasure: no current membership (a member of a group Relais has left is a
    member no more), and the last one ended `months` ago (or none ever, and first seen that long
    ago)."""
    cutoff = add_months(now, -months)
    current = (
        select(Membership.person_id)
        .join(Group, Group.id == Membership.group_id)
        .where(Membership.status == "member", Group.active.is_(True))
    )
    ended = func.coalesce(
        Membership.left_at, case((Group.active.is_(False), Group.deactivated_at)), Membership.joined_at
    )
    last_left = (
        select(Membership.person_id, func.max(ended).label("last"))
        .join(Group, Group.id == Membership.group_id)
        .group_by(Membership.person_id)
        .subquery()
    )
    query = (
        select(Person)
        .outerjoin(last_left, last_left.c.person_id == Person.id)
        .where(
            Person.id.not_in(current),
            or_(last_left.c.last < cutoff, (last_left.c.last.is_(None)) & (Person.created_at < cutoff)),
        )
        .order_by(Person.id)
        .limit(limit)
    )
    if keep:
        query = query.where(Person.telegram_id.not_in(sorted(keep)))
    return list(await session.scalars(query))


async def _count_rows(session: AsyncSession, ids: list[int], report: RetentionReport) -> None:
    """What the erasure will take with them, table by table (cascaded) or leave unsigned (set null)."""
    tables = Base.metadata.tables
    for table_name, column_name in PERSON_COLUMNS:
        column = tables[table_name].c[column_name]
        if table_name == "dialogues":
            continue  # keyed by Telegram id: counted below
        count = await session.scalar(select(func.count()).select_from(column.table).where(column.in_(ids))) or 0
        if count:
            cascades = any(key.ondelete == "CASCADE" for key in column.foreign_keys)
            (report.erased if cascades else report.anonymised)[table_name] += count


async def forget_departed(
    session: AsyncSession, now: datetime, months: int, keep: frozenset[int] = frozenset()
) -> RetentionReport:
    """Erase the people `departed_people` gives; the report says how much went."""
    report = RetentionReport()
    people = await departed_people(session, now, months, keep)
    if not people:
        return report
    await _count_rows(session, [person.id for person in people], report)
    for person in people:
        await erase(session, person)
    report.people = len(people)
    report.erased["people"] += len(people)
    return report

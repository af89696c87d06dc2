"""A small world in the database for rule tests: a group, its members, a meeting."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.meetings import create_meeting
from bot.domain.people import UserInfo, record_presence, upsert_person
from bot.domain.settings import MeetingsSection
from storage.models import Group, Meeting, Person

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Paris
SETTINGS = MeetingsSection()


async def make_group(session: AsyncSession, chat_id: int = -1, timezone: str = "Europe/Paris") -> Group:
    group = Group(chat_id=chat_id, title="Groupe", timezone=timezone, language="fr", active=True, created_at=NOW)
    session.add(group)
    await session.flush()
    return group


async def make_members(session: AsyncSession, group: Group, *names: str, started: bool = True) -> list[Person]:
    people = []
    for name in names:
        person = await upsert_person(session, UserInfo(zlib.crc32(name.encode()) + 1, name, None, "fr"), NOW)
        person.private_status = "started" if started else "unknown"
        await record_presence(session, group, person, NOW)
        people.append(person)
    await session.flush()
    return people


async def make_meeting(session: AsyncSession, group: Group, days: int = 10, creator: Person | None = None) -> Meeting:
    return await create_meeting(
        session, group, NOW + timedelta(days=days, hours=4), "Salle", "Sujet", None, creator, NOW, SETTINGS
    )

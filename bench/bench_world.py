"""Groups of people who all started the bot, written straight into Relais' database: the worlds
the benchmarks start from (bench/reminder_wave.py, bench/interactive.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any


async def add_group(
    session: Any,
    chat_id: int,
    title: str,
    people: list[tuple[int, str]],
    now: datetime,
    reminder_offsets: str,
    private_reminders: bool,
    facilitator_first: bool = False,
) -> Any:
    """A group and its members (Telegram id, first name); the first may be its named facilitator."""
    from storage.models import Group, Membership, Person

    group = Group(
        chat_id=chat_id,
        title=title,
        timezone="Europe/Paris",
        language="fr",
        active=True,
        created_at=now,
        reminder_offsets=reminder_offsets,
        next_meeting_number=1,
    )
    session.add(group)
    await session.flush()
    for index, (telegram_id, name) in enumerate(people):
        person = Person(
            telegram_id=telegram_id, first_name=name, private_status="started", created_at=now, started_at=now
        )
        session.add(person)
        await session.flush()
        session.add(
            Membership(
                group_id=group.id,
                person_id=person.id,
                status="member",
                joined_at=now,
                named_facilitator=facilitator_first and index == 0,
                private_reminders=private_reminders,
            )
        )
    return group

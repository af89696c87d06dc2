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
        # As Relais knows someone who started it: with the language their account gives (the
        # fake's users are French), else their first update would rewrite it.
        person = Person(
            telegram_id=telegram_id,
            first_name=name,
            language_code="fr",
            private_status="started",
            created_at=now,
            started_at=now,
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


def fake_group(tg: Any, g: int, members: int) -> tuple[Any, list[Any]]:
    """In the fake Telegram: group `g` with the bot, its facilitator, and `members` people who
    all started the bot (the same people add_group writes into Relais' database)."""
    admin = tg.user(f"Anim{g}")
    chat = tg.group(f"Groupe {g}", creator=admin)
    chat.statuses[tg.bot.id] = "member"
    people = [tg.user(f"P{g}_{i}") for i in range(members)]
    for person in people:
        chat.statuses[person.id] = "member"
        person.started = True
        tg.private_chat(person)
    return chat, people


def stop_processes(processes: list[Any]) -> None:
    """SIGTERM every bot process (they shut down cleanly, together), then wait; kill a laggard."""
    import signal
    import subprocess

    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def write_result(result: dict[str, Any], json_path: str | None, shown: dict[str, Any] | None = None) -> None:
    """Print the result (or the part worth reading) and append it whole to `json_path`."""
    import json

    print(json.dumps(result if shown is None else shown, indent=2))
    if json_path:
        with open(json_path, "a") as handle:
            handle.write(json.dumps(result) + "\n")

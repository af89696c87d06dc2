"""A wave through faults (a short version of bench/reminder_wave.py --faults): connections
dropped by Telegram, 5xx answers and a database away while the sends are being recorded. Every
member gets the reminder once; nothing is lost and, the database being back within the wait,
nothing goes twice."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.outbox import dispatch
from storage.models import Delivery
from tests.e2e.test_reminders import J7, setup_meeting


def reminders_by_chat(h) -> Counter[int]:
    """The reminders people received (what the fake delivered, not the attempts)."""
    return Counter(
        chat_id
        for chat_id in h.tg.chats
        for message in h.tg.bot_messages(chat_id)
        if "Dans une semaine" in (message.text or "")
    )


async def wave_until_done(h, rounds: int = 6) -> None:
    for _ in range(rounds):
        await h.run_jobs()
        h.clock.advance(timedelta(seconds=30))  # past the growing waits of the retries


async def test_dropped_connections_and_5xx_delay_the_wave_but_everyone_gets_it_once(relais):
    chat, awa, karim, julie, sami, lina = await setup_meeting(relais)
    relais.tg.script_fault("sendMessage", "drop", times=2)
    relais.tg.script_fault("sendMessage", "500", times=2)
    relais.clock.set(J7)
    await wave_until_done(relais)
    sent = reminders_by_chat(relais)
    # Sami said he cannot come: no private reminder for him; Lina never opened the private chat.
    assert sent == Counter({chat.id: 1, karim.id: 1, julie.id: 1})
    async with relais.services.sessionmaker() as session:
        deliveries = list(await session.scalars(select(Delivery)))
    assert {d.status for d in deliveries} <= {"sent", "skipped"}
    assert sum(d.attempts > 1 for d in deliveries) >= 2  # the faults were met, and retried


async def test_sends_are_recorded_once_the_database_is_back(relais, monkeypatch):
    chat, awa, karim, julie, sami, lina = await setup_meeting(relais)
    record = dispatch._record
    failures = {"left": 2}

    async def database_away_twice(*args, **kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("UPDATE deliveries", {}, ConnectionResetError("the database restarted"))
        return await record(*args, **kwargs)

    monkeypatch.setattr(dispatch, "_record", database_away_twice)
    monkeypatch.setattr(dispatch, "RECORD_WAITS", (0, 0, 0, None))  # the waits, without waiting
    relais.clock.set(J7)
    report = await relais.run_jobs()
    assert failures["left"] == 0 and report.sent == 4  # the group, Karim, Julie, and the nudge to open the chat
    relais.clock.advance(dispatch.LEASE + timedelta(seconds=1))  # a claim left behind would expire now
    await wave_until_done(relais, rounds=2)
    assert reminders_by_chat(relais) == Counter({chat.id: 1, karim.id: 1, julie.id: 1})

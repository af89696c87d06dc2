"""Telegram's 20 messages a minute in one group, kept by every process together. On one process
(SQLite) the rate limiter's own count is enough (bot/outbox/pacing.py); processes sharing a
PostgreSQL database reserve each start here instead: under a lock on that group, the start is
the earliest moment at which fewer than 20 were reserved in the 60 s before it, by anyone. Times
are the database's (`clock_timestamp()`), the one clock the processes share."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from storage.models import GroupSend

LOCK_SPACE = 0x52454C47  # "RELG": the advisory locks of group budgets
KEPT = timedelta(minutes=2)
# Telegram's minute, and half a second: a start reserved on the dot can reach Telegram a moment
# sooner after its send than the one it waits for did after its own.
WINDOW = timedelta(seconds=60.5)


class SharedGroupBudget:
    def __init__(self, engine: AsyncEngine, per_minute: int) -> None:
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        self.per_minute = per_minute

    async def reserve(self, chat_id: int) -> float:
        """Reserve this group's next start; returns the seconds to wait until it."""
        async with self.sessionmaker.begin() as session:
            await session.execute(
                text("SELECT pg_advisory_xact_lock(:space, hashtext(:chat))"),
                {"space": LOCK_SPACE, "chat": str(chat_id)},
            )
            now: datetime = (await session.execute(select(func.clock_timestamp()))).scalar_one()
            recent = list(
                await session.scalars(
                    select(GroupSend.at)
                    .where(GroupSend.chat_id == chat_id)
                    .order_by(GroupSend.at.desc())
                    .limit(self.per_minute)
                )
            )
            start = now
            if len(recent) >= self.per_minute:  # the oldest of the last 20 leaves the window then
                start = max(now, recent[-1] + WINDOW)
            session.add(GroupSend(chat_id=chat_id, at=start))
            await session.execute(delete(GroupSend).where(GroupSend.chat_id == chat_id, GroupSend.at < now - KEPT))
        return max(0.0, (start - now).total_seconds())

"""Processes on one database share Telegram's limit: each says every second that it is
alive and whether it is sending (a row in `workers`), and paces its sends at its share of
`telegram.messages_per_second`. A process that stops removes its row, so the others take the
whole rate at once; one that dies is forgotten after `ALIVE_WITHIN`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import upsert_insert
from storage.models import Worker

HEARTBEAT_EVERY = timedelta(seconds=1)  # a process that starts a wave late is known within a second
ALIVE_WITHIN = timedelta(seconds=10)  # ten heartbeats missed: the process is gone


async def heartbeat(session: AsyncSession, name: str, now: datetime, sending: bool) -> int:
    """Say this process is alive (and whether it has a wave in hand); how many processes share
    the rate with it: those alive and sending, itself counted once either way. An idle process
    takes no share from the busy ones, so the end of a wave held by one process goes at full pace."""
    statement = upsert_insert(session)(Worker).values(name=name, seen_at=now, sending=sending)
    await session.execute(
        statement.on_conflict_do_update(index_elements=["name"], set_={"seen_at": now, "sending": sending})
    )
    await session.execute(delete(Worker).where(Worker.seen_at < now - 3 * ALIVE_WITHIN))  # long gone
    others = await session.scalar(
        select(func.count()).where(Worker.seen_at >= now - ALIVE_WITHIN, Worker.sending.is_(True), Worker.name != name)
    )
    return 1 + (others or 0)


async def leave(session: AsyncSession, name: str) -> None:
    await session.execute(delete(Worker).where(Worker.name == name))

"""Durable notices: what tells people about a change (a meeting cancelled or moved, a ride
offered, accepted, refused or cancelled) is a row written in the same transaction as the change;
so is every answer to an update (`answer_notice`: its chat, its whole call, what it records once
sent), written down just before the update commits.

- The change rolls back: the rows go with it and nobody is told.
- It commits: the rows are claimed by this process at birth (a lease), and the update's sender
  (bot/outbox/after_commit.py) sends them after the commit, in order with the update's other
  messages, deleting each row once it is out; so a crash between two sends neither repeats the
  first nor loses the second.
- The process dies first: the lease runs out and the next dispatcher run, in any process, claims
  the rows and sends them (`claim_stale`). With PostgreSQL the claim skips locked rows, so two
  processes never take the same notice.

A notice is deleted once sent: its text may name people (a driver's first name), and what was
said is not kept longer than it takes to say it. Queuing one is bot/outbox/sending.py's.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.people import reachable_in_private
from bot.outbox.claims import WORKER_ID, locking, ready_or_abandoned
from storage.db import table_of
from storage.models import Group, Notice, Person

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)  # a notice claimed longer ago belonged to a process that died
MAX_ATTEMPTS = 8  # Telegram unreachable this many times in a row: the notice is given up, and logged


def new_notice(
    kind: str, text: str, markup: dict[str, Any] | None, now: datetime, group_id: int | None, person_id: int | None
) -> Notice:
    """A notice claimed by this process from birth: its sender is the update that wrote it."""
    return Notice(
        kind=kind,
        group_id=group_id,
        person_id=person_id,
        text=text,
        markup=markup,
        status="sending",
        attempts=1,
        not_before=now,
        claimed_by=WORKER_ID,
        claimed_at=now,
        created_at=now,
    )


def answer_notice(
    kind: str,
    chat_id: int,
    method: str,
    call: dict[str, Any],
    after: tuple[str | None, dict[str, Any] | None],
    now: datetime,
) -> Notice:
    """An update's answer (a reply, an edit, a document, a poll), claimed by this process from
    birth: sent after the commit, or by another run if this process dies first."""
    notice = new_notice(kind, "", None, now, None, None)
    notice.chat_id, notice.method, notice.call = chat_id, method, call
    notice.after, notice.after_args = after
    return notice


def pending_notice(
    kind: str, text: str, markup: dict[str, Any] | None, now: datetime, group_id: int | None, person_id: int | None
) -> Notice:
    """A notice written outside an update (a job, the bot's own bookkeeping): nobody sends it after
    a commit, so it waits, unclaimed, for the next dispatcher run's pass over notices."""
    notice = new_notice(kind, text, markup, now, group_id, person_id)
    notice.status, notice.claimed_by, notice.claimed_at, notice.attempts = "pending", None, None, 0
    return notice


async def renew(session: AsyncSession, notice_ids: list[int], now: datetime, worker: str = WORKER_ID) -> None:
    """Keep this process's claim on notices still waiting to be sent (a group's 20 messages a
    minute can hold one for minutes): their lease starts again, so no dispatcher run takes them."""
    if notice_ids:
        await session.execute(
            update(Notice)
            .where(Notice.id.in_(notice_ids), Notice.claimed_by == worker, Notice.status == "sending")
            .values(claimed_at=now)
        )


async def still_ours(
    session: AsyncSession, notice_id: int, attempts: int, now: datetime, worker: str = WORKER_ID
) -> bool:
    """Whether this process's claim on the notice still holds, just before it is sent (and renew
    it): a claim that lapsed and was taken again, even by this process, is another send's now."""
    result = await session.execute(
        update(Notice)
        .where(
            Notice.id == notice_id,
            Notice.claimed_by == worker,
            Notice.attempts == attempts,
            Notice.status == "sending",
        )
        .values(claimed_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


# Built once: every reply ends with it. Plain SQL on the table: no Notice object is loaded where it runs.
_NOTICE = table_of(Notice)
_SENT = delete(_NOTICE).where(_NOTICE.c.id == bindparam("notice_id"))


async def finish(session: AsyncSession, notice_id: int, outcome: str, now: datetime, attempts: int) -> None:
    """Record what became of a send: out (or the person cannot be written to) -> the row goes;
    Telegram unreachable -> tried again later with growing waits; refused -> kept as failed, its
    text blanked."""
    if outcome in ("sent", "forbidden"):
        await session.execute(_SENT, {"notice_id": notice_id})
    elif outcome == "network" and attempts < MAX_ATTEMPTS:
        wait = timedelta(seconds=min(600, 5 * 2 ** (attempts - 1)))
        await session.execute(
            update(Notice).where(Notice.id == notice_id).values(status="pending", not_before=now + wait, error=outcome)
        )
    else:
        log.warning("notice %s failed for good: %s", notice_id, outcome)
        await session.execute(
            update(Notice)
            .where(Notice.id == notice_id)
            .values(status="failed", text="", call=None, after_args=None, chat_id=None, error=outcome[:64])
        )


async def claim_stale(
    session: AsyncSession, now: datetime, limit: int = 200, worker: str = WORKER_ID
) -> list[tuple[Notice, int]]:
    """Notices left behind (their process died before sending them, or Telegram was unreachable),
    claimed by this process, with the chat to send each to. Notices nobody can receive any more
    (the person blocked the bot or paused its messages, the group removed it) are dropped."""
    query = select(Notice).where(ready_or_abandoned(Notice, now, LEASE)).order_by(Notice.id).limit(limit)
    if locking(session):
        query = query.with_for_update(skip_locked=True)
    claimed: list[tuple[Notice, int]] = []
    for notice in list(await session.scalars(query)):
        chat_id = await _chat_of(session, notice)
        if chat_id is None:
            await session.delete(notice)
            continue
        notice.status, notice.claimed_by, notice.claimed_at = "sending", worker, now
        notice.attempts += 1
        claimed.append((notice, chat_id))
    await session.flush()
    return claimed


async def _chat_of(session: AsyncSession, notice: Notice) -> int | None:
    if notice.chat_id is not None:  # an answer goes where it was asked (a group that moved is followed)
        return notice.chat_id
    if notice.person_id is not None:
        person = await session.get(Person, notice.person_id)
        return person.telegram_id if person is not None and reachable_in_private(person) else None
    group = await session.get(Group, notice.group_id) if notice.group_id is not None else None
    return group.chat_id if group is not None and group.active else None

"""Coalesced edits: messages whose content follows a state are edited at most once per few seconds.

Fifteen people tapping "Je viens" in the minute after an announcement would otherwise cost fifteen
edits of the same message, most of the group's 20 sends a minute. A tap only asks for a refresh
(`follow` in bot/outbox/say.py: a row written in the update's transaction); the Refresher edits
each message with the state as it is when the edit goes out, so the latest state wins and the taps
in between cost nothing.
The first edit of a message goes at once; the next waits until `spacing` after the previous one.

The requests are rows (storage.models.Refresh): an edit asked for before a restart still happens
after it. On PostgreSQL, several processes share the rows (FOR UPDATE SKIP LOCKED).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, InlineKeyboardMarkup

from bot.domain import date_polls
from bot.domain import meetings as m
from bot.domain import priorities as pr
from bot.domain.groups import migrate_group
from bot.domain.proposals import open_proposals
from bot.outbox.answers import Outcome, classify
from bot.outbox.claims import locking
from bot.outbox.pacing import EDIT, send_priority
from bot.ui.date_polls import date_poll_keyboard, date_poll_text
from bot.ui.meetings import announcement_text, reminder_text, rsvp_keyboard
from bot.ui.proposals import priority_keyboard, priority_text
from storage.db import insert_if_absent, table_of
from storage.models import DatePoll, Group, Meeting, PriorityRound, Refresh, UTCDateTime

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
BATCH = 8
GATHER_SECONDS = 0.1


@dataclass(frozen=True)
class Content:
    text: str
    markup: InlineKeyboardMarkup | None

    def digest(self) -> str:
        markup = json.dumps(self.markup.to_dict(), sort_keys=True) if self.markup is not None else ""
        return hashlib.sha256(f"{self.text}\0{markup}".encode()).hexdigest()


# What a message shows now (`now`: a reminder says "demain" or "aujourd'hui" as the day comes).
Render = Callable[[AsyncSession, int, datetime], Awaitable[Content | None]]


# Built once: every edit of a meeting's counts runs it.
_MEETING_AND_GROUP = (
    select(Meeting, Group).join(Group, Group.id == Meeting.group_id).where(Meeting.id == bindparam("b_meeting"))
)


def _meeting_counts(text: Callable[[AsyncSession, Group, Meeting, m.Counts, datetime], Awaitable[str]]) -> Render:
    """A message about a meeting with its counts and answer buttons (announcement or reminder)."""

    async def render(session: AsyncSession, meeting_id: int, now: datetime) -> Content | None:
        found = (await session.execute(_MEETING_AND_GROUP, {"b_meeting": meeting_id})).first()
        if found is None or found[0].status != "scheduled":
            return None  # cancelled or moved messages were rewritten by the change itself
        meeting, group = found
        counts = await m.counts(session, meeting)
        return Content(await text(session, group, meeting, counts, now), rsvp_keyboard(group.language, meeting))

    return render


async def _announcement(session: AsyncSession, group: Group, meeting: Meeting, counts: m.Counts, now: datetime) -> str:
    return announcement_text(group, meeting, counts, await m.series_position(session, meeting))


async def _group_reminder(
    session: AsyncSession, group: Group, meeting: Meeting, counts: m.Counts, now: datetime
) -> str:
    return reminder_text(group, meeting, counts, now)


async def _priority_round(session: AsyncSession, round_id: int, now: datetime) -> Content | None:
    round_ = await session.get(PriorityRound, round_id)
    group = await session.get(Group, round_.group_id) if round_ is not None else None
    if round_ is None or group is None or round_.closed_at is not None:
        return None
    participants = await pr.participants(session, round_)
    proposals = await open_proposals(session, group)
    return Content(
        priority_text(group.language, group, round_, participants), priority_keyboard(group.language, round_, proposals)
    )


async def _date_poll(session: AsyncSession, poll_id: int, now: datetime) -> Content | None:
    poll = await session.get(DatePoll, poll_id)
    group = await session.get(Group, poll.group_id) if poll is not None else None
    if poll is None or group is None or poll.status != "open":
        return None  # chosen: the choice rewrote the message
    options, counts = await date_polls.options_of(session, poll), await date_polls.tick_counts(session, poll)
    return Content(
        date_poll_text(group.language, group, poll), date_poll_keyboard(group.language, group, poll, options, counts)
    )


# What each kind of refreshed message shows, from the row its subject_id names.
KINDS: dict[str, Render] = {
    "announcement": _meeting_counts(_announcement),
    "group_reminder": _meeting_counts(_group_reminder),
    "priority_round": _priority_round,
    "date_poll": _date_poll,
}


async def keep_tail(
    session: AsyncSession, kind: str, chat_id: int, message_id: int, subject_id: int, tail: str, now: datetime
) -> None:
    """A message just sent that will follow its state: what it carries besides (kept for edits)."""
    values = {
        "kind": kind,
        "chat_id": chat_id,
        "message_id": message_id,
        "subject_id": subject_id,
        "status": "done",
        "generation": 0,
        "due_at": now,
        "tail": tail,
    }
    await insert_if_absent(session, Refresh, values, ["chat_id", "message_id"])


_REFRESH = table_of(Refresh)  # plain SQL: the session that runs these has loaded no row


def _recorded(**values: Any) -> Any:
    """An edit's end, one statement built once (every edit runs one): the row by its id."""
    return (
        update(_REFRESH)
        .where(_REFRESH.c.id == bindparam("b_id"))
        .values(values)
        .returning(_REFRESH.c.status, _REFRESH.c.due_at)
    )


# The row changed while its edit was under way (a newer generation): one more edit, spaced;
# otherwise it is done, its due_at the earliest moment of the next edit (the spacing after this
# one), which the next change reads (bot/outbox/say.py, follow). An edit Telegram refused or
# deferred: the same state, later.
_CHANGED = _REFRESH.c.generation > bindparam("b_generation")
_LATER = bindparam("b_later", type_=UTCDateTime())
_PENDING_OR_DONE = case((_CHANGED, "pending"), else_="done")
_EDITED = _recorded(
    status=_PENDING_OR_DONE,
    due_at=_LATER,
    edited_at=bindparam("b_edited_at"),
    shown=bindparam("b_shown"),
)
# The state came back to what the message shows: no edit, so the spacing since the last one (its
# due_at was at least that) still holds.
_NOT_EDITED = _recorded(
    status=_PENDING_OR_DONE,
    due_at=case((_CHANGED, _LATER), else_=_REFRESH.c.due_at),
)
_AGAIN_LATER = _recorded(status="pending", due_at=bindparam("b_due_at"))


@dataclass
class _Claimed:
    id: int
    generation: int
    chat_id: int
    message_id: int
    content: Content | None
    digest: str | None = None


class Refresher:
    """Edits what is due, each message in its own task (a group out of budget waits alone)."""

    def __init__(
        self,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        now: Callable[[], datetime],
        spacing: float,
        turn: Callable[[], contextlib.AbstractAsyncContextManager[Any]],
    ) -> None:
        self.bot, self.sessionmaker, self.now, self.spacing, self.turn = bot, sessionmaker, now, spacing, turn
        self._wake = asyncio.Event()
        self._due_now = False  # set by wake(): run at once, not only look at the plan again
        self._planned: datetime | None = None  # the next run, from the table and the updates since
        self._asked: datetime | None = None  # the earliest edit updates asked for since a run began
        self._run_lock = asyncio.Lock()
        self._edits: set[asyncio.Task[None]] = set()
        self._editing: dict[int, int] = {}  # refresh id -> generation, while its edit waits or runs
        self._loop: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._due_now = True
        self._wake.set()

    def wake_at(self, due: datetime) -> None:
        """An update asked for an edit due then: the run is planned for that moment, without a
        look at the table until it comes (taps within a message's spacing cost no query here)."""
        if due <= self.now():
            self.wake()
            return
        self._asked = due if self._asked is None else min(self._asked, due)
        if self._planned is None or due < self._planned:
            self._planned = due
            self._wake.set()  # the loop waits again, until the earlier moment

    def start(self) -> None:
        self._loop = asyncio.create_task(self._run_forever())

    async def stop(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        await self.drain()

    async def drain(self) -> None:
        """Until the edits started so far are done (tests, the demo, shutdown)."""
        while self._edits:
            await asyncio.gather(*self._edits, return_exceptions=True)

    async def _run_forever(self) -> None:
        while True:
            self._asked = None
            try:
                await self.run_due()
                upcoming = await self.next_due()
            except Exception:
                log.exception("refresh run failed")
                upcoming = None
            # What updates asked for while this run looked is in the plan too.
            moments = [moment for moment in (upcoming, self._asked) if moment is not None]
            self._planned = min(moments) if moments else None
            await self._until_due()
            # Taps come in bursts: a moment's wait lets one run take the requests of many.
            await asyncio.sleep(GATHER_SECONDS)
            self._wake.clear()
            self._due_now = False

    async def _until_due(self) -> None:
        """Until the planned moment, or a wake(); a plan moved earlier is waited for instead."""
        while True:
            planned = self._planned
            timeout = None if planned is None else max(0.05, (planned - self.now()).total_seconds())
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                return
            self._wake.clear()
            if self._due_now:
                return

    async def next_due(self) -> datetime | None:
        async with self.sessionmaker() as session:
            return await session.scalar(select(func.min(Refresh.due_at)).where(Refresh.status == "pending"))

    async def run_due(self) -> int:
        """Claim what is due now, render it, and start its edits; returns how many. A few at a
        time, each batch its own short transaction: on SQLite, updates take their turn between
        batches instead of waiting for a hundred renderings."""
        started = 0
        async with self._run_lock:
            while True:
                claimed = await self._claim(self.now())
                for item in claimed:
                    self._editing[item.id] = item.generation
                    task = asyncio.create_task(self._edit(item))
                    self._edits.add(task)
                    task.add_done_callback(self._edits.discard)
                if self._editing and (self._renewer is None or self._renewer.done()):
                    self._renewer = asyncio.create_task(self._renew_claims())
                started += len(claimed)
                if len(claimed) < BATCH:
                    return started

    async def _claim(self, now: datetime) -> list[_Claimed]:
        claimed: list[_Claimed] = []
        async with self.turn(), self.sessionmaker.begin() as session:
            ready = or_(
                and_(Refresh.status == "pending", Refresh.due_at <= now),
                and_(Refresh.status == "editing", Refresh.claimed_at < now - LEASE),
            )
            query = select(Refresh).where(ready).order_by(Refresh.due_at).limit(BATCH)
            if locking(session):
                query = query.with_for_update(skip_locked=True)
            for row in await session.scalars(query):
                row.status, row.claimed_at = "editing", now
                content = await KINDS[row.kind](session, row.subject_id, now) if row.kind in KINDS else None
                if content is not None and row.tail:  # the blocks it was sent with, under the new state
                    content = Content(content.text + row.tail, content.markup)
                digest = content.digest() if content is not None else None
                if digest is not None and digest == row.shown:
                    content = None  # the state came back to what the message shows: no edit
                claimed.append(_Claimed(row.id, row.generation, row.chat_id, row.message_id, content, digest))
        return claimed

    async def _edit(self, item: _Claimed) -> None:
        send_priority.set(EDIT)  # this task's sends: after replies, before waves
        retry_in: float | None = None
        if item.content is not None:
            try:
                await self.bot.edit_message_text(
                    item.content.text,
                    chat_id=item.chat_id,
                    message_id=item.message_id,
                    reply_markup=item.content.markup,
                )
            except Exception as exc:
                answer = classify(exc)
                if answer.outcome is Outcome.RATE_LIMITED:
                    retry_in = answer.retry_after  # the same state, later
                elif answer.outcome is Outcome.TEMPORARY:  # Telegram or the network away a moment
                    log.warning("refresh failed, will retry: %s", answer.detail)
                    retry_in = 5.0
                elif answer.outcome is Outcome.MIGRATED and answer.migrated_to is not None:
                    async with self.turn(), self.sessionmaker.begin() as session:  # followed, not edited
                        await migrate_group(session, item.chat_id, answer.migrated_to)
                elif answer.outcome is not Outcome.SENT:
                    # Deleted, refused, the bot left, or the group became a supergroup (whose
                    # messages are numbered anew): nothing more to show there, never retried.
                    log.info("refresh of a message given up: %s", answer.detail)
        await self._record(item, retry_in)

    async def _renew_claims(self) -> None:
        """While edits wait (a group's minute budget can hold one for a minute or more), their
        claims are renewed well within the lease: no later run takes one over and edits twice."""
        while self._editing:
            await asyncio.sleep(LEASE.total_seconds() / 3)
            try:
                async with self.turn(), self.sessionmaker.begin() as session:
                    await session.execute(
                        update(Refresh)
                        .where(Refresh.id.in_(list(self._editing)), Refresh.status == "editing")
                        .values(claimed_at=self.now())
                    )
            except Exception:  # the database away a moment: the lease is long enough for one miss
                log.warning("could not renew the claims of waiting edits")

    async def _record(self, item: _Claimed, retry_in: float | None) -> None:
        self._editing.pop(item.id, None)
        now = self.now()
        if retry_in is not None:  # Telegram said wait, or failed: the same state, later
            values: dict[str, Any] = {"b_due_at": now + timedelta(seconds=retry_in)}
            statement = _AGAIN_LATER
        else:
            statement = _EDITED if item.content is not None else _NOT_EDITED
            values = {"b_generation": item.generation, "b_later": now + timedelta(seconds=self.spacing)}
            if item.content is not None:
                values |= {"b_edited_at": now, "b_shown": item.digest}
        async with self.turn(), self.sessionmaker.begin() as session:
            row = (await session.execute(statement, {"b_id": item.id, **values})).first()
        if row is not None and row.status == "pending":  # the loop may be asleep: it must plan this one
            self.wake_at(row.due_at)

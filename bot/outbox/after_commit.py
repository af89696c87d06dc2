"""What an update says, sent after its transaction commits, in order per chat.

Handlers never wait for Telegram's sending limits: they queue what they say (`queue_send`) and
the tap's answer (`queue_answer`) in the update's list. When the transaction commits, the
Application hands the list to the ChatSender: the tap's answer goes at once (answerCallbackQuery
is not rate limited), each chat's messages go one after another, behind that chat's earlier
messages only, so a busy group never holds up another. When the transaction fails, what was
queued is dropped (nothing is said about a change that did not happen) except what is marked
`always` (the apology).

Everything said is also a row of the update's transaction (bot/outbox/notices.py): what tells
people about a change, written by the handler with it, and every answer (a reply, an edit after a
tap, a document, a poll), written down just before the commit (`UpdateSends.write_down`) with its
whole call (bot/outbox/calls.py) and what it records once sent (bot/outbox/recorded.py). This
sender deletes each row once its message is out (recording what the message records in the same
transaction); a process that died before leaves the rows for the next dispatcher run. Only the
answer to a pressed button (useless after 15 s) and the apology after a failure stay in memory.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, Message
from telegram.error import TelegramError

from bot.domain.groups import deactivate_group, migrate_group
from bot.domain.people import mark_unreachable
from bot.outbox.answers import Outcome, classify
from bot.outbox.calls import encode_call
from bot.outbox.notices import answer_notice, finish, renew, still_ours
from bot.outbox.recorded import ANSWER_RECORDS, AfterSent

# Outcomes of one send, as the durable notices record them (bot/outbox/notices.py).
SENT, FORBIDDEN, REFUSED, FAILED, NETWORK = "sent", "forbidden", "refused", "failed", "network"

log = logging.getLogger(__name__)

RETRIES = 3  # tries of one send when Telegram fails (5xx) or the connection drops
# Calls about one message of the chat, by its id: pointless once the chat became a supergroup.
ABOUT_A_MESSAGE = frozenset(
    {"edit_message_text", "edit_message_reply_markup", "edit_message_caption", "stop_poll", "pin_chat_message"}
)
RENEW_EVERY = 20.0  # seconds between renewals of waiting notices' claims (a third of their lease)
# A claim made (or renewed) this recently cannot have been taken over: another run takes a row
# only once its 60 s lease has run out. Such a send skips the check, which would cost a
# transaction before every answer.
FRESH = 15.0
REPLY = "reply"  # the kind of a notice that is an update's answer


@dataclass
class Send:
    """One Bot API call, by python-telegram-bot method name, to one chat."""

    chat_id: int
    method: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    on_sent: AfterSent | None = None  # what the message records once sent (its id, a poll's id)
    always: bool = False  # sent even when the update's transaction fails
    notice: Any = None  # the durable row (storage.models.Notice) this send delivers, finished after
    claimed_at: float = 0.0  # when this process's claim on the row was made or renewed (monotonic)


@dataclass
class Answer:
    """The answer to a pressed button (answerCallbackQuery)."""

    query_id: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    always: bool = False
    by: int | None = None  # who pressed: their answers go out in the order of their taps


@dataclass
class UpdateSends:
    """What one update has queued so far."""

    sends: list[Send] = field(default_factory=list)
    answer: Answer | None = None
    # A message was asked to show a new state (bot/outbox/refresh.py): the earliest its edit is due.
    refresh: datetime | None = None
    wakes: list[datetime] = field(default_factory=list)  # the dispatcher asked to run at these moments
    # Work to start once the transaction has committed, outside it (a chart, a PDF drawn):
    # SQLite's one writer turn is not held while it runs.
    later: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def write_down(self, session: AsyncSession, now: datetime) -> None:
        """Every answer queued so far becomes a row of the update's transaction, claimed by this
        process: sent after the commit, or by the next dispatcher run if this process dies first.
        Called by the entry point just before it commits."""
        for send in self.sends:
            if send.notice is None:
                after = (send.on_sent.name, send.on_sent.args) if send.on_sent is not None else (None, None)
                send.notice = answer_notice(REPLY, send.chat_id, send.method, encode_call(send.kwargs), after, now)
                session.add(send.notice)

    def keep(self, committed: bool) -> UpdateSends:
        """What goes out: everything after a commit, only what is marked `always` otherwise."""
        if committed:
            return self
        answer = self.answer if self.answer is not None and self.answer.always else None
        return UpdateSends([s for s in self.sends if s.always], answer)


_current: contextvars.ContextVar[UpdateSends | None] = contextvars.ContextVar("relais_update_sends", default=None)


def collect() -> tuple[UpdateSends, contextvars.Token[UpdateSends | None]]:
    """Start collecting this update's sends (the Application calls it around each update)."""
    sends = UpdateSends()
    return sends, _current.set(sends)


def stop_collecting(token: contextvars.Token[UpdateSends | None]) -> None:
    _current.reset(token)


def _sends() -> UpdateSends:
    sends = _current.get()
    if sends is None:
        raise RuntimeError("queue_send outside an update: jobs send through the outbox")
    return sends


def queue_send(send: Send) -> None:
    _sends().sends.append(send)


def queue_message(
    chat_id: int, text: str, on_sent: AfterSent | None = None, always: bool = False, **kwargs: Any
) -> None:
    """A text message to a chat (sendMessage), with its options (reply_markup, ...)."""
    queue_send(Send(chat_id, "send_message", {"text": text, **kwargs}, on_sent, always))


def queue_answer(answer: Answer) -> None:
    """A button press has one answer; a later one replaces an earlier (the last word wins)."""
    _sends().answer = answer


def refresh_asked(due: datetime) -> None:
    sends = _sends()
    sends.refresh = due if sends.refresh is None else min(sends.refresh, due)


def queue_wake(moments: list[datetime]) -> None:
    """The dispatcher should run at these moments: asked once the transaction has committed (a
    run asked sooner could look before the rows it is to send exist)."""
    _sends().wakes.extend(moments)


def queue_later(work: Callable[[], Awaitable[None]]) -> None:
    """Start `work` once the update has committed (never if it fails)."""
    _sends().later.append(work)


def collecting() -> bool:
    """Whether an update is being handled here (its sends are queued until it commits)."""
    return _current.get() is not None


class ChatSender:
    """Sends what committed updates said: per chat in order, chats side by side."""

    def __init__(
        self,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        now: Callable[[], datetime],
        wake_at: Callable[[list[datetime]], None] = lambda moments: None,
    ) -> None:
        self.bot, self.sessionmaker, self.now, self.wake_at = bot, sessionmaker, now, wake_at
        self._queues: dict[int, deque[Send]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._waiting_notices: set[int] = set()  # claimed notices queued here, their claims renewed
        self._answering: dict[int, asyncio.Task[None]] = {}  # each person's latest answer on its way
        self._renewer: asyncio.Task[None] | None = None

    def submit(self, sends: UpdateSends) -> None:
        """What a committed update said (its rows were claimed in that transaction, a moment ago),
        or rows a dispatcher run just claimed."""
        if sends.answer is not None:
            self._start_answer(sends.answer)
        claimed_at = time.monotonic()
        for send in sends.sends:
            send.claimed_at = claimed_at
            if send.notice is not None:
                self._waiting_notices.add(send.notice.id)
                if self._renewer is None or self._renewer.done():
                    self._renewer = asyncio.ensure_future(self._renew_claims())
            queue = self._queues.get(send.chat_id)
            if queue is not None:
                queue.append(send)  # this chat's worker is running: it will take it in turn
                continue
            self._queues[send.chat_id] = deque([send])
            self._start(self._chat_worker(send.chat_id))

    def _start_answer(self, answer: Answer) -> None:
        """At once, beside everything else; after the same person's earlier answer if it is still
        on its way (two quick taps: the toast of the second must not come first)."""
        by = answer.by
        if by is None:
            self._start(self._answer(answer, None))
            return
        task = self._start(self._answer(answer, self._answering.get(by)))
        self._answering[by] = task
        task.add_done_callback(lambda done: self._answered(by, done))

    def _answered(self, by: int, task: asyncio.Task[None]) -> None:
        if self._answering.get(by) is task:  # a later answer of theirs is not forgotten
            del self._answering[by]

    def _start(self, work: Awaitable[None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self._idle.set()

    async def drain(self) -> None:
        """Until everything submitted so far is out (tests, the demo, shutdown)."""
        while self._tasks:
            await self._idle.wait()

    async def _renew_claims(self) -> None:
        """While notices wait here (behind a group's minute budget, say), renew their claims well
        within the lease, so that the dispatcher never takes one over and sends it twice."""
        while self._waiting_notices:
            await asyncio.sleep(RENEW_EVERY)
            try:
                async with self.sessionmaker.begin() as session:
                    await renew(session, sorted(self._waiting_notices), self.now())
            except Exception:  # the database away a moment: the check before sending still holds
                log.warning("could not renew the claims of waiting notices")

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._queues.clear()

    async def _answer(self, answer: Answer, earlier: asyncio.Task[None] | None) -> None:
        if earlier is not None:
            await asyncio.wait([earlier])  # its outcome is its own
        try:
            await self.bot.answer_callback_query(answer.query_id, **answer.kwargs)
        except TelegramError as exc:  # too late (over 15 s) or already answered: nothing to do
            log.info("could not answer a button: %s", exc.__class__.__name__)

    async def _chat_worker(self, chat_id: int) -> None:
        queue = self._queues[chat_id]
        try:
            while queue:
                await self._deliver(queue[0])
                queue.popleft()
        finally:
            del self._queues[chat_id]

    async def _deliver(self, send: Send) -> None:
        if send.notice is None:  # the apology after a failure: nothing written, nothing to record
            await self._try(send)
            return
        try:
            if time.monotonic() - send.claimed_at >= FRESH and not await self._still_ours(send):
                log.info("notice %s was taken over by another run: not sent from here", send.notice.id)
                return
            outcome, result = await self._try(send)
            await self._finish_notice(send, outcome, result)
        finally:
            self._waiting_notices.discard(send.notice.id)

    async def _still_ours(self, send: Send) -> bool:
        try:
            async with self.sessionmaker.begin() as session:
                return await still_ours(session, send.notice.id, send.notice.attempts, self.now())
        except Exception:  # cannot tell: not sending is the safe side (the lease gives it back later)
            log.warning("could not check the claim of notice %s", send.notice.id)
            return False

    async def _try(self, send: Send) -> tuple[str, Any]:
        for attempt in range(RETRIES):
            outcome, result = await self._deliver_once(send)
            if outcome != NETWORK:
                return outcome, result
            if attempt < RETRIES - 1:  # Telegram's 5xx, a timeout, a dropped connection
                await asyncio.sleep(0.2 * 2**attempt)
        log.warning("%s failed %s times: left for later", send.method, RETRIES)
        return NETWORK, None

    async def _finish_notice(self, send: Send, outcome: str, result: Any) -> None:
        """The row goes (or waits for a retry) and what the message records is recorded, in one
        transaction: a crash before it sends the message again, never records it half. A record
        that fails does not keep the row: the message is out, it must not go twice."""
        record = send.on_sent if outcome == SENT and isinstance(result, Message) else None
        moments = await self._end(send.notice, outcome, record, result)
        if moments is None and record is not None:
            moments = await self._end(send.notice, outcome, None, result)
        if moments:
            self.wake_at(moments)

    async def _end(self, notice: Any, outcome: str, record: AfterSent | None, result: Any) -> list[datetime] | None:
        """One transaction: the message's record (if any), then the row's end; None if it failed
        (the row stays claimed: after its lease, the next run sends it again)."""
        try:
            async with self.sessionmaker.begin() as session:
                moments = await ANSWER_RECORDS[record.name](session, result, record.args) if record else []
                await finish(session, notice.id, outcome, self.now(), notice.attempts)
            return moments
        except Exception:
            log.exception("recording notice %s failed", notice.id)
            return None

    async def _deliver_once(self, send: Send) -> tuple[str, Any]:
        """One try, its answer read by the one classifier (bot/outbox/answers.py)."""
        method = getattr(self.bot, send.method)
        chat_id = send.chat_id
        while True:
            try:
                result = await method(chat_id=chat_id, **send.kwargs)
                break
            except Exception as exc:
                answer = classify(exc)
            if answer.outcome is Outcome.MIGRATED and answer.migrated_to is not None and chat_id == send.chat_id:
                async with self.sessionmaker.begin() as session:  # follow the group
                    await migrate_group(session, send.chat_id, answer.migrated_to)
                if send.method in ABOUT_A_MESSAGE:
                    return REFUSED, None  # the supergroup numbers its messages anew: nothing to edit there
                chat_id = answer.migrated_to  # a new message goes to the supergroup
                continue
            if answer.outcome is Outcome.SENT:  # an edit that changes nothing: already shown
                return SENT, None
            if answer.outcome is Outcome.BLOCKED:
                async with self.sessionmaker.begin() as session:
                    if send.chat_id > 0:
                        await mark_unreachable(session, send.chat_id, self.now())
                    else:
                        await deactivate_group(session, send.chat_id, self.now())
                return FORBIDDEN, None
            if answer.outcome in (Outcome.TEMPORARY, Outcome.RATE_LIMITED):
                return NETWORK, None  # tried again (a notice: later, with growing waits)
            log.warning("%s refused: %s", send.method, answer.detail)
            return REFUSED, None
        return SENT, result

"""Telegram's sending limits, with priorities: answers to people go before scheduled waves.

Telegram allows about 30 messages a second overall, 20 a minute in one group (edits count too)
and about one a second in one private chat (after a short burst), and answers more with 429
"retry after". This rate limiter (python-telegram-bot's BaseRateLimiter) paces sends evenly
overall and keeps each group within its minute budget and each private chat within its own,
like AIORateLimiter, with three differences that keep Relais responsive:

- Only what Telegram limits waits: sends and edits. answerCallbackQuery, getChatAdministrators,
  getUpdates and the rest go straight through, so a tap is acknowledged even while a reminder
  wave holds the whole budget.
- A 429 about one chat makes that chat wait, not every send.
- Waiters are served by priority, then in order. A reply or a confirmation (INTERACTIVE, the
  default) takes the next free slot, then edits that bring counts up to date (EDIT, set by the
  refresher), then the messages of a scheduled wave (WAVE, set by the dispatcher); so a reply
  during a wave of 15,000 messages waits for one slot, not for the wave. A group waiting for its
  minute budget does not hold the overall queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import heapq
import itertools
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.outbox.answers import Outcome, classify
from bot.outbox.group_budget import SharedGroupBudget

log = logging.getLogger(__name__)

INTERACTIVE = 0  # replies and confirmations to someone who just acted
EDIT = 1  # messages brought up to date (counts): they can wait a moment for a reply to pass
WAVE = 2  # scheduled sends: reminders, digests
# Who is sending in this task: the dispatcher sets WAVE for the duration of a run.
send_priority: contextvars.ContextVar[int] = contextvars.ContextVar("relais_send_priority", default=INTERACTIVE)

# What Telegram counts against the sending limits (edits included, as Telegram counts them).
LIMITED = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "sendPoll",
        "sendLocation",
        "sendVenue",
        "sendMediaGroup",
        "copyMessage",
        "forwardMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
        "stopPoll",
    }
)


class GroupBudget:
    """At most `per_period` sends in any `period` seconds, as reserved start times."""

    def __init__(self, per_period: int, period: float) -> None:
        self.per_period, self.period = per_period, period
        self._starts: deque[float] = deque()

    def reserve(self, now: float) -> float:
        """The earliest moment the next send may start (reserved for the caller)."""
        starts = self._starts
        at = now if len(starts) < self.per_period else max(now, starts[0] + self.period)
        starts.append(at)
        while len(starts) > self.per_period:
            starts.popleft()
        return at


class PrivateBudget:
    """One private chat: a burst of `burst` messages, then `per_second` (a bucket of tokens, as
    reserved start times): Telegram answers more with 429 for that chat."""

    def __init__(self, burst: int, per_second: float) -> None:
        self.burst, self.per_second = burst, per_second
        self._tokens, self._at = float(burst), float("-inf")

    def reserve(self, now: float) -> float:
        if now > self._at:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.per_second)
            self._at = now
        if self._tokens < 1:
            self._at += (1 - self._tokens) / self.per_second
            self._tokens = 1.0
        self._tokens -= 1
        return self._at


class Pacer:
    """One start every `interval` seconds overall; waiting callers served by priority, then FIFO."""

    def __init__(self, interval: float, clock: Callable[[], float]) -> None:
        self.interval = interval
        self._clock = clock
        self._next_free = 0.0
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._releaser: asyncio.Task[None] | None = None
        self.paused_until = 0.0

    async def slot(self, priority: int) -> None:
        now = self._clock()
        if not self._waiting and self._next_free <= now and self.paused_until <= now:
            self._next_free = now + self.interval
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), future))
        if self._releaser is None or self._releaser.done():
            self._releaser = asyncio.create_task(self._release())
        await future

    async def _release(self) -> None:
        while self._waiting:
            now = self._clock()
            start = max(self._next_free, self.paused_until)
            if start > now:
                await asyncio.sleep(start - now)
                continue
            _priority, _order, future = heapq.heappop(self._waiting)
            if future.cancelled():
                continue
            # Keep to the schedule: waking a few milliseconds late (a busy event loop) must not
            # push every later slot back, or a wave goes at 25/s instead of 29. Late by more than
            # a slot, the schedule starts again from now (no burst to catch up).
            behind = now - self._next_free
            self._next_free = (self._next_free if behind < self.interval else now) + self.interval
            future.set_result(None)

    def close(self) -> None:
        if self._releaser is not None:
            self._releaser.cancel()
        for _priority, _order, future in self._waiting:
            future.cancel()
        self._waiting.clear()


class PriorityRateLimiter(BaseRateLimiter[int]):
    """Evenly paced overall (`per_second`), `group_per_minute` per group, priorities, retries.

    An evenly paced start (one every 1/per_second s) matters: a bucket that lets 30 go at once and
    30 more within the same second earns 429s from Telegram, and each one pauses every send."""

    def __init__(
        self,
        per_second: float,
        group_per_minute: int = 20,
        max_retries: int = 3,
        on_outcome: Callable[[str], None] = lambda outcome: None,
        private_burst: int = 8,
        private_per_second: float = 0.9,
    ) -> None:
        self.per_second = per_second
        self.private_burst, self.private_per_second = private_burst, private_per_second
        self.on_outcome = on_outcome  # each send's answer: ok, 429, 403 or error (GET /metrics)
        self.group_per_minute = group_per_minute
        self.max_retries = max_retries
        self._pacer: Pacer | None = None
        self._groups: dict[int | str, GroupBudget] = {}
        # Processes sharing a PostgreSQL database keep each group's budget there, together
        # (bot/outbox/group_budget.py); None: this process alone counts (SQLite, one process).
        self.shared: SharedGroupBudget | None = None
        self._chat_turns: dict[int, asyncio.Lock] = {}
        self._private: dict[int, PrivateBudget] = {}

    def _clock(self) -> float:
        return asyncio.get_running_loop().time()

    async def initialize(self) -> None:
        self._pacer = Pacer(self.share / self.per_second, self._clock)

    share = 1  # processes sharing Telegram's limit (bot/outbox/workers.py): this one paces at 1/share

    def set_share(self, processes: int) -> None:
        """`processes` share the rate from now on; the pace changes at the next slot."""
        processes = max(1, processes)
        if processes != self.share:
            log.info(
                "%s processes share the sending rate: %.1f messages/s each", processes, self.per_second / processes
            )
        self.share = processes
        if self._pacer is not None:
            self._pacer.interval = processes / self.per_second

    async def shutdown(self) -> None:
        if self._pacer is not None:
            self._pacer.close()

    def _chat_of(self, data: dict[str, Any]) -> int | str | None:
        chat_id = data.get("chat_id")
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)  # type: ignore[arg-type]
        return chat_id if isinstance(chat_id, int | str) else None

    async def _wait_turn(self, chat: int | str | None) -> None:
        budget: GroupBudget | PrivateBudget | None = None
        if isinstance(chat, int) and chat < 0 and self.shared is not None:
            # One group's sends take their turn in the order they came (a lock is first come,
            # first served), through the shared reservation and the overall pace alike.
            async with self._chat_turns.setdefault(chat, asyncio.Lock()):
                await asyncio.sleep(await self.shared.reserve(chat))
                await self._slot()
            return
        if isinstance(chat, str) or (isinstance(chat, int) and chat < 0):
            budget = self._groups.setdefault(chat, GroupBudget(self.group_per_minute, 60.0))
        elif isinstance(chat, int):
            budget = self._private.setdefault(chat, PrivateBudget(self.private_burst, self.private_per_second))
        if budget is not None:
            start = budget.reserve(self._clock())
            delay = start - self._clock()
            if delay > 0:
                await asyncio.sleep(delay)
        await self._slot()

    async def _slot(self) -> None:
        if self._pacer is None:
            await self.initialize()
        assert self._pacer is not None
        await self._pacer.slot(send_priority.get())

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint not in LIMITED:
            return await callback(*args, **kwargs)
        chat = self._chat_of(data)
        retries = self.max_retries if rate_limit_args is None else rate_limit_args
        for attempt in range(retries + 1):
            await self._wait_turn(chat)
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.on_outcome("429")
                if attempt == retries:
                    raise
                pause = classify(exc).retry_after + 0.1
                log.info("Telegram asked to wait %.1f s", pause)
                if chat is not None:
                    # Most likely this chat's own limit (a group's minute, a person's second; another
                    # process, or Telegram counting differently): only this chat waits, not everyone.
                    await asyncio.sleep(pause)
                else:
                    assert self._pacer is not None  # everyone waits: Telegram refuses all until then
                    self._pacer.paused_until = max(self._pacer.paused_until, self._clock() + pause)
            except Exception as exc:
                self.on_outcome("403" if classify(exc).outcome is Outcome.BLOCKED else "error")
                raise
            else:
                self.on_outcome("ok")
                return result
        raise AssertionError("unreachable")

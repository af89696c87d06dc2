"""Updates of different chats side by side, those of one chat (and of one person) in order.

python-telegram-bot hands updates one at a time by default; with this processor each update runs
as soon as the previous updates of its chat and of its sender are done, and at most `running`
updates run at once. Updates waiting for their turn do not count against that bound, so a busy
group only delays itself (and its members' other updates).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# python-telegram-bot's own bound counts updates waiting for their chat's turn too; it is only a
# guard on memory here, the real bound is `running`.
_WAITING_BOUND = 10_000


def order_keys(update: object) -> tuple[int | str, ...]:
    """What must keep its order: a chat's updates, and a person's (a tap in the group, then
    /mesdonnees in private); a poll's counts and answers, which carry no chat and each rewrite the
    poll's tally."""
    if not isinstance(update, Update):
        return ()
    keys: list[int | str] = []
    if update.poll is not None:
        keys.append(f"poll:{update.poll.id}")
    if update.poll_answer is not None:
        keys.append(f"poll:{update.poll_answer.poll_id}")
    if update.effective_chat is not None:
        keys.append(update.effective_chat.id)
    if update.effective_user is not None and update.effective_user.id not in keys:
        keys.append(update.effective_user.id)
    return tuple(keys)


class ChatOrderedProcessor(BaseUpdateProcessor):
    def __init__(self, running: int) -> None:
        super().__init__(_WAITING_BOUND)
        self._slots = asyncio.BoundedSemaphore(running)
        self._tails: dict[int | str, asyncio.Future[None]] = {}
        # For tests and the demo: which updates were taken in (in order) and are not done yet.
        self._taken_up_to = 0
        self._unfinished: set[int] = set()
        self._changed = asyncio.Event()

    async def wait_done(self, update_id: int) -> None:
        """Until every update up to this id has been taken in and handled."""
        while self._taken_up_to < update_id or any(taken <= update_id for taken in self._unfinished):
            self._changed.clear()
            await self._changed.wait()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        if update_id is not None:
            self._taken_up_to = max(self._taken_up_to, update_id)
            self._unfinished.add(update_id)
        try:
            await self._in_turn(update, coroutine)
        finally:
            if update_id is not None:
                self._unfinished.discard(update_id)
                self._changed.set()

    async def _in_turn(self, update: object, coroutine: Awaitable[Any]) -> None:
        keys = order_keys(update)
        # Taken before any await: the chains follow the order python-telegram-bot started tasks in,
        # so waiting for several predecessors cannot deadlock.
        previous = [self._tails[key] for key in keys if key in self._tails]
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        for key in keys:
            self._tails[key] = done
        started = False
        try:
            for earlier in previous:
                await asyncio.shield(earlier)
            async with self._slots:
                started = True
                await coroutine
        finally:
            if not started and hasattr(coroutine, "close"):
                coroutine.close()  # cancelled while waiting (shutdown): never run, never awaited
            done.set_result(None)
            for key in keys:
                if self._tails.get(key) is done:
                    del self._tails[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

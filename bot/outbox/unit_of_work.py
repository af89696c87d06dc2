"""One unit of work for every entry point that changes something for people (an update, a
dashboard request): what it says is collected while its transaction runs, written down in that
transaction just before it commits (`Work.write_down`: every answer becomes a row, as notices
are), and only once the transaction has committed is it sent (replies, notices, edits) and the
dispatcher woken at the moments it asked for. If it rolls back, only what is marked `always` goes
(the apology), and nothing is planned. The caller owns the transaction, writes down before its
commit and says how it ended (`committed`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox.after_commit import ChatSender, UpdateSends, collect, stop_collecting
from bot.outbox.refresh import Refresher

log = logging.getLogger(__name__)


@dataclass
class Work:
    sends: UpdateSends
    committed: bool = False

    async def write_down(self, session: AsyncSession, now: datetime) -> None:
        """What was said so far, as rows of this transaction (called just before its commit):
        a process that dies between the commit and the send loses no answer."""
        self.sends.write_down(session, now)
        await session.flush()


@contextlib.contextmanager
def unit_of_work(
    sender: ChatSender | None,
    refresher: Refresher | None,
    wake_at: Callable[[Iterable[datetime]], None],
) -> Iterator[Work]:
    sends, token = collect()
    work = Work(sends)
    try:
        yield work
    finally:
        stop_collecting(token)
        if sender is not None:
            sender.submit(sends.keep(work.committed))
        if work.committed:
            if sends.refresh is not None and refresher is not None:
                refresher.wake_at(sends.refresh)
            if sends.wakes:
                wake_at(sends.wakes)
            for later in sends.later:
                _start(later)


_LATER: set[asyncio.Task[None]] = set()  # the work started after a commit, held until it ends


def _start(later: Callable[[], Awaitable[None]]) -> None:
    async def run() -> None:
        try:
            await later()
        except Exception:
            log.exception("work after a commit failed")

    task = asyncio.get_running_loop().create_task(run())
    _LATER.add(task)
    task.add_done_callback(_LATER.discard)


async def later_idle() -> None:
    """Wait until the work started after commits has ended (tests, the demo, a clean stop)."""
    while _LATER:
        await asyncio.gather(*list(_LATER), return_exceptions=True)

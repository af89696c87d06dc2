"""The Application subclass: one database transaction per update, duplicate updates dropped,
and a record of processed updates (tests and the demo wait on it)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.services import SERVICES, current_session

_REMEMBERED_UPDATES = 10_000
_STATE = "relais.updates"


@dataclass
class UpdateLog:
    """Which updates this process has taken in, handled, and seen fail."""

    seen: OrderedDict[int, None] = field(default_factory=OrderedDict)
    failed: set[int] = field(default_factory=set)
    processed: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class RelaisApplication(Application):
    """python-telegram-bot's Application with Relais' transaction and idempotency rules."""

    def update_log(self) -> UpdateLog:
        return self.bot_data.setdefault(_STATE, UpdateLog())

    async def process_update(self, update: object) -> None:
        if not isinstance(update, Update) or SERVICES not in self.bot_data:
            await super().process_update(update)
            return
        log = self.update_log()
        seen = log.seen
        if update.update_id in seen:  # Telegram re-sends a webhook update it got no 2xx for
            return
        seen[update.update_id] = None
        while len(seen) > _REMEMBERED_UPDATES:
            seen.popitem(last=False)
        sessionmaker = self.bot_data[SERVICES].sessionmaker
        try:
            async with sessionmaker() as session:
                token = current_session.set(session)
                try:
                    await super().process_update(update)
                    if update.update_id in log.failed:
                        await session.rollback()
                    else:
                        await session.commit()
                finally:
                    current_session.reset(token)
                    log.failed.discard(update.update_id)
        finally:
            log.processed = max(log.processed, update.update_id)
            log.changed.set()

    async def process_error(self, update: object | None, error: Exception, job: Any = None, coroutine: Any = None) -> bool:
        if isinstance(update, Update):
            self.update_log().failed.add(update.update_id)
        return await super().process_error(update, error, job, coroutine)

    async def wait_processed(self, update_id: int, timeout: float = 10.0) -> None:
        """Wait until every update up to `update_id` has been handled."""
        log = self.update_log()
        async with asyncio.timeout(timeout):
            while log.processed < update_id:
                log.changed.clear()
                await log.changed.wait()

"""The Application subclass: one database transaction per update, duplicate updates dropped,
and a record of processed updates (tests and the demo wait on it)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.services import SERVICES, current_session

_REMEMBERED_UPDATES = 10_000


class RelaisApplication(Application):
    """python-telegram-bot's Application with Relais' transaction and idempotency rules."""

    def _relais_state(self) -> dict[str, Any]:
        state = self.bot_data.setdefault(
            "relais.updates",
            {"seen": OrderedDict(), "processed": 0, "event": asyncio.Event(), "failed": set()},
        )
        return state

    async def process_update(self, update: object) -> None:
        if not isinstance(update, Update) or SERVICES not in self.bot_data:
            await super().process_update(update)
            return
        state = self._relais_state()
        seen: OrderedDict[int, None] = state["seen"]
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
                    if update.update_id in state["failed"]:
                        await session.rollback()
                    else:
                        await session.commit()
                finally:
                    current_session.reset(token)
                    state["failed"].discard(update.update_id)
        finally:
            state["processed"] = max(state["processed"], update.update_id)
            state["event"].set()

    async def process_error(self, update: object | None, error: Exception, job: Any = None, coroutine: Any = None) -> bool:
        if isinstance(update, Update):
            self._relais_state()["failed"].add(update.update_id)
        return await super().process_error(update, error, job, coroutine)

    async def wait_processed(self, update_id: int, timeout: float = 10.0) -> None:
        """Wait until every update up to `update_id` has been handled."""
        state = self._relais_state()
        async with asyncio.timeout(timeout):
            while state["processed"] < update_id:
                state["event"].clear()
                await state["event"].wait()

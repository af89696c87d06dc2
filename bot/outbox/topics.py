"""Where a message goes in a forum group (a supergroup with topics).

Answers land where they were asked: `handlers.common.answering` names the topic of the message
(or says General explicitly, with `GENERAL`) and quotes it. Everything else Relais says to a
group on its own (announcements, reminders, news, closings) names no topic: the process's bot
(bot/outbox/relais_bot.py) puts it in the topic the facilitators chose by typing /configurer
there, whichever sender it comes from.

When Telegram refuses that place (a closed topic or a closed General answers TOPIC_CLOSED to a
bot that is not an administrator; a deleted topic, "message thread not found"), the message goes
to General, or else to the latest topic a command came from, and the group is told once (a
durable notice) that Relais writes elsewhere until someone types /configurer in the topic wanted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.error import BadRequest

from bot.domain.groups import warn_once
from bot.outbox.notices import pending_notice
from bot.ui.i18n import t
from storage.models import Group

log = logging.getLogger(__name__)

# Said by an answer to something tapped in General: "General", not "wherever the group chose".
# Never sent to Telegram (the bot removes it).
GENERAL = 0
FRESH_SECONDS = 60.0  # another process's /configurer is seen within a minute


def topic_refused(error: BadRequest) -> bool:
    text = error.message.lower()
    return "topic_closed" in text or "thread not found" in text or "topic_deleted" in text


class Topics:
    """The groups' chosen topics and latest seen topics, read from the database (at most a minute
    old), and the one-time notice when Relais must write elsewhere."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], now: Callable[[], datetime]) -> None:
        self.sessionmaker, self.now = sessionmaker, now
        self._chosen: dict[int, int] = {}
        self._seen: dict[int, int] = {}
        self._read_at = float("-inf")

    def expire(self) -> None:
        """Read them again before the next send (a topic was chosen: its update's sends follow
        its commit, so they see it)."""
        self._read_at = float("-inf")

    async def _fresh(self) -> None:
        if time.monotonic() - self._read_at < FRESH_SECONDS:
            return
        async with self.sessionmaker() as session:
            rows = (
                await session.execute(
                    select(Group.chat_id, Group.topic_id, Group.seen_topic_id).where(
                        Group.active, or_(Group.topic_id.is_not(None), Group.seen_topic_id.is_not(None))
                    )
                )
            ).all()
        self._chosen = {chat_id: topic for chat_id, topic, _ in rows if topic is not None}
        self._seen = {chat_id: seen for chat_id, _, seen in rows if seen is not None}
        self._read_at = time.monotonic()

    async def chosen(self, chat_id: Any) -> int | None:
        await self._fresh()
        return self._chosen.get(chat_id) if isinstance(chat_id, int) else None

    def elsewhere(self, chat_id: int, tried: int | None) -> list[int | None]:
        """Where to try next, in order: General, then the latest topic a command came from."""
        places: list[int | None] = [None, self._seen.get(chat_id)]
        return [place for place in dict.fromkeys(places) if place != tried]

    async def moved(self, chat_id: int) -> None:
        """Tell the group once that Relais writes elsewhere than the place chosen."""
        try:
            async with self.sessionmaker.begin() as session:
                now = self.now()
                group = await warn_once(session, chat_id, "topic_warned_at", now)
                if group is None:
                    return
                session.add(pending_notice("topic_moved", t(group.language, "topics.moved"), None, now, group.id, None))
        except Exception:  # the message itself went out: the warning can wait for another one
            log.exception("could not record that group messages moved topic")

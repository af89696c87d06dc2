"""Where a message goes in a forum group (a supergroup with topics).

Answers land where they were asked: `handlers.common.answering` names the topic of the message
(or says General explicitly, with `GENERAL`) and quotes it. Everything else Relais says to a
group on its own (announcements, reminders, news, closings) names no topic: the process's bot
(`TopicBot`, python-telegram-bot's ExtBot) puts it in the topic the facilitators chose by typing
/configurer there, whichever sender it comes from.

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
from telegram.ext import ExtBot

from bot.outbox.notices import new_notice
from bot.ui.i18n import t
from storage.models import Group

log = logging.getLogger(__name__)

# Said by an answer to something tapped in General: "General", not "wherever the group chose".
# Never sent to Telegram (the bot removes it).
GENERAL = 0
PLACED = frozenset({"sendMessage", "sendPoll", "sendDocument", "sendPhoto", "sendLocation", "sendVenue"})
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
                group = await session.scalar(select(Group).where(Group.chat_id == chat_id))
                if group is None or group.topic_warned_at is not None:
                    return
                now = self.now()
                group.topic_warned_at = now
                notice = new_notice("topic_moved", t(group.language, "topics.moved"), None, now, group.id, None)
                notice.status, notice.claimed_by, notice.claimed_at, notice.attempts = "pending", None, None, 0
                session.add(notice)
        except Exception:  # the message itself went out: the warning can wait for another one
            log.exception("could not record that group messages moved topic")


class TopicBot(ExtBot[int]):
    """python-telegram-bot's bot, placing what Relais says to a forum group on its own in the
    group's chosen topic, and elsewhere when Telegram refuses that place."""

    def __init__(self, *args: Any, topics: Topics | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        with self._unfrozen():
            self.topics = topics

    async def _post(self, endpoint: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        topics = self.topics
        if topics is None or endpoint not in PLACED or data is None:
            return await super()._post(endpoint, data, **kwargs)
        chat_id = data.get("chat_id")
        if data.get("message_thread_id") == GENERAL:
            return await super()._post(endpoint, {**data, "message_thread_id": None}, **kwargs)
        if data.get("message_thread_id") is not None or not isinstance(chat_id, int):
            return await super()._post(endpoint, data, **kwargs)  # placed by the caller
        chosen = await topics.chosen(chat_id)
        quoting = data.get("reply_parameters") is not None  # goes where the quoted message is
        try:
            return await super()._post(endpoint, data if quoting else {**data, "message_thread_id": chosen}, **kwargs)
        except BadRequest as exc:
            if not topic_refused(exc):
                raise
            refusal = exc
        places = ([chosen] if quoting and chosen is not None else []) + topics.elsewhere(chat_id, chosen)
        for place in places:  # without the quote, which stays where it was refused
            try:
                result = await super()._post(
                    endpoint, {**data, "message_thread_id": place, "reply_parameters": None}, **kwargs
                )
            except BadRequest as exc:
                if not topic_refused(exc):
                    raise
                continue
            log.info("chat %s: the chosen place refused a message, sent elsewhere", chat_id)
            if place != chosen:
                await topics.moved(chat_id)
            return result
        raise refusal

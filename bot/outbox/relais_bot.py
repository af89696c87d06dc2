"""The process's bot: python-telegram-bot's ExtBot, with two of Telegram's rules applied to every
send, whichever sender it comes from (an update's answers, notices, the dispatcher, edits):

- where a message goes in a forum group (bot/outbox/topics.py): what names no topic goes to the
  group's chosen one, and elsewhere when Telegram refuses that place;
- how long a message may be (bot/ui/lengths.py): a text over 4,096 UTF-16 units is sent as
  several messages, cut between lines (the buttons under the last, the quote on the first); an
  edit over it is shortened;
- a refusal for lack of rights in a group is told to its facilitators once (bot/outbox/rights.py).
"""

from __future__ import annotations

import logging
from typing import Any

from telegram.error import BadRequest, TelegramError
from telegram.ext import ExtBot

from bot.outbox.rights import Rights, rights_refused
from bot.outbox.topics import GENERAL, Topics, topic_refused
from bot.ui.lengths import shortened, split_text

log = logging.getLogger(__name__)

PLACED = frozenset({"sendMessage", "sendPoll", "sendDocument", "sendPhoto", "sendLocation", "sendVenue"})


class RelaisBot(ExtBot[int]):
    def __init__(self, *args: Any, topics: Topics | None = None, rights: Rights | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        with self._unfrozen():
            self.topics, self.rights = topics, rights

    async def _post(self, endpoint: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        try:
            return await self._post_whole(endpoint, data, **kwargs)
        except BadRequest as exc:
            chat_id = data.get("chat_id") if data is not None else None
            if self.rights is not None and isinstance(chat_id, int) and chat_id < 0 and rights_refused(exc):
                await self.rights.refused(chat_id, await self._admin_ids(chat_id))
            raise

    async def _admin_ids(self, chat_id: int) -> frozenset[int]:
        try:
            return frozenset(member.user.id for member in await self.get_chat_administrators(chat_id))
        except TelegramError:
            return frozenset()

    async def _post_whole(self, endpoint: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        if data is not None and endpoint == "editMessageText" and isinstance(data.get("text"), str):
            data = {**data, "text": shortened(data["text"])}
        if data is not None and endpoint == "sendMessage" and isinstance(data.get("text"), str):
            parts = split_text(data["text"])
            if len(parts) > 1:
                log.info("a message over Telegram's length goes as %s messages", len(parts))
                result = None
                for index, part in enumerate(parts):
                    last = index == len(parts) - 1
                    piece = {
                        **data,
                        "text": part,
                        "reply_markup": data.get("reply_markup") if last else None,
                        "reply_parameters": data.get("reply_parameters") if index == 0 else None,
                    }
                    result = await self._placed(endpoint, piece, **kwargs)
                return result  # the last: a message to edit later is the one with the buttons
        return await self._placed(endpoint, data, **kwargs)

    async def _placed(self, endpoint: str, data: dict[str, Any] | None, **kwargs: Any) -> Any:
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

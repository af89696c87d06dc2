"""A group where Telegram refuses Relais a message for lack of a right ("not enough rights": an
administrator restricted the bot, or took away its right to send, to pin...). Nothing is said to
the group, which may not be writable; the group's facilitators are told once, in private, what
Relais cannot do and how to give it back (a durable notice each). Told again only after the bot's
rights change (handlers/groups.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.error import BadRequest

from bot.domain.facilitators import group_facilitators
from bot.domain.groups import warn_once
from bot.domain.people import reachable_in_private
from bot.outbox.notices import pending_notice
from bot.ui.i18n import pick_language, t

log = logging.getLogger(__name__)


def rights_refused(error: BadRequest) -> bool:
    text = error.message.lower()
    return "not enough rights" in text or "chat_write_forbidden" in text or "chat_send_" in text


class Rights:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], now: Callable[[], datetime]) -> None:
        self.sessionmaker, self.now = sessionmaker, now

    async def refused(self, chat_id: int, admin_ids: frozenset[int]) -> None:
        try:
            async with self.sessionmaker.begin() as session:
                now = self.now()
                group = await warn_once(session, chat_id, "rights_warned_at", now)
                if group is None:
                    return

                async def admins(_chat_id: int) -> frozenset[int]:
                    return admin_ids

                for person in await group_facilitators(session, group, admins):
                    if not reachable_in_private(person):
                        continue
                    language = pick_language(person.language_code, group.language)
                    text = t(language, "rights.missing", group=group.display_name)
                    session.add(pending_notice("rights_missing", text, None, now, None, person.id))
                log.info("group %s: Telegram refused a message for lack of rights; facilitators told", group.id)
        except Exception:
            log.exception("could not tell the facilitators of a refusal for lack of rights")

"""Sending outside a reply: follow a group that became a supergroup, and treat 403 as a fact
about the recipient (removed from the group, or never started / blocked the bot), not an error."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, Message
from telegram.error import ChatMigrated, Forbidden

from bot.domain.groups import deactivate_group, migrate_group
from bot.domain.people import mark_unreachable
from storage.models import Group, Person

log = logging.getLogger(__name__)


async def send_to_group(
    bot: Bot, session: AsyncSession, group: Group, text: str, now: Any, **kwargs: Any
) -> Message | None:
    """Send to the group's chat; None when the bot can no longer write there."""
    if not group.active:
        return None
    try:
        return await bot.send_message(group.chat_id, text, **kwargs)
    except ChatMigrated as exc:
        await migrate_group(session, group.chat_id, exc.new_chat_id)
        return await bot.send_message(exc.new_chat_id, text, **kwargs)
    except Forbidden:
        log.info("group %s no longer reachable; deactivated", group.id)
        await deactivate_group(session, group.chat_id, now)
        return None


async def send_private(
    bot: Bot, session: AsyncSession, person: Person, text: str, now: Any, **kwargs: Any
) -> Message | None:
    """Send in private to someone who started the bot; a 403 marks them unreachable."""
    if person.private_status != "started":
        return None
    try:
        return await bot.send_message(person.telegram_id, text, **kwargs)
    except Forbidden:
        await mark_unreachable(session, person.telegram_id, now)
        return None

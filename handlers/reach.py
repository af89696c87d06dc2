"""/joignables: a facilitator gets, in private, the members no private reminder reaches (never
opened the chat, blocked the bot, stopped reminders), to phone or text them. The same list comes
with each meeting's first reminder (bot/outbox/expand.py)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.domain.people import unreachable_members
from bot.services import db
from bot.ui.i18n import t
from bot.ui.reach import unreachable_text
from handlers.common import Context, private_reader, reply, require_facilitator, say


async def reach_command(update: Update, context: Context) -> None:
    group = await require_facilitator(update, context)
    if group is None:
        return
    asker = await private_reader(update, context, group, "reach.start_first")
    if asker is None:
        return
    say(asker.telegram_id, unreachable_text(group.language, group, await unreachable_members(db(), group)))
    reply(update, t(group.language, "reach.sent"))


def register(application: Application) -> None:
    application.add_handler(CommandHandler("joignables", reach_command))

"""Reaching everyone. /joignables: a facilitator gets, in private, the members no private reminder
reaches (never opened the chat, blocked the bot, stopped reminders), to phone or text them, and
how many members Telegram counts that Relais never saw (they were in the group before it). The
same list comes with each meeting's first reminder (bot/outbox/expand.py). "👋 Je suis membre du
groupe", under the greeting and the monthly nudge: one tap, and Relais knows one more member."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.domain.people import known_members, unreachable_members
from bot.services import db
from bot.ui import callbacks as cb
from bot.ui.i18n import plain, t
from bot.ui.reach import unreachable_text
from handlers.common import (
    Context,
    answer,
    button_group,
    private_reader,
    refresh_member_count,
    reply,
    require_facilitator,
    say,
    tapped,
    user_of,
)


async def reach_command(update: Update, context: Context) -> None:
    group = await require_facilitator(update, context)
    if group is None:
        return
    asker = await private_reader(update, context, group, "reach.start_first")
    if asker is None:
        return
    await refresh_member_count(context, group)
    found = await unreachable_members(db(), group)
    say(asker.telegram_id, unreachable_text(group.language, group, found, known=await known_members(db(), group)))
    reply(update, t(group.language, "reach.sent"))


async def im_a_member(update: Update, context: Context) -> None:
    """The presence tracking has recorded them already (a tap in the group): say thank you."""
    resolved = await button_group(update, context, tapped(update, cb.ImAMember).group_id)
    if resolved is None:
        return
    answer(update, plain(resolved[1], "group.known", name=user_of(update).first_name))


def register(application: Application) -> None:
    application.add_handler(CommandHandler("joignables", reach_command))
    application.add_handler(CallbackQueryHandler(im_a_member, pattern=cb.ImAMember.matches))

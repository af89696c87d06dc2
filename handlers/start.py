"""/start in private: the person can now get private messages, and a deep link ties them to a group."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.deeplinks import CAR_OFFER, CAR_REQUEST, PROPOSE, parse_payload
from bot.groups import find_group_by_id
from bot.i18n import t
from bot.people import mark_started, record_presence, upsert_person
from bot.services import db, services
from handlers.common import Context, language_for, user_info
from handlers import carpool
from handlers.proposals import open_dialogue


async def start(update: Update, context: Context) -> None:
    """Record that the person started the bot; link the group named by a signed deep link."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    svc = services(context)
    now = svc.clock.now()
    language = language_for(update, context)
    person = await upsert_person(db(), user_info(user), now)
    await mark_started(db(), person, now)
    payload = context.args[0] if context.args else ""
    if not payload:
        await message.reply_text(t(language, "start.welcome", name=user.first_name))
        return
    parsed = parse_payload(svc.link_secret, payload)
    if parsed is not None and parsed[0] in (CAR_OFFER, CAR_REQUEST):  # 🚗 / 🙋 by someone who had not started the bot
        await carpool.start_from_link(update, context, parsed[1], parsed[0])
        return
    group = await find_group_by_id(db(), parsed[1] if parsed else None)
    if group is None:
        await message.reply_text(t(language, "start.bad_link") + "\n\n" + t(language, "start.welcome", name=user.first_name))
        return
    membership = await record_presence(db(), group, person, now)
    membership.private_reminders = True
    if parsed[0] == PROPOSE:  # the "💡 Faire une proposition" button
        await open_dialogue(update, context, group)
        return
    await message.reply_text(t(language, "start.linked", group=group.display_name))


def register(application: Application) -> None:
    application.add_handler(CommandHandler("start", start, filters=filters.ChatType.PRIVATE))

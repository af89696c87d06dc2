"""/charte: the group's charter. `/charte` posts it (the group's own, or the default built on
confidentialité, bienveillance, respect, écoute) and pins it when the bot may; `/charte <texte>`
replaces it (everyone is asked to read it again); `/charte lecteurs` gives a facilitator, in
private, who has not read it. "✅ J'ai lu" counts for the one who taps, once."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.domain import charter as ch
from bot.domain.dates import normalise
from bot.domain.errors import RefusalError
from bot.domain.people import person_in_group
from bot.services import db, services
from bot.ui import callbacks as cb
from bot.ui.charter import not_read_text
from bot.ui.i18n import plain, t
from handlers.common import (
    Context,
    answer,
    button_group,
    command_args,
    message_of,
    private_reader,
    refuse,
    reply,
    require_facilitator,
    say,
    tapped,
    user_of,
    wake_at,
)

READERS_WORDS = ("lecteurs", "lu", "qui")


async def charter_command(update: Update, context: Context) -> None:
    group = await require_facilitator(update, context)
    if group is None:
        return
    args = command_args(update)
    now = services(context).clock.now()
    if normalise(args) in READERS_WORDS:
        asker = await private_reader(update, context, group, "charter.start_first")
        if asker is not None:
            say(asker.telegram_id, not_read_text(group.language, group, await ch.not_read(db(), group)))
            reply(update, t(group.language, "charter.sent"))
        return
    if args:
        full = (message_of(update).text or "").partition(" ")[2]  # the lines as typed
        try:
            ch.set_charter(group, full)
        except RefusalError as exc:
            await refuse(update, group.language, exc)
            return
        await ch.forget_readings(db(), group)
    await ch.plan_post(db(), group, now)
    wake_at(context, [now])


async def read_button(update: Update, context: Context) -> None:
    """✅ J'ai lu: in the group or in private, for the member who taps."""
    resolved = await button_group(update, context, tapped(update, cb.CharterRead).group_id)
    if resolved is None:
        return
    group, language = resolved
    found = await person_in_group(db(), group, user_of(update).id)
    if found is None or found[1].status != "member":
        answer(update, plain(language, "button.not_member"))
        return
    first = await ch.read(db(), group, found[0], services(context).clock.now())
    answer(update, plain(language, "charter.thanks" if first else "charter.already"))


def register(application: Application) -> None:
    application.add_handler(CommandHandler("charte", charter_command))
    application.add_handler(CallbackQueryHandler(read_button, pattern=cb.CharterRead.matches))

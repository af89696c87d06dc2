"""/affiche: the group's flyer, in private to the facilitator who asks: a page to print and hand
out at the next meeting (PDF), and the same as a picture (PNG). Its code opens the private chat
with Relais, already linked to the group: the way to reach members who were in the group before
Relais and never tapped anything (bot/ui/flyer.py)."""

from __future__ import annotations

import asyncio
import io

from telegram import InputFile, Update
from telegram.ext import Application, CommandHandler

from bot.domain import meetings as m
from bot.domain.deeplinks import group_payload, start_url
from bot.services import db, services
from bot.ui.carpool import meeting_label
from bot.ui.flyer import flyer_pdf, flyer_png, flyer_words
from bot.ui.i18n import t
from handlers.common import Context, private_reader, reply, require_facilitator, send


async def flyer_command(update: Update, context: Context) -> None:
    group = await require_facilitator(update, context)
    if group is None:
        return
    asker = await private_reader(update, context, group, "flyer.start_first")
    if asker is None:
        return
    svc = services(context)
    language = group.language
    upcoming = await m.upcoming_meetings(db(), group, svc.clock.now(), limit=1)
    next_meeting = meeting_label(language, group, upcoming[0]) if upcoming else None
    link = start_url(svc.bot_username, group_payload(svc.link_secret, group.id))
    words = flyer_words(language, group.display_name, link, next_meeting)
    # Drawing takes a moment: in threads, so that other chats are not held meanwhile.
    pdf, png = await asyncio.gather(asyncio.to_thread(flyer_pdf, words), asyncio.to_thread(flyer_png, words))
    caption = t(language, "flyer.caption", group=group.display_name)
    send(
        asker.telegram_id, "send_document", document=InputFile(io.BytesIO(pdf), filename="affiche.pdf"), caption=caption
    )
    send(asker.telegram_id, "send_photo", photo=InputFile(io.BytesIO(png), filename="affiche.png"))
    reply(update, t(language, "flyer.sent"))


def register(application: Application) -> None:
    application.add_handler(CommandHandler("affiche", flyer_command))

"""/mesdonnees, /oublier and the 🔕 / 🔔 buttons: in private only, since they concern one person."""

from __future__ import annotations

import io
import json

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.domain.deeplinks import start_url
from bot.domain.privacy import erase_person, export_person, pause_private
from bot.services import db, services
from bot.ui import callbacks as cb
from bot.ui.i18n import plain, t
from bot.ui.privacy import pause_keyboard, summary_text
from handlers.common import (
    Context,
    answer,
    chat_of,
    current_group,
    edit_tapped,
    is_group_chat,
    language_for,
    reply,
    send,
    tapped,
    user_of,
)


async def _private_only(update: Update, context: Context) -> bool:
    """In a group, point to the private chat instead of answering there."""
    if not is_group_chat(update):
        return True
    group = await current_group(update)
    language = language_for(update, context, group)
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(plain(language, "button.open_private"), url=start_url(services(context).bot_username))]]
    )
    if update.effective_message:
        reply(update, t(language, "privacy.private_only"), reply_markup=keyboard)
    return False


async def my_data(update: Update, context: Context) -> None:
    """Send the person a JSON file of everything stored about them."""
    if not await _private_only(update, context) or update.effective_user is None or update.effective_message is None:
        return
    language = language_for(update, context)
    svc = services(context)
    data = await export_person(db(), user_of(update).id, svc.clock.now())
    paused = bool(data.get("person", {}).get("private_messages_paused"))
    markup = pause_keyboard(language, paused, with_forget=True) if data["stored"] else None
    reply(update, summary_text(language, data, svc.settings.privacy.reasons_days), reply_markup=markup)
    payload = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    send(
        chat_of(update).id,
        "send_document",
        document=InputFile(io.BytesIO(payload), filename="relais-mes-donnees.json"),
        caption=t(language, "privacy.export_caption"),
    )


async def forget(update: Update, context: Context) -> None:
    """Ask for confirmation before erasing."""
    if not await _private_only(update, context) or update.effective_message is None:
        return
    language = language_for(update, context)
    keyboard = InlineKeyboardMarkup(
        [
            [
                cb.key(plain(language, "button.forget_yes"), cb.Forget("yes")),
                cb.key(plain(language, "button.forget_no"), cb.Forget("no")),
            ]
        ]
    )
    reply(update, t(language, "privacy.forget_confirm"), reply_markup=keyboard)


async def forget_answer(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None or update.effective_user is None:
        return
    language = language_for(update, context)
    if is_group_chat(update):
        answer(update, plain(language, "button.invalid"))
        return
    answer(update)
    if tapped(update, cb.Forget).choice == "yes":
        erased = await erase_person(db(), user_of(update).id)
        edit_tapped(update, t(language, "privacy.forgotten" if erased else "privacy.nothing_stored"))
    else:
        edit_tapped(update, t(language, "privacy.kept"))


async def private_messages_button(update: Update, context: Context) -> None:
    """🔕 Ne plus recevoir de rappels / 🔔 Recevoir à nouveau, under a private message."""
    if update.effective_user is None:
        return
    language = language_for(update, context)
    if is_group_chat(update):
        answer(update, plain(language, "button.invalid"))
        return
    paused = tapped(update, cb.PrivateMessages).choice == "off"
    if not await pause_private(db(), user_of(update).id, paused):
        answer(update, plain(language, "privacy.nothing_stored"))
        return
    answer(update)
    reply(
        update,
        t(language, "privacy.paused" if paused else "privacy.resumed"),
        reply_markup=pause_keyboard(language, paused),
    )


async def my_data_button(update: Update, context: Context) -> None:
    """📦 Mes données / 🗑 Tout effacer, under the private help: as /mesdonnees and /oublier."""
    answer(update)
    if tapped(update, cb.MyData).choice == "export":
        await my_data(update, context)
    else:
        await forget(update, context)


def register(application: Application) -> None:
    application.add_handler(CommandHandler("mesdonnees", my_data))
    application.add_handler(CommandHandler("oublier", forget))
    application.add_handler(CallbackQueryHandler(forget_answer, pattern=cb.Forget.matches))
    application.add_handler(CallbackQueryHandler(my_data_button, pattern=cb.MyData.matches))
    application.add_handler(CallbackQueryHandler(private_messages_button, pattern=cb.PrivateMessages.matches))

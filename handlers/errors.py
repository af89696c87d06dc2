"""The last line of defence: log without personal data, apologise in French, keep running."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, CallbackQueryHandler

from bot.services import services
from bot.ui.i18n import plain, t
from handlers.common import Context, answer, language_for, nowhere_to_answer, reply, saying_now
from storage.db import database_away

log = logging.getLogger("relais.errors")
CHECK_GROUP = -5  # after presence tracking (-10), before the features (0)


async def on_error(update: object, context: Context) -> None:
    """Log ids and the error type only (never names or texts), then apologise once."""
    error = context.error
    if isinstance(update, Update) and error is not None and database_away(error):
        # The database is away: the outage is logged once (not per update) and the update is
        # handled again when it is back (bot/application.py), so no apology now.
        services(context).database_outage.failed(error)
        return
    if isinstance(update, Update):
        chat_id = update.effective_chat.id if update.effective_chat else None
        log.error(
            "update %s in chat %s failed: %s",
            update.update_id,
            chat_id,
            error.__class__.__name__,
            exc_info=(type(error), error, error.__traceback__) if error else None,
        )
    else:
        log.error(
            "job or background task failed: %s",
            error.__class__.__name__,
            exc_info=(type(error), error, error.__traceback__) if error else None,
        )
        return
    if nowhere_to_answer(error):
        return  # nowhere to apologise
    language = language_for(update, context)
    try:
        if not saying_now():  # the update's transaction itself failed (at commit): say it now
            await _apologise_now(update, language)
        elif update.callback_query is not None:
            answer(update, plain(language, "error.apology_short"), show_alert=True, always=True)
        elif update.effective_chat is not None and update.effective_message is not None:
            reply(update, t(language, "error.apology"), always=True)
    except TelegramError as exc:
        log.warning("could not apologise for update %s: %s", update.update_id, exc.__class__.__name__)


async def _apologise_now(update: Update, language: str) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(plain(language, "error.apology_short"), show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(t(language, "error.apology"))


def _has_buttons(update: Update) -> bool:
    """Whether the pressed message still carries buttons. Telegram sends the message as it is
    now: buttons removed by an edit (a question answered, a meeting cancelled) cannot be pressed
    any more, so a press on a message without any comes from a forged or replayed client. (Data
    that differs from the message's buttons is left to the features' own checks, which say why.)"""
    query = update.callback_query
    message = query.message if query is not None else None
    if message is None or not isinstance(message, Message):
        return True  # an inaccessible (old) message: the feature's own checks decide
    return message.reply_markup is not None and bool(message.reply_markup.inline_keyboard)


async def pressed_elsewhere(update: Update, context: Context) -> None:
    """Before any feature: a press on a message without buttons is answered and stops here."""
    if not _has_buttons(update):
        answer(update, plain(language_for(update, context), "button.expired"))
        raise ApplicationHandlerStop


async def stale_button(update: Update, context: Context) -> None:
    """Answer every button no feature claimed, so nothing spins and nothing changes."""
    if update.callback_query is not None:
        answer(update, plain(language_for(update, context), "button.expired"))


def register(application: Application) -> None:
    application.add_error_handler(on_error)
    application.add_handler(CallbackQueryHandler(pressed_elsewhere), group=CHECK_GROUP)
    # Registered last in the default group: only buttons no feature claimed reach it.
    application.add_handler(CallbackQueryHandler(stale_button))

"""/configurer: a facilitator names the group and picks its time zone.

Guided: the bot asks for the name (the facilitator replies to its message, which privacy mode
lets through), offers time-zone buttons, then shows a summary to confirm. One line also works:
`/configurer Groupe ressources Oyonnax | Europe/Paris`.
"""

from __future__ import annotations

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.domain.errors import RefusalError
from bot.domain.groups import TIMEZONE_CHOICES, apply_setup, validate_setup
from bot.services import services
from bot.ui.i18n import plain, t
from handlers.common import Context, current_group, language_for, require_facilitator

ASK_NAME, ASK_TIMEZONE, CONFIRM = range(3)
DRAFT = "setup_draft"


def _zone_label(language: str, zone: str) -> str:
    return plain(language, f"timezone.{zone}")


async def start_setup(update: Update, context: Context) -> int:
    """Entry point: check rights, then take the one-line form or start the dialogue."""
    message = update.effective_message
    group = await require_facilitator(update, context)
    if group is None:
        return ConversationHandler.END
    language = group.language
    default_zone = services(context).settings.bot.default_timezone
    if context.args:
        name, _, zone = " ".join(context.args).partition("|")
        try:
            setup = validate_setup(name, zone.strip() or group.timezone, default_zone)
        except RefusalError as exc:
            await message.reply_text(t(language, exc.key, **exc.values) + "\n" + t(language, "setup.example"))
            return ConversationHandler.END
        apply_setup(group, setup)
        await message.reply_text(
            t(language, "setup.saved", name=setup.name, zone=_zone_label(language, setup.timezone))
        )
        return ConversationHandler.END
    context.user_data[DRAFT] = {"chat_id": group.chat_id}
    await message.reply_text(
        t(language, "setup.ask_name", current=group.display_name),
        reply_markup=ForceReply(selective=True, input_field_placeholder=plain(language, "setup.name_placeholder")),
    )
    return ASK_NAME


async def receive_name(update: Update, context: Context) -> int:
    message = update.effective_message
    group = await current_group(update)
    draft = context.user_data.get(DRAFT)
    if message is None or group is None or draft is None or draft["chat_id"] != group.chat_id:
        return ConversationHandler.END
    try:
        setup = validate_setup(message.text or "", group.timezone, services(context).settings.bot.default_timezone)
    except RefusalError as exc:
        await message.reply_text(
            t(group.language, exc.key, **exc.values) + "\n" + t(group.language, "setup.ask_name_again"),
            reply_markup=ForceReply(selective=True),
        )
        return ASK_NAME
    draft["name"] = setup.name
    buttons = [
        [InlineKeyboardButton(_zone_label(group.language, zone), callback_data=f"cfg:tz:{index}")]
        for index, zone in enumerate(TIMEZONE_CHOICES)
    ]
    await message.reply_text(t(group.language, "setup.ask_timezone"), reply_markup=InlineKeyboardMarkup(buttons))
    return ASK_TIMEZONE


async def receive_timezone(update: Update, context: Context) -> int:
    query = update.callback_query
    group = await current_group(update)
    draft = context.user_data.get(DRAFT)
    if query is None or group is None or draft is None or "name" not in draft:
        if query:
            await query.answer(plain(language_for(update, context, group), "button.expired"))
        return ConversationHandler.END
    try:
        index = int((query.data or "").rsplit(":", 1)[1])
        zone = TIMEZONE_CHOICES[index]
    except (ValueError, IndexError):
        await query.answer(plain(group.language, "button.invalid"))
        return ASK_TIMEZONE
    draft["timezone"] = zone
    await query.answer()
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(plain(group.language, "button.save"), callback_data="cfg:ok"),
                InlineKeyboardButton(plain(group.language, "button.cancel"), callback_data="cfg:no"),
            ]
        ]
    )
    await query.edit_message_text(
        t(group.language, "setup.confirm", name=draft["name"], zone=_zone_label(group.language, zone)),
        reply_markup=keyboard,
    )
    return CONFIRM


async def confirm(update: Update, context: Context) -> int:
    query = update.callback_query
    group = await current_group(update)
    draft = context.user_data.pop(DRAFT, None)
    if query is None or group is None or draft is None or "timezone" not in draft:
        if query:
            await query.answer(plain(language_for(update, context, group), "button.expired"))
        return ConversationHandler.END
    await query.answer()
    if query.data == "cfg:ok":
        apply_setup(group, validate_setup(draft["name"], draft["timezone"], draft["timezone"]))
        await query.edit_message_text(
            t(group.language, "setup.saved", name=group.display_name, zone=_zone_label(group.language, group.timezone))
        )
    else:
        await query.edit_message_text(t(group.language, "setup.cancelled"))
    return ConversationHandler.END


async def timed_out(update: Update, context: Context) -> None:
    context.user_data.pop(DRAFT, None)


def register(application: Application) -> None:
    application.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("configurer", start_setup)],
            states={
                ASK_NAME: [MessageHandler(filters.REPLY & filters.TEXT & ~filters.COMMAND, receive_name)],
                ASK_TIMEZONE: [CallbackQueryHandler(receive_timezone, pattern=r"^cfg:tz:")],
                CONFIRM: [CallbackQueryHandler(confirm, pattern=r"^cfg:(ok|no)$")],
                ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, timed_out)],
            },
            fallbacks=[CommandHandler("configurer", start_setup)],
            conversation_timeout=15 * 60,
            name="configurer",
        )
    )

"""/groupes (coordinators, in private): which of the department's groups are offered to someone
who leaves a group, in their thank-you. One tap adds a group, another removes it."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.domain.groups import find_group_by_id
from bot.domain.membership import listed_groups
from bot.services import db, services
from bot.ui import callbacks as cb
from bot.ui.i18n import plain, t
from bot.ui.membership import listed_keyboard
from handlers.common import Context, answer, edit_tapped_buttons, is_group_chat, language_for, reply, tapped


def _coordinator(update: Update, context: Context) -> bool:
    user = update.effective_user
    return user is not None and user.id in services(context).settings.dashboard.coordinators


async def groups_command(update: Update, context: Context) -> None:
    language = language_for(update, context)
    if not _coordinator(update, context):
        reply(update, t(language, "groups.only_coordinators"))
        return
    if is_group_chat(update):
        reply(update, t(language, "groups.in_private"))
        return
    groups = await listed_groups(db())
    if not groups:
        reply(update, t(language, "groups.none"))
        return
    reply(update, t(language, "groups.title"), reply_markup=listed_keyboard(language, groups))


async def listed_button(update: Update, context: Context) -> None:
    language = language_for(update, context)
    group = await find_group_by_id(db(), tapped(update, cb.ListedGroup).group_id)
    if not _coordinator(update, context) or group is None or is_group_chat(update):
        answer(update, plain(language, "groups.only_coordinators" if group else "button.invalid"))
        return
    group.listed = not group.listed
    answer(update)
    edit_tapped_buttons(update, listed_keyboard(language, await listed_groups(db())))


def register(application: Application) -> None:
    application.add_handler(CommandHandler("groupes", groups_command))
    application.add_handler(CallbackQueryHandler(listed_button, pattern=cb.ListedGroup.matches))

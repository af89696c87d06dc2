"""/membres: a facilitator gets, in private, the group's members with their start date, term,
attendance over the last six months and whether private reminders reach them. Typed in the
group, the list goes in private; typed in private, one list per group they facilitate."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.domain.membership import roster
from bot.domain.people import find_person
from bot.domain.web_access import facilitated_groups
from bot.services import db, services
from bot.ui.i18n import t
from bot.ui.membership import roster_messages
from handlers.common import (
    Context,
    admin_ids,
    admin_lookup,
    is_group_chat,
    language_for,
    person_language,
    private_reader,
    reply,
    require_facilitator,
    say,
    user_of,
)
from storage.models import Group, Person


async def _send_roster(context: Context, reader: Person, group: Group) -> None:
    now = services(context).clock.now()
    language = person_language(reader, group)
    admins = await admin_ids(context, group.chat_id)
    for text in roster_messages(language, group, await roster(db(), group, now), now, admins):
        say(reader.telegram_id, text)


async def roster_command(update: Update, context: Context) -> None:
    if is_group_chat(update):
        group = await require_facilitator(update, context)
        if group is None:
            return
        reader = await private_reader(update, context, group, "roster.start_first")
        if reader is None:
            return
        await _send_roster(context, reader, group)
        reply(update, t(group.language, "roster.sent"))
        return
    person = await find_person(db(), user_of(update).id) if update.effective_user else None
    groups = await facilitated_groups(db(), person, admin_lookup(context)) if person is not None else []
    if person is None or not groups:
        reply(update, t(language_for(update, context), "facilitator.only"))
        return
    for group in groups:
        await _send_roster(context, person, group)


def register(application: Application) -> None:
    application.add_handler(CommandHandler("membres", roster_command))

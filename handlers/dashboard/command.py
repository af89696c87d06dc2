"""/tableau: a facilitator (or a coordinator) gets a one-time link to the dashboard, in private."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.domain.people import upsert_person
from bot.domain.web_access import facilitated_groups, issue_login
from bot.services import db, services
from bot.ui.i18n import t
from handlers.common import (
    Context,
    admin_lookup,
    is_group_chat,
    language_for,
    private_reader,
    reply,
    require_facilitator,
    say,
    user_info,
)
from storage.models import Person


async def _send_link(context: Context, person: Person, language: str) -> None:
    svc = services(context)
    settings = svc.settings.dashboard
    token = await issue_login(db(), person, svc.link_secret, svc.clock.now(), settings.link_minutes)
    url = f"{svc.dashboard_url}/connexion?jeton={token}"
    # Link previews are off by default (bot/application.py): Telegram must not open the link first.
    say(person.telegram_id, t(language, "tableau.link", minutes=settings.link_minutes, url=url))


async def dashboard_command(update: Update, context: Context) -> None:
    user = update.effective_user
    if user is None or update.effective_message is None:
        return
    svc = services(context)
    if is_group_chat(update):  # a facilitator of this group; the link itself goes in private
        group = await require_facilitator(update, context)
        if group is None:
            return
        asker = await private_reader(update, context, group, "tableau.start_first")
        if asker is None:
            return
        await _send_link(context, asker, group.language)
        reply(update, t(group.language, "tableau.sent"))
        return
    language = language_for(update, context)
    person = await upsert_person(db(), user_info(user), svc.clock.now())
    coordinator = user.id in svc.settings.dashboard.coordinators
    if not coordinator and not await facilitated_groups(db(), person, admin_lookup(context)):
        reply(update, t(language, "tableau.not_facilitator"))
        return
    await _send_link(context, person, language)


def register(application: Application) -> None:
    application.add_handler(CommandHandler("tableau", dashboard_command))

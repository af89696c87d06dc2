"""/animateur: list, name or remove the people who facilitate the group besides its admins.

`/animateur @pseudo` names someone, `/animateur retirer @pseudo` removes them; replying to one of
their messages with `/animateur` (or `/animateur retirer`) works for people without a @pseudo.
"""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.domain.errors import RefusalError
from bot.domain.facilitators import name_facilitator, named_facilitators, unname_facilitator
from bot.domain.people import (
    find_member_by_username,
    person_in_group,
    record_presence,
    upsert_person,
)
from bot.services import db, fetch_anonymous_admin_ids, services
from bot.ui.i18n import t
from handlers.common import (
    Context,
    admin_ids,
    current_group,
    is_facilitator,
    language_for,
    reply,
    someone_named,
    user_info,
    user_of,
)

# A @username, with its @: a first name typed plainly ("Karim") is not one, and may be another's username.
_USERNAME_RE = re.compile(r"^@([A-Za-z][A-Za-z0-9_]{3,31})$")
REMOVE_WORDS = {"retirer", "enlever", "supprimer", "remove"}


async def facilitator_command(update: Update, context: Context) -> None:
    """Entry point for /animateur in a group."""
    message = update.effective_message
    group = await current_group(update)
    if message is None or update.effective_user is None:
        return
    if group is None:
        reply(update, t(language_for(update, context), "setup.only_in_group"))
        return
    language = group.language
    args = list(context.args or [])
    named = someone_named(update)
    if not args and named is None:
        await _list(update, context)
        return
    if not await is_facilitator(context, group, user_of(update).id):
        reply(update, t(language, "facilitator.only"))
        return
    removing = bool(args) and args[0].lower() in REMOVE_WORDS
    if removing:
        args = args[1:]
    now = services(context).clock.now()
    target = None
    if named is not None:  # picked in the mention list, or the author of the message replied to
        person = await upsert_person(db(), user_info(named), now)
        target = (person, await record_presence(db(), group, person, now))
    elif args:
        match = _USERNAME_RE.match(args[0]) if len(args) == 1 else None
        if match is None:
            reply(update, t(language, "facilitator.usage"))
            return
        target = await find_member_by_username(db(), group, match.group(1))
        if target is None:
            reply(update, t(language, "facilitator.unknown", username=match.group(1)))
            return
    if target is None:
        reply(update, t(language, "facilitator.usage"))
        return
    person, membership = target
    try:
        if removing:
            unname_facilitator(membership, person.telegram_id, await admin_ids(context, group.chat_id))
        else:
            name_facilitator(membership)
    except RefusalError as exc:
        reply(update, t(language, exc.key, name=person.first_name))
        return
    done = "facilitator.removed" if removing else "facilitator.named"
    text = t(language, done, name=person.first_name)
    if not removing:  # what the new facilitator will and will not see
        text += "\n" + t(language, "facilitator.named_reasons", name=person.first_name)
    reply(update, text)


async def _list(update: Update, context: Context) -> None:
    group = await current_group(update)
    assert group is not None and update.effective_message is not None
    names = [p.first_name for p in await named_facilitators(db(), group)]
    admins = await admin_ids(context, group.chat_id)
    hidden = await fetch_anonymous_admin_ids(context.bot, services(context), group.chat_id)
    for admin_id in sorted(admins - hidden):  # an anonymous administrator is never named
        found = await person_in_group(db(), group, admin_id)
        if found and found[0].first_name not in names:
            names.append(found[0].first_name)
    key = "facilitator.list" if names else "facilitator.list_admins_only"
    reply(update, t(group.language, key, names=", ".join(names)))


def register(application: Application) -> None:
    application.add_handler(CommandHandler("animateur", facilitator_command))

"""/start in private: the person can now get private messages, and a deep link ties them to a group."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.domain.deeplinks import parse_payload
from bot.domain.groups import find_group_by_id
from bot.domain.people import link_private, mark_started, record_presence, upsert_person
from bot.services import db, services
from bot.ui.i18n import t
from bot.ui.privacy import pause_keyboard
from handlers.common import (
    LINK_OPENERS,
    Context,
    in_group_says_telegram,
    language_for,
    release_held,
    reply,
    send_card,
    user_info,
    wake_at,
)
from storage.models import Meeting


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
    # Reports held for a facilitator who had not opened this chat go out now.
    if await release_held(context, person):
        wake_at(context, [now])
    payload = context.args[0] if context.args else ""
    if not payload:
        reply(update, t(language, "start.welcome", name=user.first_name))
        return
    parsed = parse_payload(svc.link_secret, payload)
    opener = LINK_OPENERS.get(parsed[0]) if parsed is not None else None
    # 🚗 / 🙋 pressed by someone who had not started the bot: the link names the meeting.
    meeting_link = parsed is not None and opener is not None and opener.subject == "meeting"
    meeting = await db().get(Meeting, parsed[1]) if parsed is not None and meeting_link else None
    if meeting is not None:
        group_id: int | None = meeting.group_id
    else:
        group_id = parsed[1] if parsed is not None and not meeting_link else None
    group = await find_group_by_id(db(), group_id)
    if group is None:
        reply(update, t(language, "start.bad_link") + "\n\n" + t(language, "start.welcome", name=user.first_name))
        return
    # Links are forwarded: only someone Telegram says is in the group gets it (and is recorded as
    # a member, if they were there before Relais); a member who left does not come back by a link.
    if not await in_group_says_telegram(context, group, user.id):
        reply(update, t(language, "start.not_member", group=group.display_name))
        return
    if meeting is not None and opener is not None:
        await record_presence(db(), group, person, now)
        await opener.open(update, context, meeting.id)
        return
    await link_private(db(), group, person, now)
    person.private_paused = False  # "Recevoir mes rappels en privé" pressed: they want them
    if opener is not None:  # a button that opens a dialogue about the group ("💡 Faire une proposition")
        await opener.open(update, context, group)
        return
    reply(update, t(language, "start.linked", group=group.display_name), reply_markup=pause_keyboard(language, False))
    await send_card(context, group, person)


def register(application: Application) -> None:
    application.add_handler(CommandHandler("start", start, filters=filters.ChatType.PRIVATE))

"""The bot added to or removed from a group, blocked in private, and groups upgraded to supergroups."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, ChatMemberHandler, MessageHandler, filters

from bot.domain import meetings as m
from bot.domain.deeplinks import group_payload, start_url
from bot.domain.groups import deactivate_group, find_group, migrate_group, register_group
from bot.domain.people import mark_unreachable, record_presence, upsert_person
from bot.services import db, services
from bot.ui.i18n import plain, t
from bot.ui.reach import presence_keyboard
from handlers.common import (
    GROUP_TYPES,
    PRESENT,
    Context,
    announce,
    forget_admins,
    is_person,
    propose_url,
    refresh_member_count,
    say,
    send,
    user_info,
)
from storage.models import Group

log = logging.getLogger(__name__)


def greeting_keyboard(context: Context, group: Group) -> InlineKeyboardMarkup:
    """ "👋 Je suis membre du groupe" (those who were there before Relais make themselves known),
    a private chat already linked to this group, and the private dialogue for a proposal."""
    svc = services(context)
    link = start_url(svc.bot_username, group_payload(svc.link_secret, group.id))
    propose = InlineKeyboardButton(plain(group.language, "button.propose"), url=propose_url(context, group))
    presence = presence_keyboard(group.language, group, link)
    return InlineKeyboardMarkup([*presence.inline_keyboard, [propose]])


async def on_my_chat_member(update: Update, context: Context) -> None:
    """Greet a group the bot joins; stop writing to one it leaves; note a block in private."""
    change = update.my_chat_member
    if change is None:
        return
    svc = services(context)
    now = svc.clock.now()
    was_in = change.old_chat_member.status in PRESENT
    is_in = change.new_chat_member.status in PRESENT
    chat = change.chat
    if chat.type not in GROUP_TYPES:
        if not is_in:
            await mark_unreachable(db(), change.from_user.id, now)
        return
    if is_in and not was_in:
        settings = svc.settings.bot
        if not await may_add(context, chat.id, change.from_user.id):
            # A stranger's group: Relais keeps nothing of it, says why in one sentence, and goes.
            say(chat.id, t(settings.default_language, "group.not_allowed", id=change.from_user.id))
            send(chat.id, "leave_chat")
            log.info("added to chat %s by someone not allowed to: leaving", chat.id)
            return
        group, _ = await register_group(
            db(), chat.id, chat.title or "", now, settings.default_timezone, settings.default_language
        )
        # Added by an anonymous administrator: nobody to record, nobody to write to in private.
        adder = await upsert_person(db(), user_info(change.from_user), now) if is_person(change.from_user) else None
        if adder is not None:
            await record_presence(db(), group, adder, now)
        forget_admins(context, chat.id)
        await refresh_member_count(context, group)
        say(chat.id, t(group.language, "group.greeting"), reply_markup=greeting_keyboard(context, group))
        # The set-up is the facilitators' business: in private to whoever added the bot when it can
        # write to them, otherwise in a short message of its own after the greeting.
        setup = t(group.language, "group.setup_hint", group=group.display_name)
        say(adder.telegram_id if adder is not None and adder.private_status == "started" else chat.id, setup)
    elif was_in and not is_in:
        await deactivate_group(db(), chat.id, now)
        forget_admins(context, chat.id)
    else:
        forget_admins(context, chat.id)  # promoted, demoted or restricted: its rights changed
        served = await find_group(db(), chat.id)
        if served is not None:
            served.rights_warned_at = None  # a refusal for lack of rights may be told again


async def may_add(context: Context, chat_id: int, user_id: int) -> bool:
    """Whether this person may add Relais to this group: anyone when no one is named
    (telegram.allowed_adders empty); otherwise those named and the coordinators; and anyone for a
    group Relais already serves or served (it was accepted then)."""
    settings = services(context).settings
    allowed = set(settings.telegram.allowed_adders)
    if not allowed or user_id in allowed or user_id in settings.dashboard.coordinators:
        return True
    return await find_group(db(), chat_id, active_only=False) is not None


async def on_migration(update: Update, context: Context) -> None:
    """Follow the group to its new supergroup id, keeping every record. The supergroup numbers its
    messages anew: what Relais kept of the old chat's messages is forgotten (bot/domain/groups.py),
    and the announcements of the meetings to come are posted again, with their counts and buttons,
    once (on the service message the supergroup itself carries)."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    group = await migrate_group(db(), old, new)
    forget_admins(context, old)
    if group is None or not group.active or not message.migrate_from_chat_id:
        return
    for meeting in await m.upcoming_meetings(db(), group, services(context).clock.now()):
        if meeting.announcement_message_id is None:
            await announce(group, meeting)


def register(application: Application) -> None:
    application.add_handler(ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migration))

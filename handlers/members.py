"""Members recorded when they join, speak or tap, and marked gone when they leave."""

from __future__ import annotations

from datetime import datetime

from telegram import Update
from telegram.ext import Application, ChatMemberHandler, MessageHandler, TypeHandler, filters

from bot.domain.people import find_membership, reachable_in_private, record_departure, record_presence, upsert_person
from bot.services import db, services
from handlers.common import PRESENT, Context, current_group, forget_admins, send_card, user_info
from storage.models import Group, Person

# Runs before the feature handlers so that they find the person already recorded.
TRACKING_GROUP = -10


async def track_presence(update: Update, context: Context) -> None:
    """Anyone who writes to the bot or taps a button in an active group is a member of it. Other
    updates prove nothing: someone asking to join (chat_join_request) or reacting is not a member."""
    user = update.effective_user
    if user is None or user.is_bot or (update.message is None and update.callback_query is None):
        return
    message = update.message
    if message is not None and (
        message.left_chat_member
        or message.new_chat_members
        or message.migrate_from_chat_id
        or message.migrate_to_chat_id
    ):
        return  # service messages are handled below, for the people they name
    group = await current_group(update)
    if group is None:
        return
    now = services(context).clock.now()
    person = await upsert_person(db(), user_info(user), now)
    await record_presence(db(), group, person, now)


async def on_new_members(update: Update, context: Context) -> None:
    group = await current_group(update)
    if group is None or update.message is None:
        return
    now = services(context).clock.now()
    for user in update.message.new_chat_members:
        if not user.is_bot:
            await _arrived(context, group, await upsert_person(db(), user_info(user), now), now)


async def _arrived(context: Context, group: Group, person: Person, now: datetime) -> None:
    """Someone joined: recorded once (a member who comes back is the same member) and given the
    group's card in private. (No line in the group yet: one per arrival would spend the group's
    20 messages a minute when many are added at once.)"""
    before = await find_membership(db(), group, person)
    await record_presence(db(), group, person, now)
    if (before is None or before.status != "member") and reachable_in_private(person):
        await send_card(context, group, person)


async def on_left_member(update: Update, context: Context) -> None:
    group = await current_group(update)
    if group is None or update.message is None or update.message.left_chat_member is None:
        return
    user = update.message.left_chat_member
    if not user.is_bot:
        await record_departure(db(), group, user.id, services(context).clock.now())


async def on_chat_member(update: Update, context: Context) -> None:
    """Join and leave as seen by a bot that is an administrator (chat_member updates)."""
    change = update.chat_member
    group = await current_group(update)
    if change is None or group is None:
        return
    forget_admins(context, change.chat.id)
    user = change.new_chat_member.user
    if user.is_bot:
        return
    now = services(context).clock.now()
    if change.new_chat_member.status in PRESENT:
        person = await upsert_person(db(), user_info(user), now)
        if change.old_chat_member.status in PRESENT:
            await record_presence(db(), group, person, now)  # a change of rights, not an arrival
        else:
            await _arrived(context, group, person, now)
    elif change.old_chat_member.status in PRESENT:
        await record_departure(db(), group, user.id, now)


def register(application: Application) -> None:
    application.add_handler(TypeHandler(Update, track_presence), group=TRACKING_GROUP)
    application.add_handler(MessageHandler(filters.StatusUpdate.NEW_CHAT_MEMBERS, on_new_members))
    application.add_handler(MessageHandler(filters.StatusUpdate.LEFT_CHAT_MEMBER, on_left_member))
    application.add_handler(ChatMemberHandler(on_chat_member, ChatMemberHandler.CHAT_MEMBER))

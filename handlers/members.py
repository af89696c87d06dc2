"""Members recorded when they join, speak or tap, and marked gone when they leave. A newcomer
gets the group's card in private and is greeted in the group's next line; someone who leaves is
thanked there and in private (bot/domain/membership.py)."""

from __future__ import annotations

from datetime import datetime

from telegram import Update
from telegram.ext import Application, ChatMemberHandler, MessageHandler, TypeHandler, filters

from bot.domain.groups import saw_topic
from bot.domain.membership import deserves_thanks, name_in_group_line, plan_farewell, start_term
from bot.domain.people import (
    find_membership,
    reachable_in_private,
    record_departure,
    record_presence,
    seen_in_group,
    upsert_person,
)
from bot.services import db, services
from handlers.common import (
    PRESENT,
    Context,
    current_group,
    forget_admins,
    is_person,
    send_card,
    topic_of,
    user_info,
    wake_at,
)
from storage.models import Group, Person

# Runs before the feature handlers so that they find the person already recorded.
TRACKING_GROUP = -10


async def track_presence(update: Update, context: Context) -> None:
    """Anyone who writes to the bot or taps a button in an active group is a member of it. Other
    updates prove nothing: someone asking to join (chat_join_request) or reacting is not a member,
    nor are bots, Telegram's own accounts (a linked channel's forwards come from one), or a message
    signed by a chat (an anonymous administrator, a channel). In a forum, the topic a message came
    from is remembered, as somewhere Relais may write if the chosen one closes."""
    user = update.effective_user
    if not is_person(user) or (update.message is None and update.callback_query is None):
        return
    message = update.message
    if message is not None and message.sender_chat is not None:
        return
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
    if saw_topic(group, topic_of(message)):
        services(context).topics.expire()
    now = services(context).clock.now()
    await seen_in_group(db(), group, user_info(user), now)


async def on_new_members(update: Update, context: Context) -> None:
    group = await current_group(update)
    if group is None or update.message is None:
        return
    now = services(context).clock.now()
    for user in update.message.new_chat_members:
        if is_person(user):
            await _arrived(context, group, await upsert_person(db(), user_info(user), now), now)


async def _arrived(context: Context, group: Group, person: Person, now: datetime) -> None:
    """Someone joined: recorded once (a member who comes back is the same member, with the same
    start date), given the group's card in private, greeted in the group's next line (arrivals a
    minute apart share one), and given a term when the department sets terms."""
    before = await find_membership(db(), group, person)
    if before is not None and before.status == "member":
        await record_presence(db(), group, person, now)
        return
    membership = await record_presence(db(), group, person, now)
    if reachable_in_private(person):
        await send_card(context, group, person)
    moments = [due] if (due := await name_in_group_line(db(), group, membership, now)) else []
    months = services(context).settings.membership.term_months
    if months is not None:
        moments += start_term(db(), group, membership, months, now)
    wake_at(context, moments)


async def _departed(context: Context, group: Group, telegram_id: int, now: datetime) -> None:
    """Someone left: thanked in private and in the group's next line, never told why; not someone
    added by mistake and gone the same day."""
    membership = await record_departure(db(), group, telegram_id, now)
    if membership is None:
        return
    if not await deserves_thanks(db(), membership, now):
        membership.news_event_id = None  # nor thanked in the line that was to greet them
        return
    moments = [await plan_farewell(db(), group, membership, now)]
    if due := await name_in_group_line(db(), group, membership, now):
        moments.append(due)
    wake_at(context, moments)


async def on_left_member(update: Update, context: Context) -> None:
    group = await current_group(update)
    if group is None or update.message is None or update.message.left_chat_member is None:
        return
    user = update.message.left_chat_member
    if is_person(user):
        await _departed(context, group, user.id, services(context).clock.now())


async def on_chat_member(update: Update, context: Context) -> None:
    """Join and leave as seen by a bot that is an administrator (chat_member updates)."""
    change = update.chat_member
    group = await current_group(update)
    if change is None or group is None:
        return
    forget_admins(context, change.chat.id)
    user = change.new_chat_member.user
    if not is_person(user):
        return
    now = services(context).clock.now()
    if change.new_chat_member.status in PRESENT:
        person = await upsert_person(db(), user_info(user), now)
        if change.old_chat_member.status in PRESENT:
            await record_presence(db(), group, person, now)  # a change of rights, not an arrival
        else:
            await _arrived(context, group, person, now)
    elif change.old_chat_member.status in PRESENT:
        await _departed(context, group, user.id, now)


def register(application: Application) -> None:
    application.add_handler(TypeHandler(Update, track_presence), group=TRACKING_GROUP)
    application.add_handler(MessageHandler(filters.StatusUpdate.NEW_CHAT_MEMBERS, on_new_members))
    application.add_handler(MessageHandler(filters.StatusUpdate.LEFT_CHAT_MEMBER, on_left_member))
    application.add_handler(ChatMemberHandler(on_chat_member, ChatMemberHandler.CHAT_MEMBER))

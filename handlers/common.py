"""Small helpers shared by the Telegram handlers."""

from __future__ import annotations

import logging
import time

from telegram import Bot, Chat, Update, User
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.groups import find_group, find_group_by_id
from bot.i18n import pick_language, plain, t
from bot.people import UserInfo, person_in_group
from bot.services import Services, db, services
from storage.models import Group

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE

GROUP_TYPES = (Chat.GROUP, Chat.SUPERGROUP)
# Private dialogues that read free text (user_data keys). One at a time: the latest one opened wins,
# so a town typed for a carpool never becomes a proposal, nor the reverse.
PROPOSAL_DIALOGUE, CARPOOL_DIALOGUE = "proposal_pending", "carpool_dialogue"


def begin_dialogue(context: Context, key: str, state: dict) -> None:
    for other in (PROPOSAL_DIALOGUE, CARPOOL_DIALOGUE):
        context.user_data.pop(other, None)
    context.user_data[key] = state


def user_info(user: User) -> UserInfo:
    return UserInfo(telegram_id=user.id, first_name=user.first_name, username=user.username, language_code=user.language_code)


def command_args(update: Update) -> str:
    """What follows the command name: '/suivi 12 transmise X' -> '12 transmise X' (a line break
    after the command counts as a space)."""
    message = update.effective_message
    parts = (message.text or "").split(None, 1) if message else []
    return parts[1].strip() if len(parts) == 2 else ""


def is_group_chat(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type in GROUP_TYPES


async def current_group(update: Update) -> Group | None:
    """The active group this update comes from, if any."""
    if not is_group_chat(update):
        return None
    return await find_group(db(), update.effective_chat.id)  # type: ignore[union-attr]


def language_for(update: Update, context: Context, group: Group | None = None) -> str:
    """The group's language in groups; the person's Telegram language in private."""
    default = services(context).settings.bot.default_language
    if group is not None:
        return group.language
    if update.effective_chat is not None and update.effective_chat.type == Chat.PRIVATE and update.effective_user:
        return pick_language(update.effective_user.language_code, default)
    return default


async def fetch_admin_ids(bot: Bot, svc: Services, chat_id: int) -> frozenset[int]:
    """Telegram administrators of the chat, checked live and cached briefly."""
    cached = svc.admin_cache.get(chat_id)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    try:
        admins = await bot.get_chat_administrators(chat_id)
    except TelegramError as exc:
        log.warning("could not read administrators of chat %s: %s", chat_id, exc.__class__.__name__)
        return cached[1] if cached else frozenset()
    ids = frozenset(member.user.id for member in admins)
    svc.admin_cache[chat_id] = (time.monotonic() + svc.settings.bot.admin_cache_seconds, ids)
    return ids


async def admin_ids(context: Context, chat_id: int) -> frozenset[int]:
    return await fetch_admin_ids(context.bot, services(context), chat_id)


def forget_admins(context: Context, chat_id: int) -> None:
    services(context).admin_cache.pop(chat_id, None)


async def is_facilitator(context: Context, group: Group, user_id: int) -> bool:
    """Facilitators are the group's Telegram admins plus people the group named with /animateur."""
    found = await person_in_group(db(), group, user_id)
    if found is not None and found[1].named_facilitator and found[1].status == "member":
        return True
    return user_id in await admin_ids(context, group.chat_id)


async def require_facilitator(update: Update, context: Context) -> Group | None:
    """The group, when the update comes from a facilitator in an active group; otherwise say why."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return None
    group = await current_group(update)
    if group is None:
        await message.reply_text(t(language_for(update, context), "setup.only_in_group"))
        return None
    if not await is_facilitator(context, group, user.id):
        await message.reply_text(t(group.language, "facilitator.only"))
        return None
    return group


async def button_group(update: Update, context: Context, group_id: int | None) -> tuple[Group, str] | None:
    """The active group a pressed button's object belongs to, and the language to answer in, when
    the button was pressed in that group or in private; otherwise the press is answered as
    invalid (a forged button, another group's id) and None is returned."""
    query, user = update.callback_query, update.effective_user
    group = await find_group_by_id(db(), group_id)
    chat_group = await current_group(update)
    in_group = is_group_chat(update)
    if group is None or (in_group and (chat_group is None or chat_group.id != group.id)):
        fallback = chat_group or group
        default = services(context).settings.bot.default_language
        await query.answer(plain(fallback.language if fallback else pick_language(user.language_code, default), "button.invalid"))
        return None
    return group, group.language if in_group else pick_language(user.language_code, group.language)

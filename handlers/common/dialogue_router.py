"""The dialogue router: every guided dialogue and private question runs through one mechanism.

The state is in the database (bot/domain/dialogues.py); one router hands each answer — a private
message, or a reply in a group — to the feature whose dialogue is open for that person in that
chat. Features declare their steps with `on(KIND, Route(text=..., location=...))` and move through
them with `start`, `next_step` and `end`; a dialogue's buttons find it with `of`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import Chat, ReplyKeyboardRemove, Update
from telegram.ext import filters

from bot.domain import dialogues
from bot.domain.dialogues import Dialogue
from bot.domain.people import GROUP_ANONYMOUS_BOT
from bot.outbox.say import OnSent, after_sent
from bot.services import db, fetch_anonymous_admin_ids, services
from bot.ui.i18n import plain, t
from handlers.common import Context, answer, ask, current_group, language_for, replied_to, reply
from storage.models import Group

StepHandler = Callable[[Update, Any, Dialogue], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    """What a kind of dialogue reads: typed text, a shared location. In groups the bot sees only
    replies (privacy mode); with `reply_to_prompt`, only a reply to the dialogue's own question
    counts (any other reply is ordinary chat)."""

    text: StepHandler | None = None
    location: StepHandler | None = None
    document: StepHandler | None = None  # a file sent (the minutes)
    photo: StepHandler | None = None  # a photo sent (a receipt)
    reply_to_prompt: bool = False
    ttl: timedelta = dialogues.DEFAULT_TTL  # a dialogue left longer than this is forgotten


ROUTES: dict[str, Route] = {}
HANDLER_GROUP = 1  # the router's handler group (see the table in bot/application.py)
# What the router reads: text or a location, in private, or in a group as a reply (privacy mode).
ANSWERS = (filters.TEXT & ~filters.COMMAND | filters.LOCATION | filters.Document.ALL | filters.PHOTO) & (
    filters.ChatType.PRIVATE | filters.ChatType.GROUPS & filters.REPLY
)


def on(kind: str, route: Route) -> None:
    """Declare what a kind of dialogue reads (at registration)."""
    ROUTES[kind] = route


async def start(context: Context, user_id: int, chat_id: int, kind: str, step: str, **data: Any) -> Dialogue:
    """Start a dialogue (replacing any other open for this person in this chat)."""
    ttl = ROUTES[kind].ttl
    return await dialogues.open_dialogue(db(), user_id, chat_id, kind, step, services(context).clock.now(), data, ttl)


async def of(update: Update, context: Context, kind: str) -> Dialogue | None:
    """The dialogue of this kind open for the person in this chat (buttons of a dialogue step). An
    anonymous administrator types as the group but taps as themself: their taps reach the
    dialogue the group's anonymous administration opened."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return None
    now = services(context).clock.now()
    found = await dialogues.current(db(), user.id, chat.id, now)
    anonymous = chat.type != Chat.PRIVATE and found is None
    if anonymous and user.id in await fetch_anonymous_admin_ids(context.bot, services(context), chat.id):
        found = await dialogues.current(db(), GROUP_ANONYMOUS_BOT, chat.id, now)
    return found if found is not None and found.kind == kind else None


async def button_step(
    update: Update, context: Context, kind: str, step: str, last: bool = False
) -> tuple[Group, Dialogue] | None:
    """A dialogue's button pressed in its group: the group and the presser's dialogue, when it is
    at `step`; otherwise (someone else's buttons, an old preview) it is answered as expired. The
    `last` step's button ends the dialogue and is answered at once."""
    query = update.callback_query
    group = await current_group(update)
    found = await of(update, context, kind)
    if query is None:
        return None
    if group is None or found is None or found.step != step:
        answer(update, plain(language_for(update, context, group), "button.expired"))
        return None
    if last:
        await end(found)
        answer(update)
    return group, found


async def next_step(context: Context, dialogue: Dialogue, step: str, **data: Any) -> None:
    """Move on to the next question."""
    ttl = ROUTES[dialogue.kind].ttl
    await dialogues.advance(db(), dialogue, step, services(context).clock.now(), ttl, None, **data)


def prompt_of(dialogue: Dialogue, step: str) -> OnSent:
    """For the bot's question at this step, when the answer must reply to it: once sent, the
    dialogue remembers which message the answer must reply to."""
    return after_sent("prompt", user=dialogue.user_id, chat=dialogue.chat_id, kind=dialogue.kind, step=step)


async def end(dialogue: Dialogue) -> None:
    await dialogues.close(db(), dialogue)


async def route(update: Update, context: Context) -> None:
    """The router: a private message, or a reply to one of the bot's messages in a group, goes to
    the open dialogue's step. In a group nothing else is an answer: an administrator bot receives
    every message, and in a forum every message looks like a reply to its topic's first one."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    replied = replied_to(message)
    in_group = chat.type != Chat.PRIVATE
    if in_group and (replied is None or replied.from_user is None or replied.from_user.id != context.bot.id):
        return
    found = await dialogues.current(db(), user.id, chat.id, services(context).clock.now())
    route = ROUTES.get(found.kind) if found is not None else None
    handler = None
    if route is not None:
        if message.location:
            handler = route.location
        elif message.document:
            handler = route.document
        elif message.photo:
            handler = route.photo
        else:
            handler = route.text
    to_prompt = found is not None and replied is not None and replied.message_id == found.prompt_message_id
    if found is not None and route is not None and route.reply_to_prompt and not to_prompt:
        if in_group:  # they replied to another of the bot's messages: never left without an answer
            language = language_for(update, context, await current_group(update))
            ask(update, t(language, "dialogue.answer_here"), prompt_of(found, found.step))
        return
    if found is not None and handler is not None:
        await handler(update, context, found)
        return
    if chat.type == Chat.PRIVATE:  # nothing open: say what the bot can do
        language = language_for(update, context)
        key = "carpool.location_unused" if message.location else "private.not_understood"
        reply(update, t(language, key), reply_markup=ReplyKeyboardRemove() if message.location else None)

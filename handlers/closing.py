"""Closing early: /clore (the only open poll, vote or priority round; /clore 12 the vote on
proposal 12; /clore priorites the round; a choice of buttons when several are open), and the
"🔒 Clore" button under a poll or a round. Facilitators only. The outcome is posted by the outbox,
as at the deadline (bot/domain/closing.py)."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.domain import closing
from bot.domain.dates import normalise
from bot.domain.errors import RefusalError
from bot.domain.proposals import ProposalError, parse_number
from bot.services import db, services
from bot.ui import callbacks as cb
from bot.ui.i18n import plain, t
from bot.ui.proposals import closable_label
from handlers.common import (
    Context,
    answer,
    command_args,
    current_group,
    edit_tapped,
    is_facilitator,
    pressed_message,
    query_of,
    refuse,
    reply,
    require_facilitator,
    tapped,
    user_of,
    wake_at,
)
from storage.models import Group, PriorityRound

ROUND_WORDS = ("priorites", "priorite", "priorities")


async def _close(context: Context, group: Group, kind: str, subject_id: int) -> bool:
    now = services(context).clock.now()
    if not await closing.close_now(db(), group, kind, subject_id, now):
        return False
    wake_at(context, [now])
    return True


async def close_command(update: Update, context: Context) -> None:
    group = await require_facilitator(update, context)
    if group is None:
        return
    args = normalise(command_args(update))
    try:
        if not args:
            items = await closing.open_items(db(), group)
            if not items:
                raise ProposalError("close.error.none")
            if len(items) > 1:
                keyboard = [
                    [cb.key(closable_label(group.language, item), cb.Close(item.kind, item.subject_id))]
                    for item in items
                ]
                reply(update, t(group.language, "close.which"), reply_markup=InlineKeyboardMarkup(keyboard))
                return
            item = items[0]
        elif args in ROUND_WORDS:
            rounds = [i for i in await closing.open_items(db(), group) if i.kind == closing.ROUND]
            if not rounds:
                raise ProposalError("priorities.error.none_open")
            item = rounds[0]
        elif (number := parse_number(args)) is not None:
            item = await closing.vote_on(db(), group, number)
        else:
            raise ProposalError("close.error.form")
    except RefusalError as exc:
        await refuse(update, group.language, exc, "close.example")
        return
    done = await _close(context, group, item.kind, item.subject_id)
    reply(update, t(group.language, "close.done" if done else "close.already"))


async def close_button(update: Update, context: Context) -> None:
    """🔒 under a poll, a round, or in /clore's choice: the tapper must facilitate this group."""
    data = cb.decode(query_of(update).data)
    group = await current_group(update)
    message = pressed_message(update)
    language = group.language if group else "fr"
    if group is None or message is None:
        answer(update, plain(language, "button.invalid"))
        return
    if not await is_facilitator(context, group, user_of(update).id):
        answer(update, plain(language, "close.facilitators_only"), show_alert=True)
        return
    if isinstance(data, cb.CloseThisPoll):
        poll = await closing.poll_of_message(db(), group, message.message_id)
        kind, subject_id = closing.POLL, poll.id if poll else 0
    else:
        close = tapped(update, cb.Close)
        kind, subject_id = close.kind, close.subject_id
    done = await _close(context, group, kind, subject_id)
    answer(update, plain(language, "close.done" if done else "close.already"))
    if done and isinstance(data, cb.Close) and not await _is_round_message(data, message.message_id):
        edit_tapped(update, t(language, "close.done"))  # /clore's choice: its buttons are spent


async def _is_round_message(data: cb.Close, message_id: int) -> bool:
    """The round's own message (its 🔒 row), rather than /clore's choice."""
    if data.kind != closing.ROUND:
        return False
    round_ = await db().get(PriorityRound, data.subject_id)
    return round_ is not None and round_.message_id == message_id


def register(application: Application) -> None:
    application.add_handler(CommandHandler("clore", close_command))
    application.add_handler(CallbackQueryHandler(close_button, pattern=cb.any_of(cb.Close, cb.CloseThisPoll)))

"""/priorites: the group's dot-vote. Each member picks up to N open proposals with one tap each
(a second tap takes the pick back); the ranking is posted at the deadline, or at once with
/priorites fin."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.domain import closing
from bot.domain import priorities as pr
from bot.domain.errors import RefusalError
from bot.domain.people import find_person, person_in_group
from bot.domain.polls import closing_time, deadline_text
from bot.domain.proposals import ProposalError
from bot.services import db, services
from bot.ui import callbacks as cb
from bot.ui.i18n import plain
from bot.ui.proposals import priority_keyboard, priority_text
from handlers.common import (
    Context,
    after_sent,
    answer,
    command_args,
    current_group,
    follow,
    pressed_message,
    query_of,
    refuse,
    reply,
    require_facilitator,
    tapped,
    user_of,
    wake_at,
)
from storage.models import PriorityRound

END_WORDS = ("fin", "terminer", "stop", "cloturer", "clôturer")


async def priorities_command(update: Update, context: Context) -> None:
    """/priorites [jusqu'à vendredi 18h | pendant 10 min] opens a round; /priorites fin closes it now."""
    group = await require_facilitator(update, context)
    if group is None:
        return
    args = command_args(update)
    svc = services(context)
    now = svc.clock.now()
    try:
        if args.lower() in END_WORDS:  # the ranking is posted as at the deadline (handlers/closing.py)
            round_ = await pr.open_round(db(), group)
            if round_ is None or not await closing.close_now(db(), group, closing.ROUND, round_.id, now):
                raise ProposalError("priorities.error.none_open")
            wake_at(context, [now])
            return
        deadline = deadline_text(args) if args else None
        if args and deadline is None:
            raise ProposalError("priorities.error.form")
        closes = closing_time(deadline, now, ZoneInfo(group.timezone), svc.settings.proposals)
        creator = await find_person(db(), user_of(update).id)
        round_, proposals = await pr.start_round(
            db(), group, creator, now, closes, svc.settings.proposals.priority_picks
        )
    except RefusalError as exc:
        await refuse(update, group.language, exc)
        return
    reply(
        update,
        priority_text(group.language, group, round_, 0),
        on_sent=after_sent("priorities", id=round_.id),  # its count is edited there
        reply_markup=priority_keyboard(group.language, round_, proposals),
    )
    wake_at(context, [closes])


async def pick_button(update: Update, context: Context) -> None:
    """A proposal in a priority round: one tap picks, a second tap takes it back."""
    _query, user = query_of(update), user_of(update)
    data = tapped(update, cb.PriorityPick)
    group = await current_group(update)
    round_ = await db().get(PriorityRound, data.round_id)
    language = group.language if group else "fr"
    if group is None or round_ is None or round_.group_id != group.id:
        answer(update, plain(language, "button.invalid"))
        return
    found = await person_in_group(db(), group, user.id)
    if found is None or found[1].status != "member":
        answer(update, plain(language, "button.not_member"))
        return
    try:
        picked, count = await pr.toggle_pick(db(), round_, found[0], data.proposal_id)
    except RefusalError as exc:
        answer(update, plain(language, exc.key, **exc.values), show_alert=exc.key == "priorities.error.full")
        return
    answer(
        update,
        plain(language, "priorities.picked" if picked else "priorities.unpicked", count=count, limit=round_.max_picks),
    )
    # The round's message shows how many took part: edited at most every few seconds.
    message = pressed_message(update)
    if message is not None:
        await follow(context, message.chat.id, round_.id, priority_round=message.message_id)


def register(application: Application) -> None:
    application.add_handler(CommandHandler("priorites", priorities_command))
    application.add_handler(CallbackQueryHandler(pick_button, pattern=cb.PriorityPick.matches))

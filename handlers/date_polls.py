"""/quand: facilitators offer 2 to 6 dates; members tick those they can make under the group
message (counts updated in place); "✅ Choisir" shows a facilitator, in private, who can come when,
with one button per date; the date chosen (or, at the deadline, the one most can make) becomes the
meeting, announced as usual (bot/domain/date_polls.py)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.domain import date_polls as dp
from bot.domain.deeplinks import group_payload, start_url
from bot.domain.errors import RefusalError
from bot.domain.groups import find_group_by_id
from bot.domain.people import find_person, person_in_group
from bot.services import db, services
from bot.ui import callbacks as cb
from bot.ui.date_polls import date_poll_keyboard, date_poll_outcome, date_poll_text, pick_keyboard, who_text
from bot.ui.i18n import plain, t
from handlers.common import (
    Context,
    after_sent,
    answer,
    command_args,
    current_group,
    edit,
    edit_tapped,
    follow,
    is_facilitator,
    language_for,
    pressed_message,
    publish,
    reply,
    require_facilitator,
    say,
    tapped,
    user_of,
    wake_at,
)
from storage.models import DateOption, DatePoll, Group


def _refusal(language: str, error: RefusalError) -> str:
    """A refusal in French; a date that does not work says which one, and why."""
    if error.key == "when.error.date":
        values = dict(error.values)
        why = str(values.pop("why"))
        index, written = values.pop("index"), values.pop("date")
        return t(language, error.key, index=index, date=written) + t(language, why, **values)
    return t(language, error.key, **error.values)


async def date_poll_command(update: Update, context: Context) -> None:
    """/quand lieu | sujet | date 1 | date 2 [… | date 6] [| jusqu'à vendredi 18h]."""
    group = await require_facilitator(update, context)
    if group is None:
        return
    svc = services(context)
    now = svc.clock.now()
    try:
        spec = dp.parse_date_poll(command_args(update))
        creator = await find_person(db(), user_of(update).id)
        poll, options = await dp.open_date_poll(db(), group, spec, creator, now, svc.settings.proposals)
    except RefusalError as exc:
        reply(update, _refusal(group.language, exc) + "\n" + t(group.language, "when.example"))
        return
    reply(
        update,
        date_poll_text(group.language, group, poll),
        on_sent=after_sent("date_poll", id=poll.id),  # its counts are edited there
        reply_markup=date_poll_keyboard(group.language, group, poll, options, {}),
    )
    wake_at(context, [poll.closes_at])


async def _poll_of(update: Update, option_id: int) -> tuple[DateOption, DatePoll, Group] | None:
    """The option a button names, in this group's chat; otherwise the press is answered as invalid."""
    option = await db().get(DateOption, option_id)
    poll = await db().get(DatePoll, option.date_poll_id) if option else None
    group = await current_group(update)
    if option is None or poll is None or group is None or poll.group_id != group.id:
        answer(update, plain(group.language if group else "fr", "button.invalid"))
        return None
    return option, poll, group


async def tick_button(update: Update, context: Context) -> None:
    found = await _poll_of(update, tapped(update, cb.DateTickButton).option_id)
    if found is None:
        return
    option, poll, group = found
    member = await person_in_group(db(), group, user_of(update).id)
    if member is None or member[1].status != "member":
        answer(update, plain(group.language, "button.not_member"))
        return
    now = services(context).clock.now()
    try:
        ticked = await dp.toggle(db(), option, member[0], now)
    except RefusalError as exc:
        answer(update, plain(group.language, exc.key, **exc.values))
        return
    answer(update, plain(group.language, "when.ticked" if ticked else "when.unticked"))
    message = pressed_message(update)
    if message is not None:  # the counts on the message: edited at most every few seconds
        await follow(context, message.chat.id, poll.id, date_poll=message.message_id)


async def choose_button(update: Update, context: Context) -> None:
    """✅ Choisir: who can come when, in private, with one button per date (facilitators only)."""
    poll = await db().get(DatePoll, tapped(update, cb.DateChoose).date_poll_id)
    group = await current_group(update)
    language = group.language if group else "fr"
    if poll is None or group is None or poll.group_id != group.id:
        answer(update, plain(language, "button.invalid"))
        return
    if not await is_facilitator(context, group, user_of(update).id):
        answer(update, plain(language, "facilitator.only_short"), show_alert=True)
        return
    if poll.status != "open":
        answer(update, plain(language, "when.error.closed"), show_alert=True)
        return
    asker = await find_person(db(), user_of(update).id)
    if asker is None or asker.private_status != "started":
        svc = services(context)
        answer(update, url=start_url(svc.bot_username, group_payload(svc.link_secret, group.id)))
        return
    options = await dp.options_of(db(), poll)
    say(
        asker.telegram_id,
        who_text(language, group, poll, options, await dp.who_can_come(db(), poll)),
        reply_markup=pick_keyboard(language, group, options),
    )
    answer(update, plain(language, "when.see_private"))


async def pick_button(update: Update, context: Context) -> None:
    """Retenir cette date, in private: the meeting is created and announced; the dates' message
    in the group says which date was chosen and loses its buttons."""
    option = await db().get(DateOption, tapped(update, cb.DatePick).option_id)
    poll = await db().get(DatePoll, option.date_poll_id) if option else None
    group = await find_group_by_id(db(), poll.group_id) if poll else None
    language = language_for(update, context, group)
    if option is None or poll is None or group is None:
        answer(update, plain(language, "button.invalid"))
        return
    if not await is_facilitator(context, group, user_of(update).id):
        answer(update, plain(language, "facilitator.only_short"), show_alert=True)
        return
    svc = services(context)
    now = svc.clock.now()
    creator = await find_person(db(), user_of(update).id)
    try:
        meeting = await dp.choose(db(), poll, option, group, creator, now, svc.settings.meetings)
    except RefusalError as exc:
        answer(update, plain(language, exc.key, **exc.values), show_alert=True)
        return
    outcome = date_poll_outcome(group.language, group, poll, meeting, await dp.tick_counts(db(), poll))
    answer(update)
    edit_tapped(update, outcome)
    if poll.message_id is not None:
        edit(group.chat_id, poll.message_id, date_poll_text(group.language, group, poll) + "\n\n" + outcome)
    await publish(context, group, meeting)


def register(application: Application) -> None:
    application.add_handler(CommandHandler("quand", date_poll_command))
    application.add_handler(CallbackQueryHandler(tick_button, pattern=cb.DateTickButton.matches))
    application.add_handler(CallbackQueryHandler(choose_button, pattern=cb.DateChoose.matches))
    application.add_handler(CallbackQueryHandler(pick_button, pattern=cb.DatePick.matches))

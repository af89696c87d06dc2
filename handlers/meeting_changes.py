"""Changing meetings: /annuler, /deplacer, /rappels, /serie (facilitators only).

`/annuler 3` and `/deplacer 3 jeudi 15h` act at once; without a number the bot lists the coming
meetings as buttons (and for /deplacer then asks the new date). Everyone who answered is told, in
the group and in private, and every reminder is rescheduled.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.domain import meetings as m
from bot.domain import sms
from bot.domain.dates import DateError, is_series, parse_series, parse_when
from bot.domain.dialogues import Dialogue
from bot.domain.errors import RefusalError
from bot.services import db, services
from bot.ui import callbacks as cb
from bot.ui.i18n import pick_language, plain, t, tn
from bot.ui.meetings import announcement_text, rsvp_keyboard, short_when, when_text
from handlers.common import (
    Context,
    answer,
    ask,
    asker_name,
    current_group,
    edit,
    edit_tapped,
    is_facilitator,
    language_for,
    message_of,
    notify,
    plan,
    plan_jobs,
    publish,
    reply,
    require_facilitator,
    tapped,
    tell_rides_changed,
    user_of,
)
from handlers.common import dialogue_router as router
from storage.models import Group, Meeting, MeetingSeries

DIALOGUE = "move_meeting"  # /deplacer without a number: the meeting picked, waiting for its new date


async def _meeting_from_arg(update: Update, group: Group, arg: str) -> Meeting | None:
    number = arg.lstrip("n°#").strip()
    meeting = await m.find_meeting(db(), group, int(number)) if number.isdigit() and len(number) < 7 else None
    if meeting is None:
        reply(update, t(group.language, "meeting.error.unknown", number=arg[:12]))
    return meeting


async def _pick_keyboard(
    group: Group, button: type[cb.CancelMeeting | cb.MoveMeeting], now
) -> InlineKeyboardMarkup | None:
    upcoming = await m.upcoming_meetings(db(), group, now)
    if not upcoming:
        return None
    return InlineKeyboardMarkup(
        [
            [
                cb.key(
                    plain(
                        group.language,
                        "meeting.pick",
                        number=meeting.number,
                        when=short_when(meeting.starts_at, group.timezone, group.language),
                    ),
                    button(meeting.id),
                )
            ]
            for meeting in upcoming
        ]
    )


async def _tell_everyone(context: Context, group: Group, meeting: Meeting, key: str, **values) -> None:
    """The group, and in private everyone who answered: durable notices, written with the change
    (403s mark people unreachable)."""
    values.setdefault("place", meeting.place)
    group_text = t(group.language, key, number=meeting.number, topic=meeting.topic, **values)
    markup = rsvp_keyboard(group.language, meeting) if meeting.status == "scheduled" else None
    notify(context, group, group_text, key, reply_markup=markup)
    for person, _, rsvp in await m.members_with_answers(db(), meeting):
        if rsvp is None:
            continue
        language = pick_language(person.language_code, group.language)
        text = (
            t(language, key, number=meeting.number, topic=meeting.topic, **values)
            + "\n"
            + t(language, "meeting.private_group", group=group.display_name)
        )
        notify(context, person, text, key, reply_markup=rsvp_keyboard(language, meeting) if markup else None)
    now = services(context).clock.now()
    if services(context).settings.sms.enabled and await sms.plan_change(db(), group, meeting, now):
        plan([now])  # and by SMS, to the members who get them


async def _refresh_announcement(context: Context, group: Group, meeting: Meeting) -> None:
    """The announcement shows the new date, or that the meeting is cancelled (buttons removed)."""
    if meeting.announcement_message_id is None:
        return
    if meeting.status == "cancelled":
        text = (
            t(group.language, "meeting.cancelled_banner")
            + "\n"
            + announcement_text(group, meeting, await m.counts(db(), meeting))
        )
        markup = None
    else:
        text = announcement_text(group, meeting, await m.counts(db(), meeting))
        markup = rsvp_keyboard(group.language, meeting)
    edit(group.chat_id, meeting.announcement_message_id, text, reply_markup=markup)


async def _cancel(context: Context, group: Group, meeting: Meeting) -> str | None:
    now = services(context).clock.now()
    try:
        await m.cancel_meeting(db(), meeting, now)
    except RefusalError as exc:
        return t(group.language, exc.key, **exc.values)
    when = when_text(meeting.starts_at, group.timezone, group.language)
    await _refresh_announcement(context, group, meeting)
    await _tell_everyone(context, group, meeting, "meeting.cancelled", when=when)
    await tell_rides_changed(context, group, meeting, None)
    if meeting.series_id is not None:
        series = await db().get(MeetingSeries, meeting.series_id)
        if series is not None:
            following = await m.next_in_series(
                db(), series, meeting.starts_at, now, services(context).settings.meetings
            )
            if following is not None:
                await publish(context, group, following)
    return None


async def _move(context: Context, group: Group, meeting: Meeting, when: str) -> str | None:
    svc = services(context)
    now = svc.clock.now()
    try:
        if is_series(when):
            raise DateError("date.error.series_here")
        starts = parse_when(when, now, ZoneInfo(group.timezone))
        before = meeting.starts_at
        await m.move_meeting(db(), meeting, group, starts, now, svc.settings.meetings)
    except RefusalError as exc:
        return t(group.language, exc.key, **exc.values)
    await _refresh_announcement(context, group, meeting)
    await _tell_everyone(
        context,
        group,
        meeting,
        "meeting.moved",
        when=when_text(starts, group.timezone, group.language),
        place=meeting.place,
    )
    await tell_rides_changed(context, group, meeting, starts - before)
    await plan_jobs(context, meeting_id=meeting.id)
    return None


async def _targeted(
    update: Update, context: Context, button: type[cb.CancelMeeting | cb.MoveMeeting], pick: str
) -> tuple[Group, Meeting] | None:
    """`/annuler 3`: the facilitator's group and its meeting n°3. Without a number, the coming
    meetings are offered as buttons (and None returned: the button carries on)."""
    group = await require_facilitator(update, context)
    if group is None:
        return None
    if not context.args:
        keyboard = await _pick_keyboard(group, button, services(context).clock.now())
        reply(update, t(group.language, pick if keyboard else "meeting.none"), reply_markup=keyboard)
        return None
    meeting = await _meeting_from_arg(update, group, context.args[0])
    return (group, meeting) if meeting is not None else None


async def cancel_command(update: Update, context: Context) -> None:
    found = await _targeted(update, context, cb.CancelMeeting, "meeting.pick_cancel")
    if found is not None and (problem := await _cancel(context, *found)):
        reply(update, problem)


async def cancel_button(update: Update, context: Context) -> None:
    group = await current_group(update)
    meeting = await _button_meeting(update, context, group, tapped(update, cb.CancelMeeting).meeting_id)
    if meeting is None or group is None:  # answered by _button_meeting
        return
    answer(update)
    problem = await _cancel(context, group, meeting)
    edit_tapped(update, problem or t(group.language, "meeting.done_cancel", number=meeting.number))


async def _button_meeting(update: Update, context: Context, group: Group | None, meeting_id: int) -> Meeting | None:
    """The meeting a facilitator's pick button names, checked: same group, right person."""
    language = language_for(update, context, group)
    meeting = await db().get(Meeting, meeting_id)
    if group is None or meeting is None or meeting.group_id != group.id:
        answer(update, plain(language, "button.invalid"))
        return None
    if not await is_facilitator(context, group, user_of(update).id):
        answer(update, plain(language, "facilitator.only_short"), show_alert=True)
        return None
    return meeting


async def move_command(update: Update, context: Context) -> None:
    found = await _targeted(update, context, cb.MoveMeeting, "meeting.pick_move")
    if found is None:
        return
    group, meeting = found
    if len(context.args or []) < 2:
        reply(update, t(group.language, "meeting.move_usage"))
        return
    problem = await _move(context, group, meeting, " ".join((context.args or [])[1:]))
    if problem:
        reply(update, problem + "\n" + t(group.language, "meeting.move_usage"))


async def move_button(update: Update, context: Context) -> None:
    group = await current_group(update)
    meeting = await _button_meeting(update, context, group, tapped(update, cb.MoveMeeting).meeting_id)
    if meeting is None or group is None:
        return
    answer(update)
    open_ = await router.of(update, context, DIALOGUE)
    if open_ is not None and open_.get("meeting_id") == meeting.id:
        return  # a second tap (two taps in a row reach the bot before the buttons go): asked already
    dialogue = await router.start(context, user_of(update).id, group.chat_id, DIALOGUE, "date", meeting_id=meeting.id)
    edit_tapped(update, t(group.language, "meeting.picked", number=meeting.number))
    ask(update, t(group.language, "meeting.ask_new_date", name=asker_name(update)), router.prompt_of(dialogue, "date"))


async def receive_new_date(update: Update, context: Context, dialogue: Dialogue) -> None:
    group = await current_group(update)
    meeting = await db().get(Meeting, dialogue.get("meeting_id"))
    if group is None or meeting is None or meeting.group_id != group.id:
        await router.end(dialogue)
        return
    problem = await _move(context, group, meeting, message_of(update).text or "")
    if problem:
        ask(update, problem + "\n" + t(group.language, "meeting.ask_date_again"), router.prompt_of(dialogue, "date"))
        return
    await router.end(dialogue)


async def reminders_command(update: Update, context: Context) -> None:
    """/rappels shows the group's reminders; /rappels 7j 1j 2h changes them."""
    group = await require_facilitator(update, context)
    if group is None:
        return
    svc = services(context)
    if not context.args:
        tokens = m.group_offsets(group, svc.settings.meetings)
        reply(update, t(group.language, "reminders.current", offsets=" ".join(tokens)))
        return
    try:
        tokens = m.parse_offsets(" ".join(context.args))
    except RefusalError as exc:
        reply(update, t(group.language, exc.key, **exc.values) + "\n" + t(group.language, "reminders.example"))
        return
    count = await m.set_group_offsets(db(), group, tokens, svc.clock.now(), svc.settings.meetings)
    await plan_jobs(context, group_id=group.id)
    reply(
        update,
        t(group.language, "reminders.saved", offsets=" ".join(tokens))
        + " "
        + tn(group.language, "reminders.updated", count),
    )


async def series_command(update: Update, context: Context) -> None:
    """/serie lists series; /serie arreter 2 stops one; /serie modifier 2 <date> | <lieu> | <sujet> edits it."""
    group = await require_facilitator(update, context)
    if group is None:
        return
    svc = services(context)
    language = group.language
    message = message_of(update)
    args = list(context.args or [])
    all_series = await m.active_series(db(), group)
    if not args:
        if not all_series:
            reply(update, t(language, "series.none"))
            return
        lines = [t(language, "series.title")] + [
            t(language, "series.line", id=s.id, place=s.place, topic=s.topic) for s in all_series
        ]
        reply(update, "\n".join([*lines, t(language, "series.usage")]))
        return
    action = args[0].lower()
    target = next((s for s in all_series if len(args) > 1 and args[1] == str(s.id)), None)
    if action not in ("arreter", "arrêter", "stop", "modifier") or target is None:
        reply(update, t(language, "series.usage"))
        return
    now = svc.clock.now()
    upcoming = await m.next_of_series(db(), target, now)
    if action != "modifier":
        m.stop_series(target, now)
        key = "series.stopped_with_next" if upcoming else "series.stopped"
        reply(update, t(language, key, id=target.id, number=upcoming.number if upcoming else 0))
        return
    rest = (message.text or "").split(maxsplit=3)[3:] or [""]
    parts = [p.strip() for p in rest[0].split("|")]
    try:
        rule = parse_series(parts[0])
        place, topic, _ = m.validate_details(
            parts[1] if len(parts) > 1 else target.place, parts[2] if len(parts) > 2 else target.topic
        )
    except RefusalError as exc:
        reply(update, t(language, exc.key, **exc.values) + "\n" + t(language, "series.usage"))
        return
    before = upcoming.starts_at if upcoming is not None else None
    starts = await m.edit_series(db(), target, group, rule, place, topic, upcoming, now, svc.settings.meetings)
    if upcoming is not None and starts is not None and before is not None:
        await _refresh_announcement(context, group, upcoming)
        await _tell_everyone(
            context, group, upcoming, "meeting.moved", when=when_text(starts, group.timezone, language), place=place
        )
        await tell_rides_changed(context, group, upcoming, starts - before)
    reply(update, t(language, "series.changed", id=target.id))


def register(application: Application) -> None:
    application.add_handler(CommandHandler("annuler", cancel_command))
    application.add_handler(CallbackQueryHandler(cancel_button, pattern=cb.CancelMeeting.matches))
    application.add_handler(CommandHandler("deplacer", move_command))
    application.add_handler(CallbackQueryHandler(move_button, pattern=cb.MoveMeeting.matches))
    router.on(DIALOGUE, router.Route(text=receive_new_date, ttl=timedelta(minutes=20)))
    application.add_handler(CommandHandler("rappels", reminders_command))
    application.add_handler(CommandHandler("serie", series_command))

"""/reunion (one line or guided), /reunions and /prochaine.

One line: `/reunion 12/12 14h | Centre social Les Vennes, 3 rue X, Bourg | Bilan des propositions`
(a fourth segment is the agenda). A date such as "chaque premier mardi du mois 14h" makes a series.
Guided: the bot asks the date, the place, the topic (first line) and agenda (next lines), then
shows the announcement to publish.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.domain import meetings as m
from bot.domain.dates import is_series, parse_series, parse_series_end, parse_when
from bot.domain.dialogues import Dialogue
from bot.domain.errors import RefusalError
from bot.domain.people import find_person, groups_of
from bot.services import db, services
from bot.ui import callbacks as cb
from bot.ui.i18n import plain, t
from bot.ui.meetings import (
    draft_preview,
    meeting_body,
    my_meetings_alert,
    my_meetings_lines,
    publish_keyboard,
    reminders_confirmation,
    rsvp_keyboard,
    short_when,
)
from handlers.common import (
    Context,
    answer,
    ask,
    current_group,
    edit_tapped,
    is_group_chat,
    language_for,
    message_of,
    next_meeting_here,
    publish,
    reply,
    require_facilitator,
    say,
    tapped,
    user_of,
)
from handlers.common import dialogue_router as router
from storage.models import Group, Meeting

DIALOGUE = "meeting"  # the guided /reunion: date, place, topic and agenda, then publish


def _error_text(language: str, error: RefusalError) -> str:
    return t(language, error.key, **error.values)


async def _create(
    update: Update,
    context: Context,
    group: Group,
    when_text: str,
    place: str,
    topic: str,
    agenda: str | None,
    meal: bool = False,
) -> Meeting | None:
    """Validate everything, create the meeting (or series) and publish it; answer errors in French."""
    svc = services(context)
    now = svc.clock.now()
    language = group.language
    creator = await find_person(db(), user_of(update).id) if update.effective_user else None
    try:
        if is_series(when_text):
            today = now.astimezone(ZoneInfo(group.timezone)).date()
            end = parse_series_end(when_text, today)  # "jusqu'en juin", "6 fois"
            _, meeting = await m.create_series(
                db(), group, parse_series(when_text), place, topic, creator, now, svc.settings.meetings, end
            )
        else:
            starts = parse_when(when_text, now, ZoneInfo(group.timezone))
            meeting = await m.create_meeting(
                db(), group, starts, place, topic, agenda, creator, now, svc.settings.meetings, meal=meal
            )
    except RefusalError as exc:
        reply(update, _error_text(language, exc) + "\n" + t(language, "meeting.example"))
        return None
    # The facilitator is told when the reminders go out and how many will get them in private: in
    # private when the bot may write there, otherwise in the group just above the announcement.
    confirmation = reminders_confirmation(language, group, await m.reminder_reach(db(), meeting))
    if creator is not None and creator.private_status == "started":
        await publish(context, group, meeting)
        say(creator.telegram_id, confirmation)
    else:
        reply(update, confirmation)
        await publish(context, group, meeting)
    return meeting


async def meeting_command(update: Update, context: Context) -> None:
    """Entry point: the one-line form, or the first question of the dialogue."""
    group = await require_facilitator(update, context)
    message, user = message_of(update), user_of(update)
    if group is None or message is None or user is None:
        return
    rest = (message.text or "").partition(" ")[2].strip()
    if rest:
        parts = [part.strip() for part in rest.split("|")]
        meal = any(m.is_meal_flag(part) for part in parts[3:])  # "… | repas": a meal is served
        parts = parts[:3] + [part for part in parts[3:] if not m.is_meal_flag(part)]
        if len(parts) < 3 or len(parts) > 4:
            reply(update, t(group.language, "meeting.error.form") + "\n" + t(group.language, "meeting.example"))
            return
        agenda = parts[3] if len(parts) == 4 else None
        await _create(update, context, group, parts[0], parts[1], parts[2], agenda, meal)
        return
    dialogue = await router.start(context, user.id, group.chat_id, DIALOGUE, "date")
    ask(update, t(group.language, "meeting.ask_date"), router.prompt_of(dialogue, "date"), placeholder="mardi 14h")


async def _answer(update: Update, context: Context, dialogue: Dialogue) -> None:
    """The facilitator's reply to the current question of the guided /reunion."""
    group = await current_group(update)
    message = update.effective_message
    if group is None or message is None:
        return
    text = message.text or ""
    language = group.language
    try:
        if dialogue.step == "date":
            if is_series(text):
                parse_series(text)
            else:
                parse_when(text, services(context).clock.now(), ZoneInfo(group.timezone))
            await router.next_step(context, dialogue, "place", when=text)
            ask(update, t(language, "meeting.ask_place"), router.prompt_of(dialogue, "place"))
        elif dialogue.step == "place":
            await router.next_step(context, dialogue, "topic", place=m.validate_place(text))
            ask(update, t(language, "meeting.ask_topic"), router.prompt_of(dialogue, "topic"))
        elif dialogue.step == "topic":
            topic, _, agenda = text.strip().partition("\n")
            m.validate_details(dialogue.get("place"), topic, agenda)
            await router.next_step(context, dialogue, "confirm", topic=topic, agenda=agenda.strip() or None)
            reply(
                update,
                draft_preview(group.language, dialogue.get("when"), dialogue.get("place"), topic),
                reply_markup=publish_keyboard(group.language),
            )
    except RefusalError as exc:
        again = "\n" + t(language, "meeting.ask_date_again") if dialogue.step == "date" else ""
        ask(update, _error_text(language, exc) + again, router.prompt_of(dialogue, dialogue.step))


async def confirm(update: Update, context: Context) -> None:
    """Publier / Annuler under the preview, by the facilitator whose dialogue it is."""
    found = await router.button_step(update, context, DIALOGUE, "confirm", last=True)
    if found is None:
        return
    group, dialogue = found
    if tapped(update, cb.PublishMeeting).choice != "ok":
        edit_tapped(update, t(group.language, "meeting.not_published"))
        return
    meeting = await _create(
        update,
        context,
        group,
        dialogue.get("when"),
        dialogue.get("place"),
        dialogue.get("topic"),
        dialogue.get("agenda"),
    )
    edit_tapped(update, t(group.language, "meeting.published" if meeting else "meeting.not_published"))


async def list_meetings(update: Update, context: Context) -> None:
    """/reunions: what is coming, with numbers and counts."""
    group = await current_group(update)
    message = update.effective_message
    if message is None:
        return
    if group is None:
        reply(update, t(language_for(update, context), "setup.only_in_group"))
        return
    upcoming = await m.upcoming_meetings(db(), group, services(context).clock.now())
    if not upcoming:
        reply(update, t(group.language, "meeting.none"))
        return
    lines = [t(group.language, "meeting.list_title")]
    for meeting in upcoming:
        counts = await m.counts(db(), meeting)
        lines.append(
            t(
                group.language,
                "meeting.list_line",
                number=meeting.number,
                when=short_when(meeting.starts_at, group.timezone, group.language),
                place=meeting.place,
                yes=counts.yes,
                no=counts.no,
                maybe=counts.maybe,
            )
        )
    reply(update, "\n".join(lines))


async def next_meeting(update: Update, context: Context) -> None:
    """/prochaine: the next meeting and the asker's own answer, with the buttons to change it."""
    found = await next_meeting_here(update, context)
    if found is None:
        return
    group, meeting = found
    rsvp = await m.answer_of(db(), meeting, await find_person(db(), user_of(update).id))
    own = t(
        group.language,
        f"rsvp.yours_{rsvp.answer}" if rsvp else "rsvp.yours_none",
        name=user_of(update).first_name,
    )
    text = meeting_body(group, meeting, await m.counts(db(), meeting)) + "\n" + own
    reply(update, text, reply_markup=rsvp_keyboard(group.language, meeting))


async def my_meetings_button(update: Update, context: Context) -> None:
    """📋 Mes réunions (under /aide): in the group, the coming meetings and the tapper's answers in
    the tap's own answer (nothing posted, nothing to open); in private, a message per group."""
    user, now = user_of(update), services(context).clock.now()
    person = await find_person(db(), user.id)
    if is_group_chat(update):
        group = await current_group(update)
        if group is None:
            answer(update, plain(language_for(update, context), "button.invalid"))
            return
        coming = await m.coming_with_answers(db(), group, person, now)
        answer(update, my_meetings_alert(group.language, group, coming), show_alert=True)
        return
    language = language_for(update, context)
    answer(update)
    groups = await groups_of(db(), person) if person else []
    lines = [t(language, "mine.title")]
    for group in groups:
        coming = await m.coming_with_answers(db(), group, person, now)
        if coming:
            lines += ["", t(language, "meeting.private_group", group=group.display_name)]
            lines += my_meetings_lines(language, group, coming)
    reply(update, "\n".join(lines) if len(lines) > 1 else t(language, "mine.none"))


def register(application: Application) -> None:
    application.add_handler(CommandHandler("reunion", meeting_command))
    router.on(DIALOGUE, router.Route(text=_answer, ttl=timedelta(minutes=20)))
    application.add_handler(CallbackQueryHandler(confirm, pattern=cb.PublishMeeting.matches))
    application.add_handler(CommandHandler("reunions", list_meetings))
    application.add_handler(CommandHandler("prochaine", next_meeting))
    application.add_handler(CallbackQueryHandler(my_meetings_button, pattern=cb.MyMeetings.matches))

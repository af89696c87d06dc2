"""/reunion (one line or guided), /reunions and /prochaine.

One line: `/reunion 12/12 14h | Centre social Les Vennes, 3 rue X, Bourg | Bilan des propositions`
(a fourth segment is the agenda). A date such as "chaque premier mardi du mois 14h" makes a series.
Guided: the bot asks the date, the place, the topic (first line) and agenda (next lines), then
shows the announcement to publish.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.domain import meetings as m
from bot.domain.dates import is_series, parse_series, parse_when
from bot.domain.errors import RefusalError
from bot.domain.people import find_person
from bot.services import db, services
from bot.ui.i18n import plain, t
from bot.ui.meetings import meeting_body, rsvp_keyboard, short_when
from handlers.common import (
    Context,
    current_group,
    language_for,
    next_meeting_here,
    publish,
    require_facilitator,
)
from storage.models import Group, Meeting

ASK_DATE, ASK_PLACE, ASK_TOPIC, CONFIRM = range(4)
DRAFT = "meeting_draft"


def _error_text(language: str, error: RefusalError) -> str:
    return t(language, error.key, **error.values)


async def _create(
    update: Update, context: Context, group: Group, when_text: str, place: str, topic: str, agenda: str | None
) -> Meeting | None:
    """Validate everything, create the meeting (or series) and publish it; answer errors in French."""
    svc = services(context)
    now = svc.clock.now()
    language = group.language
    message = update.effective_message
    creator = await find_person(db(), update.effective_user.id) if update.effective_user else None
    try:
        if is_series(when_text):
            _, meeting = await m.create_series(
                db(), group, parse_series(when_text), place, topic, creator, now, svc.settings.meetings
            )
        else:
            starts = parse_when(when_text, now, ZoneInfo(group.timezone))
            meeting = await m.create_meeting(
                db(), group, starts, place, topic, agenda, creator, now, svc.settings.meetings
            )
    except RefusalError as exc:
        await message.reply_text(_error_text(language, exc) + "\n" + t(language, "meeting.example"))
        return None
    await publish(context, group, meeting)
    return meeting


async def meeting_command(update: Update, context: Context) -> int:
    """Entry point: the one-line form, or the first question of the dialogue."""
    group = await require_facilitator(update, context)
    message = update.effective_message
    if group is None or message is None:
        return ConversationHandler.END
    rest = (message.text or "").partition(" ")[2].strip()
    if rest:
        parts = [part.strip() for part in rest.split("|")]
        if len(parts) < 3 or len(parts) > 4:
            await message.reply_text(
                t(group.language, "meeting.error.form") + "\n" + t(group.language, "meeting.example")
            )
            return ConversationHandler.END
        await _create(update, context, group, parts[0], parts[1], parts[2], parts[3] if len(parts) == 4 else None)
        return ConversationHandler.END
    context.user_data[DRAFT] = {"chat_id": group.chat_id}
    await message.reply_text(
        t(group.language, "meeting.ask_date"),
        reply_markup=ForceReply(selective=True, input_field_placeholder="mardi 14h"),
    )
    return ASK_DATE


def _draft(update: Update, context: Context, group: Group | None) -> dict | None:
    draft = context.user_data.get(DRAFT)
    if group is None or draft is None or draft.get("chat_id") != group.chat_id:
        return None
    return draft


async def receive_date(update: Update, context: Context) -> int:
    group = await current_group(update)
    draft = _draft(update, context, group)
    if draft is None:
        return ConversationHandler.END
    text = update.effective_message.text or ""
    try:
        if is_series(text):
            parse_series(text)
        else:
            parse_when(text, services(context).clock.now(), ZoneInfo(group.timezone))
    except RefusalError as exc:
        await update.effective_message.reply_text(
            _error_text(group.language, exc) + "\n" + t(group.language, "meeting.ask_date_again"),
            reply_markup=ForceReply(selective=True),
        )
        return ASK_DATE
    draft["when"] = text
    await update.effective_message.reply_text(
        t(group.language, "meeting.ask_place"), reply_markup=ForceReply(selective=True)
    )
    return ASK_PLACE


async def receive_place(update: Update, context: Context) -> int:
    group = await current_group(update)
    draft = _draft(update, context, group)
    if draft is None:
        return ConversationHandler.END
    try:
        draft["place"] = m.validate_place(update.effective_message.text or "")
    except RefusalError as exc:
        await update.effective_message.reply_text(
            _error_text(group.language, exc), reply_markup=ForceReply(selective=True)
        )
        return ASK_PLACE
    await update.effective_message.reply_text(
        t(group.language, "meeting.ask_topic"), reply_markup=ForceReply(selective=True)
    )
    return ASK_TOPIC


async def receive_topic(update: Update, context: Context) -> int:
    group = await current_group(update)
    draft = _draft(update, context, group)
    if draft is None:
        return ConversationHandler.END
    topic, _, agenda = (update.effective_message.text or "").strip().partition("\n")
    try:
        m.validate_details(draft["place"], topic, agenda)
    except RefusalError as exc:
        await update.effective_message.reply_text(
            _error_text(group.language, exc), reply_markup=ForceReply(selective=True)
        )
        return ASK_TOPIC
    draft["topic"], draft["agenda"] = topic, agenda.strip() or None
    preview = (
        t(group.language, "meeting.preview", when=draft["when"])
        + "\n"
        + t(group.language, "meeting.place", place=draft["place"])
        + "\n"
        + t(group.language, "meeting.topic", topic=topic)
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(plain(group.language, "button.publish"), callback_data="mtg:ok"),
                InlineKeyboardButton(plain(group.language, "button.cancel"), callback_data="mtg:no"),
            ]
        ]
    )
    await update.effective_message.reply_text(preview, reply_markup=keyboard)
    return CONFIRM


async def confirm(update: Update, context: Context) -> int:
    query = update.callback_query
    group = await current_group(update)
    draft = _draft(update, context, group)
    context.user_data.pop(DRAFT, None)
    if draft is None or "topic" not in draft:
        await query.answer(plain(language_for(update, context, group), "button.expired"))
        return ConversationHandler.END
    await query.answer()
    if query.data != "mtg:ok":
        await query.edit_message_text(t(group.language, "meeting.not_published"))
        return ConversationHandler.END
    meeting = await _create(update, context, group, draft["when"], draft["place"], draft["topic"], draft.get("agenda"))
    await query.edit_message_text(t(group.language, "meeting.published" if meeting else "meeting.not_published"))
    return ConversationHandler.END


async def list_meetings(update: Update, context: Context) -> None:
    """/reunions: what is coming, with numbers and counts."""
    group = await current_group(update)
    message = update.effective_message
    if message is None:
        return
    if group is None:
        await message.reply_text(t(language_for(update, context), "setup.only_in_group"))
        return
    upcoming = await m.upcoming_meetings(db(), group, services(context).clock.now())
    if not upcoming:
        await message.reply_text(t(group.language, "meeting.none"))
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
    await message.reply_text("\n".join(lines))


async def next_meeting(update: Update, context: Context) -> None:
    """/prochaine: the next meeting and the asker's own answer, with the buttons to change it."""
    found = await next_meeting_here(update, context)
    if found is None:
        return
    group, meeting = found
    message = update.effective_message
    rsvp = await m.answer_of(db(), meeting, await find_person(db(), update.effective_user.id))
    own = t(
        group.language,
        f"rsvp.yours_{rsvp.answer}" if rsvp else "rsvp.yours_none",
        name=update.effective_user.first_name,
    )
    text = meeting_body(group, meeting, await m.counts(db(), meeting)) + "\n" + own
    await message.reply_text(text, reply_markup=rsvp_keyboard(group.language, meeting))


async def _timeout(update: Update, context: Context) -> None:
    context.user_data.pop(DRAFT, None)


def register(application: Application) -> None:
    reply = filters.REPLY & filters.TEXT & ~filters.COMMAND
    application.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("reunion", meeting_command)],
            states={
                ASK_DATE: [MessageHandler(reply, receive_date)],
                ASK_PLACE: [MessageHandler(reply, receive_place)],
                ASK_TOPIC: [MessageHandler(reply, receive_topic)],
                CONFIRM: [CallbackQueryHandler(confirm, pattern=r"^mtg:(ok|no)$")],
                ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, _timeout)],
            },
            fallbacks=[CommandHandler("reunion", meeting_command)],
            conversation_timeout=20 * 60,
            name="reunion",
        )
    )
    application.add_handler(CommandHandler("reunions", list_meetings))
    application.add_handler(CommandHandler("prochaine", next_meeting))

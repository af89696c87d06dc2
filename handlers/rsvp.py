"""Buttons under meeting messages: answer, say why not, get the calendar file, tick attendance.

Anyone can press any button, so every press is checked: the meeting must belong to the group the
message is in (or, in private, to a group the person is a member of) and still be ahead.
"""

from __future__ import annotations

import io
from typing import TypeVar

from telegram import InputFile, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, CallbackQueryHandler

from bot.domain import meetings as m
from bot.domain.attendance import attendance_rows, save_attendance, toggle_presence
from bot.domain.deeplinks import group_payload, start_url
from bot.domain.errors import RefusalError
from bot.domain.facilitators import may_run
from bot.outbox.sending import send_private
from bot.services import db, services
from bot.ui import callbacks as cb
from bot.ui.calendar import meeting_ics
from bot.ui.carpool import request_only_keyboard
from bot.ui.i18n import pick_language, plain, t
from bot.ui.meetings import (
    ANSWER_CODES,
    announcement_text,
    attendance_keyboard,
    reason_keyboard,
    reminder_text,
    rsvp_keyboard,
)
from handlers.common import Context, admin_lookup, button_member, is_group_chat, tapped
from storage.models import Group, Meeting, Person

MeetingTap = TypeVar("MeetingTap", cb.Answer, cb.AbsenceReason, cb.CalendarFile)


async def _pressed(
    update: Update, context: Context, kind: type[MeetingTap]
) -> tuple[MeetingTap, Meeting, Group, Person, str] | None:
    """The button's data, its meeting and group, the member who pressed and their language; or
    None after answering the refusal (not a member, another group's meeting, a forged id)."""
    data = tapped(update, kind)
    named: tuple[Meeting, Group, Person, str] | None = await button_member(update, context, Meeting, data.meeting_id)
    if named is None:
        return None
    meeting, group, person, language = named
    return data, meeting, group, person, language


async def answer_button(update: Update, context: Context) -> None:
    """✅ Je viens / ❌ Je ne peux pas / 🤔 Peut-être: record, update counts in place."""
    pressed = await _pressed(update, context, cb.Answer)
    if pressed is None:
        return
    data, meeting, group, person, language = pressed
    query = update.callback_query
    svc = services(context)
    now = svc.clock.now()
    previous = await m.answer_of(db(), meeting, person)
    previous_answer = previous.answer if previous else None
    try:
        rsvp = await m.record_answer(db(), meeting, person, ANSWER_CODES.get(data.code, ""), now)
    except RefusalError as exc:
        await query.answer(plain(language, exc.key), show_alert=exc.key == "rsvp.closed")
        return
    await query.answer(plain(language, f"rsvp.noted_{rsvp.answer}"))
    if rsvp.answer == previous_answer:
        return
    await _refresh_counts(update, context, group, meeting)
    if rsvp.answer == "no":
        text = t(language, "rsvp.why", number=meeting.number)
        await send_private(context.bot, db(), person, text, now, reply_markup=reason_keyboard(language, meeting))


async def _refresh_counts(update: Update, context: Context, group: Group, meeting: Meeting) -> None:
    """Edit the announcement, and the group reminder that was pressed, with the new counts."""
    counts = await m.counts(db(), meeting)
    pressed = update.callback_query.message
    targets: dict[int, str] = {}
    if meeting.announcement_message_id:
        targets[meeting.announcement_message_id] = announcement_text(group, meeting, counts)
    if is_group_chat(update) and pressed is not None and pressed.message_id not in targets and pressed.text:
        targets[pressed.message_id] = reminder_text(group, meeting, counts)
    for message_id, text in targets.items():
        try:
            await context.bot.edit_message_text(
                text, chat_id=group.chat_id, message_id=message_id, reply_markup=rsvp_keyboard(group.language, meeting)
            )
        except BadRequest:
            pass  # the message is gone or unchanged: counts are also in /reunions


async def reason_button(update: Update, context: Context) -> None:
    """The optional reason for "Je ne peux pas", seen by those who run the meeting only."""
    query = update.callback_query
    pressed = await _pressed(update, context, cb.AbsenceReason)
    if pressed is None:
        return
    data, meeting, _group, person, language = pressed
    try:
        await m.record_reason(db(), meeting, person, data.reason, services(context).clock.now())
    except RefusalError as exc:
        await query.answer(plain(language, exc.key))
        return
    await query.answer()
    key = "rsvp.reason_transport" if data.reason == "transport" else "rsvp.reason_saved"
    # Transport: straight to a carpool request.
    markup = request_only_keyboard(language, meeting) if data.reason == "transport" else None
    await query.edit_message_text(
        t(language, key, reason=plain(language, f"reason.{data.reason}")), reply_markup=markup
    )


async def calendar_button(update: Update, context: Context) -> None:
    """Send the .ics in private; someone who never started the bot is sent to start it first."""
    svc, query = services(context), update.callback_query
    pressed = await _pressed(update, context, cb.CalendarFile)
    if pressed is None:
        return
    _data, meeting, group, person, language = pressed
    if person.private_status != "started":
        url = start_url(svc.bot_username, group_payload(svc.link_secret, group.id))
        await query.answer(url=url)
        return
    data = meeting_ics(group, meeting, svc.settings.meetings.duration_minutes, svc.clock.now())
    try:
        await context.bot.send_document(
            person.telegram_id,
            InputFile(io.BytesIO(data), filename=f"reunion-{meeting.number}.ics"),
            caption=t(pick_language(person.language_code, group.language), "calendar.caption"),
        )
    except Forbidden:  # they blocked the bot since starting it
        await query.answer(plain(language, "calendar.start_first"), show_alert=True)
        return
    await query.answer(plain(language, "calendar.sent"))


async def attendance_button(update: Update, context: Context) -> None:
    """Facilitators tick who came; "save" stores the attendance rate."""
    query = update.callback_query
    data = tapped(update, cb.Attendance)
    meeting = await db().get(Meeting, data.meeting_id)
    group = await db().get(Group, meeting.group_id) if meeting else None
    user = update.effective_user
    language = pick_language(user.language_code, group.language if group else "fr")
    if meeting is None or group is None or is_group_chat(update):
        await query.answer(plain(language, "button.invalid"))
        return
    if not await may_run(db(), meeting, group, user.id, admin_lookup(context)):
        await query.answer(plain(language, "facilitator.only_short"), show_alert=True)
        return
    try:
        if data.who == "ok":
            present, listed, rate = await save_attendance(db(), meeting)
            await query.answer()
            await query.edit_message_text(
                t(language, "attendance.saved", number=meeting.number, present=present, listed=listed, rate=rate)
            )
            return
        await toggle_presence(db(), meeting, int(data.who))
    except RefusalError as exc:
        await query.answer(plain(language, exc.key))
        return
    await query.answer()
    await query.edit_message_reply_markup(attendance_keyboard(language, meeting, await attendance_rows(db(), meeting)))


def register(application: Application) -> None:
    application.add_handler(CallbackQueryHandler(answer_button, pattern=cb.Answer.matches))
    application.add_handler(CallbackQueryHandler(reason_button, pattern=cb.AbsenceReason.matches))
    application.add_handler(CallbackQueryHandler(calendar_button, pattern=cb.CalendarFile.matches))
    application.add_handler(CallbackQueryHandler(attendance_button, pattern=cb.Attendance.matches))

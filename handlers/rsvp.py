"""Buttons under meeting messages: answer, say why not, get the calendar file, tick attendance.

Anyone can press any button, so every press is checked: the meeting must belong to the group the
message is in (or, in private, to a group the person is a member of) and still be ahead.
"""

from __future__ import annotations

import io
from typing import TypeVar

from telegram import InputFile, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.domain import meetings as m
from bot.domain.attendance import attendance_rows, save_attendance, toggle_presence
from bot.domain.deeplinks import group_payload, start_url
from bot.domain.errors import RefusalError
from bot.domain.facilitators import may_run
from bot.services import db, services
from bot.ui import callbacks as cb
from bot.ui.calendar import meeting_ics
from bot.ui.carpool import meeting_label, request_only_keyboard
from bot.ui.i18n import pick_language, plain, t
from bot.ui.meetings import (
    ANSWER_CODES,
    attendance_keyboard,
    checklist_page_of,
    reason_keyboard,
    rsvp_keyboard,
)
from handlers.common import (
    Context,
    admin_lookup,
    answer,
    button_member,
    edit_tapped,
    edit_tapped_buttons,
    follow,
    is_group_chat,
    pressed_message,
    refresh_member_count,
    say,
    send,
    tapped,
    user_of,
)
from storage.models import Group, Meeting, Person

MeetingTap = TypeVar("MeetingTap", cb.Answer, cb.AbsenceReason, cb.CalendarFile, cb.ChangeAnswer)


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
    svc = services(context)
    now = svc.clock.now()
    given = ANSWER_CODES.get(data.code, "")
    try:
        changed = await m.change_answer(db(), meeting, person, given, now)
    except RefusalError as exc:
        answer(update, plain(language, exc.key), show_alert=exc.key == "rsvp.closed")
        return
    answer(update, plain(language, f"rsvp.noted_{given}"))
    if not changed:
        return
    # The announcement shows the new counts, and the group reminder pressed if it was one: edited
    # at most once every few seconds each, with the counts as they are then.
    message = pressed_message(update)
    in_group = is_group_chat(update) and message is not None
    announcement = meeting.announcement_message_id
    if announcement is None and in_group:  # pressed before its id was recorded: it is the announcement
        announcement = message.message_id
    follows = {"announcement": announcement} if announcement is not None else {}
    if in_group and message.message_id != announcement:
        follows["group_reminder"] = message.message_id
    await follow(context, group.chat_id, meeting.id, **follows)
    if given == "no" and person.private_status == "started":
        text = t(language, "rsvp.why", meeting=meeting_label(language, group, meeting))
        say(person.telegram_id, text, reply_markup=reason_keyboard(language, meeting))


async def change_button(update: Update, context: Context) -> None:
    """✏️ Changer ma réponse: the answer buttons come back under the private reminder."""
    pressed = await _pressed(update, context, cb.ChangeAnswer)
    if pressed is None:
        return
    _, meeting, _, _, language = pressed
    if not m.is_open(meeting, services(context).clock.now()):
        answer(update, plain(language, "rsvp.closed"), show_alert=True)
        return
    answer(update)
    edit_tapped_buttons(update, rsvp_keyboard(language, meeting, with_calendar=True, with_pause=True))


async def reason_button(update: Update, context: Context) -> None:
    """The optional reason for "Je ne peux pas", seen by those who run the meeting only."""
    pressed = await _pressed(update, context, cb.AbsenceReason)
    if pressed is None:
        return
    data, meeting, _group, person, language = pressed
    try:
        await m.record_reason(db(), meeting, person, data.reason, services(context).clock.now())
    except RefusalError as exc:
        answer(update, plain(language, exc.key))
        return
    answer(update)
    key = "rsvp.reason_transport" if data.reason == "transport" else "rsvp.reason_saved"
    # Transport: straight to a carpool request.
    markup = request_only_keyboard(language, meeting) if data.reason == "transport" else None
    edit_tapped(update, t(language, key, reason=plain(language, f"reason.{data.reason}")), reply_markup=markup)


async def calendar_button(update: Update, context: Context) -> None:
    """Send the .ics in private; someone who never started the bot is sent to start it first."""
    svc = services(context)
    pressed = await _pressed(update, context, cb.CalendarFile)
    if pressed is None:
        return
    _data, meeting, group, person, language = pressed
    if person.private_status != "started":
        url = start_url(svc.bot_username, group_payload(svc.link_secret, group.id))
        answer(update, url=url)
        return
    data = meeting_ics(group, meeting, svc.settings.meetings.duration_minutes, svc.clock.now())
    send(
        person.telegram_id,
        "send_document",
        document=InputFile(io.BytesIO(data), filename=f"reunion-{meeting.number}.ics"),
        caption=t(pick_language(person.language_code, group.language), "calendar.caption"),
    )
    # Someone who blocked the bot since starting it is marked unreachable when the file bounces.
    answer(update, plain(language, "calendar.sent"))


async def _checklist(update: Update, context: Context, meeting_id: int) -> tuple[Meeting, Group, str] | None:
    """The meeting whose checklist was tapped, its group and the language, when the tap comes in
    private from someone who runs the meeting; otherwise the tap is answered and None returned."""
    meeting = await db().get(Meeting, meeting_id)
    group = await db().get(Group, meeting.group_id) if meeting else None
    user = user_of(update)
    language = pick_language(user.language_code, group.language if group else "fr")
    if meeting is None or group is None or is_group_chat(update):
        answer(update, plain(language, "button.invalid"))
        return None
    if not await may_run(db(), meeting, group, user.id, admin_lookup(context)):
        answer(update, plain(language, "facilitator.only_short"), show_alert=True)
        return None
    return meeting, group, language


async def attendance_button(update: Update, context: Context) -> None:
    """Facilitators tick who came; "save" stores the attendance rate."""
    data = tapped(update, cb.Attendance)
    found = await _checklist(update, context, data.meeting_id)
    if found is None:
        return
    meeting, group, language = found
    try:
        if data.who == "ok":
            await refresh_member_count(context, group)
            present, listed, rate = await save_attendance(db(), meeting, group)
            answer(update)
            edit_tapped(
                update,
                t(language, "attendance.saved", number=meeting.number, present=present, listed=listed, rate=rate),
            )
            return
        await toggle_presence(db(), meeting, int(data.who))
    except RefusalError as exc:
        answer(update, plain(language, exc.key))
        return
    answer(update)
    rows = await attendance_rows(db(), meeting)
    page = checklist_page_of(rows, int(data.who))
    edit_tapped_buttons(update, attendance_keyboard(language, meeting, rows, page))


async def attendance_page(update: Update, context: Context) -> None:
    """Another page of a large group's checklist."""
    data = tapped(update, cb.AttendancePage)
    found = await _checklist(update, context, data.meeting_id)
    if found is None:
        return
    meeting, _group, language = found
    answer(update)
    edit_tapped_buttons(update, attendance_keyboard(language, meeting, await attendance_rows(db(), meeting), data.page))


def register(application: Application) -> None:
    application.add_handler(CallbackQueryHandler(answer_button, pattern=cb.Answer.matches))
    application.add_handler(CallbackQueryHandler(reason_button, pattern=cb.AbsenceReason.matches))
    application.add_handler(CallbackQueryHandler(change_button, pattern=cb.ChangeAnswer.matches))
    application.add_handler(CallbackQueryHandler(calendar_button, pattern=cb.CalendarFile.matches))
    application.add_handler(CallbackQueryHandler(attendance_button, pattern=cb.Attendance.matches))
    application.add_handler(CallbackQueryHandler(attendance_page, pattern=cb.AttendancePage.matches))

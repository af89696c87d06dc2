"""/attestation: a named, one-page attestation of participation (PDF). A facilitator asks for a
member (`/attestation @pseudo`, or in reply to their message), or a member for themself in
private. Telegram names are often nicknames, so the person is asked in private for the name to
print, and confirms it; the PDF goes to them, and to the facilitator who asked."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.domain.dialogues import Dialogue
from bot.domain.groups import find_group_by_id
from bot.domain.people import find_person, only_group, person_in_group
from bot.domain.reports import attestation_facts, own_attendance
from bot.services import db, services
from bot.ui import callbacks as cb
from bot.ui.attestation import attestation_pdf, printable
from bot.ui.i18n import pick_language, plain, t
from bot.ui.meetings import short_when
from handlers.common import (
    Context,
    answer,
    edit_tapped,
    is_group_chat,
    language_for,
    message_of,
    named_member,
    reply,
    require_facilitator,
    say,
    send_file_later,
    tapped,
    user_of,
)
from handlers.common import dialogue_router as router
from storage.models import Group, Person

DIALOGUE = "attestation"  # in private: {"group_id", "asked_by"?, "name"?}; steps name, confirm
NAME_MAX = 80


async def attestation_command(update: Update, context: Context) -> None:
    user = update.effective_user
    if user is None or update.effective_message is None:
        return
    if not is_group_chat(update):  # a member, for themself
        person = await find_person(db(), user.id)
        group = await only_group(db(), person) if person is not None else None
        if person is None or group is None:
            reply(update, t(language_for(update, context), "attestation.private_group"))
            return
        await _ask_name(context, person, group, asked_by=None)
        return
    group = await require_facilitator(update, context)
    if group is None:
        return
    target = await named_member(update, group)
    if target is None:
        reply(update, t(group.language, "attestation.usage"))
        return
    if target.private_status != "started":
        reply(update, t(group.language, "attestation.not_reachable", name=target.first_name))
        return
    await _ask_name(context, target, group, asked_by=user.id)
    reply(update, t(group.language, "attestation.asked", name=target.first_name))


async def _ask_name(context: Context, person: Person, group: Group, asked_by: int | None) -> None:
    await router.start(
        context, person.telegram_id, person.telegram_id, DIALOGUE, "name", group_id=group.id, asked_by=asked_by
    )
    language = pick_language(person.language_code, group.language)
    say(person.telegram_id, t(language, "attestation.ask_name", group=group.display_name))


async def name_typed(update: Update, context: Context, dialogue: Dialogue) -> None:
    """The name to print, typed in private: confirmed with a button before printing."""
    language = language_for(update, context)
    name = " ".join((message_of(update).text or "").split())
    if dialogue.step != "name":
        return
    if not 2 <= len(name) <= NAME_MAX or "\n" in (message_of(update).text or "").strip():
        reply(update, t(language, "attestation.bad_name"))
        return
    if not printable(name):  # it would print as blanks on an official paper
        reply(update, t(language, "attestation.name_not_printable"))
        return
    await router.next_step(context, dialogue, "confirm", name=name)
    keyboard = InlineKeyboardMarkup(
        [
            [
                cb.key(plain(language, "button.attestation_ok"), cb.AttestationName("ok")),
                cb.key(plain(language, "button.attestation_fix"), cb.AttestationName("fix")),
            ]
        ]
    )
    reply(update, t(language, "attestation.confirm", name=name), reply_markup=keyboard)


async def name_button(update: Update, context: Context) -> None:
    """✅ Oui, c'est bon: the PDF is built and sent; ✏️ Corriger: the name is asked again."""
    language = language_for(update, context)
    dialogue = await router.of(update, context, DIALOGUE)
    if dialogue is None or dialogue.step != "confirm" or is_group_chat(update):
        answer(update, plain(language, "button.expired"))
        return
    answer(update)
    group = await find_group_by_id(db(), dialogue.get("group_id"))
    person = await find_person(db(), user_of(update).id)
    if group is None or person is None:
        await router.end(dialogue)
        edit_tapped(update, plain(language, "button.invalid"))
        return
    if tapped(update, cb.AttestationName).choice == "fix":
        await router.next_step(context, dialogue, "name")
        edit_tapped(update, t(language, "attestation.ask_name", group=group.display_name))
        return
    await router.end(dialogue)
    svc = services(context)
    now = svc.clock.now()
    name = str(dialogue.get("name"))
    facts = await attestation_facts(db(), group, person, now)
    issued = format_date(now.astimezone(ZoneInfo(group.timezone)).date(), "d MMMM y", locale=language)
    filename = f"attestation-{now:%Y%m%d}.pdf"
    edit_tapped(update, t(language, "attestation.confirm", name=name).rstrip(" ?") + " ✅")
    caption = t(language, "attestation.ready", name=name, group=group.display_name)
    readers = [person.telegram_id]
    asker = await find_person(db(), dialogue.get("asked_by")) if dialogue.get("asked_by") else None
    if asker is not None and asker.id != person.id and asker.private_status == "started":
        readers.append(asker.telegram_id)

    async def pdf() -> bytes:
        # A tenth of a second or more of building: in a thread, once this update has committed
        # (outside its transaction: SQLite's writer turn is not held meanwhile).
        return await asyncio.to_thread(attestation_pdf, language, group, name, facts, issued)

    send_file_later(context, pdf, readers, "send_document", "document", filename, caption=caption)


async def exit_attestation_button(update: Update, context: Context) -> None:
    """📄 Mon attestation, under the thank-you of someone who left: the same dialogue, for the
    group they left (they are no longer in it, so /attestation alone would not find it)."""
    group = await find_group_by_id(db(), tapped(update, cb.ExitAttestation).group_id)
    person = await find_person(db(), user_of(update).id) if update.effective_user else None
    found = await person_in_group(db(), group, person.telegram_id) if group is not None and person is not None else None
    if found is None or person is None or group is None or is_group_chat(update):
        answer(update, plain(language_for(update, context), "button.invalid"))
        return
    answer(update)
    await _ask_name(context, person, group, asked_by=None)


async def my_attendance_button(update: Update, context: Context) -> None:
    """📋 Mes présences: the person's own lines of the attendance sheets, in private."""
    language = language_for(update, context)
    person = await find_person(db(), user_of(update).id) if update.effective_user else None
    if is_group_chat(update) or person is None:
        answer(update, plain(language, "button.invalid"))
        return
    answer(update)
    lines = [
        t(
            language,
            "attendance.mine.present" if line.present else "attendance.mine.absent",
            when=short_when(line.starts_at, line.timezone, language),
            topic=line.topic[:60],
            group=line.group,
        )
        for line in await own_attendance(db(), person)
    ]
    text = t(language, "attendance.mine.title") + "\n" + ("\n".join(lines) or t(language, "attendance.mine.none"))
    reply(update, text)


def register(application: Application) -> None:
    application.add_handler(CommandHandler("attestation", attestation_command))
    application.add_handler(CallbackQueryHandler(name_button, pattern=cb.AttestationName.matches))
    application.add_handler(CallbackQueryHandler(my_attendance_button, pattern=cb.MyAttendance.matches))
    application.add_handler(CallbackQueryHandler(exit_attestation_button, pattern=cb.ExitAttestation.matches))
    router.on(DIALOGUE, router.Route(text=name_typed, ttl=timedelta(minutes=30)))

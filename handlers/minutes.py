"""/compterendu: a facilitator sends the minutes of the last meeting (in the command, or in reply
to the bot's question: a text or a file). Those who came get them in private with ✅ D'accord and
✏️ Compléter (a comment to the facilitators); at the end of the review, or with 📢 Publier
maintenant / `/compterendu publier`, the outbox posts them in the group, pinned when the bot may,
and sends them to the members who did not come (bot/domain/minutes.py)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.domain import evaluations as ev
from bot.domain import minutes as mn
from bot.domain.dates import normalise
from bot.domain.dialogues import Dialogue
from bot.domain.errors import RefusalError
from bot.domain.groups import find_group_by_id
from bot.domain.people import find_person, person_in_group
from bot.services import db, services
from bot.ui import callbacks as cb
from bot.ui.carpool import meeting_label
from bot.ui.i18n import pick_language, plain, t
from bot.ui.minutes import comment_for_facilitators, publish_keyboard, review_keyboard, review_text, sent_for_review
from handlers.common import (
    Context,
    answer,
    ask,
    command_args,
    current_group,
    is_facilitator,
    message_of,
    notify,
    person_language,
    refuse,
    reply,
    require_facilitator,
    say,
    send,
    tapped,
    tell_runners,
    user_of,
    wake_at,
)
from handlers.common import dialogue_router as router
from storage.models import Group, Meeting, Minutes

ASKING, COMMENTING = "minutes", "minutes_comment"
PUBLISH_WORDS = ("publier", "publie", "publish")


async def _record(update: Update, context: Context, group: Group, meeting: Meeting, **content: str | None) -> None:
    """Record the minutes, send them for review to those who came, and tell the facilitator."""
    svc = services(context)
    now = svc.clock.now()
    creator = await find_person(db(), user_of(update).id)
    try:
        minutes = await mn.record(db(), meeting, creator, now, svc.settings.meetings.minutes_review_days, **content)
    except RefusalError as exc:
        await refuse(update, group.language, exc)
        return
    reviewers = 0
    for person in await ev.attendees(db(), meeting):
        language = person_language(person, group)
        text = review_text(language, group, meeting, minutes)
        if notify(context, person, text, "minutes_review", reply_markup=review_keyboard(language, minutes)):
            reviewers += 1
            if minutes.file_id:  # the file itself, by the id Telegram gave it
                send(person.telegram_id, "send_document", document=minutes.file_id)
    reply(
        update,
        sent_for_review(group.language, group, minutes, reviewers),
        reply_markup=publish_keyboard(group.language, minutes),
    )
    wake_at(context, [minutes.publish_at])


async def minutes_command(update: Update, context: Context) -> None:
    """/compterendu [texte | publier]."""
    group = await require_facilitator(update, context)
    if group is None:
        return
    now = services(context).clock.now()
    meeting = await mn.last_held(db(), group.id, now)
    if meeting is None:
        reply(update, t(group.language, "minutes.error.no_meeting"))
        return
    args = command_args(update)
    if normalise(args) in PUBLISH_WORDS:
        found = await mn.of_meeting(db(), meeting)
        if found is None:
            reply(update, t(group.language, "minutes.error.none"))
        elif await mn.publish_now(db(), found, now):
            wake_at(context, [now])
            reply(update, t(group.language, "minutes.publishing"))
        else:
            reply(update, t(group.language, "minutes.error.published"))
        return
    if args:
        full = (message_of(update).text or "").partition(" ")[2]  # the lines as typed
        await _record(update, context, group, meeting, text=full)
        return
    user_id = user_of(update).id
    dialogue = await router.start(context, user_id, group.chat_id, ASKING, "content", meeting_id=meeting.id)
    ask(
        update,
        t(group.language, "minutes.ask", meeting=meeting_label(group.language, group, meeting)),
        router.prompt_of(dialogue, "content"),
    )


async def _asked(update: Update, dialogue: Dialogue) -> tuple[Group, Meeting] | None:
    group = await current_group(update)
    meeting = await db().get(Meeting, dialogue.get("meeting_id"))
    if group is None or meeting is None or meeting.group_id != group.id:
        await router.end(dialogue)
        return None
    return group, meeting


async def content_text(update: Update, context: Context, dialogue: Dialogue) -> None:
    found = await _asked(update, dialogue)
    if found is not None:
        await router.end(dialogue)
        await _record(update, context, *found, text=message_of(update).text or "")


# What a compte rendu may be: a file every member's phone opens, never a program or an archive
# (what members are sent must not harm them).
MINUTES_FILES = frozenset({".pdf", ".odt", ".docx", ".doc", ".rtf", ".txt", ".jpg", ".jpeg", ".png"})
MINUTES_TYPES = frozenset(
    {
        "application/pdf",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/msword",
        "application/rtf",
        "text/rtf",
        "text/plain",
        "image/jpeg",
        "image/png",
    }
)


def minutes_file(name: str | None, mime_type: str | None) -> bool:
    """Whether a document is a compte rendu members can open: its name's ending and its type."""
    suffix = ("." + name.rsplit(".", 1)[-1].lower()) if name and "." in name else ""
    return suffix in MINUTES_FILES and (mime_type is None or mime_type in MINUTES_TYPES)


async def content_document(update: Update, context: Context, dialogue: Dialogue) -> None:
    found = await _asked(update, dialogue)
    document = message_of(update).document
    if found is not None and document is not None:
        if not minutes_file(document.file_name, document.mime_type):
            reply(update, t(found[0].language, "minutes.error.file_type"))  # the question stays open
            return
        await router.end(dialogue)
        await _record(update, context, *found, file_id=document.file_id, file_name=document.file_name)


async def _minutes_for_member(
    update: Update, context: Context, minutes_id: int
) -> tuple[Minutes, Meeting, Group, str] | None:
    minutes = await db().get(Minutes, minutes_id)
    meeting = await db().get(Meeting, minutes.meeting_id) if minutes else None
    group = await find_group_by_id(db(), meeting.group_id) if meeting else None
    if minutes is None or meeting is None or group is None:
        answer(update, plain("fr", "button.invalid"))
        return None
    return minutes, meeting, group, pick_language(user_of(update).language_code, group.language)


async def review_button(update: Update, context: Context) -> None:
    """✅ D'accord / ✏️ Compléter: only someone who came."""
    data = tapped(update, cb.MinutesAnswer)
    found = await _minutes_for_member(update, context, data.minutes_id)
    if found is None:
        return
    minutes, meeting, _group, language = found
    person = await find_person(db(), user_of(update).id)
    if person is None or not await ev.came(db(), meeting, person):
        answer(update, plain(language, "minutes.error.not_there"), show_alert=True)
        return
    now = services(context).clock.now()
    if data.choice == "ok":
        await mn.agree(db(), minutes, person, now)
        answer(update, plain(language, "minutes.agreed"))
        return
    answer(update)
    user_id = user_of(update).id
    await router.start(context, user_id, user_id, COMMENTING, "text", minutes_id=minutes.id)
    say(user_id, t(language, "minutes.ask_comment"))


async def comment_text(update: Update, context: Context, dialogue: Dialogue) -> None:
    minutes = await db().get(Minutes, dialogue.get("minutes_id"))
    meeting = await db().get(Meeting, minutes.meeting_id) if minutes else None
    group = await find_group_by_id(db(), meeting.group_id) if meeting else None
    found = await person_in_group(db(), group, user_of(update).id) if group else None
    if minutes is None or meeting is None or group is None or found is None:
        await router.end(dialogue)
        return
    person, now = found[0], services(context).clock.now()
    language = person_language(person, group)
    try:
        review = await mn.comment(db(), minutes, person, message_of(update).text or "", now)
    except RefusalError as exc:
        reply(update, t(language, exc.key, **exc.values))
        return
    await router.end(dialogue)
    comment = review.comment or ""
    await tell_runners(
        context,
        meeting,
        group,
        "minutes_comment",
        lambda lang: (comment_for_facilitators(lang, group, meeting, person.first_name, comment), None),
        besides=person,
    )
    reply(update, t(language, "minutes.comment_sent"))


async def publish_button(update: Update, context: Context) -> None:
    """📢 Publier maintenant (facilitators)."""
    minutes = await db().get(Minutes, tapped(update, cb.MinutesPublish).minutes_id)
    group = await current_group(update)
    language = group.language if group else "fr"
    if minutes is None or group is None or minutes.group_id != group.id:
        answer(update, plain(language, "button.invalid"))
        return
    if not await is_facilitator(context, group, user_of(update).id):
        answer(update, plain(language, "facilitator.only_short"), show_alert=True)
        return
    now = services(context).clock.now()
    if not await mn.publish_now(db(), minutes, now):
        answer(update, plain(language, "minutes.error.published"))
        return
    wake_at(context, [now])
    answer(update, plain(language, "minutes.publishing"))


def register(application: Application) -> None:
    application.add_handler(CommandHandler("compterendu", minutes_command))
    application.add_handler(CallbackQueryHandler(review_button, pattern=cb.MinutesAnswer.matches))
    application.add_handler(CallbackQueryHandler(publish_button, pattern=cb.MinutesPublish.matches))
    router.on(ASKING, router.Route(text=content_text, document=content_document, reply_to_prompt=True))
    router.on(COMMENTING, router.Route(text=comment_text))

"""❓ Une question: under every announcement and reminder. The member writes in private; those who
run the meeting get it in private with ✍️ Répondre; the answer goes back to the member in
private. Nothing is posted in the group (bot/domain/questions.py)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.domain import meetings as m
from bot.domain import questions as q
from bot.domain.deeplinks import ASK_QUESTION, group_payload, start_url
from bot.domain.dialogues import Dialogue
from bot.domain.errors import RefusalError
from bot.domain.facilitators import may_run
from bot.domain.groups import find_group_by_id
from bot.domain.people import find_person, person_in_group
from bot.services import db, services
from bot.ui import callbacks as cb
from bot.ui.i18n import plain, t
from bot.ui.questions import answer_for_member, answer_prompt, ask_text, for_facilitators, reply_keyboard
from handlers.common import (
    Context,
    admin_lookup,
    answer,
    button_member,
    language_for,
    message_of,
    notify,
    on_link,
    person_language,
    reply,
    say,
    tapped,
    tell_runners,
    user_of,
)
from handlers.common import dialogue_router as router
from storage.models import Group, Meeting, Person, Question

ASKING, ANSWERING = "question", "question_answer"


async def _open(context: Context, person: Person, group: Group, meeting: Meeting) -> None:
    """The question asked in private: the dialogue waits for one message."""
    language = person_language(person, group)
    if not m.is_open(meeting, services(context).clock.now()):
        say(person.telegram_id, t(language, "question.error.closed"))
        return
    await router.start(context, person.telegram_id, person.telegram_id, ASKING, "text", meeting_id=meeting.id)
    say(person.telegram_id, ask_text(language, group, meeting))


async def ask_button(update: Update, context: Context) -> None:
    """❓ Une question, in the group or in private: for someone who never opened the private chat,
    the tap opens it (a deep link) and the question is asked there."""
    named = await button_member(update, context, Meeting, tapped(update, cb.AskQuestion).meeting_id)
    if named is None:
        return
    meeting, group, person, language = named
    if person.private_status != "started":
        svc = services(context)
        answer(update, url=start_url(svc.bot_username, group_payload(svc.link_secret, meeting.id, ASK_QUESTION)))
        return
    await _open(context, person, group, meeting)
    answer(update, plain(language, "question.see_private"))


async def start_from_link(update: Update, context: Context, meeting_id: int) -> None:
    """/start with a question deep link (handlers/start.py)."""
    meeting = await db().get(Meeting, meeting_id)
    group = await find_group_by_id(db(), meeting.group_id) if meeting else None
    found = await person_in_group(db(), group, user_of(update).id) if group else None
    if meeting is None or group is None or found is None or found[1].status != "member":
        reply(update, t(language_for(update, context), "start.bad_link"))
        return
    await _open(context, found[0], group, meeting)


async def question_text(update: Update, context: Context, dialogue: Dialogue) -> None:
    """The member's question: recorded, then sent to each person who runs the meeting."""
    meeting = await db().get(Meeting, dialogue.get("meeting_id"))
    group = await find_group_by_id(db(), meeting.group_id) if meeting else None
    found = await person_in_group(db(), group, user_of(update).id) if group else None
    if meeting is None or group is None or found is None or found[1].status != "member":
        await router.end(dialogue)
        return
    person, now = found[0], services(context).clock.now()
    language = person_language(person, group)
    try:
        question = await q.ask(db(), meeting, person, message_of(update).text or "", now)
    except RefusalError as exc:
        reply(update, t(language, exc.key, **exc.values))  # the dialogue stays open: try again
        return
    await router.end(dialogue)
    reached = await tell_runners(
        context,
        meeting,
        group,
        "question",
        lambda lang: (
            for_facilitators(lang, group, meeting, person.first_name, question),
            reply_keyboard(lang, question),
        ),
        besides=person,
    )
    reply(update, t(language, "question.sent" if reached else "question.nobody"))


async def reply_button(update: Update, context: Context) -> None:
    """✍️ Répondre: only someone who runs the question's meeting, and once."""
    question = await db().get(Question, tapped(update, cb.ReplyQuestion).question_id)
    meeting = await db().get(Meeting, question.meeting_id) if question else None
    group = await find_group_by_id(db(), meeting.group_id) if meeting else None
    language = language_for(update, context, group)
    if question is None or meeting is None or group is None:
        answer(update, plain(language, "button.invalid"))
        return
    if not await may_run(db(), meeting, group, user_of(update).id, admin_lookup(context)):
        answer(update, plain(language, "facilitator.only_short"), show_alert=True)
        return
    if question.answered_at is not None:
        answer(update, plain(language, "question.error.answered"), show_alert=True)
        return
    asker = await db().get(Person, question.person_id)
    user_id = user_of(update).id
    await router.start(context, user_id, user_id, ANSWERING, "text", question_id=question.id)
    answer(update)
    say(user_id, answer_prompt(language, asker.first_name if asker else "", question))


async def answer_text(update: Update, context: Context, dialogue: Dialogue) -> None:
    question = await db().get(Question, dialogue.get("question_id"))
    meeting = await db().get(Meeting, question.meeting_id) if question else None
    group = await find_group_by_id(db(), meeting.group_id) if meeting else None
    by = await find_person(db(), user_of(update).id)
    if question is None or meeting is None or group is None or by is None:
        await router.end(dialogue)
        return
    language, now = language_for(update, context, group), services(context).clock.now()
    if not await may_run(db(), meeting, group, user_of(update).id, admin_lookup(context)):
        await router.end(dialogue)
        reply(update, t(language, "facilitator.only"))
        return
    try:
        await q.answer(db(), question, by, message_of(update).text or "", now)
    except RefusalError as exc:
        if exc.key == "question.error.answered":
            await router.end(dialogue)
        reply(update, t(language, exc.key, **exc.values))
        return
    await router.end(dialogue)
    asker = await db().get(Person, question.person_id)
    name = asker.first_name if asker else ""
    told = asker is not None and notify(
        context, asker, answer_for_member(person_language(asker, group), group, meeting, question), "question_answer"
    )
    reply(update, t(language, "question.answered_sent" if told else "question.asker_unreachable", name=name))


def register(application: Application) -> None:
    on_link(ASK_QUESTION, "meeting", start_from_link)
    application.add_handler(CallbackQueryHandler(ask_button, pattern=cb.AskQuestion.matches))
    application.add_handler(CallbackQueryHandler(reply_button, pattern=cb.ReplyQuestion.matches))
    router.on(ASKING, router.Route(text=question_text))
    router.on(ANSWERING, router.Route(text=answer_text))

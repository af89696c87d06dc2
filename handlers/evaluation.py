"""The evaluation sheet in private, the day after: 👍 / 🙂 / 👎 with one tap, then, if the member
likes, one message for the next meeting, read by the facilitators without the member's name
unless "✍️ Signer" is ticked (bot/domain/evaluations.py)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.domain import evaluations as ev
from bot.domain.dialogues import Dialogue
from bot.domain.errors import RefusalError
from bot.domain.groups import find_group_by_id
from bot.domain.people import person_in_group
from bot.services import db, services
from bot.ui import callbacks as cb
from bot.ui.evaluations import hope_for_facilitators, hope_keyboard, hope_question
from bot.ui.i18n import plain, t
from handlers.common import (
    Context,
    answer,
    button_member,
    edit_tapped,
    edit_tapped_buttons,
    message_of,
    person_language,
    reply,
    tapped,
    tell_runners,
    user_of,
)
from handlers.common import dialogue_router as router
from storage.models import Meeting

DIALOGUE = "evaluation"


async def useful_button(update: Update, context: Context) -> None:
    data = tapped(update, cb.Useful)
    named = await button_member(update, context, Meeting, data.meeting_id)
    if named is None:
        return
    meeting, _group, person, language = named
    try:
        await ev.record_useful(db(), meeting, person, data.answer, services(context).clock.now())
    except RefusalError as exc:
        answer(update, plain(language, exc.key, **exc.values), show_alert=True)
        return
    answer(update, plain(language, "evaluation.done"))
    open_ = await router.of(update, context, DIALOGUE)
    if open_ is not None and open_.get("meeting_id") == meeting.id:
        return  # the free-text question is already there (an answer changed, or a press replayed)
    user_id = user_of(update).id
    await router.start(context, user_id, user_id, DIALOGUE, "hope", meeting_id=meeting.id, signed=False)
    edit_tapped(update, hope_question(language), reply_markup=hope_keyboard(language, meeting, signed=False))


async def step_button(update: Update, context: Context) -> None:
    """✍️ Signer (a toggle) or Rien à ajouter, under the free-text question."""
    data = tapped(update, cb.EvaluationStep)
    named = await button_member(update, context, Meeting, data.meeting_id)
    if named is None:
        return
    meeting, _group, _person, language = named
    dialogue = await router.of(update, context, DIALOGUE)
    if dialogue is None or dialogue.get("meeting_id") != meeting.id:
        answer(update, plain(language, "button.expired"))
        return
    answer(update)
    if data.choice == "skip":
        await router.end(dialogue)
        edit_tapped(update, t(language, "evaluation.done"))
        return
    signed = not dialogue.get("signed")
    await router.next_step(context, dialogue, "hope", signed=signed)
    edit_tapped_buttons(update, hope_keyboard(language, meeting, signed))


async def hope_text(update: Update, context: Context, dialogue: Dialogue) -> None:
    """The free text: recorded, then sent to those who run the meeting (named only if signed)."""
    meeting = await db().get(Meeting, dialogue.get("meeting_id"))
    group = await find_group_by_id(db(), meeting.group_id) if meeting else None
    found = await person_in_group(db(), group, user_of(update).id) if group else None
    if meeting is None or group is None or found is None:
        await router.end(dialogue)
        return
    person, now = found[0], services(context).clock.now()
    language = person_language(person, group)
    signed = bool(dialogue.get("signed"))
    try:
        row = await ev.record_hope(db(), meeting, person, message_of(update).text or "", signed, now)
    except RefusalError as exc:
        reply(update, t(language, exc.key, **exc.values))
        return
    await router.end(dialogue)
    name = person.first_name if signed else None
    await tell_runners(
        context,
        meeting,
        group,
        "hope",
        lambda lang: (hope_for_facilitators(lang, group, meeting, row.hope or "", name), None),
    )
    reply(update, t(language, "evaluation.hope_sent_signed" if signed else "evaluation.hope_sent"))


def register(application: Application) -> None:
    application.add_handler(CallbackQueryHandler(useful_button, pattern=cb.Useful.matches))
    application.add_handler(CallbackQueryHandler(step_button, pattern=cb.EvaluationStep.matches))
    router.on(DIALOGUE, router.Route(text=hope_text))

"""/presentation: a facilitator writes the group's card in two answers (what the group is for;
when and where it usually meets). Newcomers get it in private with the next meeting
(handlers/members.py, handlers/start.py); without one, a default from the group's settings."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.domain import meetings as m
from bot.domain.dialogues import Dialogue
from bot.domain.errors import RefusalError
from bot.domain.groups import set_card
from bot.services import db, services
from bot.ui.card import card_text
from bot.ui.i18n import t
from handlers.common import (
    Context,
    ask,
    current_group,
    facilitator_names,
    message_of,
    reply,
    require_facilitator,
    user_of,
)
from handlers.common import dialogue_router as router

DIALOGUE = "card"


async def card_command(update: Update, context: Context) -> None:
    group = await require_facilitator(update, context)
    if group is None:
        return
    dialogue = await router.start(context, user_of(update).id, group.chat_id, DIALOGUE, "purpose")
    ask(update, t(group.language, "card.ask_purpose"), router.prompt_of(dialogue, "purpose"))


async def card_answer(update: Update, context: Context, dialogue: Dialogue) -> None:
    group = await current_group(update)
    if group is None:
        await router.end(dialogue)
        return
    text = message_of(update).text or ""
    try:
        if dialogue.step == "purpose":
            set_card(group, purpose=text)
        else:
            set_card(group, usual=text)
    except RefusalError as exc:
        ask(update, t(group.language, exc.key, **exc.values), router.prompt_of(dialogue, dialogue.step))
        return
    if dialogue.step == "purpose":
        await router.next_step(context, dialogue, "usual")
        ask(update, t(group.language, "card.ask_usual"), router.prompt_of(dialogue, "usual"))
        return
    await router.end(dialogue)
    upcoming = await m.upcoming_meetings(db(), group, services(context).clock.now(), limit=1)
    names = await facilitator_names(context, group)
    preview = card_text(group.language, group, names, upcoming[0] if upcoming else None)
    reply(update, t(group.language, "card.saved") + "\n\n" + preview)


def register(application: Application) -> None:
    application.add_handler(CommandHandler("presentation", card_command))
    router.on(DIALOGUE, router.Route(text=card_answer, reply_to_prompt=True))

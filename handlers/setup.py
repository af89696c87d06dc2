"""/configurer: a facilitator names the group and picks its time zone.

Guided: the bot asks for the name (the facilitator replies to its message, which privacy mode
lets through), offers time-zone buttons, then shows a summary to confirm. One line also works:
`/configurer Groupe ressources Oyonnax | Europe/Paris`.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.domain.dialogues import Dialogue
from bot.domain.errors import RefusalError
from bot.domain.groups import TIMEZONE_CHOICES, apply_setup, choose_topic, validate_setup
from bot.services import services
from bot.ui import callbacks as cb
from bot.ui.i18n import plain, t
from bot.ui.meetings import save_keyboard, timezone_keyboard
from handlers.common import (
    Context,
    answer,
    ask,
    chat_of,
    current_group,
    edit_tapped,
    reply,
    require_facilitator,
    tapped,
    topic_of,
)
from handlers.common import dialogue_router as router
from storage.models import Group

DIALOGUE = "setup"  # name, then time zone (buttons), then save


def _zone_label(language: str, zone: str) -> str:
    return plain(language, f"timezone.{zone}")


async def start_setup(update: Update, context: Context) -> None:
    """Entry point: check rights, then take the one-line form or start the dialogue."""
    message, user = update.effective_message, update.effective_user
    group = await require_facilitator(update, context)
    if group is None or message is None or user is None:
        return
    language = group.language
    default_zone = services(context).settings.bot.default_timezone
    if context.args:
        name, _, zone = " ".join(context.args).partition("|")
        try:
            setup = validate_setup(name, zone.strip() or group.timezone, default_zone)
        except RefusalError as exc:
            reply(update, t(language, exc.key, **exc.values) + "\n" + t(language, "setup.example"))
            return
        apply_setup(group, setup)
        saved = t(language, "setup.saved", name=setup.name, zone=_zone_label(language, setup.timezone))
        reply(update, _place_here(update, context, group) + saved)
        return
    dialogue = await router.start(context, user.id, group.chat_id, DIALOGUE, "name")
    ask(
        update,
        _place_here(update, context, group) + t(language, "setup.ask_name", current=group.display_name),
        router.prompt_of(dialogue, "name"),
        placeholder=plain(language, "setup.name_placeholder"),
    )


def _place_here(update: Update, context: Context, group: Group) -> str:
    """In a forum, /configurer typed in a topic (or in General) sends Relais' own messages there
    from now on; the line that says so, or nothing elsewhere."""
    if not chat_of(update).is_forum:
        return ""
    topic = topic_of(update.effective_message)
    choose_topic(group, topic)
    services(context).topics.expire()
    return t(group.language, "setup.topic_chosen" if topic is not None else "setup.topic_general") + "\n"


async def receive_name(update: Update, context: Context, dialogue: Dialogue) -> None:
    message = update.effective_message
    group = await current_group(update)
    if message is None or group is None or dialogue.step != "name":
        return
    try:
        setup = validate_setup(message.text or "", group.timezone, services(context).settings.bot.default_timezone)
    except RefusalError as exc:
        ask(
            update,
            t(group.language, exc.key, **exc.values) + "\n" + t(group.language, "setup.ask_name_again"),
            router.prompt_of(dialogue, "name"),
        )
        return
    await router.next_step(context, dialogue, "timezone", name=setup.name)
    reply(update, t(group.language, "setup.ask_timezone"), reply_markup=timezone_keyboard(group.language))


async def receive_timezone(update: Update, context: Context) -> None:
    found = await router.button_step(update, context, DIALOGUE, "timezone")
    if found is None:
        return
    group, dialogue = found
    index = tapped(update, cb.TimeZoneChoice).index
    if index >= len(TIMEZONE_CHOICES):
        answer(update, plain(group.language, "button.invalid"))
        return
    zone = TIMEZONE_CHOICES[index]
    await router.next_step(context, dialogue, "confirm", timezone=zone)
    answer(update)
    edit_tapped(
        update,
        t(group.language, "setup.confirm", name=dialogue.get("name"), zone=_zone_label(group.language, zone)),
        reply_markup=save_keyboard(group.language),
    )


async def confirm(update: Update, context: Context) -> None:
    """Enregistrer / Annuler under the summary, by the facilitator whose dialogue it is."""
    found = await router.button_step(update, context, DIALOGUE, "confirm", last=True)
    if found is None:
        return
    group, dialogue = found
    if tapped(update, cb.SaveSetup).choice == "ok":
        zone = dialogue.get("timezone")
        apply_setup(group, validate_setup(dialogue.get("name"), zone, zone))
        edit_tapped(
            update,
            t(group.language, "setup.saved", name=group.display_name, zone=_zone_label(group.language, group.timezone)),
        )
    else:
        edit_tapped(update, t(group.language, "setup.cancelled"))


def register(application: Application) -> None:
    application.add_handler(CommandHandler("configurer", start_setup))
    router.on(DIALOGUE, router.Route(text=receive_name, ttl=timedelta(minutes=15)))
    application.add_handler(CallbackQueryHandler(receive_timezone, pattern=cb.TimeZoneChoice.matches))
    application.add_handler(CallbackQueryHandler(confirm, pattern=cb.SaveSetup.matches))

"""/aide, and the command menus Telegram shows (setMyCommands per scope and language)."""

from __future__ import annotations

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    Update,
)
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.domain.dates import normalise
from bot.domain.people import find_person, only_group
from bot.services import db
from bot.ui.help import facilitator_help, group_help_keyboard, private_help_keyboard, task_help, task_named
from bot.ui.i18n import LANGUAGES, pick_language, plain, t
from handlers.common import (
    Context,
    command_args,
    current_group,
    is_facilitator,
    is_group_chat,
    language_for,
    private_reader,
    propose_url,
    reply,
    say,
)

# Commands per menu scope. Participants never need a command; /aide is there for the curious.
MENUS = {
    "group": ("aide", "prochaine", "reunions", "proposition", "propositions", "covoiturage"),
    "admins": (
        "aide",
        "reunion",
        "quand",
        "reunions",
        "prochaine",
        "annuler",
        "deplacer",
        "rappels",
        "serie",
        "configurer",
        "presentation",
        "charte",
        "animateur",
        "joignables",
        "sms",
        "affiche",
        "membres",
        "proposition",
        "propositions",
        "suivi",
        "sondage",
        "vote",
        "priorites",
        "clore",
        "action",
        "actions",
        "indicateurs",
        "compterendu",
        "frais",
        "bilan",
        "tableau",
        "attestation",
        "quorum",
        "modifier",
        "fusionner",
        "retirer",
        "covoiturage",
        "lieux",
    ),
    "private": ("aide", "proposition", "frais", "attestation", "mesdonnees", "oublier", "tableau"),
}
SCOPES = {
    "group": BotCommandScopeAllGroupChats(),
    "admins": BotCommandScopeAllChatAdministrators(),
    "private": BotCommandScopeAllPrivateChats(),
}


async def help_command(update: Update, context: Context) -> None:
    """Tell each person what they can do here: buttons for everyone, and for facilitators their
    commands by task (/aide reunion: one task's detail)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    args = command_args(update)
    task = task_named(args) if args else None
    if not is_group_chat(update):
        language = language_for(update, context)
        if task is not None:
            reply(update, task_help(language, task))
            return
        person = await find_person(db(), user.id)
        group = await only_group(db(), person) if person else None
        url = propose_url(context, group) if group else None
        reply(update, t(language, "help.private"), reply_markup=private_help_keyboard(language, url))
        return
    group = await current_group(update)
    if group is None:
        return
    if await is_facilitator(context, group, user.id):
        if task is not None:
            reply(update, task_help(group.language, task))
            return
        if args:
            reply(update, t(group.language, "help.unknown_task", word=args))
            return
        # The group sees what every member sees; the facilitator's list (every member would read
        # it) goes to them in private, or they are asked to open the private chat first.
        asker = await find_person(db(), user.id)
        reachable = asker is not None and asker.private_status == "started"
        line = "\n\n" + t(group.language, "help.sent_private") if reachable else ""
        reply(
            update,
            t(group.language, "help.group") + line,
            reply_markup=group_help_keyboard(group.language, propose_url(context, group)),
        )
        if asker is not None and reachable:
            say(asker.telegram_id, facilitator_help(pick_language(asker.language_code, group.language)))
        else:  # asked to open the private chat first (or told an anonymous administrator cannot be)
            await private_reader(update, context, group, "help.start_first")
        return
    reply(
        update,
        t(group.language, "help.group"),
        reply_markup=group_help_keyboard(group.language, propose_url(context, group)),
    )


async def set_command_menus(bot: Bot, default_language: str) -> None:
    """One menu per scope, in French and English, the default language for everyone else."""
    for scope_name, commands in MENUS.items():
        for language in (None, *LANGUAGES):
            texts = language or default_language
            await bot.set_my_commands(
                [BotCommand(name, plain(texts, f"command.{name}")) for name in commands],
                scope=SCOPES[scope_name],
                language_code=language,
            )


# Every command Relais answers to, whatever the menu it is in.
KNOWN_COMMANDS = frozenset(name for names in MENUS.values() for name in names) | {
    "start", "suivi", "oublier", "mesdonnees", "groupes", "frais", "compterendu", "charte", "serie",
}  # fmt: skip
ACCENTED_HANDLER_GROUP = 2  # after the features and the dialogue router (bot/application.py)


async def accented_command(update: Update, context: Context) -> None:
    """/réunion, /présentation: Telegram ends a command at its first accent (it reads "/r"), so no
    command matched. Rather than silence, say how to type it."""
    message = update.effective_message
    if message is None or not message.text:
        return
    typed = message.text.split(maxsplit=1)[0].split("@")[0].lstrip("/")
    meant = normalise(typed)
    if meant == typed.lower() or meant not in KNOWN_COMMANDS:
        return  # a command Relais does not know: maybe another bot's
    group = await current_group(update)
    language = group.language if group is not None else language_for(update, context)
    reply(update, t(language, "help.no_accent", command=meant))


def register(application: Application) -> None:
    application.add_handler(CommandHandler("aide", help_command))
    application.add_handler(
        MessageHandler(filters.COMMAND & filters.Regex(r"^/\w*[^\x00-\x7f]"), accented_command),
        group=ACCENTED_HANDLER_GROUP,
    )
    application.add_handler(CommandHandler("help", help_command))

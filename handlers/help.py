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
from telegram.ext import Application, CommandHandler

from bot.ui.i18n import LANGUAGES, plain, t
from handlers.common import Context, current_group, is_facilitator, is_group_chat, language_for, reply

# Commands per menu scope. Participants never need a command; /aide is there for the curious.
MENUS = {
    "group": ("aide", "prochaine", "reunions", "proposition", "propositions", "covoiturage"),
    "admins": (
        "aide",
        "reunion",
        "reunions",
        "prochaine",
        "annuler",
        "deplacer",
        "rappels",
        "serie",
        "configurer",
        "animateur",
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
    "private": ("aide", "proposition", "attestation", "mesdonnees", "oublier", "tableau"),
}
SCOPES = {
    "group": BotCommandScopeAllGroupChats(),
    "admins": BotCommandScopeAllChatAdministrators(),
    "private": BotCommandScopeAllPrivateChats(),
}


async def help_command(update: Update, context: Context) -> None:
    """Tell each person what they can do here: taps for everyone, commands for facilitators."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    if not is_group_chat(update):
        reply(update, t(language_for(update, context), "help.private"))
        return
    group = await current_group(update)
    if group is None:
        return
    text = t(group.language, "help.group")
    if await is_facilitator(context, group, user.id):
        text += "\n\n" + t(group.language, "help.facilitator")
    reply(update, text)


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


def register(application: Application) -> None:
    application.add_handler(CommandHandler("aide", help_command))
    application.add_handler(CommandHandler("help", help_command))

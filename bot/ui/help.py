"""/aide's texts and buttons. Participants get buttons, never commands to type; facilitators get
their commands grouped by task, one example each, and `/aide <task>` for a task's detail."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.dates import normalise
from bot.ui import callbacks as cb
from bot.ui.i18n import plain, t

TASKS = ("reunion", "propositions", "votes", "actions", "covoiturage", "bilan", "groupe")
# What a facilitator may type after /aide: a task's name, or one of its commands.
ALIASES = {
    **{task: task for task in TASKS},
    **dict.fromkeys(("reunions", "quand", "rappels", "serie", "annuler", "deplacer", "prochaine"), "reunion"),
    **dict.fromkeys(("proposition", "suivi", "modifier", "fusionner", "retirer", "indicateurs"), "propositions"),
    **dict.fromkeys(("vote", "sondage", "sondages", "priorites", "clore", "quorum"), "votes"),
    "action": "actions",
    "lieux": "covoiturage",
    **dict.fromkeys(("tableau", "attestation", "bilans", "compterendu", "frais"), "bilan"),
    **dict.fromkeys(
        (
            "configurer",
            "animateur",
            "animation",
            "joignables",
            "sms",
            "affiche",
            "presentation",
            "charte",
            "membres",
            "groupes",
        ),
        "groupe",
    ),
}


def task_named(word: str) -> str | None:
    """The task `/aide <word>` asks for ("réunion", "/suivi" and "Votes" all work)."""
    return ALIASES.get(normalise(word).lstrip("/"))


def facilitator_help(language: str) -> str:
    return "\n".join([t(language, "help.facilitator"), *(t(language, f"help.task.{task}") for task in TASKS)])


def task_help(language: str, task: str) -> str:
    return t(language, f"help.detail.{task}")


def group_help_keyboard(language: str, propose_url: str) -> InlineKeyboardMarkup:
    """Under the group's help: what a participant may want at any time, one tap each."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(plain(language, "button.propose"), url=propose_url)],
            [cb.key(plain(language, "button.my_meetings"), cb.MyMeetings())],
            [
                cb.key(plain(language, "button.carpool"), cb.ShowCarpool()),
                cb.key(plain(language, "button.board"), cb.ShowBoard()),
            ],
        ]
    )


def private_help_keyboard(language: str, propose_url: str | None) -> InlineKeyboardMarkup:
    """Under the private help: the person's meetings, a proposal (when they are in one group), and
    their data."""
    rows = [[cb.key(plain(language, "button.my_meetings"), cb.MyMeetings())]]
    if propose_url:
        rows.append([InlineKeyboardButton(plain(language, "button.propose"), url=propose_url)])
    rows.append(
        [
            cb.key(plain(language, "button.my_data"), cb.MyData("export")),
            cb.key(plain(language, "button.forget"), cb.MyData("forget")),
        ]
    )
    rows.append([cb.key(plain(language, "button.private_off"), cb.PrivateMessages("off"))])
    return InlineKeyboardMarkup(rows)

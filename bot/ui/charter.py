"""The group's charter: the text (the group's own, or the default), "✅ J'ai lu", and who has not
read it yet (for facilitators)."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.ui import callbacks as cb
from bot.ui.i18n import plain, t
from storage.models import Group, Person


def charter_text(language: str, group: Group) -> str:
    body = group.charter if group.charter else t(language, "charter.default")
    return t(language, "charter.title", group=group.display_name) + "\n" + body


def charter_keyboard(language: str, group: Group) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[cb.key(plain(language, "button.charter_read"), cb.CharterRead(group.id))]])


def not_read_text(language: str, group: Group, people: list[Person]) -> str:
    if not people:
        return t(language, "charter.all_read", group=group.display_name)
    names = ", ".join(person.first_name for person in people)
    return t(language, "charter.not_read", group=group.display_name, names=names)

"""🧸 Garde d'enfants and 🍽 Repas: the private question, its buttons, and the counts that
facilitators read (never names)."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.domain.needs import CHILDREN_MAX, DIETS, NeedCounts
from bot.ui import callbacks as cb
from bot.ui.carpool import meeting_label
from bot.ui.i18n import plain, t, tn
from storage.models import Group, Meeting


def children_question(language: str, group: Group, meeting: Meeting) -> str:
    return t(language, "needs.ask_children", meeting=meeting_label(language, group, meeting))


def children_keyboard(language: str, meeting: Meeting) -> InlineKeyboardMarkup:
    numbers = [cb.key(str(count), cb.Children(meeting.id, count)) for count in range(1, CHILDREN_MAX + 1)]
    return InlineKeyboardMarkup(
        [numbers[:3], numbers[3:], [cb.key(plain(language, "needs.no_childcare"), cb.Children(meeting.id, 0))]]
    )


def diet_question(language: str, group: Group, meeting: Meeting) -> str:
    return t(language, "needs.ask_diet", meeting=meeting_label(language, group, meeting))


def diet_keyboard(language: str, meeting: Meeting) -> InlineKeyboardMarkup:
    choices = [cb.key(plain(language, f"needs.diet.{diet}"), cb.Diet(meeting.id, diet)) for diet in DIETS]
    return InlineKeyboardMarkup(
        [choices[:2], choices[2:], [cb.key(plain(language, "needs.no_diet"), cb.Diet(meeting.id, "none"))]]
    )


def children_noted(language: str, group: Group, meeting: Meeting, children: int) -> str:
    label = meeting_label(language, group, meeting)
    if not children:
        return t(language, "needs.children_none", meeting=label)
    return tn(language, "needs.children_noted", children, meeting=label)


def diet_noted(language: str, group: Group, meeting: Meeting, diet: str | None) -> str:
    label = meeting_label(language, group, meeting)
    if diet is None:
        return t(language, "needs.diet_none", meeting=label)
    return t(language, "needs.diet_noted", need=plain(language, f"needs.diet.{diet}").lower(), meeting=label)


def counts_lines(language: str, counts: NeedCounts) -> list[str]:
    """For facilitators: how many children to look after, and the meal's needs."""
    lines = []
    if counts.children:
        lines.append(tn(language, "needs.count_children", counts.children))
    if counts.diets:
        needs = " · ".join(f"{plain(language, f'needs.diet.{diet}')} {number}" for diet, number in counts.diets.items())
        lines.append(t(language, "needs.count_diets", needs=needs))
    return lines

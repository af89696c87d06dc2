"""❓ Une question: what the member and the facilitators read, and the ✍️ Répondre button."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.ui import callbacks as cb
from bot.ui.carpool import meeting_label
from bot.ui.i18n import plain, t
from storage.models import Group, Meeting, Question


def ask_text(language: str, group: Group, meeting: Meeting) -> str:
    return t(language, "question.ask", meeting=meeting_label(language, group, meeting), group=group.display_name)


def for_facilitators(language: str, group: Group, meeting: Meeting, name: str, question: Question) -> str:
    return t(
        language,
        "question.to_facilitators",
        name=name,
        group=group.display_name,
        meeting=meeting_label(language, group, meeting),
        text=question.text,
    )


def reply_keyboard(language: str, question: Question) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[cb.key(plain(language, "button.reply_question"), cb.ReplyQuestion(question.id))]])


def answer_prompt(language: str, name: str, question: Question) -> str:
    return t(language, "question.answer_prompt", name=name, text=question.text)


def answer_for_member(language: str, group: Group, meeting: Meeting, question: Question) -> str:
    return t(
        language,
        "question.answer",
        meeting=meeting_label(language, group, meeting),
        question=question.text,
        answer=question.answer or "",
    )

"""The evaluation sheet in private: the question, its buttons, the free text and what the
facilitators read."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.domain.evaluations import USEFUL
from bot.ui import callbacks as cb
from bot.ui.carpool import meeting_label
from bot.ui.i18n import plain, t
from bot.ui.meetings import when_text
from storage.models import Group, Meeting

# The private answers, in the order of the group poll's options (feedback.option1..3).
OPTION_KEYS = {useful: f"feedback.option{index}" for index, useful in enumerate(USEFUL, start=1)}


def evaluation_question(language: str, group: Group, meeting: Meeting) -> str:
    return t(
        language,
        "evaluation.question",
        when=when_text(meeting.starts_at, group.timezone, language),
        place=meeting.place,
    )


def _costs_row(language: str, meeting: Meeting) -> list:
    """🧾 Mes frais: the day after is when costs are claimed."""
    return [cb.key(plain(language, "button.costs"), cb.Costs(meeting.id))]


def useful_keyboard(language: str, meeting: Meeting) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [cb.key(plain(language, OPTION_KEYS[useful]), cb.Useful(meeting.id, useful)) for useful in USEFUL],
            _costs_row(language, meeting),
        ]
    )


def hope_question(language: str) -> str:
    return t(language, "evaluation.hope_question")


def hope_keyboard(language: str, meeting: Meeting, signed: bool) -> InlineKeyboardMarkup:
    sign = plain(language, "button.eval_signed" if signed else "button.eval_sign")
    return InlineKeyboardMarkup(
        [
            [cb.key(sign, cb.EvaluationStep(meeting.id, "sign"))],
            [cb.key(plain(language, "button.eval_skip"), cb.EvaluationStep(meeting.id, "skip"))],
            _costs_row(language, meeting),
        ]
    )


def hope_for_facilitators(language: str, group: Group, meeting: Meeting, text: str, name: str | None) -> str:
    return t(
        language,
        "evaluation.to_facilitators",
        who=name or plain(language, "someone"),
        meeting=meeting_label(language, group, meeting),
        text=text,
    )

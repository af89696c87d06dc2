"""The minutes: for review in private, as posted in the group, and what the facilitators read."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.ui import callbacks as cb
from bot.ui.carpool import meeting_label
from bot.ui.i18n import plain, t, tn
from bot.ui.meetings import when_text
from storage.models import Group, Meeting, Minutes


def _body(minutes: Minutes) -> str:
    return "\n\n" + minutes.text if minutes.text and not minutes.file_id else ""


def minutes_text(language: str, group: Group, meeting: Meeting, minutes: Minutes, private: bool = False) -> str:
    """As posted: in the group, or in private to a member who did not come."""
    key = "minutes.for_absent" if private else "minutes.title"
    return t(language, key, meeting=meeting_label(language, group, meeting), group=group.display_name) + _body(minutes)


def review_text(language: str, group: Group, meeting: Meeting, minutes: Minutes) -> str:
    return t(
        language,
        "minutes.review",
        meeting=meeting_label(language, group, meeting),
        when=when_text(minutes.publish_at, group.timezone, language),
    ) + _body(minutes)


def review_keyboard(language: str, minutes: Minutes) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                cb.key(plain(language, "button.minutes_ok"), cb.MinutesAnswer(minutes.id, "ok")),
                cb.key(plain(language, "button.minutes_add"), cb.MinutesAnswer(minutes.id, "add")),
            ]
        ]
    )


def publish_keyboard(language: str, minutes: Minutes) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[cb.key(plain(language, "button.minutes_publish"), cb.MinutesPublish(minutes.id))]])


def sent_for_review(language: str, group: Group, minutes: Minutes, reviewers: int) -> str:
    return tn(
        language, "minutes.sent_for_review", reviewers, when=when_text(minutes.publish_at, group.timezone, language)
    )


def comment_for_facilitators(language: str, group: Group, meeting: Meeting, name: str, text: str) -> str:
    return t(
        language,
        "minutes.comment_to_facilitators",
        name=name,
        meeting=meeting_label(language, group, meeting),
        text=text,
    )


def minutes_line(language: str, group: Group, minutes: Minutes) -> str:
    """For the next meeting's J-7 reminder: a link to the posted minutes (supergroups have message
    links), or where to find them."""
    chat = str(group.chat_id)
    if chat.startswith("-100") and minutes.message_id:
        return t(language, "minutes.linked", link=f"https://t.me/c/{chat[4:]}/{minutes.message_id}")
    return t(language, "minutes.pinned")

"""Reaching everyone: whom no private reminder reaches, for the facilitators to phone or text."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.ui.callbacks import ImAMember
from bot.ui.carpool import meeting_label
from bot.ui.i18n import Markup, plain, t, tn
from storage.models import Group, Meeting, Person


def presence_keyboard(language: str, group: Group, private_url: str) -> InlineKeyboardMarkup:
    """Under the greeting and the monthly nudge: "👋 Je suis membre du groupe" (one tap, and Relais
    knows someone who was there before it), and private reminders (a link to the private chat)."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(plain(language, "button.im_a_member"), callback_data=ImAMember(group.id).encode())],
            [InlineKeyboardButton(plain(language, "button.private_reminders"), url=private_url)],
        ]
    )


def unseen_line(language: str, known: int, total: int | None) -> str | None:
    """ "Relais connaît 7 membres sur 12": the members Telegram counts that Relais never saw (they
    were there before it and never tapped or typed a command), or None when there are none."""
    if total is None or total <= known:
        return None
    return tn(language, "reach.unseen", total - known, known=Markup(tn(language, "reach.known", known, total=total)))


def unreachable_text(
    language: str,
    group: Group,
    found: list[tuple[Person, str]],
    meeting: Meeting | None = None,
    known: int | None = None,
) -> str:
    unseen = unseen_line(language, known, group.member_count) if known is not None else None
    if not found and unseen is None:
        return t(language, "reach.everyone", group=group.display_name)
    if meeting is not None:
        title = t(
            language, "reach.title_meeting", meeting=meeting_label(language, group, meeting), group=group.display_name
        )
    else:
        title = t(language, "reach.title", group=group.display_name)
    lines = [title]
    for person, why in found:
        handle = f" @{person.username}" if person.username else ""
        lines.append(t(language, f"reach.why.{why}", name=person.first_name + handle))
    if found:
        lines.append(t(language, "reach.outro"))
    if unseen is not None:
        lines.append(unseen)
    return "\n".join(lines)

"""Reaching everyone: whom no private reminder reaches, for the facilitators to phone or text."""

from __future__ import annotations

from bot.ui.carpool import meeting_label
from bot.ui.i18n import t
from storage.models import Group, Meeting, Person


def unreachable_text(
    language: str, group: Group, found: list[tuple[Person, str]], meeting: Meeting | None = None
) -> str:
    if not found:
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
    lines.append(t(language, "reach.outro"))
    return "\n".join(lines)

"""The group's card: what a newcomer reads in private (the group's purpose, when and where it
meets, who facilitates it, the next meeting)."""

from __future__ import annotations

from bot.ui.i18n import t
from bot.ui.meetings import meeting_body
from storage.models import Group, Meeting


def card_text(language: str, group: Group, facilitators: list[str], meeting: Meeting | None) -> str:
    """Without a card, a sensible default from the group's own settings."""
    lines = [t(language, "card.title", group=group.display_name)]
    lines.append(
        (group.card_purpose and t(language, "card.purpose", text=group.card_purpose)) or t(language, "card.default")
    )
    if group.card_usual:
        lines.append(t(language, "card.usual", text=group.card_usual))
    if facilitators:
        lines.append(t(language, "card.facilitators", names=", ".join(facilitators)))
    if meeting is not None:
        lines += ["", t(language, "card.next"), meeting_body(group, meeting, language=language)]
    lines += ["", t(language, "card.buttons")]
    return "\n".join(lines)

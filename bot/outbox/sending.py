"""Messages an update sends to a person in private or to a group, queued with the update and sent
after it commits (bot/outbox/after_commit.py). A 403 then marks the person unreachable or the
group inactive; a group that became a supergroup is followed."""

from __future__ import annotations

from typing import Any

from bot.outbox.after_commit import OnSent, queue_message
from storage.models import Group, Person


def to_group(group: Group, text: str, on_sent: OnSent | None = None, **kwargs: Any) -> bool:
    """Queue a message to the group's chat; False when the bot can no longer write there."""
    if not group.active:
        return False
    queue_message(group.chat_id, text, on_sent, **kwargs)
    return True


def to_person(person: Person, text: str, on_sent: OnSent | None = None, **kwargs: Any) -> bool:
    """Queue a private message to someone who started the bot; False for anyone else."""
    if person.private_status != "started":
        return False
    queue_message(person.telegram_id, text, on_sent, **kwargs)
    return True

"""Notices an update sends to a person in private or to a group: durable rows written with the
change (bot/outbox/notices.py) and sent after the commit, in order with the update's replies
(bot/outbox/after_commit.py). A 403 then marks the person unreachable or the group inactive; a
group that became a supergroup is followed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup

from bot.domain.people import reachable_in_private
from bot.outbox.after_commit import Send, queue_send
from bot.outbox.calls import decode_call
from bot.outbox.notices import claim_stale, new_notice, pending_notice
from bot.outbox.recorded import AfterSent
from storage.models import Group, Notice, Person


def _send(chat_id: int, text: str, markup: InlineKeyboardMarkup | None, notice: Any) -> Send:
    kwargs: dict[str, Any] = {"text": text}
    if markup is not None:
        kwargs["reply_markup"] = markup
    return Send(chat_id, "send_message", kwargs, notice=notice)


def _write(
    session: AsyncSession,
    kind: str,
    text: str,
    now: datetime,
    reply_markup: InlineKeyboardMarkup | None,
    group_id: int | None = None,
    person_id: int | None = None,
) -> Any:
    notice = new_notice(
        kind, text, reply_markup.to_dict() if reply_markup is not None else None, now, group_id, person_id
    )
    session.add(notice)
    return notice


def to_person(
    session: AsyncSession,
    person: Person,
    text: str,
    kind: str,
    now: datetime,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> bool:
    """A notice in private, for someone who started the bot and did not pause its messages;
    False (nothing queued) for anyone else."""
    if not reachable_in_private(person):
        return False
    notice = _write(session, kind, text, now, reply_markup, person_id=person.id)
    queue_send(_send(person.telegram_id, text, reply_markup, notice))
    return True


def to_group(
    session: AsyncSession,
    group: Group,
    text: str,
    kind: str,
    now: datetime,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> bool:
    """A notice in the group's chat; False when the bot can no longer write there."""
    if not group.active:
        return False
    notice = _write(session, kind, text, now, reply_markup, group_id=group.id)
    queue_send(_send(group.chat_id, text, reply_markup, notice))
    return True


def later_to_person(
    session: AsyncSession,
    person: Person,
    text: str,
    kind: str,
    now: datetime,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> bool:
    """A notice from a job (no update to send it after): a pending row, which the dispatcher run's
    pass over notices sends (`stale_notices`). False for someone who cannot be written to."""
    if not reachable_in_private(person):
        return False
    markup = reply_markup.to_dict() if reply_markup is not None else None
    session.add(pending_notice(kind, text, markup, now, None, person.id))
    return True


async def stale_notices(session: AsyncSession, now: datetime) -> list[Send]:
    """The notices a process left behind, claimed and ready for this process's sender: an answer
    made again from its call, with what it records once sent; a notice of a change from its text."""
    return [_resend(notice, chat_id) for notice, chat_id in await claim_stale(session, now)]


def _resend(notice: Notice, chat_id: int) -> Send:
    if notice.method is not None:
        after = AfterSent(notice.after, notice.after_args or {}) if notice.after is not None else None
        return Send(chat_id, notice.method, decode_call(notice.call or {}), after, notice=notice)
    markup = InlineKeyboardMarkup.de_json(notice.markup, None) if notice.markup else None
    return _send(chat_id, notice.text, markup, notice)

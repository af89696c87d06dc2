"""Dialogue state: where someone is in a guided dialogue (/reunion, /configurer, /deplacer) or a
private question (a proposal, a carpool offer, the note of a follow-up step).

One mechanism for all of them, in the database: one open dialogue per person and chat (the latest
opened wins, so a town typed for a carpool never becomes a proposal), a step, the answers so far,
and an expiry. A restart in the middle resumes at the same question, and the next message may
reach another process. Handlers read and advance it through handlers/common.py's router.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DialogueState

DEFAULT_TTL = timedelta(minutes=30)


@dataclass
class Dialogue:
    """An open dialogue, as the handlers see it (`data` is a copy: change it with `advance`)."""

    kind: str
    step: str
    data: dict[str, Any]
    chat_id: int
    user_id: int
    prompt_message_id: int | None

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


def _view(row: DialogueState) -> Dialogue:
    return Dialogue(row.kind, row.step, dict(row.data or {}), row.chat_id, row.user_id, row.prompt_message_id)


async def _row(session: AsyncSession, user_id: int, chat_id: int) -> DialogueState | None:
    return await session.scalar(
        select(DialogueState).where(DialogueState.user_id == user_id, DialogueState.chat_id == chat_id)
    )


async def open_dialogue(
    session: AsyncSession,
    user_id: int,
    chat_id: int,
    kind: str,
    step: str,
    now: datetime,
    data: dict[str, Any] | None = None,
    ttl: timedelta = DEFAULT_TTL,
) -> Dialogue:
    """Start a dialogue for this person in this chat, replacing whatever was open there."""
    row = await _row(session, user_id, chat_id)
    if row is None:
        row = DialogueState(user_id=user_id, chat_id=chat_id)
        session.add(row)
    row.kind, row.step, row.data, row.prompt_message_id = kind, step, dict(data or {}), None
    row.updated_at, row.expires_at = now, now + ttl
    await session.flush()
    return _view(row)


async def current(session: AsyncSession, user_id: int, chat_id: int, now: datetime) -> Dialogue | None:
    """The open dialogue of this person in this chat; an expired one is closed and None returned
    (what they type now is something else)."""
    row = await _row(session, user_id, chat_id)
    if row is None:
        return None
    if row.expires_at <= now:
        await session.delete(row)
        await session.flush()
        return None
    return _view(row)


async def advance(
    session: AsyncSession,
    dialogue: Dialogue,
    step: str,
    now: datetime,
    ttl: timedelta = DEFAULT_TTL,
    prompt_message_id: int | None = None,
    **data: Any,
) -> Dialogue:
    """The next question: a new step, answers added, the expiry pushed back."""
    row = await _row(session, dialogue.user_id, dialogue.chat_id)
    if row is None or row.kind != dialogue.kind:
        raise LookupError("the dialogue was closed meanwhile")
    row.step = step
    row.data = {**(row.data or {}), **data}
    row.prompt_message_id = prompt_message_id
    row.updated_at, row.expires_at = now, now + ttl
    await session.flush()
    dialogue.step, dialogue.data, dialogue.prompt_message_id = step, dict(row.data), prompt_message_id
    return dialogue


async def set_prompt(session: AsyncSession, user_id: int, chat_id: int, kind: str, step: str, message_id: int) -> None:
    """The bot's question for this step went out as this message (if the dialogue is still there)."""
    row = await _row(session, user_id, chat_id)
    if row is not None and row.kind == kind and row.step == step:
        row.prompt_message_id = message_id


async def close(session: AsyncSession, dialogue: Dialogue) -> None:
    await session.execute(
        delete(DialogueState).where(
            DialogueState.user_id == dialogue.user_id,
            DialogueState.chat_id == dialogue.chat_id,
            DialogueState.kind == dialogue.kind,
        )
    )


async def of_person(session: AsyncSession, user_id: int) -> list[Dialogue]:
    """Everything open for this person (their export)."""
    rows = await session.scalars(select(DialogueState).where(DialogueState.user_id == user_id))
    return [_view(row) for row in rows]


async def forget_person(session: AsyncSession, user_id: int) -> None:
    """Erasure: whatever they were in the middle of goes too."""
    await session.execute(delete(DialogueState).where(DialogueState.user_id == user_id))


async def purge_expired(session: AsyncSession, now: datetime) -> int:
    """Drafts nobody finished are not kept (run with the dispatcher)."""
    result = await session.execute(delete(DialogueState).where(DialogueState.expires_at <= now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

"""❓ Une question: a member asks, in private, something about a meeting (is there a lift, can I
come with my child); those who run the meeting read it and answer; the answer goes back to the
member in private. The group sees nothing of it (the field: every invitation SMS offered a number
to call with questions)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.errors import RefusalError, folded_text
from storage.models import Meeting, Person, Question

log = logging.getLogger(__name__)

TEXT_MAX = 1000  # a question or an answer: a message, not a letter


class QuestionError(RefusalError):
    """A question or an answer that cannot be recorded."""


def _text(text: str) -> str:
    return folded_text(text, TEXT_MAX, "question.error.empty", "question.error.long", QuestionError)


async def ask(session: AsyncSession, meeting: Meeting, person: Person, text: str, now: datetime) -> Question:
    """Record a member's question about a meeting. Raises QuestionError."""
    question = Question(
        group_id=meeting.group_id, meeting_id=meeting.id, person_id=person.id, text=_text(text), asked_at=now
    )
    session.add(question)
    await session.flush()
    log.info("question %s asked about meeting %s", question.id, meeting.id)
    return question


async def answer(session: AsyncSession, question: Question, by: Person, text: str, now: datetime) -> Question:
    """Record the answer; a question has one answer, the first one given. Raises QuestionError."""
    if question.answered_at is not None:
        raise QuestionError("question.error.answered")
    question.answer, question.answered_by_id, question.answered_at = _text(text), by.id, now
    log.info("question %s answered", question.id)
    return question


async def of_meeting(session: AsyncSession, meeting: Meeting) -> list[Question]:
    return list(await session.scalars(select(Question).where(Question.meeting_id == meeting.id).order_by(Question.id)))

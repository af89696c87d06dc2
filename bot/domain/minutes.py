"""The minutes (compte rendu): "rédiger un compte rendu, le soumettre pour avis et complément".
A facilitator sends them after a meeting; those who came read them in private and agree or add a
comment for the facilitators; at `publish_at` (meetings.minutes_review_days later) or on a
facilitator's word they are posted in the group and sent to the members who did not come."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.errors import RefusalError, folded_text
from bot.domain.events import EventKind, move_pending, subject_event
from storage.models import Meeting, Membership, Minutes, MinutesReview, Person

log = logging.getLogger(__name__)

TEXT_MAX = 3500  # the minutes in one Telegram message, with their title
COMMENT_MAX = 1000
MINUTES_PUBLISH = EventKind.MINUTES_PUBLISH


class MinutesError(RefusalError):
    """Minutes that cannot be recorded or published."""


async def last_held(session: AsyncSession, group_id: int, now: datetime) -> Meeting | None:
    """The meeting the minutes are about: the latest one that has started."""
    return await session.scalar(
        select(Meeting)
        .where(Meeting.group_id == group_id, Meeting.status == "scheduled", Meeting.starts_at <= now)
        .order_by(Meeting.starts_at.desc())
        .limit(1)
    )


async def of_meeting(session: AsyncSession, meeting: Meeting) -> Minutes | None:
    return await session.scalar(select(Minutes).where(Minutes.meeting_id == meeting.id))


async def record(
    session: AsyncSession,
    meeting: Meeting,
    creator: Person | None,
    now: datetime,
    review_days: int,
    text: str | None = None,
    file_id: str | None = None,
    file_name: str | None = None,
) -> Minutes:
    """New minutes (or new content for minutes still under review), published after the review
    time. Raises MinutesError."""
    found = await of_meeting(session, meeting)
    if found is not None and found.status == "published":
        raise MinutesError("minutes.error.published")
    if file_id is None:
        text = folded_lines(text or "")
    minutes = found or Minutes(meeting_id=meeting.id, group_id=meeting.group_id, status="review")
    minutes.text, minutes.file_id, minutes.file_name = text, file_id, file_name
    minutes.created_by_id, minutes.created_at = creator.id if creator else None, now
    minutes.publish_at = now + timedelta(days=review_days)
    if found is None:
        session.add(minutes)
        await session.flush()
        session.add(subject_event(meeting.group_id, MINUTES_PUBLISH, minutes.id, minutes.publish_at))
    else:
        await move_pending(session, MINUTES_PUBLISH, minutes.id, minutes.publish_at)
    await session.flush()
    log.info("minutes %s for meeting %s, to publish at %s", minutes.id, meeting.id, minutes.publish_at)
    return minutes


def folded_lines(text: str) -> str:
    """The minutes as typed, lines kept; refused when empty or too long."""
    kept = "\n".join(line.rstrip() for line in text.strip().splitlines())
    if not kept:
        raise MinutesError("minutes.error.empty")
    length = len(kept.encode("utf-16-le")) // 2  # as Telegram counts: an emoji counts two
    if length > TEXT_MAX:
        raise MinutesError("minutes.error.long", limit=TEXT_MAX, length=length)
    return kept


async def publish_now(session: AsyncSession, minutes: Minutes, now: datetime) -> bool:
    """A facilitator's word: the publication is brought forward to now (the outbox posts them as
    at the end of the review). False when already published."""
    if minutes.status != "review":
        return False
    minutes.publish_at = now
    return await move_pending(session, MINUTES_PUBLISH, minutes.id, now)


async def agree(session: AsyncSession, minutes: Minutes, person: Person, now: datetime) -> None:
    review = await _review(session, minutes, person, now)
    review.agreed = True


async def comment(session: AsyncSession, minutes: Minutes, person: Person, text: str, now: datetime) -> MinutesReview:
    review = await _review(session, minutes, person, now)
    review.comment = folded_text(
        text, COMMENT_MAX, "minutes.error.comment_empty", "minutes.error.comment_long", MinutesError
    )
    await session.flush()
    return review


async def _review(session: AsyncSession, minutes: Minutes, person: Person, now: datetime) -> MinutesReview:
    found = await session.scalar(
        select(MinutesReview).where(MinutesReview.minutes_id == minutes.id, MinutesReview.person_id == person.id)
    )
    if found is None:
        found = MinutesReview(minutes_id=minutes.id, person_id=person.id, agreed=False, at=now)
        session.add(found)
    found.at = now
    await session.flush()
    return found


def mark_published(minutes: Minutes, now: datetime) -> None:
    minutes.status, minutes.published_at = "published", now


async def absent_members(session: AsyncSession, meeting: Meeting, came: list[Person]) -> list[Person]:
    """Current members who did not come: they get the published minutes in private."""
    here = {person.id for person in came}
    rows = await session.scalars(
        select(Person)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.group_id == meeting.group_id, Membership.status == "member")
        .order_by(Person.id)
    )
    return [person for person in rows if person.id not in here]


async def previous_published(session: AsyncSession, meeting: Meeting) -> Minutes | None:
    """The published minutes of the group's meeting before this one (the J-7 reminder links them)."""
    return await session.scalar(
        select(Minutes)
        .join(Meeting, Meeting.id == Minutes.meeting_id)
        .where(
            Meeting.group_id == meeting.group_id,
            Meeting.starts_at < meeting.starts_at,
            Minutes.status == "published",
        )
        .order_by(Meeting.starts_at.desc())
        .limit(1)
    )


async def set_message(session: AsyncSession, minutes_id: int, message_id: int) -> None:
    row = await session.get(Minutes, minutes_id)
    if row is not None:
        row.message_id = message_id

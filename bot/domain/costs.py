"""Costs (défraiement): a member who came to a meeting claims their costs with a photo of the
receipt (bus ticket, fuel, childcare) and an amount, or the group's flat allowance per half-day of
participation when it has one; facilitators mark each claim refunded or refused (always with the
reason) and the member is told in private. Receipts are Telegram file ids only, erased with their
claim after `costs.keep_months`."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.errors import RefusalError, folded_text
from bot.domain.evaluations import came
from bot.domain.settings import CostsSection
from storage.models import CostClaim, Meeting, Person

log = logging.getLogger(__name__)

CATEGORIES = ("transport", "fuel", "childcare", "meal", "other")
ALLOWANCE = "allowance"
HALF_DAY = timedelta(hours=4)
REASON_MAX = 300
_AMOUNT_RE = re.compile(r"^(\d{1,5})(?:[.,](\d{1,2}))?\s*(?:€|e|eur|euros?)?$")


class CostsError(RefusalError):
    """A claim or a decision that cannot be recorded."""


def parse_amount(text: str, settings: CostsSection) -> int:
    """ "3,40", "3.4 €", "12 euros" -> cents. Raises CostsError (not a number, zero or less, over
    the most a claim may ask)."""
    cleaned = " ".join(text.lower().replace("\u00a0", " ").split())
    if cleaned.startswith("-"):
        raise CostsError("costs.error.negative")
    match = _AMOUNT_RE.match(cleaned)
    if match is None:
        raise CostsError("costs.error.amount")
    try:
        value = Decimal(f"{match.group(1)}.{(match.group(2) or '0').ljust(2, '0')}")
    except InvalidOperation:
        raise CostsError("costs.error.amount") from None
    cents = int(value * 100)
    if cents <= 0:
        raise CostsError("costs.error.negative")
    if cents > settings.max_claim_euros * 100:
        raise CostsError("costs.error.too_much", limit=euros(int(settings.max_claim_euros * 100)))
    return cents


def euros(cents: int) -> str:
    """1250 -> "12,50 €" (French writing)."""
    return f"{cents // 100},{cents % 100:02d} €"


def half_days(duration_minutes: int) -> int:
    """A meeting of up to four hours is one half-day of participation; longer ones count more."""
    return max(1, math.ceil(timedelta(minutes=duration_minutes) / HALF_DAY))


async def _may_claim(session: AsyncSession, meeting: Meeting, person: Person) -> None:
    if not await came(session, meeting, person):
        raise CostsError("costs.error.not_there")


async def claim_receipt(
    session: AsyncSession,
    meeting: Meeting,
    person: Person,
    category: str,
    cents: int,
    file_id: str,
    now: datetime,
) -> CostClaim:
    if category not in CATEGORIES:
        raise CostsError("button.invalid")
    await _may_claim(session, meeting, person)
    claim = CostClaim(
        meeting_id=meeting.id,
        group_id=meeting.group_id,
        person_id=person.id,
        category=category,
        amount_cents=cents,
        file_id=file_id,
        status="pending",
        created_at=now,
    )
    session.add(claim)
    await session.flush()
    log.info("cost claim %s for meeting %s", claim.id, meeting.id)
    return claim


async def claim_allowance(
    session: AsyncSession,
    meeting: Meeting,
    person: Person,
    settings: CostsSection,
    duration_minutes: int,
    now: datetime,
) -> CostClaim:
    """The group's flat allowance, from the attendance: once per member and meeting."""
    if settings.allowance_per_half_day is None:
        raise CostsError("costs.error.no_allowance")
    await _may_claim(session, meeting, person)
    already = await session.scalar(
        select(CostClaim.id).where(
            CostClaim.meeting_id == meeting.id, CostClaim.person_id == person.id, CostClaim.category == ALLOWANCE
        )
    )
    if already is not None:
        raise CostsError("costs.error.allowance_twice")
    cents = round(settings.allowance_per_half_day * 100) * half_days(duration_minutes)
    claim = CostClaim(
        meeting_id=meeting.id,
        group_id=meeting.group_id,
        person_id=person.id,
        category=ALLOWANCE,
        amount_cents=cents,
        status="pending",
        created_at=now,
    )
    session.add(claim)
    await session.flush()
    return claim


async def decide(
    session: AsyncSession, claim: CostClaim, by: Person, refunded: bool, reason: str | None, now: datetime
) -> None:
    """Refunded, or refused with its reason (never without). Raises CostsError."""
    if claim.status != "pending":
        raise CostsError("costs.error.decided")
    if not refunded:
        claim.reason = folded_text(
            reason or "", REASON_MAX, "costs.error.reason", "costs.error.reason_long", CostsError
        )
    claim.status = "refunded" if refunded else "refused"
    claim.decided_at, claim.decided_by_id = now, by.id


async def pending(session: AsyncSession, group_id: int) -> list[tuple[CostClaim, Meeting, Person]]:
    rows = await session.execute(
        select(CostClaim, Meeting, Person)
        .join(Meeting, Meeting.id == CostClaim.meeting_id)
        .join(Person, Person.id == CostClaim.person_id)
        .where(CostClaim.group_id == group_id, CostClaim.status == "pending")
        .order_by(Meeting.starts_at, CostClaim.id)
    )
    return [(claim, meeting, person) for claim, meeting, person in rows]


async def of_meetings(session: AsyncSession, meeting_ids: list[int]) -> list[tuple[CostClaim, Meeting, Person]]:
    """Every claim for these meetings, for the period's CSV."""
    rows = await session.execute(
        select(CostClaim, Meeting, Person)
        .join(Meeting, Meeting.id == CostClaim.meeting_id)
        .join(Person, Person.id == CostClaim.person_id)
        .where(CostClaim.meeting_id.in_(meeting_ids))
        .order_by(Meeting.starts_at, CostClaim.id)
    )
    return [(claim, meeting, person) for claim, meeting, person in rows]


@dataclass(frozen=True)
class CostTotals:
    claims: int = 0
    refunded_cents: int = 0
    pending_cents: int = 0
    refused: int = 0


async def totals(session: AsyncSession, meeting_ids: list[int]) -> CostTotals:
    if not meeting_ids:
        return CostTotals()
    rows = {
        status: (int(count), int(cents))
        for status, count, cents in await session.execute(
            select(CostClaim.status, func.count(), func.coalesce(func.sum(CostClaim.amount_cents), 0))
            .where(CostClaim.meeting_id.in_(meeting_ids))
            .group_by(CostClaim.status)
        )
    }
    return CostTotals(
        claims=sum(count for count, _ in rows.values()),
        refunded_cents=rows.get("refunded", (0, 0))[1],
        pending_cents=rows.get("pending", (0, 0))[1],
        refused=rows.get("refused", (0, 0))[0],
    )


async def forget_old(session: AsyncSession, now: datetime, keep_months: int) -> int:
    """Claims (and their receipts' file ids) older than `keep_months` are erased; returns how many."""
    limit = now - timedelta(days=round(keep_months * 30.44))
    result = await session.execute(delete(CostClaim).where(CostClaim.created_at < limit))
    erased = result.rowcount or 0  # type: ignore[attr-defined]
    if erased:
        log.info("cost claims erased after %s months: %s", keep_months, erased)
    return erased

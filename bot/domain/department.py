"""The department's view at any size: one page of groups, filtered and sorted in the database, the
totals of every group filtered from grouped statements, and the whole list in slices for the CSV.

A group's figures are those of `reports.group_line(group_report(...))` (tests/unit/test_reports.py
checks it): meetings held in the period, the attendance over the meetings whose sheet was filled,
the proposals made and how many were transmitted and taken into account, votes, actions done and
rides matched. A period starts at midnight in each group's time zone, so each figure is counted
per zone and added up.
"""

from __future__ import annotations

import copy
import time
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Float, and_, case, cast, event, exists, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, aliased
from sqlalchemy.sql import ColumnElement, Select

from bot.domain.periods import Period
from bot.domain.proposals import TAKEN_INTO_ACCOUNT, TRANSMITTED
from bot.domain.reports import GroupLine
from storage.models import (
    ActionItem,
    Attendance,
    Group,
    Meeting,
    Membership,
    Person,
    Poll,
    PollVote,
    Proposal,
    RideRequest,
)

PAGE_SIZE = 50
SLICE = 500  # groups per slice of the CSV
NAME_MAX = 80
SORTS = ("groupe", "reunions", "presence", "propositions", "transmises", "prises", "contributions", "trajets")
_SHEET = aliased(Attendance)  # "the meeting has a sheet", beside the attendance rows counted


@dataclass(frozen=True)
class Filters:
    """What a coordinator narrows the view to: a part of the group's name, its territory, a
    facilitator's first name (a member named facilitator, or who planned one of its meetings)."""

    name: str = ""
    territory: str = ""
    facilitator: str = ""

    @classmethod
    def of(cls, name: str, territory: str, facilitator: str) -> Filters:
        return cls(*(" ".join(value.split())[:NAME_MAX] for value in (name, territory, facilitator)))

    @property
    def any(self) -> bool:
        return bool(self.name or self.territory or self.facilitator)


@dataclass
class DepartmentPage:
    lines: list[GroupLine]
    total: GroupLine  # every group the filters keep, not only this page's
    groups: int  # how many groups the filters keep
    page: int
    pages: int


def _name() -> ColumnElement[str]:
    return func.coalesce(Group.name, Group.title)


def scope(filters: Filters, among: Sequence[int] | None) -> Select[Any]:
    """The ids of the active groups kept: `among` those a facilitator sees (None: every group)."""
    query = select(Group.id).where(Group.active.is_(True))
    if among is not None:
        query = query.where(Group.id.in_(list(among) or [-1]))
    if filters.name:
        query = query.where(func.lower(_name()).contains(filters.name.lower(), autoescape=True))
    if filters.territory:
        query = query.where(Group.territory == filters.territory)
    if filters.facilitator:
        wanted = func.lower(Person.first_name) == filters.facilitator.lower()
        named = (
            select(Membership.id)
            .join(Person, Person.id == Membership.person_id)
            .where(Membership.group_id == Group.id, Membership.named_facilitator.is_(True), wanted)
        )
        planned = (
            select(Meeting.id)
            .join(Person, Person.id == Meeting.created_by_id)
            .where(Meeting.group_id == Group.id, wanted)
        )
        query = query.where(or_(exists(named), exists(planned)))
    return query


def _statements(ids: Select[Any], start: datetime, end: datetime) -> dict[str, Select[Any]]:
    """Each figure for the groups `ids` selects, as (group_id, n) grouped by group."""
    held = (
        Meeting.group_id.in_(ids),
        Meeting.status == "scheduled",
        Meeting.starts_at >= start,
        Meeting.starts_at < end,
    )
    sheeted = (
        *held,
        Meeting.attendance_rate.is_not(None),
        exists().where(_SHEET.meeting_id == Meeting.id).correlate(Meeting),
    )
    on_the_day = and_(
        Membership.group_id == Meeting.group_id,
        Membership.joined_at <= Meeting.starts_at,
        or_(Membership.left_at.is_(None), Membership.left_at > Meeting.starts_at),
    )
    made = (Proposal.group_id.in_(ids), Proposal.created_at >= start, Proposal.created_at < end)

    def by(column: Any, counted: Any, *where: Any) -> Select[Any]:
        return select(column.label("group_id"), counted.label("n")).where(*where).group_by(column)

    return {
        "meetings": by(Meeting.group_id, func.count(), *held),
        "invited": by(Meeting.group_id, func.count(Membership.id), *sheeted).join(Membership, on_the_day),
        "present": by(Meeting.group_id, func.count(), *sheeted, Attendance.present.is_(True)).join(
            Attendance, Attendance.meeting_id == Meeting.id
        ),
        "votes": by(Poll.group_id, func.count(), Poll.group_id.in_(ids), PollVote.voted_at >= start).join(
            PollVote, and_(PollVote.poll_id == Poll.id, PollVote.voted_at < end)
        ),
        "actions": by(
            ActionItem.group_id,
            func.count(),
            ActionItem.group_id.in_(ids),
            ActionItem.status == "done",
            ActionItem.done_at >= start,
            ActionItem.done_at < end,
        ),
        "rides": by(Meeting.group_id, func.count(), *held, RideRequest.status == "matched").join(
            RideRequest, RideRequest.meeting_id == Meeting.id
        ),
        "proposals": by(Proposal.group_id, func.count(), *made),
        "transmitted": by(Proposal.group_id, func.count(), *made, Proposal.state.in_(TRANSMITTED)),
        "taken": by(Proposal.group_id, func.count(), *made, Proposal.state.in_(TAKEN_INTO_ACCOUNT)),
    }


async def _zones(session: AsyncSession, ids: Select[Any]) -> list[str]:
    return list(await session.scalars(select(Group.timezone).where(Group.id.in_(ids)).distinct()))


def _in_zone(ids: Select[Any], zone: str) -> Select[Any]:
    return ids.where(Group.timezone == zone)


async def _per_zone(
    session: AsyncSession, ids: Select[Any], period: Period
) -> list[tuple[Select[Any], datetime, datetime]]:
    return [(_in_zone(ids, zone), *period.bounds(ZoneInfo(zone))) for zone in await _zones(session, ids)]


async def _figures(session: AsyncSession, ids: Select[Any], period: Period) -> dict[int, GroupLine]:
    """Every figure of the groups `ids` selects (a page's, a slice's)."""
    lines: dict[int, GroupLine] = {}
    for zone_ids, start, end in await _per_zone(session, ids, period):
        for figure, statement in _statements(zone_ids, start, end).items():
            for group_id, count in await session.execute(statement):
                line = lines.setdefault(group_id, GroupLine(group_id, ""))
                setattr(line, figure, getattr(line, figure) + int(count))
    return lines


# ----------------------------------------------------------------------------- the totals, kept
# The totals of every group kept cost a pass over the period's meetings of the whole department
# (about 0.1 s at 10,000 groups), the same for every page and every sort of one set of filters:
# kept until a figure may have changed. This process's writes to what the figures count bump
# CHANGES (SQLAlchemy's events below); another process's (several processes share PostgreSQL) are
# seen within KEEP_SECONDS.
FIGURE_TABLES = frozenset(
    table.__tablename__
    for table in (Meeting, Membership, Attendance, Poll, PollVote, ActionItem, RideRequest, Proposal, Group)
)
KEEP_SECONDS = 60.0
_KEPT_MAX = 64


@dataclass
class _Version:
    figures: int = 0


CHANGES = _Version()
_KEPT: dict[tuple[Any, ...], tuple[int, float, GroupLine]] = {}


@event.listens_for(Session, "before_flush")
def _flushed(session: Session, context: Any, instances: Any) -> None:
    for instance in (*session.new, *session.dirty, *session.deleted):
        if getattr(instance, "__tablename__", None) in FIGURE_TABLES:
            CHANGES.figures += 1
            return


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if state.is_select:
        return
    table = getattr(state.statement, "table", None)
    if table is None or getattr(table, "name", None) in FIGURE_TABLES:
        CHANGES.figures += 1  # an INSERT, UPDATE or DELETE statement on a counted table


Kept = TypeVar("Kept")


def _kept_key(session: AsyncSession, filters: Filters, among: Sequence[int] | None, period: Period) -> tuple[Any, ...]:
    # The database too: one process serves one, but tests and benches open several in turn.
    database = str(getattr(session.bind, "url", ""))
    return (database, filters, tuple(among) if among is not None else None, period.start, period.end)


async def _kept(
    store: dict[tuple[Any, ...], tuple[int, float, Kept]],
    most: int,
    key: tuple[Any, ...],
    compute: Callable[[], Awaitable[Kept]],
) -> Kept:
    """What `compute` gives, kept in `store` (at most `most` entries) until a figure may have
    changed (CHANGES) or KEEP_SECONDS have passed."""
    found = store.get(key)
    now = time.monotonic()
    if found is not None and found[0] == CHANGES.figures and found[1] > now:
        return found[2]
    version = CHANGES.figures
    value = await compute()
    if len(store) >= most:
        store.clear()
    store[key] = (version, now + KEEP_SECONDS, value)
    return value


async def kept_totals(
    session: AsyncSession, filters: Filters, among: Sequence[int] | None, period: Period
) -> GroupLine:
    """`totals` of the groups kept, computed again only once a figure may have changed."""
    key = _kept_key(session, filters, among, period)
    total = await _kept(_KEPT, _KEPT_MAX, key, lambda: totals(session, scope(filters, among), period))
    return copy.copy(total)


async def totals(session: AsyncSession, ids: Select[Any], period: Period) -> GroupLine:
    """The sum over every group `ids` selects: one row per figure and zone, summed in the database."""
    total = GroupLine(None, "")
    for zone_ids, start, end in await _per_zone(session, ids, period):
        for figure, statement in _statements(zone_ids, start, end).items():
            counted = statement.subquery()
            value = await session.scalar(select(func.coalesce(func.sum(counted.c.n), 0)))
            setattr(total, figure, getattr(total, figure) + int(value or 0))
    return total


async def _sort_value(
    session: AsyncSession, ids: Select[Any], period: Period, sort: str
) -> tuple[ColumnElement[Any], list[Any]] | None:
    """The figure to sort by, as a column beside each group (largest first), with the grouped
    statements to join for it; None: by name."""
    needed = {
        "reunions": ("meetings",),
        "presence": ("invited", "present"),
        "propositions": ("proposals",),
        "transmises": ("transmitted",),
        "prises": ("transmitted", "taken"),
        "contributions": ("proposals", "votes", "actions"),
        "trajets": ("rides",),
    }.get(sort)
    if needed is None:
        return None
    zones = await _per_zone(session, ids, period)
    columns: dict[str, Any] = {}
    for figure in needed:
        parts: list[Select[Any]] = [_statements(zone_ids, start, end)[figure] for zone_ids, start, end in zones]
        if not parts:  # no group kept: an empty column to join
            parts.append(typing.cast(Select[Any], select(literal(-1).label("group_id"), literal(0).label("n"))))
        unioned = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
        summed = select(unioned.c.group_id, func.sum(unioned.c.n).label("n")).group_by(unioned.c.group_id).subquery()
        columns[figure] = summed
    value: ColumnElement[Any]
    if sort == "presence":
        invited, present = columns["invited"].c.n, columns["present"].c.n
        value = case((func.coalesce(invited, 0) > 0, cast(func.coalesce(present, 0), Float) / invited), else_=-1.0)
    elif sort == "prises":
        transmitted, taken = columns["transmitted"].c.n, columns["taken"].c.n
        value = case(
            (func.coalesce(transmitted, 0) > 0, cast(func.coalesce(taken, 0), Float) / transmitted), else_=-1.0
        )
    else:
        value = sum((func.coalesce(columns[figure].c.n, 0) for figure in needed), literal(0))
    return value, list(columns.values())


# The order of every kept group by a figure costs that figure for every group (about 70 ms at
# 10,000): kept like the totals, so the next pages, and the CSV's slices, are a slice of it. By name
# no figure is needed: the database pages it directly. A few orders only (10,000 pairs each).
_ORDERS: dict[tuple[Any, ...], tuple[int, float, list[tuple[int, str]]]] = {}
_ORDERS_MAX = 8


async def _page_ids(
    session: AsyncSession,
    filters: Filters,
    among: Sequence[int] | None,
    period: Period,
    sort: str,
    offset: int,
    limit: int,
) -> list[tuple[int, str]]:
    if sort == "groupe":
        return await ordered_ids(session, scope(filters, among), period, sort, offset, limit)
    key = (*_kept_key(session, filters, among, period), sort)
    order = await _kept(
        _ORDERS, _ORDERS_MAX, key, lambda: ordered_ids(session, scope(filters, among), period, sort, 0, None)
    )
    return order[offset : offset + limit]


async def ordered_ids(
    session: AsyncSession, ids: Select[Any], period: Period, sort: str, offset: int, limit: int | None
) -> list[tuple[int, str]]:
    """A page of (id, name) in the sort's order: largest first for a figure, then by name."""
    found = await _sort_value(session, ids, period, sort)
    query = select(Group.id, _name()).where(Group.id.in_(ids))
    order: list[Any] = []
    if found is not None:
        value, subqueries = found
        for subquery in subqueries:
            query = query.outerjoin(subquery, subquery.c.group_id == Group.id)
        order.append(value.desc())
    order += [func.lower(_name()), Group.id]
    rows = await session.execute(query.order_by(*order).offset(offset).limit(limit))
    return [(group_id, name) for group_id, name in rows]


async def department_page(
    session: AsyncSession,
    period: Period,
    filters: Filters = Filters(),
    sort: str = "groupe",
    page: int = 1,
    among: Sequence[int] | None = None,
) -> DepartmentPage:
    """One page of the department's view, and the totals of every group the filters keep."""
    ids = scope(filters, among)
    count = int(await session.scalar(select(func.count()).select_from(ids.subquery())) or 0)
    pages = max(1, -(-count // PAGE_SIZE))
    page = min(max(1, page), pages)
    sort = sort if sort in SORTS else "groupe"
    shown = await _page_ids(session, filters, among, period, sort, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    lines = await _lines(session, shown, period)
    return DepartmentPage(lines, await kept_totals(session, filters, among, period), count, page, pages)


async def _lines(session: AsyncSession, shown: list[tuple[int, str]], period: Period) -> list[GroupLine]:
    if not shown:
        return []
    figures = await _figures(session, select(Group.id).where(Group.id.in_([i for i, _ in shown])), period)
    lines = []
    for group_id, name in shown:
        line = figures.get(group_id, GroupLine(group_id, ""))
        line.group_id, line.name = group_id, name
        lines.append(line)
    return lines


async def every_line(
    session: AsyncSession,
    period: Period,
    filters: Filters = Filters(),
    sort: str = "groupe",
    among: Sequence[int] | None = None,
) -> AsyncIterator[list[GroupLine]]:
    """Every group the filters keep, in the view's order, a slice at a time (the CSV, streamed)."""
    sort = sort if sort in SORTS else "groupe"
    offset = 0
    while True:
        shown = await _page_ids(session, filters, among, period, sort, offset, SLICE)
        if not shown:
            return
        yield await _lines(session, shown, period)
        offset += SLICE


async def territories(session: AsyncSession) -> list[str]:
    """The territories the department's groups are filed under (for the filter's choices)."""
    rows = await session.scalars(
        select(Group.territory).where(Group.active.is_(True), Group.territory.is_not(None)).distinct()
    )
    return sorted((t for t in rows if t), key=str.casefold)


def file_under(group: Group, territory: str) -> None:
    """A coordinator files the group under a territory (empty: none)."""
    group.territory = " ".join(territory.split())[:NAME_MAX] or None

"""The one rule of who facilitates a group, and who may see what.

A group's facilitators are its Telegram administrators and the current members it named with
/animateur. Whoever created a meeting also runs it: for that meeting they count as a facilitator
(the day-before list, the attendance checklist, the carpool alert). What members confide about
their absence (health, childcare) is seen by fewer: the group's Telegram administrators and the
meeting's creator, not members named with /animateur (who are told so when named).

Telegram administrators are not stored: callers pass the ids Telegram gave (`admin_ids`), or a
lookup that asks Telegram (`AdminLookup`, cached in bot/services.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.errors import RefusalError
from bot.domain.people import GROUP_ANONYMOUS_BOT, person_in_group
from storage.models import Group, Meeting, Membership, Person

AdminLookup = Callable[[int], Awaitable[frozenset[int]]]


def facilitates(telegram_id: int, membership: Membership | None, admin_ids: frozenset[int]) -> bool:
    """The rule: a Telegram administrator of the group, or a current member named facilitator."""
    if telegram_id in admin_ids:
        return True
    return membership is not None and membership.status == "member" and membership.named_facilitator


def runs_meeting(person: Person, membership: Membership | None, meeting: Meeting, admin_ids: frozenset[int]) -> bool:
    """Facilitators of the group, and whoever created this meeting."""
    return facilitates(person.telegram_id, membership, admin_ids) or person.id == meeting.created_by_id


async def is_facilitator(session: AsyncSession, group: Group, telegram_id: int, admins: AdminLookup) -> bool:
    """Whether this Telegram user facilitates the group (asks Telegram only when needed). A message
    from GroupAnonymousBot in the group is one of its anonymous administrators'."""
    if telegram_id == GROUP_ANONYMOUS_BOT:
        return True
    found = await person_in_group(session, group, telegram_id)
    if facilitates(telegram_id, found[1] if found else None, frozenset()):
        return True
    return telegram_id in await admins(group.chat_id)


async def may_run(session: AsyncSession, meeting: Meeting, group: Group, telegram_id: int, admins: AdminLookup) -> bool:
    """Whether this Telegram user runs the meeting (ticks attendance, gets the lists)."""
    if telegram_id == GROUP_ANONYMOUS_BOT:
        return True
    found = await person_in_group(session, group, telegram_id)
    if found is not None and runs_meeting(found[0], found[1], meeting, frozenset()):
        return True
    return telegram_id in await admins(group.chat_id)


async def _current_members(session: AsyncSession, group: Group) -> list[tuple[Person, Membership]]:
    rows = await session.execute(
        select(Person, Membership)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.group_id == group.id, Membership.status == "member")
        .order_by(Person.id)
    )
    return [(person, membership) for person, membership in rows]


async def meeting_runners(session: AsyncSession, meeting: Meeting, group: Group, admins: AdminLookup) -> list[Person]:
    """The current members who run the meeting (those who get its lists, in private)."""
    admin_ids = await admins(group.chat_id)
    rows = await _current_members(session, group)
    return [person for person, membership in rows if runs_meeting(person, membership, meeting, admin_ids)]


async def group_facilitators(session: AsyncSession, group: Group, admins: AdminLookup) -> list[Person]:
    """The current members who facilitate the group (its administrators and those it named)."""
    admin_ids = await admins(group.chat_id)
    rows = await _current_members(session, group)
    return [person for person, membership in rows if facilitates(person.telegram_id, membership, admin_ids)]


def nameable(people: list[Person], anonymous_ids: frozenset[int]) -> list[Person]:
    """Those who may be named where the group (or a newcomer) reads: not the administrators who
    chose to remain anonymous, whom Relais knows by their taps but must never unmask."""
    return [person for person in people if person.telegram_id not in anonymous_ids]


def reads_absence_reasons(person: Person, meeting: Meeting, admin_ids: frozenset[int]) -> bool:
    """Who may read why members cannot come (health among the reasons): the group's Telegram
    administrators and whoever created the meeting; not members named with /animateur."""
    return person.telegram_id in admin_ids or person.id == meeting.created_by_id


async def absence_reason_readers(
    session: AsyncSession, meeting: Meeting, group: Group, admins: AdminLookup
) -> list[Person]:
    """The current members who may read the meeting's absence reasons."""
    admin_ids = await admins(group.chat_id)
    runners = await meeting_runners(session, meeting, group, admins)
    return [person for person in runners if reads_absence_reasons(person, meeting, admin_ids)]


async def named_facilitators(session: AsyncSession, group: Group) -> list[Person]:
    """The members the group named with /animateur (administrators are facilitators too)."""
    return list(
        await session.scalars(
            select(Person)
            .join(Membership, Membership.person_id == Person.id)
            .where(
                Membership.group_id == group.id, Membership.named_facilitator.is_(True), Membership.status == "member"
            )
            .order_by(Person.first_name)
        )
    )


def name_facilitator(membership: Membership) -> None:
    """/animateur @pseudo: the member facilitates the group from now on."""
    if membership.status != "member":
        raise RefusalError("facilitator.not_member")
    if membership.named_facilitator:
        raise RefusalError("facilitator.already")
    membership.named_facilitator = True


def unname_facilitator(membership: Membership, telegram_id: int, admin_ids: frozenset[int]) -> None:
    """/animateur retirer @pseudo. An administrator stays a facilitator: that is Telegram's to change."""
    if membership.status != "member":
        raise RefusalError("facilitator.not_member")
    if not membership.named_facilitator:
        raise RefusalError("facilitator.is_admin" if telegram_id in admin_ids else "facilitator.was_not")
    membership.named_facilitator = False

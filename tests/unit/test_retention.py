"""The retention job: people who left their last group `privacy.retention_months` ago are erased
with what only they owned; what they made for the group stays, unsigned; nobody current, nobody
recent and no coordinator is touched; the report counts what went."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.domain.membership import add_months
from bot.domain.people import UserInfo, upsert_person
from bot.domain.retention import departed_people, forget_departed
from storage.models import Membership, Person, Proposal, Rsvp
from tests.support.world import NOW, make_group, make_meeting, make_members

LATER = add_months(NOW, 13)


async def test_people_who_left_long_ago_are_erased_and_no_one_else(session):
    group = await make_group(session)
    other = await make_group(session, chat_id=-2)
    gone, recent, current, both = await make_members(session, group, "Gone", "Recent", "Current", "Both")
    await make_members(session, other, "Both")
    meeting = await make_meeting(session, group, creator=gone)
    session.add(Rsvp(meeting_id=meeting.id, person_id=gone.id, answer="yes", answered_at=NOW))
    session.add(
        Proposal(group_id=group.id, number=1, text="Des bus", author_id=gone.id, created_at=NOW, state_changed_at=NOW)
    )
    memberships = {
        m.person_id: m for m in await session.scalars(select(Membership).where(Membership.group_id == group.id))
    }
    for person, left in ((gone, NOW), (recent, add_months(NOW, 3)), (both, NOW)):
        memberships[person.id].status, memberships[person.id].left_at = "left", left
    # Opened the private chat only: erased as long after; a coordinator never.
    await upsert_person(session, UserInfo(501, "Lone", None, "fr"), NOW)
    coordinator = await upsert_person(session, UserInfo(502, "Coord", None, "fr"), NOW)
    await session.flush()

    assert await departed_people(session, add_months(NOW, 11), 12) == []  # not a year yet
    report = await forget_departed(session, LATER, 12, keep=frozenset({coordinator.telegram_id}))
    await session.flush()

    names = set(await session.scalars(select(Person.first_name)))
    assert names == {"Recent", "Current", "Both", "Coord"}
    assert report.people == 2 and report.erased["people"] == 2
    assert report.erased["rsvps"] == 1 and report.erased["memberships"] == 1
    assert report.anonymised["proposals"] == 1 and report.anonymised["meetings"] == 1
    # The group keeps the proposal and the meeting, without the name.
    proposal = await session.scalar(select(Proposal))
    assert proposal is not None and proposal.author_id is None and proposal.text == "Des bus"
    assert await session.scalar(select(func.count()).select_from(Rsvp)) == 0
    assert "Gone" not in report.summary() and "rsvps 1" in report.summary()
    # A second run finds nobody; Recent goes once their year has passed.
    assert (await forget_departed(session, LATER, 12, keep=frozenset({502}))).people == 0
    later = await forget_departed(session, add_months(NOW, 16) + timedelta(days=1), 12, keep=frozenset({502}))
    assert later.people == 1


async def test_the_members_of_a_group_relais_left_are_erased_a_year_after_it_left(session):
    from bot.domain.groups import deactivate_group

    closed = await make_group(session, chat_id=-7)
    still = await make_group(session, chat_id=-8)
    alone, elsewhere = await make_members(session, closed, "Alone", "Elsewhere")
    await make_members(session, still, "Elsewhere")
    left_on = add_months(NOW, 2)
    await deactivate_group(session, closed.chat_id, left_on)  # the bot removed from the group
    await session.flush()
    assert await departed_people(session, add_months(left_on, 11), 12) == []  # not a year yet
    gone = await departed_people(session, add_months(left_on, 12) + timedelta(days=1), 12)
    assert [p.first_name for p in gone] == ["Alone"]  # still a member of a group Relais serves: kept

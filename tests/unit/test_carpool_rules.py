"""The carpool rules on every backend, without Telegram: nearest first within the radius, seats
held while a driver decides, refusals passed on, cancellations and moved meetings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import carpool as c
from bot.domain.meetings import create_meeting
from bot.domain.settings import MeetingsSection
from storage.models import Group, Person

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


async def world(session):
    group = Group(chat_id=-1, title="G", timezone="Europe/Paris", language="fr", active=True, created_at=NOW)
    session.add(group)
    await session.flush()
    meeting = await create_meeting(
        session, group, NOW + timedelta(days=10), "Salle", "Sujet", None, None, NOW, MeetingsSection()
    )
    places = {
        name: await c.add_place(session, group, c.PlaceSpec(name, lat, lon), NOW)
        for name, lat, lon in (
            ("Oyonnax", 46.2567, 5.6556),
            ("Bellignat", 46.2442, 5.6286),
            ("Nantua", 46.1533, 5.6086),
            ("Bourg", 46.2052, 5.2255),
        )
    }
    people = {}
    for i, name in enumerate(("Karim", "Sami", "Julie", "Lina", "Zoé")):
        people[name] = Person(telegram_id=100 + i, first_name=name, created_at=NOW, private_status="started")
        session.add(people[name])
    await session.flush()
    return group, meeting, places, people


async def test_nearest_free_offer_within_the_radius(session):
    group, meeting, places, people = await world(session)
    leave = meeting.starts_at - timedelta(minutes=45)
    karim = await c.create_offer(session, meeting, people["Karim"], places["Oyonnax"], 1, leave, NOW)
    sami = await c.create_offer(session, meeting, people["Sami"], places["Nantua"], 2, leave, NOW)
    julie = await c.create_request(session, meeting, people["Julie"], places["Bellignat"], NOW)
    assert await c.propose(session, julie, 15) == karim  # 2.5 km before 10 km
    lina = await c.create_request(session, meeting, people["Lina"], places["Oyonnax"], NOW)
    assert await c.propose(session, lina, 15) == sami  # Karim's only seat is held for Julie
    await c.refuse(session, julie, people["Karim"])
    assert await c.propose(session, julie, 15) == sami  # the next one; Karim is not asked again
    await c.accept(session, julie, people["Sami"], NOW)
    assert await c.free_seats(session, sami) == 0 and await c.free_seats(session, karim) == 1
    zoe = await c.create_request(session, meeting, people["Zoé"], places["Bourg"], NOW)
    assert await c.propose(session, zoe, 15) is None and zoe.status == "waiting"  # 30 km from everyone
    assert await c.propose(session, zoe, 40) == karim  # a wider radius finds one
    with pytest.raises(c.CarpoolError) as refused:
        await c.accept(session, zoe, people["Sami"], NOW)  # not Sami's to accept
    assert refused.value.key == "carpool.error.not_yours"


async def test_one_offer_or_request_per_person_and_seats_bounds(session):
    group, meeting, places, people = await world(session)
    leave = meeting.starts_at - timedelta(minutes=30)
    for seats in (0, 9):
        with pytest.raises(c.CarpoolError):
            await c.create_offer(session, meeting, people["Karim"], places["Oyonnax"], seats, leave, NOW)
    await c.create_offer(session, meeting, people["Karim"], places["Oyonnax"], 8, leave, NOW)
    for attempt in (
        c.create_request(session, meeting, people["Karim"], places["Oyonnax"], NOW),
        c.create_offer(session, meeting, people["Karim"], places["Nantua"], 2, leave, NOW),
    ):
        with pytest.raises(c.CarpoolError):
            await attempt
    with pytest.raises(c.CarpoolError) as late:
        await c.create_offer(session, meeting, people["Sami"], places["Nantua"], 2, meeting.starts_at, NOW)
    assert late.value.key == "carpool.error.after_start"


async def test_cancellations_and_moved_meetings(session):
    group, meeting, places, people = await world(session)
    leave = meeting.starts_at - timedelta(minutes=45)
    karim = await c.create_offer(session, meeting, people["Karim"], places["Oyonnax"], 2, leave, NOW)
    julie = await c.create_request(session, meeting, people["Julie"], places["Bellignat"], NOW)
    await c.propose(session, julie, 15)
    await c.accept(session, julie, people["Karim"], NOW)
    moved = await c.meeting_moved(session, meeting, timedelta(days=1, hours=1))
    assert [p.first_name for p, _ in moved.drivers] == ["Karim"] and [p.first_name for p, _ in moved.riders] == [
        "Julie"
    ]
    assert karim.departs_at == leave + timedelta(days=1, hours=1)
    freed = await c.cancel_offer(session, karim)
    assert freed == [julie] and julie.status == "waiting" and julie.offer_id is None
    sami = await c.create_offer(session, meeting, people["Sami"], places["Nantua"], 1, leave, NOW)
    assert await c.propose(session, julie, 15) == sami
    offer, previous = await c.cancel_request(session, julie)
    assert offer == sami and previous == "proposed" and await c.free_seats(session, sami) == 1
    ended = await c.meeting_cancelled(session, meeting)
    assert [p.first_name for p, _ in ended.drivers] == ["Sami"]
    assert (await c.board(session, meeting)) == []


async def test_towns_become_departure_points(session):
    group = Group(chat_id=-2, title="G", timezone="Europe/Paris", language="fr", active=True, created_at=NOW)
    session.add(group)
    await session.flush()
    # No point listed: a name shared far apart asks for the postal code, and adds nothing.
    found = await c.departure_from_town(session, group, "Saint-Denis", NOW)
    assert isinstance(found, list) and {commune.department for commune in found} >= {"93", "974", "11"}
    assert await c.group_places(session, group) == []
    assert await c.departure_from_town(session, group, "Atlantide", NOW) is None
    # A postal code shared by neighbours: the biggest becomes the first point.
    first = await c.departure_from_town(session, group, "01100", NOW)
    assert isinstance(first, tuple) and first[0].name == "Oyonnax" and first[1] == 0.0
    # Listed points: the nearest to the typed commune, not a new one; too far names none.
    nearest = await c.departure_from_town(session, group, "Arbent", NOW)
    assert isinstance(nearest, tuple) and nearest[0].name == "Oyonnax" and 1 < nearest[1] < 5
    assert await c.departure_from_town(session, group, "Paris", NOW) is None
    # A facilitator's town: one commune is added; a shared name adds nothing and offers the choice.
    added, choices = await c.add_town(session, group, "nantua", NOW)
    assert added is not None and added.name == "Nantua" and choices == []
    added, choices = await c.add_town(session, group, "Saint-Denis", NOW)
    assert added is None and len(choices) >= 4
    with pytest.raises(c.CarpoolError) as refused:
        await c.add_town(session, group, "Oyonnax", NOW)
    assert refused.value.key == "places.error.exists"
    assert [p.name for p in await c.group_places(session, group)] == ["Nantua", "Oyonnax"]
    # A shared location: the nearest listed point; for a group with none, the commune around it.
    other = Group(chat_id=-3, title="H", timezone="Europe/Paris", language="fr", active=True, created_at=NOW)
    session.add(other)
    await session.flush()
    assert await c.departure_from_location(session, other, 0.5, -30.0, NOW) is None  # the open sea
    around = await c.departure_from_location(session, other, 46.1561, 5.6071, NOW)
    assert around is not None and around[0].name == "Nantua" and around[1] < 2

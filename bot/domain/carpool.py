"""Carpooling to meetings: departure points, offers and requests, matching by distance, and what
changes when someone cancels or the meeting moves.

Contact details stay hidden until a driver accepts (as on Mobicoop). People's shared locations
are only used, in memory, to find the nearest departure point: never stored, never logged.
"""

from __future__ import annotations

import difflib
import logging
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import communes
from bot.domain.communes import Commune, haversine_km, town_key
from bot.domain.dates import normalise
from bot.domain.errors import RefusalError, folded_text
from bot.domain.meetings import is_open
from storage.db import get_row
from storage.models import Group, Meeting, Person, Place, RideOffer, RideRefusal, RideRequest

log = logging.getLogger(__name__)

SEATS_MIN, SEATS_MAX = 1, 8
PLACE_NAME_MAX = 60
PLACES_MAX = 50
FARTHEST_KM = 50  # a typed commune farther than this from every listed point names none of them
NEIGHBOURS_KM = 25  # communes this close, under one postal code, are one departure point as good as another
COMMUNE_RADIUS_KM = 20  # a shared location farther than this from any commune's centre is not in France
HELD = ("proposed", "matched")  # a request that holds a seat in an offer
LIVE_REQUEST = ("waiting", "proposed", "matched")
_COORDS_RE = re.compile(r"^\s*(-?\d{1,3}(?:[.,]\d+)?)\s*[,;\s]\s*(-?\d{1,3}(?:[.,]\d+)?)\s*$")
_SEATS_RE = re.compile(r"^\s*(\d{1,3})\s*(?:places?|sieges?)?\s*$")
_CLOCK_RE = re.compile(r"^\s*(\d{1,2})\s*(?:h|:)\s*(\d{2})?\s*$")


class CarpoolError(RefusalError):
    """A refusal with the message key that explains it."""


def place_distance(a: Place, b: Place) -> float:
    return haversine_km(a.latitude, a.longitude, b.latitude, b.longitude)


# ----------------------------------------------------------------------------- departure points
@dataclass(frozen=True)
class PlaceSpec:
    name: str
    latitude: float
    longitude: float


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def validate_coordinates(latitude: float, longitude: float) -> tuple[float, float]:
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180) or math.isnan(latitude) or math.isnan(longitude):
        raise CarpoolError("places.error.coordinates")
    return round(latitude, 5), round(longitude, 5)


def validate_place_name(name: str) -> str:
    return folded_text(name, PLACE_NAME_MAX, "places.error.name_empty", "places.error.name_long", CarpoolError)


def parse_place(text: str) -> PlaceSpec:
    """'Oyonnax | 46.2567, 5.6556' (a decimal comma works too). Raises CarpoolError."""
    name, bar, coordinates = text.rpartition("|")
    if not bar:
        raise CarpoolError("places.error.form")
    match = _COORDS_RE.match(coordinates)
    if match is None:
        raise CarpoolError("places.error.coordinates")
    latitude, longitude = validate_coordinates(_number(match.group(1)), _number(match.group(2)))
    return PlaceSpec(validate_place_name(name), latitude, longitude)


async def group_places(session: AsyncSession, group: Group) -> list[Place]:
    return list(
        await session.scalars(
            select(Place).where(Place.group_id == group.id, Place.active.is_(True)).order_by(Place.name_key)
        )
    )


async def add_place(session: AsyncSession, group: Group, spec: PlaceSpec, now: datetime) -> Place:
    key = town_key(spec.name)
    existing = await session.scalar(select(Place).where(Place.group_id == group.id, Place.name_key == key))
    if existing is not None and existing.active:
        raise CarpoolError("places.error.exists", name=existing.name)
    if len(await group_places(session, group)) >= PLACES_MAX:
        raise CarpoolError("places.error.too_many", limit=PLACES_MAX)
    if existing is not None:  # listed again after being removed: rides kept pointing at it
        existing.name, existing.latitude, existing.longitude, existing.active = (
            spec.name,
            spec.latitude,
            spec.longitude,
            True,
        )
        return existing
    place = Place(
        group_id=group.id,
        name=spec.name,
        name_key=key,
        latitude=spec.latitude,
        longitude=spec.longitude,
        active=True,
        created_at=now,
    )
    session.add(place)
    await session.flush()
    log.info("place %s added to group %s", place.id, group.id)
    return place


async def remove_place(session: AsyncSession, group: Group, name: str) -> Place:
    """Removed from the list; rides already given from it keep it."""
    place = await session.scalar(
        select(Place).where(Place.group_id == group.id, Place.name_key == town_key(name), Place.active.is_(True))
    )
    if place is None:
        raise CarpoolError("places.error.unknown", name=name[:PLACE_NAME_MAX])
    place.active = False
    return place


async def match_town(session: AsyncSession, group: Group, text: str) -> tuple[Place | None, list[Place]]:
    """A typed town: the listed point it names (accents and case ignored), or close spellings."""
    places = await group_places(session, group)
    key = town_key(text)
    for place in places:
        if place.name_key == key:
            return place, []
    keys = {place.name_key: place for place in places}
    close = difflib.get_close_matches(key, list(keys), n=3, cutoff=0.7)
    return None, [keys[found] for found in close]


def commune_spec(commune: Commune) -> PlaceSpec:
    return PlaceSpec(commune.name[:PLACE_NAME_MAX], *validate_coordinates(commune.latitude, commune.longitude))


async def add_town(session: AsyncSession, group: Group, text: str, now: datetime) -> tuple[Place | None, list[Commune]]:
    """ "/lieux Oyonnax", "/lieux 01100": the commune's centre becomes a departure point. When the
    text names several communes, nothing is added and they are returned, to choose from."""
    found = communes.find(validate_place_name(text))
    if len(found) == 1:
        return await add_place(session, group, commune_spec(found[0]), now), []
    return None, list(found)


async def departure_from_town(
    session: AsyncSession, group: Group, text: str, now: datetime
) -> tuple[Place, float] | list[Commune] | None:
    """A member's commune or postal code ("Oyonnax", "01100"): the listed point nearest to it and
    how far (km), within FARTHEST_KM. A group that lists no point yet takes the commune as its first one, if the text
    names only one (otherwise the communes are returned, for a postal code to tell them apart).
    None when the text names no commune."""
    found = communes.find(text)
    if not found:
        return None
    places = await group_places(session, group)
    if places:
        pairs = [(p, haversine_km(c.latitude, c.longitude, p.latitude, p.longitude)) for c in found for p in places]
        nearest = min(pairs, key=lambda pair: (pair[1], pair[0].id))
        return nearest if nearest[1] <= FARTHEST_KM else None  # "Paris", for a group in the Ain
    first = found[0]
    if any(haversine_km(first.latitude, first.longitude, c.latitude, c.longitude) > NEIGHBOURS_KM for c in found):
        return list(found)  # "Saint-Denis": which one, the postal code will tell
    # One commune, or neighbours sharing a postal code ("01100"): the biggest of them.
    return await add_place(session, group, commune_spec(first), now), 0.0


async def departure_from_location(
    session: AsyncSession, group: Group, latitude: float, longitude: float, now: datetime
) -> tuple[Place, float] | None:
    """A shared location: the nearest listed point, or, when the group lists none, the commune
    around it becomes the first. The location itself is forgotten."""
    places = await group_places(session, group)
    if places:
        return nearest_place(places, latitude, longitude)
    commune, km = communes.nearest(latitude, longitude)
    if km > COMMUNE_RADIUS_KM:  # not in France: nothing to offer
        return None
    place = await add_place(session, group, commune_spec(commune), now)
    return place, km


def nearest_place(places: list[Place], latitude: float, longitude: float) -> tuple[Place, float] | None:
    """The listed point nearest to a shared location (which is then forgotten)."""
    if not places:
        return None
    found = min(
        places, key=lambda place: (haversine_km(latitude, longitude, place.latitude, place.longitude), place.id)
    )
    return found, haversine_km(latitude, longitude, found.latitude, found.longitude)


# ----------------------------------------------------------------------------- offers and requests
def parse_seats(text: str) -> int:
    match = _SEATS_RE.match(normalise(text))
    if match is None or not SEATS_MIN <= int(match.group(1)) <= SEATS_MAX:
        raise CarpoolError("carpool.error.seats", low=SEATS_MIN, high=SEATS_MAX)
    return int(match.group(1))


def parse_departure(text: str, meeting: Meeting, zone: ZoneInfo, now: datetime) -> datetime:
    """'13h15' on the meeting's day, before it starts and not already past."""
    match = _CLOCK_RE.match(normalise(text))
    if match is None or int(match.group(1)) > 23 or int(match.group(2) or 0) > 59:
        raise CarpoolError("carpool.error.time")
    day = meeting.starts_at.astimezone(zone).date()
    departs = datetime.combine(day, time(int(match.group(1)), int(match.group(2) or 0)), zone).astimezone(
        meeting.starts_at.tzinfo
    )
    return validate_departure(departs, meeting, now)


def validate_departure(departs: datetime, meeting: Meeting, now: datetime) -> datetime:
    if departs >= meeting.starts_at:
        raise CarpoolError("carpool.error.after_start")
    if departs <= now or meeting.starts_at - departs > timedelta(hours=4):
        raise CarpoolError("carpool.error.time")
    return departs


async def live_offer(session: AsyncSession, meeting: Meeting, person: Person) -> RideOffer | None:
    return await session.scalar(
        select(RideOffer).where(
            RideOffer.meeting_id == meeting.id, RideOffer.driver_id == person.id, RideOffer.status == "open"
        )
    )


async def live_request(session: AsyncSession, meeting: Meeting, person: Person) -> RideRequest | None:
    return await session.scalar(
        select(RideRequest).where(
            RideRequest.meeting_id == meeting.id,
            RideRequest.person_id == person.id,
            RideRequest.status.in_(LIVE_REQUEST),
        )
    )


async def _check_free(session: AsyncSession, meeting: Meeting, person: Person, now: datetime) -> None:
    if not is_open(meeting, now):
        raise CarpoolError("carpool.error.meeting_closed", number=meeting.number)
    if await live_offer(session, meeting, person) is not None:
        raise CarpoolError("carpool.error.already_offering", number=meeting.number)
    if await live_request(session, meeting, person) is not None:
        raise CarpoolError("carpool.error.already_asking", number=meeting.number)


async def create_offer(
    session: AsyncSession,
    meeting: Meeting,
    driver: Person,
    place: Place,
    seats: int,
    departs_at: datetime,
    now: datetime,
) -> RideOffer:
    await _check_free(session, meeting, driver, now)
    if not SEATS_MIN <= seats <= SEATS_MAX:
        raise CarpoolError("carpool.error.seats", low=SEATS_MIN, high=SEATS_MAX)
    validate_departure(departs_at, meeting, now)
    offer = RideOffer(
        meeting_id=meeting.id,
        driver_id=driver.id,
        place_id=place.id,
        seats=seats,
        departs_at=departs_at,
        status="open",
        created_at=now,
    )
    session.add(offer)
    await session.flush()
    log.info("ride offer %s for meeting %s", offer.id, meeting.id)
    return offer


async def create_request(
    session: AsyncSession, meeting: Meeting, person: Person, place: Place, now: datetime
) -> RideRequest:
    await _check_free(session, meeting, person, now)
    request = RideRequest(
        meeting_id=meeting.id, person_id=person.id, place_id=place.id, status="waiting", created_at=now
    )
    session.add(request)
    await session.flush()
    log.info("ride request %s for meeting %s", request.id, meeting.id)
    return request


async def taken_seats(session: AsyncSession, offer: RideOffer) -> int:
    return (
        await session.scalar(
            select(func.count())
            .select_from(RideRequest)
            .where(RideRequest.offer_id == offer.id, RideRequest.status.in_(HELD))
        )
        or 0
    )


async def free_seats(session: AsyncSession, offer: RideOffer) -> int:
    return offer.seats - await taken_seats(session, offer)


async def best_offer(session: AsyncSession, request: RideRequest, radius_km: float) -> tuple[RideOffer, float] | None:
    """The nearest open offer with a free seat within the radius, that has not said no to this
    request, from someone else."""
    start = await get_row(session, Place, request.place_id)
    refused = select(RideRefusal.offer_id).where(RideRefusal.request_id == request.id)
    rows = await session.execute(
        select(RideOffer, Place)
        .join(Place, Place.id == RideOffer.place_id)
        .where(
            RideOffer.meeting_id == request.meeting_id,
            RideOffer.status == "open",
            RideOffer.driver_id != request.person_id,
            RideOffer.id.not_in(refused),
        )
        .order_by(RideOffer.id)
    )
    candidates = sorted(
        (
            (place_distance(start, place), offer.id, offer)
            for offer, place in rows
            if place_distance(start, place) <= radius_km
        ),
        key=lambda item: (item[0], item[1]),
    )
    if not candidates:
        return None
    # Seats taken in every candidate at once, rather than one query per offer.
    taken = dict(
        (
            await session.execute(
                select(RideRequest.offer_id, func.count())
                .where(RideRequest.offer_id.in_([offer.id for _, _, offer in candidates]), RideRequest.status.in_(HELD))
                .group_by(RideRequest.offer_id)
            )
        ).all()
    )
    for distance, _, offer in candidates:
        if offer.seats - taken.get(offer.id, 0) > 0:
            return offer, distance
    return None


async def propose(session: AsyncSession, request: RideRequest, radius_km: float) -> RideOffer | None:
    """Ask the best offer (the seat is held meanwhile); the request waits when there is none."""
    found = await best_offer(session, request, radius_km)
    if found is None:
        request.status, request.offer_id = "waiting", None
        return None
    request.status, request.offer_id = "proposed", found[0].id
    await session.flush()
    return found[0]


async def waiting_requests(session: AsyncSession, meeting: Meeting) -> list[RideRequest]:
    return list(
        await session.scalars(
            select(RideRequest)
            .where(RideRequest.meeting_id == meeting.id, RideRequest.status == "waiting")
            .order_by(RideRequest.created_at, RideRequest.id)
        )
    )


async def accept(session: AsyncSession, request: RideRequest, driver: Person, now: datetime) -> RideOffer:
    offer = await _proposed_offer(session, request, driver)
    request.status, request.matched_at = "matched", now
    log.info("ride request %s matched", request.id)
    return offer


async def refuse(session: AsyncSession, request: RideRequest, driver: Person) -> RideOffer:
    offer = await _proposed_offer(session, request, driver)
    await pass_on(session, request, offer)
    return offer


async def pass_on(session: AsyncSession, request: RideRequest, offer: RideOffer) -> None:
    """The offer will not take this request (a no, or a driver who cannot be reached)."""
    exists = await session.scalar(
        select(RideRefusal.id).where(RideRefusal.request_id == request.id, RideRefusal.offer_id == offer.id)
    )
    if exists is None:
        session.add(RideRefusal(request_id=request.id, offer_id=offer.id))
    request.status, request.offer_id = "waiting", None
    await session.flush()


async def _proposed_offer(session: AsyncSession, request: RideRequest, driver: Person) -> RideOffer:
    offer = await session.get(RideOffer, request.offer_id) if request.offer_id else None
    if offer is None or offer.driver_id != driver.id:
        raise CarpoolError("carpool.error.not_yours")
    if request.status != "proposed" or offer.status != "open":
        raise CarpoolError("carpool.error.stale")
    return offer


async def passengers(
    session: AsyncSession, offer: RideOffer, statuses: tuple[str, ...] = ("matched",)
) -> list[RideRequest]:
    return list(
        await session.scalars(
            select(RideRequest)
            .where(RideRequest.offer_id == offer.id, RideRequest.status.in_(statuses))
            .order_by(RideRequest.id)
        )
    )


async def cancel_offer(session: AsyncSession, offer: RideOffer) -> list[RideRequest]:
    """The driver cannot go: their passengers (and the request they were asked about) are freed
    and go back in the queue; returns them."""
    if offer.status != "open":
        raise CarpoolError("carpool.error.stale")
    offer.status = "cancelled"
    freed = await passengers(session, offer, HELD)
    for request in freed:
        await pass_on(session, request, offer)
    log.info("ride offer %s cancelled", offer.id)
    return freed


def unmatch(request: RideRequest) -> bool:
    """After a driver cancelled: whether this passenger had a seat (and must be told it is gone);
    their request waits again, as if never matched."""
    if request.status == "waiting" and request.matched_at is not None:
        request.matched_at = None
        return True
    return False


async def cancel_request(session: AsyncSession, request: RideRequest) -> tuple[RideOffer | None, str]:
    """The passenger no longer needs a seat: it is freed; returns the offer and the old status."""
    if request.status not in LIVE_REQUEST:
        raise CarpoolError("carpool.error.stale")
    previous, offer = request.status, await session.get(RideOffer, request.offer_id) if request.offer_id else None
    request.status = "cancelled"
    log.info("ride request %s cancelled", request.id)
    return offer, previous


# ----------------------------------------------------------------------------- the meeting changes
@dataclass
class Affected:
    """People whose ride a meeting change touches: drivers with their new departure, passengers."""

    drivers: list[tuple[Person, RideOffer]] = field(default_factory=list)
    riders: list[tuple[Person, RideRequest]] = field(default_factory=list)


async def _affected(session: AsyncSession, meeting: Meeting) -> Affected:
    found = Affected()
    for offer in await session.scalars(
        select(RideOffer).where(RideOffer.meeting_id == meeting.id, RideOffer.status == "open").order_by(RideOffer.id)
    ):
        found.drivers.append((await get_row(session, Person, offer.driver_id), offer))
    for request in await session.scalars(
        select(RideRequest)
        .where(RideRequest.meeting_id == meeting.id, RideRequest.status.in_(LIVE_REQUEST))
        .order_by(RideRequest.id)
    ):
        found.riders.append((await get_row(session, Person, request.person_id), request))
    return found


async def meeting_moved(session: AsyncSession, meeting: Meeting, delta: timedelta) -> Affected:
    """Departures move with the meeting (same time before the start); everyone is told."""
    found = await _affected(session, meeting)
    for _, offer in found.drivers:
        offer.departs_at = offer.departs_at + delta
    return found


async def meeting_cancelled(session: AsyncSession, meeting: Meeting) -> Affected:
    """Every ride ends with the meeting."""
    found = await _affected(session, meeting)
    live = (
        (RideOffer, RideOffer.status == "open"),
        (RideRequest, RideRequest.status.in_(LIVE_REQUEST)),
    )
    for model, condition in live:
        await session.execute(update(model).where(model.meeting_id == meeting.id, condition).values(status="cancelled"))
    return found


# ----------------------------------------------------------------------------- boards, reminders, indicators
@dataclass
class PlaceCounts:
    place: str
    seats: int = 0
    free: int = 0
    requests: int = 0


async def board(session: AsyncSession, meeting: Meeting) -> list[PlaceCounts]:
    """Counts per departure point, never names: what the group is told."""
    counts: dict[int, PlaceCounts] = {}
    places: dict[int, Place] = {}

    async def entry(place_id: int) -> PlaceCounts:
        if place_id not in counts:
            places[place_id] = await get_row(session, Place, place_id)
            counts[place_id] = PlaceCounts(place=places[place_id].name)
        return counts[place_id]

    for offer in await session.scalars(
        select(RideOffer).where(RideOffer.meeting_id == meeting.id, RideOffer.status == "open")
    ):
        found = await entry(offer.place_id)
        found.seats += offer.seats
        found.free += await free_seats(session, offer)
    for request in await session.scalars(
        select(RideRequest).where(RideRequest.meeting_id == meeting.id, RideRequest.status.in_(("waiting", "proposed")))
    ):
        (await entry(request.place_id)).requests += 1
    return sorted(counts.values(), key=lambda item: normalise(item.place))


async def unmatched(session: AsyncSession, meeting: Meeting) -> list[tuple[Person, Place]]:
    rows = await session.execute(
        select(Person, Place)
        .join(RideRequest, RideRequest.person_id == Person.id)
        .join(Place, Place.id == RideRequest.place_id)
        .where(RideRequest.meeting_id == meeting.id, RideRequest.status.in_(("waiting", "proposed")))
        .order_by(RideRequest.id)
    )
    return [(person, place) for person, place in rows]


async def matched_rides(
    session: AsyncSession, meeting: Meeting
) -> list[tuple[RideOffer, Person, Place, list[tuple[Person, Place]]]]:
    """Each open offer with accepted passengers: (offer, driver, its point, [(passenger, their point)])."""
    rides = []
    for offer in await session.scalars(
        select(RideOffer).where(RideOffer.meeting_id == meeting.id, RideOffer.status == "open").order_by(RideOffer.id)
    ):
        riders = [
            (await get_row(session, Person, r.person_id), await get_row(session, Place, r.place_id))
            for r in await passengers(session, offer)
        ]
        if riders:
            rides.append(
                (
                    offer,
                    await get_row(session, Person, offer.driver_id),
                    await get_row(session, Place, offer.place_id),
                    riders,
                )
            )
    return rides


@dataclass
class RideFigures:
    meeting: Meeting
    offers: int
    seats: int
    requests: int
    matched: int
    unmet: int


async def figures(session: AsyncSession, group: Group, limit: int = 6) -> list[RideFigures]:
    """Per meeting with any carpool activity, the latest first: for the reports."""
    # Three statements whatever the group's age: offers and requests counted per meeting at once.
    offers = {
        meeting_id: (count, seats or 0)
        for meeting_id, count, seats in await session.execute(
            select(RideOffer.meeting_id, func.count(), func.sum(RideOffer.seats))
            .join(Meeting, Meeting.id == RideOffer.meeting_id)
            .where(Meeting.group_id == group.id, RideOffer.status == "open")
            .group_by(RideOffer.meeting_id)
        )
    }
    requests = {
        meeting_id: (count, matched or 0)
        for meeting_id, count, matched in await session.execute(
            select(
                RideRequest.meeting_id,
                func.count(),
                func.sum(case((RideRequest.status == "matched", 1), else_=0)),
            )
            .join(Meeting, Meeting.id == RideRequest.meeting_id)
            .where(Meeting.group_id == group.id, RideRequest.status != "cancelled")
            .group_by(RideRequest.meeting_id)
        )
    }
    active = set(offers) | set(requests)
    if not active:
        return []
    meetings = await session.scalars(
        select(Meeting).where(Meeting.id.in_(active)).order_by(Meeting.starts_at.desc()).limit(limit)
    )
    found = []
    for meeting in meetings:
        offered, seats = offers.get(meeting.id, (0, 0))
        asked, matched = requests.get(meeting.id, (0, 0))
        found.append(RideFigures(meeting, offered, int(seats), asked, int(matched), asked - int(matched)))
    return found


async def held_by_unreachable(
    session: AsyncSession, now: datetime
) -> list[tuple[RideRequest, RideOffer, Meeting, Group]]:
    """Requests offered to a driver who cannot be written to any more (they blocked the bot, or
    paused its messages), for meetings still ahead: the seat is held for nothing."""
    rows = await session.execute(
        select(RideRequest, RideOffer, Meeting, Group)
        .join(RideOffer, RideOffer.id == RideRequest.offer_id)
        .join(Person, Person.id == RideOffer.driver_id)
        .join(Meeting, Meeting.id == RideRequest.meeting_id)
        .join(Group, Group.id == Meeting.group_id)
        .where(
            RideRequest.status == "proposed",
            Meeting.status == "scheduled",
            Meeting.starts_at > now,
            Group.active.is_(True),
            (Person.private_status != "started") | Person.private_paused.is_(True),
        )
        .order_by(RideRequest.id)
    )
    return [(request, offer, meeting, group) for request, offer, meeting, group in rows]

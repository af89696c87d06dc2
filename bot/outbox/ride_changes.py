"""Ride notices, durable (bot/outbox/notices.py): people in a ride are told when its meeting moves
or is cancelled; a request is offered to the nearest driver who can be asked; a request held by a
driver who turned out to be unreachable (Telegram answered 403) goes to the next one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup

from bot.domain import carpool as c
from bot.outbox.sending import later_to_person, to_person
from bot.ui.carpool import clock_text, meeting_label, request_keyboard, request_to_driver
from bot.ui.i18n import pick_language, t
from storage.db import get_row
from storage.models import Group, Meeting, Person, Place, RideOffer, RideRequest

# to_person (in an update) or later_to_person (in a job)
Tell = Callable[[AsyncSession, Person, str, str, datetime, InlineKeyboardMarkup | None], bool]


async def ask_drivers(
    session: AsyncSession,
    group: Group,
    meeting: Meeting,
    request: RideRequest,
    radius_km: float,
    now: datetime,
    tell: Tell = to_person,
) -> RideOffer | None:
    """Ask the nearest driver with a free seat; one who cannot be written to passes it on."""
    rider = await get_row(session, Person, request.person_id)
    pickup = await get_row(session, Place, request.place_id)
    for _ in range(50):
        offer = await c.propose(session, request, radius_km)
        if offer is None:
            return None
        driver = await get_row(session, Person, offer.driver_id)
        language = pick_language(driver.language_code, group.language)
        km = c.place_distance(pickup, await get_row(session, Place, offer.place_id))
        text = request_to_driver(language, group, meeting, rider, pickup, km)
        if tell(session, driver, text, "ride_asked", now, request_keyboard(language, request)):
            return offer
        await c.pass_on(session, request, offer)
    return None


async def pass_on_unreachable(session: AsyncSession, now: datetime, radius_km: float) -> int:
    """Requests held by a driver Telegram refused to reach since they were asked: the next driver
    is asked (from the dispatcher run). Returns how many requests moved on."""
    moved = 0
    for request, offer, meeting, group in await c.held_by_unreachable(session, now):
        await c.pass_on(session, request, offer)
        await ask_drivers(session, group, meeting, request, radius_km, now, later_to_person)
        moved += 1
    return moved


async def tell_rides_changed(
    session: AsyncSession, group: Group, meeting: Meeting, moved_by: timedelta | None, now: datetime
) -> None:
    """A moved meeting moves its departures; a cancelled one ends every ride. People in a ride
    are told in private."""
    affected = await (
        c.meeting_moved(session, meeting, moved_by) if moved_by is not None else c.meeting_cancelled(session, meeting)
    )
    for driver, offer in affected.drivers:
        language = pick_language(driver.language_code, group.language)
        label = meeting_label(language, group, meeting)
        text = (
            t(language, "carpool.moved_driver", meeting=label, time=clock_text(offer.departs_at, group, language))
            if moved_by is not None
            else t(language, "carpool.cancelled_ride", meeting=label)
        )
        to_person(session, driver, text, "ride_changed", now)
    for rider, request in affected.riders:
        language = pick_language(rider.language_code, group.language)
        label = meeting_label(language, group, meeting)
        if moved_by is None:
            text = t(language, "carpool.cancelled_ride", meeting=label)
        elif request.status == "matched":
            offer = await get_row(session, RideOffer, request.offer_id)
            text = t(language, "carpool.moved_rider", meeting=label, time=clock_text(offer.departs_at, group, language))
        else:
            text = t(language, "carpool.moved_waiting", meeting=label)
        to_person(session, rider, text, "ride_changed", now)

"""People in a ride are told when its meeting moves or is cancelled: durable notices, written with
the change and sent after the commit (bot/outbox/notices.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import carpool as c
from bot.outbox.sending import to_person
from bot.ui.carpool import clock_text, meeting_label
from bot.ui.i18n import pick_language, t
from storage.db import get_row
from storage.models import Group, Meeting, RideOffer


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

"""Carpool texts and buttons, shared by handlers and jobs.

Callback data (ids only; every press is checked again):
  car:<meeting id>:<o|r>          start an offer / a request
  cpp:<meeting id>:<place id>     departure point      cps:<meeting id>:<seats>   seats
  cpt:<meeting id>:<minutes>      departure, minutes before the start
  ride:<request id>:<a|r>         the driver accepts / refuses
  cxo:<offer id>  cxr:<request id>  cancel an offer / a request
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.carpool import SEATS_MAX, SEATS_MIN, PlaceCounts, RideFigures
from bot.ui import callbacks as cb
from bot.ui.i18n import Markup, plain, t, tn
from bot.ui.meetings import clock, rsvp_keyboard, when_text
from bot.ui.mentions import mention
from storage.models import Group, Meeting, Person, Place, RideOffer, RideRequest

DEPARTURE_CHOICES = (60, 45, 30)  # minutes before the start, offered as buttons


def clock_text(moment: datetime, group: Group, language: str) -> str:
    return clock(moment.astimezone(ZoneInfo(group.timezone)), language)


def contact(person: Person) -> Markup:
    """A link that opens a private chat with the person, shown only once a ride is accepted."""
    link: str = mention(person.telegram_id, person.first_name)
    if person.username:
        link += f" @{html.escape(person.username, quote=False)}"
    return Markup(link)


def _car_buttons(language: str, meeting: Meeting) -> list[InlineKeyboardButton]:
    return [
        cb.key(plain(language, "button.car_offer"), cb.Carpool(meeting.id, "o")),
        cb.key(plain(language, "button.car_request"), cb.Carpool(meeting.id, "r")),
    ]


def car_keyboard(language: str, meeting: Meeting) -> InlineKeyboardMarkup:
    """🚗 / 🙋 on their own (the board)."""
    return InlineKeyboardMarkup([_car_buttons(language, meeting)])


def request_only_keyboard(language: str, meeting: Meeting) -> InlineKeyboardMarkup:
    """🙋 alone (after "Transport" as the reason for not coming)."""
    return InlineKeyboardMarkup([_car_buttons(language, meeting)[1:]])


def _listing(title: str, empty: str, lines: list[str], *after: str) -> str:
    """A title, then the lines (or what says there are none), then what follows."""
    return "\n".join([title, *(lines or [empty]), *after])


def board_text(language: str, group: Group, meeting: Meeting, counts: list[PlaceCounts]) -> str:
    lines = [
        t(
            language,
            "carpool.board_line",
            place=c.place,
            seats=tn(language, "carpool.seats_offered", c.seats),
            free=tn(language, "carpool.seats_free", c.free),
            requests=tn(language, "carpool.requests_waiting", c.requests),
        )
        for c in counts
    ]
    return _listing(
        t(language, "carpool.board_title", meeting=meeting_label(language, group, meeting)),
        t(language, "carpool.board_empty"),
        lines,
        t(language, "carpool.board_hint"),
    )


def place_keyboard(meeting: Meeting, places: list[Place]) -> InlineKeyboardMarkup:
    buttons = [cb.key(place.name[:40], cb.CarpoolPlace(meeting.id, place.id)) for place in places[:30]]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def seats_keyboard(meeting: Meeting) -> InlineKeyboardMarkup:
    buttons = [cb.key(str(n), cb.CarpoolSeats(meeting.id, n)) for n in range(SEATS_MIN, SEATS_MAX + 1)]
    return InlineKeyboardMarkup([buttons[:4], buttons[4:]])


def time_keyboard(language: str, group: Group, meeting: Meeting, now: datetime) -> InlineKeyboardMarkup | None:
    buttons = [
        cb.key(
            clock_text(meeting.starts_at - timedelta(minutes=minutes), group, language),
            cb.CarpoolDeparture(meeting.id, minutes),
        )
        for minutes in DEPARTURE_CHOICES
        if meeting.starts_at - timedelta(minutes=minutes) > now
    ]
    # None when every choice is past (the meeting is near): Telegram refuses an empty keyboard, and
    # the departure time can still be typed.
    return InlineKeyboardMarkup([buttons]) if buttons else None


def meeting_label(language: str, group: Group, meeting: Meeting) -> str:
    """ "la réunion du jeudi 12 décembre à 14h (Centre social)": participants read meetings by
    their day, time and place; numbers are for facilitators' commands."""
    return plain(
        language,
        "carpool.meeting_label",
        when=when_text(meeting.starts_at, group.timezone, language),
        place=meeting.place,
    )


def seats_text(language: str, seats: int) -> str:
    return tn(language, "carpool.seats", seats)


def distance_text(language: str, km: float) -> str:
    """ "tout près" under a kilometre, "à 3 km" otherwise."""
    return plain(language, "carpool.near") if km < 1 else tn(language, "carpool.km", round(km))


def request_to_driver(language: str, group: Group, meeting: Meeting, rider: Person, pickup: Place, km: float) -> str:
    return t(
        language,
        "carpool.to_driver",
        name=rider.first_name,
        place=pickup.name,
        distance=distance_text(language, km),
        meeting=meeting_label(language, group, meeting),
    )


def request_keyboard(language: str, request: RideRequest) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                cb.key(plain(language, "button.ride_accept"), cb.RideDecision(request.id, "a")),
                cb.key(plain(language, "button.ride_refuse"), cb.RideDecision(request.id, "r")),
            ]
        ]
    )


def with_coming(language: str, meeting: Meeting, markup: InlineKeyboardMarkup) -> InlineKeyboardMarkup:
    """A ride is a reason to come: "✅ Je viens" above the ride's own buttons, one tap away."""
    return InlineKeyboardMarkup([[rsvp_keyboard(language, meeting).inline_keyboard[0][0]], *markup.inline_keyboard])


def cancel_offer_keyboard(language: str, offer: RideOffer) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[cb.key(plain(language, "button.cancel_offer"), cb.CancelOffer(offer.id))]])


def cancel_request_keyboard(language: str, request: RideRequest) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[cb.key(plain(language, "button.cancel_request"), cb.CancelRequest(request.id))]])


def match_text(
    language: str, group: Group, meeting: Meeting, offer: RideOffer, other: Person, pickup: Place, for_driver: bool
) -> str:
    key = "carpool.matched_driver" if for_driver else "carpool.matched_rider"
    return t(
        language,
        key,
        contact=contact(other),
        place=pickup.name,
        time=clock_text(offer.departs_at, group, language),
        meeting=meeting_label(language, group, meeting),
    )


def driver_reminder(
    language: str, group: Group, meeting: Meeting, offer: RideOffer, start: Place, riders: list[tuple[Person, Place]]
) -> str:
    names = Markup(
        ", ".join(
            t(language, "carpool.rider_at", contact=contact(person), place=place.name) for person, place in riders
        )
    )
    return t(
        language,
        "carpool.reminder_driver",
        meeting=meeting_label(language, group, meeting),
        place=start.name,
        time=clock_text(offer.departs_at, group, language),
        riders=names,
    )


def rider_reminder(
    language: str, group: Group, meeting: Meeting, offer: RideOffer, driver: Person, pickup: Place
) -> str:
    return t(
        language,
        "carpool.reminder_rider",
        meeting=meeting_label(language, group, meeting),
        contact=contact(driver),
        place=pickup.name,
        time=clock_text(offer.departs_at, group, language),
    )


def unmatched_text(language: str, group: Group, meeting: Meeting, waiting: list[tuple[Person, Place]]) -> str:
    names = ", ".join(
        plain(language, "carpool.unmatched_line", name=person.first_name, place=place.name) for person, place in waiting
    )
    return t(
        language,
        "carpool.unmatched",
        group=group.display_name,
        meeting=meeting_label(language, group, meeting),
        names=names,
    )


def figures_text(language: str, group: Group, rows: list[RideFigures]) -> str:
    lines = [
        t(
            language,
            "carpool.figures_line",
            meeting=meeting_label(language, group, row.meeting),
            offers=row.offers,
            seats=row.seats,
            requests=row.requests,
            matched=row.matched,
            unmet=row.unmet,
        )
        for row in rows
    ]
    return _listing(t(language, "carpool.figures_title"), t(language, "carpool.figures_none"), lines)

"""Carpooling: 🚗 / 🙋 under meeting messages and /covoiturage start a private dialogue (departure
point, then seats and time for an offer); requests are offered to the nearest driver with free
seats, who accepts or refuses; contacts are exchanged only on acceptance. Departure points are
kept by /lieux (handlers/places.py) or come from members' communes. The group only ever sees
counts."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from telegram import (
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
)

from bot.domain import carpool as c
from bot.domain import meetings as m
from bot.domain.communes import postal_example, town_key
from bot.domain.deeplinks import CAR_OFFER, CAR_REQUEST, group_payload, start_url
from bot.domain.dialogues import Dialogue
from bot.domain.errors import RefusalError
from bot.domain.groups import find_group_by_id
from bot.domain.people import find_person, person_in_group
from bot.services import db, services
from bot.ui import callbacks as cb
from bot.ui.carpool import (
    board_text,
    cancel_offer_keyboard,
    cancel_request_keyboard,
    car_keyboard,
    clock_text,
    distance_text,
    match_text,
    meeting_label,
    place_keyboard,
    seats_keyboard,
    seats_text,
    time_keyboard,
    with_coming,
)
from bot.ui.i18n import pick_language, plain, t
from handlers.common import (
    Context,
    answer,
    ask_drivers,
    button_member,
    edit_tapped,
    language_for,
    message_of,
    next_meeting_here,
    notify,
    on_link,
    person_language,
    query_of,
    reply,
    say,
    tapped,
    user_of,
)
from handlers.common import dialogue_router as router
from storage.db import get_row
from storage.models import Group, Meeting, Person, Place, RideOffer, RideRequest

log = logging.getLogger(__name__)
DIALOGUE = "carpool"  # in private: {"ride": "o"|"r", "meeting_id", "place_id", "seats"}; place, seats, time
KINDS = {"o": CAR_OFFER, "r": CAR_REQUEST}


async def _member(group: Group, telegram_id: int) -> Person | None:
    found = await person_in_group(db(), group, telegram_id)
    return found[0] if found and found[1].status == "member" else None


# ----------------------------------------------------------------------------- starting a dialogue
async def ask_departure(context: Context, person: Person, group: Group, meeting: Meeting, kind: str) -> None:
    """The first question in private: where do you leave from?"""
    language = person_language(person, group)
    now = services(context).clock.now()
    places = await c.group_places(db(), group)
    if not m.is_open(meeting, now):
        say(person.telegram_id, t(language, "carpool.error.meeting_closed", number=meeting.number))
        return
    offer, request = await c.live_offer(db(), meeting, person), await c.live_request(db(), meeting, person)
    if offer is not None or request is not None:  # one ride per person and meeting: say which, and how to undo it
        key = "carpool.error.already_offering" if offer is not None else "carpool.error.already_asking"
        if offer is not None:
            markup = cancel_offer_keyboard(language, offer)
        elif request is not None:
            markup = cancel_request_keyboard(language, request)
        say(person.telegram_id, t(language, key, number=meeting.number), reply_markup=markup)
        return
    await router.start(
        context, person.telegram_id, person.telegram_id, DIALOGUE, "place", ride=kind, meeting_id=meeting.id
    )
    # No departure point listed yet: the member's commune becomes the first (c.departure_from_town).
    if places:
        key = "carpool.ask_place_offer" if kind == CAR_OFFER else "carpool.ask_place_request"
    else:
        key = "carpool.ask_town_offer" if kind == CAR_OFFER else "carpool.ask_town_request"
    say(
        person.telegram_id,
        t(language, key, meeting=meeting_label(language, group, meeting)),
        reply_markup=place_keyboard(meeting, places) if places else None,
    )
    say(
        person.telegram_id,
        t(language, "carpool.ask_location"),
        reply_markup=ReplyKeyboardMarkup(
            [[KeyboardButton(plain(language, "button.share_location"), request_location=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        ),
    )


async def car_button(update: Update, context: Context) -> None:
    """🚗 Je propose des places / 🙋 Je cherche une place, in the group or in private."""
    data = tapped(update, cb.Carpool)
    named = await button_member(update, context, Meeting, data.meeting_id)
    if named is None:
        return
    meeting, group, person, language = named
    _query, _user = query_of(update), user_of(update)
    kind = KINDS[data.kind]
    svc = services(context)
    deep_link = start_url(svc.bot_username, group_payload(svc.link_secret, meeting.id, kind))
    if person.private_status != "started":
        answer(update, url=deep_link)  # one tap opens the private chat, which starts the dialogue
        return
    await ask_departure(context, person, group, meeting, kind)
    answer(update, plain(language, "carpool.see_private"))


async def start_from_link(update: Update, context: Context, meeting_id: int, kind: str) -> None:
    """/start with a carpool deep link (called by handlers/start.py)."""
    meeting = await db().get(Meeting, meeting_id)
    group = await find_group_by_id(db(), meeting.group_id) if meeting else None
    person = await _member(group, user_of(update).id) if group else None
    if meeting is None or group is None or person is None:
        reply(update, t(language_for(update, context), "start.bad_link"))
        return
    await ask_departure(context, person, group, meeting, kind)


# ----------------------------------------------------------------------------- the dialogue steps
async def _dialogue(
    update: Update, context: Context, meeting_id: int | None = None
) -> tuple[Dialogue, Meeting, Group, Person, str] | None:
    """The carpool dialogue open in private (expired ones are gone: what they type now is
    something else), with its meeting, group, person and language."""
    state = await router.of(update, context, DIALOGUE)
    if state is None or (meeting_id is not None and state.get("meeting_id") != meeting_id):
        return None
    meeting = await db().get(Meeting, state.get("meeting_id"))
    group = await find_group_by_id(db(), meeting.group_id) if meeting else None
    person = await _member(group, user_of(update).id) if group else None
    if meeting is None or group is None or person is None:
        await router.end(state)
        return None
    return state, meeting, group, person, person_language(person, group)


def _reply(update: Update, text: str, **kwargs) -> None:
    """Answer in the private chat, whether the person typed or tapped."""
    if update.callback_query is None:
        reply(update, text, **kwargs)
    else:
        say(user_of(update).id, text, **kwargs)


async def _place_chosen(update: Update, context: Context, place: Place, note: str | None = None) -> None:
    found = await _dialogue(update, context)
    if found is None:
        return
    state, meeting, group, person, language = found
    _reply(update, note or t(language, "carpool.place_noted", place=place.name), reply_markup=ReplyKeyboardRemove())
    if state.get("ride") == CAR_OFFER:
        await router.next_step(context, state, "seats", place_id=place.id)
        _reply(update, t(language, "carpool.ask_seats"), reply_markup=seats_keyboard(meeting))
        return
    now = services(context).clock.now()
    await router.end(state)  # asked or refused, the dialogue is over
    try:
        request = await c.create_request(db(), meeting, person, place, now)
    except RefusalError as exc:
        _reply(update, t(language, exc.key, **exc.values))
        return
    _reply(
        update,
        t(language, "carpool.request_saved", meeting=meeting_label(language, group, meeting)),
        reply_markup=cancel_request_keyboard(language, request),
    )
    notify(
        context,
        group,
        t(
            group.language,
            "carpool.group_request",
            place=place.name,
            meeting=meeting_label(group.language, group, meeting),
        ),
        "ride_request",
    )
    await offer_to_drivers(context, group, meeting, request)


async def _seats_chosen(update: Update, context: Context, seats: int) -> None:
    found = await _dialogue(update, context)
    if found is None:
        return
    state, meeting, group, _person, language = found
    await router.next_step(context, state, "time", seats=seats)
    _reply(
        update,
        t(language, "carpool.ask_time", start=clock_text(meeting.starts_at, group, language)),
        reply_markup=time_keyboard(language, group, meeting, services(context).clock.now()),
    )


async def _time_chosen(update: Update, context: Context, departs) -> None:
    found = await _dialogue(update, context)
    if found is None:
        return
    state, meeting, group, person, language = found
    now = services(context).clock.now()
    place = await get_row(db(), Place, state.get("place_id"))
    try:
        offer = await c.create_offer(db(), meeting, person, place, state.get("seats"), departs, now)
    except RefusalError as exc:
        if exc.key in ("carpool.error.time", "carpool.error.after_start"):
            _reply(update, t(language, exc.key, start=clock_text(meeting.starts_at, group, language)))
            return  # the dialogue waits for a better time
        await router.end(state)
        _reply(update, t(language, exc.key, **exc.values))
        return
    await router.end(state)
    _reply(
        update,
        t(
            language,
            "carpool.offer_saved",
            seats=seats_text(language, offer.seats),
            place=place.name,
            time=clock_text(departs, group, language),
            meeting=meeting_label(language, group, meeting),
        ),
        reply_markup=with_coming(language, meeting, cancel_offer_keyboard(language, offer)),
    )
    notify(
        context,
        group,
        t(
            group.language,
            "carpool.group_offer",
            seats=seats_text(group.language, offer.seats),
            place=place.name,
            meeting=meeting_label(group.language, group, meeting),
        ),
        "ride_offer",
    )
    for request in await c.waiting_requests(db(), meeting):
        await offer_to_drivers(context, group, meeting, request)


STEP_TAPS = (cb.CarpoolPlace, cb.CarpoolSeats, cb.CarpoolDeparture)


async def step_button(update: Update, context: Context) -> None:
    """The buttons of the dialogue: a departure point, a number of seats, a departure time."""
    query = query_of(update)
    data = cb.decode(query.data)
    if not isinstance(data, STEP_TAPS):
        raise TypeError("step_button got other button data")
    found = await _dialogue(update, context, data.meeting_id)
    language = pick_language(user_of(update).language_code, "fr")
    if found is None:
        answer(update, plain(language, "button.expired"))
        return
    state, meeting, group, _person, language = found
    expected = {cb.CarpoolPlace: "place", cb.CarpoolSeats: "seats", cb.CarpoolDeparture: "time"}[type(data)]
    if state.step != expected:
        answer(update, plain(language, "button.expired"))
        return
    if isinstance(data, cb.CarpoolPlace):
        place = await db().get(Place, data.place_id)
        if place is None or place.group_id != group.id or not place.active:
            answer(update, plain(language, "button.invalid"))
            return
        answer(update)
        await _place_chosen(update, context, place)
    elif isinstance(data, cb.CarpoolSeats):
        answer(update)
        await _seats_chosen(update, context, data.seats)
    else:
        answer(update)
        await _time_chosen(update, context, meeting.starts_at - timedelta(minutes=data.minutes))


async def dialogue_text(update: Update, context: Context, _open: Dialogue) -> None:
    """What people type during the dialogue: a town, a number of seats, a departure time."""
    found = await _dialogue(update, context)
    if found is None:
        return  # not in a carpool dialogue: other private handlers answer
    state, meeting, group, _person, language = found
    text = message_of(update).text or ""
    try:
        if state.step == "place":
            await _town_typed(update, context, meeting, group, language, text)
        elif state.step == "seats":
            await _seats_chosen(update, context, c.parse_seats(text))
        else:
            departs = c.parse_departure(text, meeting, ZoneInfo(group.timezone), services(context).clock.now())
            await _time_chosen(update, context, departs)
    except RefusalError as exc:
        _reply(update, t(language, exc.key, **exc.values, start=clock_text(meeting.starts_at, group, language)))


async def _town_typed(
    update: Update, context: Context, meeting: Meeting, group: Group, language: str, text: str
) -> None:
    """A listed point by its name; else a commune or postal code, whose nearest point is taken
    (or which becomes the group's first); else close spellings of the listed points."""
    place, close = await c.match_town(db(), group, text)
    if place is not None:
        await _place_chosen(update, context, place)
        return
    found = await c.departure_from_town(db(), group, text, services(context).clock.now())
    if isinstance(found, tuple):
        place, km = found
        note = None
        if town_key(place.name) != town_key(text) and km >= 1:
            note = t(language, "carpool.nearest_town", place=place.name, distance=distance_text(language, km))
        await _place_chosen(update, context, place, note)
        return
    if isinstance(found, list):
        _reply(update, t(language, "carpool.which_commune", town=text[:60], example=postal_example(found)))
        return
    places, town = await c.group_places(db(), group), text[:60]
    if close:
        _reply(update, t(language, "carpool.did_you_mean", town=town), reply_markup=place_keyboard(meeting, close))
    elif places:
        _reply(update, t(language, "carpool.unknown_town", town=town), reply_markup=place_keyboard(meeting, places))
    else:
        _reply(update, t(language, "carpool.unknown_commune", town=town))


async def dialogue_location(update: Update, context: Context, _open: Dialogue) -> None:
    """A shared location, used once to find the nearest departure point and then forgotten:
    it is neither stored nor logged."""
    found = await _dialogue(update, context)
    if found is None or found[0].step != "place":
        reply(update, t(language_for(update, context), "carpool.location_unused"), reply_markup=ReplyKeyboardRemove())
        return
    _state, _meeting, group, _person, language = found
    location = message_of(update).location
    if location is None:  # registered for shared locations: there is one
        return
    nearest = await c.departure_from_location(
        db(), group, location.latitude, location.longitude, services(context).clock.now()
    )
    if nearest is None:  # far from any French commune
        reply(update, t(language, "carpool.location_far"))
        return
    place, km = nearest
    await _place_chosen(
        update, context, place, t(language, "carpool.nearest", place=place.name, distance=distance_text(language, km))
    )


# ----------------------------------------------------------------------------- matching
async def offer_to_drivers(context: Context, group: Group, meeting: Meeting, request: RideRequest) -> RideOffer | None:
    """Ask the nearest driver with a free seat; one who cannot be reached passes it on."""
    return await ask_drivers(context, group, meeting, request)


async def ride_button(update: Update, context: Context) -> None:
    """Accepter / Refuser a request, pressed by the driver the request was offered to, and nobody else."""
    _query, user = query_of(update), user_of(update)
    data = tapped(update, cb.RideDecision)
    request = await db().get(RideRequest, data.request_id)
    meeting = await db().get(Meeting, request.meeting_id) if request else None
    group = await find_group_by_id(db(), meeting.group_id) if meeting else None
    language = pick_language(user.language_code, group.language if group else "fr")
    driver = await find_person(db(), user.id)
    if request is None or meeting is None or group is None or driver is None:
        answer(update, plain(language, "button.invalid"))
        return
    now = services(context).clock.now()
    accepting = data.code == "a"
    try:
        offer = await (c.accept(db(), request, driver, now) if accepting else c.refuse(db(), request, driver))
    except RefusalError as exc:
        answer(update, plain(language, exc.key), show_alert=exc.key == "carpool.error.not_yours")
        return
    answer(update)
    rider = await get_row(db(), Person, request.person_id)
    pickup = await get_row(db(), Place, request.place_id)
    if not accepting:
        edit_tapped(update, t(language, "carpool.refused_noted"))
        await offer_to_drivers(context, group, meeting, request)
        return
    edit_tapped(update, match_text(language, group, meeting, offer, rider, pickup, for_driver=True))
    notify(
        context,
        rider,
        match_text(person_language(rider, group), group, meeting, offer, driver, pickup, for_driver=False),
        "ride_accepted",
        reply_markup=with_coming(
            person_language(rider, group), meeting, cancel_request_keyboard(person_language(rider, group), request)
        ),
    )


async def _owned(
    update: Update, context: Context, model: type[RideOffer] | type[RideRequest], ride_id: int, owner: str
) -> tuple | None:
    """The offer or request a cancel button names, when the presser owns it: (ride, meeting,
    group, person, language); otherwise the press is answered and None returned."""
    _query, user = query_of(update), user_of(update)
    ride: RideOffer | RideRequest | None = await db().get(model, ride_id)
    person = await find_person(db(), user.id)
    meeting = await db().get(Meeting, ride.meeting_id) if ride else None
    group = await find_group_by_id(db(), meeting.group_id) if meeting else None
    language = pick_language(
        user.language_code, group.language if group else services(context).settings.bot.default_language
    )
    if ride is None or group is None or person is None or getattr(ride, owner) != person.id:
        answer(
            update,
            plain(language, "carpool.error.not_yours" if ride else "button.invalid"),
            show_alert=ride is not None,
        )
        return None
    return ride, meeting, group, person, language


async def _cancel(
    update: Update, context: Context, model: type[RideOffer] | type[RideRequest], ride_id: int, owner: str, done: str
) -> tuple[Any, Meeting, Group, Person] | None:
    """Cancel the offer or request a button names, for its owner; answers the press. Returns what
    the domain returned, with the meeting, group and owner, or None when nothing changed."""
    owned = await _owned(update, context, model, ride_id, owner)
    if owned is None:
        return None
    ride, meeting, group, person, language = owned
    try:
        result = await (c.cancel_offer(db(), ride) if isinstance(ride, RideOffer) else c.cancel_request(db(), ride))
    except RefusalError as exc:
        answer(update, plain(language, exc.key))
        return None
    answer(update)
    edit_tapped(update, t(language, done, meeting=meeting_label(language, group, meeting)))
    return result, meeting, group, person


async def _tell(context: Context, person: Person, group: Group, meeting: Meeting, key: str, name: str) -> None:
    """A private notice about a ride to someone in it (403: marked unreachable)."""
    language = person_language(person, group)
    text = t(language, key, name=name, meeting=meeting_label(language, group, meeting))
    notify(context, person, text, "ride_cancelled")


async def cancel_offer_button(update: Update, context: Context) -> None:
    """The driver cannot go any more: passengers are told and put back in the queue."""
    offer_id = tapped(update, cb.CancelOffer).offer_id
    done = await _cancel(update, context, RideOffer, offer_id, "driver_id", "carpool.offer_cancelled")
    if done is None:
        return
    freed, meeting, group, driver = done
    for request in freed:
        if c.unmatch(request):
            rider = await get_row(db(), Person, request.person_id)
            await _tell(context, rider, group, meeting, "carpool.driver_cancelled", driver.first_name)
        await offer_to_drivers(context, group, meeting, request)


async def cancel_request_button(update: Update, context: Context) -> None:
    """The passenger no longer needs the seat: it is freed and the driver told."""
    request_id = tapped(update, cb.CancelRequest).request_id
    done = await _cancel(update, context, RideRequest, request_id, "person_id", "carpool.request_cancelled")
    if done is None:
        return
    (offer, previous), meeting, group, rider = done
    if offer is not None and previous == "matched":
        driver = await get_row(db(), Person, offer.driver_id)
        await _tell(context, driver, group, meeting, "carpool.rider_cancelled", rider.first_name)
        # The freed seat may serve someone waiting.
        for waiting in await c.waiting_requests(db(), meeting):
            await offer_to_drivers(context, group, meeting, waiting)


# ----------------------------------------------------------------------------- the meeting changes
# ----------------------------------------------------------------------------- the group side
async def carpool_command(update: Update, context: Context) -> None:
    """/covoiturage: offers and requests for the next meeting, as counts per departure point."""
    found = await next_meeting_here(update, context)
    if found is None:
        return
    group, meeting = found
    reply(
        update,
        board_text(group.language, group, meeting, await c.board(db(), meeting)),
        reply_markup=car_keyboard(group.language, meeting),
    )


async def carpool_button(update: Update, context: Context) -> None:
    """🚗 Covoiturage (under /aide): the same board as /covoiturage, in the group."""
    answer(update)
    await carpool_command(update, context)


def register(application: Application) -> None:
    on_link(CAR_OFFER, "meeting", partial(start_from_link, kind=CAR_OFFER))
    on_link(CAR_REQUEST, "meeting", partial(start_from_link, kind=CAR_REQUEST))
    application.add_handler(CommandHandler("covoiturage", carpool_command))
    application.add_handler(CallbackQueryHandler(carpool_button, pattern=cb.ShowCarpool.matches))
    application.add_handler(CallbackQueryHandler(car_button, pattern=cb.Carpool.matches))
    application.add_handler(CallbackQueryHandler(step_button, pattern=cb.any_of(*STEP_TAPS)))
    application.add_handler(CallbackQueryHandler(ride_button, pattern=cb.RideDecision.matches))
    application.add_handler(CallbackQueryHandler(cancel_offer_button, pattern=cb.CancelOffer.matches))
    application.add_handler(CallbackQueryHandler(cancel_request_button, pattern=cb.CancelRequest.matches))
    router.on(DIALOGUE, router.Route(text=dialogue_text, location=dialogue_location))

"""/lieux: the group's carpool departure points, kept by its facilitators.

A town's name or postal code is enough ("/lieux Oyonnax", "/lieux 01100"): its centre comes from
the communes' open data, and a choice is offered when several communes share the name. A point
that is not a commune's centre is given by its coordinates ("/lieux Gare | 46.20, 5.22") or by
sharing its location ("/lieux ajouter Gare", then 📎 Position)."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.domain import carpool as c
from bot.domain import communes
from bot.domain.dialogues import Dialogue
from bot.domain.errors import RefusalError
from bot.services import db, services
from bot.ui import callbacks as cb
from bot.ui.i18n import plain, t, tn
from handlers.common import (
    Context,
    answer,
    ask,
    command_args,
    current_group,
    edit_tapped,
    is_facilitator,
    message_of,
    reply,
    require_facilitator,
    tapped,
    user_of,
)
from handlers.common import dialogue_router as router
from storage.models import Group

DIALOGUE = "place_location"  # in the group: a departure point waiting for its shared location


def _listing(group: Group, places: list) -> str:
    language = group.language
    lines = [t(language, "places.title")] + [t(language, "places.line", name=p.name) for p in places]
    return "\n".join(lines if places else [t(language, "places.none")]) + "\n" + t(language, "places.usage")


def _choices(found: list[communes.Commune]) -> InlineKeyboardMarkup:
    shown = found[: communes.CHOICES_MAX]
    buttons = [cb.key(commune.label, cb.PlaceCommune(commune.row, commune.code)) for commune in shown]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def _which(update: Update, group: Group, found: list[communes.Commune]) -> None:
    """Several communes of that name: buttons for the biggest, and the postal code for the rest."""
    language = group.language
    lines = [t(language, "places.which", name=found[0].name)]
    if len(found) > communes.CHOICES_MAX:
        lines.append(tn(language, "places.which_more", len(found), example=communes.postal_example(found)))
    reply(update, "\n".join(lines), reply_markup=_choices(found))


def _not_a_commune(update: Update, group: Group, text: str) -> None:
    language = group.language
    close = communes.close_names(text)
    lines = [t(language, "places.error.no_commune", name=text[: c.PLACE_NAME_MAX])]
    if close:
        lines.append(t(language, "places.did_you_mean", names=", ".join(close)))
    lines.append(t(language, "places.usage"))
    reply(update, "\n".join(lines))


async def places_command(update: Update, context: Context) -> None:
    """/lieux; /lieux Oyonnax; /lieux 01100; /lieux Gare | 46.2567, 5.6556; /lieux ajouter Gare
    (then share a location); /lieux retirer Oyonnax."""
    group = await require_facilitator(update, context)
    if group is None:
        return
    args = command_args(update)
    word, _, rest = args.partition(" ")
    adding = word.lower() == "ajouter"
    now = services(context).clock.now()
    try:
        if not args:
            reply(update, _listing(group, await c.group_places(db(), group)))
            return
        if word.lower() == "retirer":
            place = await c.remove_place(db(), group, rest)
            reply(update, t(group.language, "places.removed", name=place.name))
            return
        if "|" in args:
            place = await c.add_place(db(), group, c.parse_place(rest if adding else args), now)
        else:
            text = rest if adding else args
            added, found = await c.add_town(db(), group, text, now)
            if added is None and found:
                _which(update, group, found)
                return
            if added is None and adding:  # a point that is no commune: its location is asked for
                name = c.validate_place_name(text)
                dialogue = await router.start(context, user_of(update).id, group.chat_id, DIALOGUE, "location")
                await router.next_step(context, dialogue, "location", name=name)
                ask(update, t(group.language, "places.share", name=name), router.prompt_of(dialogue, "location"))
                return
            if added is None:
                _not_a_commune(update, group, text)
                return
            place = added
    except RefusalError as exc:
        reply(update, t(group.language, exc.key, **exc.values) + "\n" + t(group.language, "places.usage"))
        return
    reply(update, t(group.language, "places.added", name=place.name))


async def commune_button(update: Update, context: Context) -> None:
    """One of the communes offered after "/lieux Saint-Denis": a facilitator of this group taps it."""
    data = tapped(update, cb.PlaceCommune)
    group = await current_group(update)
    language = group.language if group else "fr"
    commune = communes.by_row(data.row, data.code)
    if group is None or commune is None:
        answer(update, plain(language, "button.invalid"))
        return
    if not await is_facilitator(context, group, user_of(update).id):
        answer(update, plain(language, "places.facilitators_only"), show_alert=True)
        return
    try:
        place = await c.add_place(db(), group, c.commune_spec(commune), services(context).clock.now())
    except RefusalError as exc:
        answer(update, plain(language, exc.key, **exc.values), show_alert=True)
        return
    answer(update)
    edit_tapped(update, t(language, "places.added", name=place.name))  # the choice is spent


async def place_location(update: Update, context: Context, dialogue: Dialogue) -> None:
    """A facilitator answers "/lieux ajouter Gare" by sharing the point's location."""
    group = await current_group(update)
    location = message_of(update).location
    if group is None or location is None:
        return
    try:
        latitude, longitude = c.validate_coordinates(location.latitude, location.longitude)
        place = await c.add_place(
            db(), group, c.PlaceSpec(dialogue.get("name"), latitude, longitude), services(context).clock.now()
        )
    except RefusalError as exc:
        reply(update, t(group.language, exc.key, **exc.values))
        return
    await router.end(dialogue)
    reply(update, t(group.language, "places.added", name=place.name))


def register(application: Application) -> None:
    application.add_handler(CommandHandler("lieux", places_command))
    application.add_handler(CallbackQueryHandler(commune_button, pattern=cb.PlaceCommune.matches))
    router.on(DIALOGUE, router.Route(location=place_location, reply_to_prompt=True))

"""🧸 Garde d'enfants and 🍽 Repas under an announcement: the question is asked in private (a tap
opens the private chat for someone who never did), answered with one tap; facilitators read the
counts in the day-before list and in /bilan (bot/domain/needs.py). The group sees nothing."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.domain import meetings as m
from bot.domain import needs
from bot.domain.deeplinks import NEED_CHILDCARE, NEED_DIET, group_payload, start_url
from bot.domain.errors import RefusalError
from bot.domain.groups import find_group_by_id
from bot.domain.people import person_in_group
from bot.services import db, services
from bot.ui import callbacks as cb
from bot.ui.i18n import plain, t
from bot.ui.needs import children_keyboard, children_noted, children_question, diet_keyboard, diet_noted, diet_question
from handlers.common import (
    Context,
    answer,
    button_member,
    edit_tapped,
    language_for,
    on_link,
    person_language,
    reply,
    say,
    tapped,
    user_of,
)
from storage.models import Group, Meeting, Person

PURPOSES = {"kids": NEED_CHILDCARE, "meal": NEED_DIET}


def _ask(context: Context, person: Person, group: Group, meeting: Meeting, kind: str) -> None:
    language = person_language(person, group)
    if not m.is_open(meeting, services(context).clock.now()):
        say(person.telegram_id, t(language, "needs.error.closed"))
    elif kind == "kids":
        say(
            person.telegram_id,
            children_question(language, group, meeting),
            reply_markup=children_keyboard(language, meeting),
        )
    elif meeting.meal:
        say(person.telegram_id, diet_question(language, group, meeting), reply_markup=diet_keyboard(language, meeting))
    else:
        say(person.telegram_id, t(language, "needs.error.no_meal"))


async def need_button(update: Update, context: Context) -> None:
    data = tapped(update, cb.Need)
    named = await button_member(update, context, Meeting, data.meeting_id)
    if named is None:
        return
    meeting, group, person, language = named
    if person.private_status != "started":
        svc = services(context)
        payload = group_payload(svc.link_secret, meeting.id, PURPOSES[data.kind])
        answer(update, url=start_url(svc.bot_username, payload))
        return
    _ask(context, person, group, meeting, data.kind)
    answer(update, plain(language, "question.see_private"))


async def _from_link(update: Update, context: Context, meeting_id: int, kind: str) -> None:
    """/start with a 🧸 or 🍽 deep link (handlers/start.py)."""
    meeting = await db().get(Meeting, meeting_id)
    group = await find_group_by_id(db(), meeting.group_id) if meeting else None
    found = await person_in_group(db(), group, user_of(update).id) if group else None
    if meeting is None or group is None or found is None or found[1].status != "member":
        reply(update, t(language_for(update, context), "start.bad_link"))
        return
    _ask(context, found[0], group, meeting, kind)


async def children_from_link(update: Update, context: Context, meeting_id: int) -> None:
    await _from_link(update, context, meeting_id, "kids")


async def diet_from_link(update: Update, context: Context, meeting_id: int) -> None:
    await _from_link(update, context, meeting_id, "meal")


async def _answered(update: Update, context: Context, meeting_id: int) -> tuple[Meeting, Group, Person, str] | None:
    named = await button_member(update, context, Meeting, meeting_id)
    if named is None:
        return None
    meeting, _group, _person, language = named
    if not m.is_open(meeting, services(context).clock.now()):
        answer(update, plain(language, "needs.error.closed"), show_alert=True)
        return None
    return named


async def children_button(update: Update, context: Context) -> None:
    data = tapped(update, cb.Children)
    found = await _answered(update, context, data.meeting_id)
    if found is None:
        return
    meeting, group, person, language = found
    await needs.set_children(db(), meeting, person, data.count, services(context).clock.now())
    answer(update)
    edit_tapped(update, children_noted(language, group, meeting, data.count))


async def diet_button(update: Update, context: Context) -> None:
    data = tapped(update, cb.Diet)
    found = await _answered(update, context, data.meeting_id)
    if found is None:
        return
    meeting, group, person, language = found
    diet = None if data.diet == "none" else data.diet
    try:
        await needs.set_diet(db(), meeting, person, diet, services(context).clock.now())
    except RefusalError as exc:
        answer(update, plain(language, exc.key, **exc.values), show_alert=True)
        return
    answer(update)
    edit_tapped(update, diet_noted(language, group, meeting, diet))


def register(application: Application) -> None:
    on_link(NEED_CHILDCARE, "meeting", children_from_link)
    on_link(NEED_DIET, "meeting", diet_from_link)
    application.add_handler(CallbackQueryHandler(need_button, pattern=cb.Need.matches))
    application.add_handler(CallbackQueryHandler(children_button, pattern=cb.Children.matches))
    application.add_handler(CallbackQueryHandler(diet_button, pattern=cb.Diet.matches))

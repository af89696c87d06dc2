"""Members' terms ([membership] term_months): the member's answer a month before their term ends
(🙋 continuer / 👋 arrêter), passed on to the facilitators, and the facilitators' decision
(🔁 Prolonger / 👋 Laisser finir). The notices themselves come from the outbox
(bot/outbox/expand.py: term_notice, term_end)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.domain.errors import RefusalError
from bot.domain.facilitators import group_facilitators
from bot.domain.groups import find_group_by_id
from bot.domain.membership import is_current, record_wish, renew_term
from bot.domain.people import find_person
from bot.services import db, services
from bot.ui import callbacks as cb
from bot.ui.i18n import plain, t
from bot.ui.membership import day, decision_keyboard, wish_notice
from handlers.common import (
    Context,
    admin_lookup,
    answer,
    button_group,
    edit_tapped,
    is_facilitator,
    is_group_chat,
    language_for,
    notify,
    person_language,
    tapped,
    user_of,
    wake_at,
)
from storage.models import Membership, Person


def _already_answered(update: Update) -> bool:
    """The tapped message lost its buttons: a second tap arriving before the edit changes nothing."""
    query = update.callback_query
    return query is None or query.message is None or getattr(query.message, "reply_markup", None) is None


async def wish_button(update: Update, context: Context) -> None:
    """The member says whether they want to stay; the facilitators are told and decide."""
    data = tapped(update, cb.TermWish)
    membership = await db().get(Membership, data.membership_id)
    person = await find_person(db(), user_of(update).id) if update.effective_user else None
    group = await find_group_by_id(db(), membership.group_id) if membership is not None else None
    if (
        membership is None
        or person is None
        or group is None
        or membership.person_id != person.id
        or is_group_chat(update)
    ):
        answer(update, plain(language_for(update, context), "button.invalid"))  # someone else's, or forged
        return
    language = person_language(person, group)
    if _already_answered(update):
        answer(update)
        return
    try:
        record_wish(membership, data.term, data.wish)
    except RefusalError as error:
        answer(update, plain(language, error.key))
        return
    answer(update)
    edit_tapped(update, t(language, f"term.noted.{data.wish}"))
    for facilitator in await group_facilitators(db(), group, admin_lookup(context)):
        if facilitator.id != person.id:
            words = person_language(facilitator, group)
            markup = decision_keyboard(words, membership)
            notify(context, facilitator, wish_notice(words, group, person, membership), "term_wish", markup)


async def decision_button(update: Update, context: Context) -> None:
    """🔁 Prolonger: the term runs `term_months` more and the member is told; 👋 Laisser finir:
    nothing changes, and the member will be thanked at the term's end."""
    data = tapped(update, cb.TermDecision)
    membership = await db().get(Membership, data.membership_id)
    resolved = await button_group(update, context, membership.group_id if membership is not None else None)
    if resolved is None or membership is None:
        return
    group, language = resolved
    if not await is_facilitator(context, group, user_of(update).id):
        answer(update, plain(language, "term.only_facilitators"))
        return
    months = services(context).settings.membership.term_months
    if months is None or not is_current(membership, data.term):
        answer(update, plain(language, "term.expired"))  # decided by another facilitator, or gone
        return
    if _already_answered(update):
        answer(update)
        return
    member = await db().get(Person, membership.person_id)
    assert member is not None and membership.term_ends_at is not None
    answer(update)
    if data.decision == "end":
        edit_tapped(
            update,
            t(language, "term.let_end", name=member.first_name, day=day(membership.term_ends_at, group, language)),
        )
        return
    now = services(context).clock.now()
    wake_at(context, await renew_term(db(), group, membership, months, now))
    until = day(membership.term_ends_at, group, language)
    text = t(language, "term.renewed", name=member.first_name, day=until)
    words = person_language(member, group)
    told = t(words, "term.renewed_member", group=group.display_name, day=day(membership.term_ends_at, group, words))
    if member.telegram_id != user_of(update).id and notify(context, member, told, "term_renewed"):
        text += " " + t(language, "term.member_told", name=member.first_name)
    edit_tapped(update, text)


def register(application: Application) -> None:
    application.add_handler(CallbackQueryHandler(wish_button, pattern=cb.TermWish.matches))
    application.add_handler(CallbackQueryHandler(decision_button, pattern=cb.TermDecision.matches))
